//! String storage for the message model.
//!
//! Every typed value in [`crate::msg`] is generic over a [`Text`] type: the zero-copy wire view
//! uses `&'a str` borrowed from the datagram, the owned model uses [`SipStr`]: short strings
//! (up to 23 bytes: tags, branches, hosts, tokens) inline, longer ones a UTF-8 slice of a
//! reference-counted [`Bytes`] buffer. Converting a view into the owned model copies at most
//! 23 bytes per string: each longer `&str` becomes a slice of the buffer it was parsed from.

use alloc::string::String;
use bytes::Bytes;
use core::fmt;
use core::hash::Hash;
use core::ops::Deref;

/// A string handle the message model can be built from: `&str` (borrowed view) or [`SipStr`]
/// (owned; short strings inline, longer ones share the receive buffer).
pub trait Text: Clone + fmt::Debug + Default + PartialEq + Eq + Hash + AsRef<str> {
    /// The matching byte-buffer handle, used for bodies (`&[u8]` or [`Bytes`]).
    type Bytes: Clone + fmt::Debug + PartialEq + Eq + AsRef<[u8]>;

    /// The UTF-8 bytes of the string.
    #[doc(hidden)]
    #[inline]
    fn utf8(&self) -> &[u8] {
        self.as_ref().as_bytes()
    }

    /// `&self[range]`, `None` off char boundaries.
    #[doc(hidden)]
    #[inline]
    fn part(&self, range: core::ops::Range<usize>) -> Option<&str> {
        self.as_ref().get(range)
    }
}

impl<'a> Text for &'a str {
    type Bytes = &'a [u8];
}

impl Text for SipStr {
    type Bytes = Bytes;
}

/// An immutable UTF-8 string: up to 23 bytes stored inline, longer strings as a slice of a
/// reference-counted [`Bytes`] buffer. Cloning and sharing copy at most 23 bytes; longer
/// strings are reference-count operations, never copies.
#[derive(Clone)]
pub struct SipStr(Repr);

/// Longest string stored inline (a [`SipStr`] stays the size of a [`Bytes`]).
const INLINE: usize = 23;

#[derive(Clone)]
enum Repr {
    /// The first `.0` bytes of `.1`.
    Inline(u8, [u8; INLINE]),
    Bytes(Bytes),
}

impl SipStr {
    /// An empty string.
    pub const fn new() -> Self {
        SipStr(Repr::Inline(0, [0; INLINE]))
    }

    /// Wraps a static string without copying.
    pub const fn from_static(s: &'static str) -> Self {
        SipStr(Repr::Bytes(Bytes::from_static(s.as_bytes())))
    }

    /// A copy of `s` when it is short, otherwise `s` as a slice of `buf` when it lies inside
    /// `buf` (no copy), or a copy.
    #[inline]
    pub fn share(buf: &Bytes, s: &str) -> Self {
        let b = s.as_bytes();
        if b.len() <= INLINE {
            // A fixed-size copy when the bytes after `s` are there to be copied along.
            let start = (b.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
            if let Some(w) = start
                .checked_add(INLINE)
                .and_then(|end| buf.get(start..end))
            {
                if let Ok(w) = <[u8; INLINE]>::try_from(w) {
                    return SipStr(Repr::Inline(b.len() as u8, w));
                }
            }
            return SipStr::copied(b);
        }
        SipStr(Repr::Bytes(share_bytes(buf, b)))
    }

    /// A copy of `b` (UTF-8).
    fn copied(b: &[u8]) -> Self {
        let mut w = [0u8; INLINE];
        match w.get_mut(..b.len()) {
            Some(dst) => {
                dst.copy_from_slice(b);
                SipStr(Repr::Inline(b.len() as u8, w))
            }
            None => SipStr(Repr::Bytes(Bytes::copy_from_slice(b))),
        }
    }

    /// The string.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        let b = self.as_bytes();
        debug_assert!(core::str::from_utf8(b).is_ok());
        // SAFETY: `SipStr` holds UTF-8 only. Every constructor takes a `&str` or a `String`
        // and stores either (a) its bytes — copied inline, or the same bytes of a `Bytes`
        // (`share_bytes` slices `buf` exactly where the `&str` lies, or copies it) — or
        // (b) for `share`'s fixed-size inline copy, a window of `buf` that starts at the
        // `&str`'s first byte, of which only the first `len` bytes (the `&str` itself, read
        // from the same memory) are ever read back. The representation is private and never
        // mutated after construction. Reading strings is the hot path of the model, so they
        // are not validated again here (the parsers validated them once, up front).
        unsafe { core::str::from_utf8_unchecked(b) }
    }

    /// The UTF-8 bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(len, w) => w.get(..*len as usize).unwrap_or_default(),
            Repr::Bytes(b) => b,
        }
    }
}

impl Default for SipStr {
    fn default() -> Self {
        SipStr::new()
    }
}

impl PartialEq for SipStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SipStr {}

