//! Fuzz target `http_differential`: see `harness::http_differential` for the input format and what it checks.
#![no_main]

#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::http_differential(data));
