# SIPp in each role of a blind transfer against sipxfer ua. Ports 26000-26099.

# SIPp (transferor) calls sipxfer (transferee) and REFERs it to sipxfer (target); over $1.
sipp_transferor() {
  local tp=$1 extra=() uaopt=() suffix=
  local a=26000 b=26002 c=26004
  [ "$tp" = tcp ] && { extra=(-t t1); uaopt=(--transport tcp); suffix=";transport=tcp"; a=26010; b=26012; c=26014; }
  ua_start bob $b --auto-answer --accept-transfers "${uaopt[@]}" || return
  ua_start carol $c --auto-answer "${uaopt[@]}" || return
  sipp_run alice transferor.xml $a "${extra[@]}" -s bob -key target_uri "sip:carol@127.0.0.1:$c$suffix" \
    -set bye_delay_ms 0 "127.0.0.1:$b" || return
  check "SIPp's transferor scenario passes (202, NOTIFY 100 … 200 terminated, BYE)" sipp_ok alice
  check "bob accepted the REFER" ua_wait bob '"event":"incoming_transfer"' '"action":"accepted"' '"referred_by":"sip:'
  check "carol's call from bob is up" ua_wait carol '"call":1' '"state":"confirmed"'
  check "bob's transfer succeeded" ua_wait bob '"event":"transfer_outcome"' '"outcome":"succeeded"'
}
sc_sipp_transferor_udp() { scenario sipp-transferor-udp; sipp_transferor udp; }
sc_sipp_transferor_tcp() { scenario sipp-transferor-tcp; sipp_transferor tcp; }

# SIPp (transferor) waits 4 s before its BYE: sipxfer (transferee) ends the original call
# itself after its 2 s grace (RFC 5589 §6 allows either).
sc_sipp_transferor_slow_bye() {
  scenario sipp-transferor-slow-bye
  local a=26020 b=26022 c=26024
  ua_start bob $b --auto-answer --accept-transfers || return
  ua_start carol $c --auto-answer || return
  sipp_run alice transferor.xml $a -s bob -key target_uri "sip:carol@127.0.0.1:$c" -set bye_delay_ms 4000 "127.0.0.1:$b" || return
  check "SIPp's transferor scenario passes with bob's BYE" sipp_ok alice
  check "SIPp saw bob's BYE" grep -q 'BYE received from transferee' "$RUN/alice.log"
  check "bob ended the original call itself" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
}

# sipxfer (transferor) calls SIPp (transferee), holds it and REFERs it; SIPp NOTIFYs 100 and
# 200 from its own side of the dialog.
sipp_transferee() {
  local tp=$1 uaopt=() suffix= a=26030 b=26032 extra=()
  [ "$tp" = tcp ] && { extra=(-t t1); uaopt=(--transport tcp); suffix=";transport=tcp"; a=26040; b=26042; }
  sipp_run bob transferee.xml $b "${extra[@]}" || return
  ua_start alice $a "${uaopt[@]}" || return
  ua_send alice "call sip:bob@127.0.0.1:$b$suffix"
  check "SIPp answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  check "alice reports SIPp's answer in its 200 (its audio port)" ua_wait alice '"call":1' \
    '"event":"remote_sdp"' '"kind":"answer"' '"status":200' "\"media\":\"127.0.0.1:$((b + 1000))\""
  ua_send alice "transfer 1 sip:carol@127.0.0.1:26039$suffix"
  check "SIPp NOTIFYs 100 Trying" ua_wait alice '"event":"transfer_progress"' '"status":100'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "alice ends the call (BYE)" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
  check "SIPp's transferee scenario passes (hold, REFER with Refer-To and Referred-By, BYE)" sipp_ok bob
}
sc_sipp_transferee_udp() { scenario sipp-transferee-udp; sipp_transferee udp; }
sc_sipp_transferee_tcp() { scenario sipp-transferee-tcp; sipp_transferee tcp; }

