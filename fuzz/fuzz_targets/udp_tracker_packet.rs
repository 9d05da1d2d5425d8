#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| swarmget_fuzz::udp_tracker_packet::run(data));
