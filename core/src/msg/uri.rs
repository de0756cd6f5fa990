//! URIs: SIP/SIPS (RFC 3261 §19.1), tel (RFC 3966), anything else kept opaque (RFC 3986).

use super::param::{Params, UriHeaders};
use crate::text::{Convert, Text};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

/// A URI as it appears in a Request-URI or a name-addr.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Uri<S: Text> {
    /// `sip:` or `sips:`.
    Sip(SipUri<S>),
    /// `tel:` (RFC 3966): the number and its parameters.
    Tel(TelUri<S>),
    /// Any other absolute URI: scheme and the rest, opaque.
    Other {
        /// The scheme, as written.
        scheme: S,
        /// Everything after `scheme:`.
        opaque: S,
    },
}

/// `SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]` (RFC 3261 §19.1.1);
/// `SIPS-URI` likewise with `sips:`.
///
/// `user`, `password`, parameter and header values are kept as written (escaped); use
/// [`SipUri::user_decoded`] or [`decode`] for their unescaped form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SipUri<S: Text> {
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// The user part, escaped as written; empty when there is none (`user` is never empty
    /// when written, RFC 3261 §25.1). A string rather than an `Option`: eight bytes less in
    /// every URI, and so in every name-addr and header field.
    pub user: S,
    /// The password, escaped as written. Boxed: RFC 3261 §19.1.1 says it "is NOT
    /// RECOMMENDED", so almost no URI carries one, and the room of an inline one in every URI
    /// was moved with every header of every message.
    pub password: Option<alloc::boxed::Box<S>>,
    /// The host.
    pub host: Host<S>,
    /// The port, if written.
    pub port: Option<u16>,
    /// `uri-parameters`, in order.
    pub params: Params<S>,
    /// `headers` (`?name=value&...`), escaped as written.
    pub headers: UriHeaders<S>,
}

/// `telephone-uri = "tel:" telephone-subscriber` (RFC 3966 §3), split at the first `;`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TelUri<S: Text> {
    /// The global or local number, as written.
    pub number: S,
    /// Parameters (`phone-context`, `ext`, `isub`, ...).
    pub params: Params<S>,
}

/// `host = hostname / IPv4address / IPv6reference` (RFC 3261 §25.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host<S: Text> {
    /// A domain name, as written.
    Domain(S),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets).
    Ipv6(Ipv6Addr),
}

impl<S: Text> Host<S> {
    /// RFC 3261 §19.1.4: hosts compare case-insensitively; addresses by value.
    pub fn matches(&self, other: &Host<impl Text>) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a.as_ref().eq_ignore_ascii_case(b.as_ref()),
            (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
            (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }

    /// Converts the string storage.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> Host<T> {
        match self {
            Host::Domain(d) => Host::Domain(c.text(d)),
            Host::Ipv4(a) => Host::Ipv4(*a),
            Host::Ipv6(a) => Host::Ipv6(*a),
        }
    }
}

impl<S: Text> Uri<S> {
    /// The SIP/SIPS URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri<S>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The scheme, lower-cased for sip/sips/tel, as written otherwise.
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Other { scheme, .. } => scheme.as_ref(),
        }
    }

    /// URI equivalence: RFC 3261 §19.1.4 for SIP/SIPS, RFC 3966 §4 (number + params,
    /// case-insensitive) for tel, case-insensitive scheme + exact rest otherwise.
    pub fn equivalent(&self, other: &Uri<impl Text>) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => a.equivalent(b),
            (Uri::Tel(a), Uri::Tel(b)) => {
                a.number.as_ref().eq_ignore_ascii_case(b.number.as_ref())
                    && a.params.len() == b.params.len()
                    && a.params.iter().all(|p| {
                        b.params.iter().any(|q| {
                            p.name.eq_ignore_ascii_case(q.name) && eq_opt_ci(p.value, q.value)
                        })
                    })
            }
            (
                Uri::Other {
                    scheme: s1,
                    opaque: o1,
                },
                Uri::Other {
                    scheme: s2,
                    opaque: o2,
                },
            ) => s1.as_ref().eq_ignore_ascii_case(s2.as_ref()) && o1.as_ref() == o2.as_ref(),
            _ => false,
        }
    }

    /// Converts the string storage.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> Uri<T> {
        match self {
            Uri::Sip(u) => Uri::Sip(u.convert(c)),
            Uri::Tel(t) => Uri::Tel(TelUri {
                number: c.text(&t.number),
                params: t.params.convert(c),
            }),
            Uri::Other { scheme, opaque } => Uri::Other {
                scheme: c.text(scheme),
                opaque: c.text(opaque),
            },
        }
    }
}

