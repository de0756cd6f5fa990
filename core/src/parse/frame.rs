//! Framing and the header index: the cheap first pass over a message.
//!
//! ```text
//! generic-message = start-line *message-header CRLF [ message-body ]   ; RFC 3261 §7
//! start-line      = Request-Line / Status-Line
//! message-header  = field-name HCOLON field-value CRLF               ; folded with LWS
//! HCOLON          = *( SP / HTAB ) ":" SWS
//! ```
//!
//! Datagrams (RFC 3261 §18.3): the body is Content-Length bytes; octets after it are ignored; a
//! body shorter than Content-Length is an error; without Content-Length the body runs to the
//! end of the datagram. Streams: Content-Length is mandatory, partial input asks for more bytes,
//! CRLF keep-alives between messages are skipped (RFC 5626 §3.5.1), any framing error is fatal
//! for the connection.

use super::chars::{is_lws, is_token, is_wsp};
use super::{ErrorKind, Limits, ParseError};
use crate::msg::HeaderName;
use bytes::{Buf, Bytes, BytesMut};
use smallvec::SmallVec;

/// The start line, split but not interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawStartLine<'a> {
    /// `Request-Line = Method SP Request-URI SP SIP-Version CRLF`
    Request {
        /// The method token (case-sensitive, RFC 3261 §7.1).
        method: &'a [u8],
        /// The Request-URI, unparsed.
        uri: &'a [u8],
        /// `SIP/<major>.<minor>`, checked for its shape only.
        version: &'a [u8],
    },
    /// `Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF`
    Response {
        /// `SIP/<major>.<minor>`, checked for its shape only.
        version: &'a [u8],
        /// The three-digit Status-Code.
        code: u16,
        /// The Reason-Phrase (may be empty).
        reason: &'a [u8],
    },
}

/// One header field: its name (looked up) and its raw value with the surrounding white space
/// removed. Folded values keep their CRLF + WSP inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawHeader<'a> {
    /// The name, looked up case-insensitively with compact forms.
    pub name: HeaderName,
    /// The name as written.
    pub name_raw: &'a [u8],
    /// The value, leading and trailing white space removed.
    pub value: &'a [u8],
    /// The value continues on a following line (`LWS` with a line end, RFC 3261 §7.3.1).
    pub folded: bool,
}

/// A framed message: start line, header index and body, all borrowed from the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage<'a> {
    /// The whole input the message was framed from (offsets in errors are relative to it).
    pub input: &'a [u8],
    /// The start line.
    pub start: RawStartLine<'a>,
    /// Header fields in order.
    pub headers: SmallVec<[RawHeader<'a>; 24]>,
    /// The body.
    pub body: &'a [u8],
    /// The Content-Length value, if the header was present.
    pub content_length: Option<usize>,
    /// Bytes of the input that belong to this message (start line to end of body).
    pub len: usize,
}

impl<'a> RawMessage<'a> {
    /// Frames a message received as one datagram (RFC 3261 §18.3).
    ///
    /// ```
    /// use sipxfer::parse::{Limits, RawMessage, RawStartLine};
    /// let m = RawMessage::parse(b"OPTIONS sip:b@example.com SIP/2.0\r\nl: 0\r\n\r\nextra", &Limits::default()).unwrap();
    /// assert!(matches!(m.start, RawStartLine::Request { method: b"OPTIONS", .. }));
    /// assert_eq!(m.body, b""); // octets after Content-Length are ignored
    /// ```
    pub fn parse(input: &'a [u8], limits: &Limits) -> Result<Self, ParseError> {
        let mut m = RawMessage::empty(input);
        m.fill(limits)?;
        Ok(m)
    }

    /// A message with nothing framed yet.
    #[inline]
    pub(crate) fn empty(input: &'a [u8]) -> Self {
        RawMessage {
            input,
            start: RawStartLine::Response {
                version: &[],
                code: 0,
                reason: &[],
            },
            headers: SmallVec::new(),
            body: &[],
            content_length: None,
            len: 0,
        }
    }

    /// Frames `self.input` in place (the header index is filled where it lies, not moved).
    pub(crate) fn fill(&mut self, limits: &Limits) -> Result<(), ParseError> {
        let input = self.input;
        if input.len() > limits.max_message_size {
            return Err(ParseError::new(
                ErrorKind::TooLarge(limits.max_message_size),
                limits.max_message_size,
            ));
        }
        let head = scan(input, limits, false, &mut self.headers)?;
        let rest = &input[head.end..];
        let body = match head.content_length {
            Some(cl) if cl > rest.len() => {
                return Err(ParseError::new(ErrorKind::BodyTruncated, input.len()))
            }
            Some(cl) => &rest[..cl],
            None => rest,
        };
        self.start = head.start;
        self.body = body;
        self.content_length = head.content_length;
        self.len = head.end + body.len();
        Ok(())
    }

