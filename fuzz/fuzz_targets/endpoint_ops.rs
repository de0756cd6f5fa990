#![no_main]
//! Ops (deliveries, losses, duplicates, mutated messages, raw bytes, time jumps, commands)
//! against three endpoints with calls up; the fixture is built once per process and cloned
//! per input.
use std::sync::OnceLock;

static FIXTURE: OnceLock<sipxfer::fuzzing::OpsFixture> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(sipxfer::fuzzing::OpsFixture::new);
    sipxfer::fuzzing::endpoint_ops_from(fixture.clone(), data)
});
