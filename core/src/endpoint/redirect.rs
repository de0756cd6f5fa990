//! Following the 3xx responses to a call we place (RFC 3261 §8.1.3.4).
//!
//! "Upon receipt of a redirection response (for example, a 301 response status code), clients
//! SHOULD use the URI(s) in the Contact header field to formulate one or more new requests
//! based on the redirected request. [...] A client starts with an initial target set containing
//! exactly one URI, the Request-URI of the original request. [...] a client processing 3xx class
//! responses MUST NOT add any given URI to the target set more than once."
//!
//! The set is tried serially, "in decreasing q-value order, arbitrarily choosing between
//! contacts of equal q-value" (here: in the order they came), each URI in a new INVITE of the
//! same call: the same From (tag), To and Call-ID, the next CSeq, a new branch — as a
//! challenge's retry (§22.2), and as pjsip's `pjsip_inv_uac_restart` does. "If contacting an
//! address in the list results in a failure [...] the element moves to the next address in
//! the list, until the list is exhausted": a failure is a final response from 400 to 599, or
//! none in time, or the 503 of a target that cannot be reached (§8.1.3.4: "Failures SHOULD be
//! detected through failure response codes (codes greater than 399)"). A 6xx ends the call:
//! it is "definitive information about a particular user, not just the particular instance
//! indicated in the Request-URI" (§21.6).
//!
//! The new INVITE goes where its Request-URI points when the call's went where its own
//! pointed, and to the same next hop when the call went through an outbound proxy or a
//! destination the application named ([`crate::CallOptions::dest`]) — a proxy routes the
//! new Request-URI. It is the same INVITE otherwise, `Replaces` included: a redirect server
//! in front of the target of an attended transfer (a Refer-To naming its address-of-record)
//! sends it on to the device that holds the dialog to replace.
//!
//! Followed: 300, 301 and 302. Not followed: 305 Use Proxy (§21.3.6: its Contact names a proxy
//! to send through, which this endpoint takes only from its configuration), 380 Alternative
//! Service (its body describes the service, not a URI to call).

use super::{CallId, CallState, Endpoint, Event};
use crate::dialog::uri_destination;
use crate::msg::{Header, HeaderName, Message, NameAddr, StartLine, Uri};
use crate::text::{Detach, SipStr};
use crate::transaction::TxId;
use crate::transport::Transport;
use alloc::vec::Vec;

/// Most URIs a call's target set holds, the original Request-URI included: of a 3xx listing
/// more, those with the highest `q` that fit.
const MAX_TARGETS: usize = 8;

/// Longest URI taken from a 3xx (its user, host and parameters): a longer one is passed over,
/// so that the set stays a few hundred bytes however a peer writes its Contacts.
const MAX_URI: usize = 512;

/// The target set of a call redirected at least once.
#[derive(Clone, Debug)]
pub(crate) struct Targets {
    /// Every URI the set was given, the original Request-URI first, with its `q` in
    /// thousandths: those before `tried` were tried, the rest wait, highest `q` first.
    uris: Vec<(Uri<SipStr>, u16)>,
    /// How many of `uris` were tried (or passed over: no address to send to).
    tried: usize,
    /// How many new INVITEs the set has sent.
    sent: usize,
}

impl Targets {
    /// A set holding the original Request-URI, tried.
    pub(super) fn new(original: Uri<SipStr>) -> Targets {
        let mut uris = Vec::with_capacity(4);
        uris.push((original, 1000));
        Targets {
            uris,
            tried: 1,
            sent: 0,
        }
    }

    /// The Request-URI of the latest INVITE.
    pub(crate) fn current(&self) -> &Uri<SipStr> {
        &self.uris[self.tried - 1].0
    }

