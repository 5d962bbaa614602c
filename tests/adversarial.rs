//! Adversarial load (hardening issue, item 2) as deterministic outcomes; the time it takes is
//! measured by instruction counts instead (`scripts/adversarial-report`, `ir_driver adv`),
//! never timed here.
//!
//! The streams are those of the bench (`benches/common/adversarial.rs`): 1 MiB of folded
//! lines, empty lines, chunk extensions, tiny headers or tiny pipelined requests. Each is fed
//! to an `engine::Flow` with a metadata key (every transaction judged, every request alerts)
//! and, alongside, to an `HttpStream` whose sink sums what the parser reports
//! (`ParseFacts`: request lines, header fields, body bytes, messages, anomalies), whole, in
//! 1460-byte and in 7-byte calls, the alerts taken after every call. For each pattern:
//!
//! - no panic, and the same outcome for every chunking: the flow's `stats()`, the alerts,
//!   the parser's facts;
//! - the anomalies the pattern must raise (exactly), and the counts it must give;
//! - `Flow::heap_bytes()` bounded by what the limits allow, whatever the input size.
//!
//! And `hidden_request_after_each_prefix_alerts`: a metadata request after each 1 MiB prefix
//! still alerts.

#[path = "../benches/common/adversarial.rs"]
mod adversarial;

use adversarial::{ParseFacts, HIDDEN};
use imdsguard::engine::{Engine, Flow};
use imdsguard::event::Alert;
use imdsguard::flow::{Direction, HttpStream, MAX_FOLDS, MAX_HEADERS, MAX_LIVE_TRANSACTIONS};
use imdsguard::http::Anomalies;
use imdsguard::imds::{sid, Indicators};
use imdsguard::key::FlowKey;

const MIB: usize = 1 << 20;
const C: Direction = Direction::ToServer;

/// What one run gave.
struct Outcome {
    /// `stats()` after close, as (transactions, alerts, suppressed, anomalous_messages,
    /// stream_anomalies).
    stats: [u64; 5],
    alerts: Vec<Alert>,
    facts: ParseFacts,
    /// The most `heap_bytes()` seen: after every 16 KiB of input and before the close.
    max_heap: usize,
    /// `heap_bytes()` after the close and the last alerts taken.
    heap_after_close: usize,
}

/// Feeds `data` in `chunk`-byte calls to a flow and to a parser, takes the alerts after
/// every call, then closes both.
fn run(engine: &Engine, key: FlowKey, data: &[u8], chunk: usize) -> Outcome {
    let mut flow = Flow::new(engine, key);
    let mut stream = HttpStream::new();
    let mut facts = ParseFacts::default();
    let mut alerts = Vec::new();
    let mut max_heap = 0;
    let (mut fed, mut next_check) = (0, 0);
    for piece in data.chunks(chunk) {
        flow.feed(engine, C, piece);
        stream.feed(C, piece, &mut facts);
        // The heap is measured before the alerts are taken: what they hold counts.
        fed += piece.len();
        if fed >= next_check {
            max_heap = max_heap.max(flow.heap_bytes());
            next_check += 16 * 1024;
        }
        alerts.extend(flow.drain_alerts());
    }
    max_heap = max_heap.max(flow.heap_bytes());
    flow.close(engine);
    stream.close(C, &mut facts);
    stream.close(Direction::ToClient, &mut facts);
    alerts.extend(flow.drain_alerts());
    let s = flow.stats();
    Outcome {
        stats: [
            s.transactions,
            s.alerts,
            s.suppressed,
            s.anomalous_messages,
            s.stream_anomalies,
        ],
        alerts,
        facts,
        max_heap,
        heap_after_close: flow.heap_bytes(),
    }
}

/// What a pattern must give at 1 MiB.
struct Expect {
    pattern: &'static str,
    /// The union of the anomalies of the stream, exactly.
    anomalies: Anomalies,
    request_lines: u64,
    headers: u64,
    body_bytes: u64,
    /// Messages that carried an anomaly (`FlowStats::anomalous_messages`).
    anomalous_messages: u64,
    /// Bounds of `heap_bytes()`: while feeding in 1460- or 7-byte calls, while feeding
    /// whole, after the close.
    heap_bound: [usize; 3],
}

