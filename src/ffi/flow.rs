//! Flows: feeding, events, and their lifetime.

use super::boundary::{guard, guard_poisonable, publish, slice, Poisonable};
use super::engine::imdsguard_engine;
use super::event::{event_of, render_eve};
use super::status::imdsguard_status::{self, *};
use super::types::{
    imdsguard_event, imdsguard_feed_result, imdsguard_flow_key, imdsguard_flow_stats,
};
use crate::engine::{Engine, Flow};
use crate::event::Alert;
use crate::flow::Direction;
use std::ffi::c_char;
use std::sync::Arc;

/// One connection under detection.
///
/// Thread safety: a flow belongs to one thread at a time; calls on the same flow must not
/// overlap. Different flows may be used on different threads, sharing one engine.
///
/// After a caught panic the flow is poisoned: every later call returns
/// `IMDSGUARD_POISONED`; free it.
///
/// Methods: `imdsguard_flow_new`, `imdsguard_flow_set_engine`, `imdsguard_flow_feed`,
/// `imdsguard_flow_parse_in_place`, `imdsguard_flow_gap`, `imdsguard_flow_close_direction`,
/// `imdsguard_flow_close`, `imdsguard_flow_set_time`, `imdsguard_flow_set_responder_ttl`,
/// `imdsguard_flow_set_responder_mac`, `imdsguard_flow_next_event`,
/// `imdsguard_flow_event_eve`, `imdsguard_flow_get_stats`, `imdsguard_flow_free`.
pub struct imdsguard_flow {
    engine: Arc<Engine>,
    flow: Flow,
    /// The event last returned by `imdsguard_flow_next_event`: the `imdsguard_str` fields
    /// point into it.
    current: Option<Alert>,
    poisoned: bool,
}

impl Poisonable for imdsguard_flow {
    fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    fn poison(&mut self) {
        self.poisoned = true;
    }
}

pub(crate) fn direction(dir: u8) -> Result<Direction, imdsguard_status> {
    Direction::from_raw(dir).ok_or(IMDSGUARD_INVALID_ARGUMENT)
}

fn fill_result(out: *mut imdsguard_feed_result, r: imdsguard_feed_result) {
    // SAFETY: `out` is NULL or writable per the callers' contract.
    if let Some(o) = unsafe { out.as_mut() } {
        *o = r;
    }
}

/// Starts a flow on an engine.
///
/// Returns `IMDSGUARD_OK` (`*out` set), `IMDSGUARD_NULL_ARGUMENT`,
/// `IMDSGUARD_INVALID_ARGUMENT` (address family not 4 or 6, more than two VLAN tags, a VLAN
/// id above 4095), `IMDSGUARD_PANIC`.
///
/// Memory and lifetimes: the flow keeps the engine alive; free it with
/// `imdsguard_flow_free`.
///
/// # Safety
/// `engine` is a live engine; `key` is readable; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_new(
    engine: *const imdsguard_engine,
    key: *const imdsguard_flow_key,
    out: *mut *mut imdsguard_flow,
) -> imdsguard_status {
    guard(|| {
        // SAFETY: NULL or live/readable per the contract.
        let (Some(engine), Some(key)) = (unsafe { engine.as_ref() }, unsafe { key.as_ref() })
        else {
            return IMDSGUARD_NULL_ARGUMENT;
        };
        if out.is_null() {
            return IMDSGUARD_NULL_ARGUMENT;
        }
        let key = match key.to_key() {
            Ok(k) => k,
            Err(s) => return s,
        };
        let engine = Arc::clone(&engine.engine);
        let flow = Flow::new(&engine, key);
        let handle = imdsguard_flow {
            engine,
            flow,
            current: None,
            poisoned: false,
        };
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { publish(out, handle) }
    })
}

