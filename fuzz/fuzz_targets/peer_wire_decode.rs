#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| swarmget_fuzz::peer_wire_decode::run(data));