/// Heap bounds of a flow with one transaction (`Flow::heap_bytes()`): while feeding, the
/// live-state queue (`VecDeque<TxState>`, grown to 4 states of a few hundred bytes), the
/// request's copied method, URL, protocol and host (each at most `max_alert_field`, here a
/// few bytes), and the parser's carry-over when an element is split (one element, here at
/// most the 129-line field of `folds`, 516 B, grown by doubling). Measured when written:
/// 1,760–1,983 B, 2,823 B for `folds` in 7-byte calls (3,212 B with an earlier, larger
/// `TxState`). After the close the state has moved to the spare list and the alert queue has
/// grown: 3,936–4,103 B (4,891 B earlier). Nothing grows with the input.
const ONE_TX_HEAP: usize = 4 * 1024;
const ONE_TX_HEAP_CLOSED: usize = 8 * 1024;

/// `tiny-requests` keeps up to `MAX_LIVE_TRANSACTIONS` (512) requests live without answers:
/// the live-state queue grows to 1,024 states (`VecDeque` doubles when the 513th is pushed,
/// before the oldest is judged), plus the parser's queue of 512 waiting requests, plus the
/// alerts raised within one call until they are taken. Measured when written: 290,037 B in
/// 7-byte calls, 319,695 B in 1460-byte calls (356,008 B and 386,692 B with an earlier,
/// larger `TxState`).
const MANY_TX_HEAP: usize = 512 * 1024;
/// Fed whole, the one call raises an alert per request before anyone can take them; the
/// flow's queue of pending alerts stops at its cap (`EngineConfig::max_pending_alerts`,
/// 1,024 alerts and their strings; the oldest are dropped): 813,824 B measured (899,240 B
/// earlier). Without that cap it would hold every alert of the 1 MiB: ~22 MB.
const MANY_TX_HEAP_WHOLE: usize = 1024 * 1024;
/// After the close the 512 live states have been judged and moved to the spare list, and
/// the alert queue keeps its capacity: 668,608 B measured, 836,544 B fed whole (832,424 B
/// and 1,000,360 B earlier).
const MANY_TX_HEAP_CLOSED: usize = 1024 * 1024;

fn expectations() -> [Expect; 5] {
    let units = |p| adversarial::units(p, MIB) as u64;
    [
        Expect {
            pattern: "folds",
            // The first 128 continuation lines fold into `X-A` (OBS_FOLD); the 129th passes
            // MAX_FOLDS and ends the field (TOO_MANY_FOLDS); every later group of lines starts
            // with a space, a continuation without a header (FOLD_WITHOUT_HEADER), dropped;
            // past 64 KiB the head is also HEADER_BLOCK_TOO_LARGE.
            anomalies: Anomalies::OBS_FOLD
                | Anomalies::TOO_MANY_FOLDS
                | Anomalies::FOLD_WITHOUT_HEADER
                | Anomalies::HEADER_BLOCK_TOO_LARGE,
            request_lines: 1,
            headers: 2,
            body_bytes: 0,
            anomalous_messages: 1,
            heap_bound: [ONE_TX_HEAP, ONE_TX_HEAP, ONE_TX_HEAP_CLOSED],
        },
        Expect {
            pattern: "empty-lines",
            anomalies: Anomalies::LEADING_EMPTY_LINES,
            request_lines: 1,
            headers: 1,
            body_bytes: 0,
            anomalous_messages: 1,
            heap_bound: [ONE_TX_HEAP, ONE_TX_HEAP, ONE_TX_HEAP_CLOSED],
        },
        Expect {
            pattern: "chunk-ext",
            // 100-byte extensions: under MAX_CHUNK_EXTENSION, so no CHUNK_EXT_TOO_LONG.
            anomalies: Anomalies::CHUNK_EXTENSION,
            request_lines: 1,
            headers: 2,
            body_bytes: units("chunk-ext"),
            anomalous_messages: 1,
            heap_bound: [ONE_TX_HEAP, ONE_TX_HEAP, ONE_TX_HEAP_CLOSED],
        },
        Expect {
            pattern: "tiny-headers",
            // Host and 1,023 `a:b` are reported; the rest are framed only (TOO_MANY_HEADERS);
            // past 64 KiB the head is also HEADER_BLOCK_TOO_LARGE (both limits are reported,
            // whichever is passed first).
            anomalies: Anomalies::TOO_MANY_HEADERS | Anomalies::HEADER_BLOCK_TOO_LARGE,
            request_lines: 1,
            headers: u64::from(MAX_HEADERS),
            body_bytes: 0,
            anomalous_messages: 1,
            heap_bound: [ONE_TX_HEAP, ONE_TX_HEAP, ONE_TX_HEAP_CLOSED],
        },
        Expect {
            pattern: "tiny-requests",
            // No responses: past 512 live transactions every new request flags
            // TOO_MANY_TRANSACTIONS (and the oldest is judged early).
            anomalies: Anomalies::TOO_MANY_TRANSACTIONS,
            request_lines: units("tiny-requests"),
            headers: units("tiny-requests"),
            body_bytes: 0,
            anomalous_messages: units("tiny-requests") - MAX_LIVE_TRANSACTIONS as u64,
            heap_bound: [MANY_TX_HEAP, MANY_TX_HEAP_WHOLE, MANY_TX_HEAP_CLOSED],
        },
    ]
}

