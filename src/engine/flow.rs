//! One connection under detection.

use super::Engine;
use crate::event::{Alert, HttpInfo, Responder};
use crate::flow::transaction::{Collector, Transaction};
use crate::flow::{
    Direction, ElementPiece, Event, EventSink, HttpStream, Progress, RestState, Section, TxId,
};
use crate::http::Anomalies;
use crate::imds::request::RequestMatcher;
use crate::imds::response::{is_imds_server, CredentialScanner};
use crate::imds::targets::{endpoint_of_address, Endpoint};
use crate::imds::verdict::{is_alert_worthy, signature, stage};
use crate::imds::{Indicators, Provider};
use crate::key::FlowKey;
use crate::normalize::{split_target, RequestTarget};
use std::collections::VecDeque;
use std::fmt::Write;

/// What detection keeps of one transaction until its verdict.
#[derive(Debug, Clone)]
struct TxState {
    id: TxId,
    matcher: RequestMatcher,
    /// Response-side indicators.
    response: Indicators,
    provider: Option<Provider>,
    /// The copied HTTP fields, in the flow's field arena.
    fields: Fields,
    has_request: bool,
    request_done: bool,
    response_done: bool,
    host_copied: bool,
    status: Option<u16>,
    anomalies: Anomalies,
    credentials: CredentialScanner,
    response_evidence: Vec<String>,
}

impl TxState {
    fn new(limit: usize) -> TxState {
        TxState {
            id: 0,
            matcher: RequestMatcher::default(),
            response: Indicators::empty(),
            provider: None,
            fields: Fields::default(),
            has_request: false,
            request_done: false,
            response_done: false,
            host_copied: false,
            status: None,
            anomalies: Anomalies::empty(),
            credentials: CredentialScanner::new(limit),
            response_evidence: Vec::new(),
        }
    }

    /// Resets for reuse, keeping the capacity of every buffer: a flow in steady state
    /// allocates nothing per request.
    fn reset(&mut self, id: TxId, limit: usize) {
        self.id = id;
        self.matcher.clear();
        self.response = Indicators::empty();
        self.provider = None;
        self.fields = Fields::default();
        self.has_request = false;
        self.request_done = false;
        self.response_done = false;
        self.host_copied = false;
        self.status = None;
        self.anomalies = Anomalies::empty();
        self.credentials = CredentialScanner::new(limit);
        self.matcher.strings.give_all(&mut self.response_evidence);
    }

    /// Adds a statement about the response, in a string from the transaction's pool.
    fn note_response(&mut self, statement: &str) {
        self.matcher
            .strings
            .push_written(&mut self.response_evidence, |s| s.push_str(statement));
    }
}

/// Which field of a transaction's HTTP fields.
#[derive(Debug, Clone, Copy)]
enum Field {
    Method = 0,
    Url = 1,
    Protocol = 2,
    Hostname = 3,
    UserAgent = 4,
}

/// Where a transaction's copied fields lie in the flow's [`FieldArena`]: start and length
/// of each [`Field`].
#[derive(Debug, Clone, Copy, Default)]
struct Fields([(u32, u32); 5]);

/// The HTTP fields an alert may carry (method, target, protocol, host, user agent), copied
/// for every live transaction of a flow into one buffer instead of five per transaction: a
/// transaction costs no allocation of its own, and the buffer is emptied whenever no
/// transaction is live (and rebuilt with only the live ones' fields if it grows past
/// [`FieldArena::COMPACT_AT`] while some always are).
#[derive(Debug, Default)]
struct FieldArena {
    bytes: Vec<u8>,
}

impl FieldArena {
    const COMPACT_AT: usize = 64 * 1024;
    /// What the first field reserves: the copied fields of a browser request are about
    /// 300 bytes (host, URL, method, user agent, protocol).
    const FIRST_RESERVE: usize = 512;

    fn get(&self, f: &Fields, which: Field) -> &[u8] {
        let (start, len) = f.0.get(which as usize).copied().unwrap_or_default();
        let (start, len) = (start as usize, len as usize);
        self.bytes.get(start..start + len).unwrap_or_default()
    }