    /// Puts the Contacts of a 3xx in the set, as Request-URIs ([`request_uri`]): SIP URIs
    /// only (the core routes no other) of at most [`MAX_URI`] bytes, not a plain `sip:` one
    /// after a `sips:` Request-URI (§8.1.3.4: the client "MAY choose to recurse to a non-SIPS
    /// URI"; we do not), none already in it (as written: one written otherwise, `%61lice`
    /// for `alice`, may be tried once more, which the budget bounds; the §19.1.4 comparison
    /// costs a kilobyte of flash), highest `q` first (§20.10: 1 without one), each after the
    /// waiting ones with a `q` as high.
    #[inline(never)]
    fn add<'a>(&mut self, contacts: impl Iterator<Item = &'a NameAddr<SipStr>>) {
        let secure = matches!(&self.uris[0].0, Uri::Sip(s) if s.secure);
        let mut by_q: smallvec::SmallVec<[(&Uri<SipStr>, u16); 8]> = contacts
            .filter(|c| matches!(&c.uri, Uri::Sip(s) if s.secure || !secure))
            .filter(|c| size(&c.uri) <= MAX_URI)
            .map(|c| (&c.uri, c.q().unwrap_or(1000)))
            .collect();
        by_q.sort_by_key(|&(_, q)| core::cmp::Reverse(q));
        for (uri, q) in by_q {
            if self.uris.len() >= MAX_TARGETS {
                break;
            }
            let uri = request_uri(uri);
            if self.uris.iter().any(|(u, _)| *u == uri) {
                continue;
            }
            let at = self.tried
                + self.uris[self.tried..]
                    .iter()
                    .take_while(|(_, other)| *other >= q)
                    .count();
            self.uris.insert(at, (uri.detached(), q));
        }
    }

    /// The next URI to try, marked tried.
    fn next(&mut self) -> Option<&Uri<SipStr>> {
        let (uri, _) = self.uris.get(self.tried)?;
        self.tried += 1;
        Some(uri)
    }
}

/// `uri` as the Request-URI of a new request: "a UAC MUST copy the entire URI from the target
/// set into the Request-URI, except for the "method-param" and "header" URI parameters"
/// (§8.1.3.4). The header parameters are not turned into header fields: §19.1.5 has the UA
/// "choose to honor the request on a per-component basis", and a Contact of a 3xx is not
/// where this endpoint takes fields of its INVITE from.
fn request_uri(uri: &Uri<SipStr>) -> Uri<SipStr> {
    let mut uri = uri.clone();
    if let Uri::Sip(s) = &mut uri {
        s.params.remove("method");
        s.headers = Default::default();
    }
    uri
}

/// The bytes of a SIP URI's user, password, host and parameters (what a Request-URI keeps).
fn size(uri: &Uri<SipStr>) -> usize {
    match uri {
        Uri::Sip(s) => {
            let host = match &s.host {
                crate::msg::Host::Domain(d) => d.len(),
                _ => 0,
            };
            s.user.len()
                + s.password.as_ref().map_or(0, |p| p.len())
                + host
                + s.params.as_str().len()
        }
        _ => 0,
    }
}

