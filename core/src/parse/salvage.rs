//! What can still be read from a request that failed to parse, so that it can be answered.
//!
//! RFC 3261 §8.2 asks a UAS to answer a malformed request it can identify (400 Bad Request,
//! 505 for another SIP version, 513 when too large), and §8.2.6 builds every response from the
//! request's Via, From, To, Call-ID and CSeq. This scan is deliberately lenient where the full
//! parser is strict: it ignores Content-Length, accepts a missing empty line and extra white
//! space in the Request-Line, and keeps those five header fields verbatim. It is bounded like
//! the parser: it never looks past [`Limits::max_message_size`] bytes, more than
//! [`Limits::max_headers`] lines or lines longer than [`Limits::max_header_len`].

use super::header::typed;
use super::Limits;
use crate::msg::{Header, HeaderName, Via};
use smallvec::SmallVec;

/// A malformed request's Request-Line and the header fields a response copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Salvaged<'a> {
    /// The method token, as written.
    pub method: &'a [u8],
    /// Is the version `SIP/2.0`?
    pub version_2_0: bool,
    /// Via, From, To, Call-ID and CSeq fields in order: name (looked up) and raw value.
    pub fields: SmallVec<[(HeaderName, &'a [u8]); 8]>,
    /// The first Via value, when it parses: where a response goes (§18.2.2).
    pub top_via: Option<Via<&'a str>>,
}

/// Reads the Request-Line and the header fields a response needs; `None` for anything that
/// is not a request (responses are never answered) or has no Via to answer to.
///
/// ```
/// use sipxfer::parse::{salvage::salvage_request, Limits};
/// let s = salvage_request(b"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
///     CSeq: 99999999999 OPTIONS\r\nl: -3\r\n\r\n", &Limits::default()).unwrap();
/// assert_eq!(s.method, b"OPTIONS");
/// assert_eq!(s.fields.len(), 2);
/// assert_eq!(s.top_via.unwrap().branch(), Some("z9hG4bK1"));
/// ```
pub fn salvage_request<'a>(input: &'a [u8], limits: &Limits) -> Option<Salvaged<'a>> {
    let input = &input[..input.len().min(limits.max_message_size)];
    let mut lines = Lines { input, pos: 0 };
    while input
        .get(lines.pos)
        .is_some_and(|&c| c == b'\r' || c == b'\n')
    {
        lines.pos += 1;
    }
    let first = lines.next()?;
    let mut parts = first
        .split(|&c| c == b' ' || c == b'\t')
        .filter(|p| !p.is_empty());
    let method = parts.next()?;
    if method.len() >= 4 && method[..4].eq_ignore_ascii_case(b"SIP/") {
        return None;
    }
    if !method.iter().all(|&c| super::chars::is_token(c)) {
        return None;
    }
    let version = parts.next_back()?;
    let version_2_0 = version.eq_ignore_ascii_case(b"SIP/2.0");

    let mut fields = SmallVec::new();
    let mut count = 0;
    // A header line, with its folded continuation lines.
    let mut current: Option<(usize, usize)> = None;
    let flush = |span: (usize, usize), fields: &mut SmallVec<[(HeaderName, &'a [u8]); 8]>| {
        let line = &input[span.0..span.1];
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            return;
        };
        let name = HeaderName::from_bytes(super::frame::trim_lws(&line[..colon]));
        if matches!(
            name,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
        ) && fields.len() < 32
        {
            fields.push((name, super::frame::trim_lws(&line[colon + 1..])));
        }
    };
    let mut start = lines.pos;
    while let Some(line) = lines.next() {
        count += 1;
        if line.is_empty() || count > limits.max_headers {
            break;
        }
        let end = start + line.len();
        match current {
            Some((s, _)) if line[0] == b' ' || line[0] == b'\t' => {
                if end - s <= limits.max_header_len {
                    current = Some((s, end));
                }
            }
            _ => {
                if let Some(span) = current.take() {
                    flush(span, &mut fields);
                }
                if line.len() <= limits.max_header_len {
                    current = Some((start, end));
                }
            }
        }
        start = lines.pos;
    }
    if let Some(span) = current {
        flush(span, &mut fields);
    }
    let top_via = fields
        .iter()
        .find(|(n, _)| *n == HeaderName::Via)
        .and_then(|&(_, v)| {
            // The first value of the first Via field.
            let first = v.split(|&c| c == b',').next().unwrap_or(v);
            match typed(HeaderName::Via, b"Via", super::frame::trim_lws(first)) {
                Ok(Header::Via(mut vs)) if !vs.is_empty() => Some(vs.remove(0)),
                _ => None,
            }
        });
    if !fields.iter().any(|(n, _)| *n == HeaderName::Via) {
        return None;
    }
    Some(Salvaged {
        method,
        version_2_0,
        fields,
        top_via,
    })
}

/// Lines split at LF, CR removed; the end of input ends the last line.
struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.input.len() {
            return None;
        }
        let rest = &self.input[self.pos..];
        let (line, used) = match rest.iter().position(|&c| c == b'\n') {
            Some(lf) => (&rest[..lf], lf + 1),
            None => (rest, rest.len()),
        };
        self.pos += used;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}
