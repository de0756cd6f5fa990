//! The header fields of a message, each with the line it was parsed from while it is unchanged.
//!
//! A field parsed from the wire keeps the text of its line (`field-name HCOLON field-value`,
//! RFC 3261 §7.3.1) beside its typed value, and [`Message::emit`](super::Message::emit) writes
//! that text back as it came instead of rendering the typed value piece by piece. Any mutable
//! access to a field forgets its line, so what is written is always what the typed value says:
//! a field read, copied or moved to another message (a response's Via, From, Call-ID and CSeq,
//! RFC 3261 §8.2.6.2) keeps its line; a field changed (the To that gets its tag, the Via that
//! gets `received`) is rendered anew. This is what sofia-sip does with the text a header was
//! decoded from (`h_data`, cleared when the header is modified), and what lets writing a
//! message back cost about a copy of it.
//!
//! A folded line (a field value continued on the next line, RFC 3261 §7.3.1) is not kept: it
//! is rendered from its typed value.

use super::{Header, HeaderName};
use crate::text::{Convert, Text, Utf8};
use alloc::vec::Vec;
use core::hash::{Hash, Hasher};
use core::ops::{Index, IndexMut};

/// Where a field's line lies in its list's text: `len == 0` when it has none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// No line: rendered when emitted.
    pub(crate) const NONE: Span = Span { start: 0, len: 0 };

    /// `start..start + len`, for a parser that has checked that its input's offsets fit in
    /// 32 bits.
    #[inline(always)]
    pub(crate) fn of(start: u32, len: u32) -> Span {
        Span { start, len }
    }

    #[inline]
    fn is_none(self) -> bool {
        self.len == 0
    }

    #[inline]
    fn range(self) -> core::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// A header field with where the line it was parsed from lies, while unchanged.
#[derive(Clone, Debug)]
pub(crate) struct Entry<S: Text> {
    /// The typed field.
    pub(crate) header: Header<S>,
    /// `field-name HCOLON field-value` exactly as received (no line end), in the list's
    /// text, while `header` is unchanged.
    pub(crate) line: Span,
}

impl<S: Text> Entry<S> {
    /// A field with no line of its own (built, or changed): rendered when emitted.
    #[inline]
    pub(crate) fn new(header: Header<S>) -> Self {
        Entry {
            header,
            line: Span::NONE,
        }
    }
}

/// The header fields of a [`Message`](super::Message), in order (Content-Length excluded: it
/// is checked when parsing and always written from the body).
///
/// Reads go through [`Headers::iter`], indexing and the slice-like accessors; every mutable
/// access ([`Headers::iter_mut`], [`Headers::get_mut`], `headers[i] = ...`, ...) makes the
/// fields it reaches render anew when emitted (see the [module documentation](self)).
///
/// ```
/// use sipxfer::msg::{Header, Message};
/// let wire = b"OPTIONS sip:b@example.com SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
///     f: <sip:a@example.com>;tag=1\r\nt: sip:b@example.com\r\ni: c1\r\nCSeq: 1 OPTIONS\r\n\r\n";
/// let mut m = Message::parse(bytes::Bytes::from_static(wire), &Default::default()).unwrap();
/// assert_eq!(m.headers.len(), 5);
/// assert_eq!(m.headers.line(2), Some("t: sip:b@example.com"));
/// if let Some(Header::To(to)) = m.headers.get_mut(2) {
///     to.params.push("tag", Some("9"));
/// }
/// assert_eq!(m.headers.line(2), None); // changed: rendered in full form
/// assert!(m.to_bytes().starts_with(
///     b"OPTIONS sip:b@example.com SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
///       f: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=9\r\n"));
/// ```
#[derive(Clone)]
pub struct Headers<S: Text> {
    list: Vec<Entry<S>>,
    /// The text the fields' lines lie in (the head they were parsed from: one string shared
    /// by all, so that keeping a line costs two numbers); empty when no field has one.
    text: Utf8<S::Bytes>,
    /// The names the list may hold, a bit each ([`name_bit`]): every field's name has its
    /// bit set (a bit may outlive its last field), so that an accessor asked for a header
    /// the message lacks (most headers are absent from most messages) answers without
    /// walking the list. The parser notes the names it types; a field added, or reached
    /// mutably, sets them all: a message built or changed is walked, as before.
    names: u64,
}

