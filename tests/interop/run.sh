#!/usr/bin/env bash
# Interop with SIP implementations nobody here wrote: SIPp, baresip, linphone, Kamailio, Twinkle.
#   bash tests/interop/run.sh [sipp|baresip|linphone|kamailio|twinkle ...]   (default: all)
# Needs the peers installed (Debian 12: sip-tester baresip linphone-cli kamailio twinkle-console
# tshark); builds `sipxfer` (debug) unless SIPXFER names a binary. Logs, JSON events and pcaps of every
# scenario go to target/interop/<scenario>/.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
for f in "$HERE"/peers/*.sh "$HERE"/scenarios/*.sh; do . "$f"; done

if [ -z "${SIPXFER_BUILT:-}" ] && [ "$SIPXFER" = "$IOP_ROOT/target/debug/sipxfer" ]; then
  (cd "$IOP_ROOT" && cargo build -q -p sipxfer-cli) || exit 1
fi

peers=${*:-sipp baresip linphone kamailio twinkle}
for peer in $peers; do
  for sc in $(declare -F | awk '{print $3}' | grep "^sc_${peer}_"); do
    "$sc"
  done
done
report