fn check_pattern(pattern: &str) {
    let e = expectations()
        .into_iter()
        .find(|e| e.pattern == pattern)
        .expect("a pattern");
    let engine = Engine::default();
    let key = adversarial::metadata_key();
    let data = adversarial::stream(pattern, MIB).expect("a pattern");
    assert!(
        data.len() > MIB - 200 && data.len() <= MIB,
        "{}",
        data.len()
    );

    let whole = run(&engine, key, &data, data.len());
    let mtu = run(&engine, key, &data, 1460);
    let small = run(&engine, key, &data, 7);
    let runs = [("whole", &whole), ("1460", &mtu), ("7", &small)];

    // The parser saw what the pattern is.
    let f = whole.facts;
    assert_eq!(f.anomalies, e.anomalies, "{pattern}: {:?}", f.anomalies);
    assert_eq!(f.request_lines, e.request_lines, "{pattern}");
    assert_eq!(f.messages, e.request_lines, "{pattern}");
    assert_eq!(f.headers, e.headers, "{pattern}");
    assert_eq!(f.body_bytes, e.body_bytes, "{pattern}");
    // The flow counted it: every transaction, each alerting (metadata key), none suppressed.
    assert_eq!(
        whole.stats,
        [e.request_lines, e.request_lines, 0, e.anomalous_messages, 0],
        "{pattern}"
    );

    for (name, o) in runs {
        // The same for every chunking.
        assert_eq!(o.facts, whole.facts, "{pattern}, {name}: parser facts");
        assert_eq!(o.stats, whole.stats, "{pattern}, {name}: flow stats");
        // Heap bounded by the limits, not by the 1 MiB of input.
        let [chunked, whole_bound, closed] = e.heap_bound;
        let bound = if name == "whole" {
            whole_bound
        } else {
            chunked
        };
        assert!(
            o.max_heap <= bound,
            "{pattern}, {name}: heap {} > {bound}",
            o.max_heap
        );
        assert!(
            o.heap_after_close <= closed,
            "{pattern}, {name}: heap after close {} > {closed}",
            o.heap_after_close
        );
        eprintln!(
            "{pattern} {name}: heap max {} B, after close {} B, {} alerts taken",
            o.max_heap,
            o.heap_after_close,
            o.alerts.len()
        );
    }
    // Alerts: identical when taken after every call. Fed whole, one call may raise more
    // alerts than a flow holds pending (`EngineConfig::max_pending_alerts`), and the oldest
    // are dropped before they can be taken: those taken are then the newest of the same list.
    assert_alerts_eq(pattern, "7 vs 1460", &small.alerts, &mtu.alerts);
    assert!(
        mtu.alerts.ends_with(&whole.alerts),
        "{pattern}: the alerts taken whole ({}) are not the newest of those taken in 1460-byte calls ({})",
        whole.alerts.len(),
        mtu.alerts.len()
    );
    assert_eq!(mtu.alerts.len() as u64, e.request_lines, "{pattern}");
    for a in &mtu.alerts {
        assert_eq!(a.signature, sid::METADATA_REQUEST, "{pattern}: {a:#?}");
        assert!(a.indicators.contains(Indicators::DST_IMDS), "{pattern}");
        assert!(e.anomalies.contains(a.anomalies), "{pattern}: {a:#?}");
    }
    let alert_anomalies = mtu
        .alerts
        .iter()
        .fold(Anomalies::empty(), |u, a| u | a.anomalies);
    assert_eq!(
        alert_anomalies, e.anomalies,
        "{pattern}: the alerts carry them"
    );
}