fn eq_opt_ci(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Decoded comparison of escaped text, case-sensitive (RFC 3261 §19.1.4: "comparisons of
/// userinfo ... are case-sensitive", after unescaping).
fn eq_decoded(a: &str, b: &str, ci: bool) -> bool {
    let (a, b) = (decode(a), decode(b));
    if ci {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

impl<S: Text> SipUri<S> {
    /// The user part with `%HH` escapes decoded (RFC 3261 §19.1.2). Bytes that do not form
    /// UTF-8 after decoding are returned as written.
    pub fn user_decoded(&self) -> Option<Cow<'_, str>> {
        let u: &str = self.user.as_ref();
        (!u.is_empty()).then(|| decode_str(u))
    }

    /// The value of a URI parameter (name compared case-insensitively); `Some(None)` for a
    /// parameter without value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params.get(name)
    }

    /// The value of an embedded header (`?Replaces=...`), still escaped.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.unwrap_or(""))
    }

    /// RFC 3261 §19.1.4 URI comparison:
    /// - same scheme; userinfo equal case-sensitively after unescaping; host case-insensitive;
    ///   ports equal only if both present or both absent;
    /// - `user`, `ttl`, `method`, `maddr` and `transport` parameters must match if either URI
    ///   has them; other parameters are compared only when both URIs carry them;
    /// - headers must be present in both and equal (names case-insensitive, values unescaped).
    pub fn equivalent(&self, other: &SipUri<impl Text>) -> bool {
        fn opt_eq(a: Option<&str>, b: Option<&str>, ci: bool) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => eq_decoded(a, b, ci),
                _ => false,
            }
        }
        if self.secure != other.secure
            || !opt_eq(
                Some(self.user.as_ref()).filter(|u: &&str| !u.is_empty()),
                Some(other.user.as_ref()).filter(|u: &&str| !u.is_empty()),
                false,
            )
            || !opt_eq(
                self.password.as_deref().map(|s| s.as_ref()),
                other.password.as_deref().map(|s| s.as_ref()),
                false,
            )
            || !self.host.matches(&other.host)
            || self.port != other.port
        {
            return false;
        }
        const MUST: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];
        // A parameter present in both must have a matching value (a name written twice
        // matches if any of its values does, so the comparison stays reflexive).
        for p in self.params.iter() {
            let name = p.name;
            let mut same_name = other
                .params
                .iter()
                .filter(|q| q.name.eq_ignore_ascii_case(name))
                .peekable();
            if same_name.peek().is_none() {
                if MUST.iter().any(|m| m.eq_ignore_ascii_case(name)) {
                    return false;
                }
            } else if !same_name.any(|q| opt_eq(p.unquoted(), q.unquoted(), true)) {
                return false;
            }
        }
        for q in other.params.iter() {
            let name = q.name;
            if self.param(name).is_none() && MUST.iter().any(|m| m.eq_ignore_ascii_case(name)) {
                return false;
            }
        }
        if self.headers.len() != other.headers.len() {
            return false;
        }
        self.headers.iter().all(|h| {
            other
                .headers
                .iter()
                .any(|o| eq_decoded(h.name, o.name, true) && opt_eq(h.value, o.value, false))
        })
    }

    /// Converts the string storage.
    pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> SipUri<T> {
        SipUri {
            secure: self.secure,
            user: c.text(&self.user),
            password: self
                .password
                .as_ref()
                .map(|u| alloc::boxed::Box::new(c.text(u))),
            host: self.host.convert(c),
            port: self.port,
            params: self.params.convert(c),
            headers: self.headers.convert(c),
        }
    }
}