# sipxfer transfers sipxfer to SIPp (target), which checks Referred-By.
sc_sipp_target() {
  scenario sipp-target
  local a=26050 b=26052 c=26054
  sipp_run carol target.xml $c || return
  ua_start alice $a || return
  ua_start bob $b --auto-answer --accept-transfers || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "bob answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:carol@127.0.0.1:$c"
  check "SIPp answers bob's INVITE" ua_wait bob '"call":2' '"state":"confirmed"'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  ua_send bob "hangup 2"
  check "SIPp's target scenario passes (INVITE with Referred-By, 180, 200, BYE)" sipp_ok carol
}

# sipxfer (alice) calls sipxfer (bob) and SIPp (carol), then transfers bob to SIPp attended:
# SIPp checks that bob's INVITE carries Referred-By and a Replaces naming alice's call.
sc_sipp_attended_target() {
  scenario sipp-attended-target
  local a=26060 b=26062 c=26064
  sipp_run carol consult_target.xml $c -m 2 || return
  ua_start alice $a || return
  ua_start bob $b --auto-answer --accept-transfers || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "bob answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "call sip:carol@127.0.0.1:$c"
  check "SIPp answers alice's consultation call" ua_wait alice '"call":2' '"state":"confirmed"'
  ua_send alice "attended 1 2"
  check "SIPp answers bob's INVITE with Replaces" ua_wait bob '"call":2' '"state":"confirmed"'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  # SIPp cannot end the replaced call itself: alice does, and bob ends his.
  ua_send alice "hangup 2"
  ua_send bob "hangup 2"
  check "SIPp's attended-target scenario passes (Referred-By, Replaces naming the consultation)" sipp_ok carol
  check "SIPp logged the replacing INVITE as right" grep -q 'replacing INVITE ok' "$RUN/carol.log"
}

# sipxfer calls SIPp, which listens on UDP only, with an offer of over 1 300 bytes: the
# INVITE goes over TCP first (RFC 3261 §18.1.1), the connection is refused, and it goes over
# UDP in the same transaction ("the element SHOULD retry the request, using UDP"); SIPp checks
# that it arrived whole with its Via saying UDP.
sc_sipp_large_invite_udp_fallback() {
  scenario sipp-large-invite-udp-fallback
  local a=26070 b=26072
  sipp_run bob answer_large.xml $b || return
  large_sdp >"$RUN/large.sdp"
  ua_start alice $a --offer "$RUN/large.sdp" || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "SIPp answers the large INVITE" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "hangup 1"
  check "alice's hang-up ends the call" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
  check "SIPp's scenario passes (the INVITE whole, over UDP, its Via saying UDP)" sipp_ok bob
  check "alice tried TCP first and was refused" grep -q "tcp connect failed" "$RUN/alice.err"
  # The INVITE on the wire (the first, if Timer A sent it again): over UDP, its SIP message
  # over 1 300 bytes (its IPv4 and UDP headers are 28 bytes more).
  local len; len=$(tshark -r "$RUN/alice.pcap" -o udp.try_heuristic_first:TRUE \
    -Y 'sip.Method == "INVITE" && udp' -T fields -e frame.len 2>/dev/null | head -1)
  check "the INVITE went over UDP whole, $((len - 28)) bytes" test "${len:-0}" -gt 1328
}

