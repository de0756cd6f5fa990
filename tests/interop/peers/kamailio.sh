# Kamailio (Debian 12) as a stateful record-routing proxy: tests/interop/kamailio/kamailio.cfg,
# its port rewritten, started with STRICT_ROUTE so that an in-dialog request that does not
# follow the route set gets 404 instead of being relayed.

# kamailio_start PORT
kamailio_start() {
  local port=$1 d=$RUN/kamailio
  mkdir -p "$d"
  sed "s/5070/$port/g" "$IOP_DIR/kamailio/kamailio.cfg" >"$d/kamailio.cfg"
  timeout 120 kamailio -f "$d/kamailio.cfg" -DD -E -A STRICT_ROUTE -w "$d" -Y "$d" \
    -P "$d/kamailio.pid" >"$d/log" 2>&1 &
  track $!
  # Ready once its workers report the UDP receive buffer (after binding).
  wait_log "$d/log" 'probe_max_receive_buffer' 5 && sleep 0.2 && return 0
  start_failed kamailio; tail -20 "$d/log"; return 1
}
