//! Parsers over borrowed bytes (RFC 3261 §7 and §25; RFC 3420 sipfrag).
//!
//! Two levels:
//! - [`frame`]: framing + header index ([`RawMessage`]): start line, each header's name and raw
//!   value, the body delimited by Content-Length. No allocation beyond the index, no typed work.
//! - [`message`]: the full typed parse into the model of [`crate::msg`], as a zero-copy view
//!   (`Message<&str>`) or, through [`crate::msg::Message::parse`], the owned model.
//!
//! Every parser is bounded by [`Limits`] and reports failures as a [`ParseError`] carrying the
//! byte offset where parsing stopped. No input can make them panic.

pub(crate) mod chars;
pub(crate) mod ctx;
pub mod frame;
pub mod header;
pub mod message;
pub mod salvage;
pub mod uri;

#[cfg(test)]
mod header_tests;

pub use frame::{frame_stream, Frame, RawHeader, RawMessage, RawStartLine, StreamDecoder};
pub use message::{parse_message, parse_sipfrag};
pub use uri::parse_uri;

use crate::msg::HeaderName;

/// Resource limits for parsing. Going over one is a [`ParseError`], never a panic or an
/// allocation proportional to the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (start line + headers + body), in bytes. Default 65 535 (a UDP datagram).
    pub max_message_size: usize,
    /// Most header fields (lines, after unfolding). Default 128.
    pub max_headers: usize,
    /// Longest header field (name + value, folds included), in bytes. Default 8 192.
    pub max_header_len: usize,
    /// Most Via values (across all Via header fields). Default 64.
    pub max_vias: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 65_535,
            max_headers: 128,
            max_header_len: 8_192,
            max_vias: 64,
        }
    }
}

/// Why a message (or part of one) did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Nothing but CRLFs (a keep-alive), no message.
    #[error("no message (only line breaks)")]
    Empty,
    /// The header section is not terminated by an empty line.
    #[error("header section not terminated by an empty line")]
    Incomplete,
    /// The message is larger than [`Limits::max_message_size`].
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    /// More header fields than [`Limits::max_headers`].
    #[error("more than {0} header fields")]
    TooManyHeaders(usize),
    /// A header field longer than [`Limits::max_header_len`].
    #[error("header field longer than {0} bytes")]
    HeaderTooLong(usize),
    /// More Via values than [`Limits::max_vias`].
    #[error("more than {0} Via values")]
    TooManyVias(usize),
    /// The start line is neither a Request-Line nor a Status-Line.
    #[error("malformed start line")]
    BadStartLine,
    /// The method is not a token.
    #[error("malformed method")]
    BadMethod,
    /// The Request-URI is malformed.
    #[error("malformed Request-URI")]
    BadRequestUri,
    /// The SIP-Version is malformed.
    #[error("malformed SIP-Version")]
    BadVersion,
    /// A well-formed SIP-Version other than SIP/2.0 (answer 505, RFC 3261 §21.5.7).
    #[error("unsupported SIP-Version")]
    UnsupportedVersion,
    /// The Status-Code is not three digits.
    #[error("malformed Status-Code")]
    BadStatusCode,
    /// The Reason-Phrase is malformed.
    #[error("malformed Reason-Phrase")]
    BadReasonPhrase,
    /// A header line with no valid name or no colon.
    #[error("malformed header line")]
    BadHeaderLine,
    /// A header value that does not match its grammar.
    #[error("malformed {0} header")]
    BadHeader(HeaderName),
    /// A header that may appear once appears more than once (RFC 3261 §7.3.1).
    #[error("more than one {0} header")]
    DuplicateHeader(HeaderName),
    /// A header every request or response must carry is missing (RFC 3261 §8.1.1).
    #[error("missing {0} header")]
    MissingHeader(HeaderName),
    /// Content-Length is negative, not a number or too large.
    #[error("malformed Content-Length")]
    BadContentLength,
    /// A stream message without Content-Length (RFC 3261 §18.3 requires it on streams).
    #[error("Content-Length missing on a stream transport")]
    MissingContentLength,
    /// Fewer body bytes than Content-Length says.
    #[error("body shorter than Content-Length")]
    BodyTruncated,
    /// The CSeq method differs from the request method (RFC 3261 §8.1.1.5).
    #[error("CSeq method does not match the request method")]
    CSeqMismatch,
    /// Text that is not UTF-8 where the grammar wants UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// A URI that does not match RFC 3261 §19.1 / RFC 3966 / RFC 3986.
    #[error("malformed URI")]
    BadUri,
    /// A message/sipfrag body that is not a SIP start line (+ headers).
    #[error("malformed message/sipfrag")]
    BadSipfrag,
}

/// A parse failure: what went wrong and the byte offset (from the start of the input) where
/// parsing stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct ParseError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset into the parsed input.
    pub offset: usize,
}

impl ParseError {
    pub(crate) const fn new(kind: ErrorKind, offset: usize) -> Self {
        ParseError { kind, offset }
    }
}

/// Offset of `part` inside `base` (both must come from the same buffer; otherwise 0).
#[inline]
pub(crate) fn offset_in(base: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize)
        .checked_sub(base.as_ptr() as usize)
        .filter(|o| *o <= base.len())
        .unwrap_or(0)
}