# SIPp calls sipxfer without an offer: sipxfer offers in its 200 (RFC 3261 §13.2.1), SIPp
# answers in the ACK, and sipxfer reports that answer (the audio SIPp sends from); then SIPp
# re-INVITEs moving its audio to another port and holding (sendonly), as a PBX re-anchors
# media after a transfer: sipxfer reports the new offer and answers recvonly (RFC 3264 §6.1).
sc_sipp_offerless() {
  scenario sipp-offerless
  local a=26080 b=26082
  ua_start bob $b --auto-answer || return
  sipp_run alice offerless.xml $a -s bob "127.0.0.1:$b" || return
  check "SIPp's scenario passes (an offer in the 200, recvonly to the re-INVITE)" sipp_ok alice
  check "bob reports the answer in SIPp's ACK, with SIPp's audio" ua_wait bob '"event":"remote_sdp"' \
    '"kind":"answer"' "\"media\":\"127.0.0.1:$((a + 1000))\"" '"direction":"sendrecv"'
  check "the answer came in a request (no status)" bash -c "! grep '\"kind\":\"answer\"' '$RUN/bob.jsonl' | grep -q status"
  check "bob reports the re-INVITE's offer, audio moved and sendonly" ua_wait bob '"event":"remote_sdp"' \
    '"kind":"offer"' '"media":"127.0.0.1:6002"' '"direction":"sendonly"'
  check "bob's call is ended by SIPp's BYE" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
  check "bob's events in order: the ACK's answer, confirmed, the re-INVITE's offer, held, ended" \
    in_order "$RUN/bob.jsonl" '"kind":"answer"' '"state":"confirmed"' '"kind":"offer"' '"state":"held"' '"state":"terminated"'
  # On the wire: bob's 200 to the first INVITE carries the offer.
  local offer; offer=$(tshark -r "$RUN/bob.pcap" -Y "sip.Status-Code == 200 && sip.CSeq == \"1 INVITE\"" -T fields -e sdp.media 2>/dev/null | head -1)
  check "bob's 200 offered audio on the wire (${offer:-none})" bash -c "printf '%s' \"\$1\" | grep -q '^audio [0-9]* RTP/AVP'" _ "$offer"
}

# A forking proxy's second branch answers after the call is over: SIPp (both branches) answers
# alice's INVITE from fork "x", alice hangs up, then fork "y" sends its 200 while alice's
# INVITE transaction lingers (RFC 6026 §7.2). Alice ACKs it and BYEs it (RFC 3261
# §13.2.2.4); SIPp checks each fork's tag and Contact, and the ua reports nothing of it.
sc_sipp_late_fork() {
  scenario sipp-late-fork
  local a=26090 b=26092
  sipp_run bob late_fork.xml $b || return
  ua_start alice $a || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "fork x answers alice's call" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "hangup 1"
  check "alice's hang-up ends the call" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
  check "SIPp's scenario passes (fork y's late 200 ACKed, then BYEd, at its Contact)" sipp_ok bob
  # On the wire: alice's ACKs and BYEs, by the To tag of the fork each went to.
  local seen; seen=$(tshark -r "$RUN/alice.pcap" -o udp.try_heuristic_first:TRUE \
    -Y 'sip.Method == "ACK" || sip.Method == "BYE"' -T fields -e sip.Method -e sip.to.tag 2>/dev/null | tr '\t\n' ' ,')
  check "alice sent ACK and BYE to fork x, then ACK and BYE to fork y (${seen:-none})" \
    test "$seen" = "ACK forkx,BYE forkx,ACK forky,BYE forky,"
  check "alice's application saw one call, and nothing of fork y" \
    bash -c "! grep -q '\"call\":2' '$RUN/alice.jsonl' && [ \$(grep -c '\"state\":\"confirmed\"' '$RUN/alice.jsonl') -eq 1 ]"
}

# SIPp answers alice's INVITE 302 Moved Temporarily, naming carol at its own address; alice
# follows it in the same call (RFC 3261 §8.1.3.4) and carol answers.
sc_sipp_redirect() {
  scenario sipp-redirect
  local a=26094 b=26096
  sipp_run bob redirect.xml $b || return
  ua_start alice $a || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "alice reports the redirection to carol" ua_wait alice '"call":1' '"event":"redirected"' \
    '"status":302' "\"target\":\"sip:carol@127.0.0.1:$b\""
  check "carol answers alice's call" ua_wait alice '"call":1' '"state":"confirmed"' '"status":200'
  ua_send alice "hangup 1"
  check "alice's hang-up ends the call" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
  check "SIPp's scenario passes (302 ACKed, INVITE 2 to carol, ACK, BYE 3)" sipp_ok bob
  check "alice's application saw one call" bash -c "! grep -q '\"call\":2' '$RUN/alice.jsonl'"
}
