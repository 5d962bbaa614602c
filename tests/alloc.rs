//! Heap allocations per request in steady state: target 0 (issue "performance measurement
//! suite", target list).
//!
//! A counting global allocator counts the allocations of the calling thread only (tests run
//! in parallel threads). Each test warms a flow up with the first requests of a corpus (the
//! carry-over buffers, the transaction queues and the reusable transaction states reach
//! their working size), then counts the allocations made while the next requests are fed:
//! whole (one call per message) and in 64-byte chunks.
//!
//! When a count is not 0 the failure message says where the allocations happen, without
//! backtraces: counts by phase (request side, response side, alert drain), and for the
//! first request that allocates, the allocations of each of its lines fed one by one.

#[path = "../benches/common/mod.rs"]
mod common;

use common::Rng;
use imdsguard::engine::{Engine, Flow};
use imdsguard::event::Alert;
use imdsguard::flow::{Direction, HttpStream, NullSink};
use imdsguard::key::FlowKey;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the allocator may run while the thread's locals are being torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards every call to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        bump();
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        bump();
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        bump();
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn count<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCS.with(Cell::get);
    let t = f();
    (t, ALLOCS.with(Cell::get) - before)
}

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

/// Request/response exchanges per test: fed once to warm up, then again, counted.
const EXCHANGES: usize = 256;

/// Request/response pairs of a keep-alive browser connection.
fn browser_exchanges(n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    (0..n)
        .map(|_| {
            let req = common::browser_request(&mut rng);
            let path_end = req[4..].iter().position(|&b| b == b' ').unwrap() + 4;
            let path = std::str::from_utf8(&req[4..path_end]).unwrap().to_string();
            (req, common::browser_response(&mut rng, &path))
        })
        .collect()
}

/// Request/response pairs of botocore talking to the IMDS on one connection: the token PUT,
/// role listing, credentials (JSON) and now and then the zone.
fn imds_exchanges(n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::new();
    while out.len() < n {
        for (req, ask) in common::botocore_requests(&mut rng) {
            let resp = common::imds_response(&mut rng, &ask);
            out.push((req, resp));
        }
    }
    out.truncate(n);
    out
}

fn key(server: &str) -> FlowKey {
    FlowKey::tcp(
        "10.20.0.7".parse().unwrap(),
        40123,
        server.parse().unwrap(),
        80,
    )
}

/// What is measured: the parser alone, or a detection flow.
trait Feeder {
    fn feed(&mut self, dir: Direction, data: &[u8]);
    /// Takes the pending alerts; returns how many.
    fn drain(&mut self) -> usize;
}

impl Feeder for HttpStream {
    fn feed(&mut self, dir: Direction, data: &[u8]) {
        HttpStream::feed(self, dir, data, &mut NullSink);
    }
    fn drain(&mut self) -> usize {
        0
    }
}

struct Detection<'a>(&'a Engine, Flow);

impl Feeder for Detection<'_> {
    fn feed(&mut self, dir: Direction, data: &[u8]) {
        self.1.feed(self.0, dir, data);
    }
    fn drain(&mut self) -> usize {
        self.1.drain_alerts().count()
    }
}

/// A detection flow whose consumer takes every alert through one `Alert` it keeps
/// (`Flow::pop_alert_into`), as the C ABI does: the alert it held goes back to the flow.
struct Recycling<'a>(&'a Engine, Flow, Option<Alert>);

impl Feeder for Recycling<'_> {
    fn feed(&mut self, dir: Direction, data: &[u8]) {
        self.1.feed(self.0, dir, data);
    }
    fn drain(&mut self) -> usize {
        let mut n = 0;
        loop {
            let taken = match self.2.as_mut() {
                Some(held) => self.1.pop_alert_into(held),
                None => self.1.pop_alert().map(|a| self.2 = Some(a)).is_some(),
            };
            if !taken {
                return n;
            }
            n += 1;
        }
    }
}

/// How a message is cut into calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// One call per message.
    Whole,
    /// Calls of at most this many bytes.
    Chunks(usize),
    /// One call per line (CRLF-terminated), the rest of the message in one call.
    Lines,
}

fn pieces(data: &[u8], cut: Cut) -> Vec<&[u8]> {
    match cut {
        Cut::Whole => vec![data],
        Cut::Chunks(n) => data.chunks(n).collect(),
        Cut::Lines => {
            let head = memchr::memmem::find(data, b"\r\n\r\n").map_or(data.len(), |p| p + 4);
            let mut out = Vec::new();
            let mut start = 0;
            while start < head {
                let end = memchr::memmem::find(&data[start..head], b"\r\n")
                    .map_or(head, |p| start + p + 2);
                out.push(&data[start..end]);
                start = end;
            }
            if head < data.len() {
                out.push(&data[head..]);
            }
            out
        }
    }
}

