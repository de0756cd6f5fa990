//! Transaction matching keys: §17.1.3 for responses, §17.2.3 for requests.

use crate::msg::{emit::uri_to_string, Header, Host, Message, Method, Values, Via};
use crate::text::Text;
use core::fmt::Write;
use core::hash::{Hash, Hasher};
use smallvec::SmallVec;

/// Bytes a key holds inline: a server key ([`ServerKey`], compact) with a branch of up to 54
/// bytes and an IPv4 sent-by (pjsip's and Asterisk's are 45, ours 23), or of up to 42 and an
/// IPv6 one; a client key with a branch of up to 48 bytes; a longer key goes to the heap.
const INLINE: usize = 56;

/// A key's parts in one buffer, each closed by 0xFF (a byte no UTF-8 text holds, so that a
/// part ends where it ended; the numbers among them are of fixed width). One buffer rather
/// than one per part: the key is 64 bytes instead of 40 per part (it lives in every
/// transaction, finished ones included, and most live transactions under load are finished
/// ones lingering 64·T1), hashing it is one `write` of the buffer, comparing it one
/// comparison of bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Parts(SmallVec<[u8; INLINE]>);

impl Parts {
    /// Appends `b` as a part of text.
    fn text(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
        self.0.push(0xff);
    }

    /// Appends a number as a part of four bytes.
    fn number(&mut self, n: u32) {
        self.0.extend_from_slice(&n.to_le_bytes());
        self.0.push(0xff);
    }

    /// Appends the method a request matches under (§17.2.3: ACK matches the INVITE
    /// transaction; `method` overrides the request's own).
    fn method<S: Text>(&mut self, m: &Method<S>, method: Option<&str>) {
        self.text(match (method, m) {
            (Some(x), _) => x.as_bytes(),
            (None, Method::Ack) => b"INVITE",
            (None, m) => m.as_str().as_bytes(),
        });
    }

    /// Appends a sent-by host, case-folded as §19.1.4 compares hosts.
    fn host<S: Text>(&mut self, h: &Host<S>) {
        match h {
            Host::Domain(d) => self
                .0
                .extend(d.as_ref().bytes().map(|b| b.to_ascii_lowercase())),
            Host::Ipv4(a) => self
                .0
                .extend_from_slice(crate::msg::emit::ipv4_text(*a, &mut [0; 15])),
            // Writing to a buffer cannot fail.
            Host::Ipv6(a) => {
                let _ = write!(self, "[{a}]");
            }
        }
        self.0.push(0xff);
    }
}

impl Write for Parts {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The parts as they lie: they are closed already.
impl Hash for Parts {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write(&self.0);
    }
}

/// §17.1.3: a response matches a client transaction when the branch of its top Via equals
/// the request's and its CSeq method equals the request's method (so a CANCEL has its own
/// transaction, distinct from the INVITE's with the same branch). Branch and method, as
/// [`Parts`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey(Parts);

impl ClientKey {
    /// The key of a response (or of the request a client sends).
    pub fn of<S: Text>(m: &Message<S>) -> Option<Self> {
        let branch = m.top_via()?.branch()?;
        Some(ClientKey::new(branch, m.cseq()?.method.as_str()))
    }

    /// The key of a request with top Via branch `branch` and CSeq method `method` (one
    /// written without building it).
    pub fn new(branch: &str, method: &str) -> Self {
        let mut k = Parts::default();
        k.text(branch.as_bytes());
        k.text(method.as_bytes());
        ClientKey(k)
    }
}

/// A response's [`ClientKey`] as it lies in the response, for the lookup of its transaction
/// (§17.1.3): its parts are hashed as the key's are, from the stack
/// ([`crate::hashed::write_parts`]), and compared part by part, so that matching a response
/// makes no key.
pub(crate) struct ClientKeyRef<'a> {
    branch: &'a [u8],
    method: &'a [u8],
}

impl<'a> ClientKeyRef<'a> {
    /// The key of a response, as [`ClientKey::of`] makes it.
    pub fn of<S: Text>(m: &'a Message<S>) -> Option<Self> {
        Some(ClientKeyRef {
            branch: m.top_via()?.branch()?.as_bytes(),
            method: m.cseq()?.method.as_str().as_bytes(),
        })
    }

    /// Is `k` this key?
    pub fn is(&self, k: &ClientKey) -> bool {
        let b = k.0 .0.as_slice();
        let n = self.branch.len();
        let m = self.method.len();
        b.len() == n + m + 2
            && b[..n] == *self.branch
            && b[n] == 0xff
            && b[n + 1..n + 1 + m] == *self.method
            && b[n + 1 + m] == 0xff
    }
}

/// The parts closed as [`Parts`] closes them: the hash of the [`ClientKey`] it stands for.
impl Hash for ClientKeyRef<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        crate::hashed::write_parts(h, &[self.branch, self.method]);
    }
}

