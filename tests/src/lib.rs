//! Shared helpers for the sipxfer test suite: where the conformance files are, their
//! expectations tables (RFC 4475, RFC 5118), and what a UA core answers to one of them.
#![deny(missing_docs)]

pub mod counting;
pub mod flows;
pub mod sim;

use bytes::Bytes;
use sipxfer::{Config, Endpoint, Event, Instant, Transmit, Transport};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The repository's conformance data (`tests/conformance`): one folder per message set (the
/// RFC 4475 and RFC 5118 torture messages), byte-exact, each with an `EXPECTATIONS.tsv` saying
/// what a user agent must do with every message.
pub fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// The folder of one message set (`rfc4475`, `rfc5118`).
pub fn conformance_set_dir(set: &str) -> PathBuf {
    conformance_dir().join(set)
}

/// The benchmark corpus (`tests/corpus/bench/*.sip`): file names and bytes, in name order.
pub fn bench_corpus() -> Vec<(String, Bytes)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/bench");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus/bench")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sip"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, Bytes::from(std::fs::read(&p).unwrap()))
        })
        .collect()
}

/// The RFC 4475 torture-test folder.
pub fn rfc4475_dir() -> PathBuf {
    conformance_set_dir("rfc4475")
}

/// The RFC 5118 (IPv6) torture-test folder.
pub fn rfc5118_dir() -> PathBuf {
    conformance_set_dir("rfc5118")
}

/// One row of an `EXPECTATIONS.tsv`.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// File name (`wsinv.dat`).
    pub file: String,
    /// Section of the RFC the message comes from.
    pub section: String,
    /// `ok`, `error` or `either`.
    pub parse: String,
    /// What a UAS answers (`200`, `400|200`, `drop`, `any`).
    pub uas: String,
    /// What the message tests.
    pub what: String,
}

impl Expectation {
    /// Does `answer` (a status code, or `drop`, as [`uas_answer`] gives it) fit the `uas`
    /// column: one of the `|`-separated codes, or `any` response (but not silence)?
    pub fn allows(&self, answer: &str) -> bool {
        uas_allows(&self.uas, answer)
    }
}

/// Does `answer` fit a `uas` column value (`200`, `405|501`, `any`, `drop`)? `any` is any
/// response, not a dropped message.
pub fn uas_allows(uas: &str, answer: &str) -> bool {
    let allowed: Vec<&str> = uas.split('|').collect();
    allowed.contains(&answer) || (allowed.contains(&"any") && answer != "drop")
}

/// Reads the RFC 4475 `EXPECTATIONS.tsv`.
pub fn expectations() -> Vec<Expectation> {
    expectations_of("rfc4475")
}

/// Reads the `EXPECTATIONS.tsv` of one message set (`rfc4475`, `rfc5118`).
pub fn expectations_of(set: &str) -> Vec<Expectation> {
    let text = std::fs::read_to_string(conformance_set_dir(set).join("EXPECTATIONS.tsv"))
        .unwrap_or_else(|e| panic!("tests/conformance/{set}/EXPECTATIONS.tsv: {e}"));
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

/// The bytes of one message of a set, byte-exact from disk.
pub fn conformance(set: &str, file: &str) -> Vec<u8> {
    std::fs::read(conformance_set_dir(set).join(file))
        .unwrap_or_else(|e| panic!("{set}/{file}: {e}"))
}

/// The bytes of one RFC 4475 message, byte-exact from disk.
pub fn rfc4475(file: &str) -> Vec<u8> {
    conformance("rfc4475", file)
}

/// The bytes of one RFC 5118 message, byte-exact from disk.
pub fn rfc5118(file: &str) -> Vec<u8> {
    conformance("rfc5118", file)
}

/// The status code the application behind [`uas_exchange`] gives whatever reaches it (a call,
/// an in-dialog or out-of-dialog request): 480 Temporarily Unavailable, as `sipxfer check
/// --respond` does (cli/src/respond.rs).
pub const APPLICATION_ANSWER: u16 = 480;

/// Everything a fresh UA core ([`Endpoint`] at `local`) sends after receiving `bytes` as one
/// UDP datagram from `remote`, its application answering [`APPLICATION_ANSWER`] to whatever
/// reaches it. The same exchange as `sipxfer check --respond` (cli/src/respond.rs), at any
/// addresses (IPv4 or IPv6).
pub fn uas_exchange(local: SocketAddr, remote: SocketAddr, bytes: &[u8]) -> Vec<Transmit> {
    let mut ep = Endpoint::new(Config::new(local, [0; 32]), Instant::ZERO);
    ep.handle_datagram(
        Instant::ZERO,
        Transport::Udp,
        remote,
        local,
        Bytes::copy_from_slice(bytes),
    );
    while let Some(e) = ep.poll_event() {
        match e {
            Event::Request { tx, .. } => {
                if let Ok(r) = ep.response(tx, APPLICATION_ANSWER) {
                    let _ = ep.respond(Instant::ZERO, tx, r);
                }
            }
            Event::IncomingCall { call, .. } => {
                let _ = ep.reject(Instant::ZERO, call, APPLICATION_ANSWER);
            }
            _ => {}
        }
    }
    std::iter::from_fn(|| ep.poll_transmit()).collect()
}

/// The status code of a transmitted response (`None` for a request or anything else).
pub fn status_of(t: &Transmit) -> Option<u16> {
    let line = t.bytes.split(|&c| c == b'\r').next()?;
    std::str::from_utf8(line)
        .ok()?
        .strip_prefix("SIP/2.0 ")?
        .get(..3)?
        .parse()
        .ok()
}

/// What a UA core answering over UDP sends for `bytes` (the `uas` column of an
/// `EXPECTATIONS.tsv`): its final response's status code, else its first provisional one, else
/// `drop`. Exactly what `sipxfer check --respond` prints after `=>` (endpoint at
/// 127.0.0.1:5060, datagram from 127.0.0.2:5060).
pub fn uas_answer(bytes: &[u8]) -> String {
    let local = "127.0.0.1:5060".parse().expect("address");
    let remote = "127.0.0.2:5060".parse().expect("address");
    answer_of(&uas_exchange(local, remote, bytes))
}

/// The answer ([`uas_answer`]'s form) among transmits: the first final response's code, else
/// the first provisional one's, else `drop`.
pub fn answer_of(sent: &[Transmit]) -> String {
    let codes: Vec<u16> = sent.iter().filter_map(status_of).collect();
    codes
        .iter()
        .find(|&&c| c >= 200)
        .or(codes.first())
        .map_or_else(|| "drop".into(), u16::to_string)
}

/// The README's Rust example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
