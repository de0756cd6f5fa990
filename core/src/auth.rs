//! Digest authentication as a client (RFC 3261 §22.2–§22.4, updated by RFC 8760 to the
//! RFC 7616 algorithms): parse a `WWW-Authenticate` / `Proxy-Authenticate` challenge and
//! compute the `Authorization` / `Proxy-Authorization` credentials.
//!
//! ```text
//! challenge        =  ("Digest" LWS digest-cln *(COMMA digest-cln))
//! digest-cln       =  realm / domain / nonce / opaque / stale / algorithm / qop-options
//! ```
//!
//! RFC 7616 §3.4.1: with `qop=auth`,
//! `response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2))`, where
//! `A1 = username ":" realm ":" password` (for the `-sess` variants,
//! `H(A1) ":" nonce ":" cnonce`), `A2 = method ":" digest-uri` and `KD(s, d) = H(s ":" d)`.
//! Without `qop` (RFC 2069 style, still sent by old servers):
//! `response = H(H(A1) ":" nonce ":" H(A2))`.
//!
//! ```
//! use sipxfer::auth::{Algorithm, Challenge};
//! let c = Challenge::parse(r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#).unwrap();
//! assert_eq!(c.algorithm, Algorithm::Sha256);
//! let r = c.response("Mufasa", "Circle of Life", "GET", "/dir/index.html", 1,
//!                    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
//! // RFC 7616 §3.9.1
//! assert_eq!(r, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
//! ```

use crate::text::SipStr;
use alloc::string::String;
use md5::Md5;
use sha2::{Digest, Sha256};

/// A user name and password for digest authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The realm they are for; `None`: any realm.
    pub realm: Option<SipStr>,
    /// The user name.
    pub username: SipStr,
    /// The password.
    pub password: SipStr,
}

impl Credentials {
    /// Credentials for any realm.
    pub fn new(username: &str, password: &str) -> Self {
        Credentials {
            realm: None,
            username: username.into(),
            password: password.into(),
        }
    }

    /// Credentials for one realm only.
    pub fn for_realm(realm: &str, username: &str, password: &str) -> Self {
        Credentials {
            realm: Some(realm.into()),
            ..Credentials::new(username, password)
        }
    }
}

/// The digest algorithms (RFC 7616 §3.3; RFC 8760 §2 adds SHA-256 to SIP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5` (the default when the challenge names none).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl Algorithm {
    /// The token as challenges and credentials spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn parse(s: &str) -> Option<Algorithm> {
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// RFC 8760 §2.4: when several challenges are offered, the strongest one we support
    /// wins.
    fn strength(self) -> u8 {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
        }
    }

    fn sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// `H(parts joined by ":")`, lowercase hex.
    fn h(self, parts: &[&str]) -> String {
        fn run<D: Digest>(parts: &[&str]) -> String {
            let mut d = D::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    d.update(b":");
                }
                d.update(p.as_bytes());
            }
            hex(&d.finalize())
        }
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => run::<Md5>(parts),
            Algorithm::Sha256 | Algorithm::Sha256Sess => run::<Sha256>(parts),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// A `Digest` challenge we can answer (RFC 3261 §22.4, RFC 7616 §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`.
    pub realm: SipStr,
    /// `nonce`.
    pub nonce: SipStr,
    /// `opaque`, returned unchanged.
    pub opaque: Option<SipStr>,
    /// `algorithm` (MD5 when absent).
    pub algorithm: Algorithm,
    /// `qop` offered `auth` (the only quality of protection the client uses; a challenge
    /// offering only `auth-int` is not answered).
    pub qop_auth: bool,
    /// `stale=true`: the nonce expired but the credentials were right (RFC 7616 §3.3).
    pub stale: bool,
}

impl Challenge {
    /// Parses a challenge header value; `None` for another scheme, an unknown algorithm, a
    /// challenge without realm or nonce, or one whose only qop is `auth-int`.
    pub fn parse(value: &str) -> Option<Challenge> {
        let value = value.trim_start();
        let (scheme, rest) = value.split_at(
            value
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(value.len()),
        );
        if !scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let (mut realm, mut nonce, mut opaque) = (None, None, None);
        let mut algorithm = Algorithm::Md5;
        let mut qop = None;
        let mut stale = false;
        for (name, v) in params(rest)? {
            match name.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(v),
                "nonce" => nonce = Some(v),
                "opaque" => opaque = Some(SipStr::from(v.as_str())),
                "algorithm" => algorithm = Algorithm::parse(&v)?,
                "qop" => qop = Some(v),
                "stale" => stale = v.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        let qop_auth = match &qop {
            None => false,
            Some(q) => {
                let auth = q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth"));
                if !auth {
                    return None;
                }
                true
            }
        };
        Some(Challenge {
            realm: SipStr::from(realm?.as_str()),
            nonce: SipStr::from(nonce?.as_str()),
            opaque,
            algorithm,
            qop_auth,
            stale,
        })
    }

    /// The strongest challenge among `values` (RFC 8760 §2.4).
    pub fn best<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
        values
            .into_iter()
            .filter_map(Challenge::parse)
            .fold(None, |best: Option<Challenge>, c| match best {
                Some(b) if b.algorithm.strength() >= c.algorithm.strength() => Some(b),
                _ => Some(c),
            })
    }

