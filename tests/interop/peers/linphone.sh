# linphone-daemon 5.1 (Debian 12 linphone-cli), headless on 127.0.0.1: commands through a FIFO,
# events on its stdout, a private HOME per instance, video off, its own RTP port range.

# linphone_start NAME PORT auto|manual
linphone_start() {
  local name=$1 port=$2 mode=$3 d=$RUN/$1 aa=
  mkdir -p "$d/home/.local/share/linphone" "$d/home/.config"
  local rtp=$((20000 + (port % 1000) * 10)) vrtp=$((30000 + (port % 1000) * 10))
  cat >"$d/linphonerc" <<CFG
[sip]
contact="$name" <sip:$name@127.0.0.1:$port>
sip_port=$port
sip_tcp_port=$port
sip_tls_port=0
bind_address=127.0.0.1
use_ipv6=0
default_proxy=-1
register_only_when_network_is_up=0
guess_hostname=0
use_info=0
use_rfc2833=1
keepalive_period=0
inc_timeout=60
in_call_timeout=0
delayed_timeout=4

[net]
firewall_policy=0
nat_policy_ref=
mtu=0

[rtp]
bind_address=127.0.0.1
audio_rtp_port=$rtp-$((rtp + 9))
video_rtp_port=$vrtp-$((vrtp + 9))
audio_jitt_comp=60
nortp_timeout=3600

[sound]
echocancellation=0

[video]
enabled=0
capture=0
display=0
automatically_initiate=0
automatically_accept=0

[misc]
uuid=0
CFG
  [ "$mode" = auto ] && aa=--auto-answer
  mkfifo "$d/in"
  HOME=$d/home XDG_CONFIG_HOME=$d/home/.config XDG_DATA_HOME=$d/home/.local/share \
    timeout 120 linphone-daemon --config "$d/linphonerc" --log "$d/liblog" $aa \
    <"$d/in" >"$d/out" 2>"$d/err" &
  track $!
  local fd
  exec {fd}>"$d/in"
  eval "LINPHONE_FD_$name=$fd"
  # 20 s: a first start (plugins, a fresh profile) has been seen to take over 10 s.
  wait_log "$d/out" 'daemon-linphone>' 20 || { start_failed "linphone $name"; cat "$d/err"; return 1; }
}

# linphone_cmd NAME 'COMMAND' : 'call URI', 'answer 1', 'terminate 1', 'call-transfer 1 URI',
# 'call-transfer 1 2' (attended), ...
linphone_cmd() { local fd; eval "fd=\$LINPHONE_FD_$1"; printf '%s\n' "$2" >&"$fd"; }

linphone_out() { echo "$RUN/$1/out"; }
linphone_liblog() { echo "$RUN/$1/liblog"; }
