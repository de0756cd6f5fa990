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

use super::chars::{HNV, HOST, PARAMCHAR, PASSWORD, URIC, USER};
use super::{ErrorKind, ParseError};
use crate::msg::{Host, Params, SipUri, TelUri, Uri, UriHeaders};
use core::net::{Ipv4Addr, Ipv6Addr};
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::opt;
use nom::error::{Error, ErrorKind as NomKind};
use nom::sequence::preceded;
use nom::{IResult, Parser};

pub(crate) type PResult<'a, T> = IResult<&'a [u8], T, Error<&'a [u8]>>;

/// A nom failure at `i`.
pub(crate) fn fail<T>(i: &[u8]) -> PResult<'_, T> {
    Err(nom::Err::Error(Error::new(i, NomKind::Verify)))
}

/// `&[u8]` → `&str`; the parsers only split at ASCII bytes, so this fails only on invalid
/// UTF-8 input.
#[inline]
pub(crate) fn text(b: &[u8]) -> Result<&str, nom::Err<Error<&[u8]>>> {
    core::str::from_utf8(b).map_err(|_| nom::Err::Error(Error::new(b, NomKind::Char)))
}

pub(crate) fn is_hnv(c: u8) -> bool {
    HNV[c as usize]
}

/// Parses a whole URI (nothing may follow it).
///
/// ```
/// use sipxfer::msg::{Host, Uri};
/// let u = sipxfer::parse::parse_uri(b"sip:alice@[2001:db8::1]:5070;transport=tcp?Subject=hi").unwrap();
/// let Uri::Sip(s) = u else { panic!() };
/// assert_eq!(s.user, Some("alice"));
/// assert!(matches!(s.host, Host::Ipv6(_)));
/// assert_eq!((s.port, s.param("transport"), s.header("subject")), (Some(5070), Some(Some("tcp")), Some("hi")));
/// ```
pub fn parse_uri(input: &[u8]) -> Result<Uri<&str>, ParseError> {
    match uri(input) {
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
fn scheme(i: &[u8]) -> PResult<'_, &[u8]> {
    let (r, s) = take_while1(|c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        .parse(i)?;
    if !s[0].is_ascii_alphabetic() {
        return fail(i);
    }
    Ok((r, s))
}

/// A URI, consuming as much input as its grammar allows (the caller delimits it).
pub(crate) fn uri(i: &[u8]) -> PResult<'_, Uri<&str>> {
    let (r, s) = scheme(i)?;
    let (r, _) = char(':').parse(r)?;
    if s.eq_ignore_ascii_case(b"sip") || s.eq_ignore_ascii_case(b"sips") {
        let (r, u) = sip_uri(r, s.len() == 4)?;
        Ok((r, Uri::Sip(u)))
    } else if s.eq_ignore_ascii_case(b"tel") {
        let (r, number) = take_while1(|c: u8| c != b';' && URIC[c as usize]).parse(r)?;
        let (r, params) = uri_params(r)?;
        Ok((
            r,
            Uri::Tel(TelUri {
                number: text(number)?,
                params,
            }),
        ))
    } else {
        let (r, opaque) = take_while1(|c: u8| URIC[c as usize]).parse(r)?;
        Ok((
            r,
            Uri::Other {
                scheme: text(s)?,
                opaque: text(opaque)?,
            },
        ))
    }
}

/// Everything after `sip:` / `sips:`.
pub(crate) fn sip_uri(i: &[u8], secure: bool) -> PResult<'_, SipUri<&str>> {
    // userinfo ends at the first "@" (user and password cannot hold a bare "@").
    let at = i
        .iter()
        .take_while(|&&c| USER[c as usize] || c == b':' || c == b'@')
        .position(|&c| c == b'@');
    let (mut r, mut user, mut password) = (i, None, None);
    if let Some(at) = at {
        let info = &i[..at];
        let (u, p) = match info.iter().position(|&c| c == b':') {
            Some(colon) => (&info[..colon], Some(&info[colon + 1..])),
            None => (info, None),
        };
        if u.is_empty() || !u.iter().all(|&c| USER[c as usize]) {
            return fail(i);
        }
        if let Some(p) = p {
            if !p.iter().all(|&c| PASSWORD[c as usize]) {
                return fail(p);
            }
            password = Some(text(p)?);
        }
        user = Some(text(u)?);
        r = &i[at + 1..];
    }
    let (r, (host, port)) = hostport(r)?;
    let (r, params) = uri_params(r)?;
    let (r, headers) = opt(preceded(char('?'), uri_headers)).parse(r)?;
    Ok((
        r,
        SipUri {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers: headers.unwrap_or_default(),
        },
    ))
}