    /// The `response` value for `method` on `uri` with nonce count `nc` and `cnonce`.
    pub fn response(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        nc: u32,
        cnonce: &str,
    ) -> String {
        let alg = self.algorithm;
        let mut ha1 = alg.h(&[username, &self.realm, password]);
        if alg.sess() {
            ha1 = alg.h(&[&ha1, &self.nonce, cnonce]);
        }
        let ha2 = alg.h(&[method, uri]);
        if self.qop_auth {
            let nc = alloc::format!("{nc:08x}");
            alg.h(&[&ha1, &self.nonce, &nc, cnonce, "auth", &ha2])
        } else {
            alg.h(&[&ha1, &self.nonce, &ha2])
        }
    }

    /// The credentials header value (RFC 3261 §22.4 `credentials`, RFC 7616 §3.4).
    pub fn authorization(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        nc: u32,
        cnonce: &str,
    ) -> String {
        use core::fmt::Write;
        let response = self.response(username, password, method, uri, nc, cnonce);
        let mut s = String::with_capacity(256);
        let _ = write!(
            s,
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\", algorithm={}",
            quote(username),
            quote(&self.realm),
            quote(&self.nonce),
            quote(uri),
            response,
            self.algorithm.as_str()
        );
        if self.qop_auth {
            let _ = write!(s, ", cnonce=\"{}\", qop=auth, nc={nc:08x}", quote(cnonce));
        }
        if let Some(o) = &self.opaque {
            let _ = write!(s, ", opaque=\"{}\"", quote(o));
        }
        s
    }
}

/// A quoted-string's content with `"` and `\` escaped (§25.1 quoted-pair).
fn quote(s: &str) -> alloc::borrow::Cow<'_, str> {
    if !s.contains(['"', '\\']) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.into()
}

/// `name=value` pairs separated by commas, values tokens or quoted strings (quoted-pairs
/// unescaped). `None` on an unterminated quote; bounded by the input (at most one pair per
/// two bytes).
fn params(mut s: &str) -> Option<alloc::vec::Vec<(String, String)>> {
    let mut out = alloc::vec::Vec::new();
    loop {
        s = s.trim_start_matches([' ', '\t', '\r', '\n', ',']);
        if s.is_empty() {
            return Some(out);
        }
        let eq = s.find('=')?;
        let name = s[..eq].trim();
        s = s[eq + 1..].trim_start();
        let mut value = String::new();
        if let Some(rest) = s.strip_prefix('"') {
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => value.push(chars.next()?.1),
                    (_, c) => value.push(c),
                }
            };
            s = &rest[end + 1..];
        } else {
            let end = s.find(',').unwrap_or(s.len());
            value.push_str(s[..end].trim());
            s = &s[end..];
        }
        out.push((String::from(name), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALM: &str = "http-auth@example.org";
    const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn rfc7616(alg: &str) -> Challenge {
        Challenge::parse(&alloc::format!(
            "Digest\r\n realm=\"{REALM}\",\r\n qop=\"auth, auth-int\",\r\n algorithm={alg},\r\n nonce=\"{NONCE}\",\r\n opaque=\"{OPAQUE}\""
        ))
        .unwrap()
    }

    /// RFC 7616 §3.9.1, both algorithms.
    #[test]
    fn rfc7616_examples() {
        let md5 = rfc7616("MD5");
        assert_eq!(md5.algorithm, Algorithm::Md5);
        assert_eq!(md5.opaque.as_deref(), Some(OPAQUE));
        let args = (
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            1,
            CNONCE,
        );
        assert_eq!(
            md5.response(args.0, args.1, args.2, args.3, args.4, args.5),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        let sha = rfc7616("SHA-256");
        let auth = sha.authorization(args.0, args.1, args.2, args.3, args.4, args.5);
        assert_eq!(
            auth,
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", \
             response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", \
             algorithm=SHA-256, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", \
             qop=auth, nc=00000001, opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        );
    }

    #[test]
    fn strongest_wins_and_odd_challenges_are_refused() {
        let both = [
            "Digest realm=\"r\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"",
            "Digest realm=\"r\", nonce=\"n2\", algorithm=SHA-256, qop=\"auth\"",
        ];
        assert_eq!(Challenge::best(both).unwrap().nonce, "n2");
        assert_eq!(Challenge::best(both.into_iter().rev()).unwrap().nonce, "n2");
        for bad in [
            "Basic realm=\"r\"",
            "Digest nonce=\"n\"",
            "Digest realm=\"r\"",
            "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
            "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
            "Digest realm=\"r, nonce=\"n",
            "Digest realm",
            "",
        ] {
            assert_eq!(Challenge::parse(bad), None, "{bad}");
        }
        let c = Challenge::parse("digest REALM=r,NONCE=n,stale=TRUE").unwrap();
        assert!(c.stale && !c.qop_auth && c.algorithm == Algorithm::Md5);
    }

    /// RFC 2069 form (no qop), as RFC 3261 §22.4 keeps for old servers: the RFC 2617 §3.5
    /// example values (MD5, no qop) computed by hand from the definition.
    #[test]
    fn without_qop() {
        let c = Challenge::parse("Digest realm=\"r\", nonce=\"n\"").unwrap();
        let ha1 = Algorithm::Md5.h(&["u", "r", "p"]);
        let ha2 = Algorithm::Md5.h(&["BYE", "sip:b@x"]);
        assert_eq!(
            c.response("u", "p", "BYE", "sip:b@x", 1, "c"),
            Algorithm::Md5.h(&[&ha1, "n", &ha2])
        );
        assert!(!c
            .authorization("u", "p", "BYE", "sip:b@x", 1, "c")
            .contains("nc="));
        assert_eq!(quote("a\"b\\c"), "a\\\"b\\\\c");
    }
}
