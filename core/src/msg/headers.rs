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

use super::Header;
use crate::text::{Convert, Text};
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
    text: S,
}

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
            text: S::default(),
        }
    }

    /// No headers, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            list: Vec::with_capacity(n),
            text: S::default(),
        }
    }

    /// The list (the pool's unit of reuse), whose lines lie in `text`.
    pub(crate) fn from_entries(list: Vec<Entry<S>>, text: S) -> Self {
        Headers { list, text }
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
        if core::ptr::eq(self.text.utf8(), from.text.utf8()) {
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
        self.list.push(e);
    }

    /// The text the lines lie in.
    pub(crate) fn text(&self) -> &S {
        &self.text
    }

    /// Takes `text` (converted with `c`) as the text lines lie in: on a list that holds no line.
    pub(crate) fn set_text<T: Text>(&mut self, text: &T, c: &mut impl Convert<T, S>) {
        debug_assert!(self.list.iter().all(|e| e.line.is_none()));
        self.text = c.text(text);
    }

    /// The text of `e`'s line, if it has one.
    #[inline]
    pub(crate) fn line_of(&self, e: &Entry<S>) -> Option<&str> {
        if e.line.is_none() {
            return None;
        }
        self.text.as_ref().get(e.line.range())
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
        self.text = S::default();
    }

    /// Appends a field.
    #[inline]
    pub fn push(&mut self, h: Header<S>) {
        self.list.push(Entry::new(h));
    }

    /// Inserts a field at `i` (panics if `i > len`, as [`Vec::insert`]).
    pub fn insert(&mut self, i: usize, h: Header<S>) {
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
        self.text = S::default();
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
        Headers {
            list: self
                .list
                .iter()
                .map(|e| Entry {
                    header: e.header.convert(c),
                    line: e.line,
                })
                .collect(),
            text: c.text(&self.text),
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
        self.list.extend(it.into_iter().map(Entry::new));
    }
}

impl<S: Text> FromIterator<Header<S>> for Headers<S> {
    fn from_iter<I: IntoIterator<Item = Header<S>>>(it: I) -> Self {
        Headers {
            list: it.into_iter().map(Entry::new).collect(),
            text: S::default(),
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
mod size {
    /// A field with its line takes no more room than a header field took before it had one
    /// (240 bytes: a name-addr's display name and a URI's user part are strings, not
    /// `Option`s, to pay for it); every list of every message holds them.
    #[test]
    fn an_entry_fits_the_old_budget() {
        use crate::text::SipStr;
        assert!(core::mem::size_of::<super::Entry<SipStr>>() <= 240);
        assert!(core::mem::size_of::<crate::msg::NameAddr<SipStr>>() <= 208);
        // A message kept for its transaction (in a slab of them) stays at the size it had
        // before its fields kept lines: a boxed extension method pays for the lines' text.
        assert!(core::mem::size_of::<crate::msg::Message>() <= 240);
    }
}
