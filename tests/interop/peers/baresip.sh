# baresip 1.0 (Debian 12), headless on 127.0.0.1: no audio device, no registration, console
# commands over UDP (its `cons` module) on SIP port + 500. baresip also binds TLS on port + 1:
# keep instances two ports apart.

# baresip_start NAME PORT auto|manual
baresip_start() {
  local name=$1 port=$2 mode=$3 d=$RUN/$1
  mkdir -p "$d"
  cat >"$d/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:$port
call_local_timeout	120
call_max_calls		4
audio_player
audio_source
audio_alert
audio_level		no
rtp_ports		40000-49999
rtcp_mux		no
net_interface		127.0.0.1
module_path		/usr/lib/baresip/modules
module			cons.so
module			g711.so
module_tmp		account.so
module_app		menu.so
cons_listen		127.0.0.1:$((port + 500))
statmode_default	off
CFG
  echo "<sip:$name@127.0.0.1:$port>;regint=0;answermode=$mode;medianat=;mediaenc=" >"$d/accounts"
  : >"$d/contacts"
  timeout 120 baresip -f "$d" </dev/null >"$d/log" 2>&1 &
  track $!
  eval "BARESIP_CONS_$name=$((port + 500))"
  wait_log "$d/log" 'baresip is ready.' 5 || { start_failed "baresip $name"; cat "$d/log"; return 1; }
}

# baresip_cmd NAME 'COMMAND' : '/dial URI', 'a' (answer), 'b' (hang up), '/transfer URI', ...
baresip_cmd() {
  local cons c=$2
  eval "cons=\$BARESIP_CONS_$1"
  case "$c" in /*) c="$c"$'\n' ;; esac
  printf '%s' "$c" >"/dev/udp/127.0.0.1/$cons"
}

baresip_log() { echo "$RUN/$1/log"; }
