# Kamailio as a record-routing proxy between all three sipxfer user agents: every initial
# INVITE goes through it (--proxy), so every in-dialog request — re-INVITE, REFER, NOTIFY,
# BYE — must follow the route set; with STRICT_ROUTE Kamailio refuses one that does not.
# Ports 26300-26399.
#
# Forked twice to one UA (RFC 3261 §8.2.2.2): Kamailio forks an INVITE in parallel over two
# branches to the same request-URI (bob); bob must answer one copy and 482 (Loop Detected)
# the other, and report one call, not two.

sc_kamailio_blind() {
  scenario kamailio-blind
  local k=26300 a=26302 b=26304 c=26306
  kamailio_start $k || return
  ua_start alice $a --proxy 127.0.0.1:$k || return
  ua_start bob $b --auto-answer --accept-transfers --proxy 127.0.0.1:$k || return
  ua_start carol $c --auto-answer --proxy 127.0.0.1:$k || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "bob answers alice through the proxy" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:carol@127.0.0.1:$c"
  check "bob accepts the REFER" ua_wait bob '"event":"incoming_transfer"' '"action":"accepted"'
  check "carol answers bob" ua_wait carol '"call":1' '"state":"confirmed"'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "the original call ends at bob" ua_wait bob '"call":1' '"state":"terminated"'
  ua_send bob "hangup 2"
  check "the new call ends at carol" ua_wait carol '"call":1' '"state":"terminated"'
  sleep 0.5
  # Every SIP message alice sent or received (her own --pcap, decoded by tshark) has the
  # proxy at its other end.
  local ends; ends=$(tshark -r "$RUN/alice.pcap" -o udp.try_heuristic_first:TRUE -Y sip \
    -T fields -E separator=, -e udp.srcport -e udp.dstport 2>/dev/null)
  check "tshark decodes alice's capture as SIP" test "$(printf '%s\n' "$ends" | grep -c ,)" -ge 12
  check "every message of alice's went to or came from Kamailio" \
    bash -c "printf '%s\n' \"\$1\" | awk -F, -v k=$k '\$1!=k && \$2!=k {bad=1} END {exit bad}'" _ "$ends"
  local lines; lines=$(sip_lines "$RUN/alice.pcap")
  for m in INVITE REFER BYE; do
    check "alice's $m went to Kamailio" bash -c "printf '%s\n' \"\$1\" | grep -q \"^127.0.0.1 $a $k $m sip:\"" _ "$lines"
  done
  check "alice's NOTIFYs came from Kamailio" bash -c "printf '%s\n' \"\$1\" | grep -q \"^127.0.0.1 $k $a NOTIFY sip:\"" _ "$lines"
  check "the dialog's requests carry Kamailio's Record-Route" grep -q "IN-DIALOG REFER via loose_route" "$RUN/kamailio/log"
  check "NOTIFYs follow the route set" grep -q "IN-DIALOG NOTIFY via loose_route" "$RUN/kamailio/log"
  check "no in-dialog request bypassed the route set" bash -c "! grep -q 'WITHOUT Route to proxy' '$RUN/kamailio/log'"
}

sc_kamailio_merged() {
  scenario kamailio-merged
  local k=26310 a=26312 b=26314
  kamailio_start $k || return
  ua_start alice $a --proxy 127.0.0.1:$k || return
  ua_start bob $b --auto-answer --proxy 127.0.0.1:$k || return
  ua_send alice "call sip:fork2@127.0.0.1:$b"
  check "alice's forked call is answered" ua_wait alice '"call":1' '"state":"confirmed"'
  check "bob's call is up" ua_wait bob '"call":1' '"state":"confirmed"'
  sleep 0.5
  local lines; lines=$(sip_lines "$RUN/bob.pcap")
  check "Kamailio forked two INVITEs to bob" \
    test "$(printf '%s\n' "$lines" | grep -c "^127.0.0.1 $k $b INVITE sip:fork2@")" -eq 2
  check "bob answered one copy 482 Loop Detected" \
    test "$(printf '%s\n' "$lines" | grep -c "^127.0.0.1 $b $k SIP/2.0 482 Loop Detected")" -eq 1
  check "bob answered the other 200 OK" \
    bash -c "printf '%s\n' \"\$1\" | grep -q \"^127.0.0.1 $b $k SIP/2.0 200 OK\"" _ "$lines"
  check "bob reported one incoming call, not two" \
    test "$(grep -c '"event":"incoming_call"' "$RUN/bob.jsonl")" -eq 1
  check "Kamailio saw the 482" grep -q "RPL 482 Loop Detected" "$RUN/kamailio/log"
  ua_send alice "hangup 1"
  check "the call ends at bob" ua_wait bob '"call":1' '"state":"terminated"'
}

# Kamailio as a redirect server (RFC 3261 §8.3): alice transfers bob to a number that is
# forwarded — Kamailio answers bob's INVITE 302 Moved Temporarily, naming carol (baresip);
# bob follows it (§8.1.3.4) in the same call and the transfer succeeds.
sc_kamailio_redirect() {
  scenario kamailio-redirect
  local k=26320 a=26322 b=26324 c=26326
  kamailio_start $k || return
  baresip_start carol $c auto || return
  ua_start alice $a || return
  ua_start bob $b --auto-answer --accept-transfers || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "bob answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:moved-$c@127.0.0.1:$k"
  check "bob's call to the transfer target is redirected to carol" ua_wait bob '"call":2' \
    '"event":"redirected"' '"status":302' "\"target\":\"sip:carol@127.0.0.1:$c\""
  check "baresip answers bob's INVITE" ua_wait bob '"call":2' '"state":"confirmed"'
  check "baresip sees the call from bob" wait_log "$(baresip_log carol)" "Call established: sip:bob@127.0.0.1:$b"
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "Kamailio redirected the INVITE" grep -q "REDIRECT sip:moved-$c@127.0.0.1:$k -> sip:carol@127.0.0.1:$c" "$RUN/kamailio/log"
  sleep 0.5
  # On the wire at bob: the INVITE to Kamailio, its 302 and ACK, then the same call's INVITE
  # to carol with the next CSeq.
  local seen; seen=$(tshark -r "$RUN/bob.pcap" -o udp.try_heuristic_first:TRUE \
    -Y "sip && (udp.port == $k || udp.port == $c)" \
    -T fields -e udp.dstport -e sip.Method -e sip.Status-Code -e sip.CSeq.seq -e sip.Call-ID 2>/dev/null)
  local ids; ids=$(printf '%s\n' "$seen" | awk -F'\t' 'NF {print $5}' | sort -u | wc -l)
  local steps; steps=$(printf '%s\n' "$seen" | awk -F'\t' 'NF {print $1 "/" $2 $3 "/" $4}' | tr '\n' ' ')
  check "bob: INVITE 1 to Kamailio, its 302 ACKed, INVITE 2 to carol ($steps)" \
    bash -c "[[ '$steps' == '$k/INVITE/1 $b/302/1 $k/ACK/1 $c/INVITE/2 '* ]]"
  check "both INVITEs in one call (one Call-ID)" test "$ids" -eq 1
  ua_send bob "hangup 2"
  check "bob's hang-up ends the call to carol" ua_wait bob '"call":2' '"state":"terminated"' '"reason":"local_hangup"'
}
