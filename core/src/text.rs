//! String storage for the message model.
//!
//! Every typed value in [`crate::msg`] is generic over a [`Text`] type: the zero-copy wire view
//! uses `&'a str` borrowed from the datagram, the owned model uses [`SipStr`], a UTF-8 slice of a
//! reference-counted [`Bytes`] buffer. Converting a view into the owned model never copies text:
//! each `&str` becomes a slice of the buffer it was parsed from.

use alloc::string::String;
use bytes::Bytes;
use core::fmt;
use core::hash::Hash;
use core::ops::Deref;

/// A string handle the message model can be built from: `&str` (borrowed view) or [`SipStr`]
/// (owned, shares the receive buffer).
pub trait Text: Clone + fmt::Debug + Default + PartialEq + Eq + Hash + AsRef<str> {
    /// The matching byte-buffer handle, used for bodies (`&[u8]` or [`Bytes`]).
    type Bytes: Clone + fmt::Debug + PartialEq + Eq + AsRef<[u8]>;
}

impl<'a> Text for &'a str {
    type Bytes = &'a [u8];
}

impl Text for SipStr {
    type Bytes = Bytes;
}

/// An immutable UTF-8 string backed by [`Bytes`]: cloning and slicing are reference-count
/// operations, never copies.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SipStr(Bytes);

impl SipStr {
    /// An empty string.
    pub const fn new() -> Self {
        SipStr(Bytes::new())
    }

    /// Wraps a static string without copying.
    pub const fn from_static(s: &'static str) -> Self {
        SipStr(Bytes::from_static(s.as_bytes()))
    }

    /// Returns `s` as a slice of `buf` when `s` lies inside `buf` (no copy), otherwise copies it.
    pub fn share(buf: &Bytes, s: &str) -> Self {
        SipStr(share_bytes(buf, s.as_bytes()))
    }

    /// Wraps bytes the caller knows to be UTF-8 (a range of validated text).
    #[inline]
    pub(crate) fn from_utf8_slice(b: Bytes) -> Self {
        debug_assert!(core::str::from_utf8(&b).is_ok());
        SipStr(b)
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        // The only constructors take `&str`/`String`, so the bytes are always valid UTF-8; the
        // checked conversion keeps the crate free of `unsafe` and cannot fail.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The underlying buffer.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }
}

/// Returns `part` as a slice of `buf` when it lies inside `buf`, otherwise a copy of it.
pub(crate) fn share_bytes(buf: &Bytes, part: &[u8]) -> Bytes {
    if part.is_empty() {
        return Bytes::new();
    }
    let start = buf.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    if p >= start && p + part.len() <= start + buf.len() {
        buf.slice(p - start..p - start + part.len())
    } else {
        Bytes::copy_from_slice(part)
    }
}

impl Deref for SipStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SipStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for SipStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SipStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for SipStr {
    fn from(s: &str) -> Self {
        SipStr(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for SipStr {
    fn from(s: String) -> Self {
        SipStr(Bytes::from(s.into_bytes()))
    }
}

impl PartialEq<str> for SipStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SipStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Converts every string of a value from one [`Text`] type to another (see
/// [`Message::to_shared`](crate::msg::Message::to_shared)).
pub trait Convert<S: Text, T: Text> {
    /// Converts a string.
    fn text(&mut self, s: &S) -> T;
    /// Converts a byte buffer.
    fn bytes(&mut self, b: &S::Bytes) -> T::Bytes;
}

/// Converts a view borrowed from `buf` into [`SipStr`] slices of `buf`.
pub struct Share<'b>(pub &'b Bytes);

impl<'a> Convert<&'a str, SipStr> for Share<'_> {
    fn text(&mut self, s: &&'a str) -> SipStr {
        SipStr::share(self.0, s)
    }
    fn bytes(&mut self, b: &&'a [u8]) -> Bytes {
        share_bytes(self.0, b)
    }
}

impl Convert<SipStr, SipStr> for Share<'_> {
    fn text(&mut self, s: &SipStr) -> SipStr {
        s.clone()
    }
    fn bytes(&mut self, b: &Bytes) -> Bytes {
        b.clone()
    }
}
