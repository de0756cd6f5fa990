//! Parameters: `*( SEMI generic-param )` with `generic-param = token [ EQUAL gen-value ]`,
//! `gen-value = token / host / quoted-string` (RFC 3261 §25.1), URI `uri-parameters` and URI
//! `headers` (`?name=value&...`, §19.1.1).
//!
//! A parameter list is kept as the one span of text it was parsed from: parsing validates it
//! without building anything, and the model stays small. The parsers also note where each of
//! the first seven parameters starts (one byte each), so that a lookup by name
//! compares names at those offsets instead of walking every value before the one it wants;
//! lists built or changed by hand, or too long for the note, are walked. Equality,
//! hashing and emission go parameter by parameter (names case-insensitive, white space around
//! `;` and `=` ignored), so `;tag = x` and `;TAG=x` are equal; emission writes `;name=value` with names as
//! written.

use crate::text::{Convert, Rare, SipStr, Text, Wide};
use core::hash::{Hash, Hasher};

/// One parameter, borrowed from a [`Params`] or [`UriHeaders`] list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// The name, as written (compare case-insensitively).
    pub name: &'a str,
    /// The value as written (escaped in URIs; a quoted-string keeps its quotes), if any.
    pub value: Option<&'a str>,
}

impl<'a> Param<'a> {
    /// The value with surrounding double quotes removed (quoted-pairs are left as written).
    pub fn unquoted(&self) -> Option<&'a str> {
        self.value.map(unquote)
    }
}

/// Strips one pair of surrounding double quotes.
#[inline]
pub fn unquote(v: &str) -> &str {
    match v.as_bytes() {
        // Both ends are ASCII, so the inner slice is on char boundaries.
        [b'"', .., b'"'] => v.get(1..v.len() - 1).unwrap_or(v),
        _ => v,
    }
}

/// Walks `sep`-separated `name[=value]` items of already validated text.
#[derive(Clone, Debug)]
pub struct ParamIter<'a> {
    rest: &'a str,
    sep: u8,
}

/// Byte classes for the walk: LWS, the two separators and `=`.
const LWS: u8 = 1;
const SEMI: u8 = 2;
const AMP: u8 = 4;
const EQ: u8 = 8;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b' ' as usize] = LWS;
    t[b'\t' as usize] = LWS;
    t[b'\r' as usize] = LWS;
    t[b'\n' as usize] = LWS;
    t[b';' as usize] = SEMI;
    t[b'&' as usize] = AMP;
    t[b'=' as usize] = EQ;
    t
};

/// Index of the first byte of `b[from..]` whose class meets `mask` (or `b.len()`).
#[inline]
fn until(b: &[u8], from: usize, mask: u8) -> usize {
    match b.get(from..) {
        Some(r) => r
            .iter()
            .position(|&c| CLASS[c as usize] & mask != 0)
            .map_or(b.len(), |p| from + p),
        None => b.len(),
    }
}

/// Index of the first byte of `b[from..]` whose class does not meet `mask` (or `b.len()`).
#[inline]
fn skip(b: &[u8], from: usize, mask: u8) -> usize {
    match b.get(from..) {
        Some(r) => r
            .iter()
            .position(|&c| CLASS[c as usize] & mask == 0)
            .map_or(b.len(), |p| from + p),
        None => b.len(),
    }
}