/// Allocation counts by phase, over the second pass of the exchanges.
#[derive(Debug, Default)]
struct Phases {
    /// While request bytes were fed (parse, and for a flow the request matcher).
    request_side: u64,
    /// While response bytes were fed (parse; for a flow also the verdict and the alert).
    response_side: u64,
    /// Alerts raised.
    alerts: u64,
    /// While alerts were drained (and dropped).
    alert_drain: u64,
    /// For the first request that allocated: the allocations of each of its lines, fed one
    /// line per call to a twin that went through the same exchanges line by line.
    first_request_lines: String,
}

fn exchange<F: Feeder>(f: &mut F, (req, resp): &(Vec<u8>, Vec<u8>), cut: Cut) {
    for p in pieces(req, cut) {
        f.feed(C, p);
    }
    for p in pieces(resp, cut) {
        f.feed(S, p);
    }
    f.drain();
}

/// Feeds every exchange once (warm-up: buffers and queues reach their working size, the
/// same bytes cut the same way need no more), then again, counting by phase.
fn phases<F: Feeder>(make: impl Fn() -> F, ex: &[(Vec<u8>, Vec<u8>)], cut: Cut) -> Phases {
    let mut f = make();
    ex.iter().for_each(|e| exchange(&mut f, e, cut));
    let mut ph = Phases::default();
    for (k, (req, resp)) in ex.iter().enumerate() {
        // Cut outside the counted regions (the list of pieces is a `Vec`).
        let (req, resp) = (pieces(req, cut), pieces(resp, cut));
        let ((), n) = count(|| req.iter().for_each(|p| f.feed(C, p)));
        if n > 0 && ph.first_request_lines.is_empty() {
            ph.first_request_lines = per_line(&make, ex, k);
        }
        ph.request_side += n;
        ph.response_side += count(|| resp.iter().for_each(|p| f.feed(S, p))).1;
        let (alerts, n) = count(|| f.drain());
        ph.alerts += alerts as u64;
        ph.alert_drain += n;
    }
    ph
}

/// Bisects request `k` by line: a twin fed every exchange line by line (warm-up, then the
/// exchanges before `k`), then request `k` one line per call, counting each.
fn per_line<F: Feeder>(make: &impl Fn() -> F, ex: &[(Vec<u8>, Vec<u8>)], k: usize) -> String {
    let mut f = make();
    ex.iter().for_each(|e| exchange(&mut f, e, Cut::Lines));
    ex[..k].iter().for_each(|e| exchange(&mut f, e, Cut::Lines));
    let mut out = Vec::new();
    for line in pieces(&ex[k].0, Cut::Lines) {
        let ((), n) = count(|| f.feed(C, line));
        if n > 0 {
            let shown = String::from_utf8_lossy(&line[..line.len().min(48)]).into_owned();
            out.push(format!("{n} in {shown:?}"));
        }
    }
    if out.is_empty() {
        "none when fed line by line".into()
    } else {
        out.join("; ")
    }
}

const CUTS: [Cut; 2] = [Cut::Whole, Cut::Chunks(64)];

#[test]
fn stream_feed_allocates_nothing_per_request() {
    for (name, ex) in [
        ("browser", browser_exchanges(EXCHANGES)),
        ("imds", imds_exchanges(EXCHANGES)),
    ] {
        for cut in CUTS {
            let ph = phases(HttpStream::new, &ex, cut);
            assert_eq!(
                (ph.request_side, ph.response_side),
                (0, 0),
                "HttpStream::feed, {name} exchanges, {cut:?}, {EXCHANGES} exchanges after as \
                 many of warm-up: {ph:?}"
            );
        }
    }
}

#[test]
fn flow_feed_allocates_nothing_per_request_browser() {
    let ex = browser_exchanges(EXCHANGES);
    let engine = Engine::default();
    for cut in CUTS {
        let ph = phases(
            || Detection(&engine, Flow::new(&engine, key("93.184.216.34"))),
            &ex,
            cut,
        );
        assert_eq!(ph.alerts, 0, "browser traffic raises no alert");
        assert_eq!(
            (ph.request_side, ph.response_side),
            (0, 0),
            "Flow::feed, browser, {cut:?}, {EXCHANGES} exchanges after as many of warm-up: {ph:?}"
        );
    }
}

