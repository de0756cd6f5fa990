//! Identifiers from a seeded generator: branch ids, tags and Call-IDs.
//!
//! RFC 3261 §19.3: tags and Call-IDs must be globally unique and cryptographically random with
//! at least 32 bits of randomness; branch ids must be unique in space and time and begin with
//! the magic cookie `z9hG4bK` (§8.1.1.7). Each identifier here carries 64 or more random bits
//! from ChaCha12 keyed by the 32-byte seed in [`crate::Config`]: the runtime supplies the seed
//! from the operating system, tests fix it so that runs are reproducible.

use alloc::string::String;
use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};

/// The magic cookie that starts every RFC 3261 branch id (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";

/// An identifier from [`IdGen`], held on the stack (at most [`Id::CAPACITY`] bytes, so that
/// making one allocates nothing and a [`crate::SipStr`] made from it is held inline).
#[derive(Clone, Copy)]
pub struct Id {
    len: u8,
    buf: [u8; Id::CAPACITY],
}

impl Id {
    /// The longest identifier: a branch id, `z9hG4bK` + 16 characters.
    pub const CAPACITY: usize = 23;

    fn new() -> Self {
        Id {
            len: 0,
            buf: [0; Id::CAPACITY],
        }
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = b;
            self.len += 1;
        }
    }

    /// The identifier.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        let b = self.buf.get(..usize::from(self.len)).unwrap_or_default();
        debug_assert!(b.is_ascii());
        // SAFETY: only ASCII bytes (from `MAGIC_COOKIE` and `ALPHABET`) are ever pushed, and
        // ASCII is UTF-8. Checking it again cost ~120 instructions per identifier: every
        // request the endpoint sends gets a branch (see `IdGen::branch`).
        unsafe { core::str::from_utf8_unchecked(b) }
    }
}

impl core::ops::Deref for Id {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Id {}

impl core::fmt::Debug for Id {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl core::fmt::Display for Id {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Id> for crate::SipStr {
    fn from(id: Id) -> Self {
        crate::SipStr::from(id.as_str())
    }
}

/// The endpoint's identifier generator.
#[derive(Clone, Debug)]
pub struct IdGen {
    rng: ChaCha12Rng,
}

impl IdGen {
    /// A generator keyed by `seed`.
    pub fn new(seed: [u8; 32]) -> Self {
        IdGen {
            rng: ChaCha12Rng::from_seed(seed),
        }
    }

    /// `n` characters of a token-safe alphabet, 6 random bits each.
    fn chars(&mut self, mut out: impl FnMut(u8), n: usize) {
        let mut bits = 0u64;
        let mut left = 0;
        for _ in 0..n {
            if left < 6 {
                bits = self.rng.next_u64();
                left = 64;
            }
            out(ALPHABET[(bits & 63) as usize]);
            bits >>= 6;
            left -= 6;
        }
    }

    /// A branch id: `z9hG4bK` + 16 characters (96 random bits).
    pub fn branch(&mut self) -> Id {
        let mut id = Id::new();
        MAGIC_COOKIE.bytes().for_each(|b| id.push(b));
        self.chars(|b| id.push(b), 16);
        id
    }

    /// A From/To tag: 12 characters (72 random bits).
    pub fn tag(&mut self) -> Id {
        let mut id = Id::new();
        self.chars(|b| id.push(b), 12);
        id
    }

    /// A Call-ID: 22 characters (132 random bits), `@host` appended when a host is given.
    pub fn call_id(&mut self, host: Option<&str>) -> String {
        let id = self.local_call_id();
        let mut s = String::with_capacity(id.len() + host.map_or(0, |h| h.len() + 1));
        s.push_str(&id);
        if let Some(h) = host {
            s.push('@');
            s.push_str(h);
        }
        s
    }

    /// [`IdGen::call_id`] without a host, on the stack (no allocation; a
    /// [`crate::SipStr`] made from it is held inline).
    pub fn local_call_id(&mut self) -> Id {
        let mut id = Id::new();
        self.chars(|b| id.push(b), 22);
        id
    }

    /// A random `u32` (e.g. an initial CSeq, RFC 3261 §8.1.1.5 allows any value below 2^31).
    pub fn next_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids_and_shapes() {
        let (mut a, mut b) = (IdGen::new([7; 32]), IdGen::new([7; 32]));
        let br = a.branch();
        assert_eq!(br, b.branch());
        assert!(br.starts_with(MAGIC_COOKIE) && br.len() == 23);
        assert!(br.bytes().all(crate::parse::chars::is_token));
        let t = a.tag();
        assert_eq!(t.len(), 12);
        assert_ne!(t, a.tag());
        assert!(a.call_id(Some("h.example")).ends_with("@h.example"));
        assert_ne!(IdGen::new([8; 32]).branch(), br);
    }
}
