#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| swarmget_fuzz::ut_metadata::run(data));