/// The end of the value starting at `j`: a quoted-string, or up to the separator or LWS.
#[inline]
fn value_end(b: &[u8], mut j: usize, sep: u8) -> usize {
    if b.get(j) == Some(&b'"') {
        j += 1;
        while j < b.len() && b[j] != b'"' {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        (j + 1).min(b.len())
    } else {
        until_word(b, j, sep)
    }
}

/// [`until`]`(b, from, sep | LWS)`, eight bytes at a time.
#[inline]
fn until_word(b: &[u8], from: usize, sep: u8) -> usize {
    stop(b, from, sep_byte(sep), sep_byte(sep), sep | LWS)
}

/// The separator byte of a class (`;` for [`SEMI`], `&` for [`AMP`]).
#[inline]
fn sep_byte(sep: u8) -> u8 {
    if sep == SEMI {
        b';'
    } else {
        b'&'
    }
}

/// The class of a separator byte ([`SEMI`] for `;`, [`AMP`] for `&`).
#[inline]
fn sep_class(sep: u8) -> u8 {
    if sep == b';' {
        SEMI
    } else {
        AMP
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Eight bytes of `b` from `i` as a little-endian word, if there are eight.
#[inline(always)]
fn word(b: &[u8], i: usize) -> Option<u64> {
    let w: [u8; 8] = b.get(i..i.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(w))
}

/// Every byte of `x` ASCII-lowercased (`A`–`Z` only, as [`u8::to_ascii_lowercase`]). A byte
/// below 0x80 plus 0x3F (0x25) reaches 0x80 exactly when it is at least `A` (above `Z`), with
/// no carry into the next byte.
#[inline(always)]
fn lower(x: u64) -> u64 {
    let h = x & (LO * 0x7f);
    let ge_a = h.wrapping_add(LO * (0x80 - b'A' as u64));
    let gt_z = h.wrapping_add(LO * (0x80 - b'Z' as u64 - 1));
    x | ((ge_a & !gt_z & !x & HI) >> 2)
}

/// [`until`]`(b, from, mask)` for a `mask` whose bytes are LWS and the bytes `x` and `y`,
/// eight bytes at a time while there are eight, then byte by byte. The SWAR tests flag the
/// bytes of a word below 0x21 (LWS is SP, HTAB, CR, LF) and those equal to `x` or `y`.
/// Borrows only propagate upwards, so the lowest flagged byte is a true candidate; a
/// candidate outside the class (another control byte) resumes the search just after it.
#[inline]
fn stop(b: &[u8], from: usize, x: u8, y: u8, mask: u8) -> usize {
    let (sx, sy) = (LO * x as u64, LO * y as u64);
    let mut i = from;
    while let Some(v) = word(b, i) {
        let (p, q) = (v ^ sx, v ^ sy);
        let hits = ((v.wrapping_sub(LO * 0x21) & !v)
            | (p.wrapping_sub(LO) & !p)
            | (q.wrapping_sub(LO) & !q))
            & HI;
        if hits == 0 {
            i += 8;
            continue;
        }
        let k = i + (hits.trailing_zeros() / 8) as usize;
        match b.get(k) {
            Some(&c) if CLASS[c as usize] & mask != 0 => return k,
            _ => i = k + 1,
        }
    }
    until(b, i, mask)
}

/// A parameter name prepared for comparison: its bytes and its first eight bytes lowercased
/// into one word (`needle`), with the mask of its bytes in that word (0 when it is longer than
/// a word: such names are compared byte by byte). Built at compile time for the accessors'
/// names (see `key!`), at run time for [`Params::get`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Key<'n> {
    name: &'n [u8],
    needle: u64,
    mask: u64,
}

impl Key<'_> {
    /// Prepares `name` (a token; one of more than eight bytes is compared byte by byte).
    pub(crate) const fn new(name: &'static str) -> Key<'static> {
        let b = name.as_bytes();
        assert!(!b.is_empty(), "a key is a token");
        let mut k = 0;
        while k < b.len() {
            assert!(
                CLASS[b[k] as usize] == 0,
                "a key holds no separator, `=` or LWS"
            );
            k += 1;
        }
        let (needle, mask) = pack(b);
        Key {
            name: b,
            needle,
            mask,
        }
    }
}

/// `name` lowercased into a word (its first eight bytes) and the mask of its bytes in that
/// word (0 when it is longer than a word: such names are compared byte by byte).
const fn pack(name: &[u8]) -> (u64, u64) {
    let mut needle = 0u64;
    let mut k = 0;
    while k < name.len() && k < 8 {
        needle |= (name[k].to_ascii_lowercase() as u64) << (8 * k);
        k += 1;
    }
    let mask = match name.len() {
        1..=7 => (1u64 << (8 * name.len())) - 1,
        8 => u64::MAX,
        _ => 0,
    };
    (needle, mask)
}

/// A `&'static` [`Key`] built at compile time: `key!("branch")`.
macro_rules! key {
    ($name:literal) => {{
        const K: $crate::msg::param::Key<'static> = $crate::msg::param::Key::new($name);
        &K
    }};
}
pub(crate) use key;

/// Where the parameters of a parsed list start: byte offsets (below 256) of the names of its
/// first seven parameters, noted by the parser as it validates the list. A list with more
/// parameters, one that starts further in, or one built or changed by hand is not indexed and
/// is walked instead. The parser also notes when the list is in canonical form (see
/// [`Starts::canonical`]), so that emitting it needs no check of its text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Starts {
    /// How many parameters (`NOT_INDEXED`: unknown, walk the text), and [`CANONICAL`].
    n: u8,
    at: [u8; 7],
}

const NOT_INDEXED: u8 = 0x7f;
/// The bit of [`Starts::n`] that says the list is known to be canonical.
const CANONICAL: u8 = 0x80;

impl Starts {
    /// A list with no parameters.
    pub(crate) const EMPTY: Starts = Starts { n: 0, at: [0; 7] };
    /// A list whose parameters are found by walking it.
    pub(crate) const NONE: Starts = Starts {
        n: NOT_INDEXED,
        at: [0; 7],
    };

    /// Notes that the next parameter's name starts at `offset`.
    #[inline(always)]
    pub(crate) fn push(&mut self, offset: usize) {
        let flag = self.n & CANONICAL;
        let count = self.n & !CANONICAL;
        match (self.at.get_mut(count as usize), u8::try_from(offset)) {
            (Some(slot), Ok(o)) => {
                *slot = o;
                self.n = flag | (count + 1);
            }
            _ => self.n = flag | NOT_INDEXED,
        }
    }

    /// Notes that the list is in canonical form: no white space or line folding anywhere,
    /// no byte below `!` and no DEL (the parser's layout without `SWS`, and no quoted value).
    /// Emitting it is then one copy, unchecked.
    #[inline(always)]
    pub(crate) fn set_canonical(&mut self) {
        self.n |= CANONICAL;
    }

    /// Is the list known to be canonical?
    #[inline(always)]
    fn canonical(&self) -> bool {
        self.n & CANONICAL != 0
    }

    /// The noted offsets, if the list is indexed.
    #[inline(always)]
    fn get(&self) -> Option<&[u8]> {
        self.at.get(..(self.n & !CANONICAL) as usize)
    }

    /// The index of a list built in a [`ListBuf`].
    #[inline(always)]
    fn noted(s: Starts) -> Starts {
        s
    }
}

/// The index of lists that are always walked: URI headers, looked up rarely (the embedded
/// `Replaces` of a Refer-To), so not worth eight more bytes in every URI.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Walk;

impl Walk {
    const EMPTY: Walk = Walk;
    const NONE: Walk = Walk;

    #[inline(always)]
    fn get(&self) -> Option<&[u8]> {
        None
    }

    #[inline(always)]
    fn noted(_: Starts) -> Walk {
        Walk
    }

    #[inline(always)]
    fn canonical(&self) -> bool {
        false
    }
}

/// The end of the parameter before the one starting at `next`: back over `SWS sep SWS`.
#[inline]
fn before(b: &[u8], next: usize) -> usize {
    let mut e = next;
    while e > 0 && CLASS[b[e - 1] as usize] & LWS != 0 {
        e -= 1;
    }
    e = e.saturating_sub(1);
    while e > 0 && CLASS[b[e - 1] as usize] & LWS != 0 {
        e -= 1;
    }
    e
}

/// Is the parameter name at `at` the name `k`, that is equal ignoring ASCII case and followed
/// by `=`, a separator, LWS or the end?
#[inline(always)]
fn name_is(b: &[u8], at: usize, k: &Key<'_>, ends_name: u8) -> bool {
    let same = match word(b, at) {
        Some(w) if k.mask != 0 => lower(w & k.mask) == k.needle,
        _ => b
            .get(at..at + k.name.len())
            .is_some_and(|c| c.eq_ignore_ascii_case(k.name)),
    };
    same && b
        .get(at + k.name.len())
        .is_none_or(|&c| CLASS[c as usize] & ends_name != 0)
}

/// [`find_word`] in a list whose parameters start at `starts`: names are compared at those
/// offsets only, and the value of the one found ends where the next parameter begins.
#[inline(always)]
fn find_at<'a>(s: &'a str, starts: &[u8], sep: u8, k: &Key<'_>) -> Option<Option<&'a str>> {
    let b = s.as_bytes();
    let ends_name = EQ | sep | LWS;
    for (i, &start) in starts.iter().enumerate() {
        let start = start as usize;
        if !name_is(b, start, k, ends_name) {
            continue;
        }
        let after = start + k.name.len();
        let end = match starts.get(i + 1) {
            Some(&next) => before(b, (next as usize).min(b.len())),
            None => b.len(),
        };
        let mut j = after;
        if b.get(j).is_some_and(|&c| CLASS[c as usize] & LWS != 0) {
            j = skip(b, j, LWS);
        }
        if j >= end || b.get(j) != Some(&b'=') {
            return Some(None);
        }
        let mut v = j + 1;
        if b.get(v).is_some_and(|&c| CLASS[c as usize] & LWS != 0) {
            v = skip(b, v, LWS);
        }
        return Some(s.get(v..end).map(unquote));
    }
    None
}

/// [`find_at`] or [`find_word`]: one copy for every list type.
fn find_key<'a>(
    s: &'a str,
    starts: Option<&[u8]>,
    sep: u8,
    k: &Key<'_>,
) -> Option<Option<&'a str>> {
    match starts {
        Some(at) => find_at(s, at, sep, k),
        None => find_word(s, sep, k),
    }
}

/// `ParamIter::find` by name, walking the bytes without building the parameters it passes.
///
/// The name is compared where a parameter starts, before its end is searched for: a hit needs
/// no scan of the name, a miss finds the name's end eight bytes at a time.
fn find<'a>(s: &'a str, starts: Option<&[u8]>, sep: u8, name: &str) -> Option<Option<&'a str>> {
    let n = name.as_bytes();
    let sep = sep_class(sep);
    // A parsed name never holds `=`, the separator or LWS: such a name matches nothing.
    if n.iter().any(|&c| CLASS[c as usize] & (EQ | sep | LWS) != 0) {
        return None;
    }
    let (needle, mask) = pack(n);
    let k = Key {
        name: n,
        needle,
        mask,
    };
    match starts {
        Some(at) => find_at(s, at, sep, &k),
        None => find_word(s, sep, &k),
    }
}

