# Twinkle 1.10.2 (Debian 12, `twinkle-console`), headless on 127.0.0.1: its own HOME per
# instance (~/.twinkle holds the profile, twinkle.sys and a lock), no registration, ALSA's
# `null` device for audio (no sound card needed), commands on stdin through a FIFO, its console
# output in $RUN/NAME/out. The console build takes no options: every argument is a profile.
# It binds SIP on 0.0.0.0:PORT (no setting for one address); all its traffic here is to
# 127.0.0.1. RTP from PORT+100, two ports a line. Known limit: 1.10.2 deadlocks as the target
# of an attended transfer (an INVITE with Replaces; fixed upstream after 1.10.2), so it plays
# every other role here.

# twinkle_start NAME PORT auto|manual
twinkle_start() {
  local name=$1 port=$2 mode=$3 d=$RUN/$1
  mkdir -p "$d/.twinkle"
  cat >"$d/.twinkle/$name.cfg" <<CFG
user_name=$name
user_domain=127.0.0.1
user_display=$name
registrar=
register_at_startup=no
outbound_proxy=
sip_transport=udp
stun_server=
enable_nat_keepalive=no
pres_publish_startup=no
mwi_sollicited=no
codecs=g711u,g711a
allow_refer=yes
ask_user_to_refer=no
referee_hold=no
referrer_hold=yes
attended_refer_to_aor=no
allow_redirection=yes
ask_user_to_redirect=no
max_redirections=5
timer_noanswer=60
zrtp_enabled=no
CFG
  cat >"$d/.twinkle/twinkle.sys" <<SYS
dev_ringtone=alsa:null
dev_speaker=alsa:null
dev_mic=alsa:null
play_ringtone=no
play_ringback=no
log_show_sip=yes
sip_port=$port
rtp_port=$((port + 100))
SYS
  [ "$mode" = auto ] && echo "auto_answer=yes" >"$d/.twinkle/$name.svc"
  mkfifo "$d/in"
  HOME=$d timeout -s KILL 120 twinkle-console "$name.cfg" <"$d/in" >"$d/out" 2>"$d/err" &
  local pid=$!
  track $pid
  local fd
  exec {fd}>"$d/in"
  eval "TWINKLE_FD_$name=$fd"
  at_cleanup "twinkle_stop $name $pid"
  wait_bound "$port" udp 5 || { start_failed "twinkle $name"; cat "$d/out" "$d/err"; return 1; }
}

# twinkle_cmd NAME 'command' : `call URI`, `answer`, `bye`, `transfer URI`, `transfer -c URI`
# (a consultation call), `transfer -c` (refer the first line's peer to the consultation's),
# `redirect URI` (302 to the incoming call), ...
twinkle_cmd() { local fd; eval "fd=\$TWINKLE_FD_$1"; printf '%s\n' "$2" >&"$fd"; }

twinkle_out() { echo "$RUN/$1/out"; }

# twinkle_stop NAME PID : `quit`, then SIGKILL if it has not exited within 3 s (1.10.2 ignores
# SIGTERM). PID is that of its `timeout`, whose child is twinkle.
twinkle_stop() {
  local fd child i=0
  eval "fd=\$TWINKLE_FD_$1"
  child=$(pgrep -P "$2" 2>/dev/null)
  printf 'quit\n' >&"$fd" 2>/dev/null
  exec {fd}>&-
  while [ "$i" -lt 30 ] && kill -0 "$2" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
  [ -n "$child" ] && kill -9 "$child" 2>/dev/null
  return 0
}
