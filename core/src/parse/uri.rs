//! URI parser (RFC 3261 §19.1 and §25.1; RFC 3966 for `tel:`; RFC 3986 for other schemes).
//!
//! ```text
//! SIP-URI       = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
//! userinfo      = ( user / telephone-subscriber ) [ ":" password ] "@"
//! hostport      = host [ ":" port ]
//! host          = hostname / IPv4address / IPv6reference
//! uri-parameter = transport-param / user-param / method-param / ttl-param / maddr-param
//!                 / lr-param / other-param
//! other-param   = pname [ "=" pvalue ]
//! headers       = "?" header *( "&" header )
//! header        = hname "=" hvalue
//! absoluteURI   = scheme ":" ( hier-part / opaque-part )
//! ```

use super::chars::{has_double_dot, run_len, HNV, HOST, HVALUE, PARAMCHAR, PASSWORD, URIC, USER};
use super::ctx::{Ctx, View};
use super::{ErrorKind, ParseError};
use crate::msg::param::{Starts, Walk};
use crate::msg::{Host, Params, SipUri, TelUri, Uri, UriHeaders};
use crate::text::Rare;
use core::net::{Ipv4Addr, Ipv6Addr};
use nom::error::{Error, ErrorKind as NomKind};
use nom::IResult;

pub(crate) use super::ctx::text;

pub(crate) type PResult<'a, T> = IResult<&'a [u8], T, Error<&'a [u8]>>;

/// A nom failure at `i`.
#[cold]
pub(crate) fn fail<T>(i: &[u8]) -> PResult<'_, T> {
    Err(nom::Err::Error(Error::new(i, NomKind::Verify)))
}

pub(crate) fn is_hnv(c: u8) -> bool {
    HNV[c as usize]
}

/// How many leading bytes of `i` are in `class` ([`run_len`], four bytes a round). Kept out
/// of line: inlined at its call sites it made the parsers that call it too large to be
/// inlined in turn (+2.2 % of the flows' instructions, BENCHMARKS.md "Fifteenth round").
#[inline(never)]
pub(crate) fn run(class: &[bool; 256], i: &[u8]) -> usize {
    run_len(i, class)
}

/// `1*<class>`: the run and the rest, or a failure at `i`.
#[inline]
pub(crate) fn run1<'a>(class: &[bool; 256], i: &'a [u8]) -> PResult<'a, &'a [u8]> {
    match run(class, i) {
        0 => fail(i),
        n => Ok((&i[n..], &i[..n])),
    }
}

/// Parses a whole URI (nothing may follow it).
///
/// ```
/// use sipxfer::msg::{Host, Uri};
/// let u = sipxfer::parse::parse_uri(b"sip:alice@[2001:db8::1]:5070;transport=tcp?Subject=hi").unwrap();
/// let Uri::Sip(s) = u else { panic!() };
/// assert_eq!(s.user, "alice");
/// assert!(matches!(s.host, Host::Ipv6(_)));
/// assert_eq!((s.port, s.param("transport"), s.header("subject")), (Some(5070), Some(Some("tcp")), Some("hi")));
/// ```
pub fn parse_uri(input: &[u8]) -> Result<Uri<&str>, ParseError> {
    parse_uri_in(View::new(input), input)
}

/// [`parse_uri`] building its strings with `c`.
pub(crate) fn parse_uri_in<'a, C: Ctx<'a>>(c: C, input: &'a [u8]) -> Result<Uri<C::S>, ParseError> {
    match uri(c, input) {
        Ok(([], u)) => Ok(u),
        Ok((rest, _)) => Err(ParseError::new(
            ErrorKind::BadUri,
            super::offset_in(input, rest),
        )),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(ParseError::new(
            ErrorKind::BadUri,
            super::offset_in(input, e.input),
        )),
        Err(nom::Err::Incomplete(_)) => Err(ParseError::new(ErrorKind::BadUri, input.len())),
    }
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
#[inline]
fn scheme(i: &[u8]) -> PResult<'_, &[u8]> {
    let n = i
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
        .unwrap_or(i.len());
    if n == 0 || !i[0].is_ascii_alphabetic() {
        return fail(i);
    }
    Ok((&i[n..], &i[..n]))
}