    /// Copies at most `cap` bytes of `value` as the field. A field written last is
    /// overwritten in place (repeated headers do not grow the arena).
    fn set(&mut self, f: &mut Fields, which: Field, value: &[u8], cap: usize) {
        let Some(slot) = f.0.get_mut(which as usize) else {
            return;
        };
        let (start, len) = (slot.0 as usize, slot.1 as usize);
        if len > 0 && start + len == self.bytes.len() {
            self.bytes.truncate(start);
        }
        let value = value.get(..cap).unwrap_or(value);
        // The first field reserves room for the fields of a few transactions at once: growing
        // by doubling from empty cost a flow about seven `realloc`s, and glibc's `realloc`
        // locks the arena a recycled block came from, which two sensor threads then fight over
        // (BENCHMARKS.md, section 4).
        let want = if self.bytes.capacity() == 0 {
            value.len().max(Self::FIRST_RESERVE)
        } else {
            value.len()
        };
        // A refused allocation leaves the field empty in the alert rather than aborting.
        if self.bytes.try_reserve(want).is_err() {
            *slot = (0, 0);
            return;
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(value);
        *slot = (
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(value.len()).unwrap_or(0),
        );
    }

    /// Keeps only the fields of the live transactions (called when the arena grew large).
    fn compact<'a>(&mut self, live: impl Iterator<Item = &'a mut TxState>) {
        let mut kept = Vec::new();
        if kept.try_reserve_exact(self.bytes.len() / 2).is_err() {
            return;
        }
        for st in live {
            for slot in &mut st.fields.0 {
                let (start, len) = (slot.0 as usize, slot.1 as usize);
                let bytes = self.bytes.get(start..start + len).unwrap_or_default();
                *slot = (u32::try_from(kept.len()).unwrap_or(u32::MAX), slot.1);
                kept.extend_from_slice(bytes);
            }
        }
        self.bytes = kept;
    }

    /// Copies the fields into an alert's `http`, reusing the capacity its vectors have (an
    /// alert that came back to the flow keeps them: see [`Flow::pop_alert_into`]).
    fn fill_http_info(&self, f: &Fields, http: &mut HttpInfo) {
        for (to, which) in [
            (&mut http.hostname, Field::Hostname),
            (&mut http.url, Field::Url),
            (&mut http.method, Field::Method),
            (&mut http.user_agent, Field::UserAgent),
            (&mut http.protocol, Field::Protocol),
        ] {
            to.clear();
            to.extend_from_slice(self.get(f, which));
        }
    }
}

/// Heap bytes of a list of strings.
fn strings_heap_bytes(v: &[String]) -> usize {
    v.iter().map(String::capacity).sum::<usize>() + size_of_val(v)
}

/// Heap bytes of the HTTP fields of an alert or a transaction state.
fn http_heap_bytes(h: &HttpInfo) -> usize {
    h.hostname.capacity()
        + h.url.capacity()
        + h.method.capacity()
        + h.user_agent.capacity()
        + h.protocol.capacity()
        + h.normalized_path.as_ref().map_or(0, Vec::capacity)
}

/// Heap bytes an alert owns (besides its own size).
fn alert_heap_bytes(a: &Alert) -> usize {
    a.http.as_ref().map_or(0, http_heap_bytes)
        + a.evidence.capacity() * size_of::<String>()
        + a.evidence.iter().map(String::capacity).sum::<usize>()
        + match &a.decision {
            crate::policy::Decision::Suppressed { rule } => rule.capacity(),
            crate::policy::Decision::Alert => 0,
        }
}

impl TxState {
    /// Heap bytes the state owns (besides its own size).
    fn heap_bytes(&self) -> usize {
        strings_heap_bytes(&self.matcher.evidence)
            + self.matcher.strings.heap_bytes()
            + self
                .matcher
                .normalized_path
                .as_ref()
                .map_or(0, Vec::capacity)
            + strings_heap_bytes(&self.response_evidence)
    }
}

/// Counters of one flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Transactions seen.
    pub transactions: u64,
    /// Alerts raised (suppressed ones included).
    pub alerts: u64,
    /// Alerts the policy suppressed.
    pub suppressed: u64,
    /// Messages that carried at least one anomaly.
    pub anomalous_messages: u64,
    /// Reports of anomalies outside any message (bytes after the last message, data after
    /// close).
    pub stream_anomalies: u64,
    /// Pending alerts dropped, oldest first, because the flow held
    /// `EngineConfig::max_pending_alerts` that nobody took.
    pub alerts_dropped: u64,
}

/// One connection under detection: an HTTP parser for both directions and the detection
/// state of its transactions. See [`Engine`] for how the two relate.
///
/// **Memory.** A flow keeps its parser and detection state in one heap block while it has
/// work; an idle flow ([`Flow::compact`]) keeps only its key, counters and a few flags,
/// inline (`size_of::<Flow>()` is at most 128 bytes, checked by a unit test), and no heap.
/// A new flow allocates nothing until its first bytes.
#[derive(Debug)]
pub struct Flow {
    key: FlowKey,
    destination: Option<Endpoint>,
    /// The flow's facts while `busy` is `None` (stale while it is `Some`).
    parked: Parked,
    busy: Option<Box<Busy>>,
}