/// §17.2.3: the request side. With an RFC 3261 branch (magic cookie) the key is branch,
/// sent-by (host and port) and method, an ACK standing for the INVITE it acknowledges.
/// Without one, the RFC 2543 rule: Request-URI, From tag, Call-ID, CSeq number, top Via and
/// method (To tags are checked by the layer, because the ACK's To tag is the one of the
/// response). As [`Parts`] after a first byte that tells the two apart.
///
/// An RFC 3261 key is written compactly, so that a pjsip or Asterisk peer's branch
/// (`z9hG4bKPj` + a 36-character UUID) fits inline with an IPv4 sent-by and the key is made
/// without an allocation (written as text it was 70 bytes: one allocation for each request
/// from such a peer, for its lookup, and one more for its transaction): the method as its
/// place among the known ones (its text, closed, for another), the host as its four or
/// sixteen bytes (a domain as its case-folded text, closed), the port as two bytes after a
/// byte that says whether there is one, and last the branch without the cookie every such
/// branch begins with (its end is the key's). See [`INLINE`] for what fits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ServerKey(Parts);

/// The first byte of an RFC 2543 key (an RFC 3261 key's is 0).
const RFC2543: u8 = 1;

/// The byte of a method in an RFC 3261 [`ServerKey`] that is not a known one (its text
/// follows).
const EXTENSION: u8 = 0xff;

impl ServerKey {
    /// The key of a request; `method` overrides the request's own (to find the INVITE a
    /// CANCEL targets, §9.2).
    pub fn of<S: Text>(m: &Message<S>, method: Option<&Method<&str>>) -> Option<Self> {
        let via = m.top_via()?;
        let mut k = Parts::default();
        // One lookup of the branch for both the cookie test and the key.
        if let Some(rest) = via
            .branch()
            .and_then(|b| b.strip_prefix(crate::rand::MAGIC_COOKIE))
        {
            k.0.push(0);
            let own = m.method()?;
            let (code, text) = match (method, own) {
                (Some(x), _) => (x.known_index(), x.as_str()),
                (None, Method::Ack) => (Method::<&str>::Invite.known_index(), "INVITE"),
                (None, m) => (m.known_index(), m.as_str()),
            };
            match code {
                Some(c) => k.0.push(c),
                None => {
                    k.0.push(EXTENSION);
                    k.text(text.as_bytes());
                }
            }
            let port = via.port.unwrap_or(0).to_le_bytes();
            let has_port = u8::from(via.port.is_some()) << 7;
            match &via.host {
                Host::Ipv4(a) => {
                    k.0.push(1 | has_port);
                    k.0.extend_from_slice(&port);
                    k.0.extend_from_slice(&a.octets());
                }
                Host::Ipv6(a) => {
                    k.0.push(2 | has_port);
                    k.0.extend_from_slice(&port);
                    k.0.extend_from_slice(&a.octets());
                }
                Host::Domain(_) => {
                    k.0.push(3 | has_port);
                    k.0.extend_from_slice(&port);
                    k.host(&via.host);
                }
            }
            k.0.extend_from_slice(rest.as_bytes());
            return Some(ServerKey(k));
        }
        let mut one: Values<Via<S>> = Values::new();
        one.push(via.clone());
        k.0.push(RFC2543);
        k.text(uri_to_string(m.request_uri()?).as_bytes());
        k.text(m.from()?.tag().unwrap_or("").as_bytes());
        k.text(m.call_id()?.as_bytes());
        k.number(m.cseq()?.seq);
        k.text(crate::msg::emit::header_value_to_string(&Header::Via(one)).as_bytes());
        k.method(m.method()?, method.map(Method::as_str));
        Some(ServerKey(k))
    }

    pub fn is_rfc2543(&self) -> bool {
        self.0 .0.first() == Some(&RFC2543)
    }
}

/// RFC 3261 §8.2.2.2: what a request without a To tag shares with the request of an
/// ongoing transaction when it is a merged copy of it (forked and come back by another path,
/// or looped): "the From tag, Call-ID, and CSeq exactly match". Only its hash is kept (the
/// transactions' keyed hash, [`crate::hashed`]): the transaction it would be compared with
/// has usually given its request up by then ([`super::Layer::shed_finished`]), and two
/// different requests share a 64-bit keyed hash with a chance no peer can raise. `None` for
/// a request with a To tag, without a From tag (RFC 2543: nothing to tell the copies apart
/// by), and for ACK and CANCEL (which match the INVITE's transaction, §17.2.3, §9.2).
pub(crate) struct MergeKey<'a> {
    from_tag: &'a str,
    call_id: &'a str,
    seq: u32,
    method: &'a str,
}