/// Allocations on the request side of a detection flow over the 256 IMDS requests of
/// `imds_exchanges` when the consumer keeps the alerts it takes (`drain_alerts`), as
/// measured: 768, 3.00 per request. The same for whole messages and 64-byte chunks. Each is
/// one evidence statement the matcher writes for an indicator of a request it matched (one
/// allocation per statement), by line (`first_request_lines`): the path ("path ..."), the
/// metadata host ("Host header names ..."), the token header. The strings went away with
/// the alerts, so the next statements need new ones; a consumer that gives its alerts back
/// makes none (`flow_feed_allocates_nothing_per_alert_when_alerts_come_back`). A request
/// that matches nothing allocates nothing (see the browser test); the copied HTTP fields go
/// into the flow's field arena, reused from one transaction to the next.
const MAX_IMDS_REQUEST_SIDE_ALLOCS: u64 = 768;

/// Allocations on the response side over the same 256 exchanges, each of which ends in an
/// alert the consumer keeps, as measured: 2,208, 8.62 per alert: the evidence list and its
/// statements about the destination and the response, the alert's five HTTP fields copied
/// out of the field arena (the request's statements move into the alert). An alert kept is
/// an owned value handed to the caller, so this is a cost per alert rather than per request
/// parsed; it must not grow. Request and response side together: 11.6 per alerting
/// exchange (23.9 before statements were built in place and moved into the alert); 0 when
/// the alerts come back.
const MAX_IMDS_RESPONSE_SIDE_ALLOCS: u64 = 2208;

#[test]
fn flow_feed_allocations_per_request_imds() {
    let ex = imds_exchanges(EXCHANGES);
    let engine = Engine::default();
    for cut in CUTS {
        let ph = phases(
            || Detection(&engine, Flow::new(&engine, key("169.254.169.254"))),
            &ex,
            cut,
        );
        assert_eq!(
            ph.alerts, EXCHANGES as u64,
            "one alert per IMDS exchange: {ph:?}"
        );
        let per_request = ph.request_side as f64 / EXCHANGES as f64;
        let per_alert = ph.response_side as f64 / ph.alerts as f64;
        eprintln!(
            "IMDS, {cut:?}: {per_request:.2} allocations per request (request side), \
             {per_alert:.2} per alert (response side): {ph:?}"
        );
        assert!(
            ph.request_side <= MAX_IMDS_REQUEST_SIDE_ALLOCS,
            "Flow::feed, IMDS requests, {cut:?}: {per_request:.2} allocations per request \
             (target 0, today's maximum {MAX_IMDS_REQUEST_SIDE_ALLOCS} per {EXCHANGES}): {ph:?}"
        );
        assert!(
            ph.response_side <= MAX_IMDS_RESPONSE_SIDE_ALLOCS,
            "Flow::feed, IMDS responses (verdict + alert), {cut:?}: {per_alert:.2} allocations \
             per alert (today's maximum {MAX_IMDS_RESPONSE_SIDE_ALLOCS} per {EXCHANGES}): {ph:?}"
        );
        assert_eq!(ph.alert_drain, 0, "draining alerts only frees: {ph:?}");
    }
}

/// The same IMDS exchanges, each ending in an alert, with the alerts taken through
/// `Flow::pop_alert_into`: nothing is allocated per request or per alert. The statements, the
/// evidence list and the HTTP fields of each alert are written into the buffers of the one
/// before it, which the consumer gave back.
#[test]
fn flow_feed_allocates_nothing_per_alert_when_alerts_come_back() {
    let ex = imds_exchanges(EXCHANGES);
    let engine = Engine::default();
    for cut in CUTS {
        let ph = phases(
            || Recycling(&engine, Flow::new(&engine, key("169.254.169.254")), None),
            &ex,
            cut,
        );
        assert_eq!(
            ph.alerts, EXCHANGES as u64,
            "one alert per IMDS exchange: {ph:?}"
        );
        eprintln!(
            "IMDS given back, {cut:?}: {:.2} allocations per request (request side), {:.2} per \
             alert (response side and taking): {ph:?}",
            ph.request_side as f64 / EXCHANGES as f64,
            (ph.response_side + ph.alert_drain) as f64 / ph.alerts as f64
        );
        assert_eq!(
            (ph.request_side, ph.response_side, ph.alert_drain),
            (0, 0, 0),
            "Flow::feed, IMDS exchanges, alerts taken with pop_alert_into, {cut:?}, \
             {EXCHANGES} exchanges after as many of warm-up: {ph:?}"
        );
    }
}

/// The pieces of the IMDS matcher on their own (smaller inputs than a request): the
/// normalisation of plain forms allocates nothing. (The matcher's statements are written
/// into reused strings: see `flow_feed_allocates_nothing_per_alert_when_alerts_come_back`.)
#[test]
fn imds_matcher_pieces() {
    use imdsguard::normalize::{normalize_path, parse_authority};
    let (_, authority) = count(|| parse_authority(b"169.254.169.254").host);
    let (_, path) = count(|| normalize_path(b"/latest/meta-data/iam/security-credentials/").path);
    assert_eq!((authority, path), (0, 0), "normalisation of plain forms");
}