/// A flow with work: its parser and detection state.
#[derive(Debug)]
struct Busy {
    http: HttpStream,
    det: Detection,
}

/// What an idle flow keeps of its parser and detection state: everything that outlives a
/// transaction. Counters are 32 bits here (saturating), 64 in [`FlowStats`].
#[derive(Debug, Clone, Copy, Default)]
struct Parked {
    now_us: u64,
    next_tx: TxId,
    counters: [u32; 6],
    responder: Responder,
    smuggling_seen: bool,
    http_alert_raised: bool,
    address_alert_done: bool,
    closed: [bool; 2],
    late_data_reported: [bool; 2],
}

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Parked {
    fn stats(&self) -> FlowStats {
        let [transactions, alerts, suppressed, anomalous_messages, stream_anomalies, alerts_dropped] =
            self.counters.map(u64::from);
        FlowStats {
            transactions,
            alerts,
            suppressed,
            anomalous_messages,
            stream_anomalies,
            alerts_dropped,
        }
    }

    fn of(det: &Detection, rest: RestState) -> Parked {
        let s = det.stats;
        Parked {
            now_us: det.now_us,
            next_tx: rest.next_tx,
            counters: [
                s.transactions,
                s.alerts,
                s.suppressed,
                s.anomalous_messages,
                s.stream_anomalies,
                s.alerts_dropped,
            ]
            .map(saturate),
            responder: det.responder,
            smuggling_seen: det.smuggling_seen,
            http_alert_raised: det.http_alert_raised,
            address_alert_done: det.address_alert_done,
            closed: det.closed,
            late_data_reported: rest.late_data_reported,
        }
    }
}

impl Busy {
    /// The state of a flow that was `parked` (or is new): empty queues, the parser at rest.
    fn new(engine: &Engine, parked: &Parked) -> Busy {
        let rest = RestState {
            next_tx: parked.next_tx,
            closed: parked.closed,
            late_data_reported: parked.late_data_reported,
        };
        Busy {
            http: HttpStream::from_rest(engine.config().limits, rest),
            det: Detection {
                live: VecDeque::new(),
                arena: FieldArena::default(),
                spare: Vec::new(),
                judged: VecDeque::new(),
                alerts: VecDeque::new(),
                returned: Vec::new(),
                stats: parked.stats(),
                smuggling_seen: parked.smuggling_seen,
                http_alert_raised: parked.http_alert_raised,
                address_alert_done: parked.address_alert_done,
                now_us: parked.now_us,
                responder: parked.responder,
                closed: parked.closed,
                recorder: engine
                    .config()
                    .record_transactions
                    .then(|| Box::new(Collector::new())),
            },
        }
    }
}

/// Detection state, apart from the parser so that it can serve as the parser's event sink.
#[derive(Debug)]
struct Detection {
    live: VecDeque<TxState>,
    /// The copied HTTP fields of the live transactions.
    arena: FieldArena,
    spare: Vec<TxState>,
    /// Transactions whose verdict was given: late events for them (a request that ends after
    /// its response) must not start them again.
    judged: VecDeque<TxId>,
    alerts: VecDeque<Alert>,
    /// Alerts the caller gave back ([`Flow::pop_alert_into`]): the next alerts are built in
    /// their buffers (HTTP fields, evidence list and statements).
    returned: Vec<Alert>,
    stats: FlowStats,
    /// A message of this flow had smuggling-grade anomalies: later metadata requests on it
    /// may be hidden ones.
    smuggling_seen: bool,
    http_alert_raised: bool,
    address_alert_done: bool,
    now_us: u64,
    responder: Responder,
    closed: [bool; 2],
    /// Owned transaction records, when the engine asks for them.
    recorder: Option<Box<Collector>>,
}

impl Flow {
    /// Starts a flow. The destination address is classified at once; an address-only alert
    /// is raised when the flow closes without any metadata HTTP transaction.
    pub fn new(engine: &Engine, key: FlowKey) -> Flow {
        let _ = engine;
        Flow {
            key,
            destination: endpoint_of_address(key.dst_ip),
            parked: Parked::default(),
            busy: None,
        }
    }

    /// The flow's key.
    pub fn key(&self) -> &FlowKey {
        &self.key
    }

    /// The metadata endpoint the destination address belongs to, if any.
    pub fn destination_endpoint(&self) -> Option<(Provider, Indicators)> {
        self.destination.map(|e| (e.provider, e.indicator))
    }

    /// Sets the time of what is fed next (microseconds since the Unix epoch); alerts carry it.
    pub fn set_time(&mut self, timestamp_us: u64) {
        match self.busy.as_mut() {
            Some(b) => b.det.now_us = timestamp_us,
            None => self.parked.now_us = timestamp_us,
        }
    }

