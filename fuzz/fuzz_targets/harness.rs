//! The bodies of the fuzz targets, shared by the libFuzzer binaries in this folder and by
//! `tests/fuzz_regressions.rs` (which includes this file with `#[path]`), so that a crash
//! input replays through exactly the code path that found it.
//!
//! Only `imdsguard`, `serde_json` and `std` are used: the regression test builds this file as
//! part of the main crate's tests, without libFuzzer or `arbitrary`.
//!
//! Every function takes arbitrary bytes, never returns an error and panics on a finding: a
//! panic inside the library, or a documented property that does not hold (the message says
//! which).

use imdsguard::conversation::{self, ChunkKind};
use imdsguard::engine::{Engine, EngineConfig, Flow};
use imdsguard::event::{
    to_ecs, to_eve, to_text, write_ecs_line, write_eve_line, write_text_line, Alert,
};
use imdsguard::ffi::*;
use imdsguard::flow::{Direction, EventSink, HttpStream, Limits, Progress};
use imdsguard::imds::{Indicators, Provider};
use imdsguard::key::{FlowKey, Transport, Vlans};
use imdsguard::normalize::{
    embedded_ipv4, normalize_path, parse_authority, parse_ipv4_inet_aton, split_target, HostFlags,
    HostName, RequestTarget,
};
use imdsguard::packet::defrag::DefragConfig;
use imdsguard::packet::reassembly::ReassemblyConfig;
use imdsguard::packet::tracker::fixed_flow_bytes;
use imdsguard::packet::{decode, LinkType, Tracker, TrackerConfig};
use imdsguard::policy::{Action, Decision, DecisionInput, Policy};
use std::ffi::{c_char, CStr};
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr::{null, null_mut};

/// A target's body: takes the fuzz input, panics on a finding.
pub type Target = fn(&[u8]);

/// Every target, by the name of its fuzz binary (and of its `fuzz/regressions/` folder).
pub const TARGETS: &[(&str, Target)] = &[
    ("http_stream", http_stream),
    ("http_differential", http_differential),
    ("normalize", normalize),
    ("policy", policy),
    ("tracker", tracker),
    ("ffi_sequence", ffi_sequence),
];

// ------------------------------------------------------------------------------------------
// Input helpers
// ------------------------------------------------------------------------------------------

/// Reads fuzz bytes front to back; past the end every number is 0 and every slice empty.
struct Bytes<'a> {
    rest: &'a [u8],
}

impl<'a> Bytes<'a> {
    fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { rest: data }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.rest.len());
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        head
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let got = self.take(N);
        out[..got.len()].copy_from_slice(got);
        out
    }

    fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    /// A length-like number: one selector byte says how wide it is, so that small values
    /// are common and `u64::MAX` is reachable.
    fn sized(&mut self) -> u64 {
        match self.u8() % 4 {
            0 => u64::from(self.u8()),
            1 => u64::from(self.u16()),
            2 => u64::from(self.u32()),
            _ => self.u64(),
        }
    }
}

/// One call on a stream: bytes of a direction, or lost bytes.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Data(Direction, &'a [u8]),
    Gap(Direction, u64),
}

/// The `.t` conversation in `body` (libhtp's format, `imdsguard::conversation`); bytes that
/// are not one are a single client chunk.
fn steps(body: &[u8]) -> Vec<Step<'_>> {
    match conversation::parse(body) {
        Ok(chunks) => chunks
            .iter()
            .map(|c| match c.kind {
                ChunkKind::Data => Step::Data(c.dir, c.bytes),
                ChunkKind::Gap => Step::Gap(c.dir, c.bytes.len() as u64),
            })
            .collect(),
        Err(_) => vec![Step::Data(Direction::ToServer, body)],
    }
}

const DIRS: [Direction; 2] = [Direction::ToServer, Direction::ToClient];

/// The small limits of `tests/chunking.rs`: every limit is reached by short inputs.
fn small_limits() -> Limits {
    Limits {
        max_line_len: 64,
        max_carry_over: 64,
        max_headers: 8,
        max_folds: 2,
        max_header_block: 256,
        max_chunk_extension: 8,
        max_live_transactions: 2,
    }
}

/// The heap a parser may hold (`tests/chunking.rs` `heap_bound`, from the `Limits` docs):
/// one line per direction, the CONNECT carry-over, the queue of waiting requests.
fn heap_bound(limits: Limits) -> usize {
    let limits = limits.sanitized();
    limits.max_line_len
        + limits.max_carry_over
        + 16 * limits.max_live_transactions.next_power_of_two().max(4)
}

const T0: u64 = 1_764_470_400_000_000;

fn imds_key() -> FlowKey {
    FlowKey::tcp(
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
        40_000,
        IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
        80,
    )
}

// ------------------------------------------------------------------------------------------
// Owned events (shared with tests/chunking.rs)
// ------------------------------------------------------------------------------------------

#[path = "../../tests/common/owned_events.rs"]
mod owned_events;
use owned_events::{Ev, OddNamesDeclined, Recorder};

// ------------------------------------------------------------------------------------------
// Alert renderings
// ------------------------------------------------------------------------------------------

/// `eve.rs` `unsafe_char`: what the documented line formats never carry raw.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `write_eve_line` / `write_ecs_line`: one line ending in `\n`, no other line break or
/// unsafe character, and it decodes to the same value as `to_eve` / `to_ecs`. (DEL is the
/// one [`unsafe_char`] the JSON lines may carry raw: the docs promise JSON's escapes for C0
/// and `\uXXXX` for C1, U+2028/U+2029 and bidirectional controls; only the text line
/// escapes DEL.)
fn check_json_line(what: &str, line: &[u8], value: &serde_json::Value) {
    let text = std::str::from_utf8(line).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    let body = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("{what}: line does not end in a newline: {text:?}"));
    if let Some(c) = body.chars().find(|&c| c != '\u{7f}' && unsafe_char(c)) {
        panic!("{what}: raw {c:?} in the line: {body:?}");
    }
    let parsed: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: invalid JSON ({e}): {body}"));
    assert_eq!(
        &parsed, value,
        "{what}: the line does not decode to the value"
    );
}

/// Renders an alert every way the crate offers and checks the documented line properties.
fn check_alert(alert: &Alert) {
    let mut line = Vec::new();
    write_eve_line(alert, &mut line).expect("write to a Vec");
    check_json_line("EVE", &line, &to_eve(alert));
    let mut line = Vec::new();
    write_ecs_line(alert, &mut line).expect("write to a Vec");
    check_json_line("ECS", &line, &to_ecs(alert));
    let text = to_text(alert);
    if let Some(c) = text.chars().find(|&c| unsafe_char(c)) {
        panic!("text line: raw {c:?} in {text:?}");
    }
    let mut line = Vec::new();
    write_text_line(alert, &mut line).expect("write to a Vec");
    assert_eq!(line, format!("{text}\n").into_bytes(), "write_text_line");
    assert_eq!(alert.is_suppressed(), alert.decision.is_suppressed());
}

// ------------------------------------------------------------------------------------------
// 1. http_stream
// ------------------------------------------------------------------------------------------

