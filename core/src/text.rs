//! String storage for the message model.
//!
//! Every typed value in [`crate::msg`] is generic over a [`Text`] type: the zero-copy wire view
//! uses `&'a str` borrowed from the datagram, the owned model uses [`SipStr`] (24 bytes): short
//! strings (up to 22 bytes: tags, hosts, tokens, Call-IDs of most user agents) inline, longer
//! ones a UTF-8 slice of the [`Bytes`] buffer they were parsed from, counted. Converting a view
//! into the owned model copies at most 22 bytes per string: each longer `&str` becomes a slice
//! of the buffer it was parsed from.

use alloc::string::String;
#[cfg(target_has_atomic = "ptr")]
use alloc::sync::Arc;
use bytes::Bytes;
#[cfg(target_has_atomic = "ptr")]
use core::cell::OnceCell;
use core::fmt;
use core::hash::Hash;
use core::ops::Deref;

/// A string handle the message model can be built from: `&str` (borrowed view) or [`SipStr`]
/// (owned; short strings inline, longer ones share the receive buffer).
///
/// Sealed: the crate's own types only (the head of a message is read back as text without
/// being checked again, which is sound for the byte handles those types use, `&[u8]` and
/// [`Bytes`], and for no other one can it be known to be).
///
/// ```compile_fail
/// #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
/// struct Mine(String);
/// impl AsRef<str> for Mine {
///     fn as_ref(&self) -> &str {
///         &self.0
///     }
/// }
/// impl sipxfer::text::Text for Mine {
///     type Bytes = bytes::Bytes;
/// }
/// ```
pub trait Text:
    sealed::Sealed + Clone + fmt::Debug + Default + PartialEq + Eq + Hash + AsRef<str>
{
    /// The matching byte-buffer handle, used for bodies and for the head a message's fields'
    /// lines lie in (`&[u8]` or [`Bytes`]).
    type Bytes: Clone + fmt::Debug + Default + PartialEq + Eq + AsRef<[u8]>;

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

mod sealed {
    /// Implemented by the [`super::Text`] types of this crate only.
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for super::SipStr {}
    impl<S: super::Text> Sealed for super::Wide<S> {}
    impl<S: super::Text> Sealed for super::Rare<S> {}
}

impl<'a> Text for &'a str {
    type Bytes = &'a [u8];
}

impl Text for SipStr {
    type Bytes = Bytes;
}

/// An immutable UTF-8 string in 24 bytes: up to 22 bytes stored inline; a longer string as a
/// slice of the datagram it was parsed from (a counted handle on the datagram's [`Bytes`],
/// made once per message and shared by its long strings, and the slice's bounds), or a
/// counted string of its own (a copy). Cloning copies at most 22 bytes; a longer string's
/// clone is a reference-count operation, never a copy.
///
/// (A string is in every field of every message, so its size is much of what a message is
/// made of: a name-addr holds five, a Via four. A [`Bytes`] handle is 32 bytes; a pointer to
/// a counted [`Bytes`] with the slice's bounds is 16, and the inline form fits beside its
/// tag in 24.)
#[derive(Clone)]
pub struct SipStr(Repr);

/// Longest string stored inline (a [`SipStr`] stays 24 bytes).
const INLINE: usize = 22;

/// On targets without atomic compare-and-swap (thumbv6m, riscv32imc: `bytes` through
/// `portable-atomic`) there is no `Arc`: a longer string is a [`Bytes`] there, a slice of its
/// datagram or a copy — 16 bytes on those 32-bit chips, so a `SipStr` is 24 bytes as well.
#[derive(Clone)]
enum Repr {
    /// The first `.0` bytes of `.1`.
    Inline(u8, [u8; INLINE]),
    /// `len` bytes of `buf` from `start`: a slice of a datagram.
    #[cfg(target_has_atomic = "ptr")]
    Shared {
        buf: Arc<Bytes>,
        start: u32,
        len: u32,
    },
    /// A string of its own (one allocation, counted).
    #[cfg(target_has_atomic = "ptr")]
    Owned(Arc<str>),
    /// A slice of a datagram, or a string of its own.
    #[cfg(not(target_has_atomic = "ptr"))]
    Bytes(Bytes),
}

/// A buffer whose long strings are being shared: the buffer, and the counted handle on it
/// that every slice taken of it holds, made at the first slice (a message whose strings are
/// all short never makes it).
pub(crate) struct Source<'b> {
    buf: &'b Bytes,
    #[cfg(target_has_atomic = "ptr")]
    counted: OnceCell<Arc<Bytes>>,
    /// A handle an earlier source made, to be made again rather than allocated anew.
    #[cfg(target_has_atomic = "ptr")]
    spare: core::cell::Cell<Option<Arc<Bytes>>>,
}

