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

#[inline]
pub(crate) fn is_token(c: u8) -> bool {
    TOKEN[c as usize]
}
