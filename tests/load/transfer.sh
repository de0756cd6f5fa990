#!/usr/bin/env bash
# Blind transfers over real UDP sockets on 127.0.0.1, at a fixed rate, for a fixed time:
# SIPp is the transferor (tests/load/transferor.xml: call, REFER, NOTIFYs, BYE) and the
# target (tests/load/target.xml: answers the transferee's INVITE, hangs up); the transferee
# under load is `sipxfer ua --auto-answer --accept-transfers` (tokio) or baresip.
#
#   bash tests/load/transfer.sh [--peer sipxfer|baresip] [--rate R] [--secs S] [--hold-ms MS]
#   bash tests/load/transfer.sh --peer P --find-max [--secs S] [--rates "100 200 ..."]
#   bash tests/load/transfer.sh --dispatch N [--rate R | --find-max] ...
#
# --dispatch N puts Kamailio (tests/load/kamailio-dispatcher.cfg) where the transferee was,
# with N `sipxfer ua` processes behind it (dispatcher, hash over Call-ID); the user agents
# send their calls to the target through it (--proxy). Their JSON events are kept, and the
# summary counts the transfers each process took.
#
# One summary line per run:
#   peer=sipxfer rate=1000 secs=60 created=… ok=… failed=… unexpected=… retrans=… \
#     target_ok=… target_failed=… achieved=…/s rss_kb=warm…,end…,max… cpu_s=… verdict=PASS|FAIL
# A run passes when every call SIPp created succeeded at both SIPp instances, with no
# unexpected message. `rss_kb` is the transferee's resident memory after a third of the run,
# at its end and at most (sampled every second); `cpu_s` the CPU time it used during the run
# (user + system). --find-max runs the rates in turn (short
# runs) and reports the highest one that passes. Every process is bounded in time and
# stopped by its own PID; output under target/load/.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOAD=$ROOT/tests/load
SIPXFER=${SIPXFER:-$ROOT/target/release/sipxfer}
OUT=${LOAD_OUT:-$ROOT/target/load}
peer=sipxfer rate=1000 secs=60 hold_ms=0 find_max= rates="100 200 400 700 1000 1500 2000 3000"
dispatch=0
while [ $# -gt 0 ]; do
  case $1 in
    --peer) peer=$2; shift ;;
    --rate) rate=$2; shift ;;
    --secs) secs=$2; shift ;;
    --hold-ms) hold_ms=$2; shift ;;
    --find-max) find_max=1 ;;
    --rates) rates=$2; shift ;;
    --dispatch) dispatch=$2; shift ;;
    *) echo "usage: $0 [--peer sipxfer|baresip] [--rate R] [--secs S] [--hold-ms MS] [--find-max [--rates LIST]]" >&2; exit 2 ;;
  esac
  shift
done
case $peer in sipxfer | baresip) ;; *) echo "unknown peer $peer" >&2; exit 2 ;; esac
command -v sipp >/dev/null || { echo "sipp is not installed (apt install sip-tester)" >&2; exit 2; }
if [ "$peer" = sipxfer ] && [ ! -x "$SIPXFER" ]; then
  (cd "$ROOT" && cargo build --release -q -p sipxfer-cli) || exit 2
fi
if [ "$dispatch" -gt 0 ]; then
  [ "$peer" = sipxfer ] || { echo "--dispatch runs sipxfer user agents" >&2; exit 2; }
  command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || { echo "kamailio is not installed" >&2; exit 2; }
fi
if [ "$peer" = baresip ]; then
  command -v baresip >/dev/null || { echo "baresip is not installed" >&2; exit 2; }
fi

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  PIDS=()
}
trap cleanup EXIT

B=5070 C=5080 A=5090

