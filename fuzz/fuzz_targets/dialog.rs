#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sipxfer::fuzzing::dialog(data));