/// A counted handle a [`Source`] made, kept for the next one ([`Source::reusing`]); nothing
/// on a target without atomic pointers (its slices are byte handles of their own).
#[cfg(target_has_atomic = "ptr")]
pub(crate) type Spare = Option<Arc<Bytes>>;
/// A counted handle a [`Source`] made, kept for the next one ([`Source::reusing`]); nothing
/// on a target without atomic pointers (its slices are byte handles of their own).
#[cfg(not(target_has_atomic = "ptr"))]
pub(crate) type Spare = ();

impl<'b> Source<'b> {
    /// A source of slices of `buf`.
    pub(crate) fn new(buf: &'b Bytes) -> Self {
        Source::reusing(buf, Spare::default())
    }

    /// A source of slices of `buf` that makes its counted handle, if it needs one, of
    /// `spare` (what [`Source::into_spare`] gave back of an earlier source) when nothing
    /// holds that one any more: the strings of the message it was made for have all been
    /// dropped. An endpoint handles its messages one at a time and lets most go before the
    /// next, so that a peer whose Call-IDs or tags are over 22 bytes (pjsip's, Asterisk's:
    /// 36) costs one handle, not one a message.
    #[cfg(target_has_atomic = "ptr")]
    pub(crate) fn reusing(buf: &'b Bytes, spare: Spare) -> Self {
        Source {
            buf,
            counted: OnceCell::new(),
            spare: core::cell::Cell::new(spare),
        }
    }

    /// [`Source::new`]: no handle to reuse on this target.
    #[cfg(not(target_has_atomic = "ptr"))]
    pub(crate) fn reusing(buf: &'b Bytes, (): Spare) -> Self {
        Source { buf }
    }

    /// The handle this source made, else the spare it was given: for the next source (it
    /// holds its datagram until then, or until [`crate::msg::pool::HeaderPool::let_go`]).
    #[cfg(target_has_atomic = "ptr")]
    pub(crate) fn into_spare(self) -> Spare {
        self.counted
            .into_inner()
            .or_else(|| self.spare.into_inner())
    }

    /// Nothing on this target.
    #[cfg(not(target_has_atomic = "ptr"))]
    pub(crate) fn into_spare(self) -> Spare {}

    /// The buffer.
    #[inline]
    pub(crate) fn bytes(&self) -> &'b Bytes {
        self.buf
    }

    /// `s` as a slice of the buffer (when it lies inside it and the bounds fit 32 bits).
    fn slice(&self, s: &[u8]) -> Option<SipStr> {
        let range = range_in(self.buf, s)?;
        #[cfg(target_has_atomic = "ptr")]
        {
            let start = u32::try_from(range.start).ok()?;
            let len = u32::try_from(s.len()).ok()?;
            let buf = self
                .counted
                .get_or_init(|| match self.spare.take() {
                    Some(mut spare) => {
                        match Arc::get_mut(&mut spare) {
                            Some(b) => *b = self.buf.clone(),
                            None => return Arc::new(self.buf.clone()),
                        }
                        spare
                    }
                    None => Arc::new(self.buf.clone()),
                })
                .clone();
            Some(SipStr(Repr::Shared { buf, start, len }))
        }
        #[cfg(not(target_has_atomic = "ptr"))]
        Some(SipStr(Repr::Bytes(self.buf.slice(range))))
    }
}

