//! Engine construction, the stateless policy decision, and the stateless address rule.

use super::boundary::{guard, publish, slice, write_out};
use super::status::imdsguard_status::{self, *};
use super::types::{
    imdsguard_flow_key, imdsguard_ip, imdsguard_policy_error, IMDSGUARD_DECISION_ALERT,
    IMDSGUARD_DECISION_SUPPRESSED,
};
use crate::engine::Engine;
use crate::imds::{Indicators, Provider};
use crate::policy::{Decision, Policy, PolicyError};
use std::ffi::{c_char, CStr};
use std::sync::Arc;

/// An immutable detection engine (policy and limits).
///
/// Thread safety: an engine may be shared by any number of threads; every function taking a
/// `const imdsguard_engine *` may be called concurrently. Flows hold a reference, so
/// `imdsguard_engine_free` may be called while flows made from it are alive.
///
/// Methods: `imdsguard_engine_new`, `imdsguard_engine_new_from_file`,
/// `imdsguard_engine_decide`, `imdsguard_engine_free`, `imdsguard_flow_new`.
pub struct imdsguard_engine {
    pub(crate) engine: Arc<Engine>,
}

fn report(err: *mut imdsguard_policy_error, e: &PolicyError) -> imdsguard_status {
    // SAFETY: `err` is NULL or a writable imdsguard_policy_error per the callers' contract.
    if let Some(out) = unsafe { err.as_mut() } {
        out.fill(e.line(), e.column().unwrap_or(0), &e.to_string());
    }
    if e.line() == 0 {
        IMDSGUARD_IO_ERROR
    } else {
        IMDSGUARD_POLICY_ERROR
    }
}

fn publish_engine(out: *mut *mut imdsguard_engine, policy: Policy) -> imdsguard_status {
    let handle = imdsguard_engine {
        engine: Arc::new(Engine::new(policy)),
    };
    // SAFETY: `out` is a writable pointer per the callers' contract.
    unsafe { publish(out, handle) }
}

/// Creates an engine from policy text (the format of `docs/policy.md`). NULL with `len` 0 is
/// the empty policy: alert on everything.
///
/// Parameters:
/// - `policy`, `len`: the policy text (UTF-8), not NUL-terminated.
/// - `err`: where to describe a policy error; may be NULL.
/// - `out`: receives the engine.
///
/// Returns:
/// - `IMDSGUARD_OK`, `*out` set;
/// - `IMDSGUARD_POLICY_ERROR`: `err->line`, `err->column`, `err->message` say where;
/// - `IMDSGUARD_NULL_ARGUMENT`: `out` is NULL, or `policy` is NULL with `len` > 0;
/// - `IMDSGUARD_PANIC`.
///
/// Memory and lifetimes: the text is copied; free the engine with `imdsguard_engine_free`.
///
/// # Safety
/// `policy` points to `len` readable bytes (or is NULL with `len` 0); `err` is NULL or
/// writable; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_engine_new(
    policy: *const u8,
    len: usize,
    err: *mut imdsguard_policy_error,
    out: *mut *mut imdsguard_engine,
) -> imdsguard_status {
    guard(|| {
        if out.is_null() {
            return IMDSGUARD_NULL_ARGUMENT;
        }
        // SAFETY: per this function's contract.
        let text = match unsafe { slice(policy, len) } {
            Ok(t) => t,
            Err(s) => return s,
        };
        let parsed = Policy::parse_bytes(text, "policy");
        match parsed {
            Ok(p) => publish_engine(out, p),
            Err(e) => report(err, &e),
        }
    })
}

/// Creates an engine from a policy file.
///
/// Returns `IMDSGUARD_OK`; `IMDSGUARD_IO_ERROR` (file unreadable: `err->line` is 0 and
/// `err->message` says why); `IMDSGUARD_POLICY_ERROR` (with the line);
/// `IMDSGUARD_INVALID_ARGUMENT` (the path is not UTF-8); `IMDSGUARD_NULL_ARGUMENT`;
/// `IMDSGUARD_PANIC`.
///
/// # Safety
/// `path` is a NUL-terminated string; `err` is NULL or writable; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_engine_new_from_file(
    path: *const c_char,
    err: *mut imdsguard_policy_error,
    out: *mut *mut imdsguard_engine,
) -> imdsguard_status {
    guard(|| {
        if path.is_null() || out.is_null() {
            return IMDSGUARD_NULL_ARGUMENT;
        }
        // SAFETY: non-NULL and NUL-terminated per the contract.
        let Ok(path) = unsafe { CStr::from_ptr(path) }.to_str() else {
            return IMDSGUARD_INVALID_ARGUMENT;
        };
        match Policy::from_file(path) {
            Ok(p) => publish_engine(out, p),
            Err(e) => report(err, &e),
        }
    })
}

