//! Typed header parsers (RFC 3261 §25.1 and §20; RFC 3515, 3891, 3892, 4488, 4538, 6665, 3326).
//!
//! Each parser takes one header field value, already delimited and trimmed by the framer, and
//! must consume all of it. Inside a value, CR and LF can only be part of a fold, so they count
//! as LWS.
//!
//! ```text
//! LWS   = [*WSP CRLF] 1*WSP      SWS = [LWS]
//! SEMI  = SWS ";" SWS            EQUAL = SWS "=" SWS
//! COMMA = SWS "," SWS            SLASH = SWS "/" SWS
//! LAQUOT = SWS "<"               RAQUOT = ">" SWS
//! generic-param  = token [ EQUAL gen-value ]
//! gen-value      = token / host / quoted-string
//! quoted-string  = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
//! quoted-pair    = "\" (%x00-09 / %x0B-0C / %x0E-7F)
//! ```

use super::chars::{is_lws, is_token, WORD};
use super::uri::{fail, host, port, text, uri, PResult};
use crate::msg::{
    CSeq, Contact, Event, Header, HeaderName, MediaType, Method, NameAddr, Params, Reason,
    ReferSub, Replaces, RetryAfter, SubscriptionState, TargetDialog, Values, Via, Warning,
};
use nom::bytes::complete::take_while1;
use nom::Parser;

/// Skips LWS.
#[inline]
pub(crate) fn sws(i: &[u8]) -> &[u8] {
    let n = i.iter().take_while(|&&c| is_lws(c)).count();
    &i[n..]
}

/// `SWS <c> SWS`
#[inline]
fn sep(i: &[u8], c: u8) -> PResult<'_, ()> {
    let r = sws(i);
    match r.first() {
        Some(&x) if x == c => Ok((sws(&r[1..]), ())),
        _ => fail(i),
    }
}

/// Is the next non-LWS byte `c`?
#[inline]
fn peek_sep(i: &[u8], c: u8) -> bool {
    sws(i).first() == Some(&c)
}

/// `token`
#[inline]
pub(crate) fn token(i: &[u8]) -> PResult<'_, &str> {
    let (r, t) = take_while1(is_token).parse(i)?;
    Ok((r, text(t)?))
}

/// `quoted-string`, returned with its quotes. Raw bytes other than CR/LF are accepted inside
/// (RFC 4475 §3.1.1.2 sends control characters in quoted-pairs).
pub(crate) fn quoted(i: &[u8]) -> PResult<'_, &str> {
    if i.first() != Some(&b'"') {
        return fail(i);
    }
    let mut k = 1;
    while let Some(&c) = i.get(k) {
        match c {
            b'"' => {
                let (q, r) = i.split_at(k + 1);
                return Ok((r, text(q)?));
            }
            // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
            b'\\' => match i.get(k + 1) {
                Some(&n) if n <= 0x7f && n != b'\r' && n != b'\n' => k += 2,
                _ => return fail(&i[k..]),
            },
            _ => k += 1,
        }
    }
    fail(i)
}

/// `gen-value = token / host / quoted-string` (a host may be an IPv6 address, bracketed or
/// not, as `received` carries it).
fn gen_value(i: &[u8]) -> PResult<'_, &str> {
    match i.first() {
        Some(b'"') => quoted(i),
        Some(b'[') => {
            let (r, _) = host(i)?;
            Ok((r, text(&i[..i.len() - r.len()])?))
        }
        _ => {
            let (r, t) = take_while1(|c: u8| is_token(c) || c == b':').parse(i)?;
            Ok((r, text(t)?))
        }
    }
}

/// `*( SEMI generic-param )`, kept as the span from the first `;` to the end of the last
/// parameter.
pub(crate) fn params(i: &[u8]) -> PResult<'_, Params<&str>> {
    let start = sws(i);
    if start.first() != Some(&b';') {
        return Ok((i, Params::default()));
    }
    let mut r = start;
    while peek_sep(r, b';') {
        let (r2, _) = sep(r, b';')?;
        let (r2, _) = take_while1(is_token).parse(r2)?;
        r = if peek_sep(r2, b'=') {
            let (r3, _) = sep(r2, b'=')?;
            gen_value(r3)?.0
        } else {
            r2
        };
    }
    let raw = text(&start[..start.len() - r.len()])?;
    Ok((r, Params::from_raw(raw)))
}

