#![no_main]
//! The dialog fixture (two calls and an attended transfer) is built once per process and
//! cloned per input, so each execution costs only what the input makes the endpoint do.
use std::sync::OnceLock;

static FIXTURE: OnceLock<sipxfer::fuzzing::DialogFixture> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(sipxfer::fuzzing::DialogFixture::new);
    sipxfer::fuzzing::dialog_from(fixture.clone(), data)
});