/// [`find`] once the name is checked and prepared, walking the list.
#[inline(never)]
fn find_word<'a>(s: &'a str, sep: u8, k: &Key<'_>) -> Option<Option<&'a str>> {
    let b = s.as_bytes();
    let ends_name = EQ | sep | LWS;
    let mut i = 0;
    loop {
        let name_start = skip(b, i, LWS | sep);
        if name_start == b.len() {
            return None;
        }
        let after = name_start + k.name.len();
        let hit = name_is(b, name_start, k, ends_name);
        let name_end = if hit {
            after
        } else {
            stop(b, name_start, b'=', sep_byte(sep), ends_name)
        };
        let mut j = name_end;
        if b.get(j).is_some_and(|&c| CLASS[c as usize] & LWS != 0) {
            j = skip(b, j, LWS);
        }
        if b.get(j) == Some(&b'=') {
            let mut v_start = j + 1;
            if b.get(v_start)
                .is_some_and(|&c| CLASS[c as usize] & LWS != 0)
            {
                v_start = skip(b, v_start, LWS);
            }
            let v_end = value_end(b, v_start, sep);
            if hit {
                return Some(s.get(v_start..v_end).map(unquote));
            }
            i = v_end;
        } else {
            if hit {
                return Some(None);
            }
            i = name_end;
        }
    }
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    #[inline]
    fn next(&mut self) -> Option<Param<'a>> {
        let b = self.rest.as_bytes();
        let sep = sep_class(self.sep);
        // SWS sep SWS (the first item of URI headers has no separator).
        let name_start = skip(b, 0, LWS | sep);
        if name_start == b.len() {
            self.rest = "";
            return None;
        }
        let mut i = until(b, name_start, EQ | sep | LWS);
        let name = self.rest.get(name_start..i)?;
        let mut j = skip(b, i, LWS);
        let mut value = None;
        if b.get(j) == Some(&b'=') {
            j = skip(b, j + 1, LWS);
            let v_start = j;
            j = value_end(b, j, sep);
            value = self.rest.get(v_start..j);
            i = j;
        }
        self.rest = self.rest.get(i..).unwrap_or("");
        Some(Param { name, value })
    }
}

/// Where [`Params::push`], [`Params::set_all`] and [`Params::remove`] build the new list:
/// [`ListBuf::STACK`] bytes on the stack (every list a user agent writes fits), the heap
/// beyond. A write is a bounds check and a copy: these lists are written a few short pieces
/// at a time (`;`, a name, `=`, a value), where a growable vector's reserve-and-copy costs
/// several times the copy.
struct ListBuf {
    stack: [u8; ListBuf::STACK],
    len: usize,
    /// Everything written, once it outgrew the stack.
    heap: alloc::vec::Vec<u8>,
    /// Where the names of the parameters written start, noted as they are (so that a list
    /// built here is found by its index, as a parsed one is, and not walked).
    starts: Starts,
}

impl ListBuf {
    const STACK: usize = 128;

    fn new() -> Self {
        ListBuf {
            stack: [0; Self::STACK],
            len: 0,
            heap: alloc::vec::Vec::new(),
            starts: Starts::EMPTY,
        }
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.len == 0 && self.heap.is_empty()
    }

    /// Bytes written.
    #[inline]
    fn written(&self) -> usize {
        if self.heap.is_empty() {
            self.len
        } else {
            self.heap.len()
        }
    }

    #[inline]
    fn put(&mut self, s: &str) {
        let b = s.as_bytes();
        if self.heap.is_empty() {
            let end = self.len + b.len();
            if let Some(dst) = self.stack.get_mut(self.len..end) {
                crate::msg::emit::copy(dst, b);
                self.len = end;
                return;
            }
            self.heap.reserve(end.max(2 * Self::STACK));
            self.heap
                .extend_from_slice(self.stack.get(..self.len).unwrap_or_default());
        }
        self.heap.extend_from_slice(b);
    }

    /// The index of the list written: where its parameters start, and whether it is in
    /// canonical form (checked once here rather than at every emission: a dialog's From
    /// with its tag goes out in every request of the dialog).
    fn index(&self, sep: u8, lead: bool) -> Starts {
        let mut starts = self.starts;
        if raw_is_canonical(self.as_str().as_bytes(), sep, lead) {
            starts.set_canonical();
        }
        starts
    }

    /// What was written: text, since only whole `&str`s are.
    #[allow(unsafe_code)]
    fn as_str(&self) -> &str {
        let b = if self.heap.is_empty() {
            self.stack.get(..self.len).unwrap_or_default()
        } else {
            &self.heap
        };
        debug_assert!(core::str::from_utf8(b).is_ok());
        // SAFETY: `put` is the only writer and appends whole `&str`s, so `b` is a
        // concatenation of UTF-8 strings, itself UTF-8.
        unsafe { core::str::from_utf8_unchecked(b) }
    }
}

/// The list built in `buf`.
fn list_str<T: for<'a> From<&'a str>>(buf: &ListBuf) -> T {
    T::from(buf.as_str())
}

/// Is `raw`, a list the parsers accepted (or that was built), already in canonical form — no
/// white space or line folding anywhere (around `;` and `=` the grammar allows it, `SEMI` and
/// `EQUAL` of RFC 3261 §25.1), the leading separator where the list has one, no empty
/// parameter? Then emitting it is one copy.
#[inline]
fn raw_is_canonical(raw: &[u8], sep: u8, lead: bool) -> bool {
    let (Some(&first), Some(&last)) = (raw.first(), raw.last()) else {
        return true;
    };
    if (first == sep) != lead || last == sep {
        return false;
    }
    // Eight bytes a step (SWAR): any byte below `!` (space, controls), any DEL, and two
    // separators in a row. The per-byte flags of the zero-byte test may be wrong above a true
    // hit, never in whether there is one: a wrong adjacent pair only sends the list down the
    // walked path, which writes the same text.
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |y: u64| y.wrapping_sub(ONES) & !y & HIGH;
    let mut chunks = raw.chunks_exact(8);
    let mut prev_sep = false;
    let mut word = |x: u64| {
        let seps = zero(x ^ (ONES * u64::from(sep)));
        let bad = (x.wrapping_sub(ONES * 0x21) & !x & HIGH) | zero(x ^ (ONES * 0x7f)) != 0
            || seps & (seps >> 8) != 0
            || (prev_sep && seps & 0x80 != 0);
        prev_sep = seps >> 63 != 0;
        !bad
    };
    for c in &mut chunks {
        if !word(<[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes)) {
            return false;
        }
    }
    // The last bytes padded with a letter (neither a separator nor a byte to reject).
    let mut tail = [b'a'; 8];
    for (t, &b) in tail.iter_mut().zip(chunks.remainder()) {
        *t = b;
    }
    word(u64::from_le_bytes(tail))
}

/// Appends `p` to the list being built in `s` (after its separator, unless it opens a list
/// that has no leading one).
fn append(s: &mut ListBuf, sep: u8, lead: bool, p: Param<'_>) {
    if lead || !s.is_empty() {
        s.put(if sep == b';' { ";" } else { "&" });
    }
    s.starts.push(s.written());
    write_param(&mut |x| s.put(x), true, sep, p);
}

/// [`append`] for a parameter of a canonical list, written as it is written there
/// (`name` or `name=value`).
fn append_whole(s: &mut ListBuf, sep: u8, lead: bool, text: &str) {
    if lead || !s.is_empty() {
        s.put(if sep == b';' { ";" } else { "&" });
    }
    s.starts.push(s.written());
    s.put(text);
}

/// Writes one parameter, preceded by its separator unless it is the first of a list that has
/// no leading separator.
fn write_param(out: &mut impl FnMut(&str), first: bool, sep: u8, p: Param<'_>) {
    if !first {
        out(if sep == b';' { ";" } else { "&" });
    }
    out(p.name);
    if let Some(v) = p.value {
        out("=");
        out(v);
    }
}

/// A list's text stored as the string type itself.
type Same<S> = S;

fn conv_same<S: Text, T: Text>(c: &mut impl Convert<S, T>, s: &S) -> T {
    c.text(s)
}

/// An empty list holds nothing whatever it was held as.
fn conv_rare<S: Text, T: Text>(c: &mut impl Convert<S, T>, s: &Rare<S>) -> Rare<T> {
    match s.as_text() {
        Some(x) => Rare::new(c.text(x)),
        None => Rare::default(),
    }
}

/// A list that fits is held inline whatever it was held as.
fn conv_wide<S: Text, T: Text>(c: &mut impl Convert<S, T>, s: &Wide<S>) -> Wide<T> {
    match s.as_text() {
        Some(x) => Wide::new(x.as_ref(), |_| c.text(x)),
        None => s.map(|x| c.text(x)),
    }
}

// The editing methods' work, on the text of a list with separator `sep` (`lead`: the list
// opens with one), written once for every list type.