/// Switches the flow to another engine (a new policy) without losing its state.
///
/// Returns `IMDSGUARD_OK`, `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_POISONED`, `IMDSGUARD_PANIC`.
///
/// # Safety
/// `flow` is a live flow not used by another thread; `engine` is a live engine.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_set_engine(
    flow: *mut imdsguard_flow,
    engine: *const imdsguard_engine,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| match engine.as_ref() {
            Some(e) => {
                f.engine = Arc::clone(&e.engine);
                IMDSGUARD_OK
            }
            None => IMDSGUARD_NULL_ARGUMENT,
        })
    }
}

/// Feeds the next bytes of one direction. Everything is consumed: a line split at the end of
/// `data` is copied (at most one line per direction) and completed by the next call.
///
/// Parameters: `dir` is `IMDSGUARD_DIR_TO_SERVER` or `IMDSGUARD_DIR_TO_CLIENT`; `data` and
/// `len` the bytes (NULL with 0 is an empty feed); `result` may be NULL, else it receives
/// the status, `consumed == len`, and the number of pending events.
///
/// Returns `IMDSGUARD_OK`, `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_INVALID_ARGUMENT` (unknown
/// direction), `IMDSGUARD_POISONED`, `IMDSGUARD_PANIC`.
///
/// Memory and lifetimes: `data` is not kept after the call.
///
/// # Safety
/// `flow` is a live flow not used by another thread; `data` points to `len` readable bytes
/// (or is NULL with 0); `result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_feed(
    flow: *mut imdsguard_flow,
    dir: u8,
    data: *const u8,
    len: usize,
    result: *mut imdsguard_feed_result,
) -> imdsguard_status {
    // SAFETY: this function's contract is `feed`'s.
    unsafe { feed(flow, dir, data, len, result, Mode::Copy) }
}

/// How a feed hands bytes to the parser.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Copy,
    InPlace,
}

/// Both feeding entry points: checks, feeds, fills `result` (also on failure).
///
/// # Safety
/// As `imdsguard_flow_feed`.
unsafe fn feed(
    flow: *mut imdsguard_flow,
    dir: u8,
    data: *const u8,
    len: usize,
    result: *mut imdsguard_feed_result,
    mode: Mode,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    let status = unsafe {
        guard_poisonable(flow, |f| {
            let dir = match direction(dir) {
                Ok(d) => d,
                Err(s) => return s,
            };
            let bytes = match slice(data, len) {
                Ok(b) => b,
                Err(s) => return s,
            };
            if cfg!(feature = "test-panic") && bytes == b"imdsguard:test-panic" {
                panic!("imdsguard test panic requested through the C ABI");
            }
            let engine = Arc::clone(&f.engine);
            let (consumed, needed) = match mode {
                Mode::Copy => {
                    f.flow.feed(&engine, dir, bytes);
                    (bytes.len(), 0)
                }
                Mode::InPlace => {
                    let p = f.flow.parse_in_place(&engine, dir, bytes);
                    (p.consumed, p.needed)
                }
            };
            fill_result(
                result,
                imdsguard_feed_result {
                    status: IMDSGUARD_OK as u32,
                    consumed,
                    needed,
                    pending_events: f.flow.pending_alerts(),
                },
            );
            IMDSGUARD_OK
        })
    };
    if status != IMDSGUARD_OK {
        fill_result(
            result,
            imdsguard_feed_result {
                status: status as u32,
                ..imdsguard_feed_result::default()
            },
        );
    }
    status
}

/// Feeds without copying (Suricata's way): parses what is complete in `data`; `result`
/// receives `consumed` and, when not everything was consumed, `needed`: present
/// `data[consumed..]` again, followed by at least `needed - (len - consumed)` new bytes, in the
/// next call for this direction. At the end of the stream hand the tail to
/// `imdsguard_flow_feed`, then close.
///
/// Returns as `imdsguard_flow_feed`; `result` must not be NULL.
///
/// # Safety
/// As `imdsguard_flow_feed`; `result` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_parse_in_place(
    flow: *mut imdsguard_flow,
    dir: u8,
    data: *const u8,
    len: usize,
    result: *mut imdsguard_feed_result,
) -> imdsguard_status {
    if result.is_null() {
        return IMDSGUARD_NULL_ARGUMENT;
    }
    // SAFETY: this function's contract is `feed`'s, and `result` is not NULL.
    unsafe { feed(flow, dir, data, len, result, Mode::InPlace) }
}