/// Frees an engine. Flows made from it keep it alive until they are freed. NULL is fine;
/// never free the same engine twice.
///
/// # Safety
/// `engine` is NULL or an engine from `imdsguard_engine_new*` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_engine_free(engine: *mut imdsguard_engine) {
    if engine.is_null() {
        return;
    }
    let _ = guard(|| {
        // SAFETY: from Box::into_raw in `publish`, freed once per the contract.
        drop(unsafe { Box::from_raw(engine) });
        IMDSGUARD_OK
    });
}

/// The stateless policy decision: would an alert with these indicators and this provider,
/// on this flow, be suppressed? For engines that raise their own alerts.
///
/// Parameters: `indicators` is a set of `IMDSGUARD_IND_*` bits (unknown bits are ignored);
/// `provider` an `IMDSGUARD_PROVIDER_*`; `decision` receives `IMDSGUARD_DECISION_ALERT` or
/// `IMDSGUARD_DECISION_SUPPRESSED`.
///
/// Returns `IMDSGUARD_OK`, `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_INVALID_ARGUMENT` (bad key
/// or provider), `IMDSGUARD_PANIC`.
///
/// # Safety
/// `engine` is a live engine; `key` is readable; `decision` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_engine_decide(
    engine: *const imdsguard_engine,
    key: *const imdsguard_flow_key,
    indicators: u32,
    provider: u8,
    decision: *mut u8,
) -> imdsguard_status {
    guard(|| {
        // SAFETY: NULL or live/readable per the contract.
        let (Some(engine), Some(key)) = (unsafe { engine.as_ref() }, unsafe { key.as_ref() })
        else {
            return IMDSGUARD_NULL_ARGUMENT;
        };
        if decision.is_null() {
            return IMDSGUARD_NULL_ARGUMENT;
        }
        let key = match key.to_key() {
            Ok(k) => k,
            Err(s) => return s,
        };
        let Some(provider) = Provider::ALL.get(usize::from(provider)).copied() else {
            return IMDSGUARD_INVALID_ARGUMENT;
        };
        let d = engine
            .engine
            .decide(&key, Indicators::from_bits_truncate(indicators), provider);
        let value = match d {
            Decision::Alert => IMDSGUARD_DECISION_ALERT,
            Decision::Suppressed { .. } => IMDSGUARD_DECISION_SUPPRESSED,
        };
        // SAFETY: checked non-NULL; writable per the contract.
        match unsafe { write_out(decision, value) } {
            Ok(()) => IMDSGUARD_OK,
            Err(s) => s,
        }
    })
}

/// The stateless address rule: is `ip` a metadata endpoint (looking through IPv6 forms that
/// embed an IPv4 address)? For engines that want only that, per packet.
///
/// Parameters: `is_metadata` receives the answer; `provider` and `indicators` (both may be
/// NULL) receive the `IMDSGUARD_PROVIDER_*` and `IMDSGUARD_IND_*` bits when it is one.
///
/// Returns `IMDSGUARD_OK`, `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_INVALID_ARGUMENT` (family
/// not 4 or 6), `IMDSGUARD_PANIC`.
///
/// # Safety
/// `ip` is readable; `is_metadata` is writable; `provider` and `indicators` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_metadata_endpoint(
    ip: *const imdsguard_ip,
    is_metadata: *mut bool,
    provider: *mut u8,
    indicators: *mut u32,
) -> imdsguard_status {
    guard(|| {
        // SAFETY: NULL or readable per the contract.
        let Some(ip) = (unsafe { ip.as_ref() }) else {
            return IMDSGUARD_NULL_ARGUMENT;
        };
        if is_metadata.is_null() {
            return IMDSGUARD_NULL_ARGUMENT;
        }
        let ip = match ip.to_ip() {
            Ok(ip) => ip,
            Err(s) => return s,
        };
        let found = Engine::metadata_endpoint(ip);
        // SAFETY: each pointer is non-NULL (checked or skipped) and writable per the contract.
        unsafe {
            is_metadata.write(found.is_some());
            if let Some((p, i)) = found {
                if !provider.is_null() {
                    provider.write(p as u8);
                }
                if !indicators.is_null() {
                    indicators.write(i.bits());
                }
            }
        }
        IMDSGUARD_OK
    })
}