/// Writes the list `raw` in canonical form: as it is when it already is (one copy), else
/// parameter by parameter.
fn write_list(raw: &str, sep: u8, lead: bool, known: bool, out: &mut impl FnMut(&str)) {
    if known || raw_is_canonical(raw.as_bytes(), sep, lead) {
        if !raw.is_empty() {
            out(raw);
        }
    } else {
        write_walked(raw, sep, lead, out);
    }
}

/// [`write_list`] parameter by parameter.
fn write_walked(raw: &str, sep: u8, lead: bool, out: &mut impl FnMut(&str)) {
    for (k, p) in (ParamIter { rest: raw, sep }).enumerate() {
        write_param(out, k == 0 && !lead, sep, p);
    }
}

/// The list `raw` with `p` appended, in canonical form.
fn pushed(raw: &str, at: Option<&[u8]>, sep: u8, lead: bool, p: Param<'_>) -> ListBuf {
    let mut s = ListBuf::new();
    if raw_is_canonical(raw.as_bytes(), sep, lead) {
        // Copied as it is: its index, if it has one, holds for the copy.
        s.put(raw);
        match at {
            Some(at) => at.iter().for_each(|&o| s.starts.push(usize::from(o))),
            None => s.starts = Starts::NONE,
        }
    } else {
        for p in (ParamIter { rest: raw, sep }) {
            append(&mut s, sep, lead, p);
        }
    }
    append(&mut s, sep, lead, p);
    s
}

/// Is `at` an index of `raw` as the parser or [`ListBuf`] makes one: the first name right
/// after the leading separator (at the start without one), each later one right after a
/// separator, offsets rising within the text? An index is trusted only then (none is made
/// otherwise; the list is then walked).
fn index_is_sound(raw: &str, at: &[u8], sep: u8, lead: bool) -> bool {
    let b = raw.as_bytes();
    at.windows(2).all(|w| w[0] < w[1])
        && at.iter().enumerate().all(|(k, &o)| {
            let o = usize::from(o);
            let after_sep = o > 0 && b.get(o - 1) == Some(&sep);
            raw.is_char_boundary(o)
                && if k == 0 {
                    o == usize::from(lead) && (after_sep || !lead)
                } else {
                    after_sep
                }
        })
}

/// Writes to `out` the list [`with_set`] makes, without making it when the list is indexed
/// and canonical: the runs of parameters left as they are go out as slices of `raw` (one
/// write for the usual `;branch=…` before `;rport`), each parameter of `set` as
/// `name=value` where the list has the name (its later repeats dropped) and at the end
/// otherwise. A list walked, or a `set` of more than eight, goes through [`with_set`].
fn write_with_set(
    raw: &str,
    at: Option<&[u8]>,
    canonical: bool,
    sep: u8,
    lead: bool,
    set: &[(&str, &str)],
    out: &mut impl FnMut(&str),
) {
    let mut done = [false; 8];
    let (Some(at), Some(done)) = (
        at.filter(|_| canonical)
            .filter(|at| index_is_sound(raw, at, sep, lead)),
        done.get_mut(..set.len()),
    ) else {
        let s = with_set(raw, at, canonical, sep, lead, set);
        if !s.is_empty() {
            out(s.as_str());
        }
        return;
    };
    // `raw[run..]` is what is still to be written as it is.
    let mut run = 0;
    let mut w = Written {
        out,
        sep: if sep == b';' { ";" } else { "&" },
        lead,
        wrote: false,
    };
    for (k, &start) in at.iter().enumerate() {
        let start = usize::from(start);
        let end = at
            .get(k + 1)
            .map_or(raw.len(), |&next| usize::from(next).saturating_sub(1));
        // Within the text and on character boundaries (`index_is_sound`).
        let Some(text) = raw.get(start..end) else {
            continue;
        };
        // A name is a token: the first `=` ends it.
        let name = text.split_once('=').map_or(text, |(name, _)| name);
        let Some(i) = set.iter().position(|(n, _)| name.eq_ignore_ascii_case(n)) else {
            continue;
        };
        // The run before this parameter, without the separator in front of it (the first
        // parameter of a list without a leading one has none).
        let cut = if k == 0 && !lead {
            start
        } else {
            start.saturating_sub(1)
        };
        w.put(raw.get(run..cut).unwrap_or_default());
        run = end;
        if !done[i] {
            done[i] = true;
            w.param(set[i]);
        }
    }
    w.put(raw.get(run..).unwrap_or_default());
    for (i, _) in done.iter().enumerate().filter(|(_, d)| !**d) {
        w.param(set[i]);
    }
}

/// What [`write_with_set`] writes to, and whether it has written anything yet (a list
/// without a leading separator has none before its first parameter).
struct Written<'o, F> {
    out: &'o mut F,
    sep: &'static str,
    lead: bool,
    wrote: bool,
}

impl<F: FnMut(&str)> Written<'_, F> {
    /// Writes `x` (nothing when empty).
    #[inline(always)]
    fn put(&mut self, x: &str) {
        if !x.is_empty() {
            (self.out)(x);
            self.wrote = true;
        }
    }

    /// Writes the parameter `name=value`, after its separator (see [`append`]).
    #[inline(always)]
    fn param(&mut self, (name, value): (&str, &str)) {
        if self.lead || self.wrote {
            self.put(self.sep);
        }
        self.put(name);
        self.put("=");
        self.put(value);
    }
}

/// The list `raw` with each `(name, value)` of `set` given that value (see `set_all`).
///
/// `at` is the list's index (where its parameters' names start) and `canonical` whether it
/// is marked canonical (by the parser, or by [`ListBuf::index`]). When it is both, each
/// parameter is the text from its name to the separator before the next one (one separator
/// byte, no white space between them): a parameter left as it is is then copied whole, and
/// the text is not walked — the top Via of every response a user agent sends goes through
/// here (RFC 3581 §4).
fn with_set(
    raw: &str,
    at: Option<&[u8]>,
    canonical: bool,
    sep: u8,
    lead: bool,
    set: &[(&str, &str)],
) -> ListBuf {
    let mut s = ListBuf::new();
    // Which entries of `set` were written (on the stack for a few: `received` and `rport`
    // are two).
    let mut few = [false; 8];
    let mut many = alloc::vec::Vec::new();
    let done: &mut [bool] = match few.get_mut(..set.len()) {
        Some(d) => d,
        None => {
            many.resize(set.len(), false);
            &mut many
        }
    };
    let to_set = |i: usize| Param {
        name: set[i].0,
        value: Some(set[i].1),
    };
    // One parameter of `raw`, with its whole text when the list is indexed and canonical.
    let mut one = |s: &mut ListBuf, p: Param<'_>, whole: Option<&str>| match set
        .iter()
        .position(|(n, _)| p.name.eq_ignore_ascii_case(n))
    {
        Some(i) if done[i] => {}
        Some(i) => {
            done[i] = true;
            append(s, sep, lead, to_set(i));
        }
        None => match whole {
            Some(text) => append_whole(s, sep, lead, text),
            None => append(s, sep, lead, p),
        },
    };
    match at
        .filter(|_| canonical)
        .filter(|at| index_is_sound(raw, at, sep, lead))
    {
        Some(at) => {
            for (k, &start) in at.iter().enumerate() {
                let end = at
                    .get(k + 1)
                    .map_or(raw.len(), |&next| usize::from(next) - 1);
                // Within the text and on character boundaries (`sound`).
                let Some(text) = raw.get(usize::from(start)..end) else {
                    continue;
                };
                // A name is a token: the first `=` ends it.
                let p = match text.split_once('=') {
                    Some((name, value)) => Param {
                        name,
                        value: Some(value),
                    },
                    None => Param {
                        name: text,
                        value: None,
                    },
                };
                one(&mut s, p, Some(text));
            }
        }
        None => {
            for p in (ParamIter { rest: raw, sep }) {
                one(&mut s, p, None);
            }
        }
    }
    for (i, _) in done.iter().enumerate().filter(|(_, d)| !**d) {
        append(&mut s, sep, lead, to_set(i));
    }
    s
}