impl PartialOrd for SipStr {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SipStr {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for SipStr {
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
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
        SipStr::copied(s.as_bytes())
    }
}

impl From<String> for SipStr {
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            return SipStr::copied(s.as_bytes());
        }
        SipStr(Repr::Bytes(Bytes::from(s.into_bytes())))
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

/// Longest string a [`Wide`] stores inline.
pub const WIDE_INLINE: usize = 62;

/// A string stored inline up to [`WIDE_INLINE`] bytes, otherwise as an `S`: the text of a
/// Via's parameters, which is longer than a [`SipStr`]'s 23 inline bytes on almost every
/// message — a request's `;branch=z9hG4bK…;rport` (37 bytes for a 16-character branch), a
/// response's with `;received=…;rport=…` (RFC 3581 §4) too. In a `SipStr` each would cost an
/// allocation when built, and when parsed a slice that pins the whole datagram (and makes it
/// allocate its shared handle); inline it costs neither, and the Via still fits in the space
/// a [`crate::msg::Header`] has for its largest variant.
#[derive(Clone)]
pub struct Wide<S>(WideRepr<S>);

/// Private: the inline bytes are UTF-8 because only [`Wide::new`] makes them.
#[derive(Clone)]
enum WideRepr<S> {
    /// Longer than [`WIDE_INLINE`]: the string type's own storage.
    Text(S),
    /// The first `.0` bytes of `.1` (UTF-8).
    Inline(u8, [u8; WIDE_INLINE]),
}

impl<S> Wide<S> {
    /// `s` held as itself, however short.
    pub fn text(s: S) -> Self {
        Wide(WideRepr::Text(s))
    }

    /// The string type's value when the string is held as one (not inline).
    pub fn as_text(&self) -> Option<&S> {
        match &self.0 {
            WideRepr::Text(s) => Some(s),
            WideRepr::Inline(..) => None,
        }
    }
}

impl<S: AsRef<str>> Wide<S> {
    /// A copy of `s` when it fits inline, else `long(s)`.
    pub fn new(s: &str, long: impl FnOnce(&str) -> S) -> Self {
        let b = s.as_bytes();
        let mut w = [0u8; WIDE_INLINE];
        match w.get_mut(..b.len()) {
            Some(dst) => {
                dst.copy_from_slice(b);
                Wide(WideRepr::Inline(b.len() as u8, w))
            }
            None => Wide::text(long(s)),
        }
    }

    /// The string.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            WideRepr::Text(s) => s.as_ref(),
            WideRepr::Inline(len, w) => {
                let b = w.get(..*len as usize).unwrap_or_default();
                debug_assert!(core::str::from_utf8(b).is_ok());
                // SAFETY: `Inline` is private to this module and only made by `Wide::new`,
                // from the bytes of a `&str` (the first `len` of them are read back, never
                // more), and never mutated after.
                unsafe { core::str::from_utf8_unchecked(b) }
            }
        }
    }

    /// Converts the storage of a string held as one (an inline one stays inline).
    pub fn map<T>(&self, f: impl FnOnce(&S) -> T) -> Wide<T> {
        match &self.0 {
            WideRepr::Text(s) => Wide(WideRepr::Text(f(s))),
            WideRepr::Inline(n, w) => Wide(WideRepr::Inline(*n, *w)),
        }
    }
}

impl<S: Default> Default for Wide<S> {
    fn default() -> Self {
        Wide(WideRepr::Inline(0, [0; WIDE_INLINE]))
    }
}

impl From<&str> for Wide<SipStr> {
    fn from(s: &str) -> Self {
        Wide::new(s, |x| SipStr::from(x))
    }
}

/// A string most values do not have, in the room of one pointer: an empty one holds nothing,
/// another its string type's value in a box. URI headers (`?Replaces=…` in an attended
/// transfer's Refer-To, rare anywhere else) are held so: every URI has room for them, and 32
/// bytes of it in every name-addr moved the headers of every message.
#[derive(Clone, Default)]
pub(crate) struct Rare<S>(Option<alloc::boxed::Box<S>>);

impl<S: AsRef<str>> Rare<S> {
    /// Holds `s` (nothing when it is empty).
    pub(crate) fn new(s: S) -> Self {
        match s.as_ref().is_empty() {
            true => Rare(None),
            false => Rare(Some(alloc::boxed::Box::new(s))),
        }
    }

    /// The string type's value, when there is one.
    pub(crate) fn as_text(&self) -> Option<&S> {
        self.0.as_deref()
    }

    /// The string (empty when there is none).
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_deref().map_or("", |s| s.as_ref())
    }
}

impl From<&str> for Rare<SipStr> {
    fn from(s: &str) -> Self {
        Rare::new(SipStr::from(s))
    }
}

/// What a string storage wrapped around a [`Text`] type is as text itself: a [`Text`],
/// compared, hashed and shown by its string, whatever holds it.
macro_rules! text_by_str {
    ($($t:ident),*) => {$(
        impl<S: Text> Text for $t<S> {
            type Bytes = S::Bytes;
        }

        impl<S: AsRef<str>> AsRef<str> for $t<S> {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl<S: AsRef<str>> PartialEq for $t<S> {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl<S: AsRef<str>> Eq for $t<S> {}

        impl<S: AsRef<str>> Hash for $t<S> {
            fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
                self.as_str().as_bytes().hash(h)
            }
        }

        impl<S: AsRef<str>> fmt::Debug for $t<S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }
    )*};
}

text_by_str!(Wide, Rare);

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
