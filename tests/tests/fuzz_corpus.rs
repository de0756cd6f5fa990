//! Replays every seed of every cargo-fuzz target on stable, so CI catches regressions without
//! nightly. The targets' bodies live in `sipxfer::fuzzing`.

use std::path::PathBuf;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let r = std::panic::catch_unwind(|| f(&data));
        assert!(r.is_ok(), "{target}: {} broke an invariant", path.display());
        n += 1;
    }
    assert!(n > 0, "{target}: empty corpus");
}

#[test]
fn parse_message() {
    replay("parse_message", sipxfer::fuzzing::parse_message);
}

#[test]
fn parse_uri() {
    replay("parse_uri", sipxfer::fuzzing::parse_uri);
}

#[test]
fn roundtrip() {
    replay("roundtrip", sipxfer::fuzzing::roundtrip);
}

#[test]
fn stream_decoder() {
    replay("stream_decoder", sipxfer::fuzzing::stream_decoder);
}

#[test]
fn endpoint() {
    replay("endpoint", sipxfer::fuzzing::endpoint);
}

#[test]
fn dialog() {
    replay("dialog", sipxfer::fuzzing::dialog);
}

#[test]
fn endpoint_ops() {
    replay("endpoint_ops", sipxfer::fuzzing::endpoint_ops);
}

/// The endpoint_ops seeds reach whole transfers, so the fuzzer starts from there.
#[test]
fn endpoint_ops_seeds_reach_transfers() {
    use sipxfer::TransferOutcome::*;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/endpoint_ops");
    let seed = |name: &str| std::fs::read(dir.join(name)).unwrap();
    for name in ["blind", "blind_held", "attended"] {
        let o = sipxfer::fuzzing::endpoint_ops_outcomes(&seed(name));
        assert!(o.contains(&(0, Succeeded)), "{name}: {o:?}");
        assert!(o.contains(&(1, Succeeded)), "{name}: {o:?}");
    }
    let o = sipxfer::fuzzing::endpoint_ops_outcomes(&seed("refused"));
    assert!(o.contains(&(0, Rejected(603))), "refused: {o:?}");
}