impl<'a> MergeKey<'a> {
    /// The key of `m`, when it can be merged at all.
    pub fn of<S: Text>(m: &'a Message<S>) -> Option<Self> {
        if m.to()?.tag().is_some() {
            return None;
        }
        let method = m.method()?;
        if matches!(method, Method::Ack | Method::Cancel) {
            return None;
        }
        let cseq = m.cseq()?;
        Some(MergeKey {
            from_tag: m.from()?.tag()?,
            call_id: m.call_id()?,
            seq: cseq.seq,
            method: cseq.method.as_str(),
        })
    }
}

/// The parts closed as [`Parts`] closes them, gathered on the stack ([`crate::hashed::write_parts`]).
impl Hash for MergeKey<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let seq = self.seq.to_le_bytes();
        crate::hashed::write_parts(
            h,
            &[
                self.from_tag.as_bytes(),
                self.call_id.as_bytes(),
                &seq,
                self.method.as_bytes(),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Message;
    use alloc::format;

    fn request(via: &str, method: &str) -> Message {
        let text = alloc::format!(
            "{method} sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP {via}\r\n\
             From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
             Call-ID: c1\r\nCSeq: 7 {method}\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(bytes::Bytes::from(text), &Default::default()).expect("a request")
    }

    /// A response's key as it lies in the response hashes as the key made of it and is
    /// that key alone: branches short and past the stack of `write_parts` (96 bytes), the
    /// method's bytes moved into the branch, another method, another branch.
    #[test]
    fn client_key_ref_is_the_key() {
        use core::hash::BuildHasher;
        let keys = crate::hashed::Keys::from_seed([7; 32]);
        let response = |branch: &str, method: &str| {
            let text = alloc::format!(
                "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch={branch}\r\n\
                 From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\n\
                 CSeq: 1 {method}\r\n\r\n"
            );
            Message::parse(bytes::Bytes::from(text), &Default::default()).expect("a response")
        };
        let long = alloc::format!("z9hG4bK{}", "x".repeat(120));
        let branches = [
            "z9hG4bK1",
            "z9hG4bKabcdefghijklmnop",
            &long[..90],
            &long[..],
        ];
        for (i, b) in branches.iter().enumerate() {
            for (j, c) in branches.iter().enumerate() {
                for (m, n) in [("INVITE", "INVITE"), ("INVITE", "CANCEL"), ("BYE", "BYE")] {
                    let (r, q) = (response(b, m), response(c, n));
                    let (k, kref) = (ClientKey::of(&q).unwrap(), ClientKeyRef::of(&r).unwrap());
                    assert_eq!(kref.is(&k), i == j && m == n, "{b} {m} / {c} {n}");
                    if i == j && m == n {
                        assert_eq!(keys.hash_one(&kref), keys.hash_one(&k));
                    }
                }
            }
        }
        // Bytes moved from the branch to the method: another key.
        let k = ClientKey::of(&response("z9hG4bK1B", "YE")).unwrap();
        assert!(!ClientKeyRef::of(&response("z9hG4bK1", "BYE"))
            .unwrap()
            .is(&k));
    }

    #[test]
    fn server_keys_match_as_section_17_2_3_says() {
        let k = |via: &str, method: &str| ServerKey::of(&request(via, method), None).unwrap();
        let base = k("Host.Example:5060;branch=z9hG4bK1", "INVITE");
        // The ACK matches the INVITE; the host compares without case.
        assert_eq!(k("host.example:5060;branch=z9hG4bK1", "ACK"), base);
        // Any other part differs: branch, host, port (and none against 5060), method.
        for other in [
            k("host.example:5060;branch=z9hG4bK2", "INVITE"),
            k("host.example2:5060;branch=z9hG4bK1", "INVITE"),
            k("host.example:5061;branch=z9hG4bK1", "INVITE"),
            k("host.example;branch=z9hG4bK1", "INVITE"),
            k("host.example:5060;branch=z9hG4bK1", "BYE"),
        ] {
            assert_ne!(other, base);
        }
        // A part ends where it ended: moving bytes from one part to the next changes the key.
        assert_ne!(
            k("ab;branch=z9hG4bKx", "INVITE"),
            k("b;branch=z9hG4bKxa", "INVITE")
        );
        // The CANCEL finds the INVITE it targets.
        let cancel = request("host.example:5060;branch=z9hG4bK1", "CANCEL");
        assert_eq!(ServerKey::of(&cancel, Some(&Method::Invite)).unwrap(), base);
        assert!(!base.is_rfc2543());
        // An IPv4 sent-by fits inline with a branch as pjsip and Asterisk write them
        // (`z9hG4bKPj` + a UUID, 45 bytes), with an extension method too; an IPv6 one with a
        // branch of up to 42 bytes (ours are 23).
        let pj = "z9hG4bKPj1f0e3c2a-4b5d-4e6f-8a9b-0c1d2e3f4a5b";
        let v4 = k(&format!("192.168.100.200:5060;branch={pj}"), "SUBSCRIBE");
        let v6 = k(
            &format!("[2001:db8::1]:5060;branch={}", &pj[..42]),
            "NOTIFY",
        );
        let ext = k(&format!("192.168.100.200:5060;branch={pj}"), "PING");
        assert!(!v4.0 .0.spilled() && !v6.0 .0.spilled() && !ext.0 .0.spilled());
        // Methods known and not, addresses and their ports, told apart; a port 0 is a port.
        let pk = |via: &str, method: &str| k(&format!("{via};branch={pj}"), method);
        let keys = [
            pk("192.168.100.200:5060", "PING"),
            pk("192.168.100.200:5060", "PONG"),
            pk("192.168.100.200:5060", "INVITE"),
            pk("192.168.100.200:5061", "INVITE"),
            pk("192.168.100.201:5060", "INVITE"),
            pk("192.168.100.200", "INVITE"),
            pk("192.168.100.200:0", "INVITE"),
            pk("[2001:db8::1]:5060", "INVITE"),
            pk("[2001:db8::2]:5060", "INVITE"),
            pk("h.example:5060", "INVITE"),
        ];
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                assert_eq!(a == b, i == j, "{i} {j}");
            }
        }
        assert_eq!(pk("192.168.100.200:5060", "PING"), keys[0]);
        // Without the magic cookie: the RFC 2543 key, which tells the CSeq numbers apart.
        let old = k("host.example:5060;branch=1", "INVITE");
        assert!(old.is_rfc2543());
        assert_eq!(k("host.example:5060;branch=1", "ACK"), old);
        assert_ne!(old, base);
    }

    #[test]
    fn client_keys_are_branch_and_method() {
        let k = |via: &str, method: &str| ClientKey::of(&request(via, method)).unwrap();
        let base = k("a.example;branch=z9hG4bK1", "INVITE");
        assert_eq!(k("other.example:5070;branch=z9hG4bK1", "INVITE"), base);
        assert_ne!(k("a.example;branch=z9hG4bK1", "CANCEL"), base);
        assert_ne!(k("a.example;branch=z9hG4bK2", "INVITE"), base);
    }

    /// §8.2.2.2 applies to requests without a To tag that have a From tag, ACK and CANCEL
    /// aside; copies (another branch, another path) have equal keys, another CSeq number,
    /// method, Call-ID or From tag does not.
    #[test]
    fn merge_key_is_from_tag_call_id_and_cseq() {
        let keys = crate::hashed::Keys::from_seed([7; 32]);
        let msg = |method: &str, seq: u32, from: &str, to: &str, via: &str| {
            let text = alloc::format!(
                "{method} sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP {via}\r\n\
                 From: <sip:a@example.com>{from}\r\nTo: <sip:b@example.com>{to}\r\n\
                 Call-ID: c1\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n"
            );
            Message::parse(bytes::Bytes::from(text), &Default::default()).expect("a request")
        };
        let h = |m: &Message| MergeKey::of(m).map(|k| core::hash::BuildHasher::hash_one(&keys, &k));
        let base = h(&msg("INVITE", 1, ";tag=1", "", "p1;branch=z9hG4bK1"));
        assert!(base.is_some());
        assert_eq!(
            h(&msg("INVITE", 1, ";tag=1", "", "p2;branch=z9hG4bK2")),
            base
        );
        for other in [
            msg("INVITE", 2, ";tag=1", "", "p1;branch=z9hG4bK1"),
            msg("INVITE", 1, ";tag=2", "", "p1;branch=z9hG4bK1"),
            msg("OPTIONS", 1, ";tag=1", "", "p1;branch=z9hG4bK1"),
        ] {
            assert!(h(&other).is_some());
            assert_ne!(h(&other), base);
        }
        for none in [
            msg("INVITE", 1, ";tag=1", ";tag=9", "p1;branch=z9hG4bK1"),
            msg("INVITE", 1, "", "", "p1;branch=z9hG4bK1"),
            msg("ACK", 1, ";tag=1", "", "p1;branch=z9hG4bK1"),
            msg("CANCEL", 1, ";tag=1", "", "p1;branch=z9hG4bK1"),
        ] {
            assert!(h(&none).is_none());
        }
    }

    /// Every live transaction holds its key, finished ones included (most of those alive
    /// under load): 64 bytes each, and 256 for the whole transaction (352 with a buffer per
    /// part of the key and the timers as pairs).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn keys_and_transactions_stay_small() {
        use core::mem::size_of;
        assert_eq!(size_of::<ServerKey>(), 64);
        assert_eq!(size_of::<ClientKey>(), 64);
        assert!(size_of::<super::super::Tx>() <= 256);
    }
}