/// The list `raw` without the parameters named `name` (case-insensitive).
fn without(raw: &str, sep: u8, lead: bool, name: &str) -> ListBuf {
    let mut s = ListBuf::new();
    for p in (ParamIter { rest: raw, sep }).filter(|p| !p.name.eq_ignore_ascii_case(name)) {
        append(&mut s, sep, lead, p);
    }
    s
}

/// The editing methods of a list whose text is `$t` (an owned string type).
macro_rules! owned_list {
    ($name:ident, $sep:literal, $lead:literal, $idx:ident, $t:ty) => {
        impl $name<$t> {
            /// An empty list.
            pub fn new() -> Self {
                $name(Default::default(), $idx::EMPTY)
            }

            /// A list of `(name, value)` in order (values as they are to be written), built
            /// in one go: what [`Self::push`] per parameter gives, with one copy in all.
            pub fn of(list: &[(&str, Option<&str>)]) -> Self {
                if list.is_empty() {
                    return Self::new();
                }
                let mut s = ListBuf::new();
                for &(name, value) in list {
                    append(&mut s, $sep, $lead, Param { name, value });
                }
                $name(list_str(&s), $idx::noted(s.index($sep, $lead)))
            }

            /// Adds a parameter at the end (`value` as it is to be written: escaped in a URI,
            /// quoted if it needs to be a quoted-string).
            pub fn push(&mut self, name: &str, value: Option<&str>) {
                // Built on the stack: a short list ends up inline in the SipStr, a longer one
                // costs the one allocation of its copy.
                let s = pushed(
                    self.as_str(),
                    self.1.get(),
                    $sep,
                    $lead,
                    Param { name, value },
                );
                *self = $name(list_str(&s), $idx::noted(s.index($sep, $lead)));
            }

            /// Gives each `(name, value)` of `set` that value: in place where the list has
            /// the name already (its later repeats dropped), at the end otherwise — in one
            /// rebuild of the list (RFC 3581 §4: the server's `received` and `rport`).
            pub fn set_all(&mut self, set: &[(&str, &str)]) {
                let s = with_set(
                    self.as_str(),
                    self.1.get(),
                    self.1.canonical(),
                    $sep,
                    $lead,
                    set,
                );
                *self = $name(list_str(&s), $idx::noted(s.index($sep, $lead)));
            }

            /// Adds a parameter, builder style.
            pub fn with(mut self, name: &str, value: Option<&str>) -> Self {
                self.push(name, value);
                self
            }

            /// Removes every parameter with this name (case-insensitive).
            pub fn remove(&mut self, name: &str) {
                if !self.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
                    return;
                }
                let s = without(self.as_str(), $sep, $lead, name);
                *self = $name(list_str(&s), $idx::noted(s.index($sep, $lead)));
            }
        }
    };
}

macro_rules! param_list {
    ($(#[$doc:meta])* $name:ident, $sep:literal, $lead:literal, $idx:ident, $store:ident, $conv:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name<S: Text>($store<S>, $idx);

        impl<S: Text> Default for $name<S> {
            fn default() -> Self {
                $name(Default::default(), $idx::EMPTY)
            }
        }

        impl<S: Text> core::fmt::Debug for $name<S> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }

        impl<S: Text> $name<S> {
            /// Wraps text already known to match the grammar, whose parameters' names start
            /// at `starts` (as the parsers note them).
            #[inline]
            pub(crate) fn from_parsed(raw: $store<S>, starts: $idx) -> Self {
                $name(raw, starts)
            }

            /// The list as written.
            pub fn as_str(&self) -> &str {
                self.0.as_ref()
            }

            /// No parameters?
            pub fn is_empty(&self) -> bool {
                self.iter().next().is_none()
            }

            /// How many parameters.
            pub fn len(&self) -> usize {
                self.iter().count()
            }

            /// The parameters in order.
            pub fn iter(&self) -> ParamIter<'_> {
                ParamIter { rest: self.0.as_ref(), sep: $sep }
            }

            /// A parameter by name (case-insensitive): `Some(None)` when it has no value,
            /// `Some(Some(v))` with surrounding quotes removed.
            pub fn get(&self, name: &str) -> Option<Option<&str>> {
                find(self.0.as_ref(), self.1.get(), $sep, name)
            }

            /// [`Self::get`] for a name prepared at compile time.
            #[inline]
            #[allow(dead_code)] // not every list type has well-known names
            pub(crate) fn get_key(&self, k: &Key) -> Option<Option<&str>> {
                find_key(self.0.as_ref(), self.1.get(), sep_class($sep), k)
            }

            /// Converts the string storage.
            pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> $name<T> {
                let text = $conv(c, &self.0);
                // The offsets hold for the same text only.
                let starts = if text.utf8() == self.0.utf8() { self.1 } else { $idx::NONE };
                $name(text, starts)
            }

            /// Writes the list in canonical form (`;name=value` each; `name=value&...` for URI
            /// headers).
            pub fn write_canonical(&self, out: &mut impl FnMut(&str)) {
                write_list(self.0.as_ref(), $sep, $lead, self.1.canonical(), out);
            }

        }

        owned_list!($name, $sep, $lead, $idx, SipStr);

        impl<S: Text> PartialEq for $name<S> {
            fn eq(&self, other: &Self) -> bool {
                let (mut a, mut b) = (self.iter(), other.iter());
                loop {
                    match (a.next(), b.next()) {
                        (None, None) => return true,
                        (Some(x), Some(y))
                            if x.name.eq_ignore_ascii_case(y.name) && x.value == y.value => {}
                        _ => return false,
                    }
                }
            }
        }

        impl<S: Text> Eq for $name<S> {}

        impl<S: Text> Hash for $name<S> {
            fn hash<H: Hasher>(&self, h: &mut H) {
                for p in self.iter() {
                    for c in p.name.bytes() {
                        h.write_u8(c.to_ascii_lowercase());
                    }
                    p.value.hash(h);
                }
            }
        }
    };
}

param_list!(
    /// `*( SEMI param )`: header parameters or URI parameters, as written.
    Params, b';', true, Starts, Same, conv_same
);

param_list!(
    /// A Via's parameters (`;branch=…;rport;received=…`, RFC 3261 §20.42, RFC 3581 §4), as
    /// written: [`Params`] whose text is held inline up to 62 bytes (see [`Wide`]) — a request's
    /// Via or a response's with `received` and `rport` costs no allocation and, parsed, no
    /// slice of the datagram.
    ViaParams, b';', true, Starts, Wide, conv_wide
);

impl<S: Text> ViaParams<S> {
    /// Writes to `out` the list as [`ViaParams::set_all`] would leave it and emission then
    /// write it, without making the list: the stamp of a response written straight from
    /// its request's fields (RFC 3581 §4, `Message::plain_response`).
    pub(crate) fn write_set(&self, set: &[(&str, &str)], out: &mut impl FnMut(&str)) {
        write_with_set(
            self.as_str(),
            self.1.get(),
            self.1.canonical(),
            b';',
            true,
            set,
            out,
        );
    }
}

impl ViaParams<SipStr> {
    /// `;branch=<branch>;rport` — what [`Self::of`] builds from those two, written and
    /// indexed without the general walk: the parameters of the Via a user agent puts on each
    /// request it sends (RFC 3261 §8.1.1.7: `via-branch = "branch" EQUAL token`; RFC 3581 §3).
    /// A branch that is not a token is left to [`Self::of`].
    pub(crate) fn branch_rport(branch: &str) -> Self {
        const HEAD: &str = ";branch=";
        const TAIL: &str = ";rport";
        if branch.is_empty() || !branch.bytes().all(crate::parse::chars::is_token) {
            return Self::of(&[("branch", Some(branch)), ("rport", None)]);
        }
        let mut s = ListBuf::new();
        s.put(HEAD);
        s.put(branch);
        s.put(TAIL);
        // No white space, one separator before each name, a token value: canonical.
        let mut starts = Starts::EMPTY;
        starts.push(1);
        starts.push(HEAD.len() + branch.len() + 1);
        starts.set_canonical();
        ViaParams(list_str(&s), starts)
    }
}

