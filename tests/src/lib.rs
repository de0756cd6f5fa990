//! Shared helpers for the sipxfer test suite: where the conformance files are, and the
//! RFC 4475 expectations table.
#![deny(missing_docs)]

pub mod flows;
pub mod sim;

use std::path::PathBuf;

/// The repository's conformance data (`tests/conformance`): the RFC 4475 torture messages,
/// byte-exact, with what a user agent must do with each.
pub fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// The RFC 4475 torture-test folder.
pub fn rfc4475_dir() -> PathBuf {
    conformance_dir().join("rfc4475")
}

/// One row of `EXPECTATIONS.tsv`.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// File name (`wsinv.dat`).
    pub file: String,
    /// RFC 4475 section.
    pub section: String,
    /// `ok`, `error` or `either`.
    pub parse: String,
    /// What a UAS answers (`200`, `400|200`, `drop`, `any`).
    pub uas: String,
    /// What the message tests.
    pub what: String,
}

/// Reads `EXPECTATIONS.tsv`.
pub fn expectations() -> Vec<Expectation> {
    let text = std::fs::read_to_string(rfc4475_dir().join("EXPECTATIONS.tsv"))
        .expect("tests/conformance/rfc4475/EXPECTATIONS.tsv is part of the repository");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            Expectation {
                file: f[0].into(),
                section: f.get(1).unwrap_or(&"").to_string(),
                parse: f.get(2).unwrap_or(&"").to_string(),
                uas: f.get(3).unwrap_or(&"").to_string(),
                what: f.get(4).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// The bytes of one RFC 4475 message, byte-exact from disk.
pub fn rfc4475(file: &str) -> Vec<u8> {
    std::fs::read(rfc4475_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The README's Rust example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