/// Reports `len` lost bytes in one direction (a capture or reassembly gap).
///
/// Returns `IMDSGUARD_OK`, `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_INVALID_ARGUMENT`,
/// `IMDSGUARD_POISONED`, `IMDSGUARD_PANIC`.
///
/// # Safety
/// `flow` is a live flow not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_gap(
    flow: *mut imdsguard_flow,
    dir: u8,
    len: u64,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| match direction(dir) {
            Ok(d) => {
                let engine = Arc::clone(&f.engine);
                f.flow.gap(&engine, d, len);
                IMDSGUARD_OK
            }
            Err(s) => s,
        })
    }
}

/// Ends one direction (FIN or RST seen). When both have ended, pending verdicts are given.
///
/// Returns as `imdsguard_flow_gap`.
///
/// # Safety
/// `flow` is a live flow not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_close_direction(
    flow: *mut imdsguard_flow,
    dir: u8,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| match direction(dir) {
            Ok(d) => {
                let engine = Arc::clone(&f.engine);
                f.flow.close_direction(&engine, d);
                IMDSGUARD_OK
            }
            Err(s) => s,
        })
    }
}

/// Ends the flow (both directions, or a timeout): every pending verdict is given, including
/// the address-only alert of a flow to a metadata address that carried no metadata HTTP.
/// Take the events afterwards.
///
/// Returns `IMDSGUARD_OK`, `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_POISONED`, `IMDSGUARD_PANIC`.
///
/// # Safety
/// `flow` is a live flow not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_close(flow: *mut imdsguard_flow) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| {
            let engine = Arc::clone(&f.engine);
            f.flow.close(&engine);
            IMDSGUARD_OK
        })
    }
}

/// Frees the parser and detection state of a flow that has nothing in progress: between
/// messages in both directions, no transaction waiting for its verdict, no alert not yet
/// taken. Call it for flows that went quiet (a second without packets, say): an idle flow
/// then holds no heap. A flow with work in progress stays as it is; what follows is the
/// same either way, and the next bytes allocate the state again.
///
/// `compacted` (may be NULL) receives whether the flow is compact now.
///
/// Returns `IMDSGUARD_OK`, `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_POISONED`, `IMDSGUARD_PANIC`.
///
/// # Safety
/// `flow` is a live flow not used by another thread; `compacted` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_compact(
    flow: *mut imdsguard_flow,
    compacted: *mut bool,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| {
            let done = f.flow.compact();
            if !compacted.is_null() {
                compacted.write(done);
            }
            IMDSGUARD_OK
        })
    }
}

/// Sets the time of what is fed next (microseconds since the Unix epoch); events carry it.
///
/// # Safety
/// `flow` is a live flow not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_set_time(
    flow: *mut imdsguard_flow,
    timestamp_us: u64,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| {
            f.flow.set_time(timestamp_us);
            IMDSGUARD_OK
        })
    }
}

/// Records the responder's IP TTL / hop limit (the real IMDS answers with 1).
///
/// # Safety
/// `flow` is a live flow not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_set_responder_ttl(
    flow: *mut imdsguard_flow,
    ttl: u8,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| {
            f.flow.set_responder_ttl(ttl);
            IMDSGUARD_OK
        })
    }
}

/// Records the responder's MAC address (6 bytes).
///
/// # Safety
/// `flow` is a live flow not used by another thread; `mac` points to 6 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_set_responder_mac(
    flow: *mut imdsguard_flow,
    mac: *const u8,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| {
            let bytes = match slice(mac, 6) {
                Ok(b) => b,
                Err(s) => return s,
            };
            let mut m = [0u8; 6];
            m.copy_from_slice(bytes);
            f.flow.set_responder_mac(m);
            IMDSGUARD_OK
        })
    }
}