/// The bit of `name` in [`Headers`]' set of names (fewer than 64 names: one bit each).
#[inline(always)]
pub(crate) fn name_bit(name: HeaderName) -> u64 {
    1 << (name as u32 & 63)
}

/// Every name: what a list built or reached mutably may hold.
const ALL_NAMES: u64 = u64::MAX;

impl<S: Text> Default for Headers<S> {
    fn default() -> Self {
        Headers::new()
    }
}

impl<S: Text> Headers<S> {
    /// No headers.
    pub fn new() -> Self {
        Headers {
            list: Vec::new(),
            text: Utf8::default(),
            names: 0,
        }
    }

    /// No headers, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            list: Vec::with_capacity(n),
            text: Utf8::default(),
            names: 0,
        }
    }

    /// The list (the pool's unit of reuse), whose lines lie in `text` and whose names are
    /// among `names` (see [`name_bit`]).
    pub(crate) fn from_entries(list: Vec<Entry<S>>, text: Utf8<S::Bytes>, names: u64) -> Self {
        debug_assert!(list.iter().all(|e| names & name_bit(e.header.name()) != 0));
        Headers { list, text, names }
    }

    /// May the list hold a field named `name`? No means none is there.
    #[inline(always)]
    pub(crate) fn may_have(&self, name: HeaderName) -> bool {
        self.names & name_bit(name) != 0
    }

    /// The fields in order when the list may hold one named `name`, else none: what an
    /// accessor for `name` walks.
    #[inline(always)]
    pub(crate) fn iter_for(&self, name: HeaderName) -> Iter<'_, S> {
        let list: &[Entry<S>] = if self.may_have(name) { &self.list } else { &[] };
        Iter(list.iter())
    }

    /// Changes field `i` in place through `f`: its line is forgotten, and its name (which
    /// `f` may change) noted, where [`Headers::get_mut`] has to assume any name.
    pub(crate) fn edit<R>(&mut self, i: usize, f: impl FnOnce(&mut Header<S>) -> R) -> Option<R> {
        let e = self.list.get_mut(i)?;
        let r = f(changed(e));
        self.names |= name_bit(e.header.name());
        Some(r)
    }

    /// The list, for the pool to keep.
    pub(crate) fn into_entries(self) -> Vec<Entry<S>> {
        self.list
    }

    /// The fields with their lines.
    pub(crate) fn entries(&self) -> &[Entry<S>] {
        &self.list
    }

    /// The fields with their lines, to reorder (what they hold must not change here).
    pub(crate) fn entries_mut(&mut self) -> &mut [Entry<S>] {
        &mut self.list
    }

    /// Appends the fields of `from` that `keep` says yes to, with their lines when this list
    /// holds none of another text (it takes `from`'s then: a response's list, from the pool,
    /// takes its request's).
    pub(crate) fn extend_kept(
        &mut self,
        from: &Headers<S>,
        mut keep: impl FnMut(&Header<S>) -> bool,
    ) {
        let lines = self.share_text(from);
        self.names = ALL_NAMES;
        for e in from.list.iter().filter(|e| keep(&e.header)) {
            self.list.push(Entry {
                header: e.header.clone(),
                line: if lines { e.line } else { Span::NONE },
            });
        }
    }

    /// Can this list hold lines of `from`'s text? Yes when it is the same text, or when this
    /// list holds no line (it takes `from`'s text then).
    pub(crate) fn share_text(&mut self, from: &Headers<S>) -> bool {
        if core::ptr::eq(self.text.as_str(), from.text.as_str()) {
            return true;
        }
        if self.list.iter().any(|e| !e.line.is_none()) {
            return false;
        }
        self.text = from.text.clone();
        true
    }

    /// Appends a field with its line, a span of this list's text (see
    /// [`Headers::share_text`]).
    #[inline]
    pub(crate) fn push_entry(&mut self, e: Entry<S>) {
        self.names = ALL_NAMES;
        self.list.push(e);
    }

    /// The text the lines lie in.
    pub(crate) fn text(&self) -> &Utf8<S::Bytes> {
        &self.text
    }

    /// Takes `text` (converted with `c`) as the text lines lie in: on a list that holds no
    /// line. `false` when what `c` made of it is not text (a converter of the application's
    /// could do that): the list then takes no text, and lines pushed must be none.
    pub(crate) fn set_text<T: Text>(
        &mut self,
        text: &Utf8<T::Bytes>,
        c: &mut impl Convert<T, S>,
    ) -> bool {
        debug_assert!(self.list.iter().all(|e| e.line.is_none()));
        match Utf8::converted(text, c.bytes(text.handle())) {
            Some(t) => {
                self.text = t;
                true
            }
            None => false,
        }
    }

    /// The text of `e`'s line, if it has one.
    #[inline]
    pub(crate) fn line_of(&self, e: &Entry<S>) -> Option<&str> {
        if e.line.is_none() {
            return None;
        }
        self.text.as_str().get(e.line.range())
    }

    /// How many fields.
    #[inline]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// No fields.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Room held, in fields.
    pub fn capacity(&self) -> usize {
        self.list.capacity()
    }

    /// The fields in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_, S> {
        Iter(self.list.iter())
    }

    /// The fields in order, each to be rendered anew when emitted.
    #[inline]
    pub fn iter_mut(&mut self) -> IterMut<'_, S> {
        self.names = ALL_NAMES;
        IterMut(self.list.iter_mut())
    }

    /// The field at `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&Header<S>> {
        self.list.get(i).map(|e| &e.header)
    }

    /// The field at `i`, to be rendered anew when emitted.
    #[inline]
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Header<S>> {
        self.names = ALL_NAMES;
        self.list.get_mut(i).map(changed)
    }

    /// The first field.
    pub fn first(&self) -> Option<&Header<S>> {
        self.get(0)
    }

    /// The first field, to be rendered anew when emitted.
    pub fn first_mut(&mut self) -> Option<&mut Header<S>> {
        self.get_mut(0)
    }

    /// The last field.
    pub fn last(&self) -> Option<&Header<S>> {
        self.list.last().map(|e| &e.header)
    }

    /// The line field `i` was parsed from (`field-name HCOLON field-value`, without its line
    /// end), while the field is unchanged.
    pub fn line(&self, i: usize) -> Option<&str> {
        self.line_of(self.list.get(i)?)
    }

    /// Forgets every line kept: the whole message is then written in canonical form (full
    /// names, one space after the colon, typed values rendered).
    pub fn forget_lines(&mut self) {
        for e in &mut self.list {
            e.line = Span::NONE;
        }
        self.text = Utf8::default();
    }

    /// Appends a field.
    #[inline]
    pub fn push(&mut self, h: Header<S>) {
        self.names = ALL_NAMES;
        self.list.push(Entry::new(h));
    }

    /// Inserts a field at `i` (panics if `i > len`, as [`Vec::insert`]).
    pub fn insert(&mut self, i: usize, h: Header<S>) {
        self.names = ALL_NAMES;
        self.list.insert(i, Entry::new(h));
    }

    /// Removes and returns the field at `i` (panics if `i >= len`, as [`Vec::remove`]).
    pub fn remove(&mut self, i: usize) -> Header<S> {
        self.list.remove(i).header
    }

    /// Removes and returns the last field.
    pub fn pop(&mut self) -> Option<Header<S>> {
        self.list.pop().map(|e| e.header)
    }

    /// Keeps the fields `keep` says yes to (unchanged: they keep their lines).
    pub fn retain(&mut self, mut keep: impl FnMut(&Header<S>) -> bool) {
        self.list.retain(|e| keep(&e.header));
    }

    /// Removes every field.
    pub fn clear(&mut self) {
        self.list.clear();
        self.text = Utf8::default();
    }

    /// Keeps the first `n` fields.
    pub fn truncate(&mut self, n: usize) {
        self.list.truncate(n);
    }

    /// Room for `n` more fields.
    pub fn reserve(&mut self, n: usize) {
        self.list.reserve(n);
    }

    /// Converts the string storage (lines included).
    pub(crate) fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> Headers<T> {
        // What `c` makes of the text is checked (a converter of the application's could
        // make anything of bytes); lines are kept only in text.
        let text = Utf8::converted(&self.text, c.bytes(self.text.handle()));
        let lines = text.is_some();
        Headers {
            list: self
                .list
                .iter()
                .map(|e| Entry {
                    header: e.header.convert(c),
                    line: if lines { e.line } else { Span::NONE },
                })
                .collect(),
            text: text.unwrap_or_default(),
            names: self.names,
        }
    }
}