impl Endpoint {
    /// The INVITE `tx` of `call` got `status` (a 3xx with `response`, a failure from 400 to
    /// 599 — 408 for no answer, 503 for an unreachable target): `true` when the call goes on with a new INVITE to the next URI of
    /// its target set, `false` when it fails as before (no redirection asked for or left,
    /// the call being cancelled, or no target the core can send to).
    pub(super) fn follow_redirect(
        &mut self,
        call: CallId,
        tx: TxId,
        response: Option<&Message>,
        status: u16,
    ) -> bool {
        let budget = usize::from(self.config.max_redirects);
        let redirection = matches!(status, 300..=302);
        if budget == 0 || !(redirection || (400..600).contains(&status)) {
            return false;
        }
        let Some(dest) = self.layer.get(tx).map(|t| t.bound_for()) else {
            return false;
        };
        // A failure of the original INVITE fails the call: nothing was redirected.
        let Some((set, direct)) = self
            .calls
            .get_mut(&call)
            .and_then(|c| c.redirect_targets(redirection))
        else {
            return false;
        };
        if let (true, Some(r)) = (redirection, response) {
            set.add(r.contacts());
        }
        let mut next = None;
        while set.sent < budget {
            let Some(uri) = set.next() else { break };
            let to = if direct {
                uri_destination(uri, Transport::Udp)
            } else {
                Some(dest)
            };
            if let Some(to) = to {
                next = Some((uri.clone(), to));
                set.sent += 1;
                break;
            }
        }
        let Some((uri, to)) = next else {
            return false;
        };
        let Some(mut request) = self.layer.request_copy(tx) else {
            return false;
        };
        if let StartLine::Request { uri: u, .. } = &mut request.start {
            *u = uri.clone();
        }
        // Credentials answered a challenge for the other Request-URI (§22.4: the digest's
        // `uri` is the Request-URI): a challenge on the way to the new one is answered anew.
        request.headers.retain(|h| {
            !matches!(h, Header::Raw { name, .. }
                if matches!(name, HeaderName::Authorization | HeaderName::ProxyAuthorization))
        });
        let seq = request.cseq().map_or(0, |c| c.seq).wrapping_add(1);
        let new = self.send_again(to, request, seq);
        self.auth_trails.remove(&tx);
        self.call_restarted(call, tx, new, seq, to);
        self.events.push_back(Event::CallRedirected {
            call,
            status,
            target: uri,
        });
        self.call_state(call, CallState::Calling, Some(status));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Message;
    use alloc::string::ToString;
    use bytes::Bytes;

    fn contacts(v: &str) -> Message {
        let m = alloc::format!(
            "SIP/2.0 302 Moved Temporarily\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:b@192.0.2.2>;tag=2\r\nCall-ID: c\r\n\
             CSeq: 1 INVITE\r\nContact: {v}\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(Bytes::from(m), &Default::default()).unwrap()
    }

    fn uri(s: &str) -> Uri<SipStr> {
        Uri::parse(s).unwrap()
    }

    #[test]
    fn highest_q_first_each_uri_once() {
        let mut t = Targets::new(uri("sip:b@192.0.2.2"));
        let m = contacts(
            "<sip:x@192.0.2.3>;q=0.5, <sip:y@192.0.2.4>;q=0.9, <sip:B@192.0.2.2>, <sip:z@192.0.2.5>;q=0.5",
        );
        t.add(m.contacts());
        let order: Vec<_> = core::iter::from_fn(|| t.next().map(|u| u.to_string())).collect();
        // sip:B@ is not sip:b@ (§19.1.4: the user part is case-sensitive).
        assert_eq!(
            order,
            [
                "sip:B@192.0.2.2",
                "sip:y@192.0.2.4",
                "sip:x@192.0.2.3",
                "sip:z@192.0.2.5"
            ]
        );
        // Named again by a later 3xx: not added.
        t.add(contacts("<sip:y@192.0.2.4>").contacts());
        assert!(t.next().is_none());
    }

    #[test]
    fn no_downgrade_from_sips_and_no_other_scheme() {
        let mut t = Targets::new(uri("sips:b@192.0.2.2"));
        t.add(contacts("<sip:x@192.0.2.3>, <tel:+15551234>, <sips:y@192.0.2.4>").contacts());
        assert_eq!(
            t.next().map(|u| u.to_string()).as_deref(),
            Some("sips:y@192.0.2.4")
        );
        assert!(t.next().is_none());
    }

    #[test]
    fn bounded() {
        let mut t = Targets::new(uri("sip:b@192.0.2.2"));
        let many: Vec<_> = (0..20)
            .map(|i| alloc::format!("<sip:u{i}@192.0.2.9>"))
            .collect();
        t.add(contacts(&many.join(", ")).contacts());
        assert_eq!(t.uris.len(), MAX_TARGETS);
    }

    #[test]
    fn method_and_headers_dropped_from_the_request_uri() {
        let u = request_uri(&uri(
            "sip:x@192.0.2.3;transport=tcp;method=REGISTER?Subject=hi",
        ));
        assert_eq!(u.to_string(), "sip:x@192.0.2.3;transport=tcp");
    }
}
