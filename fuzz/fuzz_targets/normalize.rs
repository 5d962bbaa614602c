//! Fuzz target `normalize`: see `harness::normalize` for the input format and what it checks.
#![no_main]

#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::normalize(data));
