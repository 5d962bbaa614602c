//! The per-packet entry point: a tracker owns a flow table and TCP reassembly, for C
//! appliances that have frames rather than reassembled streams.

use super::boundary::{guard, guard_poisonable, publish, slice, Poisonable};
use super::engine::imdsguard_engine;
use super::event::{event_of, render_eve};
use super::status::imdsguard_status::{self, *};
use super::types::imdsguard_event;
use crate::engine::Engine;
use crate::event::Alert;
use crate::packet::{LinkType, Tracker, TrackerConfig};
use std::collections::VecDeque;
use std::ffi::c_char;
use std::sync::Arc;

/// Limits of a tracker; zero in a field means its default.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct imdsguard_tracker_config {
    /// Flows held at once (default 65536).
    pub max_flows: usize,
    /// Memory charged to flows at most, in bytes (default 64 MiB).
    pub memcap_bytes: usize,
    /// Timeout of a flow that carried payload, microseconds (default 300 s).
    pub idle_timeout_us: u64,
    /// Timeout of a flow without payload (handshake only, UDP, ICMP), microseconds (30 s).
    pub new_timeout_us: u64,
}

impl imdsguard_tracker_config {
    fn to_config(self) -> TrackerConfig {
        let d = TrackerConfig::default();
        let or = |v: usize, d: usize| if v == 0 { d } else { v };
        let or64 = |v: u64, d: u64| if v == 0 { d } else { v };
        TrackerConfig {
            max_flows: or(self.max_flows, d.max_flows),
            memcap_bytes: or(self.memcap_bytes, d.memcap_bytes),
            idle_timeout_us: or64(self.idle_timeout_us, d.idle_timeout_us),
            new_timeout_us: or64(self.new_timeout_us, d.new_timeout_us),
            ..d
        }
    }
}

/// What one packet did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct imdsguard_packet_result {
    /// The status the call returned.
    pub status: u32,
    /// Whether the frame was decoded (false: malformed or truncated; counted in the stats).
    pub decoded: bool,
    /// Whether the packet belongs to a tracked flow.
    pub tracked: bool,
    /// Alerts waiting (take them with `imdsguard_tracker_next_event`).
    pub pending_events: usize,
}

/// Counters of a tracker.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct imdsguard_tracker_stats {
    /// Frames handed in.
    pub packets: u64,
    /// Frames that could not be decoded because they were damaged (frames that carry no IP,
    /// such as ARP, are not counted).
    pub decode_errors: u64,
    /// Flows created.
    pub flows_created: u64,
    /// Flows evicted to stay within `max_flows` or the memcap.
    pub flows_evicted: u64,
    /// Flows ended by a timeout.
    pub flows_timed_out: u64,
    /// Flows alive now.
    pub active_flows: u64,
    /// Memory charged now, in bytes: the flow tables and every flow's heap; never above
    /// the memcap.
    pub memory_bytes: u64,
    /// Alerts raised.
    pub alerts: u64,
}

/// A flow table with TCP reassembly, fed one frame at a time.
///
/// Thread safety: a tracker belongs to one thread at a time (run one per capture thread,
/// sharing the engine). After a caught panic it is poisoned like a flow.
///
/// Methods: `imdsguard_tracker_new`, `imdsguard_tracker_packet`, `imdsguard_tracker_expire`,
/// `imdsguard_tracker_flush`, `imdsguard_tracker_next_event`, `imdsguard_tracker_event_eve`,
/// `imdsguard_tracker_get_stats`, `imdsguard_tracker_free`.
pub struct imdsguard_tracker {
    engine: Arc<Engine>,
    tracker: Tracker,
    queue: VecDeque<Alert>,
    current: Option<Alert>,
    poisoned: bool,
}

impl Poisonable for imdsguard_tracker {
    fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    fn poison(&mut self) {
        self.poisoned = true;
    }
}

/// Creates a tracker on an engine. `config` may be NULL for the defaults.
///
/// Returns `IMDSGUARD_OK`, `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_PANIC`.
///
/// # Safety
/// `engine` is a live engine; `config` is NULL or readable; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_tracker_new(
    engine: *const imdsguard_engine,
    config: *const imdsguard_tracker_config,
    out: *mut *mut imdsguard_tracker,
) -> imdsguard_status {
    guard(|| {
        // SAFETY: NULL or live per the contract.
        let Some(engine) = (unsafe { engine.as_ref() }) else {
            return IMDSGUARD_NULL_ARGUMENT;
        };
        if out.is_null() {
            return IMDSGUARD_NULL_ARGUMENT;
        }
        // SAFETY: NULL or readable per the contract.
        let config = unsafe { config.as_ref() }.copied().unwrap_or_default();
        let handle = imdsguard_tracker {
            engine: Arc::clone(&engine.engine),
            tracker: Tracker::new(config.to_config()),
            queue: VecDeque::new(),
            current: None,
            poisoned: false,
        };
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { publish(out, handle) }
    })
}