    /// The first header with this name.
    pub fn header(&self, name: HeaderName) -> Option<&RawHeader<'a>> {
        self.headers.iter().find(|h| h.name == name)
    }
}

/// What [`frame_stream`] found at the front of a stream buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet for a whole message.
    NeedMore,
    /// `n` bytes of CRLF keep-alive to skip (RFC 5626 §3.5.1: a CRLFCRLF ping wants a CRLF pong).
    KeepAlive(usize),
    /// A whole message occupies the first `n` bytes.
    Message(usize),
}

/// Frames the front of a stream (TCP/TLS) buffer: RFC 3261 §18.3 with Content-Length required.
///
/// An `Err` is unrecoverable: the connection must be closed.
///
/// ```
/// use sipxfer::parse::{frame_stream, Frame, Limits};
/// let l = Limits::default();
/// assert_eq!(frame_stream(b"\r\n\r\nBYE", &l), Ok(Frame::KeepAlive(4)));
/// assert_eq!(frame_stream(b"BYE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nx", &l), Ok(Frame::NeedMore));
/// assert_eq!(frame_stream(b"BYE sip:a@b SIP/2.0\r\nl: 1\r\n\r\nxBYE", &l), Ok(Frame::Message(30)));
/// ```
pub fn frame_stream(buf: &[u8], limits: &Limits) -> Result<Frame, ParseError> {
    let ka = buf
        .iter()
        .take_while(|&&c| c == b'\r' || c == b'\n')
        .count();
    if ka > 0 {
        return Ok(Frame::KeepAlive(ka));
    }
    if buf.is_empty() {
        return Ok(Frame::NeedMore);
    }
    match scan_head(buf, limits) {
        Ok(head) => {
            let cl = head
                .content_length
                .ok_or(ParseError::new(ErrorKind::MissingContentLength, head.end))?;
            let total = head.end.saturating_add(cl);
            if total > limits.max_message_size {
                Err(ParseError::new(
                    ErrorKind::TooLarge(limits.max_message_size),
                    head.end,
                ))
            } else if total > buf.len() {
                Ok(Frame::NeedMore)
            } else {
                Ok(Frame::Message(total))
            }
        }
        Err(e) if e.kind == ErrorKind::Incomplete => {
            if buf.len() >= limits.max_message_size {
                Err(ParseError::new(
                    ErrorKind::TooLarge(limits.max_message_size),
                    limits.max_message_size,
                ))
            } else {
                Ok(Frame::NeedMore)
            }
        }
        Err(e) => Err(e),
    }
}

/// A buffering stream decoder: push bytes as they arrive, pull whole messages out.
///
/// Incremental: while a header section is incomplete it only looks at the new bytes for the
/// empty line, and once the head is complete it waits for the body length without rescanning,
/// so feeding a message one byte at a time costs linear, not quadratic, time.
///
/// ```
/// use sipxfer::parse::{Limits, StreamDecoder};
/// let mut d = StreamDecoder::new(Limits::default());
/// d.push(b"\r\n\r\nBYE sip:a@b SIP/2.0\r\nContent-Le");
/// assert_eq!(d.next_message().unwrap(), None);
/// d.push(b"ngth: 0\r\n\r\n");
/// let msg = d.next_message().unwrap().unwrap();
/// assert!(msg.starts_with(b"BYE "));
/// assert_eq!(d.keepalives(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct StreamDecoder {
    buf: BytesMut,
    limits: Limits,
    keepalives: u64,
    failed: Option<ParseError>,
    /// The buffered bytes when the decoder failed (for answering a malformed request).
    failed_bytes: Bytes,
    /// No empty line ends a header section before this offset.
    searched: usize,
    /// The whole length of the message at the front, once its head is complete.
    want: Option<usize>,
}

impl StreamDecoder {
    /// A decoder bounded by `limits` (it never buffers more than one message).
    pub fn new(limits: Limits) -> Self {
        StreamDecoder {
            buf: BytesMut::new(),
            limits,
            keepalives: 0,
            failed: None,
            failed_bytes: Bytes::new(),
            searched: 0,
            want: None,
        }
    }

