# SIPp 3.6 (Debian 12 sip-tester) running our own scenarios (tests/interop/sipp/*.xml), each
# self-checking: exit 0 only when every expected message arrived and matched.

# sipp_run NAME SCENARIO PORT [sipp args...] : runs in the background; PID in SIPP_PID_NAME.
# Returns once SIPp is bound to PORT (over TCP with `-t t1` among the args), or fails the
# scenario if it is not within 5 s.
sipp_run() {
  local name=$1 sf=$2 port=$3; shift 3
  timeout 60 sipp -sf "$IOP_DIR/sipp/$sf" -i 127.0.0.1 -p "$port" -mp $((port + 1000)) -m 1 \
    -timeout 30s -timeout_error -nostdin -trace_err -error_file "$RUN/$name.err" \
    -trace_logs -log_file "$RUN/$name.log" -trace_msg -message_file "$RUN/$name.msg" "$@" \
    >"$RUN/$name.out" 2>&1 &
  local pid=$! tp=udp
  track "$pid"
  eval "SIPP_PID_$name=$pid"
  case " $* " in *" -t t1 "*) tp=tcp ;; esac
  wait_bound "$port" "$tp" 5 || { start_failed "sipp $name"; cat "$RUN/$name.out"; return 1; }
}

# sipp_ok NAME : the scenario ended with exit code 0 (waits for it, bounded by its timeout).
sipp_ok() {
  local pid rc
  eval "pid=\$SIPP_PID_$1"
  wait "$pid"; rc=$?
  [ "$rc" -eq 0 ] || { echo "  sipp $1 exited $rc:"; tail -5 "$RUN/$1.err" 2>/dev/null; }
  [ "$rc" -eq 0 ]
}