impl SipStr {
    /// An empty string.
    pub const fn new() -> Self {
        SipStr(Repr::Inline(0, [0; INLINE]))
    }

    /// A static string: a copy, as [`SipStr::from`] makes (one allocation over 22 bytes).
    pub fn from_static(s: &'static str) -> Self {
        SipStr::from(s)
    }

    /// A copy of `s` when it is short, otherwise `s` as a slice of the source's buffer when it
    /// lies inside it (no copy), or a copy.
    #[inline]
    pub(crate) fn share(src: &Source<'_>, s: &str) -> Self {
        let b = s.as_bytes();
        if b.len() <= INLINE {
            // A fixed-size copy when the bytes after `s` are there to be copied along.
            let buf = src.bytes();
            let start = (b.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
            if let Some(w) = start
                .checked_add(INLINE)
                .and_then(|end| buf.get(start..end))
            {
                if let Ok(w) = <[u8; INLINE]>::try_from(w) {
                    return SipStr(Repr::Inline(b.len() as u8, w));
                }
            }
            return SipStr::from(s);
        }
        src.slice(b).unwrap_or_else(|| SipStr::from(s))
    }

    /// The string.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        let b = self.as_bytes();
        debug_assert!(core::str::from_utf8(b).is_ok());
        // SAFETY: `SipStr` holds UTF-8 only. Every constructor takes a `&str` or a `String`
        // and stores either (a) its bytes — copied inline or to a counted `str` of its own,
        // or the bounds of the same bytes in the buffer they lie in (`Source::slice` takes
        // them from where the `&str` lies; a `Bytes` never changes) — or (b) for `share`'s
        // fixed-size inline copy, a window of the buffer that starts at the `&str`'s first
        // byte, of which only the first `len` bytes (the `&str` itself, read from the same
        // memory) are ever read back. The representation is private and never mutated after
        // construction. Reading strings is the hot path of the model, so they are not
        // validated again here (the parsers validated them once, up front).
        unsafe { core::str::from_utf8_unchecked(b) }
    }