    /// Appends received bytes. Ignored once the decoder has failed.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next whole message, `Ok(None)` if more bytes are needed. After an `Err` the
    /// connection must be closed; every later call returns the same error.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, ParseError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        loop {
            if let Some(want) = self.want {
                if self.buf.len() < want {
                    return Ok(None);
                }
                self.want = None;
                self.searched = 0;
                return Ok(Some(self.buf.split_to(want).freeze()));
            }
            let ka = self
                .buf
                .iter()
                .take_while(|&&c| c == b'\r' || c == b'\n')
                .count();
            if ka > 0 {
                self.keepalives += 1;
                self.buf.advance(ka);
                self.searched = 0;
                continue;
            }
            // Is there an empty line (LF, optional CR, LF) in the bytes not yet searched? The
            // start line holds no LF, so any empty line ends the header section.
            let new = &self.buf[self.searched.saturating_sub(2).min(self.buf.len())..];
            let complete =
                new.windows(2).any(|w| w == b"\n\n") || new.windows(3).any(|w| w == b"\n\r\n");
            if !complete {
                self.searched = self.buf.len();
                if self.buf.len() >= self.limits.max_message_size {
                    return self.fail(ParseError::new(
                        ErrorKind::TooLarge(self.limits.max_message_size),
                        self.limits.max_message_size,
                    ));
                }
                return Ok(None);
            }
            match frame_stream(&self.buf, &self.limits) {
                Ok(Frame::Message(n)) => self.want = Some(n),
                // Head complete, body incomplete: learn the total length once.
                Ok(Frame::NeedMore) => {
                    match scan_head(&self.buf, &self.limits).map(|h| (h.end, h.content_length)) {
                        Ok((end, Some(cl))) => self.want = Some(end + cl),
                        Ok((end, None)) => {
                            return self.fail(ParseError::new(ErrorKind::MissingContentLength, end))
                        }
                        Err(e) if e.kind == ErrorKind::Incomplete => {
                            self.searched = self.buf.len();
                            return Ok(None);
                        }
                        Err(e) => return self.fail(e),
                    }
                }
                Ok(Frame::KeepAlive(n)) => self.buf.advance(n),
                Err(e) => return self.fail(e),
            }
        }
    }

    fn fail(&mut self, e: ParseError) -> Result<Option<Bytes>, ParseError> {
        self.failed = Some(e);
        let mut buf = core::mem::take(&mut self.buf);
        buf.truncate(self.limits.max_message_size);
        self.failed_bytes = buf.freeze();
        Err(e)
    }

    /// After a failure: the bytes that were buffered (never more than one message limit),
    /// so that a malformed request can still be answered before the connection closes.
    pub fn failed_bytes(&self) -> &Bytes {
        &self.failed_bytes
    }

    /// Keep-alive runs (CRLF sequences between messages) skipped so far.
    pub fn keepalives(&self) -> u64 {
        self.keepalives
    }

    /// Bytes buffered but not yet returned.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// The start line of a message, its Content-Length and where its header section ends.
struct Head<'a> {
    start: RawStartLine<'a>,
    content_length: Option<usize>,
    end: usize,
}

/// Finds the next LF at or after `from`. A header line is short (a few dozen bytes): on
/// x86-64 memchr's SSE2 searcher, which every such CPU has and which inlines here, costs
/// ~20 instructions a line less than the dispatched search (AVX2, set up for long
/// haystacks, ~70 a line; BENCHMARKS.md).
#[inline]
fn find_lf(buf: &[u8], from: usize) -> Option<usize> {
    let hay = buf.get(from..)?;
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    let at = memchr::arch::x86_64::sse2::memchr::One::new(b'\n').and_then(|o| o.find(hay));
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    let at = memchr::memchr(b'\n', hay);
    at.map(|p| from + p)
}

/// Length of the token at the start of `b` (kept out of line: inside `scan` the loop counter
/// lives on the stack).
#[inline(never)]
fn token_len(b: &[u8]) -> usize {
    super::chars::run_len(b, &super::chars::TOKEN)
}

/// Strips one trailing CR.
#[inline]
fn strip_cr(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

fn scan_head<'a>(input: &'a [u8], limits: &Limits) -> Result<Head<'a>, ParseError> {
    scan(input, limits, false, &mut SmallVec::new())
}

/// The header section of a `message/sipfrag` body (RFC 3420 §2): the empty line, and even the
/// last CRLF, may be missing, so the end of the input also ends the head. The fields go into
/// `headers` (the caller's: a list of two dozen inline is a kilobyte, not moved back).
pub(crate) fn scan_fragment_head<'a>(
    input: &'a [u8],
    limits: &Limits,
    headers: &mut SmallVec<[RawHeader<'a>; 24]>,
) -> Result<(RawStartLine<'a>, usize), ParseError> {
    let h = scan(input, limits, true, headers)?;
    Ok((h.start, h.end))
}