# transferee RUN : starts the transferee on 127.0.0.1:$B; its PID in TPID.
transferee() {
  local run=$1 bound=$((secs + 60))
  if [ "$dispatch" -gt 0 ]; then
    local i list=$run/dispatcher.list
    : >"$list"
    for i in $(seq 1 "$dispatch"); do
      "$SIPXFER" ua --bind "127.0.0.1:$((B + i))" --user bob --auto-answer --accept-transfers \
        --max-calls 100000 --max-transactions 1000000 --exit-after "$bound" --json \
        --proxy "127.0.0.1:$B" </dev/null >"$run/ua$i.jsonl" 2>"$run/ua$i.err" &
      PIDS+=("$!")
      [ "$i" -eq 1 ] && MPID=$!
      echo "1 sip:127.0.0.1:$((B + i))" >>"$list"
    done
    sed -e "s/PROXY_PORT/$B/g" -e "s|DISPATCHER_LIST|$list|" "$LOAD/kamailio-dispatcher.cfg" >"$run/kamailio.cfg"
    # Shared memory for the transactions of thousands of calls a second (default 64 MB).
    timeout "$bound" kamailio -f "$run/kamailio.cfg" -m 1024 -M 16 -DD -E -w "$run" -Y "$run" \
      -P "$run/kamailio.pid" >"$run/kamailio.log" 2>&1 &
    TPID=$!
    PIDS+=("$TPID")
    sleep 1.5
    kill -0 "$TPID" 2>/dev/null || { echo "kamailio did not start:"; tail -5 "$run/kamailio.log"; return 1; }
    return 0
  fi
  if [ "$peer" = sipxfer ]; then
    "$SIPXFER" ua --bind "127.0.0.1:$B" --user bob --auto-answer --accept-transfers \
      --max-calls 100000 --max-transactions 1000000 --exit-after "$bound" \
      </dev/null >/dev/null 2>"$run/ua.err" &
    TPID=$!
  else
    local d=$run/baresip
    mkdir -p "$d"
    cat >"$d/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:$B
call_local_timeout	120
call_max_calls		100000
audio_player
audio_source
audio_alert
audio_level		no
rtp_ports		10000-60000
rtcp_mux		no
net_interface		127.0.0.1
module_path		/usr/lib/baresip/modules
module			g711.so
module_tmp		account.so
module_app		menu.so
statmode_default	off
CFG
    echo "<sip:bob@127.0.0.1:$B>;regint=0;answermode=auto;medianat=;mediaenc=" >"$d/accounts"
    : >"$d/contacts"
    timeout "$bound" baresip -f "$d" </dev/null >"$d/log" 2>&1 &
    TPID=$!
  fi
  PIDS+=("$TPID")
  sleep 1
  # Memory is baresip's own, not its `timeout` wrapper's.
  MPID=$TPID
  [ "$peer" = baresip ] && MPID=$(pgrep -P "$TPID" | head -1)
  kill -0 "$TPID" 2>/dev/null || { echo "the transferee did not start:"; cat "$run"/ua.err "$run"/baresip/log 2>/dev/null | tail -5; return 1; }
}

# stat FILE COLUMN : the last value of a SIPp statistics column (-trace_stat CSV).
stat() {
  awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next } c { v = $c } END { print v + 0 }' "$1"
}