/// A URI, consuming as much input as its grammar allows (the caller delimits it).
#[inline]
pub(crate) fn uri<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Uri<C::S>> {
    // Fast path for the usual lower-case `sip:`.
    if let Some(r) = i.strip_prefix(b"sip:") {
        let (r, u) = sip_uri(c, r, false)?;
        return Ok((r, Uri::Sip(u)));
    }
    let (r, s) = scheme(i)?;
    let r = match r.split_first() {
        Some((b':', r)) => r,
        _ => return fail(r),
    };
    if s.eq_ignore_ascii_case(b"sip") || s.eq_ignore_ascii_case(b"sips") {
        let (r, u) = sip_uri(c, r, s.len() == 4)?;
        Ok((r, Uri::Sip(u)))
    } else if s.eq_ignore_ascii_case(b"tel") {
        let n = r
            .iter()
            .position(|&c| c == b';' || !URIC[c as usize])
            .unwrap_or(r.len());
        if n == 0 {
            return fail(r);
        }
        let (number, r) = r.split_at(n);
        let number = c.s(number)?;
        let (r, params) = uri_params(c, r)?;
        Ok((r, Uri::Tel(TelUri { number, params })))
    } else {
        let (r, opaque) = run1(&URIC, r)?;
        Ok((
            r,
            Uri::Other {
                scheme: c.s(s)?,
                opaque: c.s(opaque)?,
            },
        ))
    }
}

/// Everything after `sip:` / `sips:`.
#[inline]
pub(crate) fn sip_uri<'a, C: Ctx<'a>>(
    c: C,
    i: &'a [u8],
    secure: bool,
) -> PResult<'a, SipUri<C::S>> {
    // userinfo ends at the first "@" (user and password cannot hold a bare "@"): the run of
    // user characters and colons, followed by "@".
    // Runs of user characters ([`run_len`], four a round), the first colon noted.
    let mut k = run_len(i, &USER);
    let mut colon = None;
    while i.get(k) == Some(&b':') {
        colon = colon.or(Some(k));
        k += 1;
        k += run_len(&i[k..], &USER);
    }
    let (mut r, mut user, mut password) = (i, None, None);
    if i.get(k) == Some(&b'@') {
        let info = &i[..k];
        let (u, p) = match colon {
            Some(colon) => (&info[..colon], Some(&info[colon + 1..])),
            None => (info, None),
        };
        // `u` holds only user characters (it precedes the first colon).
        if u.is_empty() {
            return fail(i);
        }
        if let Some(p) = p {
            if !p.iter().all(|&c| PASSWORD[c as usize]) {
                return fail(p);
            }
            password = Some(alloc::boxed::Box::new(c.s(p)?));
        }
        user = Some(c.s(u)?);
        r = &i[k + 1..];
    }
    let (r, (host, port)) = hostport(c, r)?;
    let (r, params) = uri_params(c, r)?;
    // `[ "?" headers ]`: malformed headers are left unconsumed.
    let (r, headers) = match r.split_first() {
        Some((b'?', h)) => match uri_headers(c, h) {
            Ok((r, h)) => (r, h),
            Err(_) => (r, UriHeaders::default()),
        },
        _ => (r, UriHeaders::default()),
    };
    Ok((
        r,
        SipUri {
            secure,
            user: user.unwrap_or_default(),
            password,
            host,
            port,
            params,
            headers,
        },
    ))
}

/// `hostport = host [ ":" port ]` (a colon not followed by a port is left unconsumed).
#[inline]
pub(crate) fn hostport<'a, C: Ctx<'a>>(
    c: C,
    i: &'a [u8],
) -> PResult<'a, (Host<C::S>, Option<u16>)> {
    let (r, h) = host(c, i)?;
    if let Some((b':', p)) = r.split_first() {
        if let Ok((r, port)) = port(p) {
            return Ok((r, (h, Some(port))));
        }
    }
    Ok((r, (h, None)))
}

