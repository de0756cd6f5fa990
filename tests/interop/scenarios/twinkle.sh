# Twinkle in each role of a blind and an attended transfer against sipxfer ua, but the
# attended transfer's target (Twinkle 1.10.2 deadlocks there). Ports 26400-26499.

# Twinkle (transferor) calls sipxfer bob, then refers him to sipxfer carol (`transfer URI`).
sc_twinkle_transferor_blind() {
  scenario twinkle-transferor-blind
  local a=26400 b=26402 c=26404
  ua_start bob $b --auto-answer --accept-transfers || return
  ua_start carol $c --auto-answer || return
  twinkle_start alice $a manual || return
  twinkle_cmd alice "call sip:bob@127.0.0.1:$b"
  check "bob answers Twinkle's call" ua_wait bob '"call":1' '"state":"confirmed"'
  check "Twinkle sees the call up" wait_log "$(twinkle_out alice)" 'Line 1: far end answered call.'
  twinkle_cmd alice "transfer sip:carol@127.0.0.1:$c"
  check "bob accepts Twinkle's REFER to carol" ua_wait bob '"event":"incoming_transfer"' \
    "\"target\":\"sip:carol@127.0.0.1:$c\"" '"action":"accepted"'
  check "carol answers bob's call" ua_wait carol '"call":1' '"state":"confirmed"'
  check "bob's transfer succeeds" ua_wait bob '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "Twinkle reads bob's NOTIFYs to the end" wait_log "$(twinkle_out alice)" 'Line 1: call successfully referred.'
  check "Twinkle's BYE ends the original call at bob" ua_wait bob '"call":1' '"state":"terminated"'
  ua_send bob "hangup 2"
  check "the new call ends at carol" ua_wait carol '"call":1' '"state":"terminated"'
}

# Twinkle (transferor) calls sipxfer bob, consults sipxfer carol on its second line
# (`transfer -c URI`), then refers bob to carol with Replaces naming the consultation
# (`transfer -c`): bob's INVITE replaces it at carol (RFC 5589 §7, RFC 3891).
sc_twinkle_transferor_attended() {
  scenario twinkle-transferor-attended
  local a=26410 b=26412 c=26414
  ua_start bob $b --auto-answer --accept-transfers || return
  ua_start carol $c --auto-answer || return
  twinkle_start alice $a manual || return
  twinkle_cmd alice "call sip:bob@127.0.0.1:$b"
  check "bob answers Twinkle's call" ua_wait bob '"call":1' '"state":"confirmed"'
  wait_log "$(twinkle_out alice)" 'Line 1: far end answered call.'
  twinkle_cmd alice "transfer -c sip:carol@127.0.0.1:$c"
  check "Twinkle holds bob for the consultation" ua_wait bob '"call":1' '"state":"held"'
  check "carol answers Twinkle's consultation call" ua_wait carol '"call":1' '"state":"confirmed"'
  wait_log "$(twinkle_out alice)" 'Line 2: far end answered call.'
  twinkle_cmd alice "transfer -c"
  check "bob accepts a REFER whose Refer-To replaces the consultation" ua_wait bob \
    '"event":"incoming_transfer"' '"action":"accepted"' "\"target\":\"sip:127.0.0.1:$c?Replaces="
  check "carol takes bob's INVITE as replacing the consultation call" ua_wait carol \
    '"call":2' '"event":"incoming_call"' '"replaces_call":1'
  check "carol's call with bob is up" ua_wait carol '"call":2' '"state":"confirmed"'
  check "the consultation call ends at carol, replaced" ua_wait carol '"call":1' '"state":"terminated"' '"reason":"replaced"'
  check "bob's transfer succeeds" ua_wait bob '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "Twinkle reads bob's NOTIFYs to the end" wait_log "$(twinkle_out alice)" 'call successfully referred.'
  check "the original call ends at bob" ua_wait bob '"call":1' '"state":"terminated"'
  ua_send bob "hangup 2"
  check "bob's hang-up ends the call at carol" ua_wait carol '"call":2' '"state":"terminated"'
}

