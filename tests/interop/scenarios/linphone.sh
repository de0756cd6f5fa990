# Blind transfer with linphone 5.1 (linphone-daemon) in each role; sipxfer ua in the others.
# Ports 26200-26299. linphone holds the original call before it calls the target and takes
# about a second per step.

sc_linphone_transferor() {
  scenario linphone-transferor
  local a=26200 b=26202 c=26204
  ua_start bob $b --auto-answer --accept-transfers || return
  ua_start carol $c --auto-answer || return
  linphone_start lina $a manual || return
  linphone_cmd lina "call sip:bob@127.0.0.1:$b"
  check "bob answers linphone's call" ua_wait bob '"call":1' '"state":"confirmed"'
  check "linphone's call is up" wait_log "$(linphone_out lina)" 'LinphoneCallStreamsRunning'
  linphone_cmd lina "call-transfer 1 sip:carol@127.0.0.1:$c"
  check "bob accepts linphone's REFER to carol" ua_wait bob '"event":"incoming_transfer"' '"action":"accepted"'
  check "carol's call from bob carries Referred-By" ua_wait carol '"event":"incoming_call"' '"referred_by":"sip:lina@127.0.0.1'
  check "carol answers bob's call" ua_wait carol '"call":1' '"state":"confirmed"'
  check "bob's transfer succeeds" ua_wait bob '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "linphone ends the original call" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
  check "linphone sees the transfer connected" wait_log "$(linphone_liblog lina)" 'to [LinphoneCallConnected]'
}

sc_linphone_transferee() {
  scenario linphone-transferee
  local a=26210 b=26212 c=26214
  ua_start alice $a || return
  ua_start carol $c --auto-answer || return
  linphone_start linb $b auto || return
  ua_send alice "call sip:linb@127.0.0.1:$b"
  check "linphone answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:carol@127.0.0.1:$c"
  check "linphone NOTIFYs 100 Trying" ua_wait alice '"event":"transfer_progress"' '"status":100'
  check "carol gets linphone's INVITE with alice's Referred-By" ua_wait carol '"event":"incoming_call"' "\"referred_by\":\"sip:alice@127.0.0.1:$a\""
  check "carol's call is up" ua_wait carol '"call":1' '"state":"confirmed"'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "alice ends her call with linphone" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
}

sc_linphone_target() {
  scenario linphone-target
  local a=26220 b=26222 c=26224
  ua_start alice $a || return
  ua_start bob $b --auto-answer --accept-transfers || return
  linphone_start linc $c auto || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "bob answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "transfer 1 sip:linc@127.0.0.1:$c"
  check "linphone answers bob's INVITE" ua_wait bob '"call":2' '"state":"confirmed"'
  check "bob learns where linphone sends its audio (the answer in its 200)" ua_wait bob '"call":2' \
    '"event":"remote_sdp"' '"kind":"answer"' '"status":200' '"media":"127.0.0.1:'
  check "linphone's call is up" wait_log "$(linphone_out linc)" 'LinphoneCallStreamsRunning'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "bob's original call ends (alice's BYE)" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
}

# Attended transfer (RFC 5589 §7). linphone's own attended Refer-To drops the target's port,
# so a target behind linphone must listen on 5060.

# linphone calls bob and carol (on 5060), then transfers bob to carol: bob's INVITE replaces
# linphone's call at carol.
sc_linphone_attended_transferor() {
  scenario linphone-attended-transferor
  local a=26230 b=26232 c=5060
  ua_start bob $b --auto-answer || return
  ua_start carol $c --auto-answer || return
  linphone_start lina $a manual || return
  linphone_cmd lina "call sip:bob@127.0.0.1:$b"
  check "bob answers linphone" ua_wait bob '"call":1' '"state":"confirmed"'
  wait_log "$(linphone_out lina)" 'LinphoneCallStreamsRunning'
  linphone_cmd lina "call sip:carol@127.0.0.1:$c"
  check "carol answers linphone's consultation call" ua_wait carol '"call":1' '"state":"confirmed"'
  wait_log "$(linphone_out lina)" 'LinphoneCallStreamsRunning' "$IOP_WAIT" 2
  sleep 0.5
  linphone_cmd lina "call-transfer 1 2"
  check "bob gets linphone's REFER with Replaces" ua_wait bob '"event":"incoming_transfer"' '"action":"accepted"' '"replaces":"'
  check "bob's INVITE replaces carol's call with linphone" ua_wait carol '"event":"incoming_call"' '"replaces_call":1'
  check "carol's call with bob is up" ua_wait carol '"call":2' '"state":"confirmed"'
  check "carol ends the replaced call" ua_wait carol '"call":1' '"state":"terminated"' '"reason":"replaced"'
  check "bob's transfer succeeds" ua_wait bob '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "linphone ends its call with bob" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
}

