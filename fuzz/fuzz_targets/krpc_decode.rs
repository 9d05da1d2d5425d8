#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| swarmget_fuzz::krpc_decode::run(data));
