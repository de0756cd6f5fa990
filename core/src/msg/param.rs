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

/// [`until`]`(b, from, sep | LWS)`, eight bytes at a time: a word is skipped when it has no
/// byte below 0x21 (the LWS bytes are SP, HTAB, CR, LF) and no separator byte; the byte loop
/// finishes inside the first word that might.
#[inline]
fn until_word(b: &[u8], from: usize, sep: u8) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let s = LO
        * if sep == SEMI {
            b';' as u64
        } else {
            b'&' as u64
        };
    let mut i = from;
    while let Some(w) = b.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let x = u64::from_le_bytes(a);
        let y = x ^ s;
        if ((x.wrapping_sub(LO * 0x21) & !x) | (y.wrapping_sub(LO) & !y)) & HI != 0 {
            break;
        }
        i += 8;
    }
    until(b, i, sep | LWS)
}

/// `ParamIter::find` by name, walking the bytes without building the parameters it passes
/// (and, for storages that check their text on access, checking only the value found).
fn find<'a, S: Text>(s: &'a S, sep: u8, name: &str) -> Option<Option<&'a str>> {
    let b = s.utf8();
    let sep = if sep == b';' { SEMI } else { AMP };
    let mut i = 0;
    loop {
        let name_start = skip(b, i, LWS | sep);
        if name_start == b.len() {
            return None;
        }
        let name_end = until(b, name_start, EQ | sep | LWS);
        let hit = b
            .get(name_start..name_end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        let j = skip(b, name_end, LWS);
        if b.get(j) == Some(&b'=') {
            let v_start = skip(b, j + 1, LWS);
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
        let sep = if self.sep == b';' { SEMI } else { AMP };
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
        let names = ["a", "A", "b", "ab", "x", ""];
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