/// A field reached mutably: its line no longer says what it holds.
#[inline]
fn changed<S: Text>(e: &mut Entry<S>) -> &mut Header<S> {
    e.line = Span::NONE;
    &mut e.header
}

impl<S: Text> Index<usize> for Headers<S> {
    type Output = Header<S>;
    #[inline]
    fn index(&self, i: usize) -> &Header<S> {
        &self.list[i].header
    }
}

impl<S: Text> IndexMut<usize> for Headers<S> {
    /// The field at `i`, to be rendered anew when emitted.
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Header<S> {
        self.names = ALL_NAMES;
        changed(&mut self.list[i])
    }
}

/// The fields of a [`Headers`], in order.
#[derive(Clone, Debug)]
pub struct Iter<'a, S: Text>(core::slice::Iter<'a, Entry<S>>);

impl<'a, S: Text> Iterator for Iter<'a, S> {
    type Item = &'a Header<S>;
    #[inline]
    fn next(&mut self) -> Option<&'a Header<S>> {
        self.0.next().map(|e| &e.header)
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<S: Text> DoubleEndedIterator for Iter<'_, S> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|e| &e.header)
    }
}

impl<S: Text> ExactSizeIterator for Iter<'_, S> {}

/// The fields of a [`Headers`], mutably: each one yielded is rendered anew when emitted.
#[derive(Debug)]
pub struct IterMut<'a, S: Text>(core::slice::IterMut<'a, Entry<S>>);