param_list!(
    /// URI `headers` (`hname=hvalue&...`, the part after `?`), as written (escaped); held
    /// in one pointer's room, on the heap when there are any (see `text::Rare`).
    UriHeaders, b'&', false, Walk, Rare, conv_rare
);

impl crate::text::Detach for Params<crate::text::SipStr> {
    #[inline]
    fn detach(&mut self) {
        self.0.detach();
    }
}

impl crate::text::Detach for UriHeaders<crate::text::SipStr> {
    #[inline]
    fn detach(&mut self) {
        self.0.detach();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    /// A Via's list is held inline up to 62 bytes and as a string beyond, with the same
    /// behaviour either way; a parsed one that fits does not slice the datagram.
    #[test]
    fn via_params_inline_and_long() {
        let mut p = ViaParams::of(&[("branch", Some("z9hG4bKabcdefghijklmnop")), ("rport", None)]);
        assert!(p.0.as_text().is_none());
        p.set_all(&[("received", "192.0.2.1"), ("rport", "5062")]);
        assert_eq!(
            p.as_str(),
            ";branch=z9hG4bKabcdefghijklmnop;rport=5062;received=192.0.2.1"
        );
        assert!(p.0.as_text().is_none(), "{} bytes", p.as_str().len());
        assert_eq!(p.get("RPORT"), Some(Some("5062")));
        p.push(
            "x-long-parameter-name",
            Some("and-a-value-that-does-not-fit"),
        );
        assert!(p.0.as_text().is_some());
        assert_eq!(
            p.get("x-long-parameter-name"),
            Some(Some("and-a-value-that-does-not-fit"))
        );
        assert_eq!(p.get("branch"), Some(Some("z9hG4bKabcdefghijklmnop")));
        p.remove("x-long-parameter-name");
        assert!(p.0.as_text().is_none());
        // Equal whatever the storage.
        let long = ViaParams::from_parsed(Wide::text(SipStr::from(p.as_str())), Starts::NONE);
        assert_eq!(long, p);

        let buf = bytes::Bytes::from(alloc::vec::Vec::from(
            &b"BYE sip:b@192.0.2.2 SIP/2.0\r\n\
                Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabcdefghijklmnop;rport\r\n\
                From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:b@192.0.2.2>;tag=2\r\n\
                Call-ID: c1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"[..],
        ));
        let mut m = crate::msg::Message::parse(buf.clone(), &Default::default()).unwrap();
        let via = m.top_via().unwrap();
        assert_eq!(via.branch(), Some("z9hG4bKabcdefghijklmnop"));
        assert_eq!(via.rport(), Some(None));
        // Nothing of the typed message points into the datagram (the lines kept to write it
        // back do): it is ours alone again once they are forgotten.
        m.headers.forget_lines();
        assert!(buf.is_unique());
    }

    /// `set_all` replaces in place, drops repeats and appends what is missing (the server's
    /// `received` and `rport`, RFC 3581 §4).
    #[test]
    fn set_all_replaces_in_place_and_appends() {
        let mut p = Params::new()
            .with("branch", Some("z9hG4bK1"))
            .with("rport", None)
            .with("x", None)
            .with("RPORT", Some("9"));
        p.set_all(&[("received", "192.0.2.1"), ("rport", "5062")]);
        let got: alloc::vec::Vec<(&str, Option<&str>)> =
            p.iter().map(|q| (q.name, q.value)).collect();
        assert_eq!(
            got,
            [
                ("branch", Some("z9hG4bK1")),
                ("rport", Some("5062")),
                ("x", None),
                ("received", Some("192.0.2.1")),
            ]
        );
        // Any number of entries.
        let mut q = Params::new();
        q.set_all(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")]);
        assert_eq!(q.as_str(), ";a=1;b=2;c=3;d=4;e=5");
    }

    /// Our Via's parameters, written directly, are what `of` writes, indexed the same.
    #[test]
    fn branch_rport_equals_of() {
        for branch in [
            "z9hG4bKabcdefghijklmnop",
            "z9hG4bK-x.y!%*_+`'~",
            "a;b",
            "",
            "x y",
        ] {
            let direct = ViaParams::branch_rport(branch);
            let of = ViaParams::of(&[("branch", Some(branch)), ("rport", None)]);
            assert_eq!(direct.as_str(), of.as_str(), "{branch:?}");
            assert!(direct.1 == of.1, "{branch:?}");
        }
    }

    /// `set_all` on an indexed canonical list (parameters copied whole, the text not
    /// walked) writes what it writes on the same list walked, and indexes it the same, for
    /// parsed and built lists, quoted values holding `;` and `=` among them.
    #[test]
    fn set_all_indexed_equals_walked() {
        let sets: [&[(&str, &str)]; 4] = [
            &[("received", "192.0.2.1"), ("rport", "5062")],
            &[("received", "192.0.2.1")],
            &[("BRANCH", "z9hG4bKnew"), ("x", "\"q;r=s\"")],
            &[],
        ];
        for params in [
            ";branch=z9hG4bK1;rport",
            ";branch=z9hG4bK1;rport=5060;received=192.0.2.9",
            ";x=\"a;b=c\";branch=z9hG4bK2;rport",
            ";RPORT;branch=z9hG4bK3;rport=7;lr",
            ";branch=z9hG4bK4;maddr=[2001:db8::1];ttl=1",
            "",
        ] {
            let wire = alloc::format!(
                "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h{params}\r\n\
                 From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n\
                 CSeq: 1 OPTIONS\r\n\r\n"
            );
            let m =
                crate::msg::Message::parse(bytes::Bytes::from(wire), &Default::default()).unwrap();
            let parsed = m.top_via().unwrap().params.clone();
            assert!(parsed.1.get().is_some(), "{params:?} is indexed");
            let mut built = Params::<SipStr>::new();
            for q in parsed.iter() {
                built.push(q.name, q.value);
            }
            for set in sets {
                let mut indexed = parsed.clone();
                let mut walked = ViaParams(parsed.0.clone(), Starts::NONE);
                indexed.set_all(set);
                walked.set_all(set);
                assert_eq!(indexed.as_str(), walked.as_str(), "{params:?} {set:?}");
                assert!(indexed.1 == walked.1, "{params:?} {set:?}");
                let mut b = built.clone();
                let mut bw = Params::<SipStr>(built.0.clone(), Starts::NONE);
                b.set_all(set);
                bw.set_all(set);
                assert_eq!(b.as_str(), bw.as_str(), "{params:?} {set:?}");
                assert_eq!(b.as_str(), indexed.as_str(), "{params:?} {set:?}");
                // Written straight (a response's stamp), indexed or walked: the same text.
                for list in [&parsed, &ViaParams(parsed.0.clone(), Starts::NONE)] {
                    let mut w = alloc::string::String::new();
                    list.write_set(set, &mut |x| w.push_str(x));
                    assert_eq!(w, indexed.as_str(), "{params:?} {set:?}");
                }
            }
        }
        let mut p = crate::msg::Message::parse(
            bytes::Bytes::from_static(
                b"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1;rport\r\n\
                  From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
            ),
            &Default::default(),
        )
        .unwrap()
        .top_via()
        .unwrap()
        .params
        .clone();
        p.set_all(&[("received", "192.0.2.1"), ("rport", "5062")]);
        assert_eq!(p.as_str(), ";branch=z9hG4bK1;rport=5062;received=192.0.2.1");
        // An index that is not the list's (offsets inside a value, or past the text) is not
        // followed: the list is walked.
        for offsets in [&[1u8, 3][..], &[1, 40], &[2, 5], &[0, 5]] {
            let mut starts = Starts::EMPTY;
            offsets.iter().for_each(|&o| starts.push(usize::from(o)));
            starts.set_canonical();
            let mut bad = ViaParams(Wide::from(";a=1;b=2"), starts);
            bad.set_all(&[("b", "3"), ("c", "4")]);
            assert_eq!(bad.as_str(), ";a=1;b=3;c=4", "{offsets:?}");
        }
    }

    /// [`write_with_set`] writes what [`with_set`] makes, on lists with and without a leading
    /// separator, indexed or not: parameters set in place, at the end, first, last and
    /// repeated, names in another case, and sets longer than its stack's eight.
    #[test]
    fn written_with_set_equals_made() {
        let lists: [(&str, u8, bool); 9] = [
            (";branch=z9hG4bK1;rport", b';', true),
            (";rport;branch=z9hG4bK1", b';', true),
            (";received=x;rport=1;RECEIVED=y;lr", b';', true),
            (";a", b';', true),
            ("", b';', true),
            ("a=1&b=2&a=3", b'&', false),
            ("b=2&a=1", b'&', false),
            ("A", b'&', false),
            ("", b'&', false),
        ];
        let eight: [(&str, &str); 9] = [
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("d", "4"),
            ("e", "5"),
            ("f", "6"),
            ("g", "7"),
            ("h", "8"),
            ("i", "9"),
        ];
        let sets: [&[(&str, &str)]; 6] = [
            &[("received", "192.0.2.1"), ("rport", "5062")],
            &[("rport", "5062")],
            &[("a", "9")],
            &[("b", "9"), ("z", "0")],
            &[],
            &eight,
        ];
        for (raw, sep, lead) in lists {
            // The index the parser would make: each name after a separator.
            let mut starts = Starts::EMPTY;
            let b = raw.as_bytes();
            for (k, &c) in b.iter().enumerate() {
                if c == sep {
                    starts.push(k + 1);
                }
            }
            if !lead && !raw.is_empty() {
                let mut s = Starts::EMPTY;
                s.push(0);
                starts
                    .get()
                    .unwrap()
                    .iter()
                    .for_each(|&o| s.push(usize::from(o)));
                starts = s;
            }
            for set in sets {
                let made = with_set(raw, None, false, sep, lead, set);
                for (at, canonical) in [(starts.get(), true), (starts.get(), false), (None, true)] {
                    let mut w = alloc::string::String::new();
                    write_with_set(raw, at, canonical, sep, lead, set, &mut |x| w.push_str(x));
                    assert_eq!(w, made.as_str(), "{raw:?} {set:?} {at:?} {canonical}");
                }
            }
        }
    }

    /// A list built or edited here is indexed as the parser indexes it: every lookup on
    /// it finds what a walk of its text finds, and short lists are not walked.
    #[test]
    fn built_lists_indexed() {
        let check = |p: &Params<SipStr>, indexed: bool| {
            assert_eq!(p.1.get().is_some(), indexed, "{}", p.as_str());
            assert_eq!(
                p.1.canonical(),
                raw_is_canonical(p.as_str().as_bytes(), b';', true),
                "{}",
                p.as_str()
            );
            let walked = Params::<SipStr>(p.0.clone(), Starts::NONE);
            for name in ["branch", "rport", "received", "x", "y", "tag", "lr", "z9"] {
                assert_eq!(p.get(name), walked.get(name), "{name} in {}", p.as_str());
            }
        };
        let mut p = Params::of(&[("branch", Some("z9hG4bK1")), ("rport", None)]);
        check(&p, true);
        p.set_all(&[("received", "192.0.2.1"), ("rport", "5062")]);
        check(&p, true);
        p.push("x", Some("\"a;b\""));
        check(&p, true);
        p.remove("rport");
        check(&p, true);
        // A parsed list with white space is rewritten, and indexed, when pushed to.
        let parsed = crate::msg::Message::parse(
            bytes::Bytes::from_static(
                b"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h ; branch = z9hG4bK2 ;rport\r\n\
                  From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
            ),
            &Default::default(),
        )
        .unwrap();
        let mut v = Params::<SipStr>::of(&[]);
        for q in parsed.top_via().unwrap().params.iter() {
            v.push(q.name, q.value);
        }
        v.push("y", None);
        check(&v, true);
        // A value with a space (a quoted-string, as given): indexed, not marked canonical.
        let spaced = Params::of(&[("x", Some("\"a b\""))]);
        check(&spaced, true);
        assert!(!spaced.1.canonical());
        // Eight parameters: more than the index holds, so walked.
        let mut long = Params::new();
        for k in 0..8 {
            long.push(["a", "b", "c", "d", "e", "f", "g", "lr"][k], None);
        }
        check(&long, false);
    }

    /// The parser marks a list canonical only when the check at emission would find it so
    /// (sound: emission then copies what it would have copied), and does mark the usual
    /// layout, in header parameters and URI parameters alike.
    #[test]
    fn parsed_canonical_mark_is_sound() {
        for (params, marked) in [
            (";branch=z9hG4bK1;rport", true),
            (";branch=z9hG4bK1;received=[2001:db8::1];rport=5060", true),
            (";x=\"a;b\";branch=z9hG4bK2", false),
            (";x=\"a b\"", false),
            (" ; branch = z9hG4bK3 ;rport", false),
            (";branch=z9hG4bK4 ;rport", false),
            ("", false),
        ] {
            let wire = alloc::format!(
                "OPTIONS sip:b@h;transport=udp;lr SIP/2.0\r\nVia: SIP/2.0/UDP h{params}\r\n\
                 From: <sip:a@h;user=phone>{params}\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n\
                 CSeq: 1 OPTIONS\r\n\r\n"
            );
            let m =
                crate::msg::Message::parse(bytes::Bytes::from(wire), &Default::default()).unwrap();
            let via = &m.top_via().unwrap().params;
            let from = &m.from().unwrap().params;
            for (raw, starts) in [(via.as_str(), via.1), (from.as_str(), from.1)] {
                assert_eq!(starts.canonical(), marked, "{params:?}");
                if starts.canonical() {
                    assert!(raw_is_canonical(raw.as_bytes(), b';', true), "{params:?}");
                }
            }
            let crate::msg::Uri::Sip(u) = &m.from().unwrap().uri else {
                panic!("a SIP URI")
            };
            assert!(u.params.1.canonical());
            assert!(raw_is_canonical(u.params.as_str().as_bytes(), b';', true));
        }
    }

    /// `of` builds what a chain of `push`es builds, for both separators.
    #[test]
    fn of_equals_pushes() {
        let list = [
            ("branch", Some("z9hG4bK1234567890abcdef")),
            ("rport", None),
            ("x", Some("1")),
        ];
        let mut pushed = Params::new();
        let mut pushed_h = UriHeaders::new();
        for (n, v) in list {
            pushed.push(n, v);
            pushed_h.push(n, v);
        }
        assert_eq!(Params::of(&list).as_str(), pushed.as_str());
        assert_eq!(
            Params::of(&list).as_str(),
            ";branch=z9hG4bK1234567890abcdef;rport;x=1"
        );
        assert_eq!(UriHeaders::of(&list).as_str(), pushed_h.as_str());
        assert_eq!(Params::of(&[]).as_str(), "");
        assert_eq!(
            Params::of(&list).get("branch"),
            Some(Some("z9hG4bK1234567890abcdef"))
        );
    }

    /// The eight-bytes-a-step canonical test agrees with a bytewise one on every byte string
    /// of up to 6 symbols and on random ones up to 24, over separators, letters, the bytes
    /// around the limits (`0x20`, `!`, DEL, `0x80`, `0xff`), for both separators and leads.
    #[test]
    fn canonical_test_matches_bytewise() {
        fn bytewise(raw: &[u8], sep: u8, lead: bool) -> bool {
            let Some((&first, _)) = raw.split_first() else {
                return true;
            };
            (first == sep) == lead
                && raw.last() != Some(&sep)
                && raw.iter().all(|&b| b > b' ' && b != 0x7f)
                && !raw.windows(2).any(|w| w[0] == sep && w[1] == sep)
        }
        // `:` and `'` are the separators with their lowest bit flipped, the one place where
        // the word test may flag a byte above a real separator.
        let alphabet = [b';', b'&', b'a', b' ', b'!', 0x7f, 0x80, 0xff, b':', b'\''];
        let mut raw = alloc::vec::Vec::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        // Every string of up to 6 symbols, then 20 000 random ones of each length to 24.
        let cases = (0..=6u32)
            .flat_map(|len| (0..10u64.pow(len)).map(move |n| (len, n)))
            .chain((7..=24u32).flat_map(|len| (0..20_000u64).map(move |_| (len, u64::MAX))));
        for (len, n) in cases {
            raw.clear();
            let mut k = n;
            for _ in 0..len {
                if n == u64::MAX {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    k = (seed >> 32) % 10;
                }
                raw.push(alphabet[(k % 10) as usize]);
                k /= 10;
            }
            for (sep, lead) in [(b';', true), (b'&', false)] {
                let (fast, slow) = (raw_is_canonical(&raw, sep, lead), bytewise(&raw, sep, lead));
                // The fast test may only say "no" where the bytewise one says "yes" (the
                // walked path then writes the same text), and only after a separator
                // followed by that separator with its lowest bit flipped.
                if fast != slow {
                    assert!(
                        !fast && raw.windows(2).any(|w| w[0] == sep && w[1] == sep ^ 1),
                        "{raw:?}"
                    );
                }
            }
        }
    }

    /// The word-at-a-time lowercasing agrees with `u8::to_ascii_lowercase` for every byte in
    /// every lane.
    #[test]
    fn lower_matches_to_ascii_lowercase() {
        for c in 0..=255u8 {
            for lane in 0..8 {
                let x = (c as u64) << (8 * lane) | 0x4142_4344_4546_4748 & !(0xff << (8 * lane));
                let want = u64::from_le_bytes(x.to_le_bytes().map(|b| b.to_ascii_lowercase()));
                assert_eq!(lower(x), want, "{c:#x} lane {lane}");
            }
        }
    }

    /// `find` agrees with the iterator on every string over a small alphabet (quotes, escapes,
    /// separators, LWS, control and multi-byte text, values longer than a word included).
    #[test]
    fn find_matches_iter() {
        let alphabet: [&str; 12] = [
            "a",
            "aBcdefghij",
            "b",
            "=",
            ";",
            "&",
            " ",
            "\"",
            "\\",
            "\r\n ",
            "é\x01",
            "ab",
        ];
        let names = [
            "a",
            "A",
            "b",
            "ab",
            "x",
            "",
            "abcdefgh",
            "aBcdefghij",
            "a=",
            "é",
        ];
        let mut s = alloc::string::String::new();
        for n in 0u32..12u32.pow(5) {
            s.clear();
            let mut k = n;
            for _ in 0..5 {
                s.push_str(alphabet[(k % 12) as usize]);
                k /= 12;
            }
            let b = s.as_bytes();
            for j in 0..=b.len() {
                for sep in [SEMI, AMP] {
                    assert_eq!(until_word(b, j, sep), until(b, j, sep | LWS), "{s:?} {j}");
                }
            }
            for sep in [b';', b'&'] {
                for name in names {
                    let walked = ParamIter { rest: &s, sep }
                        .find(|p| p.name.eq_ignore_ascii_case(name))
                        .map(|p| p.unquoted());
                    let t: &str = &s;
                    assert_eq!(find(t, None, sep, name), walked, "{s:?} {name:?}");
                    let o = SipStr::from(t);
                    assert_eq!(find(&o, None, sep, name), walked, "{s:?} {name:?}");
                }
            }
        }
    }

    /// Lookups through the parsers' start offsets agree with the walk over every list the
    /// parsers accept that is built from a small alphabet (header parameters with quoted
    /// strings, escapes, folding and white space around `;` and `=`; URI parameters; URI
    /// headers), and lists too long for the note are walked.
    #[test]
    fn indexed_lookup_matches_iter() {
        use crate::parse::ctx::View;
        use crate::parse::{header, uri};
        let names = ["a", "A", "b", "ab", "abcdefghij", "x", "é", "a=", ""];
        fn check<S: Text>(p: &Params<S>, names: &[&str], s: &str) {
            for name in names {
                let walked = p
                    .iter()
                    .find(|q| q.name.eq_ignore_ascii_case(name))
                    .map(|q| q.unquoted());
                assert_eq!(p.get(name), walked, "{s:?} {name:?}");
            }
        }
        let alphabet: [&str; 12] = [
            ";",
            "a",
            "b",
            "=",
            " ",
            "\"",
            "\\",
            "\r\n ",
            "abcdefghij",
            "é",
            "AB",
            "x;y",
        ];
        let mut text = String::new();
        let mut indexed = 0;
        for n in 0u32..12u32.pow(6) {
            text.clear();
            text.push(';');
            let mut k = n;
            for _ in 0..6 {
                text.push_str(alphabet[(k % 12) as usize]);
                k /= 12;
            }
            let b = text.as_bytes();
            if let Ok(([], p)) = header::params(View::new(b), b) {
                indexed += usize::from(p.1.get().is_some());
                check(&p, &names, &text);
                // Emitting the list as written, when it is canonical, gives what the walk gives.
                let (mut fast, mut walked) = (String::new(), String::new());
                p.write_canonical(&mut |x| fast.push_str(x));
                write_walked(p.as_str(), b';', true, &mut |x| walked.push_str(x));
                assert_eq!(fast, walked, "{text:?}");
                // The owned model keeps the offsets (same text).
                let o = p.convert(&mut crate::text::Share::new(
                    &bytes::Bytes::copy_from_slice(b),
                ));
                assert!(o.1 == p.1, "{text:?}");
                check(&o, &names, &text);
            }
        }
        assert!(indexed > 10_000, "{indexed}");
        for (list, want) in [
            (";a=1;b;ab=2;abcdefghij=3", Some(Some("3"))),
            (";a;a;a;a;a;a;a;abcdefghij=8", Some(Some("8"))),
            (";abcdefghij=2%41", Some(Some("2%41"))),
        ] {
            let (r, p) = uri::uri_params(View::new(list.as_bytes()), list.as_bytes()).unwrap();
            assert!(r.is_empty());
            assert_eq!(p.get("ABCDEFGHIJ"), want, "{list}");
            assert_eq!(
                p.get("a"),
                p.iter().find(|q| q.name == "a").map(|q| q.value)
            );
        }
        // Eight parameters: not indexed, walked.
        let eight = b";a;b;c;d;e;f;g;h=8";
        let (_, p) = header::params(View::new(eight), eight).unwrap();
        assert!(p.1.get().is_none());
        assert_eq!(p.get("H"), Some(Some("8")));
        // Offsets past 255: not indexed, walked.
        let far = alloc::format!(";{}=1;b=2", "a".repeat(300));
        let (_, p) = header::params(View::new(far.as_bytes()), far.as_bytes()).unwrap();
        assert!(p.1.get().is_none());
        assert_eq!(p.get("b"), Some(Some("2")));
        // Changed by hand: walked.
        let mut q: Params<SipStr> = Params::new().with("a", Some("1"));
        q.push("b", None);
        assert_eq!(
            (q.get("a"), q.get("b"), q.get("c")),
            (Some(Some("1")), Some(None), None)
        );
    }
}