/// `( name-addr / addr-spec ) *( SEMI param )`
///
/// Without angle brackets the URI ends at the first `;`, `,`, `?` or LWS and any parameters
/// belong to the header (RFC 3261 §20.10).
pub(crate) fn name_addr(i: &[u8]) -> PResult<'_, NameAddr<&str>> {
    let (r, display) = display_name(i)?;
    let (r, uri) = if let Some(r) = r.strip_prefix(b"<") {
        let (r, u) = uri(r)?;
        match r.strip_prefix(b">") {
            Some(r) => (r, u),
            None => return fail(r),
        }
    } else {
        if display.is_some() {
            return fail(r);
        }
        let end = r
            .iter()
            .position(|&c| matches!(c, b';' | b',' | b'?') || is_lws(c))
            .unwrap_or(r.len());
        let (rest, u) = uri(&r[..end])?;
        if !rest.is_empty() {
            return fail(rest);
        }
        (&r[end..], u)
    };
    let (r, params) = params(r)?;
    Ok((
        r,
        NameAddr {
            display,
            uri,
            params,
        },
    ))
}

/// `display-name = *(token LWS) / quoted-string`, present only when followed by `<`.
fn display_name(i: &[u8]) -> PResult<'_, Option<&str>> {
    if i.first() == Some(&b'"') {
        let (r, q) = quoted(i)?;
        let r = sws(r);
        return if r.first() == Some(&b'<') {
            Ok((r, Some(q)))
        } else {
            fail(r)
        };
    }
    // *(token LWS) "<"
    let mut r = i;
    let mut end = 0;
    while let Ok((after, _)) = token(r) {
        end = i.len() - after.len();
        r = sws(after);
    }
    if r.first() == Some(&b'<') {
        let d = &i[..end];
        Ok((r, if d.is_empty() { None } else { Some(text(d)?) }))
    } else {
        Ok((i, None))
    }
}

/// `X *(COMMA X)`
fn list<'a, T>(
    i: &'a [u8],
    mut item: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> PResult<'a, Values<T>> {
    let (mut r, first) = item(i)?;
    let mut v = Values::new();
    v.push(first);
    while peek_sep(r, b',') {
        let (r2, _) = sep(r, b',')?;
        let (r2, x) = item(r2)?;
        v.push(x);
        r = r2;
    }
    Ok((r, v))
}

/// `[ X *(COMMA X) ]`
fn list0<'a, T>(
    i: &'a [u8],
    item: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> PResult<'a, Values<T>> {
    if i.is_empty() {
        Ok((i, Values::new()))
    } else {
        list(i, item)
    }
}

/// `via-parm = sent-protocol LWS sent-by *( SEMI via-params )`
fn via(i: &[u8]) -> PResult<'_, Via<&str>> {
    let (r, protocol) = token(i)?;
    let (r, _) = sep(r, b'/')?;
    let (r, version) = token(r)?;
    let (r, _) = sep(r, b'/')?;
    let (r, transport) = token(r)?;
    let r2 = sws(r);
    if r2.len() == r.len() {
        return fail(r);
    }
    let (r, host) = host(r2)?;
    let (r, port) = if peek_sep(r, b':') {
        let (r, _) = sep(r, b':')?;
        let (r, p) = port(r)?;
        (r, Some(p))
    } else {
        (r, None)
    };
    let (r, params) = params(r)?;
    Ok((
        r,
        Via {
            protocol,
            version,
            transport,
            host,
            port,
            params,
        },
    ))
}

/// `delta-seconds = 1*DIGIT`, as a u32 (more than 2^32-1 is an error, RFC 4475 §3.1.2.4).
fn u32_digits(i: &[u8]) -> PResult<'_, u32> {
    let (r, d) = take_while1(|c: u8| c.is_ascii_digit()).parse(i)?;
    let mut n: u32 = 0;
    for &c in d {
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add((c - b'0') as u32))
        {
            Some(n) => n,
            None => return fail(i),
        };
    }
    Ok((r, n))
}

fn method(i: &[u8]) -> PResult<'_, Method<&str>> {
    let (r, t) = take_while1(is_token).parse(i)?;
    Ok((
        r,
        Method::known(t).map_or_else(|| text(t).map(Method::Extension), Ok)?,
    ))
}

/// `CSeq = "CSeq" HCOLON 1*DIGIT LWS Method`
fn cseq(i: &[u8]) -> PResult<'_, CSeq<&str>> {
    let (r, seq) = u32_digits(i)?;
    let r2 = sws(r);
    if r2.len() == r.len() {
        return fail(r);
    }
    let (r, method) = method(r2)?;
    Ok((r, CSeq { seq, method }))
}