    /// Records the IP TTL / hop limit of the responder's packets (the real IMDS answers
    /// with 1).
    pub fn set_responder_ttl(&mut self, ttl: u8) {
        match self.busy.as_mut() {
            Some(b) => b.det.responder.ttl = Some(ttl),
            None => self.parked.responder.ttl = Some(ttl),
        }
    }

    /// Records the responder's MAC address.
    pub fn set_responder_mac(&mut self, mac: [u8; 6]) {
        match self.busy.as_mut() {
            Some(b) => b.det.responder.mac = Some(mac),
            None => self.parked.responder.mac = Some(mac),
        }
    }

    /// Feeds the next bytes of one direction (copy mode: everything is consumed).
    #[inline]
    pub fn feed(&mut self, engine: &Engine, dir: Direction, data: &[u8]) {
        // The middle of a body raises only the body event: the commonest piece of a caller
        // feeding a few bytes at a time. Nothing on this path calls a function that returns
        // here, so it saves no registers and both calls are tail calls.
        if let Some(b) = self.busy.as_mut() {
            if let Some(tx) = b.http.absorb_body(dir, data.len()) {
                return b.det.body(dir, tx, data);
            }
        }
        self.feed_element(engine, dir, data)
    }

    // Out of line: inlined, its calls would make `feed` save registers on the body path too.
    #[inline(never)]
    fn feed_element(&mut self, engine: &Engine, dir: Direction, data: &[u8]) {
        // The middle of a line raises no event.
        let first_lf = match self.busy.as_mut().map(|b| b.http.absorb_element(dir, data)) {
            Some(ElementPiece::Kept) => return,
            Some(ElementPiece::Run { first_lf }) => first_lf,
            None => None,
        };
        self.feed_slow(engine, dir, data, first_lf);
    }

    // Out of line, so that the fast paths above do not pay for this one's stack frame.
    #[inline(never)]
    fn feed_slow(&mut self, engine: &Engine, dir: Direction, data: &[u8], first_lf: Option<usize>) {
        let mut sink = self.sink(engine);
        let (http, sink) = sink.split();
        http.feed_slow(dir, data, first_lf, sink);
    }

    /// Feeds without copying (Suricata mode); see [`HttpStream::parse_in_place`].
    pub fn parse_in_place(&mut self, engine: &Engine, dir: Direction, data: &[u8]) -> Progress {
        let mut sink = self.sink(engine);
        let (http, sink) = sink.split();
        http.parse_in_place(dir, data, sink)
    }

    /// Reports `len` lost bytes in one direction.
    pub fn gap(&mut self, engine: &Engine, dir: Direction, len: u64) {
        let mut sink = self.sink(engine);
        let (http, sink) = sink.split();
        http.gap(dir, len, sink);
    }

    /// Ends one direction. When both have ended, every pending verdict is given.
    pub fn close_direction(&mut self, engine: &Engine, dir: Direction) {
        {
            let mut sink = self.sink(engine);
            let (http, sink) = sink.split();
            http.close(dir, sink);
        }
        let det = &mut self.busy_mut(engine).det;
        *det.closed_mut(dir) = true;
        if det.closed == [true, true] {
            self.finish(engine);
        }
    }

    fn busy_mut(&mut self, engine: &Engine) -> &mut Busy {
        let parked = &self.parked;
        self.busy
            .get_or_insert_with(|| Box::new(Busy::new(engine, parked)))
    }

    fn is_closed(&self, dir: Direction) -> bool {
        let closed = match &self.busy {
            Some(b) => b.det.closed,
            None => self.parked.closed,
        };
        let [to_server, to_client] = closed;
        match dir {
            Direction::ToServer => to_server,
            Direction::ToClient => to_client,
        }
    }

    /// Frees the parser and detection state of a flow with nothing in progress (between
    /// messages in both directions, no transaction waiting for its verdict, no alert
    /// waiting to be taken, not recording transactions, no tunnel); keeps its counters and
    /// flags inline. Returns whether the flow is compact now. What follows is exactly what
    /// would have followed without compaction; the next bytes allocate the state again.
    ///
    /// Call it on flows that went quiet (the tracker does after a second without packets):
    /// an idle flow then costs `size_of::<Flow>()` bytes and no heap. A busy flow keeps its
    /// state between requests, so that steady traffic allocates nothing.
    pub fn compact(&mut self) -> bool {
        let Some(b) = &self.busy else {
            return true;
        };
        let det = &b.det;
        if !det.live.is_empty() || !det.alerts.is_empty() || det.recorder.is_some() {
            return false;
        }
        let Some(rest) = b.http.at_rest() else {
            return false;
        };
        self.parked = Parked::of(det, rest);
        self.busy = None;
        true
    }

