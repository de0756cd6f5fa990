//! Parameters: `*( SEMI generic-param )` with `generic-param = token [ EQUAL gen-value ]`,
//! `gen-value = token / host / quoted-string` (RFC 3261 §25.1), URI `uri-parameters` and URI
//! `headers` (`?name=value&...`, §19.1.1).
//!
//! A parameter list is kept as the one span of text it was parsed from and walked on access:
//! parsing validates it without building anything, and the model stays small. Equality,
//! hashing and emission go parameter by parameter (names case-insensitive, white space around
//! `;` and `=` ignored), so `;tag = x` and `;TAG=x` are equal; emission writes `;name=value` with names as
//! written.

use crate::text::{Convert, SipStr, Text};
use alloc::string::String;
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
pub fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
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

/// A parameter name prepared for [`Params::get_key`] at compile time (see `key!`): up to eight
/// bytes, lowercased into one word.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Key {
    name: &'static str,
    needle: u64,
    mask: u64,
}

impl Key {
    /// Prepares `name` (a token; one of more than eight bytes is compared byte by byte).
    pub(crate) const fn new(name: &'static str) -> Key {
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
        Key { name, needle, mask }
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
        const K: $crate::msg::param::Key = $crate::msg::param::Key::new($name);
        &K
    }};
}
pub(crate) use key;

/// `ParamIter::find` by name, walking the bytes without building the parameters it passes.
///
/// The name is compared where a parameter starts, before its end is searched for: a hit needs
/// no scan of the name, a miss finds the name's end eight bytes at a time.
fn find<'a, S: Text>(s: &'a S, sep: u8, name: &str) -> Option<Option<&'a str>> {
    let n = name.as_bytes();
    let sep = sep_class(sep);
    // A parsed name never holds `=`, the separator or LWS: such a name matches nothing.
    if n.iter().any(|&c| CLASS[c as usize] & (EQ | sep | LWS) != 0) {
        return None;
    }
    let (needle, mask) = pack(n);
    find_word(s, sep, n, needle, mask)
}

/// [`find`] once the name is checked: `needle` is the name lowercased in a word, `mask` keeps
/// its bytes (0: longer than a word, compared byte by byte).
#[inline]
fn find_word<'a, S: Text>(
    s: &'a S,
    sep: u8,
    n: &[u8],
    needle: u64,
    mask: u64,
) -> Option<Option<&'a str>> {
    let b = s.utf8();
    let ends_name = EQ | sep | LWS;
    let mut i = 0;
    loop {
        let name_start = skip(b, i, LWS | sep);
        if name_start == b.len() {
            return None;
        }
        let after = name_start + n.len();
        let same = match word(b, name_start) {
            Some(w) if mask != 0 => lower(w & mask) == needle,
            _ => b
                .get(name_start..after)
                .is_some_and(|c| c.eq_ignore_ascii_case(n)),
        };
        let hit = same
            && b.get(after)
                .is_none_or(|&c| CLASS[c as usize] & ends_name != 0);
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
                return Some(s.part(v_start..v_end).map(unquote));
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

macro_rules! param_list {
    ($(#[$doc:meta])* $name:ident, $sep:literal, $lead:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name<S: Text>(S);

        impl<S: Text> $name<S> {
            /// Wraps text already known to match the grammar (as the parsers produce it).
            pub(crate) fn from_raw(raw: S) -> Self {
                $name(raw)
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
                find(&self.0, $sep, name)
            }

            /// [`Self::get`] for a name prepared at compile time.
            #[inline]
            #[allow(dead_code)] // not every list type has well-known names
            pub(crate) fn get_key(&self, k: &Key) -> Option<Option<&str>> {
                find_word(&self.0, sep_class($sep), k.name.as_bytes(), k.needle, k.mask)
            }

            /// Converts the string storage.
            pub fn convert<T: Text>(&self, c: &mut impl Convert<S, T>) -> $name<T> {
                $name(c.text(&self.0))
            }

            /// Writes the list in canonical form (`;name=value` each; `name=value&...` for URI
            /// headers).
            pub fn write_canonical(&self, out: &mut impl FnMut(&str)) {
                for (k, p) in self.iter().enumerate() {
                    write_param(out, k == 0 && !$lead, $sep, p);
                }
            }
        }

        impl $name<SipStr> {
            /// An empty list.
            pub fn new() -> Self {
                $name(SipStr::new())
            }

            /// Adds a parameter at the end (`value` as it is to be written: escaped in a URI,
            /// quoted if it needs to be a quoted-string).
            pub fn push(&mut self, name: &str, value: Option<&str>) {
                let mut s = String::with_capacity(self.as_str().len() + name.len() + 8);
                self.write_canonical(&mut |x| s.push_str(x));
                let first = s.is_empty() && !$lead;
                write_param(&mut |x| s.push_str(x), first, $sep, Param { name, value });
                self.0 = SipStr::from(s);
            }

            /// Adds a parameter, builder style.
            pub fn with(mut self, name: &str, value: Option<&str>) -> Self {
                self.push(name, value);
                self
            }

            /// Removes every parameter with this name (case-insensitive).
            pub fn remove(&mut self, name: &str) {
                let mut s = String::with_capacity(self.as_str().len());
                for p in self.iter().filter(|p| !p.name.eq_ignore_ascii_case(name)) {
                    let first = s.is_empty() && !$lead;
                    write_param(&mut |x| s.push_str(x), first, $sep, p);
                }
                self.0 = SipStr::from(s);
            }
        }

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
    Params, b';', true
);

param_list!(
    /// URI `headers` (`hname=hvalue&...`, the part after `?`), as written (escaped).
    UriHeaders, b'&', false
);

#[cfg(test)]
mod tests {
    use super::*;

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
                    assert_eq!(find(&t, sep, name), walked, "{s:?} {name:?}");
                    let o = SipStr::from(t);
                    assert_eq!(find(&o, sep, name), walked, "{s:?} {name:?}");
                }
            }
        }
    }
}
