//! The C ABI: opaque handles, `uint32_t` status codes, a panic boundary on every entry point.
//!
//! This is the only module with `extern "C"` and raw pointers. It converts and checks what C
//! hands in and calls the Rust API; it decides nothing itself. The header
//! `include/imdsguard.h` is generated from it by cbindgen (see `build.rs`).
//!
//! Conventions (rustls-ffi's): every fallible function returns an `imdsguard_status`
//! (`IMDSGUARD_OK` is 0); objects come out through out-parameters and are freed with their
//! `_free` function, which accepts NULL; NULL with length 0 is an empty slice; integers from
//! C are validated (an unknown direction is `IMDSGUARD_INVALID_ARGUMENT`); a panic is caught
//! at the boundary (`IMDSGUARD_PANIC`) and poisons the flow it happened in.

#![allow(non_camel_case_types)] // C type names, as C callers spell them
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod boundary;
mod engine;
mod event;
mod flow;
mod status;
mod tracker;
mod types;
mod version;

pub use engine::*;
pub use flow::*;
pub use status::*;
pub use tracker::*;
pub use types::*;
pub use version::*;

#[cfg(test)]
mod tests {
    /// The checked-in header is what cbindgen renders from this module today.
    #[test]
    fn checked_in_header_is_current() {
        let rendered = include_str!(concat!(env!("OUT_DIR"), "/imdsguard.h"));
        let checked_in = include_str!("../../include/imdsguard.h");
        assert!(
            rendered == checked_in,
            "include/imdsguard.h is stale: run `IMDSGUARD_BLESS=1 cargo build` and commit it"
        );
    }
}
