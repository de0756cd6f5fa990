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
    fn chars(&mut self, out: &mut String, n: usize) {
        let mut bits = 0u64;
        let mut left = 0;
        for _ in 0..n {
            if left < 6 {
                bits = self.rng.next_u64();
                left = 64;
            }
            out.push(ALPHABET[(bits & 63) as usize] as char);
            bits >>= 6;
            left -= 6;
        }
    }

    /// A branch id: `z9hG4bK` + 16 characters (96 random bits).
    pub fn branch(&mut self) -> String {
        let mut s = String::with_capacity(MAGIC_COOKIE.len() + 16);
        s.push_str(MAGIC_COOKIE);
        self.chars(&mut s, 16);
        s
    }

    /// A From/To tag: 12 characters (72 random bits).
    pub fn tag(&mut self) -> String {
        let mut s = String::with_capacity(12);
        self.chars(&mut s, 12);
        s
    }

    /// A Call-ID: 22 characters (132 random bits), `@host` appended when a host is given.
    pub fn call_id(&mut self, host: Option<&str>) -> String {
        let mut s = String::with_capacity(24 + host.map_or(0, str::len));
        self.chars(&mut s, 22);
        if let Some(h) = host {
            s.push('@');
            s.push_str(h);
        }
        s
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
