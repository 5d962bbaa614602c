//! Status codes returned by every fallible entry point.

use std::ffi::c_char;

/// What an entry point did. `IMDSGUARD_OK` is 0, so `if (rc) ...` tests for trouble.
///
/// Values are part of the ABI: never renumber or reuse one; retire a value by leaving a gap.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum imdsguard_status {
    /// Success.
    IMDSGUARD_OK = 0,
    /// `imdsguard_flow_next_event`: no event is pending; `imdsguard_flow_event_eve`: no
    /// event was taken yet.
    IMDSGUARD_NO_EVENT = 1,
    /// A pointer argument that must not be NULL was NULL.
    IMDSGUARD_NULL_ARGUMENT = 100,
    /// An integer argument was out of range (unknown direction, address family, VLAN id,
    /// provider, more than two VLAN tags, a path that is not UTF-8).
    IMDSGUARD_INVALID_ARGUMENT = 101,
    /// The policy text has an error; the `imdsguard_policy_error` says where.
    IMDSGUARD_POLICY_ERROR = 102,
    /// A file could not be read; the `imdsguard_policy_error` says why (line 0).
    IMDSGUARD_IO_ERROR = 103,
    /// The caller's buffer is too small; the needed size was written.
    IMDSGUARD_BUFFER_TOO_SMALL = 104,
    /// The handle saw a panic earlier and refuses further work; free it.
    IMDSGUARD_POISONED = 105,
    /// A panic was caught at the boundary; the handle is now poisoned.
    IMDSGUARD_PANIC = 106,
}

/// A static, NUL-terminated description of a status code; unknown codes give
/// `"unknown status"`. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn imdsguard_status_str(status: u32) -> *const c_char {
    let s: &'static std::ffi::CStr = match status {
        0 => c"ok",
        1 => c"no event",
        100 => c"a required pointer argument was NULL",
        101 => c"an argument was out of range",
        102 => c"the policy has an error",
        103 => c"a file could not be read",
        104 => c"the buffer is too small",
        105 => c"the handle is poisoned by an earlier panic",
        106 => c"a panic was caught at the C boundary",
        _ => c"unknown status",
    };
    s.as_ptr()
}