/// Input: one control byte, then a `.t` conversation (or raw client bytes).
///
/// Control bits: 0 small limits; 1 close the response direction first; 2 call everything
/// again after the close (must be ignored); 3 give the detection flow a responder TTL and
/// MAC; 4 feed the detection flow in place (Suricata's caller-managed buffer).
///
/// Checks: no panic; non-empty body events; the parser's heap stays within the documented
/// bound; every alert renders to valid, single-line EVE / ECS / text.
pub fn http_stream(data: &[u8]) {
    let Some((&ctl, body)) = data.split_first() else {
        return;
    };
    let limits = if ctl & 1 != 0 {
        small_limits()
    } else {
        Limits::default()
    };
    let steps = steps(body);
    let order = if ctl & 2 != 0 {
        [Direction::ToClient, Direction::ToServer]
    } else {
        DIRS
    };

    // The bare parser.
    let bound = heap_bound(limits);
    let mut s = HttpStream::with_limits(limits);
    let mut rec = Recorder::default();
    for step in &steps {
        match *step {
            Step::Data(dir, bytes) => s.feed(dir, bytes, &mut rec),
            Step::Gap(dir, len) => s.gap(dir, len, &mut rec),
        }
        let heap = s.heap_bytes();
        assert!(heap <= bound, "heap {heap} > bound {bound} ({limits:?})");
    }
    for d in order {
        s.close(d, &mut rec);
    }
    if ctl & 4 != 0 {
        for d in order {
            s.feed(d, b"GET / HTTP/1.1\r\n\r\n", &mut rec);
            s.gap(d, 5, &mut rec);
            let _ = s.parse_in_place(d, body, &mut rec);
            s.close(d, &mut rec);
        }
    }
    let _ = (s.is_tunnel(), s.awaits_connect_answer(), s.limits());

    // Detection.
    let engine = Engine::with_config(
        Policy::default(),
        EngineConfig {
            limits,
            ..EngineConfig::default()
        },
    );
    let kept = detect(&engine, ctl, &steps, None);
    // Bit 6: a twin flow whose alerts are built in the buffers of used ones (a stale alert
    // given back before every step, every alert taken with `pop_alert_into`) must give the
    // same alerts.
    if ctl & 0x40 != 0 {
        if let Some(first) = kept.first() {
            let recycled = detect(&engine, ctl, &steps, Some(stale(first)));
            assert_eq!(recycled, kept, "alerts built in the buffers of used ones");
        }
    }
}

/// An alert like `a` with every buffer full of bytes no input gives, longer than the
/// fields' caps: what a recycled alert must not leak.
fn stale(a: &Alert) -> Alert {
    let mut s = a.clone();
    let junk = |n: usize| vec![0xfe; n];
    let http = s.http.get_or_insert_with(Default::default);
    (http.hostname, http.url, http.method) = (junk(700), junk(3000), junk(64));
    (http.user_agent, http.protocol) = (junk(900), junk(40));
    http.status = Some(1000);
    http.normalized_path = Some(junk(1500));
    s.evidence = (0..14)
        .map(|i| format!("stale {i} {}", "~".repeat(300)))
        .collect();
    s
}

