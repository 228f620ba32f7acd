#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trygg_fuzz::geojson_feature(data));