/// `callid = word [ "@" word ]`
pub(crate) fn call_id(i: &[u8]) -> PResult<'_, &str> {
    let w = |c: u8| WORD[c as usize];
    let n = i.iter().take_while(|&&c| w(c)).count();
    let mut end = n;
    if n > 0 && i.get(n) == Some(&b'@') {
        let m = i[n + 1..].iter().take_while(|&&c| w(c)).count();
        if m == 0 {
            return fail(&i[n..]);
        }
        end = n + 1 + m;
    }
    if end == 0 {
        return fail(i);
    }
    Ok((&i[end..], text(&i[..end])?))
}

/// `media-type = m-type SLASH m-subtype *(SEMI m-parameter)`
fn media_type(i: &[u8]) -> PResult<'_, MediaType<&str>> {
    let (r, ty) = token(i)?;
    let (r, _) = sep(r, b'/')?;
    let (r, subtype) = token(r)?;
    let (r, params) = params(r)?;
    Ok((
        r,
        MediaType {
            ty,
            subtype,
            params,
        },
    ))
}

/// `token *( SEMI generic-param )` — Event, Subscription-State, Reason, ...
fn token_params(i: &[u8]) -> PResult<'_, (&str, Params<&str>)> {
    let (r, t) = token(i)?;
    let (r, p) = params(r)?;
    Ok((r, (t, p)))
}

/// `callid *(SEMI param)` — Replaces, Target-Dialog.
fn callid_params(i: &[u8]) -> PResult<'_, (&str, Params<&str>)> {
    let (r, c) = call_id(i)?;
    let (r, p) = params(r)?;
    Ok((r, (c, p)))
}

/// How many parameters are named `name`.
fn count(ps: &Params<&str>, name: &str) -> usize {
    ps.iter()
        .filter(|p| p.name.eq_ignore_ascii_case(name))
        .count()
}

fn replaces(i: &[u8]) -> PResult<'_, Replaces<&str>> {
    let (r, (call_id, params)) = callid_params(i)?;
    // RFC 3891 §6.1: exactly one to-tag and exactly one from-tag, each with a value.
    let tagged =
        |n| count(&params, n) == 1 && params.get(n).flatten().is_some_and(|v| !v.is_empty());
    if !tagged("to-tag") || !tagged("from-tag") {
        return fail(i);
    }
    Ok((r, Replaces { call_id, params }))
}

fn target_dialog(i: &[u8]) -> PResult<'_, TargetDialog<&str>> {
    let (r, (call_id, params)) = callid_params(i)?;
    Ok((r, TargetDialog { call_id, params }))
}

/// `Refer-Sub = "Refer-Sub" HCOLON refer-sub-value *(SEMI exten)`,
/// `refer-sub-value = "true" / "false"` (RFC 4488 §4)
fn refer_sub(i: &[u8]) -> PResult<'_, ReferSub<&str>> {
    let (r, (t, params)) = token_params(i)?;
    let value = if t.eq_ignore_ascii_case("true") {
        true
    } else if t.eq_ignore_ascii_case("false") {
        false
    } else {
        return fail(i);
    };
    Ok((r, ReferSub { value, params }))
}

/// `warning-value = warn-code SP warn-agent SP warn-text`
fn warning(i: &[u8]) -> PResult<'_, Warning<&str>> {
    let (r, d) = take_while1(|c: u8| c.is_ascii_digit()).parse(i)?;
    if d.len() != 3 {
        return fail(i);
    }
    let code = d.iter().fold(0u16, |n, &c| n * 10 + (c - b'0') as u16);
    let r = r
        .strip_prefix(b" ")
        .map_or_else(|| fail(r), |r| Ok((r, ())))?
        .0;
    let (r, agent) =
        take_while1(|c: u8| is_token(c) || matches!(c, b':' | b'[' | b']')).parse(r)?;
    let r = r
        .strip_prefix(b" ")
        .map_or_else(|| fail(r), |r| Ok((r, ())))?
        .0;
    let (r, t) = quoted(r)?;
    Ok((
        r,
        Warning {
            code,
            agent: text(agent)?,
            text: t,
        },
    ))
}

/// `comment = LPAREN *(ctext / quoted-pair / comment) RPAREN`
fn comment(i: &[u8]) -> PResult<'_, &str> {
    if i.first() != Some(&b'(') {
        return fail(i);
    }
    let mut depth = 0usize;
    let mut k = 0;
    while let Some(&c) = i.get(k) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((&i[k + 1..], text(&i[..k + 1])?));
                }
            }
            b'\\' => k += 1,
            _ => {}
        }
        k += 1;
    }
    fail(i)
}