/// Runs the steps through a detection flow to 169.254.169.254:80 and returns every alert, in
/// order. With `stale`, a copy of it is given back to the flow around every step (a flow
/// keeps none before its first bytes) and the alerts are taken with `pop_alert_into` into
/// another copy; otherwise they are drained.
fn detect(engine: &Engine, ctl: u8, steps: &[Step<'_>], stale: Option<Alert>) -> Vec<Alert> {
    let mut flow: Flow = engine.flow(imds_key());
    let _ = flow.destination_endpoint();
    if ctl & 8 != 0 {
        flow.set_responder_ttl(ctl >> 5);
        flow.set_responder_mac([2, 0, 0, 0, 0, ctl]);
    }
    let in_place = ctl & 16 != 0;
    let mut held: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut out = Vec::new();
    let mut into = stale.clone();
    let take = |flow: &mut Flow, into: &mut Option<Alert>, out: &mut Vec<Alert>| match into {
        Some(a) => {
            while flow.pop_alert_into(a) {
                check_alert(a);
                out.push(a.clone());
            }
        }
        None => {
            for alert in flow.drain_alerts() {
                check_alert(&alert);
                out.push(alert);
            }
        }
    };
    for (i, step) in steps.iter().enumerate() {
        if let Some(a) = &stale {
            flow.give_back(a.clone());
        }
        flow.set_time(T0 + i as u64);
        match *step {
            Step::Data(dir, bytes) if in_place => {
                let buf = &mut held[dir as usize];
                buf.extend_from_slice(bytes);
                let p = flow.parse_in_place(engine, dir, buf);
                check_progress(p, buf.len());
                buf.drain(..p.consumed);
            }
            Step::Data(dir, bytes) => flow.feed(engine, dir, bytes),
            Step::Gap(dir, len) => {
                let tail = std::mem::take(&mut held[dir as usize]);
                flow.feed(engine, dir, &tail);
                flow.gap(engine, dir, len);
            }
        }
        if let Some(a) = &stale {
            flow.give_back(a.clone());
        }
        take(&mut flow, &mut into, &mut out);
        // Bit 5: try to compact after every step (in place mode holds its tail outside).
        if ctl & 0x20 != 0 && flow.compact() {
            assert_eq!(flow.heap_bytes(), 0, "a compact flow holds no heap");
        }
    }
    for d in DIRS {
        flow.feed(engine, d, &held[d as usize]);
    }
    if ctl & 2 != 0 {
        let order = [Direction::ToClient, Direction::ToServer];
        for d in order {
            flow.close_direction(engine, d);
        }
    }
    flow.close(engine);
    let stats = flow.stats();
    assert!(stats.suppressed <= stats.alerts, "{stats:?}");
    let pending = flow.pending_alerts();
    let before = out.len();
    match stale {
        Some(_) => take(&mut flow, &mut into, &mut out),
        None => {
            while let Some(alert) = flow.pop_alert() {
                check_alert(&alert);
                out.push(alert);
            }
        }
    }
    assert_eq!(out.len() - before, pending, "pending_alerts");
    let _ = flow.heap_bytes();
    out
}

/// The contract Suricata enforces on a parser's `AppLayerResult` (and `Progress` documents):
/// consumed <= len; when not everything was consumed, `needed` asks for more than what is
/// left; when everything was, `needed` is 0.
fn check_progress(p: Progress, len: usize) {
    assert!(p.consumed <= len, "consumed {} > len {len}", p.consumed);
    if p.consumed < len {
        assert!(
            p.needed > 0 && p.consumed + p.needed > len,
            "incomplete result violates the contract: len {len}, {p:?}"
        );
    } else {
        assert_eq!(p.needed, 0, "all consumed but needed != 0: {p:?}");
    }
}

// ------------------------------------------------------------------------------------------
// 2. http_differential
// ------------------------------------------------------------------------------------------

/// Feeds `steps` in pieces of `piece` bytes into `sink`, then closes both directions.
/// Returns the largest heap seen after a piece.
fn feed_into(limits: Limits, steps: &[Step<'_>], piece: usize, sink: &mut dyn EventSink) -> usize {
    let mut s = HttpStream::with_limits(limits);
    let mut max_heap = 0;
    for step in steps {
        match *step {
            Step::Data(dir, bytes) => {
                for p in bytes.chunks(piece) {
                    s.feed(dir, p, sink);
                    max_heap = max_heap.max(s.heap_bytes());
                }
            }
            Step::Gap(dir, len) => s.gap(dir, len, sink),
        }
    }
    for d in DIRS {
        s.close(d, sink);
    }
    max_heap
}

/// `feed_into` an [`OddNamesDeclined`] sink: its events.
fn run_feed_picky(limits: Limits, steps: &[Step<'_>], piece: usize) -> Vec<Ev> {
    let mut picky = OddNamesDeclined::default();
    feed_into(limits, steps, piece, &mut picky);
    picky.0.events
}

/// `feed_into` a [`Recorder`]: its events; the heap stays within the bound after every piece.
fn run_feed(limits: Limits, steps: &[Step<'_>], piece: usize) -> Vec<Ev> {
    let bound = heap_bound(limits);
    let mut rec = Recorder::default();
    let max_heap = feed_into(limits, steps, piece, &mut rec);
    assert!(max_heap <= bound, "feed: heap over {bound}");
    rec.events
}

/// Suricata's way: the caller keeps the unconsumed tail, appends the next piece, presents it
/// again; before a gap and at the end the tail goes to `feed`; then both directions close.
fn run_in_place(limits: Limits, steps: &[Step<'_>], piece: usize) -> Vec<Ev> {
    let bound = heap_bound(limits);
    let mut s = HttpStream::with_limits(limits);
    let mut rec = Recorder::default();
    let mut held: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for step in steps {
        match *step {
            Step::Data(dir, bytes) => {
                for p in bytes.chunks(piece) {
                    let buf = &mut held[dir as usize];
                    buf.extend_from_slice(p);
                    let progress = s.parse_in_place(dir, buf, &mut rec);
                    check_progress(progress, buf.len());
                    buf.drain(..progress.consumed);
                    assert!(s.heap_bytes() <= bound, "in place: heap over {bound}");
                }
            }
            Step::Gap(dir, len) => {
                let tail = std::mem::take(&mut held[dir as usize]);
                s.feed(dir, &tail, &mut rec);
                s.gap(dir, len, &mut rec);
            }
        }
    }
    for d in DIRS {
        s.feed(d, &held[d as usize], &mut rec);
    }
    for d in DIRS {
        s.close(d, &mut rec);
    }
    rec.events
}

fn first_diff(what: &str, a: &[Ev], b: &[Ev]) -> String {
    let i = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    format!(
        "{what}: events differ at #{i} (lengths {} vs {}):\n  whole: {:?}\n  other: {:?}",
        a.len(),
        b.len(),
        a.get(i),
        b.get(i)
    )
}

/// Input: two bytes (little-endian u16: bits 0-10 give the piece size minus one, bit 15
/// small limits), then a `.t` conversation (or raw client bytes).
///
/// Checks: the owned event lists of whole feeding, feeding in pieces and in-place feeding
/// are identical (`imdsguard::flow`: "The events are identical for every way of splitting
/// the same bytes into chunks"); every `Progress` keeps the contract; the heap bound holds;
/// a sink that declines some header events (`EventSink::wants_header`, bit 14 of the control
/// word) gets exactly the other events.
pub fn http_differential(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let ctl = u16::from_le_bytes([data[0], data[1]]);
    let piece = usize::from(ctl & 0x7ff) + 1;
    let limits = if ctl & 0x8000 != 0 {
        small_limits()
    } else {
        Limits::default()
    };
    let steps = steps(&data[2..]);
    let whole = run_feed(limits, &steps, usize::MAX);
    let split = run_feed(limits, &steps, piece);
    if whole != split {
        panic!(
            "{}",
            first_diff(&format!("feed in pieces of {piece}"), &whole, &split)
        );
    }
    let in_place = run_in_place(limits, &steps, piece);
    if whole != in_place {
        panic!(
            "{}",
            first_diff(&format!("in place, pieces of {piece}"), &whole, &in_place)
        );
    }
    if ctl & 0x4000 != 0 {
        let wanted = OddNamesDeclined::expected(whole);
        let picky = run_feed_picky(limits, &steps, piece);
        if wanted != picky {
            panic!(
                "{}",
                first_diff("declining odd-length header names", &wanted, &picky)
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// 3. normalize
// ------------------------------------------------------------------------------------------

/// Input: arbitrary bytes, as a request target, a path and an authority.
///
/// Checks (the module docs and its property tests): no panic; a normalised path is never
/// longer than its input and normalising a result without `%`, `?` or `#` returns it
/// unchanged; a query is a strict part of the input; split pieces fit in the input; a host
/// name is never longer than its input and userinfo is a strict part of it; a name made of
/// `[a-zA-Z0-9.-]` parses to itself again; an `inet_aton` address reads back from its dotted
/// form without flags.
pub fn normalize(data: &[u8]) {
    check_path(data);
    match split_target(data) {
        RequestTarget::Absolute {
            authority,
            alt_authority,
            path,
            ..
        } => {
            assert!(
                authority.len() + path.len() <= data.len() + 1,
                "absolute: authority + path longer than the target"
            );
            check_authority(authority);
            if let Some(alt) = alt_authority {
                check_authority(alt);
            }
            check_path(path);
        }
        RequestTarget::Origin { path, .. } => {
            assert!(
                path.len() <= data.len(),
                "origin path longer than the target"
            );
            check_path(path);
        }
        RequestTarget::Authority(a) => check_authority(a),
        RequestTarget::Asterisk | RequestTarget::Other(_) => {}
    }
    check_authority(data);
    if let Some((addr, _)) = parse_ipv4_inet_aton(data) {
        let dotted = addr.to_string();
        assert_eq!(
            parse_ipv4_inet_aton(dotted.as_bytes()),
            Some((addr, HostFlags::empty())),
            "dotted form of {addr}"
        );
    }
    if let Some(octets) = data.get(..16) {
        let mut a = [0u8; 16];
        a.copy_from_slice(octets);
        let _ = embedded_ipv4(&Ipv6Addr::from(a));
    }
}

fn check_path(raw: &[u8]) {
    let n = normalize_path(raw);
    assert!(
        n.path.len() <= raw.len(),
        "normalize_path grew {:?} to {:?}",
        raw.escape_ascii().to_string(),
        n.path.escape_ascii().to_string()
    );
    if let Some(q) = n.query {
        assert!(q.len() < raw.len(), "query as long as the input");
    }
    if !n.path.iter().any(|b| matches!(b, b'%' | b'?' | b'#')) {
        let again = normalize_path(&n.path);
        assert_eq!(
            again.path,
            n.path,
            "normalize_path not idempotent for {:?}",
            raw.escape_ascii().to_string()
        );
    }
}

fn check_authority(raw: &[u8]) {
    let a = parse_authority(raw);
    assert_eq!(a.raw, raw, "Authority::raw");
    if let HostName::Name(n) = &a.host {
        assert!(n.len() <= raw.len(), "host name longer than its input");
    }
    if let Some(u) = a.userinfo {
        assert!(u.len() < raw.len(), "userinfo as long as the input");
    }
    let _ = a.host.ipv4();
    let plain = raw
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
    if let (true, HostName::Name(n), false) = (plain, &a.host, a.flags.contains(HostFlags::INVALID))
    {
        let again = parse_authority(n);
        assert_eq!(
            again.host,
            a.host,
            "host name not idempotent for {:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

// ------------------------------------------------------------------------------------------
// 4. policy
// ------------------------------------------------------------------------------------------

fn policy_keys() -> Vec<FlowKey> {
    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    let imds = v4(169, 254, 169, 254);
    let mut keys = vec![
        FlowKey::tcp(v4(10, 20, 1, 9), 40_000, imds, 80),
        FlowKey::tcp(v4(10, 20, 5, 9), 40_001, imds, 80),
        FlowKey::tcp(v4(192, 0, 2, 7), 40_002, v4(169, 254, 170, 2), 80),
        FlowKey::tcp(
            "::ffff:10.20.1.1".parse().expect("address"),
            40_003,
            "fd00:ec2::254".parse().expect("address"),
            80,
        ),
        FlowKey::tcp("2001:db8::1".parse().expect("address"), 40_004, imds, 8080),
    ];
    let mut tagged = FlowKey::tcp(v4(10, 0, 0, 1), 1, imds, 80);
    tagged.vlans = Vlans {
        outer: Some(100),
        inner: Some(200),
    };
    tagged.transport = Transport::Udp;
    keys.push(tagged);
    tagged.vlans = Vlans {
        outer: Some(300),
        inner: None,
    };
    keys.push(tagged);
    keys
}

/// Input: arbitrary bytes, as policy text (lossy UTF-8).
///
/// Checks (docs/policy.md): no panic; an error names the source and a line of the text; each
/// rule is named `fuzz:LINE: RULE` and RULE, parsed alone, gives the same rule; a
/// suppression names a suppress rule of the policy; the engine decides the same.
pub fn policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    let p = match Policy::parse(&text, "fuzz") {
        Ok(p) => p,
        Err(e) => {
            assert!(
                (1..=lines.max(1)).contains(&e.line()),
                "error line {} outside 1..={lines}: {e}",
                e.line()
            );
            assert_eq!(e.source_name(), "fuzz");
            assert!(e.to_string().starts_with(&format!("fuzz:{}: ", e.line())));
            assert!(!e.message().is_empty());
            return;
        }
    };
    for rule in p.rules() {
        let name = rule.name();
        let (line_no, rule_text) = name
            .strip_prefix("fuzz:")
            .and_then(|rest| rest.split_once(": "))
            .unwrap_or_else(|| panic!("rule name {name:?} is not fuzz:LINE: RULE"));
        let line_no: usize = line_no
            .parse()
            .unwrap_or_else(|_| panic!("rule name {name:?}: bad line"));
        assert!((1..=lines).contains(&line_no), "rule line {line_no}");
        let alone = Policy::parse(rule_text, "fuzz")
            .unwrap_or_else(|e| panic!("rule {rule_text:?} does not parse alone: {e}"));
        assert_eq!(alone.rules().len(), 1, "rule {rule_text:?} alone");
        let again = &alone.rules()[0];
        assert_eq!(again.action(), rule.action(), "{rule_text:?}");
        assert_eq!(again.conditions(), rule.conditions(), "{rule_text:?}");
        assert_eq!(again.name(), format!("fuzz:1: {rule_text}"));
    }
    let engine = Engine::new(p.clone());
    let indicator_sets = [
        Indicators::DST_IMDS,
        Indicators::RESP_IMDS_SERVER,
        Indicators::RESP_IMDS_SERVER | Indicators::RESP_CREDENTIALS,
        Indicators::empty(),
        Indicators::all(),
    ];
    for key in policy_keys() {
        for indicators in indicator_sets {
            for provider in [Provider::Aws, Provider::Gcp, Provider::AwsEcs] {
                let input = DecisionInput {
                    key: &key,
                    indicators,
                    provider,
                };
                let d = p.decide(&input);
                if let Decision::Suppressed { rule } = &d {
                    let r = p
                        .rules()
                        .iter()
                        .find(|r| r.name() == rule)
                        .unwrap_or_else(|| panic!("suppressed by unknown rule {rule:?}"));
                    assert_eq!(r.action(), Action::Suppress, "{rule}");
                }
                assert_eq!(engine.decide(&key, indicators, provider), d);
            }
        }
    }
    let rebuilt = Policy::builder().extend(p.clone()).build();
    assert_eq!(rebuilt.rules(), p.rules());
    assert_eq!(p.is_empty(), p.rules().is_empty());
}

// ------------------------------------------------------------------------------------------
// 5. tracker
// ------------------------------------------------------------------------------------------

/// The link types a frame's type byte picks from (low three bits).
const LINKS: [LinkType; 8] = [
    LinkType::Ethernet,
    LinkType::Raw,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Ipv4,
    LinkType::Ipv6,
];

/// Input: one control byte (bits 0-2: memcap in flows' fixed charges, 1-8 of them plus
/// 4 KiB; bit 3: a policy that suppresses VLAN 100), then frames, each `len: u16 LE`,
/// `kind: u8`, `len` bytes. `kind`'s low three bits pick the link type from
/// [`LINKS`], the other five advance the clock by that many quarter seconds.
///
/// The tracker has small bounds (8 flows, the memcap above, 4 queued segments per direction,
/// 4 pending datagrams, 16 pending alerts, timeouts of seconds), so eviction, timeouts and
/// drops happen. Checks: no panic; flows and memory stay within the bounds after every
/// frame; the stats agree with the accessors; flush empties the table; every alert renders.
/// Each frame is also decoded directly with every link type.
pub fn tracker(data: &[u8]) {
    let Some((&ctl, frames)) = data.split_first() else {
        return;
    };
    let memcap = fixed_flow_bytes() * (1 + usize::from(ctl & 7)) + 4096;
    let config = TrackerConfig {
        max_flows: 8,
        memcap_bytes: memcap,
        idle_timeout_us: 5_000_000,
        new_timeout_us: 2_000_000,
        tcp_closed_timeout_us: 1_000_000,
        park_after_us: 500_000,
        reassembly: ReassemblyConfig {
            max_queued_bytes: 2048,
            max_queued_segments: 4,
        },
        defrag: DefragConfig {
            max_datagrams: 4,
            max_bytes: 8192,
            max_fragments: 8,
            timeout_us: 3_000_000,
        },
        max_pending_alerts: 16,
    };
    let engine = if ctl & 8 != 0 {
        Engine::new(Policy::parse("suppress vlan 100\n", "fuzz").expect("policy"))
    } else {
        Engine::default()
    };
    let mut t = Tracker::new(config);
    let mut r = Bytes::new(frames);
    let mut ts = T0;
    while !r.is_empty() {
        let len = usize::from(r.u16());
        let kind = r.u8();
        let frame = r.take(len);
        let link = LINKS[usize::from(kind & 7)];
        ts += u64::from(kind >> 3) * 250_000;
        for l in LINKS {
            let _ = decode(frame, l);
        }
        let out = t.packet(&engine, frame, link, ts);
        assert!(t.flow_count() <= config.max_flows, "flows over max_flows");
        assert!(
            t.memory_used() <= memcap,
            "memory {} over the memcap {memcap}",
            t.memory_used()
        );
        let st = t.stats();
        assert_eq!(st.active_flows, t.flow_count() as u64);
        assert_eq!(st.memory_bytes, t.memory_used() as u64);
        if out.alerts_pending > 0 && kind & 0x80 != 0 {
            let alerts: Vec<Alert> = t.drain_alerts().collect();
            assert_eq!(alerts.len(), out.alerts_pending);
            alerts.iter().for_each(check_alert);
        }
    }
    t.expire(&engine, ts + 1_000_000);
    t.flush(&engine);
    assert_eq!(t.flow_count(), 0, "flows left after flush");
    assert_eq!(
        t.memory_used(),
        t.table_bytes(),
        "flow memory charged after flush"
    );
    let alerts: Vec<Alert> = t.drain_alerts().collect();
    assert!(alerts.len() <= config.max_pending_alerts);
    alerts.iter().for_each(check_alert);
    let st = t.stats();
    assert!(st.memory_peak >= st.memory_bytes);
}

// ------------------------------------------------------------------------------------------
// 6. ffi_sequence
// ------------------------------------------------------------------------------------------

use imdsguard_status::*;

const FLOWS: usize = 4;
const ENGINES: usize = 2;

/// The handles alive: NULL when a slot is empty. Only NULL or live pointers are ever passed.
struct Handles {
    engines: [*mut imdsguard_engine; ENGINES],
    flows: [*mut imdsguard_flow; FLOWS],
    /// Per flow and direction: the tail an in-place caller holds.
    held: [[Vec<u8>; 2]; FLOWS],
    /// Per flow: whether `imdsguard_flow_next_event` returned an event yet.
    taken: [bool; FLOWS],
    tracker: *mut imdsguard_tracker,
    tracker_taken: bool,
    clock: u64,
}

/// Whether `IMDSGUARD_FUZZ_TRACE` is set: then every C call and its status is printed (to
/// check what a seed or a crash input does).
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("IMDSGUARD_FUZZ_TRACE").is_some())
}

/// Fails on a status the function does not document, and on any sign of a Rust panic.
fn expect(call: &str, got: imdsguard_status, allowed: &[imdsguard_status]) {
    if tracing() {
        eprintln!("{call} -> {got:?}");
    }
    assert!(
        got != IMDSGUARD_PANIC,
        "{call}: IMDSGUARD_PANIC, a Rust panic inside the library was caught at the boundary"
    );
    assert!(
        got != IMDSGUARD_POISONED,
        "{call}: IMDSGUARD_POISONED, but no panic was reported before"
    );
    assert!(
        allowed.contains(&got),
        "{call}: status {got:?}, documented: {allowed:?}"
    );
}

/// What a call may return given which of its arguments are NULL or invalid: each possible
/// error when its condition holds (the order of checks is not documented), OK otherwise.
fn outcomes(null: bool, invalid: bool) -> Vec<imdsguard_status> {
    match (null, invalid) {
        (true, true) => vec![IMDSGUARD_NULL_ARGUMENT, IMDSGUARD_INVALID_ARGUMENT],
        (true, false) => vec![IMDSGUARD_NULL_ARGUMENT],
        (false, true) => vec![IMDSGUARD_INVALID_ARGUMENT],
        (false, false) => vec![IMDSGUARD_OK],
    }
}

/// An address: well-known ones often, raw bytes and raw families sometimes.
fn read_ip(r: &mut Bytes<'_>) -> imdsguard_ip {
    let v4 = |a: [u8; 4]| {
        let mut addr = [0u8; 16];
        addr[..4].copy_from_slice(&a);
        imdsguard_ip { family: 4, addr }
    };
    let v6 = |a: Ipv6Addr| imdsguard_ip {
        family: 6,
        addr: a.octets(),
    };
    match r.u8() % 8 {
        0 => v4([169, 254, 169, 254]),
        1 => v4([10, 0, 0, 5]),
        2 => v6("fd00:ec2::254".parse().expect("address")),
        3 => v4([169, 254, 170, 2]),
        4 => v6("::ffff:169.254.169.254".parse().expect("address")),
        5 => imdsguard_ip {
            family: r.u8(),
            addr: r.array(),
        },
        6 => v4(r.array()),
        _ => v6(Ipv6Addr::from(r.array::<16>())),
    }
}

fn ip_valid(ip: &imdsguard_ip) -> bool {
    matches!(ip.family, 4 | 6)
}

fn read_key(r: &mut Bytes<'_>) -> imdsguard_flow_key {
    let src = read_ip(r);
    let dst = read_ip(r);
    let vlan = |r: &mut Bytes<'_>| {
        let v = r.u16();
        if v & 0x8000 != 0 {
            v
        } else {
            v & 0x0fff
        }
    };
    let count = r.u8();
    imdsguard_flow_key {
        src,
        dst,
        src_port: r.u16(),
        dst_port: r.u16(),
        ip_proto: r.u8(),
        vlan_count: if count < 0xf0 { count % 3 } else { count },
        vlan_outer: vlan(r),
        vlan_inner: vlan(r),
    }
}

/// The key validity `imdsguard_flow_new` documents: families 4 or 6, at most two tags, ids
/// up to 4095.
fn key_valid(k: &imdsguard_flow_key) -> bool {
    let tags_ok = match k.vlan_count {
        0 => true,
        1 => k.vlan_outer <= 4095,
        2 => k.vlan_outer <= 4095 && k.vlan_inner <= 4095,
        _ => false,
    };
    ip_valid(&k.src) && ip_valid(&k.dst) && tags_ok
}

/// A direction: valid ones mostly, any byte sometimes.
fn read_dir(r: &mut Bytes<'_>) -> u8 {
    let d = r.u8();
    if d < 0xf0 {
        d & 1
    } else {
        d
    }
}

/// The bytes behind an `imdsguard_str`: `ptr` is NULL exactly when `len` is 0.
fn str_bytes(what: &str, s: imdsguard_str) -> Vec<u8> {
    assert_eq!(s.ptr.is_null(), s.len == 0, "{what}: {s:?}");
    if s.len == 0 {
        return Vec::new();
    }
    // SAFETY: the library documents the bytes valid until the next call on the handle.
    unsafe { std::slice::from_raw_parts(s.ptr, s.len) }.to_vec()
}

fn c_str(what: &str, p: *const c_char) -> String {
    assert!(!p.is_null(), "{what}: NULL");
    // SAFETY: the library documents these as static NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .unwrap_or_else(|_| panic!("{what}: not UTF-8"))
        .to_owned()
}

fn check_event(e: &imdsguard_event) {
    let _ = c_str("signature", e.signature);
    let stage = c_str("stage_name", e.stage_name);
    let provider = c_str("provider_name", e.provider_name);
    assert!(e.stage <= 3, "stage {}", e.stage);
    let p = Provider::ALL
        .get(usize::from(e.provider))
        .unwrap_or_else(|| panic!("provider {}", e.provider));
    assert_eq!(p.as_str(), provider);
    assert!(!stage.is_empty());
    assert!(
        e.decision == IMDSGUARD_DECISION_ALERT || e.decision == IMDSGUARD_DECISION_SUPPRESSED,
        "decision {}",
        e.decision
    );
    let by = str_bytes("suppressed_by", e.suppressed_by);
    assert_eq!(
        by.is_empty(),
        e.decision == IMDSGUARD_DECISION_ALERT,
        "suppressed_by vs decision"
    );
    for (what, s) in [
        ("http_hostname", e.http_hostname),
        ("http_url", e.http_url),
        ("http_method", e.http_method),
        ("http_user_agent", e.http_user_agent),
        ("http_protocol", e.http_protocol),
    ] {
        let b = str_bytes(what, s);
        assert!(e.has_http || b.is_empty(), "{what} without has_http");
    }
    assert!(e.has_tx || e.tx_id == 0, "tx_id without has_tx");
    assert!(e.has_responder_ttl || e.responder_ttl == 0);
}

/// `*_event_eve` with a fuzz-sized buffer: on OK a NUL-terminated JSON object of
/// `needed - 1` bytes; on BUFFER_TOO_SMALL nothing written and `needed` > `cap`.
fn check_eve_call(
    call: &str,
    r: &mut Bytes<'_>,
    taken: bool,
    target_null: bool,
    f: impl FnOnce(*mut c_char, usize, *mut usize) -> imdsguard_status,
) {
    let flags = r.u8();
    let cap = usize::from(r.u16() % 4096);
    let mut buf = vec![0xAAu8; cap];
    let mut needed = usize::MAX;
    let buf_ptr: *mut c_char = if flags & 1 != 0 {
        null_mut()
    } else {
        buf.as_mut_ptr().cast()
    };
    let needed_ptr: *mut usize = if flags & 2 != 0 {
        null_mut()
    } else {
        &mut needed
    };
    let null = target_null || needed_ptr.is_null() || (buf_ptr.is_null() && cap > 0);
    let status = f(buf_ptr, cap, needed_ptr);
    if null {
        expect(call, status, &[IMDSGUARD_NULL_ARGUMENT]);
        return;
    }
    if !taken {
        expect(call, status, &[IMDSGUARD_NO_EVENT]);
        return;
    }
    expect(call, status, &[IMDSGUARD_OK, IMDSGUARD_BUFFER_TOO_SMALL]);
    if status == IMDSGUARD_BUFFER_TOO_SMALL {
        assert!(
            needed > cap,
            "{call}: too small with needed {needed} <= cap {cap}"
        );
        assert!(
            buf.iter().all(|&b| b == 0xAA),
            "{call}: wrote into a too-small buffer"
        );
        return;
    }
    assert!(
        (1..=cap).contains(&needed),
        "{call}: needed {needed}, cap {cap}"
    );
    let line = &buf[..needed - 1];
    assert_eq!(buf[needed - 1], 0, "{call}: no NUL terminator");
    assert!(!line.contains(&0), "{call}: NUL inside the rendering");
    assert!(
        buf[needed..].iter().all(|&b| b == 0xAA),
        "{call}: wrote past needed"
    );
    let v: serde_json::Value = serde_json::from_slice(line)
        .unwrap_or_else(|e| panic!("{call}: invalid JSON ({e}): {}", line.escape_ascii()));
    assert!(v.is_object(), "{call}: not an object");
}

impl Handles {
    fn new() -> Handles {
        Handles {
            engines: [null_mut(); ENGINES],
            flows: [null_mut(); FLOWS],
            held: Default::default(),
            taken: [false; FLOWS],
            tracker: null_mut(),
            tracker_taken: false,
            clock: T0,
        }
    }

    /// A flow slot and its handle; the fifth choice is a deliberate NULL.
    fn flow(&self, b: u8) -> (Option<usize>, *mut imdsguard_flow) {
        match usize::from(b) % (FLOWS + 1) {
            i if i < FLOWS => (Some(i), self.flows[i]),
            _ => (None, null_mut()),
        }
    }

    fn engine(&self, b: u8) -> *const imdsguard_engine {
        match usize::from(b) % (ENGINES + 1) {
            i if i < ENGINES => self.engines[i],
            _ => null(),
        }
    }

    /// Hands an in-place caller's held tail to `feed` (before a gap, a close or a copy-mode
    /// feed, as the contract asks).
    fn flush_held(&mut self, slot: Option<usize>, dir: u8) {
        let Some(i) = slot else { return };
        if self.flows[i].is_null() || dir > 1 {
            return;
        }
        let tail = std::mem::take(&mut self.held[i][usize::from(dir)]);
        if tail.is_empty() {
            return;
        }
        // SAFETY: a live flow; `tail` is readable for the call.
        let s = unsafe {
            imdsguard_flow_feed(self.flows[i], dir, tail.as_ptr(), tail.len(), null_mut())
        };
        expect("flow_feed (held tail)", s, &[IMDSGUARD_OK]);
    }

    fn free_flow(&mut self, i: usize) {
        // SAFETY: NULL or a live flow, freed once (the slot is cleared).
        unsafe { imdsguard_flow_free(self.flows[i]) };
        self.flows[i] = null_mut();
        self.held[i] = Default::default();
        self.taken[i] = false;
    }

    fn free_all(&mut self) {
        for i in 0..FLOWS {
            self.free_flow(i);
        }
        // SAFETY: NULL or live handles, each freed once.
        unsafe {
            imdsguard_tracker_free(self.tracker);
            for e in &mut self.engines {
                imdsguard_engine_free(*e);
                *e = null_mut();
            }
        }
        self.tracker = null_mut();
    }

    #[allow(clippy::too_many_lines)]
    fn step(&mut self, r: &mut Bytes<'_>) {
        match r.u8() % 25 {
            0 => self.engine_new(r),
            1 => {
                let i = usize::from(r.u8()) % ENGINES;
                // SAFETY: NULL or a live engine, freed once; flows keep their own reference.
                unsafe { imdsguard_engine_free(self.engines[i]) };
                self.engines[i] = null_mut();
            }
            2 => self.flow_new(r),
            3 => {
                let (_, f) = self.flow(r.u8());
                let e = self.engine(r.u8());
                // SAFETY: NULL or live handles.
                let s = unsafe { imdsguard_flow_set_engine(f, e) };
                expect(
                    "flow_set_engine",
                    s,
                    &outcomes(f.is_null() || e.is_null(), false),
                );
            }
            4 | 5 => self.flow_feed(r),
            6 => {
                let (slot, f) = self.flow(r.u8());
                let dir = read_dir(r);
                let len = r.sized();
                self.flush_held(slot, dir);
                // SAFETY: NULL or a live flow.
                let s = unsafe { imdsguard_flow_gap(f, dir, len) };
                expect("flow_gap", s, &outcomes(f.is_null(), dir > 1));
            }
            7 => {
                let (slot, f) = self.flow(r.u8());
                let dir = read_dir(r);
                self.flush_held(slot, dir);
                // SAFETY: NULL or a live flow.
                let s = unsafe { imdsguard_flow_close_direction(f, dir) };
                expect("flow_close_direction", s, &outcomes(f.is_null(), dir > 1));
            }
            8 => {
                let (slot, f) = self.flow(r.u8());
                self.flush_held(slot, 0);
                self.flush_held(slot, 1);
                // SAFETY: NULL or a live flow.
                let s = unsafe { imdsguard_flow_close(f) };
                expect("flow_close", s, &outcomes(f.is_null(), false));
            }
            9 => {
                let (_, f) = self.flow(r.u8());
                let t = match r.u8() % 4 {
                    0 => r.u64(),
                    _ => T0 + u64::from(r.u32()),
                };
                // SAFETY: NULL or a live flow.
                let s = unsafe { imdsguard_flow_set_time(f, t) };
                expect("flow_set_time", s, &outcomes(f.is_null(), false));
            }
            10 => {
                let (_, f) = self.flow(r.u8());
                // SAFETY: NULL or a live flow.
                let s = unsafe { imdsguard_flow_set_responder_ttl(f, r.u8()) };
                expect("flow_set_responder_ttl", s, &outcomes(f.is_null(), false));
            }
            11 => {
                let (_, f) = self.flow(r.u8());
                let null_mac = r.u8() & 1 != 0;
                let mac: [u8; 6] = r.array();
                let p = if null_mac { null() } else { mac.as_ptr() };
                // SAFETY: NULL or a live flow; `p` is NULL or 6 readable bytes.
                let s = unsafe { imdsguard_flow_set_responder_mac(f, p) };
                expect(
                    "flow_set_responder_mac",
                    s,
                    &outcomes(f.is_null() || null_mac, false),
                );
            }
            12 => self.flow_next_event(r),
            13 => {
                let (slot, f) = self.flow(r.u8());
                let taken = slot.is_some_and(|i| self.taken[i]);
                check_eve_call("flow_event_eve", r, taken, f.is_null(), |b, c, n| {
                    // SAFETY: NULL or a live flow; `b` NULL or `c` writable bytes; `n` NULL
                    // or writable.
                    unsafe { imdsguard_flow_event_eve(f, b, c, n) }
                });
            }
            14 => {
                let (_, f) = self.flow(r.u8());
                let null_out = r.u8() & 1 != 0;
                let mut st = MaybeUninit::<imdsguard_flow_stats>::uninit();
                let out = if null_out {
                    null_mut()
                } else {
                    st.as_mut_ptr()
                };
                // SAFETY: NULL or a live flow; `out` NULL or writable.
                let s = unsafe { imdsguard_flow_get_stats(f, out) };
                expect(
                    "flow_get_stats",
                    s,
                    &outcomes(f.is_null() || null_out, false),
                );
                if s == IMDSGUARD_OK {
                    // SAFETY: written on OK.
                    let st = unsafe { st.assume_init() };
                    assert!(st.suppressed <= st.alerts, "{st:?}");
                }
            }
            15 => {
                let i = usize::from(r.u8()) % FLOWS;
                self.free_flow(i);
            }
            16 => self.engine_decide(r),
            17 => metadata_endpoint(r),
            18 => {
                let code = r.u32();
                let s = c_str("status_str", imdsguard_status_str(code));
                assert!(!s.is_empty());
                let _ = c_str("version", imdsguard_version());
                assert_eq!(imdsguard_abi_version(), IMDSGUARD_ABI_VERSION);
            }
            19 => self.tracker_new(r),
            20 => self.tracker_packet(r),
            21 => {
                let flags = r.u8();
                let t = if flags & 1 != 0 {
                    null_mut()
                } else {
                    self.tracker
                };
                self.clock = self.clock.saturating_add(u64::from(r.u16()) * 1000);
                // SAFETY: NULL or a live tracker.
                let s = unsafe {
                    if flags & 2 != 0 {
                        imdsguard_tracker_flush(t)
                    } else {
                        imdsguard_tracker_expire(t, self.clock)
                    }
                };
                expect("tracker_expire/flush", s, &outcomes(t.is_null(), false));
            }
            22 => self.tracker_events(r),
            24 => {
                let (_, f) = self.flow(r.u8());
                let mut compacted = r.u8() & 1 != 0;
                let out: *mut bool = if r.u8() & 1 != 0 {
                    &mut compacted
                } else {
                    null_mut()
                };
                // SAFETY: NULL or a live flow; `out` is NULL or a local.
                let s = unsafe { imdsguard_flow_compact(f, out) };
                expect("flow_compact", s, &outcomes(f.is_null(), false));
            }
            _ => {
                // SAFETY: NULL or a live tracker, freed once.
                unsafe { imdsguard_tracker_free(self.tracker) };
                self.tracker = null_mut();
                self.tracker_taken = false;
            }
        }
    }

    fn engine_new(&mut self, r: &mut Bytes<'_>) {
        let i = usize::from(r.u8()) % ENGINES;
        let flags = r.u8();
        let len = usize::from(r.u16() % 2048);
        let text = if flags & 1 != 0 { &[][..] } else { r.take(len) };
        let (ptr, len) = if flags & 1 != 0 {
            (null(), len)
        } else {
            (text.as_ptr(), text.len())
        };
        let mut err = MaybeUninit::<imdsguard_policy_error>::uninit();
        let err_ptr = if flags & 2 != 0 {
            null_mut()
        } else {
            err.as_mut_ptr()
        };
        let mut out: *mut imdsguard_engine = null_mut();
        let out_ptr: *mut *mut imdsguard_engine =
            if flags & 4 != 0 { null_mut() } else { &mut out };
        let from_file = flags & 8 != 0;
        let s = if from_file {
            let path: *const c_char = if flags & 16 != 0 {
                null()
            } else {
                c"/nonexistent/imdsguard-fuzz/policy.conf".as_ptr()
            };
            // SAFETY: `path` NULL or NUL-terminated; `err_ptr`, `out_ptr` NULL or writable.
            let s = unsafe { imdsguard_engine_new_from_file(path, err_ptr, out_ptr) };
            let null = path.is_null() || out_ptr.is_null();
            let allowed = if null {
                vec![IMDSGUARD_NULL_ARGUMENT]
            } else {
                vec![IMDSGUARD_IO_ERROR]
            };
            expect("engine_new_from_file", s, &allowed);
            s
        } else {
            // SAFETY: `ptr` NULL or `len` readable bytes; the others NULL or writable.
            let s = unsafe { imdsguard_engine_new(ptr, len, err_ptr, out_ptr) };
            if out_ptr.is_null() || (ptr.is_null() && len > 0) {
                expect("engine_new", s, &[IMDSGUARD_NULL_ARGUMENT]);
            } else {
                let parsed = match std::str::from_utf8(text) {
                    Ok(t) => Policy::parse(t, "policy").is_ok(),
                    Err(_) => false,
                };
                let want = if parsed {
                    IMDSGUARD_OK
                } else {
                    IMDSGUARD_POLICY_ERROR
                };
                expect("engine_new", s, &[want]);
            }
            s
        };
        if (s == IMDSGUARD_POLICY_ERROR || s == IMDSGUARD_IO_ERROR) && !err_ptr.is_null() {
            // SAFETY: filled on these statuses.
            let err = unsafe { err.assume_init() };
            let msg = &err.message;
            let end = msg
                .iter()
                .position(|&c| c == 0)
                .expect("policy error message not NUL-terminated");
            assert!(end > 0, "empty policy error message");
            if s == IMDSGUARD_IO_ERROR {
                assert_eq!(err.line, 0, "I/O error with a line");
            } else {
                assert!(err.line >= 1, "policy error on line 0");
            }
        }
        if s == IMDSGUARD_OK {
            assert!(!out.is_null(), "engine_new: OK with a NULL engine");
            // SAFETY: NULL or a live engine, replaced by the new one.
            unsafe { imdsguard_engine_free(self.engines[i]) };
            self.engines[i] = out;
        }
    }

    fn flow_new(&mut self, r: &mut Bytes<'_>) {
        let i = usize::from(r.u8()) % FLOWS;
        let e = self.engine(r.u8());
        let flags = r.u8();
        let key = read_key(r);
        let key_ptr: *const imdsguard_flow_key = if flags & 1 != 0 { null() } else { &key };
        let mut out: *mut imdsguard_flow = null_mut();
        let out_ptr: *mut *mut imdsguard_flow = if flags & 2 != 0 { null_mut() } else { &mut out };
        // SAFETY: NULL or live / readable / writable arguments.
        let s = unsafe { imdsguard_flow_new(e, key_ptr, out_ptr) };
        let null = e.is_null() || key_ptr.is_null() || out_ptr.is_null();
        expect("flow_new", s, &outcomes(null, !key_valid(&key)));
        if s == IMDSGUARD_OK {
            assert!(!out.is_null(), "flow_new: OK with a NULL flow");
            self.free_flow(i);
            self.flows[i] = out;
        }
    }

    fn flow_feed(&mut self, r: &mut Bytes<'_>) {
        let in_place = r.u8() & 1 != 0;
        let (slot, f) = self.flow(r.u8());
        let dir = read_dir(r);
        let flags = r.u8();
        let len = usize::from(r.u16() % 4096);
        let null_data = flags & 1 != 0;
        let null_result = flags & 2 != 0;
        let data = if null_data { &[][..] } else { r.take(len) };
        let len = if null_data { len } else { data.len() };
        let mut res = imdsguard_feed_result {
            status: u32::MAX,
            consumed: usize::MAX,
            needed: usize::MAX,
            pending_events: usize::MAX,
        };
        let res_ptr: *mut imdsguard_feed_result = if null_result { null_mut() } else { &mut res };
        let live = slot.is_some() && !f.is_null() && dir <= 1;
        if !in_place {
            self.flush_held(slot, dir);
            let ptr = if null_data { null() } else { data.as_ptr() };
            // SAFETY: NULL or a live flow; `ptr` NULL or `len` readable bytes; `res_ptr`
            // NULL or writable.
            let s = unsafe { imdsguard_flow_feed(f, dir, ptr, len, res_ptr) };
            let null = f.is_null() || (null_data && len > 0);
            expect("flow_feed", s, &outcomes(null, dir > 1));
            if !null_result {
                assert_eq!(res.status, s as u32, "flow_feed: result.status");
                if s == IMDSGUARD_OK {
                    assert_eq!((res.consumed, res.needed), (len, 0), "flow_feed: result");
                }
            }
            return;
        }
        // In place: a live flow and direction get the caller-managed buffer of the contract;
        // anything else is passed as it is, to see it refused.
        if live && !null_data {
            let i = slot.expect("live slot");
            let buf = &mut self.held[i][usize::from(dir)];
            buf.extend_from_slice(data);
            let buf_len = buf.len();
            // SAFETY: a live flow; `buf` readable; `res_ptr` NULL or writable.
            let s =
                unsafe { imdsguard_flow_parse_in_place(f, dir, buf.as_ptr(), buf_len, res_ptr) };
            if null_result {
                expect("flow_parse_in_place", s, &[IMDSGUARD_NULL_ARGUMENT]);
                buf.truncate(buf_len - data.len());
                return;
            }
            expect("flow_parse_in_place", s, &[IMDSGUARD_OK]);
            assert_eq!(res.status, s as u32, "flow_parse_in_place: result.status");
            check_progress(
                Progress {
                    consumed: res.consumed,
                    needed: res.needed,
                },
                buf_len,
            );
            buf.drain(..res.consumed);
            return;
        }
        if live {
            // NULL data: present nothing after the held tail only once the tail was fed.
            self.flush_held(slot, dir);
        }
        let ptr = if null_data { null() } else { data.as_ptr() };
        // SAFETY: NULL or a live flow; `ptr` NULL or `len` readable bytes; `res_ptr` NULL or
        // writable. A live flow and direction never get here with data (handled above).
        let s = unsafe { imdsguard_flow_parse_in_place(f, dir, ptr, len, res_ptr) };
        let null = null_result || f.is_null() || (null_data && len > 0);
        expect("flow_parse_in_place", s, &outcomes(null, dir > 1));
        if s == IMDSGUARD_OK {
            // NULL data of length 0 on a live flow: an empty feed.
            assert_eq!((res.consumed, res.needed), (0, 0), "empty parse_in_place");
        }
    }

    fn flow_next_event(&mut self, r: &mut Bytes<'_>) {
        let (slot, f) = self.flow(r.u8());
        let null_out = r.u8() & 1 != 0;
        let mut ev = MaybeUninit::<imdsguard_event>::uninit();
        let out = if null_out {
            null_mut()
        } else {
            ev.as_mut_ptr()
        };
        // SAFETY: NULL or a live flow; `out` NULL or writable.
        let s = unsafe { imdsguard_flow_next_event(f, out) };
        if f.is_null() || null_out {
            expect("flow_next_event", s, &[IMDSGUARD_NULL_ARGUMENT]);
            return;
        }
        expect("flow_next_event", s, &[IMDSGUARD_OK, IMDSGUARD_NO_EVENT]);
        if s == IMDSGUARD_OK {
            // SAFETY: written on OK.
            check_event(&unsafe { ev.assume_init() });
            if let Some(i) = slot {
                self.taken[i] = true;
            }
        }
    }

    fn engine_decide(&mut self, r: &mut Bytes<'_>) {
        let e = self.engine(r.u8());
        let flags = r.u8();
        let key = read_key(r);
        let indicators = r.u32();
        let provider = r.u8() % 16;
        let key_ptr: *const imdsguard_flow_key = if flags & 1 != 0 { null() } else { &key };
        let mut decision = u8::MAX;
        let d_ptr: *mut u8 = if flags & 2 != 0 {
            null_mut()
        } else {
            &mut decision
        };
        // SAFETY: NULL or live / readable / writable arguments.
        let s = unsafe { imdsguard_engine_decide(e, key_ptr, indicators, provider, d_ptr) };
        let null = e.is_null() || key_ptr.is_null() || d_ptr.is_null();
        let invalid = !key_valid(&key) || usize::from(provider) >= Provider::ALL.len();
        expect("engine_decide", s, &outcomes(null, invalid));
        if s == IMDSGUARD_OK {
            assert!(
                decision == IMDSGUARD_DECISION_ALERT || decision == IMDSGUARD_DECISION_SUPPRESSED,
                "decision {decision}"
            );
        }
    }

    fn tracker_new(&mut self, r: &mut Bytes<'_>) {
        let e = self.engine(r.u8());
        let flags = r.u8();
        let config = imdsguard_tracker_config {
            max_flows: usize::from(r.u8() % 16),
            memcap_bytes: usize::from(r.u16()) * 16,
            idle_timeout_us: u64::from(r.u16()) * 1000,
            new_timeout_us: u64::from(r.u16()) * 1000,
        };
        let c_ptr: *const imdsguard_tracker_config = if flags & 1 != 0 { null() } else { &config };
        let mut out: *mut imdsguard_tracker = null_mut();
        let out_ptr: *mut *mut imdsguard_tracker =
            if flags & 2 != 0 { null_mut() } else { &mut out };
        // SAFETY: NULL or live / readable / writable arguments.
        let s = unsafe { imdsguard_tracker_new(e, c_ptr, out_ptr) };
        expect(
            "tracker_new",
            s,
            &outcomes(e.is_null() || out_ptr.is_null(), false),
        );
        if s == IMDSGUARD_OK {
            assert!(!out.is_null(), "tracker_new: OK with a NULL tracker");
            // SAFETY: NULL or a live tracker, replaced.
            unsafe { imdsguard_tracker_free(self.tracker) };
            self.tracker = out;
            self.tracker_taken = false;
        }
    }

    fn tracker_packet(&mut self, r: &mut Bytes<'_>) {
        const DLTS: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];
        let flags = r.u8();
        let t = if flags & 1 != 0 {
            null_mut()
        } else {
            self.tracker
        };
        let l = r.u8();
        let dlt = match DLTS.get(usize::from(l % 16)) {
            Some(&d) => d,
            None => u32::from(l),
        };
        self.clock = self.clock.saturating_add(u64::from(r.u16()) * 1000);
        let len = usize::from(r.u16() % 2048);
        let null_frame = flags & 2 != 0;
        let frame = if null_frame { &[][..] } else { r.take(len) };
        let (ptr, len) = if null_frame {
            (null(), len)
        } else {
            (frame.as_ptr(), frame.len())
        };
        let mut res = imdsguard_packet_result::default();
        let res_ptr: *mut imdsguard_packet_result =
            if flags & 4 != 0 { null_mut() } else { &mut res };
        // SAFETY: NULL or a live tracker; `ptr` NULL or `len` readable bytes; `res_ptr` NULL
        // or writable.
        let s = unsafe { imdsguard_tracker_packet(t, ptr, len, dlt, self.clock, res_ptr) };
        let null = t.is_null() || (null_frame && len > 0);
        let invalid = LinkType::from_dlt(dlt).is_none();
        expect("tracker_packet", s, &outcomes(null, invalid));
        if !res_ptr.is_null() {
            assert_eq!(res.status, s as u32, "tracker_packet: result.status");
        }
    }

    fn tracker_events(&mut self, r: &mut Bytes<'_>) {
        let flags = r.u8();
        let t = if flags & 1 != 0 {
            null_mut()
        } else {
            self.tracker
        };
        match (flags >> 1) % 3 {
            0 => {
                let null_out = flags & 8 != 0;
                let mut ev = MaybeUninit::<imdsguard_event>::uninit();
                let out = if null_out {
                    null_mut()
                } else {
                    ev.as_mut_ptr()
                };
                // SAFETY: NULL or a live tracker; `out` NULL or writable.
                let s = unsafe { imdsguard_tracker_next_event(t, out) };
                if t.is_null() || null_out {
                    expect("tracker_next_event", s, &[IMDSGUARD_NULL_ARGUMENT]);
                    return;
                }
                expect("tracker_next_event", s, &[IMDSGUARD_OK, IMDSGUARD_NO_EVENT]);
                if s == IMDSGUARD_OK {
                    // SAFETY: written on OK.
                    check_event(&unsafe { ev.assume_init() });
                    self.tracker_taken = true;
                }
            }
            1 => {
                let taken = self.tracker_taken && !t.is_null();
                check_eve_call("tracker_event_eve", r, taken, t.is_null(), |b, c, n| {
                    // SAFETY: NULL or a live tracker; `b` NULL or `c` writable bytes; `n`
                    // NULL or writable.
                    unsafe { imdsguard_tracker_event_eve(t, b, c, n) }
                });
            }
            _ => {
                let null_out = flags & 8 != 0;
                let mut st = MaybeUninit::<imdsguard_tracker_stats>::uninit();
                let out = if null_out {
                    null_mut()
                } else {
                    st.as_mut_ptr()
                };
                // SAFETY: NULL or a live tracker; `out` NULL or writable.
                let s = unsafe { imdsguard_tracker_get_stats(t, out) };
                expect(
                    "tracker_get_stats",
                    s,
                    &outcomes(t.is_null() || null_out, false),
                );
                if s == IMDSGUARD_OK {
                    // SAFETY: written on OK.
                    let st = unsafe { st.assume_init() };
                    assert!(st.decode_errors <= st.packets, "{st:?}");
                }
            }
        }
    }
}

fn metadata_endpoint(r: &mut Bytes<'_>) {
    let flags = r.u8();
    let ip = read_ip(r);
    let ip_ptr: *const imdsguard_ip = if flags & 1 != 0 { null() } else { &ip };
    let mut is_md = false;
    let mut provider = u8::MAX;
    let mut indicators = u32::MAX;
    let md_ptr: *mut bool = if flags & 2 != 0 {
        null_mut()
    } else {
        &mut is_md
    };
    let p_ptr: *mut u8 = if flags & 4 != 0 {
        null_mut()
    } else {
        &mut provider
    };
    let i_ptr: *mut u32 = if flags & 8 != 0 {
        null_mut()
    } else {
        &mut indicators
    };
    // SAFETY: each pointer NULL or valid for its access.
    let s = unsafe { imdsguard_metadata_endpoint(ip_ptr, md_ptr, p_ptr, i_ptr) };
    let null = ip_ptr.is_null() || md_ptr.is_null();
    expect("metadata_endpoint", s, &outcomes(null, !ip_valid(&ip)));
    if s != IMDSGUARD_OK {
        return;
    }
    let addr = match ip.family {
        4 => IpAddr::V4(Ipv4Addr::new(
            ip.addr[0], ip.addr[1], ip.addr[2], ip.addr[3],
        )),
        _ => IpAddr::V6(Ipv6Addr::from(ip.addr)),
    };
    let want = Engine::metadata_endpoint(addr);
    assert_eq!(is_md, want.is_some(), "metadata_endpoint({addr})");
    if let Some((p, i)) = want {
        if !p_ptr.is_null() {
            assert_eq!(provider, p as u8, "provider of {addr}");
        }
        if !i_ptr.is_null() {
            assert_eq!(indicators, i.bits(), "indicators of {addr}");
        }
    }
}

/// Input: a sequence of C-ABI calls, each an opcode byte (mod 24) and its arguments, on up to
/// four flows, two engines and one tracker (see `Handles::step` for the layout; every
/// argument that may be NULL is NULL when its flag bit says so). Handles are only ever NULL
/// or live: a freed handle's slot is cleared.
///
/// Checks: every call returns a status its documentation lists (exactly which one where the
/// arguments decide it); `IMDSGUARD_PANIC` or `IMDSGUARD_POISONED` is a finding (a Rust
/// panic happened inside; under libFuzzer the panic hook aborts at the panic itself); result
/// structures agree with the status; in-place progress keeps the contract; events carry
/// valid strings; EVE renderings are NUL-terminated JSON within the buffer; the stateless
/// address rule agrees with the Rust API. At most 512 calls per input.
pub fn ffi_sequence(data: &[u8]) {
    let mut r = Bytes::new(data);
    let mut h = Handles::new();
    let mut calls = 0;
    while !r.is_empty() && calls < 512 {
        h.step(&mut r);
        calls += 1;
    }
    h.free_all();
}