/// Decodes `%HH` escapes (RFC 3261 §25.1 `escaped`); a `%` not followed by two hex digits is
/// kept literally. Returns raw bytes: an escape may decode to anything, `%00` included.
pub fn decode(s: &str) -> Cow<'_, [u8]> {
    let b = s.as_bytes();
    let Some(first) = memchr::memchr(b'%', b) else {
        return Cow::Borrowed(b);
    };
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..first]);
    let mut i = first;
    // Runs without `%` are copied whole; each `%` is decoded, or kept when no two hex digits
    // follow it.
    while let Some(p) = memchr::memchr(b'%', b.get(i..).unwrap_or_default()) {
        out.extend_from_slice(&b[i..i + p]);
        i += p;
        match (
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            _ => {
                out.push(b'%');
                i += 1;
            }
        }
    }
    out.extend_from_slice(b.get(i..).unwrap_or_default());
    Cow::Owned(out)
}

/// [`decode`], as text: lossless when the result is UTF-8, the escaped input otherwise.
pub fn decode_str(s: &str) -> Cow<'_, str> {
    match decode(s) {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(v) => match alloc::string::String::from_utf8(v) {
            Ok(d) => Cow::Owned(d),
            Err(_) => Cow::Borrowed(s),
        },
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Escapes every byte of `s` outside `allowed` as `%HH` (upper-case hex), appending to `out`.
pub fn encode_into(out: &mut alloc::string::String, s: &[u8], allowed: fn(u8) -> bool) {
    out.reserve(s.len());
    encode_each(s, allowed, |c| out.push(char::from(c)));
}

/// [`encode_into`] one output byte (ASCII) at a time.
pub(crate) fn encode_each(s: &[u8], allowed: fn(u8) -> bool, mut put: impl FnMut(u8)) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in s {
        if allowed(c) {
            put(c);
        } else {
            put(b'%');
            put(HEX[(c >> 4) as usize]);
            put(HEX[(c & 15) as usize]);
        }
    }
}

/// Characters allowed unescaped in a URI header value:
/// `hvalue = *( hnv-unreserved / unreserved / escaped )` (RFC 3261 §25.1) — `%` itself is
/// escaped so that encoding is reversible.
pub fn is_hvalue_char(c: u8) -> bool {
    c != b'%' && crate::parse::uri::is_hnv(c)
}

impl crate::text::Detach for Host<crate::text::SipStr> {
    #[inline]
    fn detach(&mut self) {
        if let Host::Domain(d) = self {
            d.detach();
        }
    }
}

impl crate::text::Detach for SipUri<crate::text::SipStr> {
    #[inline]
    fn detach(&mut self) {
        self.user.detach();
        if let Some(p) = &mut self.password {
            p.detach();
        }
        self.host.detach();
        self.params.detach();
        self.headers.detach();
    }
}

impl crate::text::Detach for Uri<crate::text::SipStr> {
    #[inline]
    fn detach(&mut self) {
        match self {
            Uri::Sip(u) => u.detach(),
            Uri::Tel(t) => {
                t.number.detach();
                t.params.detach();
            }
            Uri::Other { scheme, opaque } => {
                scheme.detach();
                opaque.detach();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`decode`] against a byte-by-byte reference, over every string of up to six symbols
    /// from an alphabet of `%`, hex digits of both cases, a non-hex letter and multi-byte text.
    #[test]
    fn decode_matches_bytewise_reference() {
        fn reference(b: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    if let (Some(h), Some(l)) = (
                        b.get(i + 1).and_then(|c| hex(*c)),
                        b.get(i + 2).and_then(|c| hex(*c)),
                    ) {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                }
                out.push(b[i]);
                i += 1;
            }
            out
        }
        let alphabet = ["%", "4", "0", "a", "F", "g", "é"];
        let mut strings = alloc::vec![alloc::string::String::new()];
        for _ in 0..6 {
            let mut next = Vec::new();
            for s in &strings {
                for a in alphabet {
                    next.push(alloc::format!("{s}{a}"));
                }
            }
            for s in &next {
                assert_eq!(&*decode(s), &reference(s.as_bytes())[..], "{s:?}");
            }
            strings = next;
        }
    }
}