# Twinkle 1.10.2 as the transferee sends its BYE of the original call before its final NOTIFY,
# whose CSeq is lower: RFC 3261 §12.2.2 has alice refuse that NOTIFY ("the request is out of
# order and MUST be rejected with a 500"; pjsip does the same), so alice never hears the
# outcome — the transfer itself completes at Twinkle and carol. Checked on the wire (tshark
# reading alice's --pcap): the BYE, the lower NOTIFY (terminated), alice's 500 to it.
twinkle_late_notify() {
  local b=$1 seen
  sleep 0.5
  seen=$(tshark -r "$RUN/alice.pcap" -o udp.try_heuristic_first:TRUE -Y "sip && udp.port == $b" \
    -T fields -e sip.Method -e sip.Status-Code -e sip.CSeq.seq -e sip.Subscription-State 2>/dev/null)
  check "Twinkle's final NOTIFY follows its BYE with a lower CSeq; alice refuses it 500 (RFC 3261 §12.2.2)" \
    awk -F'\t' '$1 == "BYE" { bye = $3 }
      $1 == "NOTIFY" && $4 ~ /^terminated/ && bye && $3 < bye { late = $3 }
      $2 == "500" && late && $3 == late { ok = 1 }
      END { exit !ok }' <<<"$seen"
}

# sipxfer alice calls Twinkle (bob) and refers it to sipxfer carol: Twinkle's REFER handling,
# its NOTIFYs and its INVITE with Referred-By.
sc_twinkle_transferee_blind() {
  scenario twinkle-transferee-blind
  local a=26420 b=26422 c=26424
  ua_start alice $a || return
  ua_start carol $c --auto-answer || return
  twinkle_start bob $b auto || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "Twinkle answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:carol@127.0.0.1:$c"
  check "alice holds Twinkle first" ua_wait alice '"call":1' '"state":"held"'
  check "Twinkle takes the REFER" wait_log "$(twinkle_out bob)" "transferring call to sip:carol@127.0.0.1:$c"
  check "carol gets Twinkle's INVITE, referred by alice" ua_wait carol '"event":"incoming_call"' \
    "\"from\":\"sip:bob@127.0.0.1\"" "\"referred_by\":\"sip:alice@127.0.0.1:$a\""
  check "carol's call is up" ua_wait carol '"call":1' '"state":"confirmed"'
  check "Twinkle NOTIFYs carol's 180" ua_wait alice '"event":"transfer_progress"' '"status":180'
  check "Twinkle BYEs alice once its call to carol is up" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
  twinkle_late_notify $b
  ua_send carol "hangup 1"
  check "carol's hang-up ends Twinkle's call" wait_log "$(twinkle_out bob)" 'far end ended call.'
}

# sipxfer alice calls Twinkle (bob), consults sipxfer carol, and refers Twinkle to carol with
# Replaces: Twinkle's INVITE replaces the consultation call at carol.
sc_twinkle_transferee_attended() {
  scenario twinkle-transferee-attended
  local a=26430 b=26432 c=26434
  ua_start alice $a || return
  ua_start carol $c --auto-answer || return
  twinkle_start bob $b auto || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "Twinkle answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "call sip:carol@127.0.0.1:$c"
  check "carol answers the consultation call" ua_wait alice '"call":2' '"state":"confirmed"'
  ua_send alice "attended 1 2"
  check "Twinkle takes the REFER with Replaces (to carol's Contact)" wait_log "$(twinkle_out bob)" "transferring call to sip:127.0.0.1:$c"
  check "carol takes Twinkle's INVITE as replacing the consultation call" ua_wait carol \
    '"call":2' '"event":"incoming_call"' '"replaces_call":1'
  check "carol's call with Twinkle is up" ua_wait carol '"call":2' '"state":"confirmed"'
  check "the consultation call ends, replaced" ua_wait carol '"call":1' '"state":"terminated"' '"reason":"replaced"'
  check "carol's BYE ends alice's consultation call" ua_wait alice '"call":2' '"state":"terminated"' '"reason":"remote_hangup"'
  check "Twinkle BYEs alice once its call to carol is up" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
  twinkle_late_notify $b
  ua_send carol "hangup 2"
  check "carol's hang-up ends Twinkle's call" wait_log "$(twinkle_out bob)" 'far end ended call.'
}