/// `port = 1*DIGIT` (at most 65535).
#[inline]
pub(crate) fn port(i: &[u8]) -> PResult<'_, u16> {
    let n = i
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(i.len());
    if n == 0 || n > 5 {
        return fail(i);
    }
    let v = i[..n].iter().fold(0u32, |v, &c| v * 10 + (c - b'0') as u32);
    match u16::try_from(v) {
        Ok(p) => Ok((&i[n..], p)),
        Err(_) => fail(i),
    }
}

/// `host = hostname / IPv4address / IPv6reference`
#[inline]
pub(crate) fn host<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Host<C::S>> {
    if i.first() == Some(&b'[') {
        let end = match i.iter().position(|&c| c == b']') {
            Some(e) => e,
            None => return fail(i),
        };
        let addr = text(&i[1..end])?;
        return match ipv6_address(addr) {
            Some(a) => Ok((&i[end + 1..], Host::Ipv6(a))),
            None => fail(i),
        };
    }
    // The usual IPv4 address, in one pass.
    if let Some((n, a)) = ipv4_prefix(i) {
        if !i.get(n).is_some_and(|&c| HOST[c as usize]) {
            return Ok((&i[n..], Host::Ipv4(a)));
        }
    }
    // The run of host characters (RFC 3261 §25.1: `hostname = *( domainlabel "." )
    // toplabel [ "." ]`). Digits and dots alone are an IPv4 address or nothing; a run that
    // starts with a letter, `-` or `_` is a name, and is not classified byte by byte.
    let n = run_len(i, &HOST);
    if n == 0 {
        return fail(i);
    }
    let (h, r) = i.split_at(n);
    if matches!(h[0], b'0'..=b'9' | b'.') && h.iter().all(|&c| c.is_ascii_digit() || c == b'.') {
        return match ipv4(h) {
            Some(a) => Ok((r, Host::Ipv4(a))),
            None => fail(i),
        };
    }
    // hostname: labels of alphanum / "-" separated by single dots (no empty label).
    if h[0] == b'.' || has_double_dot(h) {
        return fail(i);
    }
    Ok((r, Host::Domain(c.s(h)?)))
}

/// The `IPv6address` of an `IPv6reference` (RFC 3261 §25.1):
///
/// ```text
/// IPv6reference = "[" IPv6address "]"
/// IPv6address   = hexpart [ ":" IPv4address ]
/// hexpart       = hexseq / hexseq "::" [ hexseq ] / "::" [ hexseq ]
/// hexseq        = hex4 *( ":" hex4 )
/// ```
///
/// Read as RFC 4291 §2.2 writes addresses, plus the one form RFC 3261's grammar (inherited from
/// RFC 2373) derives and RFC 4291 does not: a `hexpart` ending in `::` followed by
/// `":" IPv4address`, i.e. three colons before an embedded IPv4 address
/// (`2001:db8:::192.0.2.1` for `2001:db8::192.0.2.1`). RFC 5118 §4.10
/// (`ipv6-bug-abnf-3-colons`): following the robustness principle an implementation must
/// tolerate both constructs, and may ignore the extra colon. So a `:::` directly before a
/// trailing dotted IPv4 address is read as `::`; a `:::` anywhere else, or a rewrite that is
/// still not an RFC 4291 address, is an error.
///
/// ```
/// use sipxfer::msg::{Host, Uri};
/// fn host(u: &str) -> Option<Host<&str>> {
///     match sipxfer::parse::parse_uri(u.as_bytes()) {
///         Ok(Uri::Sip(s)) => Some(s.host),
///         _ => None,
///     }
/// }
/// fn v6(a: &str) -> Option<Host<&'static str>> {
///     Some(Host::Ipv6(a.parse().unwrap()))
/// }
/// assert_eq!(host("sip:[2001:db8:::192.0.2.1]"), v6("2001:db8::192.0.2.1"));
/// assert_eq!(host("sip:[:::192.0.2.1]"), v6("::192.0.2.1"));
/// assert_eq!(host("sip:[2001:db8:::1]"), None); // not before an IPv4 address
/// assert_eq!(host("sip:[2001:db8::1:::192.0.2.1]"), None); // two "::" once rewritten
/// ```
fn ipv6_address(addr: &str) -> Option<Ipv6Addr> {
    if let Ok(a) = addr.parse() {
        return Some(a);
    }
    let a = addr.as_bytes();
    let at = a.windows(3).position(|w| w == b":::")?;
    let ipv4 = &a[at + 3..];
    if !ipv4.contains(&b'.') || ipv4.contains(&b':') {
        return None;
    }
    // The address without its third colon, on the stack (the longest address is 45 bytes).
    let mut buf = [0u8; 48];
    let n = a.len() - 1;
    if n > buf.len() {
        return None;
    }
    buf[..at + 2].copy_from_slice(&a[..at + 2]);
    buf[at + 2..n].copy_from_slice(ipv4);
    core::str::from_utf8(&buf[..n]).ok()?.parse().ok()
}

