#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| swarmget_fuzz::sha1_pair::run(data));