/// `eof_ends`: the end of the input ends a line and the header section (sipfrag).
fn scan<'a>(
    input: &'a [u8],
    limits: &Limits,
    eof_ends: bool,
    headers: &mut SmallVec<[RawHeader<'a>; 24]>,
) -> Result<Head<'a>, ParseError> {
    // What running out of input means: more bytes needed, or (sipfrag) the end.
    let incomplete = ParseError::new(ErrorKind::Incomplete, input.len());
    let line_end = |from: usize| match find_lf(input, from) {
        Some(lf) => Ok(lf),
        None if eof_ends => Ok(input.len()),
        None => Err(incomplete),
    };
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    let mut pos = input
        .iter()
        .take_while(|&&c| c == b'\r' || c == b'\n')
        .count();
    if pos == input.len() {
        return Err(ParseError::new(ErrorKind::Empty, pos));
    }
    let lf = line_end(pos)?;
    let start = start_line(input, pos, strip_cr(&input[pos..lf]))?;
    pos = (lf + 1).min(input.len());

    headers.clear();
    let mut content_length = None;
    let mut vias = 0usize;
    loop {
        match input.get(pos) {
            None if eof_ends => break,
            None => return Err(ParseError::new(ErrorKind::Incomplete, pos)),
            Some(b'\n') => {
                pos += 1;
                break;
            }
            Some(b'\r') if input.get(pos + 1) == Some(&b'\n') => {
                pos += 2;
                break;
            }
            Some(b'\r') if pos + 1 == input.len() => {
                if eof_ends {
                    pos += 1;
                    break;
                }
                return Err(ParseError::new(ErrorKind::Incomplete, pos));
            }
            _ => {}
        }
        if headers.len() == limits.max_headers {
            return Err(ParseError::new(
                ErrorKind::TooManyHeaders(limits.max_headers),
                pos,
            ));
        }
        let line_start = pos;
        // field-name = token
        let name_len = token_len(&input[pos..]);
        if pos + name_len == input.len() && !eof_ends {
            return Err(incomplete);
        }
        if name_len == 0 {
            return Err(ParseError::new(ErrorKind::BadHeaderLine, pos));
        }
        let name_raw = &input[pos..pos + name_len];
        pos += name_len;
        // HCOLON = *( SP / HTAB ) ":" SWS (the colon usually follows the name at once)
        if input.get(pos) != Some(&b':') {
            while input.get(pos).is_some_and(|&c| is_wsp(c)) {
                pos += 1;
            }
            if pos == input.len() && !eof_ends {
                return Err(incomplete);
            }
            if input.get(pos) != Some(&b':') {
                return Err(ParseError::new(ErrorKind::BadHeaderLine, pos));
            }
        }
        pos += 1;
        // The value runs to the CRLF not followed by WSP (a fold continues it).
        let value_start = pos;
        let mut lf;
        let mut folded = false;
        loop {
            lf = line_end(pos)?;
            pos = (lf + 1).min(input.len());
            if !input.get(pos).is_some_and(|&c| is_wsp(c)) {
                break;
            }
            folded = true;
        }
        if pos - line_start > limits.max_header_len {
            return Err(ParseError::new(
                ErrorKind::HeaderTooLong(limits.max_header_len),
                line_start,
            ));
        }
        let value = trim_lws(&input[value_start..lf]);
        let name = HeaderName::from_bytes(name_raw);
        match name {
            HeaderName::ContentLength => {
                if content_length.is_some() {
                    return Err(ParseError::new(
                        ErrorKind::DuplicateHeader(HeaderName::ContentLength),
                        line_start,
                    ));
                }
                content_length = Some(
                    parse_content_length(value)
                        .ok_or(ParseError::new(ErrorKind::BadContentLength, value_start))?,
                );
            }
            HeaderName::Via => {
                vias += 1;
                if vias > limits.max_vias {
                    return Err(ParseError::new(
                        ErrorKind::TooManyVias(limits.max_vias),
                        line_start,
                    ));
                }
            }
            _ => {}
        }
        headers.push(RawHeader {
            name,
            name_raw,
            value,
            folded,
        });
    }
    Ok(Head {
        start,
        content_length,
        end: pos,
    })
}

/// Trims LWS (SP, HTAB, CR, LF) from both ends (index loops: a header value usually has one
/// space in front and the CR of its line behind).
#[inline]
pub(crate) fn trim_lws(v: &[u8]) -> &[u8] {
    let (mut start, mut end) = (0, v.len());
    while end > start && is_lws(v[end - 1]) {
        end -= 1;
    }
    while start < end && is_lws(v[start]) {
        start += 1;
    }
    &v[start..end]
}