    /// Whether the flow holds no parser or detection state (new, or compacted).
    pub fn is_compact(&self) -> bool {
        self.busy.is_none()
    }

    /// Ends the flow: both directions, and every pending verdict, including the address-only
    /// alert of a flow to a metadata address that carried no metadata HTTP.
    pub fn close(&mut self, engine: &Engine) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            if !self.is_closed(dir) {
                self.close_direction(engine, dir);
            }
        }
    }

    fn finish(&mut self, engine: &Engine) {
        let (key, destination) = (self.key, self.destination);
        let det = &mut self.busy_mut(engine).det;
        while let Some(st) = det.live.pop_front() {
            det.verdict(engine, &key, destination, st);
        }
        if let Some(dest) = destination {
            if !det.http_alert_raised && !det.address_alert_done {
                det.address_alert_done = true;
                det.address_alert(engine, &key, dest);
            }
        }
    }

    /// The next alert, oldest first.
    pub fn pop_alert(&mut self) -> Option<Alert> {
        self.busy.as_mut()?.det.alerts.pop_front()
    }

    /// The next alert, oldest first, put in `out`; whatever `out` held goes back to the flow,
    /// whose next alerts are built in its buffers. Returns whether there was one (`out` is
    /// left as it was when not).
    ///
    /// A sensor that takes every alert this way, always through the same `out`, makes
    /// alerting traffic allocate nothing in steady state either: HTTP fields, evidence list
    /// and statements are written into capacity that earlier alerts left. ([`Flow::pop_alert`]
    /// and [`Flow::drain_alerts`] hand the alert over for good, so the next one is built
    /// anew.)
    pub fn pop_alert_into(&mut self, out: &mut Alert) -> bool {
        let Some(det) = self.busy.as_mut().map(|b| &mut b.det) else {
            return false;
        };
        let Some(next) = det.alerts.pop_front() else {
            return false;
        };
        det.give_back(std::mem::replace(out, next));
        true
    }

    /// Gives an alert the caller is done with back to the flow: its next alert is built in
    /// the alert's buffers (what [`Flow::pop_alert_into`] does with the alert it replaces).
    /// A flow keeps two at most, and none while it is compact.
    pub fn give_back(&mut self, alert: Alert) {
        if let Some(b) = self.busy.as_mut() {
            b.det.give_back(alert);
        }
    }

    /// How many alerts are waiting. Inline: a sensor asks after every `feed`.
    #[inline]
    pub fn pending_alerts(&self) -> usize {
        self.busy.as_ref().map_or(0, |b| b.det.alerts.len())
    }

    /// Takes every pending alert.
    pub fn drain_alerts(&mut self) -> impl Iterator<Item = Alert> + '_ {
        self.busy.iter_mut().flat_map(|b| b.det.alerts.drain(..))
    }

    /// The transactions recorded so far (with `EngineConfig::record_transactions`; empty
    /// otherwise), oldest first. Call after [`Flow::close`] to get complete ones.
    pub fn take_transactions(&mut self) -> Vec<Transaction> {
        self.busy
            .as_mut()
            .and_then(|b| b.det.recorder.as_mut())
            .map(|r| std::mem::take(r.as_mut()).into_transactions())
            .unwrap_or_default()
    }

    /// The flow's counters.
    pub fn stats(&self) -> FlowStats {
        match &self.busy {
            Some(b) => b.det.stats,
            None => self.parked.stats(),
        }
    }

    /// Heap bytes the flow holds (parser buffers and transaction states).
    ///
    /// Everything the flow owns is counted: the parser's buffers, the transaction states (and
    /// the HTTP fields and evidence each holds), the alerts not yet taken, and the recorder's
    /// transactions when the engine records them.
    pub fn heap_bytes(&self) -> usize {
        let Some(busy) = &self.busy else {
            return 0;
        };
        let det = &busy.det;
        let states: usize = det
            .live
            .iter()
            .chain(&det.spare)
            .map(TxState::heap_bytes)
            .sum();
        let alerts: usize = det
            .alerts
            .iter()
            .chain(&det.returned)
            .map(alert_heap_bytes)
            .sum();
        size_of::<Busy>()
            + det.arena.bytes.capacity()
            + busy.http.heap_bytes()
            + (det.live.capacity() + det.spare.capacity()) * size_of::<TxState>()
            + states
            + (det.alerts.capacity() + det.returned.capacity()) * size_of::<Alert>()
            + alerts
            + det.judged.capacity() * size_of::<TxId>()
            + det.recorder.as_ref().map_or(0, |r| r.heap_bytes())
    }

    fn sink<'a>(&'a mut self, engine: &'a Engine) -> FlowSink<'a> {
        let parked = &self.parked;
        let busy = self
            .busy
            .get_or_insert_with(|| Box::new(Busy::new(engine, parked)));
        FlowSink {
            http: &mut busy.http,
            sink: DetectionSink {
                engine,
                key: &self.key,
                destination: self.destination,
                det: &mut busy.det,
            },
        }
    }
}

