//! Library and ABI versions.

use std::ffi::c_char;

/// The ABI version: bumped on any change of a `#[repr(C)]` type's layout or of a function's
/// meaning. A C appliance compares it with `imdsguard_abi_version()` at start-up.
pub const IMDSGUARD_ABI_VERSION: u32 = 1;

/// The library version (`"0.1.0"`), static and NUL-terminated.
#[no_mangle]
pub extern "C" fn imdsguard_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the library actually linked (see `IMDSGUARD_ABI_VERSION`).
#[no_mangle]
pub extern "C" fn imdsguard_abi_version() -> u32 {
    IMDSGUARD_ABI_VERSION
}