/// `hostport = host [ ":" port ]`
pub(crate) fn hostport(i: &[u8]) -> PResult<'_, (Host<&str>, Option<u16>)> {
    let (r, h) = host(i)?;
    let (r, port) = opt(preceded(char(':'), port)).parse(r)?;
    Ok((r, (h, port)))
}

/// `port = 1*DIGIT` (at most 65535).
pub(crate) fn port(i: &[u8]) -> PResult<'_, u16> {
    let (r, d) = take_while1(|c: u8| c.is_ascii_digit()).parse(i)?;
    if d.len() > 5 {
        return fail(i);
    }
    let n = d.iter().fold(0u32, |n, &c| n * 10 + (c - b'0') as u32);
    match u16::try_from(n) {
        Ok(p) => Ok((r, p)),
        Err(_) => fail(i),
    }
}

/// `host = hostname / IPv4address / IPv6reference`
pub(crate) fn host(i: &[u8]) -> PResult<'_, Host<&str>> {
    if i.first() == Some(&b'[') {
        let end = match i.iter().position(|&c| c == b']') {
            Some(e) => e,
            None => return fail(i),
        };
        let addr = text(&i[1..end])?;
        return match addr.parse::<Ipv6Addr>() {
            Ok(a) => Ok((&i[end + 1..], Host::Ipv6(a))),
            Err(_) => fail(i),
        };
    }
    let (r, h) = take_while1(|c: u8| HOST[c as usize]).parse(i)?;
    let s = text(h)?;
    if h.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return match ipv4(h) {
            Some(a) => Ok((r, Host::Ipv4(a))),
            None => fail(i),
        };
    }
    // hostname: labels of alphanum / "-" separated by single dots.
    if h.starts_with(b".") || h.windows(2).any(|w| w == b"..") {
        return fail(i);
    }
    Ok((r, Host::Domain(s)))
}

/// `IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT` (each at most 255).
fn ipv4(h: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = h.split(|&c| c == b'.');
    for o in octets.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 {
            return None;
        }
        let n = p.iter().fold(0u16, |n, &d| n * 10 + (d - b'0') as u16);
        *o = u8::try_from(n).ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// `uri-parameters = *( ";" uri-parameter)`, `uri-parameter = pname [ "=" pvalue ]`
pub(crate) fn uri_params(i: &[u8]) -> PResult<'_, Params<&str>> {
    let mut r = i;
    while let Some(after) = r.strip_prefix(b";") {
        let (after, _) = take_while1(|c: u8| PARAMCHAR[c as usize]).parse(after)?;
        r = match after.strip_prefix(b"=") {
            Some(v) => take_while1(|c: u8| PARAMCHAR[c as usize]).parse(v)?.0,
            None => after,
        };
    }
    let raw = text(&i[..i.len() - r.len()])?;
    Ok((r, Params::from_raw(raw)))
}

/// `headers = "?" header *( "&" header )`, `header = hname "=" hvalue` (after the "?").
fn uri_headers(i: &[u8]) -> PResult<'_, UriHeaders<&str>> {
    let mut r = i;
    loop {
        let (r2, _) = take_while1(is_hnv).parse(r)?;
        let (r2, _) = char('=').parse(r2)?;
        let (r2, _) = take_while(is_hnv).parse(r2)?;
        match r2.strip_prefix(b"&") {
            Some(next) => r = next,
            None => {
                let raw = text(&i[..i.len() - r2.len()])?;
                return Ok((r2, UriHeaders::from_raw(raw)));
            }
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
        assert_eq!(u.password, Some("pw"));
        assert_eq!(u.param("lr"), Some(None));
        let u = sip("sip:192.0.2.1");
        assert_eq!(u.host, Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
        assert!(parse_uri(b"sip:256.0.0.1").is_err());
        assert!(parse_uri(b"sip:host:99999").is_err());
        assert!(parse_uri(b"sip:[::1").is_err());
        assert!(parse_uri(b"sip:a b@c").is_err());
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user, Some("user;par=u%40example.net"));
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