/// `Content-Length = ( "Content-Length" / "l" ) HCOLON 1*DIGIT` (RFC 3261 §20.14), at most
/// 9 digits (a body cannot exceed any sane message limit anyway).
fn parse_content_length(v: &[u8]) -> Option<usize> {
    if v.is_empty() || v.len() > 9 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0usize, |n, &d| n * 10 + (d - b'0') as usize))
}

/// `SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT` (case-insensitive "SIP", RFC 3261 §7.1).
pub(crate) fn is_version(v: &[u8]) -> bool {
    if v.len() < 7 || !v[..4].eq_ignore_ascii_case(b"SIP/") {
        return false;
    }
    let rest = &v[4..];
    match rest.iter().position(|&c| c == b'.') {
        Some(dot) => {
            dot > 0
                && dot + 1 < rest.len()
                && rest[..dot].iter().all(u8::is_ascii_digit)
                && rest[dot + 1..].iter().all(u8::is_ascii_digit)
        }
        None => false,
    }
}

pub(crate) fn start_line<'a>(
    input: &'a [u8],
    at: usize,
    line: &'a [u8],
) -> Result<RawStartLine<'a>, ParseError> {
    let err = |kind, part: &[u8]| ParseError::new(kind, super::offset_in(input, part).max(at));
    if line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"SIP/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
        let sp = line
            .iter()
            .position(|&c| c == b' ')
            .ok_or(err(ErrorKind::BadStartLine, line))?;
        let version = &line[..sp];
        if !is_version(version) {
            return Err(err(ErrorKind::BadVersion, version));
        }
        let rest = &line[sp + 1..];
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits != 3 || rest.get(3).is_some_and(|&c| c != b' ') {
            return Err(err(ErrorKind::BadStatusCode, rest));
        }
        let code = rest[..3]
            .iter()
            .fold(0u16, |n, &d| n * 10 + (d - b'0') as u16);
        if code < 100 {
            return Err(err(ErrorKind::BadStatusCode, rest));
        }
        let reason = rest.get(4..).unwrap_or_default();
        if reason.iter().any(|&c| c < 0x20 && c != b'\t' || c == 0x7f) {
            return Err(err(ErrorKind::BadReasonPhrase, reason));
        }
        Ok(RawStartLine::Response {
            version,
            code,
            reason,
        })
    } else {
        // Request-Line = Method SP Request-URI SP SIP-Version CRLF
        let sp1 = line
            .iter()
            .position(|&c| c == b' ')
            .ok_or(err(ErrorKind::BadStartLine, line))?;
        let sp2 = line
            .iter()
            .rposition(|&c| c == b' ')
            .ok_or(err(ErrorKind::BadStartLine, line))?;
        let method = &line[..sp1];
        if method.is_empty() || !method.iter().all(|&c| is_token(c)) {
            return Err(err(ErrorKind::BadMethod, method));
        }
        if sp2 <= sp1 {
            return Err(err(ErrorKind::BadStartLine, line));
        }
        let version = &line[sp2 + 1..];
        if !is_version(version) {
            return Err(err(ErrorKind::BadVersion, version));
        }
        let uri = &line[sp1 + 1..sp2];
        if uri.is_empty() || uri.iter().any(|&c| c <= b' ' || c == 0x7f) {
            return Err(err(ErrorKind::BadRequestUri, uri));
        }
        Ok(RawStartLine::Request {
            method,
            uri,
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_lf_all_positions() {
        for n in 0..40 {
            for at in 0..n {
                let mut v = alloc::vec![b'a'; n];
                v[at] = b'\n';
                assert_eq!(find_lf(&v, 0), Some(at));
                assert_eq!(find_lf(&v, at + 1), None);
            }
        }
    }

    #[test]
    fn folding_and_trim() {
        let m = RawMessage::parse(
            b"OPTIONS sip:a@b SIP/2.0\r\nSubject: one\r\n  two \r\nl:0\r\n\r\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(m.headers[0].value, b"one\r\n  two");
        assert_eq!(m.content_length, Some(0));
    }

    #[test]
    fn bad_content_length_reported_where_its_value_starts() {
        let e = RawMessage::parse(
            b"OPTIONS sip:a@b SIP/2.0\r\nl:  x\r\n\r\n",
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadContentLength);
        assert_eq!(e.offset, 27);
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_headers: 1,
            ..Limits::default()
        };
        let e = RawMessage::parse(b"OPTIONS sip:a@b SIP/2.0\r\na: 1\r\nb: 2\r\n\r\n", &l);
        assert_eq!(e.unwrap_err().kind, ErrorKind::TooManyHeaders(1));
    }
}
