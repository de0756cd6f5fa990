//! Transaction matching keys: §17.1.3 for responses, §17.2.3 for requests.

use crate::msg::{emit::uri_to_string, Header, Host, Message, Method, Values, Via};
use crate::text::Text;
use alloc::boxed::Box;
use alloc::string::String;
use core::fmt::Write;
use core::hash::{Hash, Hasher};
use smallvec::SmallVec;

/// A key's text held inline up to 32 bytes (branches as UAs and proxies write them, IPv4
/// and short IPv6 sent-by hosts, methods), on the heap only beyond: computing a key for every
/// message then costs no allocation, and hashing or comparing one follows no pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyStr(SmallVec<[u8; 32]>);

impl KeyStr {
    fn of(s: &str) -> Self {
        KeyStr(SmallVec::from_slice(s.as_bytes()))
    }

    /// Appends ASCII text (an address, a number written by the emitter).
    pub(crate) fn push_ascii(&mut self, b: &[u8]) {
        if b.is_ascii() {
            self.0.extend_from_slice(b);
        }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The text (only ever written from `&str` pieces).
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Its bytes closed by 0xFF, a byte no UTF-8 text holds: the parts of a key hash as one
/// string in which each part ends where it ended (one `write` each, no length).
impl Hash for KeyStr {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write(&self.0);
        h.write_u8(0xff);
    }
}

impl Write for KeyStr {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// §17.1.3: a response matches a client transaction when the branch of its top Via equals
/// the request's and its CSeq method equals the request's method (so a CANCEL has its own
/// transaction, distinct from the INVITE's with the same branch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientKey {
    pub branch: KeyStr,
    pub method: KeyStr,
}

/// Branch and method in one write ([`crate::hashed::write_parts`]).
impl Hash for ClientKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        crate::hashed::write_parts(h, &[&self.branch.0, &self.method.0]);
    }
}

impl ClientKey {
    /// The key of a response (or of the request a client sends).
    pub fn of<S: Text>(m: &Message<S>) -> Option<Self> {
        let branch = m.top_via()?.branch()?;
        let method = m.cseq()?.method.as_str();
        Some(ClientKey {
            branch: KeyStr::of(branch),
            method: KeyStr::of(method),
        })
    }
}

/// §17.2.3: the request side. With an RFC 3261 branch (magic cookie) the key is branch,
/// sent-by and method, an ACK standing for the INVITE it acknowledges. Without one, the RFC
/// 2543 rule: Request-URI, From tag, Call-ID, CSeq number and top Via (To tags are checked by
/// the layer, because the ACK's To tag is the one of the response).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ServerKey {
    Rfc3261 {
        branch: KeyStr,
        host: KeyStr,
        port: Option<u16>,
        method: KeyStr,
    },
    /// Boxed: rare (only peers older than RFC 3261), and five strings long.
    Rfc2543(Box<Rfc2543Key>),
}

/// Every part of the key (a peer picks them all: see [`crate::hashed`]), the port as 4
/// bytes, in one write ([`crate::hashed::write_parts`]).
impl Hash for ServerKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            ServerKey::Rfc3261 {
                branch,
                host,
                port,
                method,
            } => {
                let port = port.map_or(0, |p| u32::from(p) | 1 << 16).to_le_bytes();
                crate::hashed::write_parts(h, &[&branch.0, &host.0, &port, &method.0]);
            }
            ServerKey::Rfc2543(k) => k.hash(h),
        }
    }
}

/// The RFC 2543 matching key (§17.2.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Rfc2543Key {
    uri: String,
    from_tag: String,
    call_id: String,
    cseq: u32,
    via: String,
    method: KeyStr,
}

/// The method a request matches under: ACK matches the INVITE transaction.
fn match_method<S: Text>(m: &Method<S>) -> KeyStr {
    match m {
        Method::Ack => KeyStr::of("INVITE"),
        m => KeyStr::of(m.as_str()),
    }
}

fn host_key<S: Text>(h: &Host<S>) -> KeyStr {
    let mut k = KeyStr::default();
    // Writing to a KeyStr cannot fail.
    let _ = match h {
        Host::Domain(d) => {
            k.0.extend(d.as_ref().bytes().map(|b| b.to_ascii_lowercase()));
            Ok(())
        }
        Host::Ipv4(a) => {
            k.push_ascii(crate::msg::emit::ipv4_text(*a, &mut [0; 15]));
            Ok(())
        }
        Host::Ipv6(a) => write!(k, "[{a}]"),
    };
    k
}

impl ServerKey {
    /// The key of a request; `method` overrides the request's own (to find the INVITE a
    /// CANCEL targets, §9.2).
    pub fn of<S: Text>(m: &Message<S>, method: Option<&str>) -> Option<Self> {
        let via = m.top_via()?;
        let method = match method {
            Some(x) => KeyStr::of(x),
            None => match_method(m.method()?),
        };
        if via.has_magic_cookie() {
            return Some(ServerKey::Rfc3261 {
                branch: KeyStr::of(via.branch()?),
                host: host_key(&via.host),
                port: via.port,
                method,
            });
        }
        let mut one: Values<Via<S>> = Values::new();
        one.push(via.clone());
        Some(ServerKey::Rfc2543(Box::new(Rfc2543Key {
            uri: uri_to_string(m.request_uri()?),
            from_tag: m.from()?.tag().unwrap_or("").into(),
            call_id: m.call_id()?.into(),
            cseq: m.cseq()?.seq,
            via: crate::msg::emit::header_value_to_string(&Header::Via(one)),
            method,
        })))
    }

    pub fn is_rfc2543(&self) -> bool {
        matches!(self, ServerKey::Rfc2543(_))
    }
}
