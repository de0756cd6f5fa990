//! Where the parsers' strings come from and what they become.
//!
//! The parsers work on bytes and split only at ASCII bytes. When the whole head of a message is
//! valid UTF-8 (checked once, up front), every string they cut out of it is valid too, and
//! becomes a `&str` by slicing the validated text at the same offsets (a bounds and
//! char-boundary check, no rescan). Otherwise each string is validated on its own, exactly as
//! a per-token parser would, so errors are reported at the same place either way.
//!
//! A context also decides the string type of the result: `&str` for the zero-copy view,
//! [`SipStr`] (inline, or slices of the receive buffer) for the owned model, which is thus
//! built in one pass without an intermediate view.

use crate::text::{share_bytes, SipStr, Source, Text, Utf8, Wide, WIDE_INLINE};
use bytes::Bytes;
use nom::error::{Error, ErrorKind as NomKind};

/// A parser error (nom's, positioned at the failing input).
pub(crate) type PErr<'a> = nom::Err<Error<&'a [u8]>>;

/// `&[u8]` → `&str`, checked; fails only on invalid UTF-8.
#[inline]
pub(crate) fn text(b: &[u8]) -> Result<&str, PErr<'_>> {
    core::str::from_utf8(b).map_err(|_| nom::Err::Error(Error::new(b, NomKind::Char)))
}

/// The text of `b` when `b` lies inside `base` on char boundaries, with its offset.
#[inline]
fn str_in<'a>(base: &'a str, b: &[u8]) -> Option<(usize, &'a str)> {
    let off = (b.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
    base.get(off..off.checked_add(b.len())?).map(|s| (off, s))
}

/// Turns byte slices of the input into the strings of the model.
pub(crate) trait Ctx<'a>: Copy {
    /// The string type built.
    type S: Text;
    /// The string for `b` (a slice of the input), or an error at `b` if it is not UTF-8.
    fn s(self, b: &'a [u8]) -> Result<Self::S, PErr<'a>>;
    /// Checks that `b` is UTF-8, as [`Ctx::s`] would, without building anything.
    fn check(self, b: &'a [u8]) -> Result<(), PErr<'a>>;
    /// The body.
    fn body(self, b: &'a [u8]) -> <Self::S as Text>::Bytes;
    /// The head `b` as text held by a byte handle, `None` if it is not UTF-8.
    fn head(self, b: &'a [u8]) -> Option<Utf8<<Self::S as Text>::Bytes>>;
    /// `b` as a [`Wide`] string (a Via's parameters).
    #[inline]
    fn wide(self, b: &'a [u8]) -> Result<Wide<Self::S>, PErr<'a>> {
        self.s(b).map(Wide::text)
    }
}

/// Builds `&str` views.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    /// Validated text covering the input ("" if it is not UTF-8).
    base: &'a str,
}

impl<'a> View<'a> {
    /// A context for slices of `input` (validated once here).
    pub(crate) fn new(input: &'a [u8]) -> Self {
        View {
            base: core::str::from_utf8(input).unwrap_or(""),
        }
    }
}

impl<'a> Ctx<'a> for View<'a> {
    type S = &'a str;

    #[inline]
    fn s(self, b: &'a [u8]) -> Result<&'a str, PErr<'a>> {
        match str_in(self.base, b) {
            Some((_, s)) => Ok(s),
            None => text(b),
        }
    }

    #[inline]
    fn check(self, b: &'a [u8]) -> Result<(), PErr<'a>> {
        self.s(b).map(|_| ())
    }

    #[inline]
    fn body(self, b: &'a [u8]) -> &'a [u8] {
        b
    }

    #[inline]
    fn head(self, b: &'a [u8]) -> Option<Utf8<&'a [u8]>> {
        self.s(b).ok().map(Utf8::of_str)
    }
}

/// Builds [`SipStr`]s: short strings inline, longer ones slices of the receive buffer.
#[derive(Clone, Copy)]
pub(crate) struct Own<'a> {
    /// Validated text of `buf[..head]` ("" if it is not UTF-8).
    base: &'a str,
    src: &'a Source<'a>,
}

impl<'a> Own<'a> {
    /// A context for slices of `src`'s buffer, whose first `head` bytes are validated once
    /// here.
    pub(crate) fn new(src: &'a Source<'a>, head: usize) -> Self {
        Own {
            base: src
                .bytes()
                .get(..head)
                .and_then(|h| core::str::from_utf8(h).ok())
                .unwrap_or(""),
            src,
        }
    }
}

impl<'a> Ctx<'a> for Own<'a> {
    type S = SipStr;

    #[inline(always)]
    fn s(self, b: &'a [u8]) -> Result<SipStr, PErr<'a>> {
        if b.is_empty() {
            return Ok(SipStr::new());
        }
        match str_in(self.base, b) {
            Some((_, s)) => Ok(SipStr::share(self.src, s)),
            None => Ok(SipStr::share(self.src, text(b)?)),
        }
    }

    #[inline]
    fn check(self, b: &'a [u8]) -> Result<(), PErr<'a>> {
        match str_in(self.base, b) {
            Some(_) => Ok(()),
            None => text(b).map(|_| ()),
        }
    }

    #[inline]
    fn body(self, b: &'a [u8]) -> Bytes {
        share_bytes(self.src.bytes(), b)
    }

    #[inline]
    fn head(self, b: &'a [u8]) -> Option<Utf8<Bytes>> {
        let s = match str_in(self.base, b) {
            Some((_, s)) => s,
            None => text(b).ok()?,
        };
        Some(Utf8::share(self.src.bytes(), s))
    }

    /// Copied inline when it fits: no slice of the datagram (which would have to allocate
    /// its shared handle and be kept alive by the string).
    #[inline]
    fn wide(self, b: &'a [u8]) -> Result<Wide<SipStr>, PErr<'a>> {
        if b.len() > WIDE_INLINE {
            return self.s(b).map(Wide::text);
        }
        let s = match str_in(self.base, b) {
            Some((_, s)) => s,
            None => text(b)?,
        };
        Ok(Wide::new(s, |x| SipStr::from(x)))
    }
}