fn assert_alerts_eq(pattern: &str, what: &str, a: &[Alert], b: &[Alert]) {
    if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
        panic!(
            "{pattern}, {what}: alert {i} differs:\n{:#?}\n{:#?}",
            a[i], b[i]
        );
    }
    assert_eq!(a.len(), b.len(), "{pattern}, {what}: alert counts");
}

#[test]
fn folds() {
    check_pattern("folds");
}

#[test]
fn empty_lines() {
    check_pattern("empty-lines");
}

#[test]
fn chunk_extensions() {
    check_pattern("chunk-ext");
}

#[test]
fn tiny_headers() {
    check_pattern("tiny-headers");
}

#[test]
fn tiny_requests() {
    check_pattern("tiny-requests");
}

/// A metadata request after each 1 MiB prefix, on an ordinary destination (so that only
/// metadata-looking requests alert), still alerts with its own transaction number.
#[test]
fn hidden_request_after_each_prefix_alerts() {
    let engine = Engine::default();
    let key = adversarial::web_key();
    for pattern in adversarial::PATTERNS {
        let mut data = adversarial::stream(pattern, MIB).expect("a pattern");
        data.extend_from_slice(HIDDEN);
        // Requests before the hidden one, and whether the prefix itself alerts (its request
        // names the metadata path and host).
        let (before, prefix_alerts) = match pattern {
            "tiny-requests" => (adversarial::units(pattern, MIB) as u64, 0),
            "chunk-ext" => (1, 0),
            _ => (1, 1),
        };
        for chunk in [data.len(), 1460] {
            let o = run(&engine, key, &data, chunk);
            assert_eq!(o.stats[0], before + 1, "{pattern}, {chunk}: transactions");
            assert_eq!(
                o.alerts.len(),
                prefix_alerts + 1,
                "{pattern}, {chunk}: {:#?}",
                o.alerts.iter().map(|a| a.tx).collect::<Vec<_>>()
            );
            let a = o
                .alerts
                .iter()
                .find(|a| a.tx == Some(before))
                .unwrap_or_else(|| panic!("{pattern}, {chunk}: no alert for the hidden request"));
            assert_eq!(a.signature, sid::METADATA_REQUEST, "{pattern}: {a:#?}");
            assert!(
                a.indicators
                    .contains(Indicators::HOST_IMDS | Indicators::PATH_CREDENTIALS),
                "{pattern}: {:?}",
                a.indicators
            );
            let http = a.http.as_ref().expect("HTTP fields");
            assert_eq!(
                http.url, b"/latest/meta-data/iam/security-credentials/",
                "{pattern}"
            );
            // Folding is smuggling-grade: later metadata requests on the flow are marked.
            assert_eq!(
                a.indicators.contains(Indicators::FRAMING_ANOMALY),
                pattern == "folds",
                "{pattern}: {:?}",
                a.indicators
            );
        }
    }
}

/// The limits these expectations are written for.
#[test]
fn limits_are_those_assumed() {
    assert_eq!(MAX_FOLDS, 128);
    assert_eq!(MAX_HEADERS, 1024);
    assert_eq!(MAX_LIVE_TRANSACTIONS, 512);
}
