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

use super::chars::{is_lws, run_len, GEN_VALUE, GEN_VALUE_EQ, TOKEN, WORD};
use super::ctx::Ctx;
use super::uri::{fail, host, port, run, run1, uri, PResult};
use crate::msg::param::{Starts, ViaParams};
use crate::msg::{
    CSeq, Contact, Event, Header, HeaderName, MediaType, Method, NameAddr, Params, Reason,
    ReferSub, Replaces, RetryAfter, SubscriptionState, TargetDialog, Via, Warning,
};
use smallvec::SmallVec;

/// Skips LWS.
#[inline]
pub(crate) fn sws(i: &[u8]) -> &[u8] {
    match i.first() {
        Some(&c) if is_lws(c) => {
            let n = i.iter().position(|&c| !is_lws(c)).unwrap_or(i.len());
            &i[n..]
        }
        _ => i,
    }
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
pub(crate) fn token<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, C::S> {
    let (r, t) = run1(&TOKEN, i)?;
    Ok((r, c.s(t)?))
}

/// The extent of a `quoted-string` (quotes included). Raw bytes other than CR/LF are accepted
/// inside (RFC 4475 §3.1.1.2 sends control characters in quoted-pairs).
#[inline]
fn quoted_span(i: &[u8]) -> PResult<'_, &[u8]> {
    if i.first() != Some(&b'"') {
        return fail(i);
    }
    let mut k = 1;
    while let Some(&c) = i.get(k) {
        match c {
            b'"' => {
                let (q, r) = i.split_at(k + 1);
                return Ok((r, q));
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

/// `quoted-string`, returned with its quotes.
#[inline]
pub(crate) fn quoted<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, C::S> {
    let (r, q) = quoted_span(i)?;
    Ok((r, c.s(q)?))
}

/// `gen-value = token / host / quoted-string` (a host may be an IPv6 address, bracketed or
/// not, as `received` carries it); checked, not built.
///
/// Liberal in what it accepts (RFC 3261 §1, "be liberal"): after its first character a token
/// value may also hold `=`, which no valid value contains and which cannot be mistaken for a
/// separator between `;` and `;`. linphone 5.1 sends `Subscription-State:
/// terminated;reason=reason=noresource` in the final NOTIFY of a transfer; refusing it would
/// lose the outcome of a transfer that succeeded. The value is kept as written.
#[inline]
fn gen_value<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, ()> {
    match i.first() {
        Some(b'"') => {
            let (r, q) = quoted_span(i)?;
            c.check(q)?;
            Ok((r, ()))
        }
        Some(b'[') => {
            let (r, _) = host(c, i)?;
            c.check(&i[..i.len() - r.len()])?;
            Ok((r, ()))
        }
        _ => {
            let n = run_len(i, &GEN_VALUE);
            if n == 0 {
                return fail(i);
            }
            let more = run_len(&i[n..], &GEN_VALUE_EQ);
            Ok((&i[n + more..], ()))
        }
    }
}

/// `*( SEMI generic-param )`, kept as the span from the first `;` to the end of the last
/// parameter.
#[inline]
pub(crate) fn params<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Params<C::S>> {
    let (r, (raw, starts)) = params_span(c, i)?;
    match raw {
        Some(raw) => Ok((r, Params::from_parsed(c.s(raw)?, starts))),
        None => Ok((r, Params::default())),
    }
}

/// [`params`] for a Via ([`ViaParams`]).
fn via_params<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, ViaParams<C::S>> {
    let (r, (raw, starts)) = params_span(c, i)?;
    match raw {
        Some(raw) => Ok((r, ViaParams::from_parsed(c.wide(raw)?, starts))),
        None => Ok((r, ViaParams::default())),
    }
}

/// The text of `*( SEMI param )` (none when `i` has no `;`) and where its names start.
#[inline]
#[allow(clippy::type_complexity)]
fn params_span<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, (Option<&'a [u8]>, Starts)> {
    let start = sws(i);
    if start.first() != Some(&b';') {
        return Ok((i, (None, Starts::EMPTY)));
    }
    let mut r = start;
    let mut starts = Starts::EMPTY;
    // Canonical so far: every separator without white space around it, no quoted value
    // (a quoted-string may hold spaces and escaped controls). Tokens and hosts hold neither.
    let mut canonical = true;
    loop {
        // SEMI token [ EQUAL gen-value ], with the usual no-white-space layout first.
        let r2 = match r.split_first() {
            Some((b';', after)) if !after.first().is_some_and(|&c| is_lws(c)) => after,
            _ if peek_sep(r, b';') => {
                canonical = false;
                sep(r, b';')?.0
            }
            _ => break,
        };
        starts.push(start.len() - r2.len());
        let (r2, _) = run1(&TOKEN, r2)?;
        r = match r2.split_first() {
            Some((b'=', v)) if !v.first().is_some_and(|&c| is_lws(c)) => {
                canonical &= v.first() != Some(&b'"');
                gen_value(c, v)?.0
            }
            _ if peek_sep(r2, b'=') => {
                canonical = false;
                let (r3, _) = sep(r2, b'=')?;
                gen_value(c, r3)?.0
            }
            _ => r2,
        };
    }
    if canonical {
        starts.set_canonical();
    }
    Ok((r, (Some(&start[..start.len() - r.len()]), starts)))
}

/// `( name-addr / addr-spec ) *( SEMI param )`
///
/// Without angle brackets the URI ends at the first `;`, `,`, `?` or LWS and any parameters
/// belong to the header (RFC 3261 §20.10).
#[inline]
pub(crate) fn name_addr<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, NameAddr<C::S>> {
    let (r, display) = display_name(c, i)?;
    // The URI: up to ">" in a name-addr, else up to the first ";", ",", "?" or LWS.
    let (inner, after) = match r.split_first() {
        Some((b'<', inner)) => (inner, None),
        _ if display.is_some() => return fail(r),
        _ => {
            let end = r
                .iter()
                .position(|&c| matches!(c, b';' | b',' | b'?') || is_lws(c))
                .unwrap_or(r.len());
            let (inner, after) = r.split_at(end);
            (inner, Some(after))
        }
    };
    let (rest, uri) = uri(c, inner)?;
    let r = match (after, rest.split_first()) {
        (None, Some((b'>', r))) => r,
        (Some(after), None) => after,
        _ => return fail(rest),
    };
    let (r, params) = params(c, r)?;
    Ok((
        r,
        NameAddr {
            display: display.unwrap_or_default(),
            uri,
            params,
        },
    ))
}

/// `display-name = *(token LWS) / quoted-string`, present only when followed by `<`.
#[inline]
fn display_name<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Option<C::S>> {
    match i.first() {
        Some(b'<') => return Ok((i, None)),
        Some(b'"') => {
            let (r, q) = quoted(c, i)?;
            let r = sws(r);
            return if r.first() == Some(&b'<') {
                Ok((r, Some(q)))
            } else {
                fail(r)
            };
        }
        _ => {}
    }
    // *(token LWS) "<"
    let mut r = i;
    let mut end = 0;
    loop {
        let n = run(&TOKEN, r);
        if n == 0 {
            break;
        }
        end = i.len() - r.len() + n;
        r = sws(&r[n..]);
    }
    if r.first() == Some(&b'<') {
        let d = &i[..end];
        Ok((r, if d.is_empty() { None } else { Some(c.s(d)?) }))
    } else {
        Ok((i, None))
    }
}

/// `X *(COMMA X)`
#[inline]
fn list<'a, T, A: smallvec::Array<Item = T>>(
    i: &'a [u8],
    mut item: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> PResult<'a, SmallVec<A>> {
    let (mut r, first) = item(i)?;
    let mut v = SmallVec::<A>::new();
    v.push(first);
    if peek_sep(r, b',') {
        // One allocation for the rest when they do not fit inline (an upper bound: a comma
        // may sit inside an item).
        let more = r.iter().filter(|&&c| c == b',').count();
        if v.len() + more > v.inline_size() {
            v.reserve_exact(more);
        }
    }
    while peek_sep(r, b',') {
        let (r2, _) = sep(r, b',')?;
        let (r2, x) = item(r2)?;
        v.push(x);
        r = r2;
    }
    Ok((r, v))
}

/// `[ X *(COMMA X) ]`
fn list0<'a, T, A: smallvec::Array<Item = T>>(
    i: &'a [u8],
    item: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> PResult<'a, SmallVec<A>> {
    if i.is_empty() {
        Ok((i, SmallVec::new()))
    } else {
        list(i, item)
    }
}

/// `via-parm = sent-protocol LWS sent-by *( SEMI via-params )`
#[inline]
fn via<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Via<C::S>> {
    // `sent-protocol = protocol-name SLASH protocol-version SLASH transport`: nearly always
    // `SIP/2.0/` as written here, whose two tokens need no scan.
    let (r, protocol, version) = match i.split_at_checked(8) {
        Some((head, rest)) if head == b"SIP/2.0/" => (sws(rest), c.s(&i[..3])?, c.s(&i[4..7])?),
        _ => {
            let (r, protocol) = token(c, i)?;
            let (r, _) = sep(r, b'/')?;
            let (r, version) = token(c, r)?;
            let (r, _) = sep(r, b'/')?;
            (r, protocol, version)
        }
    };
    let (r, transport) = token(c, r)?;
    let r2 = sws(r);
    if r2.len() == r.len() {
        return fail(r);
    }
    let (r, host) = host(c, r2)?;
    let (r, port) = if peek_sep(r, b':') {
        let (r, _) = sep(r, b':')?;
        let (r, p) = port(r)?;
        (r, Some(p))
    } else {
        (r, None)
    };
    let (r, params) = via_params(c, r)?;
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
    let len = i
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(i.len());
    if len == 0 {
        return fail(i);
    }
    let mut n: u32 = 0;
    for &c in &i[..len] {
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add((c - b'0') as u32))
        {
            Some(n) => n,
            None => return fail(i),
        };
    }
    Ok((&i[len..], n))
}

#[inline]
fn method<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Method<C::S>> {
    let (r, t) = run1(&TOKEN, i)?;
    Ok((
        r,
        Method::known(t).map_or_else(
            || c.s(t).map(|s| Method::Extension(alloc::boxed::Box::new(s))),
            Ok,
        )?,
    ))
}

/// `CSeq = "CSeq" HCOLON 1*DIGIT LWS Method`
#[inline]
fn cseq<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, CSeq<C::S>> {
    let (r, seq) = u32_digits(i)?;
    let r2 = sws(r);
    if r2.len() == r.len() {
        return fail(r);
    }
    let (r, method) = method(c, r2)?;
    Ok((r, CSeq { seq, method }))
}

/// `callid = word [ "@" word ]`
#[inline]
pub(crate) fn call_id<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, C::S> {
    let n = run(&WORD, i);
    let mut end = n;
    if n > 0 && i.get(n) == Some(&b'@') {
        let m = run(&WORD, &i[n + 1..]);
        if m == 0 {
            return fail(&i[n..]);
        }
        end = n + 1 + m;
    }
    if end == 0 {
        return fail(i);
    }
    Ok((&i[end..], c.s(&i[..end])?))
}

/// `media-type = m-type SLASH m-subtype *(SEMI m-parameter)`
fn media_type<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, MediaType<C::S>> {
    let (r, ty) = token(c, i)?;
    let (r, _) = sep(r, b'/')?;
    let (r, subtype) = token(c, r)?;
    let (r, params) = params(c, r)?;
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
fn token_params<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, (C::S, Params<C::S>)> {
    let (r, t) = token(c, i)?;
    let (r, p) = params(c, r)?;
    Ok((r, (t, p)))
}

/// `callid *(SEMI param)` — Replaces, Target-Dialog.
fn callid_params<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, (C::S, Params<C::S>)> {
    let (r, id) = call_id(c, i)?;
    let (r, p) = params(c, r)?;
    Ok((r, (id, p)))
}

fn replaces<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Replaces<C::S>> {
    let (r, (call_id, params)) = callid_params(c, i)?;
    // RFC 3891 §6.1: exactly one to-tag and exactly one from-tag, each with a value (one walk:
    // how many of each, and whether the first of each has a non-empty value).
    let (mut to, mut from) = ((0, false), (0, false));
    for p in params.iter() {
        let tag = if p.name.eq_ignore_ascii_case("to-tag") {
            &mut to
        } else if p.name.eq_ignore_ascii_case("from-tag") {
            &mut from
        } else {
            continue;
        };
        if tag.0 == 0 {
            tag.1 = p.unquoted().is_some_and(|v| !v.is_empty());
        }
        tag.0 += 1;
    }
    if to != (1, true) || from != (1, true) {
        return fail(i);
    }
    Ok((r, Replaces { call_id, params }))
}

fn target_dialog<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, TargetDialog<C::S>> {
    let (r, (call_id, params)) = callid_params(c, i)?;
    Ok((r, TargetDialog { call_id, params }))
}

/// `Refer-Sub = "Refer-Sub" HCOLON refer-sub-value *(SEMI exten)`,
/// `refer-sub-value = "true" / "false"` (RFC 4488 §4)
fn refer_sub<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, ReferSub<C::S>> {
    let (r, (t, params)) = token_params(c, i)?;
    let t = t.as_ref();
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
fn warning<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, Warning<C::S>> {
    let (r, d) = run1(&DIGIT, i)?;
    if d.len() != 3 {
        return fail(i);
    }
    let code = d.iter().fold(0u16, |n, &c| n * 10 + (c - b'0') as u16);
    let Some(r) = r.strip_prefix(b" ") else {
        return fail(r);
    };
    let n = r
        .iter()
        .position(|&c| !(TOKEN[c as usize] || matches!(c, b':' | b'[' | b']')))
        .unwrap_or(r.len());
    if n == 0 {
        return fail(r);
    }
    let (agent, r) = r.split_at(n);
    let Some(r) = r.strip_prefix(b" ") else {
        return fail(r);
    };
    let (r, q) = quoted_span(r)?;
    let text = c.s(q)?;
    Ok((
        r,
        Warning {
            code,
            agent: c.s(agent)?,
            text,
        },
    ))
}

/// `DIGIT`
static DIGIT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = true;
        c += 1;
    }
    t
};

/// `comment = LPAREN *(ctext / quoted-pair / comment) RPAREN`
fn comment<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, C::S> {
    if i.first() != Some(&b'(') {
        return fail(i);
    }
    let mut depth = 0usize;
    let mut k = 0;
    while let Some(&ch) = i.get(k) {
        match ch {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((&i[k + 1..], c.s(&i[..k + 1])?));
                }
            }
            b'\\' => k += 1,
            _ => {}
        }
        k += 1;
    }
    fail(i)
}