# sipxfer transfers linphone (transferee) to carol attended: linphone's INVITE carries
# Replaces and replaces alice's call at carol.
sc_linphone_attended_transferee() {
  scenario linphone-attended-transferee
  local a=26240 b=26242 c=26244
  ua_start alice $a || return
  ua_start carol $c --auto-answer || return
  linphone_start linb $b auto || return
  ua_send alice "call sip:linb@127.0.0.1:$b"
  check "linphone answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "call sip:carol@127.0.0.1:$c"
  check "carol answers alice's consultation call" ua_wait alice '"call":2' '"state":"confirmed"'
  ua_send alice "attended 1 2"
  check "linphone's INVITE replaces carol's call with alice" ua_wait carol '"event":"incoming_call"' '"replaces_call":1' "\"referred_by\":\"sip:alice@127.0.0.1:$a\""
  check "carol's call with linphone is up" ua_wait carol '"call":2' '"state":"confirmed"'
  check "carol ends the replaced call" ua_wait carol '"call":1' '"state":"terminated"' '"reason":"replaced"'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "carol's BYE ends alice's consultation" ua_wait alice '"call":2' '"state":"terminated"' '"reason":"remote_hangup"'
  check "alice ends her call with linphone" ua_wait alice '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
}

# sipxfer transfers sipxfer (bob) to linphone attended: linphone accepts bob's INVITE with
# Replaces and BYEs alice's consultation call.
sc_linphone_attended_target() {
  scenario linphone-attended-target
  local a=26250 b=26252 c=26254
  ua_start alice $a || return
  ua_start bob $b --auto-answer || return
  linphone_start linc $c auto || return
  ua_send alice "call sip:bob@127.0.0.1:$b"
  check "bob answers alice" ua_wait alice '"call":1' '"state":"confirmed"'
  ua_send alice "call sip:linc@127.0.0.1:$c"
  check "linphone answers alice's consultation call" ua_wait alice '"call":2' '"state":"confirmed"'
  ua_send alice "attended 1 2"
  check "linphone answers bob's INVITE with Replaces" ua_wait bob '"call":2' '"state":"confirmed"'
  check "linphone ends the replaced call (BYE to alice)" ua_wait alice '"call":2' '"state":"terminated"' '"reason":"remote_hangup"'
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "bob's original call ends (alice's BYE)" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
}

# linphone calls sipxfer bob, who redirects the call (`redirect 1 URI`: 302 naming carol,
# RFC 3261 §8.3); linphone follows it to sipxfer carol (§8.1.3.4).
sc_linphone_follows_our_302() {
  scenario linphone-follows-our-302
  local a=26260 b=26262 c=26264
  ua_start bob $b || return
  ua_start carol $c --auto-answer || return
  linphone_start lina $a manual || return
  linphone_cmd lina "call sip:bob@127.0.0.1:$b"
  check "linphone's call reaches bob" ua_wait bob '"call":1' '"event":"incoming_call"'
  ua_send bob "redirect 1 sip:carol@127.0.0.1:$c"
  check "bob's call ends with his 302" ua_wait bob '"call":1' '"state":"terminated"' '"status":302'
  check "carol answers linphone's call" ua_wait carol '"call":1' '"state":"confirmed"'
  check "linphone's call is up" wait_log "$(linphone_out lina)" 'LinphoneCallStreamsRunning'
  ua_send carol "hangup 1"
  check "carol's call ends" ua_wait carol '"call":1' '"state":"terminated"' '"reason":"local_hangup"'
}