impl<'a, S: Text> Iterator for IterMut<'a, S> {
    type Item = &'a mut Header<S>;
    #[inline]
    fn next(&mut self) -> Option<&'a mut Header<S>> {
        self.0.next().map(changed)
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<S: Text> DoubleEndedIterator for IterMut<'_, S> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(changed)
    }
}

impl<S: Text> ExactSizeIterator for IterMut<'_, S> {}

/// The fields of a [`Headers`], by value.
#[derive(Debug)]
pub struct IntoIter<S: Text>(alloc::vec::IntoIter<Entry<S>>);

impl<S: Text> Iterator for IntoIter<S> {
    type Item = Header<S>;
    #[inline]
    fn next(&mut self) -> Option<Header<S>> {
        self.0.next().map(|e| e.header)
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<S: Text> ExactSizeIterator for IntoIter<S> {}

impl<'a, S: Text> IntoIterator for &'a Headers<S> {
    type Item = &'a Header<S>;
    type IntoIter = Iter<'a, S>;
    fn into_iter(self) -> Iter<'a, S> {
        self.iter()
    }
}

impl<'a, S: Text> IntoIterator for &'a mut Headers<S> {
    type Item = &'a mut Header<S>;
    type IntoIter = IterMut<'a, S>;
    fn into_iter(self) -> IterMut<'a, S> {
        self.iter_mut()
    }
}

impl<S: Text> IntoIterator for Headers<S> {
    type Item = Header<S>;
    type IntoIter = IntoIter<S>;
    fn into_iter(self) -> IntoIter<S> {
        IntoIter(self.list.into_iter())
    }
}

impl<S: Text> Extend<Header<S>> for Headers<S> {
    fn extend<I: IntoIterator<Item = Header<S>>>(&mut self, it: I) {
        self.names = ALL_NAMES;
        self.list.extend(it.into_iter().map(Entry::new));
    }
}

impl<S: Text> FromIterator<Header<S>> for Headers<S> {
    fn from_iter<I: IntoIterator<Item = Header<S>>>(it: I) -> Self {
        Headers {
            list: it.into_iter().map(Entry::new).collect(),
            text: Utf8::default(),
            names: ALL_NAMES,
        }
    }
}

impl<S: Text> From<Vec<Header<S>>> for Headers<S> {
    fn from(v: Vec<Header<S>>) -> Self {
        v.into_iter().collect()
    }
}

impl<S: Text, const N: usize> From<[Header<S>; N]> for Headers<S> {
    fn from(v: [Header<S>; N]) -> Self {
        v.into_iter().collect()
    }
}

/// Fields compare by their typed values: the lines they were parsed from do not count.
impl<S: Text> PartialEq for Headers<S> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<S: Text> Eq for Headers<S> {}