    /// The UTF-8 bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(len, w) => w.get(..*len as usize).unwrap_or_default(),
            #[cfg(target_has_atomic = "ptr")]
            Repr::Shared { buf, start, len } => {
                let start = *start as usize;
                buf.get(start..start + *len as usize).unwrap_or_default()
            }
            #[cfg(target_has_atomic = "ptr")]
            Repr::Owned(s) => s.as_bytes(),
            #[cfg(not(target_has_atomic = "ptr"))]
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

/// Where `part` lies in `buf`, when it lies inside it.
fn range_in(buf: &[u8], part: &[u8]) -> Option<core::ops::Range<usize>> {
    let start = (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
    let end = start.checked_add(part.len())?;
    (end <= buf.len()).then_some(start..end)
}

/// Returns `part` as a slice of `buf` when it lies inside `buf`, otherwise a copy of it.
pub(crate) fn share_bytes(buf: &Bytes, part: &[u8]) -> Bytes {
    if part.is_empty() {
        return Bytes::new();
    }
    match range_in(buf, part) {
        Some(range) => buf.slice(range),
        None => Bytes::copy_from_slice(part),
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
        let b = s.as_bytes();
        let mut w = [0u8; INLINE];
        match w.get_mut(..b.len()) {
            Some(dst) => {
                dst.copy_from_slice(b);
                SipStr(Repr::Inline(b.len() as u8, w))
            }
            #[cfg(target_has_atomic = "ptr")]
            None => SipStr(Repr::Owned(Arc::from(s))),
            #[cfg(not(target_has_atomic = "ptr"))]
            None => SipStr(Repr::Bytes(Bytes::copy_from_slice(b))),
        }
    }
}

impl From<String> for SipStr {
    fn from(s: String) -> Self {
        SipStr::from(s.as_str())
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

/// Text held as a byte handle (`&[u8]` for the view, [`Bytes`] for the owned model): the
/// head of a parsed message, which its fields' lines are spans of. It is made only from text
/// known to be UTF-8, so it is read back as text without being checked again. (A slice of the
/// datagram as a [`SipStr`] would hold a counted handle on it, one allocation a message; as
/// the datagram's own handle it is a clone of it.)
#[derive(Clone, Default)]
pub(crate) struct Utf8<B>(B);

impl<'a> Utf8<&'a [u8]> {
    /// The bytes of `s`.
    #[inline]
    pub(crate) fn of_str(s: &'a str) -> Self {
        Utf8(s.as_bytes())
    }
}

impl Utf8<Bytes> {
    /// `s` as a slice of `buf` when it lies inside it, else a copy.
    #[inline]
    pub(crate) fn share(buf: &Bytes, s: &str) -> Self {
        Utf8(share_bytes(buf, s.as_bytes()))
    }
}

impl<B: AsRef<[u8]>> Utf8<B> {
    /// `b` when it is UTF-8.
    pub(crate) fn checked(b: B) -> Option<Self> {
        core::str::from_utf8(b.as_ref()).ok()?;
        Some(Utf8(b))
    }

    /// `b`, what a converter made of `from`'s handle, when it is UTF-8: not checked again
    /// when it is the same bytes (a handle of the same memory: a clone, or a slice of the
    /// buffer a view was borrowed from).
    pub(crate) fn converted<A: AsRef<[u8]>>(from: &Utf8<A>, b: B) -> Option<Self> {
        if core::ptr::eq(from.0.as_ref(), b.as_ref()) {
            return Some(Utf8(b));
        }
        Utf8::checked(b)
    }

    /// The handle.
    #[inline]
    pub(crate) fn handle(&self) -> &B {
        &self.0
    }

    /// The text.
    #[inline]
    #[allow(unsafe_code)]
    pub(crate) fn as_str(&self) -> &str {
        let b = self.0.as_ref();
        debug_assert!(core::str::from_utf8(b).is_ok());
        // SAFETY: the field is private to this module and set only by `of_str` (the bytes of
        // a `&str`), `share` (the bytes of a `&str`, sliced from the buffer where they lie or
        // copied: the same bytes either way), `checked` (validated) and `converted` (validated,
        // or the same memory as a handle made so). `B` is `&[u8]` or `Bytes` (the byte handles
        // of the sealed `Text` types): neither changes its bytes after it is made, and each
        // gives the same bytes on every `as_ref`.
        unsafe { core::str::from_utf8_unchecked(b) }
    }
}

/// Longest string a [`Wide`] stores inline.
pub const WIDE_INLINE: usize = 62;

/// A string stored inline up to [`WIDE_INLINE`] bytes, otherwise as an `S`: the text of a
/// Via's parameters, which is longer than a [`SipStr`]'s 22 inline bytes on almost every
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

/// Converts a view borrowed from a buffer into [`SipStr`]s: short strings inline, longer ones
/// slices of the buffer (one reference count on it for all of them), strings from elsewhere
/// copies.
///
/// ```
/// use sipxfer::text::Share;
/// let buf = bytes::Bytes::from_static(b"sip:alice@atlanta.example.com");
/// let view = sipxfer::parse::parse_uri(&buf).unwrap();
/// let owned = view.convert(&mut Share::new(&buf));
/// assert_eq!(owned.to_string(), "sip:alice@atlanta.example.com");
/// ```
pub struct Share<'b>(Source<'b>);

impl<'b> Share<'b> {
    /// A converter for views borrowed from `buf`.
    pub fn new(buf: &'b Bytes) -> Self {
        Share(Source::new(buf))
    }
}

impl Share<'static> {
    /// A converter that copies every string (views borrowed from no buffer of their own).
    pub fn copying() -> Self {
        static NONE: Bytes = Bytes::new();
        Share::new(&NONE)
    }
}

impl<'a> Convert<&'a str, SipStr> for Share<'_> {
    fn text(&mut self, s: &&'a str) -> SipStr {
        SipStr::share(&self.0, s)
    }
    fn bytes(&mut self, b: &&'a [u8]) -> Bytes {
        share_bytes(self.0.bytes(), b)
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

impl Detach for SipStr {
    /// Makes the string one of its own when it is a slice of a datagram (a copy: one
    /// allocation); any other is left as it is.
    #[inline]
    fn detach(&mut self) {
        match &self.0 {
            #[cfg(target_has_atomic = "ptr")]
            Repr::Shared { .. } => *self = SipStr::from(self.as_str()),
            // A slice of a datagram cannot be told from a copy here: copied either way.
            #[cfg(not(target_has_atomic = "ptr"))]
            Repr::Bytes(b) => *self = SipStr(Repr::Bytes(Bytes::copy_from_slice(b))),
            _ => {}
        }
    }
}

impl Detach for Rare<SipStr> {
    /// The string held, if any, detached.
    #[inline]
    fn detach(&mut self) {
        if let Some(s) = &mut self.0 {
            s.detach();
        }
    }
}

/// A value parsed from a datagram made to keep nothing of the datagram: each string that is
/// a slice of it ([`SipStr`]'s long form) copied into storage of its own, in place, the
/// others left as they are. For what outlives the message it came in: a dialog keeps its
/// parties, its remote target and its route set for as long as the call lasts, and one slice
/// of the datagram in them would keep the whole datagram — its SDP body and all, a kilobyte
/// or more — alive with them (a peer whose tags or URIs pass 22 bytes: pjsip's 36-character
/// tags, say).
pub(crate) trait Detach {
    /// Detaches every string of the value.
    fn detach(&mut self);

    /// The value detached.
    fn detached(mut self) -> Self
    where
        Self: Sized,
    {
        self.detach();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Message;

    /// The `Arc` a string holds, when it is a slice of a datagram.
    fn counted(s: &SipStr) -> Option<&Arc<Bytes>> {
        match &s.0 {
            Repr::Shared { buf, .. } => Some(buf),
            _ => None,
        }
    }

    #[test]
    fn a_string_is_24_bytes_and_22_of_them_fit_inline() {
        assert_eq!(core::mem::size_of::<SipStr>(), 24);
        let s = SipStr::from("a".repeat(22).as_str());
        assert!(matches!(s.0, Repr::Inline(22, _)));
        let s = SipStr::from("a".repeat(23).as_str());
        assert!(matches!(s.0, Repr::Owned(_)));
        assert_eq!(&*s, "a".repeat(23));
        assert_eq!(&*SipStr::from(String::from("é").repeat(20)), "é".repeat(20));
        assert_eq!(
            &*SipStr::from_static("Call/Transaction Does Not Exist"),
            "Call/Transaction Does Not Exist"
        );
    }

    #[test]
    fn a_messages_long_strings_are_slices_of_its_datagram_under_one_count() {
        let call_id = "a84b4c76e66710a84b4c76e66710@pc33.atlanta.example.com";
        let wire = alloc::format!(
            "BYE sip:bob@192.0.2.4 SIP/2.0\r\n\
             Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n\
             From: \"Alice of Atlanta, Georgia\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
             To: <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
             Call-ID: {call_id}\r\nCSeq: 231 BYE\r\nContent-Length: 0\r\n\r\n"
        );
        let buf = Bytes::from(wire.into_bytes());
        let m = Message::parse(buf.clone(), &Default::default()).unwrap();
        let id = m
            .headers
            .iter()
            .find_map(|h| match h {
                crate::msg::Header::CallId(s) => Some(s),
                _ => None,
            })
            .unwrap();
        let display = &m.from().unwrap().display;
        assert_eq!(&**id, call_id);
        // Not copied: the bytes are the datagram's.
        let inside = |s: &SipStr| {
            let p = s.as_ptr() as usize;
            p >= buf.as_ptr() as usize && p + s.len() <= buf.as_ptr() as usize + buf.len()
        };
        assert!(inside(id) && inside(display));
        // One count for the message's long strings (the Call-ID, the display name, the Via's
        // host), made once.
        let (a, b) = (counted(id).unwrap(), counted(display).unwrap());
        assert!(Arc::ptr_eq(a, b));
        assert_eq!(Arc::strong_count(a), 3);
        // A short one is inline, and a clone of a long one takes a count, not a copy.
        assert!(counted(&m.from().unwrap().uri.as_sip().unwrap().user).is_none());
        let kept = id.clone();
        assert_eq!(Arc::strong_count(a), 4);
        drop(m);
        assert_eq!(&*kept, call_id);
        assert_eq!(Arc::strong_count(counted(&kept).unwrap()), 1);
    }

    /// Messages parsed with a pool one after the other share their long strings under one
    /// counted handle, made once: the next message's when nothing holds the last one's any
    /// more, a new one while something does (the strings kept read as they did).
    #[test]
    fn the_counted_handle_is_made_again_once_nothing_holds_it() {
        let bye = |n: u32| {
            Bytes::from(alloc::format!(
                "BYE sip:a@192.0.2.4 SIP/2.0\r\n\
                 Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKPj{n:08x}-7e6d-4c5b-9a89-7f6e5d4c3b2a\r\n\
                 From: <sip:b@192.0.2.1>;tag=1\r\nTo: <sip:a@192.0.2.4>;tag=2\r\n\
                 Call-ID: {n:08x}-5a6b-4c7d-8e9f-0a1b2c3d4e5f\r\nCSeq: {n} BYE\r\n\r\n"
            ))
        };
        let mut pool = crate::msg::pool::HeaderPool::new(4);
        let limits = crate::parse::Limits::default();
        let call_id = |m: &Message| {
            m.headers
                .iter()
                .find_map(|h| match h {
                    crate::msg::Header::CallId(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap()
        };
        let (b1, b2, b3) = (bye(1), bye(2), bye(3));
        let m1 = Message::parse_in(&b1, &limits, Some(&mut pool)).unwrap();
        let first = Arc::as_ptr(counted(&call_id(&m1)).unwrap());
        drop(m1);
        // The first message gone: its handle is the second's, on the second's datagram.
        let m2 = Message::parse_in(&b2, &limits, Some(&mut pool)).unwrap();
        let id2 = call_id(&m2);
        assert_eq!(Arc::as_ptr(counted(&id2).unwrap()), first);
        assert_eq!(&*id2, "00000002-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
        assert_eq!(counted(&id2).unwrap().as_ptr(), b2.as_ptr());
        // The second kept: the third makes its own, and each reads as it came.
        let m3 = Message::parse_in(&b3, &limits, Some(&mut pool)).unwrap();
        let id3 = call_id(&m3);
        assert_ne!(Arc::as_ptr(counted(&id3).unwrap()), first);
        assert_eq!(&*id2, "00000002-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
        assert_eq!(&*id3, "00000003-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
        let branch = m2.top_via().unwrap().branch();
        assert_eq!(
            branch,
            Some("z9hG4bKPj00000002-7e6d-4c5b-9a89-7f6e5d4c3b2a")
        );
        // At the end of an input, a handle something else still holds is let go of (the
        // datagram lives as long as the message), one nothing else holds is kept without
        // its datagram.
        pool.let_go();
        assert!(pool.spare.is_none());
        drop((m2, m3, id2, id3));
        assert!(b2.is_unique() && b3.is_unique());
        let b4 = bye(4);
        let m4 = Message::parse_in(&b4, &limits, Some(&mut pool)).unwrap();
        drop(m4);
        assert!(!b4.is_unique());
        pool.let_go();
        assert!(b4.is_unique());
        assert!(pool.spare.as_ref().is_some_and(|h| h.is_empty()));
    }

    #[test]
    fn a_view_converted_shares_its_buffer_and_other_text_is_copied() {
        let buf = Bytes::from_static(b"sip:a-rather-long-user-name@atlanta.example.com");
        let view = crate::parse::parse_uri(&buf).unwrap();
        let shared = view.convert(&mut Share::new(&buf));
        let copied = view.convert(&mut Share::copying());
        assert_eq!(shared, copied);
        let user = |u: &crate::msg::Uri<SipStr>| u.as_sip().unwrap().user.clone();
        assert!(counted(&user(&shared)).is_some());
        assert!(matches!(user(&copied).0, Repr::Owned(_)));
    }
}
