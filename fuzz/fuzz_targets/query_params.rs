#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trygg_fuzz::query_params(data));