impl<S: Text> Hash for Headers<S> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for h in self {
            h.hash(state);
        }
    }
}

impl<S: Text> core::fmt::Debug for Headers<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Message;
    use bytes::Bytes;

    const WIRE: &[u8] = b"INVITE sip:b@example.com SIP/2.0\r\n\
        v: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
        Max-Forwards:70\r\n\
        f: \"A\" <sip:a@example.com>;tag=1\r\n\
        t: sip:b@example.com\r\n\
        i: c1@h\r\n\
        CSeq : 1   INVITE\r\n\
        Subject: folded\r\n over two lines\r\n\
        X-Odd:   value  \r\n\
        l: 0\r\n\r\n";

    fn parsed() -> Message {
        Message::parse(Bytes::from_static(WIRE), &Default::default()).unwrap()
    }

    /// A converter of the application's may make anything of a byte buffer: what it makes of
    /// the head is checked, and a list whose text would not be text keeps no line (it is
    /// written in canonical form), rather than reading bytes as a `str` that are not one.
    #[test]
    fn a_converter_that_makes_no_text_of_the_head_leaves_no_line() {
        use crate::text::{Convert, SipStr};
        struct Garbled;
        impl Convert<SipStr, SipStr> for Garbled {
            fn text(&mut self, s: &SipStr) -> SipStr {
                s.clone()
            }
            fn bytes(&mut self, b: &Bytes) -> Bytes {
                Bytes::from(alloc::vec![0xff; b.len()])
            }
        }
        let m = parsed();
        let c = m.convert(&mut Garbled);
        assert!((0..c.headers.len()).all(|i| c.headers.line(i).is_none()));
        assert_eq!(c.headers, m.headers);
        let wire = alloc::string::String::from_utf8(c.to_bytes().to_vec()).unwrap();
        assert!(wire.contains("\r\nCSeq: 1 INVITE\r\n"), "{wire}");
        // The same list converted faithfully keeps its lines.
        let same = m.convert(&mut crate::text::Share::copying());
        assert_eq!(same.headers.line(5), Some("CSeq : 1   INVITE"));
    }

    #[test]
    fn parsed_fields_keep_their_lines_except_folded_ones() {
        let m = parsed();
        let lines: Vec<_> = (0..m.headers.len()).map(|i| m.headers.line(i)).collect();
        assert_eq!(
            lines,
            [
                Some("v: SIP/2.0/UDP h.example.com;branch=z9hG4bK1"),
                Some("Max-Forwards:70"),
                Some("f: \"A\" <sip:a@example.com>;tag=1"),
                Some("t: sip:b@example.com"),
                Some("i: c1@h"),
                Some("CSeq : 1   INVITE"),
                None,
                Some("X-Odd:   value"),
            ]
        );
        // Written back as received, but for the folded line (an untyped value is kept
        // verbatim, fold included) and Content-Length.
        assert_eq!(
            &m.to_bytes()[..],
            &b"INVITE sip:b@example.com SIP/2.0\r\n\
            v: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
            Max-Forwards:70\r\n\
            f: \"A\" <sip:a@example.com>;tag=1\r\n\
            t: sip:b@example.com\r\n\
            i: c1@h\r\n\
            CSeq : 1   INVITE\r\n\
            Subject: folded\r\n over two lines\r\n\
            X-Odd:   value\r\n\
            Content-Length: 0\r\n\r\n"[..]
        );
    }

    #[test]
    fn every_mutable_access_forgets_the_line_of_what_it_reaches() {
        let mut m = parsed();
        let _ = m.headers.get_mut(0);
        assert_eq!(m.headers.line(0), None);
        assert!(m.headers.line(1).is_some());
        let _ = &mut m.headers[1];
        assert_eq!(m.headers.line(1), None);
        // iter_mut forgets what it yields, no more.
        let _ = m.headers.iter_mut().nth(2);
        assert_eq!(m.headers.line(2), None);
        assert!(m.headers.line(3).is_some());
        for h in &mut m.headers {
            let _ = h;
        }
        assert!((0..m.headers.len()).all(|i| m.headers.line(i).is_none()));
        // Forgotten everywhere: the canonical form.
        let mut c = parsed();
        c.headers.forget_lines();
        assert_eq!(
            &c.to_bytes()[..],
            &b"INVITE sip:b@example.com SIP/2.0\r\n\
            Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
            Max-Forwards: 70\r\n\
            From: \"A\" <sip:a@example.com>;tag=1\r\n\
            To: <sip:b@example.com>\r\n\
            Call-ID: c1@h\r\n\
            CSeq: 1 INVITE\r\n\
            Subject: folded\r\n over two lines\r\n\
            X-Odd: value\r\n\
            Content-Length: 0\r\n\r\n"[..]
        );
        assert_eq!(m.to_bytes(), c.to_bytes());
    }

    #[test]
    fn lines_travel_with_their_fields_and_do_not_count_in_comparisons() {
        let m = parsed();
        let mut built: Headers<_> = m.headers.iter().cloned().collect();
        assert_eq!(built, m.headers);
        assert_eq!(built.line(0), None);
        built.clear();
        built.extend_kept(&m.headers, |_| true);
        assert_eq!(built.line(4), Some("i: c1@h"));
        // A list holding lines of another text does not take more.
        let mut other = Message::parse(Bytes::from(WIRE.to_vec()), &Default::default()).unwrap();
        other
            .headers
            .extend_kept(&m.headers, |h| matches!(h, Header::CallId(_)));
        assert_eq!(other.headers.line(8), None);
        assert_eq!(other.headers.line(4), Some("i: c1@h"));
        // The same text (another parse of the same buffer): lines kept.
        let mut same = parsed();
        same.headers
            .extend_kept(&m.headers, |h| matches!(h, Header::CallId(_)));
        assert_eq!(same.headers.line(8), Some("i: c1@h"));
        // Removing, retaining and inserting leave the others' lines alone.
        built.remove(0);
        built.retain(|h| !matches!(h, Header::MaxForwards(_)));
        built.insert(0, Header::MaxForwards(69));
        assert_eq!(built.line(0), None);
        assert_eq!(built.line(1), Some("f: \"A\" <sip:a@example.com>;tag=1"));
        let shared = Message::parse(Bytes::from_static(WIRE), &Default::default()).unwrap();
        let view = crate::parse::parse_message(WIRE, &Default::default()).unwrap();
        assert_eq!(view.to_shared(&Bytes::from_static(WIRE)), shared);
        assert_eq!(view.headers.line(5), Some("CSeq : 1   INVITE"));
        assert_eq!(
            view.to_shared(&Bytes::from_static(WIRE)).headers.line(5),
            Some("CSeq : 1   INVITE")
        );
    }
}
#[cfg(test)]
mod names {
    use super::*;
    use crate::msg::Message;
    use crate::text::SipStr;
    use alloc::vec::Vec;
    use bytes::Bytes;