fn retry_after(i: &[u8]) -> PResult<'_, RetryAfter<&str>> {
    let (r, seconds) = u32_digits(i)?;
    let r2 = sws(r);
    let (r, comment) = if r2.first() == Some(&b'(') {
        let (r, c) = comment(r2)?;
        (r, Some(c))
    } else {
        (r, None)
    };
    let (r, params) = params(r)?;
    Ok((
        r,
        RetryAfter {
            seconds,
            comment,
            params,
        },
    ))
}

/// Parses one header value into its typed form. `Err` carries the position where the value
/// stopped matching its grammar.
pub(crate) fn typed<'a>(
    name: HeaderName,
    name_raw: &'a [u8],
    v: &'a [u8],
) -> Result<Header<&'a str>, &'a [u8]> {
    fn done<'a, T>(
        res: PResult<'a, T>,
        f: impl FnOnce(T) -> Header<&'a str>,
    ) -> Result<Header<&'a str>, &'a [u8]> {
        match res {
            Ok((r, x)) if sws(r).is_empty() => Ok(f(x)),
            Ok((r, _)) => Err(r),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e.input),
            Err(nom::Err::Incomplete(_)) => Err(&[]),
        }
    }
    match name {
        HeaderName::Via => done(list(v, via), Header::Via),
        HeaderName::From => done(name_addr(v), Header::From),
        HeaderName::To => done(name_addr(v), Header::To),
        HeaderName::CallId => done(call_id(v), Header::CallId),
        HeaderName::CSeq => done(cseq(v), Header::CSeq),
        HeaderName::MaxForwards => match u32_digits(v) {
            Ok((r, n)) if n <= 255 => done(Ok((r, n as u8)), Header::MaxForwards),
            Ok(_) => Err(v),
            Err(e) => done(Err(e), Header::MaxForwards),
        },
        HeaderName::Contact if v == b"*" => Ok(Header::Contact(Contact::Star)),
        HeaderName::Contact => done(list(v, name_addr), |a| Header::Contact(Contact::Addrs(a))),
        HeaderName::Route => done(list(v, name_addr), Header::Route),
        HeaderName::RecordRoute => done(list(v, name_addr), Header::RecordRoute),
        HeaderName::ContentType => done(media_type(v), Header::ContentType),
        HeaderName::Expires => done(u32_digits(v), Header::Expires),
        HeaderName::Require => done(list(v, token), Header::Require),
        HeaderName::ProxyRequire => done(list(v, token), Header::ProxyRequire),
        HeaderName::Supported => done(list0(v, token), Header::Supported),
        HeaderName::Unsupported => done(list(v, token), Header::Unsupported),
        HeaderName::Allow => done(list0(v, method), Header::Allow),
        HeaderName::Accept => done(list0(v, media_type), Header::Accept),
        HeaderName::Event => done(token_params(v), |(package, params)| {
            Header::Event(Event { package, params })
        }),
        HeaderName::AllowEvents => done(list(v, token), Header::AllowEvents),
        HeaderName::SubscriptionState => done(token_params(v), |(state, params)| {
            Header::SubscriptionState(SubscriptionState { state, params })
        }),
        HeaderName::ReferTo => done(name_addr(v), Header::ReferTo),
        HeaderName::ReferredBy => done(name_addr(v), Header::ReferredBy),
        HeaderName::Replaces => done(replaces(v), Header::Replaces),
        HeaderName::ReferSub => done(refer_sub(v), Header::ReferSub),
        HeaderName::TargetDialog => done(target_dialog(v), Header::TargetDialog),
        HeaderName::Reason => done(
            list(v, |i| {
                token_params(i).map(|(r, (protocol, params))| (r, Reason { protocol, params }))
            }),
            Header::Reason,
        ),
        HeaderName::Warning => done(list(v, warning), Header::Warning),
        HeaderName::RetryAfter => done(retry_after(v), Header::RetryAfter),
        HeaderName::Other => Ok(Header::Extension {
            name: core::str::from_utf8(name_raw).map_err(|_| name_raw)?,
            value: core::str::from_utf8(v).map_err(|_| v)?,
        }),
        _ => Ok(Header::Raw {
            name,
            value: core::str::from_utf8(v).map_err(|_| v)?,
        }),
    }
}