/// Hands one frame to the tracker.
///
/// Parameters: `frame`, `len` the captured bytes; `linktype` a pcap `LINKTYPE_*` number
/// (1 Ethernet, 101 raw IP, 113 Linux SLL, 276 SLL2, 0/108 BSD loopback, 228/229 raw
/// IPv4/IPv6); `ts_us` the capture time in microseconds since the Unix epoch (timeouts run
/// on packet time); `result` may be NULL.
///
/// Returns `IMDSGUARD_OK` (also for a frame that could not be decoded: that is counted, not
/// an error of the call), `IMDSGUARD_INVALID_ARGUMENT` (unknown link type),
/// `IMDSGUARD_NULL_ARGUMENT`, `IMDSGUARD_POISONED`, `IMDSGUARD_PANIC`.
///
/// # Safety
/// `tracker` is a live tracker not used by another thread; `frame` points to `len` readable
/// bytes (or is NULL with 0); `result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_tracker_packet(
    tracker: *mut imdsguard_tracker,
    frame: *const u8,
    len: usize,
    linktype: u32,
    ts_us: u64,
    result: *mut imdsguard_packet_result,
) -> imdsguard_status {
    let mut outcome = imdsguard_packet_result::default();
    // SAFETY: per this function's contract.
    let status = unsafe {
        guard_poisonable(tracker, |t| {
            let Some(link) = LinkType::from_dlt(linktype) else {
                return IMDSGUARD_INVALID_ARGUMENT;
            };
            let bytes = match slice(frame, len) {
                Ok(b) => b,
                Err(s) => return s,
            };
            let engine = Arc::clone(&t.engine);
            let o = t.tracker.packet(&engine, bytes, link, ts_us);
            t.queue.extend(t.tracker.drain_alerts());
            outcome = imdsguard_packet_result {
                status: IMDSGUARD_OK as u32,
                decoded: o.error.is_none(),
                tracked: !matches!(o.action, crate::packet::FlowAction::Untracked),
                pending_events: t.queue.len(),
            };
            IMDSGUARD_OK
        })
    };
    outcome.status = status as u32;
    // SAFETY: NULL or writable per the contract.
    if let Some(r) = unsafe { result.as_mut() } {
        *r = outcome;
    }
    status
}

/// Ends the flows idle past their timeout at `now_us` (packet time), giving their verdicts.
///
/// # Safety
/// `tracker` is a live tracker not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_tracker_expire(
    tracker: *mut imdsguard_tracker,
    now_us: u64,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(tracker, |t| {
            let engine = Arc::clone(&t.engine);
            t.tracker.expire(&engine, now_us);
            t.queue.extend(t.tracker.drain_alerts());
            IMDSGUARD_OK
        })
    }
}

/// Ends every flow (end of capture, shutdown), giving every pending verdict.
///
/// # Safety
/// `tracker` is a live tracker not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_tracker_flush(
    tracker: *mut imdsguard_tracker,
) -> imdsguard_status {
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(tracker, |t| {
            let engine = Arc::clone(&t.engine);
            t.tracker.flush(&engine);
            t.queue.extend(t.tracker.drain_alerts());
            IMDSGUARD_OK
        })
    }
}

/// Takes the next alert; as `imdsguard_flow_next_event` (strings valid until the next call
/// on this tracker).
///
/// # Safety
/// `tracker` is a live tracker not used by another thread; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_tracker_next_event(
    tracker: *mut imdsguard_tracker,
    out: *mut imdsguard_event,
) -> imdsguard_status {
    if out.is_null() {
        return IMDSGUARD_NULL_ARGUMENT;
    }
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(tracker, |t| {
            let Some(alert) = t.queue.pop_front() else {
                return IMDSGUARD_NO_EVENT;
            };
            out.write(event_of(t.current.insert(alert)));
            IMDSGUARD_OK
        })
    }
}

/// Renders the event last taken as EVE-JSON; as `imdsguard_flow_event_eve`.
///
/// # Safety
/// As `imdsguard_flow_event_eve`, for a tracker.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_tracker_event_eve(
    tracker: *mut imdsguard_tracker,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> imdsguard_status {
    if needed.is_null() || (buf.is_null() && cap > 0) {
        return IMDSGUARD_NULL_ARGUMENT;
    }
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(tracker, |t| {
            render_eve(t.current.as_ref(), buf, cap, needed)
        })
    }
}

/// Copies the tracker's counters.
///
/// # Safety
/// `tracker` is a live tracker not used by another thread; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_tracker_get_stats(
    tracker: *mut imdsguard_tracker,
    out: *mut imdsguard_tracker_stats,
) -> imdsguard_status {
    if out.is_null() {
        return IMDSGUARD_NULL_ARGUMENT;
    }
    // SAFETY: per this function's contract.
    unsafe {
        guard_poisonable(tracker, |t| {
            let s = t.tracker.stats();
            out.write(imdsguard_tracker_stats {
                packets: s.packets,
                decode_errors: s.decode_errors.malformed(),
                flows_created: s.flows_created,
                flows_evicted: s.flows_evicted,
                flows_timed_out: s.flows_timed_out,
                active_flows: s.active_flows,
                memory_bytes: s.memory_bytes,
                alerts: s.alerts,
            });
            IMDSGUARD_OK
        })
    }
}

/// Frees a tracker (flows still open are dropped without verdicts: flush first to get
/// them). NULL is fine; never free twice.
///
/// # Safety
/// `tracker` is NULL or a live tracker not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn imdsguard_tracker_free(tracker: *mut imdsguard_tracker) {
    if tracker.is_null() {
        return;
    }
    let _ = guard(|| {
        // SAFETY: from Box::into_raw in `publish` (imdsguard_tracker_new), freed once.
        drop(unsafe { Box::from_raw(tracker) });
        IMDSGUARD_OK
    });
}