fn retry_after<'a, C: Ctx<'a>>(c: C, i: &'a [u8]) -> PResult<'a, RetryAfter<C::S>> {
    let (r, seconds) = u32_digits(i)?;
    let r2 = sws(r);
    let (r, comment) = if r2.first() == Some(&b'(') {
        let (r, x) = comment(c, r2)?;
        (r, Some(x))
    } else {
        (r, None)
    };
    let (r, params) = params(c, r)?;
    Ok((
        r,
        RetryAfter {
            seconds,
            comment,
            params,
        },
    ))
}

/// Parses one header value into its typed `&str` view. `Err` carries the position where the
/// value stopped matching its grammar.
pub(crate) fn typed<'a>(
    name: HeaderName,
    name_raw: &'a [u8],
    v: &'a [u8],
) -> Result<Header<&'a str>, &'a [u8]> {
    typed_in(super::ctx::View::new(v), name, name_raw, v, |h| h)
}

/// [`typed`], building its strings with `c` and handing the header to `k` (which can store it
/// where it belongs, without moving it around first). Always inlined into its two callers:
/// out of line, each field typed goes through `k` as a ~190-byte value copied on the way
/// (+3 % of a flow's instructions).
#[inline(always)]
pub(crate) fn typed_in<'a, C: Ctx<'a>, R>(
    c: C,
    name: HeaderName,
    name_raw: &'a [u8],
    v: &'a [u8],
    k: impl FnOnce(Header<C::S>) -> R,
) -> Result<R, &'a [u8]> {
    // Always inlined: a typed value (a name-addr is ~200 bytes) then goes from its parser
    // into the list without a copy on the way (0.6 % of a flow's instructions).
    #[inline(always)]
    fn done<'a, T, S: crate::text::Text, R>(
        res: PResult<'a, T>,
        f: impl FnOnce(T) -> Header<S>,
        k: impl FnOnce(Header<S>) -> R,
    ) -> Result<R, &'a [u8]> {
        match res {
            Ok((r, x)) if sws(r).is_empty() => Ok(k(f(x))),
            Ok((r, _)) => Err(r),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e.input),
            Err(nom::Err::Incomplete(_)) => Err(&[]),
        }
    }
    let tok = |i| token(c, i);
    let na = |i| name_addr(c, i);
    match name {
        HeaderName::Via => done(list(v, |i| via(c, i)), Header::Via, k),
        HeaderName::From => done(name_addr(c, v), Header::From, k),
        HeaderName::To => done(name_addr(c, v), Header::To, k),
        HeaderName::CallId => done(call_id(c, v), Header::CallId, k),
        HeaderName::CSeq => done(cseq(c, v), Header::CSeq, k),
        HeaderName::MaxForwards => match u32_digits(v) {
            Ok((r, n)) if n <= 255 => done(Ok((r, n as u8)), Header::MaxForwards, k),
            Ok(_) => Err(v),
            Err(e) => done(Err(e), Header::MaxForwards, k),
        },
        HeaderName::Contact if v == b"*" => Ok(k(Header::Contact(Contact::Star))),
        HeaderName::Contact => done(list(v, na), |a| Header::Contact(Contact::Addrs(a)), k),
        HeaderName::Route => done(list(v, na), Header::Route, k),
        HeaderName::RecordRoute => done(list(v, na), Header::RecordRoute, k),
        HeaderName::ContentType => done(media_type(c, v), Header::ContentType, k),
        HeaderName::Expires => done(u32_digits(v), Header::Expires, k),
        HeaderName::Require => done(list(v, tok), Header::Require, k),
        HeaderName::ProxyRequire => done(list(v, tok), Header::ProxyRequire, k),
        HeaderName::Supported => done(list0(v, tok), Header::Supported, k),
        HeaderName::Unsupported => done(list(v, tok), Header::Unsupported, k),
        HeaderName::Allow => done(list0(v, |i| method(c, i)), Header::Allow, k),
        HeaderName::Accept => done(list0(v, |i| media_type(c, i)), Header::Accept, k),
        HeaderName::Event => done(
            token_params(c, v),
            |(package, params)| Header::Event(Event { package, params }),
            k,
        ),
        HeaderName::AllowEvents => done(list(v, tok), Header::AllowEvents, k),
        HeaderName::SubscriptionState => done(
            token_params(c, v),
            |(state, params)| Header::SubscriptionState(SubscriptionState { state, params }),
            k,
        ),
        HeaderName::ReferTo => done(name_addr(c, v), Header::ReferTo, k),
        HeaderName::ReferredBy => done(name_addr(c, v), Header::ReferredBy, k),
        HeaderName::Replaces => done(replaces(c, v), Header::Replaces, k),
        HeaderName::ReferSub => done(refer_sub(c, v), Header::ReferSub, k),
        HeaderName::TargetDialog => done(target_dialog(c, v), Header::TargetDialog, k),
        HeaderName::Reason => done(
            list(v, |i| {
                token_params(c, i).map(|(r, (protocol, params))| (r, Reason { protocol, params }))
            }),
            Header::Reason,
            k,
        ),
        HeaderName::Warning => done(list(v, |i| warning(c, i)), Header::Warning, k),
        HeaderName::RetryAfter => done(retry_after(c, v), Header::RetryAfter, k),
        HeaderName::Other => Ok(k(Header::Extension {
            name: c.s(name_raw).map_err(|_| name_raw)?,
            value: c.s(v).map_err(|_| v)?,
        })),
        _ => Ok(k(Header::Raw {
            name,
            value: c.s(v).map_err(|_| v)?,
        })),
    }
}
