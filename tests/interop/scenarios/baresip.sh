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
  check "baresip sees the call from bob" wait_log "$(baresip_log carol)" "Call established: sip:bob@127.0.0.1:$b"
  check "alice's transfer succeeds" ua_wait alice '"event":"transfer_outcome"' '"outcome":"succeeded"'
  check "bob's original call ends (alice's BYE)" ua_wait bob '"call":1' '"state":"terminated"' '"reason":"remote_hangup"'
}
