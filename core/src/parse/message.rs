//! The full typed parse: a framed message ([`RawMessage`]) into the model of [`crate::msg`].
//!
//! Beyond each header's own grammar this checks what RFC 3261 asks of a whole message:
//! SIP/2.0 only (§7.1), the mandatory To, From, CSeq, Call-ID and Via (§8.1.1), one value for
//! header fields that are not comma-separated lists (§7.3.1), the CSeq method equal to the
//! request method (§8.1.1.5), and the Via count limit.

use super::ctx::{Ctx, View};
use super::frame::{scan_fragment_head, RawMessage, RawStartLine};
use super::header::typed_in;
use super::{offset_in, ErrorKind, Limits, ParseError};
use crate::msg::headers::{name_bit, Entry, Span};
use crate::msg::{Header, HeaderName, Headers, Message, Method, StartLine};
use alloc::vec::Vec;

/// Parses a datagram into a zero-copy `Message<&str>` (RFC 3261 §7, §18.3).
///
/// ```
/// use sipxfer::parse::{parse_message, Limits};
/// let m = parse_message(b"SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n\
///     From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: x@y\r\n\
///     CSeq: 93809824 REFER\r\nContent-Length: 0\r\n\r\n", &Limits::default()).unwrap();
/// assert_eq!(m.status(), Some(202));
/// assert_eq!(m.call_id(), Some("x@y"));
/// ```
pub fn parse_message<'a>(input: &'a [u8], limits: &Limits) -> Result<Message<&'a str>, ParseError> {
    let mut raw = RawMessage::empty(input);
    raw.fill(limits)?;
    message_from_raw(&raw, limits)
}

/// Is `v` exactly `SIP/2.0` (the protocol name is case-insensitive)?
fn is_sip_2_0(v: &[u8]) -> bool {
    v.len() == 7 && v[..4].eq_ignore_ascii_case(b"SIP/") && &v[4..] == b"2.0"
}

fn start<'a, C: Ctx<'a>>(
    c: C,
    input: &'a [u8],
    raw: &RawStartLine<'a>,
) -> Result<StartLine<C::S>, ParseError> {
    match *raw {
        RawStartLine::Request {
            method,
            uri,
            version,
        } => {
            if !is_sip_2_0(version) {
                return Err(ParseError::new(
                    ErrorKind::UnsupportedVersion,
                    offset_in(input, version),
                ));
            }
            let method = match Method::known(method) {
                Some(m) => m,
                None => Method::Extension(alloc::boxed::Box::new(c.s(method).map_err(|_| {
                    ParseError::new(ErrorKind::BadMethod, offset_in(input, method))
                })?)),
            };
            let uri = super::uri::parse_uri_in(c, uri).map_err(|e| {
                ParseError::new(ErrorKind::BadRequestUri, offset_in(input, uri) + e.offset)
            })?;
            Ok(StartLine::Request { method, uri })
        }
        RawStartLine::Response {
            version,
            code,
            reason,
        } => {
            if !is_sip_2_0(version) {
                return Err(ParseError::new(
                    ErrorKind::UnsupportedVersion,
                    offset_in(input, version),
                ));
            }
            let reason = c.s(reason).map_err(|_| {
                ParseError::new(ErrorKind::BadReasonPhrase, offset_in(input, reason))
            })?;
            Ok(StartLine::Response { code, reason })
        }
    }
}

/// Header fields that may appear at most once (RFC 3261 §7.3.1: only comma-separated list
/// headers may repeat).
fn singleton(name: HeaderName) -> bool {
    matches!(
        name,
        HeaderName::From
            | HeaderName::To
            | HeaderName::CallId
            | HeaderName::CSeq
            | HeaderName::MaxForwards
            | HeaderName::ContentType
            | HeaderName::Expires
            | HeaderName::Event
            | HeaderName::SubscriptionState
            | HeaderName::Replaces
            | HeaderName::ReferSub
            | HeaderName::TargetDialog
            | HeaderName::ReferredBy
            | HeaderName::RetryAfter
    )
}

/// The typed headers, which singletons were seen (`strict` only) and how many Via values.
struct Typed<S: crate::text::Text> {
    headers: Headers<S>,
    seen: u64,
    vias: usize,
}

