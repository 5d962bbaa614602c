//! A tiny Rust staticlib linked next to imdsguard's in one C program (the link-clash test,
//! `make -C ffi-tests link`). It has its own copy of Rust's std, as any other Rust library
//! an appliance links would.

use std::hint::black_box;
use std::panic::catch_unwind;

/// Adds two numbers the long way round, so that this library's own std is really used:
/// the sum is formatted into a heap `String` and parsed back; an overflow panics inside
/// `catch_unwind` (this library's unwinder and personality routine) and gives `u32::MAX`.
#[no_mangle]
pub extern "C" fn other_rust_add(a: u32, b: u32) -> u32 {
    let result = catch_unwind(|| {
        let sum = a.checked_add(b).expect("other_rust_add: overflow");
        let text = black_box(format!("{a}+{b}={sum}"));
        text.rsplit('=')
            .next()
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    });
    result.unwrap_or(u32::MAX)
}