struct FlowSink<'a> {
    http: &'a mut HttpStream,
    sink: DetectionSink<'a>,
}

impl<'a> FlowSink<'a> {
    fn split(&mut self) -> (&mut HttpStream, &mut DetectionSink<'a>) {
        (self.http, &mut self.sink)
    }
}

struct DetectionSink<'a> {
    engine: &'a Engine,
    key: &'a FlowKey,
    destination: Option<Endpoint>,
    det: &'a mut Detection,
}

impl Detection {
    fn closed_mut(&mut self, dir: Direction) -> &mut bool {
        let [to_server, to_client] = &mut self.closed;
        match dir {
            Direction::ToServer => to_server,
            Direction::ToClient => to_client,
        }
    }

    /// A piece of body. Body pieces are most events of a response and matter only to the
    /// credential scanner: they belong to a transaction whose head was seen, so there is
    /// nothing to start, only a live state to find (a request body matters to nothing).
    // Never inlined into `Flow::feed`'s fast path, whose point is to be small. The common
    // cases (a request body, the body of the oldest response) are decided here without a
    // stack frame; the rest is in `body_elsewhere`, whose search would make this function
    // save registers on every call (a caller feeding a byte at a time makes a call per byte).
    #[inline(never)]
    fn body(&mut self, dir: Direction, tx: TxId, data: &[u8]) {
        if self.recorder.is_none() {
            if dir != Direction::ToClient {
                return;
            }
            // Responses answer requests in order, so a response body nearly always belongs
            // to the oldest live transaction.
            if let Some(front) = self.live.front_mut().filter(|front| front.id == tx) {
                if !front.credentials.is_done() {
                    front.credentials.feed(data);
                }
                return;
            }
        }
        self.body_elsewhere(dir, tx, data);
    }

    /// [`Detection::body`] with the recorder on, or for a transaction other than the oldest.
    #[cold]
    #[inline(never)]
    fn body_elsewhere(&mut self, dir: Direction, tx: TxId, data: &[u8]) {
        if let Some(r) = self.recorder.as_mut() {
            record_body(r, dir, tx, data);
        }
        if dir != Direction::ToClient {
            return;
        }
        let st = self.live_index(tx).and_then(|i| self.live.get_mut(i));
        if let Some(st) = st.filter(|st| !st.credentials.is_done()) {
            st.credentials.feed(data);
        }
    }

    /// Where transaction `id` is in the live queue. Request events belong to the newest
    /// transaction, response events to the oldest: both ends are looked at before searching.
    fn live_index(&self, id: TxId) -> Option<usize> {
        let last = self.live.len().checked_sub(1)?;
        if self.live.back().is_some_and(|t| t.id == id) {
            return Some(last);
        }
        if self.live.front().is_some_and(|t| t.id == id) {
            return Some(0);
        }
        self.live.iter().position(|t| t.id == id)
    }

    /// The live state of transaction `id`, started if new. `Err(true)` when the transaction
    /// was already judged (ignore the event); `Err(false)` when starting it passed the live
    /// limit (judge the oldest, then ask again).
    fn tx(&mut self, id: TxId, limit: usize, max_live: usize) -> Result<usize, bool> {
        if let Some(i) = self.live_index(id) {
            return Ok(i);
        }
        if self.judged.contains(&id) {
            return Err(true);
        }
        let mut st = self.spare.pop().unwrap_or_else(|| TxState::new(limit));
        st.reset(id, limit);
        self.live.push_back(st);
        self.stats.transactions += 1;
        // Bounded like the parser's live transactions: the oldest gets its verdict early.
        if self.live.len() > max_live {
            return Err(false);
        }
        Ok(self.live.len() - 1)
    }

    /// Remembers that `id` was judged; a short memory is enough because events of one
    /// transaction never trail far behind.
    fn mark_judged(&mut self, id: TxId) {
        if self.judged.len() >= 16 {
            self.judged.pop_front();
        }
        self.judged.push_back(id);
    }

