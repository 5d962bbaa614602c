//! The panic boundary and pointer checks every entry point goes through.
//!
//! A panic must never unwind into C (undefined behaviour). Every entry point runs its body
//! inside [`catch_unwind`]; a caught panic becomes `IMDSGUARD_PANIC`, and a flow in which it
//! happened is *poisoned*: its state may be half-updated, so every later call answers
//! `IMDSGUARD_POISONED` until the caller frees it. This needs `panic = "unwind"` in every
//! profile that builds the library (set in Cargo.toml).

use super::status::imdsguard_status;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into `IMDSGUARD_PANIC`.
pub(crate) fn guard(f: impl FnOnce() -> imdsguard_status) -> imdsguard_status {
    // AssertUnwindSafe: after a panic nothing touched by `f` is used again unless it is
    // poisoned first (see `guard_poisonable`).
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(imdsguard_status::IMDSGUARD_PANIC)
}

/// Runs `f` on the object behind `ptr` unless it is NULL or poisoned, and poisons it when
/// `f` panics.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that no other thread uses during the call.
pub(crate) unsafe fn guard_poisonable<T: Poisonable>(
    ptr: *mut T,
    f: impl FnOnce(&mut T) -> imdsguard_status,
) -> imdsguard_status {
    if ptr.is_null() {
        return imdsguard_status::IMDSGUARD_NULL_ARGUMENT;
    }
    // SAFETY: non-NULL, and live and unshared per the caller's contract.
    if unsafe { (*ptr).is_poisoned() } {
        return imdsguard_status::IMDSGUARD_POISONED;
    }
    // SAFETY: as above; the reference does not escape the closure.
    let result = catch_unwind(AssertUnwindSafe(|| f(unsafe { &mut *ptr })));
    match result {
        Ok(status) => status,
        Err(_) => {
            // SAFETY: as above. Only the flag is written; the rest of the object is not
            // trusted again.
            unsafe { (*ptr).poison() };
            imdsguard_status::IMDSGUARD_PANIC
        }
    }
}

/// An object that refuses work after a panic.
pub(crate) trait Poisonable {
    fn is_poisoned(&self) -> bool;
    fn poison(&mut self);
}

/// A slice from a C pointer and length: NULL with length 0 is the empty slice; NULL with a
/// length is an error.
///
/// # Safety
/// When non-NULL, `ptr` points to `len` readable bytes that stay valid and unchanged for `'a`.
pub(crate) unsafe fn slice<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], imdsguard_status> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(imdsguard_status::IMDSGUARD_NULL_ARGUMENT)
        };
    }
    // SAFETY: non-NULL and `len` readable bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Writes `value` through an output pointer, or fails on NULL.
///
/// # Safety
/// When non-NULL, `out` is valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> Result<(), imdsguard_status> {
    if out.is_null() {
        return Err(imdsguard_status::IMDSGUARD_NULL_ARGUMENT);
    }
    // SAFETY: non-NULL and writable per the caller's contract; `write` does not drop the
    // (uninitialised) old value.
    unsafe { out.write(value) };
    Ok(())
}

/// Hands a new object to C through `out`: boxes it and writes the pointer, or frees it again
/// when `out` is NULL.
///
/// # Safety
/// `out` is NULL or valid for a write of a pointer.
pub(crate) unsafe fn publish<T>(out: *mut *mut T, value: T) -> imdsguard_status {
    if out.is_null() {
        return imdsguard_status::IMDSGUARD_NULL_ARGUMENT;
    }
    let raw = Box::into_raw(Box::new(value));
    // SAFETY: non-NULL and writable per the caller's contract.
    unsafe { out.write(raw) };
    imdsguard_status::IMDSGUARD_OK
}