# one RATE SECS : one run; prints its summary line; returns 0 when it passed.
one() {
  local r=$1 s=$2 run=$OUT/$peer-$1
  [ "$dispatch" -gt 0 ] && run=$OUT/dispatch$dispatch-$1
  rm -rf "$run"; mkdir -p "$run"
  cleanup
  transferee "$run" || return 1
  local calls=$((r * s)) t0
  timeout $((s + 60)) sipp -sf "$LOAD/target.xml" -i 127.0.0.1 -p "$C" -mp 16000 \
    -set hold_ms "$hold_ms" -timeout $((s + 45))s -nostdin \
    -trace_stat -stf "$run/target.csv" -fd 1 -trace_err -error_file "$run/target.err" \
    -max_recv_loops 10000 -max_sched_loops 10000 >"$run/target.out" 2>&1 &
  local cpid=$!
  PIDS+=("$cpid")
  # The transferee's resident memory, every second.
  (while kill -0 "$MPID" 2>/dev/null; do
    awk '/^VmRSS/ { print $2 }' "/proc/$MPID/status" 2>/dev/null
    sleep 1
  done) >"$run/rss" &
  PIDS+=("$!")
  sleep 0.5
  t0=$(date +%s.%N)
  timeout $((s + 60)) sipp -sf "$LOAD/transferor.xml" -i 127.0.0.1 -p "$A" -mp 18000 -s bob \
    -key target_uri "sip:carol@127.0.0.1:$C" -r "$r" -m "$calls" -l $((r * 4 + 100)) \
    -timeout $((s + 30))s -timeout_error -nostdin -trace_stat -stf "$run/transferor.csv" -fd 1 \
    -trace_err -error_file "$run/transferor.err" -max_recv_loops 10000 -max_sched_loops 10000 \
    "127.0.0.1:$B" >"$run/transferor.out" 2>&1
  local arc=$? t1 cpu
  t1=$(date +%s.%N)
  # CPU seconds the transferee (the first user agent behind Kamailio) used, user + system.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$MPID/stat" 2>/dev/null)
  # The target has seen every call it will see once its last BYE is answered.
  sleep 2
  kill -INT "$cpid" 2>/dev/null
  wait "$cpid" 2>/dev/null
  local created ok failed unexp retr tok tfail elapsed rss_warm rss_end rss_max achieved verdict
  created=$(stat "$run/transferor.csv" 'TotalCallCreated')
  ok=$(stat "$run/transferor.csv" 'SuccessfulCall(C)')
  failed=$(stat "$run/transferor.csv" 'FailedCall(C)')
  unexp=$(( $(stat "$run/transferor.csv" 'FailedUnexpectedMessage(C)') + $(stat "$run/target.csv" 'FailedUnexpectedMessage(C)') ))
  retr=$(( $(stat "$run/transferor.csv" 'Retransmissions(C)') + $(stat "$run/target.csv" 'Retransmissions(C)') ))
  tok=$(stat "$run/target.csv" 'SuccessfulCall(C)')
  tfail=$(stat "$run/target.csv" 'FailedCall(C)')
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  achieved=$(awk -v n="$ok" -v t="$elapsed" 'BEGIN { printf "%d", n / t }')
  local n
  n=$(wc -l <"$run/rss")
  rss_warm=$(sed -n "$((n / 3 + 1))p" "$run/rss")
  rss_end=$(tail -1 "$run/rss")
  rss_max=$(sort -n "$run/rss" | tail -1)
  verdict=FAIL
  [ "$arc" -eq 0 ] && [ "$created" -eq "$calls" ] && [ "$ok" -eq "$calls" ] && [ "$failed" -eq 0 ] &&
    [ "$unexp" -eq 0 ] && [ "$tok" -eq "$calls" ] && [ "$tfail" -eq 0 ] && verdict=PASS
  local who=$peer share=
  if [ "$dispatch" -gt 0 ]; then
    who="kamailio+${dispatch}xsipxfer"
    local i
    for i in $(seq 1 "$dispatch"); do
      share="$share${share:+,}$(grep -c '"event":"incoming_transfer"' "$run/ua$i.jsonl")"
    done
    share=" transfers_per_ua=$share"
  fi
  echo "peer=$who rate=$r secs=$s created=$created ok=$ok failed=$failed unexpected=$unexp retrans=$retr target_ok=$tok target_failed=$tfail achieved=$achieved/s rss_kb=warm$rss_warm,end$rss_end,max$rss_max cpu_s=$cpu$share verdict=$verdict"
  cleanup
  [ "$verdict" = PASS ]
}

mkdir -p "$OUT"
if [ -n "$find_max" ]; then
  best=0
  for r in $rates; do
    if one "$r" "${secs:-10}"; then best=$r; else break; fi
  done
  label=$peer
  [ "$dispatch" -gt 0 ] && label="kamailio+${dispatch}xsipxfer"
  echo "peer=$label highest passing rate: $best transfers/s (runs of ${secs}s)"
  [ "$best" -gt 0 ]
else
  one "$rate" "$secs"
fi