/// How [`headers`] reads a message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A peer's message: whole-message checks (singletons), a field that does not parse is
    /// an error.
    Strict,
    /// A `message/sipfrag` body: no whole-message checks.
    Fragment,
    /// A request of ours read back from the bytes it was sent as (for its CANCEL, the ACK of
    /// a non-2xx, a challenge's retry, the 503 of a peer that could not be reached:
    /// [`crate::msg::Message::parse_sent`]): no whole-message checks, and a field the
    /// parser refuses (an application's `Expires: soon`) is kept as [`Header::Raw`], as
    /// written, rather than making the request unreadable.
    Sent,
}

/// Types the headers of `raw` one by one, as `mode` says.
fn headers<'a, C: Ctx<'a>>(
    c: C,
    input: &'a [u8],
    raw: &[super::RawHeader<'a>],
    limits: &Limits,
    mode: Mode,
    mut out: Vec<Entry<C::S>>,
) -> Result<Typed<C::S>, ParseError> {
    let strict = mode == Mode::Strict;
    // A list handed in (from [`crate::msg::pool`]) is used as is when it has room.
    out.clear();
    out.reserve_exact(raw.len());
    let mut seen = 0u64;
    let mut vias = 0usize;
    // The names the list holds (`Headers`' set: what lets an accessor skip an absent one).
    let mut names = 0u64;
    // Every field's line is a span of `input`: offsets fit in 32 bits when its length does
    // (a datagram always), and the framer cut each field from it, name before value.
    let base = input.as_ptr() as usize;
    let spans = u32::try_from(input.len()).is_ok();
    for h in raw {
        if h.name == HeaderName::ContentLength {
            continue;
        }
        // One bit per name, for the list's set of names and the singletons seen alike.
        let bit = name_bit(h.name);
        names |= bit;
        if strict && singleton(h.name) {
            if seen & bit != 0 {
                return Err(ParseError::new(
                    ErrorKind::DuplicateHeader(h.name),
                    offset_in(input, h.name_raw),
                ));
            }
            seen |= bit;
        }
        // The line as received, to be written back while the field is unchanged
        // (`crate::msg::headers`); a folded one is rendered instead.
        let line = if h.folded || !spans {
            Span::NONE
        } else {
            let from = (h.name_raw.as_ptr() as usize).wrapping_sub(base) as u32;
            let end = (h.value.as_ptr() as usize).wrapping_sub(base) as u32 + h.value.len() as u32;
            Span::of(from, end.wrapping_sub(from))
        };
        // Typed straight into `out` (no moves of the header on the way).
        let pushed = typed_in(c, h.name, h.name_raw, h.value, |header| {
            let n = match &header {
                Header::Via(v) => v.len(),
                _ => 0,
            };
            out.push(Entry { header, line });
            n
        });
        match pushed {
            Ok(0) => {}
            Ok(n) => {
                vias += n;
                if vias > limits.max_vias {
                    return Err(ParseError::new(
                        ErrorKind::TooManyVias(limits.max_vias),
                        offset_in(input, h.name_raw),
                    ));
                }
            }
            Err(at) => {
                if mode == Mode::Sent {
                    if let Ok(value) = c.s(h.value) {
                        let header = Header::Raw {
                            name: h.name,
                            value,
                        };
                        out.push(Entry { header, line });
                        continue;
                    }
                }
                let kind = if core::str::from_utf8(h.value).is_err() {
                    ErrorKind::InvalidUtf8
                } else {
                    ErrorKind::BadHeader(h.name)
                };
                let off = offset_in(input, at);
                return Err(ParseError::new(
                    kind,
                    if off == 0 {
                        offset_in(input, h.value)
                    } else {
                        off
                    },
                ));
            }
        }
    }
    // The lines lie in the head up to the end of the last one: one string for all.
    let end = raw
        .last()
        .map_or(0, |h| offset_in(input, h.value) + h.value.len());
    let text = input.get(..end).and_then(|t| c.head(t)).unwrap_or_default();
    Ok(Typed {
        headers: Headers::from_entries(out, text, names),
        seen,
        vias,
    })
}

/// Types a framed message.
pub fn message_from_raw<'a>(
    raw: &RawMessage<'a>,
    limits: &Limits,
) -> Result<Message<&'a str>, ParseError> {
    // The list allocated at its size at once (not grown from empty: a list of a dozen
    // fields is a few kilobytes, past the allocator's caches, and growing costs a step more).
    let list = Vec::with_capacity(raw.headers.len());
    message_in(View::new(head(raw)), raw, limits, list)
}