/// Takes the next alert of the flow.
///
/// Returns `IMDSGUARD_OK` (`*out` filled), `IMDSGUARD_NO_EVENT` (none pending),
/// `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_POISONED`, `IMDSGUARD_PANIC`.
///
/// Memory and lifetimes: the `imdsguard_str` fields point into the flow and stay valid until
/// the next call on this flow; copy what you keep. The `const char *` names are static.
///
/// # Safety
/// `flow` is a live flow not used by another thread; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_next_event(
    flow: *mut imdsguard_flow,
    out: *mut imdsguard_event,
) -> imdsguard_status {
    if out.is_null() {
        return IMDSGUARD_NULL_ARGUMENT;
    }
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| {
            // The alert last taken goes back to the flow, whose next alert reuses its buffers.
            let taken = match f.current.as_mut() {
                Some(current) => f.flow.pop_alert_into(current),
                None => f.flow.pop_alert().map(|a| f.current = Some(a)).is_some(),
            };
            match f.current.as_ref().filter(|_| taken) {
                Some(current) => {
                    out.write(event_of(current));
                    IMDSGUARD_OK
                }
                None => IMDSGUARD_NO_EVENT,
            }
        })
    }
}

/// Renders the event last taken with `imdsguard_flow_next_event` as one EVE-JSON object,
/// NUL-terminated, without a trailing newline.
///
/// Parameters: `buf` and `cap` the caller's buffer (NULL with 0 to ask for the size);
/// `needed` receives the size the rendering needs, NUL included.
///
/// Returns `IMDSGUARD_OK` (written), `IMDSGUARD_BUFFER_TOO_SMALL` (nothing written but
/// `*needed`), `IMDSGUARD_NO_EVENT` (no event taken yet), `IMDSGUARD_NULL_ARGUMENT`,
/// `IMDSGUARD_POISONED`, `IMDSGUARD_PANIC`.
///
/// # Safety
/// `flow` is a live flow not used by another thread; `buf` is NULL with `cap` 0 or points to
/// `cap` writable bytes; `needed` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_event_eve(
    flow: *mut imdsguard_flow,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> imdsguard_status {
    if needed.is_null() || (buf.is_null() && cap > 0) {
        return IMDSGUARD_NULL_ARGUMENT;
    }
    // SAFETY: per this function's contract.
    unsafe { guard_poisonable(flow, |f| render_eve(f.current.as_ref(), buf, cap, needed)) }
}

/// Copies the flow's counters.
///
/// # Safety
/// `flow` is a live flow not used by another thread; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_get_stats(
    flow: *mut imdsguard_flow,
    out: *mut imdsguard_flow_stats,
) -> imdsguard_status {
    if out.is_null() {
        return IMDSGUARD_NULL_ARGUMENT;
    }
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(flow, |f| {
            let s = f.flow.stats();
            out.write(imdsguard_flow_stats {
                transactions: s.transactions,
                alerts: s.alerts,
                suppressed: s.suppressed,
                anomalous_messages: s.anomalous_messages,
                stream_anomalies: s.stream_anomalies,
                alerts_dropped: s.alerts_dropped,
                heap_bytes: f.flow.heap_bytes() as u64,
            });
            IMDSGUARD_OK
        })
    }
}

/// Frees a flow (a poisoned one too). Events not taken are dropped. NULL is fine; never free
/// the same flow twice.
///
/// # Safety
/// `flow` is NULL or a live flow from `imdsguard_flow_new` not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_flow_free(flow: *mut imdsguard_flow) {
    if flow.is_null() {
        return;
    }
    let _ = guard(|| {
        // SAFETY: from Box::into_raw in `publish` (imdsguard_flow_new), freed once per the
        // contract.
        drop(unsafe { Box::from_raw(flow) });
        IMDSGUARD_OK
    });
}