    const WIRE: &[u8] = b"NOTIFY sip:b@example.com SIP/2.0\r\n\
        v: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
        f: <sip:a@example.com>;tag=1\r\n\
        t: <sip:b@example.com>;tag=2\r\n\
        i: c1@h\r\n\
        CSeq: 2 NOTIFY\r\n\
        Event: refer;id=7\r\n\
        Subscription-State: active;expires=60\r\n\
        X-Odd: value\r\n\
        User-Agent: test\r\n\
        l: 0\r\n\r\n";

    /// Every field's name is in the set: an accessor that skips on a clear bit never misses
    /// a field.
    fn holds(h: &Headers<SipStr>) {
        for e in h.entries() {
            assert!(
                h.may_have(e.header.name()),
                "{:?} not noted",
                e.header.name()
            );
        }
    }

    #[test]
    fn parsed_names_are_noted_and_absent_ones_skipped() {
        let m = Message::parse(Bytes::from_static(WIRE), &Default::default()).unwrap();
        holds(&m.headers);
        let view = crate::parse::parse_message(WIRE, &Default::default()).unwrap();
        assert_eq!(view.headers.names, m.headers.names);
        for absent in [
            HeaderName::Contact,
            HeaderName::Route,
            HeaderName::ReferTo,
            HeaderName::ContentLength,
        ] {
            assert!(!m.headers.may_have(absent), "{absent:?}");
        }
        assert_eq!(m.event().and_then(|e| e.id()), Some("7"));
        assert_eq!(m.raw_header("user-agent"), Some("test"));
        assert_eq!(m.raw_header("x-odd"), Some("value"));
        assert_eq!(m.contacts().count(), 0);
        assert_eq!(m.refer_to(), None);
        // A field changed in place through `edit` keeps the others skippable.
        let mut stamped = m.clone();
        stamped.headers.edit(0, |_| {});
        assert!(!stamped.headers.may_have(HeaderName::Contact));
        holds(&stamped.headers);
    }