/// The start line and header section of a framed message.
pub(crate) fn head<'a>(raw: &RawMessage<'a>) -> &'a [u8] {
    let end = raw.len.saturating_sub(raw.body.len());
    raw.input.get(..end).unwrap_or_default()
}

/// Types a framed message, building its strings with `c`, its headers into `list` (empty, or
/// one of [`crate::msg::pool`]'s).
pub(crate) fn message_in<'a, C: Ctx<'a>>(
    c: C,
    raw: &RawMessage<'a>,
    limits: &Limits,
    list: Vec<Entry<C::S>>,
) -> Result<Message<C::S>, ParseError> {
    message_as(c, raw, limits, Mode::Strict, list)
}

/// [`message_in`], read as `mode` says ([`Mode::Strict`] or [`Mode::Sent`]).
pub(crate) fn message_as<'a, C: Ctx<'a>>(
    c: C,
    raw: &RawMessage<'a>,
    limits: &Limits,
    mode: Mode,
    list: Vec<Entry<C::S>>,
) -> Result<Message<C::S>, ParseError> {
    let input = raw.input;
    let start = start(c, input, &raw.start)?;
    let Typed {
        headers,
        seen,
        vias,
    } = headers(c, input, &raw.headers, limits, mode, list)?;
    let msg = Message {
        start,
        headers,
        body: c.body(raw.body),
    };
    if mode != Mode::Strict {
        // Ours, read back: what it holds was checked when it was sent (or written whole).
        return Ok(msg);
    }
    // RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are mandatory in requests;
    // Max-Forwards is not enforced so that RFC 2543 peers interoperate (RFC 4475 §3.4.1).
    // From, To, Call-ID and CSeq are singletons: `seen` says whether each was typed.
    let end = raw.len.saturating_sub(raw.body.len());
    let missing = |name| Err(ParseError::new(ErrorKind::MissingHeader(name), end));
    if vias == 0 {
        return missing(HeaderName::Via);
    }
    for name in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        if seen & name_bit(name) == 0 {
            return missing(name);
        }
    }
    if let (Some(method), Some(cseq)) = (msg.method(), msg.cseq()) {
        if !method.same(&cseq.method) {
            let at = raw
                .header(HeaderName::CSeq)
                .map_or(0, |h| offset_in(input, h.value));
            return Err(ParseError::new(ErrorKind::CSeqMismatch, at));
        }
    }
    Ok(msg)
}

/// Parses a `message/sipfrag` body (RFC 3420 §2):
///
/// ```text
/// sipfrag = [ start-line ] *message-header [ CRLF [ message-body ] ]
/// ```
///
/// The start line is required here (a refer NOTIFY always carries one, RFC 3515 §2.4.5); the
/// trailing CRLF may be missing, as many implementations send `SIP/2.0 200 OK` alone.
///
/// ```
/// let f = sipxfer::parse::parse_sipfrag(b"SIP/2.0 180 Ringing").unwrap();
/// assert_eq!(f.status(), Some(180));
/// ```
pub fn parse_sipfrag(input: &[u8]) -> Result<Message<&str>, ParseError> {
    let bad = |e: ParseError| ParseError::new(ErrorKind::BadSipfrag, e.offset);
    let limits = Limits::default();
    let mut raw = smallvec::SmallVec::new();
    let (raw_start, end) = scan_fragment_head(input, &limits, &mut raw).map_err(bad)?;
    let c = View::new(&input[..end]);
    let start = start(c, input, &raw_start).map_err(bad)?;
    let headers = headers(c, input, &raw, &limits, Mode::Fragment, Vec::new())
        .map_err(bad)?
        .headers;
    Ok(Message {
        start,
        headers,
        body: &input[end..],
    })
}