/// An `IPv4address` at the start of `i` and its length (what follows is not looked at).
#[inline]
fn ipv4_prefix(i: &[u8]) -> Option<(usize, Ipv4Addr)> {
    let mut octets = [0u8; 4];
    let mut k = 0;
    for (o, octet) in octets.iter_mut().enumerate() {
        if o > 0 {
            if i.get(k) != Some(&b'.') {
                return None;
            }
            k += 1;
        }
        let start = k;
        let mut n = 0u16;
        while let Some(d) = i.get(k).filter(|c| c.is_ascii_digit()) {
            if k - start == 3 {
                return None;
            }
            n = n * 10 + (d - b'0') as u16;
            k += 1;
        }
        if k == start {
            return None;
        }
        *octet = u8::try_from(n).ok()?;
    }
    Some((k, Ipv4Addr::from(octets)))
}

/// `IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT` (each at most 255); `h`
/// holds only digits and dots.
#[inline]
fn ipv4(h: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut k = 0;
    let (mut n, mut digits) = (0u16, 0);
    for &c in h {
        if c == b'.' {
            if digits == 0 || k == 3 {
                return None;
            }
            octets[k] = u8::try_from(n).ok()?;
            k += 1;
            (n, digits) = (0, 0);
        } else {
            digits += 1;
            if digits > 3 {
                return None;
            }
            n = n * 10 + (c - b'0') as u16;
        }
    }
    if digits == 0 || k != 3 {
        return None;
    }
    octets[3] = u8::try_from(n).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// `uri-parameters = *( ";" uri-parameter)`, `uri-parameter = pname [ "=" pvalue ]`
#[inline]
pub(crate) fn uri_params<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Params<C::S>> {
    let mut k = 0;
    let mut starts = Starts::EMPTY;
    while i.get(k) == Some(&b';') {
        starts.push(k + 1);
        let (_, name) = run1(&PARAMCHAR, &i[k + 1..])?;
        k += 1 + name.len();
        if i.get(k) == Some(&b'=') {
            let (_, value) = run1(&PARAMCHAR, &i[k + 1..])?;
            k += 1 + value.len();
        }
    }
    if k == 0 {
        return Ok((i, Params::default()));
    }
    let (raw, r) = i.split_at(k);
    // `paramchar` holds no white space, no control and no DEL: always canonical.
    starts.set_canonical();
    Ok((r, Params::from_parsed(c.s(raw)?, starts)))
}

/// `headers = "?" header *( "&" header )`, `header = hname "=" hvalue` (after the "?").
fn uri_headers<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, UriHeaders<C::S>> {
    let mut k = 0;
    loop {
        let (_, name) = run1(&HNV, &i[k..])?;
        k += name.len();
        if i.get(k) != Some(&b'=') {
            return fail(&i[k..]);
        }
        k += 1 + run(&HVALUE, &i[k + 1..]);
        if i.get(k) == Some(&b'&') {
            k += 1;
        } else {
            let (raw, r) = i.split_at(k);
            return Ok((r, UriHeaders::from_parsed(Rare::new(c.s(raw)?), Walk)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri<&str> {
        match parse_uri(s.as_bytes()).unwrap() {
            Uri::Sip(u) => u,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn forms() {
        let u = sip("sips:user:pw@example.com:5061;transport=tls;lr");
        assert!(u.secure);
        assert_eq!(u.password.as_deref(), Some(&"pw"));
        assert_eq!(u.param("lr"), Some(None));
        // The rare parts (a password, URI headers) boxed; an empty password and an empty
        // header list still written back as they came.
        for text in [
            "sip:user:@example.com",
            "sip:bob@example.com?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2&Subject=x",
            "sip:bob@example.com",
        ] {
            let owned = crate::msg::Uri::<crate::SipStr>::parse(text).unwrap();
            assert_eq!(crate::msg::emit::uri_to_string(&owned), text);
        }
        let u = sip("sip:bob@example.com?Replaces=a%40b&Subject=x");
        assert_eq!(u.headers.get("subject"), Some(Some("x")));
        assert_eq!(u.headers.iter().count(), 2);
        assert!(sip("sip:bob@example.com").headers.is_empty());
        assert!(sip("sip:user:@example.com").password.is_some());
        let u = sip("sip:192.0.2.1");
        assert_eq!(u.host, Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
        assert!(parse_uri(b"sip:256.0.0.1").is_err());
        // Host names: labels of host characters between single dots (a trailing dot is a
        // fully qualified name); digits and dots alone must be an IPv4 address.
        for (text, ok) in [
            ("sip:a.example.com.", true),
            ("sip:3com.example.com", true),
            ("sip:host-1_x.example.co.uk;lr", true),
            (
                "sip:a-very-long-label.with-many.dots-in-it.example.com",
                true,
            ),
            ("sip:.example.com", false),
            ("sip:a..example.com", false),
            ("sip:a-very-long-label..example.com", false),
            ("sip:a-very-long-label.example..com", false),
            ("sip:1.2.3", false),
            ("sip:1.2.3.4.5", false),
            ("sip:1..2.3", false),
        ] {
            assert_eq!(parse_uri(text.as_bytes()).is_ok(), ok, "{text}");
        }
        assert_eq!(
            sip("sip:3com.example.com").host,
            Host::Domain("3com.example.com")
        );
        assert!(parse_uri(b"sip:host:99999").is_err());
        assert!(parse_uri(b"sip:[::1").is_err());
        assert!(parse_uri(b"sip:a b@c").is_err());
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user, "user;par=u%40example.net");
        assert!(matches!(
            parse_uri(b"tel:+1-201-555-0123;phone-context=x").unwrap(),
            Uri::Tel(_)
        ));
        assert!(matches!(
            parse_uri(b"soap.beep://192.0.2.103:3002").unwrap(),
            Uri::Other {
                scheme: "soap.beep",
                ..
            }
        ));
    }

    #[test]
    fn comparison_rfc3261_19_1_4() {
        let eq = |a: &str, b: &str| sip(a).equivalent(&sip(b));
        // Equivalent pairs from §19.1.4.
        assert!(eq(
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
        ));
        assert!(eq(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
        ));
        // Non-equivalent pairs from §19.1.4.
        assert!(!eq(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com;transport=udp"
        ));
        assert!(!eq(
            "sip:bob@biloxi.com:6000;transport=tcp",
            "sip:bob@biloxi.com"
        ));
        assert!(!eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com?Subject=next%20meeting"
        ));
        assert!(!eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
        assert!(!eq(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;security=off"
        ));
    }
}
