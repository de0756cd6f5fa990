//! Character classes of RFC 3261 §25.1, as 256-entry lookup tables.

const fn table(extra: &[u8], alnum: bool) -> [bool; 256] {
    let mut t = [false; 256];
    if alnum {
        let mut c = b'0';
        while c <= b'9' {
            t[c as usize] = true;
            c += 1;
        }
        let mut c = b'a';
        while c <= b'z' {
            t[c as usize] = true;
            t[(c - 32) as usize] = true;
            c += 1;
        }
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// `token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )`
pub(crate) static TOKEN: [bool; 256] = table(b"-.!%*_+`'~", true);

/// What a `gen-value` token may hold here: `token` characters and `:` (see
/// `parse::header::gen_value`).
pub(crate) static GEN_VALUE: [bool; 256] = table(b"-.!%*_+`'~:", true);

/// [`GEN_VALUE`] and `=`: what may follow the first character of a `gen-value` token.
pub(crate) static GEN_VALUE_EQ: [bool; 256] = table(b"-.!%*_+`'~:=", true);

/// `word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" /
/// "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}" )`
pub(crate) static WORD: [bool; 256] = table(b"-.!%*_+`'~()<>:\\\"/[]?{}", true);

/// `user = 1*( unreserved / escaped / user-unreserved )`, with
/// `user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"`
pub(crate) static USER: [bool; 256] = table(b"-_.!~*'()%&=+$,;?/", true);

/// `password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )`
pub(crate) static PASSWORD: [bool; 256] = table(b"-_.!~*'()%&=+$,", true);

/// `paramchar = param-unreserved / unreserved / escaped`,
/// `param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$"`
pub(crate) static PARAMCHAR: [bool; 256] = table(b"-_.!~*'()%[]/:&+$", true);

/// `hname`/`hvalue` characters: `hnv-unreserved / unreserved / escaped`,
/// `hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$"`
pub(crate) static HNV: [bool; 256] = table(b"-_.!~*'()%[]/?:+$", true);

/// `hvalue` characters as accepted: [`HNV`] plus a literal `@` and `=`, which many stacks
/// leave unescaped in an embedded `Replaces` (`?Replaces=abc@host%3Bto-tag=…`, RFC 3891
/// §5). Liberal and unambiguous: the user part ends before the host, and header fields are
/// separated by `&`.
pub(crate) static HVALUE: [bool; 256] = table(b"-_.!~*'()%[]/?:+$@=", true);

/// `hostname` characters (`alphanum / "-" / "."`), plus `_` which real deployments use.
pub(crate) static HOST: [bool; 256] = table(b"-._", true);

/// `uric = reserved / unreserved / escaped` (opaque parts of non-SIP URIs), plus `[` `]` `#`.
pub(crate) static URIC: [bool; 256] = table(b";/?:@&=+$,-_.!~*'()%[]#", true);

/// Is `c` SP or HTAB (`WSP`)?
#[inline]
pub(crate) fn is_wsp(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Linear white space inside an already delimited header value: SP, HTAB, and the CR/LF of a
/// fold (`LWS = [*WSP CRLF] 1*WSP`).
#[inline]
pub(crate) fn is_lws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Length of the run of bytes of class `t` at the start of `b`, four bytes a round: the runs
/// parsed (header names, host names) are a few dozen bytes, so the loop's own work counts.
#[inline(always)]
pub(crate) fn run_len(b: &[u8], t: &[bool; 256]) -> usize {
    let mut i = 0;
    while let Some(w) = b.get(i..i + 4) {
        for (k, &c) in w.iter().enumerate() {
            if !t[c as usize] {
                return i + k;
            }
        }
        i += 4;
    }
    i + b[i..]
        .iter()
        .position(|&c| !t[c as usize])
        .unwrap_or(b.len() - i)
}

/// Has `b` two dots in a row? Eight bytes at a time: the dots of a word are its bytes equal
/// to `.` (an exact test, no borrow between bytes), and a dot follows a dot when the mask
/// shifted by one byte meets it (across words, the last byte of the word before).
pub(crate) fn has_double_dot(b: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut carry = 0u64;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let y = x ^ (LO * u64::from(b'.'));
        let dots = !(((y & LOW7) + LOW7) | y | LOW7);
        if dots & ((dots << 8) | carry) != 0 {
            return true;
        }
        carry = dots >> 56;
    }
    let mut prev = carry != 0;
    for &c in words.remainder() {
        let dot = c == b'.';
        if prev && dot {
            return true;
        }
        prev = dot;
    }
    false
}

#[inline]
pub(crate) fn is_token(c: u8) -> bool {
    TOKEN[c as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanners against their one-line definitions, on 200 000 strings of up to 20 bytes
    /// drawn (by a fixed xorshift) from bytes that sit on the edges of their tests: dots next
    /// to each other and across the eight-byte words, letters of both cases, separators, and
    /// bytes above 0x7F.
    #[test]
    fn run_len_and_double_dot_match_their_models() {
        const BYTES: &[u8] = b"..a-Z9:;@[`{\x00\x7f\x80\xae\xff/_~ ";
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..200_000 {
            let len = (next() % 21) as usize;
            let b: alloc::vec::Vec<u8> = (0..len)
                .map(|_| BYTES[(next() % BYTES.len() as u64) as usize])
                .collect();
            for t in [&TOKEN, &HOST] {
                let model = b.iter().position(|&c| !t[c as usize]).unwrap_or(b.len());
                assert_eq!(run_len(&b, t), model, "{b:?}");
            }
            let model = b.windows(2).any(|w| w == b"..");
            assert_eq!(has_double_dot(&b), model, "{b:?}");
        }
        // Every position of a pair of dots, and a lone dot at each end of a word.
        for len in 0..20 {
            for at in 0..len {
                let mut b = alloc::vec![b'a'; len];
                b[at] = b'.';
                assert!(!has_double_dot(&b));
                if at + 1 < len {
                    b[at + 1] = b'.';
                    assert!(has_double_dot(&b), "{len} {at}");
                }
            }
        }
    }
}