    fn verdict(&mut self, engine: &Engine, key: &FlowKey, dest: Option<Endpoint>, mut st: TxState) {
        self.mark_judged(st.id);
        if !st.request_done && st.has_request {
            st.provider = st.matcher.finish(dest);
        }
        let mut indicators = st.matcher.indicators | st.response;
        if let Some(d) = dest {
            indicators |= d.indicator;
        }
        if st.anomalies.intersects(Anomalies::SMUGGLING) {
            self.smuggling_seen = true;
        }
        if is_alert_worthy(indicators) {
            if self.smuggling_seen {
                indicators |= Indicators::FRAMING_ANOMALY;
            }
            let provider = st
                .provider
                .or(dest.map(|d| d.provider))
                .unwrap_or(Provider::Aws);
            // The buffers of an alert the caller gave back, when there is one: its
            // statements go to this transaction's pool, its HTTP vectors are refilled.
            let (mut evidence, mut http) = match self.returned.pop() {
                Some(mut old) => {
                    st.matcher.strings.give_all(&mut old.evidence);
                    (old.evidence, old.http.unwrap_or_default())
                }
                None => (Vec::with_capacity(8), HttpInfo::default()),
            };
            if let Some(d) = dest {
                st.matcher.strings.push_written(&mut evidence, |s| {
                    let _ = write!(
                        s,
                        "destination {} is the {} metadata endpoint",
                        key.dst_ip,
                        d.provider.as_str()
                    );
                });
            }
            // Moved, not copied: the transaction state is reset before its next use.
            evidence.append(&mut st.matcher.evidence);
            evidence.append(&mut st.response_evidence);
            if indicators.intersects(Indicators::RESPONDER) {
                if let Some(ttl) = self.responder.ttl.filter(|&t| t != 1) {
                    st.matcher.strings.push_written(&mut evidence, |s| {
                        let _ = write!(s, "responder TTL {ttl} (the real IMDS answers with 1)");
                    });
                }
            }
            if indicators.contains(Indicators::FRAMING_ANOMALY) {
                st.matcher.strings.push_written(&mut evidence, |s| {
                    s.push_str("smuggling-grade HTTP anomalies on this flow");
                });
            }
            self.arena.fill_http_info(&st.fields, &mut http);
            http.status = st.status;
            http.normalized_path = st.matcher.normalized_path.take();
            let alert = Alert {
                timestamp_us: self.now_us,
                key: *key,
                tx: Some(st.id),
                signature: signature(indicators, true),
                indicators,
                stage: stage(indicators, true),
                provider,
                decision: engine.decide(key, indicators, provider),
                http: Some(http),
                responder: self.responder,
                evidence,
                anomalies: st.anomalies,
            };
            self.push(engine, alert);
            self.http_alert_raised = true;
        }
        self.spare.push(st);
        if self.live.is_empty() {
            self.arena.bytes.clear();
        }
    }

    fn address_alert(&mut self, engine: &Engine, key: &FlowKey, dest: Endpoint) {
        let indicators = dest.indicator;
        let alert = Alert {
            timestamp_us: self.now_us,
            key: *key,
            tx: None,
            signature: signature(indicators, false),
            indicators,
            stage: stage(indicators, false),
            provider: dest.provider,
            decision: engine.decide(key, indicators, dest.provider),
            http: None,
            responder: self.responder,
            evidence: vec![format!(
                "destination {} is the {} metadata endpoint; no metadata HTTP seen",
                key.dst_ip,
                dest.provider.as_str()
            )],
            anomalies: Anomalies::empty(),
        };
        self.push(engine, alert);
    }

    /// Keeps an alert the caller is done with, for the next alert to be built in its
    /// buffers. Two are enough: a sensor takes the alerts of a call before the next one, and
    /// a call rarely gives more than one verdict.
    fn give_back(&mut self, alert: Alert) {
        if self.returned.len() < 2 {
            self.returned.push(alert);
        }
    }

    fn push(&mut self, engine: &Engine, alert: Alert) {
        self.stats.alerts += 1;
        if alert.is_suppressed() {
            self.stats.suppressed += 1;
        }
        while self.alerts.len() >= engine.config().max_pending_alerts.max(1) {
            self.alerts.pop_front();
            self.stats.alerts_dropped += 1;
        }
        self.alerts.push_back(alert);
    }
}

