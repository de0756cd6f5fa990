# Blind transfer with baresip 1.0 in each role; sipxfer ua in the two others.
# Ports 26100-26199.

# baresip transfers a call with sipxfer (transferee) to sipxfer (target). baresip sends
# Refer-To without angle brackets and no Referred-By.
sc_baresip_transferor() {
  scenario baresip-transferor
  local a=26100 b=26102 c=26104
  ua_start bob $b --auto-answer --accept-transfers || return
  ua_start carol $c --auto-answer || return
  baresip_start alice $a manual || return
  baresip_cmd alice "/dial sip:bob@127.0.0.1:$b"
  check "bob answers baresip's call" ua_wait bob '"call":1' '"state":"confirmed"'
  check "baresip sees the call up" wait_log "$(baresip_log alice)" 'Call established'
  baresip_cmd alice "/transfer sip:carol@127.0.0.1:$c"
  check "bob accepts baresip's REFER to carol" ua_wait bob '"event":"incoming_transfer"' "\"target\":\"sip:carol@127.0.0.1:$c\"" '"action":"accepted"'
  check "carol answers bob's call" ua_wait carol '"call":1' '"state":"confirmed"'
  check "bob's transfer succeeds (final NOTIFY 200)" ua_wait bob '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "baresip BYEs bob after the final NOTIFY" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
  check "bob's call with carol stays up" ua_wait bob '"call":2' '"state":"confirmed"'
  check "baresip reports no transfer failure" bash -c "! grep -q 'transfer failure' '$(baresip_log alice)'"
}

# sipxfer transfers baresip (transferee) to sipxfer (target): baresip NOTIFYs 100 and 200 and
# calls carol; sipxfer ends the original call.
sc_baresip_transferee() {
  scenario baresip-transferee
  local a=26110 b=26112 c=26114
  ua_start alice $a || return
  ua_start carol $c --auto-answer || return
  baresip_start bob $b auto || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "baresip answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:carol@127.0.0.1:$c"
  check "alice holds baresip first" ua_wait alice '"call":1' '"state":"held"'
  check "baresip NOTIFYs 100 Trying" ua_wait alice '"event":"transfer_progress"' '"status":100'
  check "carol gets baresip's INVITE" ua_wait carol '"event":"incoming_call"' "\"from\":\"sip:bob@127.0.0.1:$b\""
  check "carol's call is up" ua_wait carol '"call":1' '"state":"confirmed"'
  check "baresip's final NOTIFY reports 200" ua_wait alice '"event":"transfer_progress"' '"status":200'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "alice ends her call with baresip" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
}

# sipxfer transfers sipxfer (transferee) to baresip (target).
sc_baresip_target() {
  scenario baresip-target
  local a=26120 b=26122 c=26124
  ua_start alice $a || return
  ua_start bob $b --auto-answer --accept-transfers || return
  baresip_start carol $c auto || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "bob answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:carol@127.0.0.1:$c"
  check "baresip answers bob's INVITE" ua_wait bob '"call":2' '"state":"confirmed"'
  check "bob learns where baresip sends its audio (the answer in its 200)" ua_wait bob '"call":2' \
    '"event":"remote_sdp"' '"kind":"answer"' '"status":200' '"media":"127.0.0.1:'
  check "baresip sees the call from bob" wait_log "$(baresip_log carol)" "Call established: sip:bob@127.0.0.1:$b"
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "bob's original call ends (alice's BYE)" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
}