    /// Random edits through every mutating method, the set checked after each, and the
    /// accessors compared with a walk of the whole list.
    #[test]
    fn every_edit_keeps_every_name_noted() {
        let parsed = Message::parse(Bytes::from_static(WIRE), &Default::default()).unwrap();
        let contact = Message::parse(
            Bytes::from_static(
                b"OPTIONS sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK2\r\n\
                f: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: c2\r\nCSeq: 1 OPTIONS\r\n\
                m: <sip:a@192.0.2.1>\r\n\r\n",
            ),
            &Default::default(),
        )
        .unwrap();
        let mut fields: Vec<Header<SipStr>> = parsed.headers.iter().cloned().collect();
        fields.extend(contact.headers.iter().cloned());
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n.max(1) as u64) as usize
        };
        for _ in 0..300 {
            let mut m = parsed.clone();
            for _ in 0..12 {
                let pick = fields[next(fields.len())].clone();
                let len = m.headers.len();
                match next(13) {
                    0 => m.headers.push(pick),
                    1 => m.headers.insert(next(len + 1), pick),
                    2 if len > 0 => {
                        m.headers.remove(next(len));
                    }
                    3 => m.headers.retain(|h| !matches!(h, Header::To(_))),
                    4 if len > 0 => *m.headers.get_mut(next(len)).unwrap() = pick,
                    5 if len > 0 => m.headers[next(len)] = pick,
                    6 => {
                        if let Some(h) = m.headers.iter_mut().next() {
                            *h = pick;
                        }
                    }
                    7 if len > 0 => {
                        m.headers.edit(next(len), |h| *h = pick);
                    }
                    8 => m.headers.extend([pick]),
                    9 => {
                        let mut other = Headers::new();
                        other.extend_kept(&m.headers, |_| true);
                        m.headers = other;
                    }
                    10 => m.headers = m.headers.iter().cloned().collect(),
                    // Parsed again, when the edits left a valid message.
                    11 => {
                        if let Ok(p) = Message::parse(m.to_bytes(), &Default::default()) {
                            m = p;
                        }
                    }
                    _ => m.headers.truncate(next(len + 1)),
                }
                holds(&m.headers);
                let walk = |name: HeaderName| m.headers.iter().filter(|h| h.name() == name).count();
                assert_eq!(m.call_id().is_some(), walk(HeaderName::CallId) > 0);
                assert_eq!(m.contacts().count(), walk(HeaderName::Contact));
                assert_eq!(m.event().is_some(), walk(HeaderName::Event) > 0);
                assert_eq!(m.to().is_some(), walk(HeaderName::To) > 0);
                assert_eq!(m.vias().count(), walk(HeaderName::Via));
                assert_eq!(
                    m.raw_header("user-agent").is_some(),
                    walk(HeaderName::UserAgent) > 0
                );
            }
            m.headers.clear();
            holds(&m.headers);
        }
    }
}
#[cfg(test)]
mod size {
    /// A field with its line: 200 bytes (240 with a string of 32 bytes; a name-addr's display
    /// name and a URI's user part are strings, not `Option`s, to pay for the line); every
    /// list of every message holds them. The largest field is a Via (four strings and its
    /// parameters inline), then a name-addr.
    #[test]
    fn an_entry_fits_the_budget() {
        use crate::text::SipStr;
        use core::mem::size_of;
        assert_eq!(size_of::<SipStr>(), 24);
        assert!(size_of::<super::Entry<SipStr>>() <= 200);
        assert!(size_of::<crate::msg::Via<SipStr>>() <= 176);
        assert!(size_of::<crate::msg::NameAddr<SipStr>>() <= 160);
        // A message kept for its transaction (in a slab of them): its start line, its list
        // with the head its fields' lines lie in, the set of names by which its accessors
        // skip the headers it lacks, its body.
        assert!(size_of::<crate::msg::Message>() <= 216);
    }
}
