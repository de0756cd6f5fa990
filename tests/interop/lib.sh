# Shared by every interop script: processes bounded in time and stopped by their own PID,
# `sipxfer ua` driven through a FIFO with its JSON events in a file, and checks that count.
# Everything runs on 127.0.0.1.
set -u
IOP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IOP_ROOT=$(cd "$IOP_DIR/../.." && pwd)
SIPXFER=${SIPXFER:-$IOP_ROOT/target/debug/sipxfer}
IOP_OUT=${IOP_OUT:-$IOP_ROOT/target/interop}
# Longest wait for one expected event (seconds).
IOP_WAIT=${IOP_WAIT:-10}

IOP_PIDS=()
# Commands run before the tracked processes are stopped (a peer that must be asked to quit).
IOP_HOOKS=()
IOP_PASS=0
IOP_FAIL=0
IOP_FAILED=()

iop_cleanup() {
  local p h
  for h in "${IOP_HOOKS[@]}"; do eval "$h"; done
  IOP_HOOKS=()
  for p in "${IOP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${IOP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  IOP_PIDS=()
}
trap iop_cleanup EXIT

# track PID : stop it at the end of the scenario (or of the script).
track() { IOP_PIDS+=("$1"); }

# at_cleanup 'COMMAND' : run it at the end of the scenario, before the tracked processes stop.
at_cleanup() { IOP_HOOKS+=("$1"); }

# scenario NAME : a fresh run directory $RUN for one scenario.
scenario() {
  iop_cleanup
  SCENARIO=$1
  RUN=$IOP_OUT/$1
  rm -rf "$RUN"; mkdir -p "$RUN"
  echo "### $1"
}

# check DESC CMD... : one PASS/FAIL line.
check() {
  local desc=$1; shift
  if "$@"; then
    echo "PASS $SCENARIO: $desc"; IOP_PASS=$((IOP_PASS + 1))
  else
    echo "FAIL $SCENARIO: $desc"; IOP_FAIL=$((IOP_FAIL + 1)); IOP_FAILED+=("$SCENARIO: $desc")
  fi
}

# start_failed WHAT : a peer or user agent that did not start fails its scenario (whose checks
# then do not run), so that a run can never pass with a scenario left out.
start_failed() {
  echo "FAIL $SCENARIO: $1 did not start"; IOP_FAIL=$((IOP_FAIL + 1))
  IOP_FAILED+=("$SCENARIO: $1 did not start")
}

# wait_log FILE 'fixed string' [TIMEOUT_S] [COUNT] : FILE holds the string COUNT times.
wait_log() {
  local f=$1 s=$2 t=${3:-$IOP_WAIT} n=${4:-1} i=0
  while [ "$i" -lt $((t * 10)) ]; do
    [ "$(grep -cF -- "$s" "$f" 2>/dev/null)" -ge "$n" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# wait_bound PORT tcp|udp [TIMEOUT_S] : something listens on 127.0.0.1:PORT over IPv4 (read from
# /proc/net, so no tool is needed). A peer started in the background must be bound before
# anyone sends to it: over UDP a retransmission hides a late start, over TCP the refused
# connection ends the transaction at once.
wait_bound() {
  local port hex st file i=0 t=${3:-5}
  port=$1; hex=$(printf ':%04X' "$port")
  if [ "$2" = tcp ]; then file=/proc/net/tcp; st=0A; else file=/proc/net/udp; st=07; fi
  while [ "$i" -lt $((t * 10)) ]; do
    awk -v h="$hex" -v s="$st" '$4 == s && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
      "$file" && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# lines_with FILE 'str1' 'str2' ... : the lines of FILE holding every string.
lines_with() {
  local f=$1; shift
  local out; out=$(cat "$f" 2>/dev/null)
  local s
  for s in "$@"; do out=$(printf '%s\n' "$out" | grep -F -- "$s"); done
  [ -n "$out" ] && printf '%s\n' "$out"
}

# in_order FILE 'fragment'... : the first line holding each fragment comes after the first
# line holding the one before (events, or a peer's log, in the order given).
in_order() {
  local f=$1 last=0 n p; shift
  for p in "$@"; do
    n=$(grep -nF -- "$p" "$f" 2>/dev/null | head -1 | cut -d: -f1)
    [ -n "$n" ] && [ "$n" -gt "$last" ] || { echo "  not in order at: $p"; return 1; }
    last=$n
  done
}

# ---- sipxfer ua ------------------------------------------------------------------------

# ua_start NAME PORT [ua options...] : `sipxfer ua --bind 127.0.0.1:PORT --json --pcap`,
# commands through $RUN/NAME.in, events in $RUN/NAME.jsonl.
ua_start() {
  local name=$1 port=$2; shift 2
  mkfifo "$RUN/$name.in"
  timeout 120 "$SIPXFER" ua --bind "127.0.0.1:$port" --user "$name" --json \
    --pcap "$RUN/$name.pcap" --exit-after 90 "$@" \
    <"$RUN/$name.in" >"$RUN/$name.jsonl" 2>"$RUN/$name.err" &
  track $!
  local fd
  exec {fd}>"$RUN/$name.in"
  eval "UA_FD_$name=$fd"
  wait_log "$RUN/$name.jsonl" '"event":"ready"' 5 || { start_failed "sipxfer ua $name"; cat "$RUN/$name.err"; return 1; }
}

# ua_send NAME 'command line'
ua_send() { local fd; eval "fd=\$UA_FD_$1"; printf '%s\n' "$2" >&"$fd"; }

# ua_wait NAME 'fragment'... : an event line holding every fragment (exact JSON text, e.g.
# '"event":"call_state"' '"state":"confirmed"'), within $IOP_WAIT seconds.
ua_wait() {
  local name=$1; shift
  local i=0
  while [ "$i" -lt $((IOP_WAIT * 10)) ]; do
    lines_with "$RUN/$name.jsonl" "$@" >/dev/null && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# ua_quit NAME : `quit`, and wait (bounded) for the process to end.
ua_quit() {
  local fd; eval "fd=\$UA_FD_$1"
  printf 'quit\n' >&"$fd" 2>/dev/null
  exec {fd}>&-
}

# large_sdp : an offer of over 1 300 bytes with the INVITE's fields (PCMU and PCMA, then
# 31 formats nobody knows, as a softphone with every codec enabled offers).
large_sdp() {
  local pts="0 8" p
  for p in $(seq 96 126); do pts="$pts $p"; done
  printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
  printf 'm=audio 40100 RTP/AVP %s\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n' "$pts"
  for p in $(seq 96 126); do printf 'a=rtpmap:%s codec%s/48000/2\r\n' "$p" "$p"; done
}

# ---- captures (the ua's own --pcap, read by tshark) ------------------------------------

# sip_lines PCAP : one line per SIP message as tshark decodes it:
# `SRC-IP SRC-PORT DST-PORT request-line-or-status-line`.
sip_lines() {
  tshark -r "$1" -o udp.try_heuristic_first:TRUE -o tcp.try_heuristic_first:TRUE -Y sip \
    -T fields -E separator='|' -e ip.src -e udp.srcport -e tcp.srcport -e udp.dstport -e tcp.dstport \
    -e sip.Request-Line -e sip.Status-Line 2>/dev/null |
    awk -F'|' '{print $1, $2 $3, $4 $5, $6 $7}'
}

# report : the totals; non-zero exit when anything failed.
report() {
  iop_cleanup
  echo "interop: $IOP_PASS passed, $IOP_FAIL failed"
  local f
  for f in "${IOP_FAILED[@]}"; do echo "  failed: $f"; done
  [ "$IOP_FAIL" -eq 0 ]
}