# sipxfer calls baresip with that offer: the INVITE goes over TCP, its top Via saying so (RFC
# 3261 §18.1.1: a request over 1 300 bytes, the path MTU unknown), to the port baresip listens
# on for UDP and TCP alike (§18.2.1); baresip answers on the connection and the call is up.
sc_baresip_large_invite() {
  scenario baresip-large-invite
  local a=26130 b=26132
  large_sdp >"$RUN/large.sdp"
  ua_start alice $a --offer "$RUN/large.sdp" || return
  baresip_start bob $b auto || return
  wait_bound $b tcp || { start_failed "baresip bob (tcp)"; return; }
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "baresip answers the large INVITE" ua_wait alice '"call":1' '"state":"confirmed"'
  check "baresip sees the call up" wait_log "$(baresip_log bob)" 'Call established'
  ua_send alice "hangup 1"
  check "alice's hang-up ends the call" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
  sleep 0.5
  local pcap=$RUN/alice.pcap vias udp ok
  large_sip_of() { tshark -r "$pcap" -o udp.try_heuristic_first:TRUE -o tcp.try_heuristic_first:TRUE -Y "$1" -T fields -e "$2" 2>/dev/null; }
  vias=$(large_sip_of "sip.Method == \"INVITE\" && tcp.dstport == $b" sip.Via)
  udp=$(large_sip_of "sip.Method == \"INVITE\" && udp" frame.number)
  ok=$(large_sip_of "sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\" && tcp.srcport == $b" frame.number)
  check "alice's INVITE went over TCP to baresip's SIP port" test -n "$vias"
  check "its top Via says TCP" bash -c "printf '%s\n' \"\$1\" | grep -q '^SIP/2.0/TCP 127.0.0.1:$a;branch='" _ "$vias"
  check "no INVITE went over UDP" test -z "$udp"
  check "baresip's 200 came back over the connection" test -n "$ok"
}

# sipxfer calls baresip without an offer: baresip offers in its 200 (RFC 3261 §13.2.1), and
# sipxfer answers in the ACK (§13.2.2.4) with a codec baresip offered; baresip takes the
# answer and the call is up with audio both ways.
sc_baresip_offerless_call() {
  scenario baresip-offerless-call
  local a=26140 b=26142
  ua_start alice $a --no-offer || return
  baresip_start bob $b auto || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "alice reports baresip's offer in its 200" ua_wait alice '"call":1' '"event":"remote_sdp"' \
    '"kind":"offer"' '"status":200' '"media":"127.0.0.1:'
  check "the call is up" ua_wait alice '"call":1' '"state":"confirmed"'
  check "baresip sees the call up" wait_log "$(baresip_log bob)" 'Call established'
  check "baresip sets its audio to alice's answer, then the call is up" \
    in_order "$(baresip_log bob)" 'answering call' 'Set audio encoder: PCM' 'Call established'
  sleep 0.5
  ua_send alice "hangup 1"
  check "alice's hang-up ends the call" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
  check "baresip reports no media failure" bash -c "! grep -qiE 'no common codec|media failed|sdp: .*error' '$(baresip_log bob)'"
  local pcap=$RUN/alice.pcap invite ack ok
  sdp_of() { tshark -r "$pcap" -Y "$1" -T fields -e sdp.media 2>/dev/null | head -1; }
  invite=$(sdp_of 'sip.Method == "INVITE"')
  check "tshark reads alice's INVITE from the pcap" bash -c "tshark -r '$pcap' -Y 'sip.Method == \"INVITE\"' -T fields -e frame.number 2>/dev/null | grep -q ."
  ok=$(sdp_of 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"')
  ack=$(sdp_of 'sip.Method == "ACK"')
  check "alice's INVITE carried no offer" test -z "$invite"
  check "baresip's 200 offered audio (${ok:-none})" test -n "$ok"
  check "alice's ACK answered (${ack:-none})" bash -c "printf '%s' \"\$1\" | grep -qE '^audio [0-9]+ RTP/AVP (0|8)'" _ "$ack"
}

# baresip calls sipxfer bob, who redirects the call (`redirect 1 URI`: 302 naming carol,
# RFC 3261 §8.3); baresip follows it to sipxfer carol (§8.1.3.4).
sc_baresip_follows_our_302() {
  scenario baresip-follows-our-302
  local a=26140 b=26142 c=26144
  ua_start bob $b || return
  ua_start carol $c --auto-answer || return
  baresip_start alice $a manual || return
  baresip_cmd alice "/dial sip:bob@127.0.0.1:$b"
  check "baresip's call reaches bob" ua_wait bob '"call":1' '"event":"incoming_call"'
  ua_send bob "redirect 1 sip:carol@127.0.0.1:$c"
  check "bob's call ends with his 302" ua_wait bob '"call":1' '"state":"terminated"' '"status":302'
  check "carol answers baresip's call" ua_wait carol '"call":1' '"state":"confirmed"'
  check "baresip sees the call up" wait_log "$(baresip_log alice)" 'Call established'
  ua_send carol "hangup 1"
  check "carol's hang-up ends baresip's call" wait_log "$(baresip_log alice)" 'session closed'
  check "carol's call ends" ua_wait carol '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
}