impl EventSink for DetectionSink<'_> {
    /// The fields detection reads: request fields the matcher may watch, Host and
    /// User-Agent (copied into alerts), and a response's Server. Everything when the
    /// transaction recorder is on, since it keeps every event.
    #[inline]
    fn wants_header(&self, dir: Direction, name: &[u8]) -> bool {
        self.det.recorder.is_some()
            || match dir {
                // Host is among the names the matcher watches.
                Direction::ToServer => {
                    RequestMatcher::may_watch(name) || name.eq_ignore_ascii_case(b"user-agent")
                }
                Direction::ToClient => name.eq_ignore_ascii_case(b"server"),
            }
    }

    fn on_event(&mut self, event: &Event<'_>) {
        if let Event::Body { dir, tx, data } = *event {
            return self.det.body(dir, tx, data);
        }
        if let Some(r) = self.det.recorder.as_mut() {
            r.on_event(event);
        }
        if !event.has_tx() {
            self.det.stats.stream_anomalies += 1;
            return;
        }
        let cfg = self.engine.config();
        let cap = cfg.max_alert_field;
        let limit = cfg.body_inspect_limit;
        let max_live = cfg.limits.max_live_transactions;
        let i = match self.det.tx(event.tx(), limit, max_live) {
            Ok(i) => i,
            Err(true) => return,
            Err(false) => {
                if let Some(oldest) = self.det.live.pop_front() {
                    self.det
                        .verdict(self.engine, self.key, self.destination, oldest);
                }
                return self.on_event(event);
            }
        };
        let det = &mut *self.det;
        let Some(st) = det.live.get_mut(i) else {
            return;
        };
        match *event {
            Event::RequestLine { line, .. } => {
                st.has_request = true;
                st.matcher.on_request_line(&line);
                let arena = &mut det.arena;
                arena.set(&mut st.fields, Field::Method, line.method, cap);
                arena.set(&mut st.fields, Field::Url, line.target, cap);
                arena.set(&mut st.fields, Field::Protocol, line.protocol, cap);
                if line.form != crate::http::TargetForm::Origin {
                    // A proxy or CONNECT request names its host in the target.
                    if let Some(a) = target_authority(line.target) {
                        arena.set(&mut st.fields, Field::Hostname, a, cap);
                    }
                }
                if arena.bytes.len() > FieldArena::COMPACT_AT {
                    arena.compact(det.live.iter_mut());
                }
            }
            Event::Header {
                dir: Direction::ToServer,
                section: Section::Head,
                header,
                ..
            } => {
                st.matcher.on_header(&header);
                if header.is(b"host") && !st.host_copied {
                    st.host_copied = true;
                    det.arena
                        .set(&mut st.fields, Field::Hostname, header.value, cap);
                } else if header.is(b"user-agent") {
                    det.arena
                        .set(&mut st.fields, Field::UserAgent, header.value, cap);
                }
            }
            Event::StatusLine { line, .. } if !line.is_interim() => {
                st.status = Some(line.code);
            }
            Event::Header {
                dir: Direction::ToClient,
                section: Section::Head,
                header,
                ..
            } if header.is(b"server") && is_imds_server(header.value) => {
                st.response |= Indicators::RESP_IMDS_SERVER;
                st.note_response("response header Server: EC2ws");
            }
            Event::MessageComplete {
                dir: Direction::ToServer,
                anomalies,
                ..
            } => {
                st.anomalies |= anomalies;
                if !anomalies.is_empty() {
                    det.stats.anomalous_messages += 1;
                }
                if anomalies.intersects(Anomalies::SMUGGLING) {
                    det.smuggling_seen = true;
                }
                if !st.request_done {
                    st.request_done = true;
                    st.provider = st.matcher.finish(self.destination);
                }
                if st.response_done {
                    if let Some(st) = det.live.remove(i) {
                        det.verdict(self.engine, self.key, self.destination, st);
                    }
                }
            }
            Event::MessageComplete {
                dir: Direction::ToClient,
                anomalies,
                ..
            } => {
                st.anomalies |= anomalies;
                if !anomalies.is_empty() {
                    det.stats.anomalous_messages += 1;
                }
                if st.status == Some(200) && st.matcher.token_request {
                    st.response |= Indicators::RESP_TOKEN_GRANTED;
                    st.note_response("token request answered 200: a token was granted");
                }
                if st.credentials.found() {
                    st.response |= Indicators::RESP_CREDENTIALS;
                    st.note_response(
                        "response body is a credential document (AccessKeyId, SecretAccessKey, Token)",
                    );
                }
                st.response_done = true;
                // The verdict waits for the request when it is still arriving (an early
                // answer): its remaining headers may add evidence.
                if st.request_done || !st.has_request {
                    if let Some(st) = det.live.remove(i) {
                        det.verdict(self.engine, self.key, self.destination, st);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The authority of an absolute-form or CONNECT target, for the alert's `hostname`.
fn target_authority(target: &[u8]) -> Option<&[u8]> {
    match split_target(target) {
        RequestTarget::Absolute { authority, .. } => Some(authority),
        RequestTarget::Authority(a) => Some(a),
        _ => None,
    }
}

/// Records a body piece for the transaction log. Out of line and cold: most engines record
/// nothing, and the body fast path (one call per piece) should not carry its registers.
#[cold]
#[inline(never)]
fn record_body(recorder: &mut Collector, dir: Direction, tx: TxId, data: &[u8]) {
    recorder.on_event(&Event::Body { tx, dir, data });
}