# Twinkle as the blind transfer's target: sipxfer bob's INVITE carries Referred-By.
sc_twinkle_target() {
  scenario twinkle-target
  local a=26440 b=26442 c=26444
  ua_start alice $a || return
  ua_start bob $b --auto-answer --accept-transfers || return
  twinkle_start carol $c auto || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "bob answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:carol@127.0.0.1:$c"
  check "Twinkle answers bob's INVITE" ua_wait bob '"call":2' '"state":"confirmed"'
  check "Twinkle shows who referred bob" wait_log "$(twinkle_out carol)" "sip:alice@127.0.0.1:$a"
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  ua_send bob "hangup 2"
  check "bob's hang-up ends Twinkle's call" wait_log "$(twinkle_out carol)" 'far end ended call.'
}

# Redirection both ways (RFC 3261 §8.1.3.4, §8.3). Twinkle calls sipxfer bob, who redirects the
# call (`redirect 1 URI`: 302 naming carol); Twinkle follows it to sipxfer carol.
sc_twinkle_follows_our_302() {
  scenario twinkle-follows-our-302
  local a=26450 b=26452 c=26454
  ua_start bob $b || return
  ua_start carol $c --auto-answer || return
  twinkle_start alice $a manual || return
  twinkle_cmd alice "call sip:bob@127.0.0.1:$b"
  check "Twinkle's call reaches bob" ua_wait bob '"call":1' '"event":"incoming_call"'
  ua_send bob "redirect 1 sip:carol@127.0.0.1:$c"
  check "bob's call ends with his 302" ua_wait bob '"call":1' '"state":"terminated"' '"status":302'
  check "Twinkle follows it" wait_log "$(twinkle_out alice)" 'redirecting request to:'
  check "carol answers Twinkle's call" ua_wait carol '"call":1' '"state":"confirmed"'
  check "Twinkle sees the call up" wait_log "$(twinkle_out alice)" 'far end answered call.'
  ua_send carol "hangup 1"
  check "carol's hang-up ends Twinkle's call" wait_log "$(twinkle_out alice)" 'far end ended call.'
}

# sipxfer alice calls Twinkle (bob), which redirects the call to sipxfer carol (`redirect URI`,
# 302): alice follows it in the same call.
sc_twinkle_redirects() {
  scenario twinkle-redirects
  local a=26460 b=26462 c=26464
  ua_start alice $a || return
  ua_start carol $c --auto-answer || return
  twinkle_start bob $b manual || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "alice's call reaches Twinkle" wait_log "$(twinkle_out bob)" 'Line 1: incoming call'
  twinkle_cmd bob "redirect sip:carol@127.0.0.1:$c"
  check "alice follows Twinkle's 302 to carol" ua_wait alice '"call":1' '"event":"redirected"' \
    '"status":302' "\"target\":\"sip:carol@127.0.0.1:$c\""
  check "carol answers, the same call at alice" ua_wait alice '"call":1' '"state":"confirmed"'
  check "carol's call comes from alice" ua_wait carol '"call":1' '"event":"incoming_call"' "\"from\":\"sip:alice@127.0.0.1:$a\""
  ua_send alice "hangup 1"
  check "alice's hang-up ends the call at carol" ua_wait carol '"call":1' '"state":"terminated"'
}
