//! A driver for what criterion cannot give: instruction counts under callgrind, round-robin
//! timing, corpus statistics and per-flow memory. `scripts/bench-report` runs it;
//! `harness = false`, and with no known mode (as under `cargo bench` or `cargo test`) it
//! does nothing.
//!
//! ```text
//! ir_driver stats                                  corpus statistics, one JSON line each
//! ir_driver ir <peer> <corpus> <chunk> <passes>    one warm pass, then `passes` passes
//!                                                  inside `measured` (callgrind:
//!                                                  --toggle-collect='*ir_driver*measured*')
//! ir_driver ir-tracker <kind> <passes>             packets of one kind (common::FRAME_KINDS)
//!                                                  through a tracker, the same way
//! ir_driver mem                                    sizes and heap of flows, JSON
//! ir_driver adv <pattern> <bytes> <chunk>          adversarial load: one stream of about
//!                                                  `bytes` (`262144`, `256KiB`, `1MiB`)
//!                                                  of `pattern` (folds, empty-lines,
//!                                                  chunk-ext, tiny-headers, tiny-requests;
//!                                                  `common/adversarial.rs`) fed to one
//!                                                  `engine::Flow` in `chunk`-byte calls
//!                                                  inside `measured_adv` (callgrind as
//!                                                  `ir`), closed in `measured_adv_close`;
//!                                                  then one JSON line of facts
//! ir_driver rr <rounds> [corpus...]                round-robin timing: every peer and
//!                                                  chunking of a corpus once per round,
//!                                                  2 warm-up rounds; then the tracker's
//!                                                  frame kinds (`tracker`: the steady
//!                                                  passes, `tracker-first-pass`: the
//!                                                  cold one) and 1 and 2 threads
//!                                                  (`threads`); last, libhtp in rounds
//!                                                  of its own beside an imdsguard-flow
//!                                                  anchor (see `rr`); JSON lines
//! ```
//! Round-robin is the anchors' method (`shared/research/perf-anchors.md`): a slow phase of
//! the shared machine falls on every configuration of a round alike, so the medians' ratios
//! hold better than those of criterion's one-after-the-other runs.
//! `<peer>`: imdsguard-flow, imdsguard-stream, httparse, libhtp (feature `libhtp`), regex,
//! lines and lines-by-block (request corpora), memmem, memcpy. `<corpus>`: browser, imds,
//! mixed, responses. `<chunk>`: whole or a size.
//!
//! `adv` uses a metadata flow key (10.1.2.3:40000 → 169.254.169.254:80), so that detection
//! judges every transaction and every request alerts: the attacker's worst case. Alerts are
//! drained after every call, as a sensor does, inside the measured region; the JSON line
//! gives the flow's `stats()`, the alerts (count, signature ids, indicators, anomalies), the
//! heap before and after close, and what a separate `HttpStream` reports for the same bytes
//! fed whole (outside the measured region): requests, headers, body bytes, anomalies.
//! `scripts/adversarial-report` runs it.
//!
//! The binary's global allocator counts only in `mem` (one relaxed load of a flag per call
//! otherwise: no shared counter for two threads to fight over).

#[path = "common/adversarial.rs"]
mod adversarial;
mod common;

use common::peers::{self, Peer, Tally};
use common::{FlowCorpus, Side};
use imdsguard::engine::{Engine, Flow};
use imdsguard::event::{Alert, HttpInfo};
use imdsguard::flow::{Direction, HttpStream, NullSink, MAX_CARRY_OVER, MAX_LIVE_TRANSACTIONS};
use imdsguard::http::Anomalies;
use imdsguard::imds::request::RequestMatcher;
use imdsguard::imds::response::CredentialScanner;
use imdsguard::imds::Indicators;
use imdsguard::key::FlowKey;
use imdsguard::packet::reassembly::HalfStream;
use imdsguard::packet::tracker::fixed_flow_bytes;
use imdsguard::packet::{decode, FlowAction, LinkType, Tracker};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting (when `COUNTING` is set).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            LIVE_BYTES.fetch_add(l.size(), Relaxed);
        }
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if COUNTING.load(Relaxed) {
            LIVE_BYTES.fetch_sub(l.size(), Relaxed);
        }
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            LIVE_BYTES.fetch_add(new, Relaxed);
            LIVE_BYTES.fetch_sub(l.size(), Relaxed);
        }
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The region callgrind counts (`--toggle-collect`): `passes` runs over the corpus. For
/// response corpora the requests are fed before, outside it.
#[inline(never)]
fn measured<P: Peer>(
    p: &P,
    corpus: &FlowCorpus,
    chunk: usize,
    conns: Option<&mut [P::Conn]>,
) -> Tally {
    match conns {
        None => peers::run_requests(p, corpus, chunk),
        Some(conns) => peers::run_responses(p, corpus, conns, chunk),
    }
}

fn ir<P: Peer>(p: &P, corpus: &FlowCorpus, chunk: usize, passes: usize) {
    let t = peers::run_corpus(p, corpus, chunk);
    peers::check(p.name(), corpus, chunk, &t);
    for _ in 0..passes {
        let t = match corpus.side {
            Side::Requests => measured(p, black_box(corpus), chunk, None),
            Side::Responses => {
                let mut conns = peers::prepare_responses(p, corpus);
                measured(p, black_box(corpus), chunk, Some(&mut conns))
            }
        };
        black_box(t);
    }
    println!(
        "{{\"peer\":\"{}\",\"corpus\":\"{}\",\"chunk\":{},\"passes\":{passes},\"messages\":{},\"bytes\":{}}}",
        p.name(),
        corpus.name,
        chunk,
        corpus.messages(),
        corpus.bytes()
    );
}

/// The region callgrind counts for the tracker: one pass over the frames.
#[inline(never)]
fn measured_tracker(
    tracker: &mut Tracker,
    engine: &Engine,
    frames: &[Vec<u8>],
    ts: &mut u64,
) -> usize {
    let mut untracked = 0;
    for f in frames {
        let out = tracker.packet(engine, f, LinkType::Ethernet, *ts);
        untracked += usize::from(out.action == FlowAction::Untracked);
        *ts += 1;
    }
    untracked
}

fn ir_tracker(kind: &str, passes: usize) {
    const FRAMES: usize = 1024;
    let engine = Engine::default();
    let (mut tracker, mut ts) = common::populated_tracker(&engine);
    let mut frames = common::frames(kind, FRAMES);
    let record = frames[0].len().saturating_sub(14 + 20 + 20); // TLS: the TCP payload
                                                               // As in the `flow` bench: TLS records continue each connection's sequence.
    let pass = |frames: &mut [Vec<u8>], p: u32| {
        if kind == "tcp-tls" {
            for (i, f) in frames.iter_mut().enumerate() {
                let round = p * (FRAMES / 64) as u32 + (i / 64) as u32;
                let seq = 1000u32.wrapping_add(round.wrapping_mul(record as u32));
                f[14 + 20 + 4..14 + 20 + 8].copy_from_slice(&seq.to_be_bytes());
            }
        }
    };
    pass(&mut frames, 0);
    black_box(warm_tracker(&mut tracker, &engine, &frames, &mut ts));
    for p in 1..=passes {
        pass(&mut frames, p as u32);
        black_box(measured_tracker(&mut tracker, &engine, &frames, &mut ts));
    }
    println!("{{\"kind\":\"{kind}\",\"frames\":{FRAMES},\"passes\":{passes}}}");
}

/// The warm-up pass (not counted: its name does not match the toggle).
#[inline(never)]
fn warm_tracker(tracker: &mut Tracker, engine: &Engine, frames: &[Vec<u8>], ts: &mut u64) -> usize {
    let mut n = 0;
    for f in frames {
        n += usize::from(
            tracker
                .packet(engine, f, LinkType::Ethernet, *ts)
                .error
                .is_some(),
        );
        *ts += 1;
    }
    n
}

fn stats() {
    for c in common::flow_corpora(common::FLOW_CORPUS_REQUESTS) {
        let sizes: Vec<usize> = c.flows.iter().map(|f| c.side_of(f).len()).collect();
        println!(
            "{{\"corpus\":\"{}\",\"flows\":{},\"messages\":{},\"imds_messages\":{},\"bytes\":{},\"max_flow_side\":{}}}",
            c.name,
            c.flows.len(),
            c.messages(),
            c.imds_messages(),
            c.bytes(),
            sizes.iter().max().copied().unwrap_or(0)
        );
    }
}

/// Live heap bytes allocated by `f` and kept in what it returns.
fn live_delta<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE_BYTES.load(Relaxed);
    let t = f();
    (t, LIVE_BYTES.load(Relaxed).saturating_sub(before))
}

fn mem() {
    COUNTING.store(true, Relaxed);
    let engine = Engine::default();
    let browser = common::browser_flows(32);
    let f0 = &browser.flows[0];
    let mut out = Vec::<(String, String)>::new();
    let mut put = |k: &str, v: usize| out.push((k.to_string(), v.to_string()));
    put("size_of_flow", size_of::<Flow>());
    put("size_of_http_stream", size_of::<HttpStream>());
    put("tracker_fixed_flow_bytes", fixed_flow_bytes());
    put("size_of_flow_key", size_of::<FlowKey>());
    put("size_of_limits", size_of::<imdsguard::flow::Limits>());
    put("size_of_half_stream_reassembly", size_of::<HalfStream>());
    put("size_of_request_matcher", size_of::<RequestMatcher>());
    put("size_of_credential_scanner", size_of::<CredentialScanner>());
    put("size_of_http_info", size_of::<HttpInfo>());
    put("size_of_alert", size_of::<Alert>());

    // Global tables initialised on first use (address and name tables) are not per flow:
    // one flow through first.
    {
        let mut flow = Flow::new(&engine, f0.key);
        flow.feed(&engine, Direction::ToServer, &f0.to_server);
        flow.feed(&engine, Direction::ToClient, &f0.to_client);
        flow.close(&engine);
        flow.drain_alerts().for_each(drop);
    }

    // A new flow, as a tracker creates it on a SYN.
    let (flow, live) = live_delta(|| Flow::new(&engine, f0.key));
    put("idle_new_heap_bytes", flow.heap_bytes());
    put("idle_new_live_bytes", live);
    drop(flow);

    // A keep-alive flow idle after one request and its response (fed whole).
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    for f in &browser.flows {
        requests.extend_from_slice(&f.to_server);
        responses.extend_from_slice(&f.to_client);
    }
    let first_req_len = first_message_len(&requests);
    let (flow, live) = live_delta(|| {
        let mut flow = Flow::new(&engine, f0.key);
        flow.feed(&engine, Direction::ToServer, &requests[..first_req_len]);
        let resp = &f0.to_client;
        let first_resp_len = first_message_len(resp);
        flow.feed(&engine, Direction::ToClient, &resp[..first_resp_len]);
        flow
    });
    put("idle_after_tx_heap_bytes", flow.heap_bytes());
    put("idle_after_tx_live_bytes", live);
    drop(flow);

    // The same flow once it went quiet and was compacted (`Flow::compact`; a tracker does it
    // a second after the flow's last packet): what an idle flow costs.
    let (flow, live) = live_delta(|| {
        let mut flow = Flow::new(&engine, f0.key);
        flow.feed(&engine, Direction::ToServer, &requests[..first_req_len]);
        let resp = &f0.to_client;
        flow.feed(
            &engine,
            Direction::ToClient,
            &resp[..first_message_len(resp)],
        );
        flow.drain_alerts().for_each(drop);
        assert!(flow.compact(), "the flow is between messages");
        flow
    });
    put("idle_compacted_heap_bytes", flow.heap_bytes());
    put("idle_compacted_live_bytes", live);
    drop(flow);

    // The same in 64-byte chunks (a split element leaves a carry-over buffer behind).
    let (flow, live) = live_delta(|| {
        let mut flow = Flow::new(&engine, f0.key);
        for piece in requests[..first_req_len].chunks(64) {
            flow.feed(&engine, Direction::ToServer, piece);
        }
        let resp = &f0.to_client;
        for piece in resp[..first_message_len(resp)].chunks(64) {
            flow.feed(&engine, Direction::ToClient, piece);
        }
        flow
    });
    put("idle_after_tx64_heap_bytes", flow.heap_bytes());
    put("idle_after_tx64_live_bytes", live);
    drop(flow);

    // Steady state of a long keep-alive flow: every request and response of the corpus.
    let (flow, live) = live_delta(|| {
        let mut flow = Flow::new(&engine, f0.key);
        for f in &browser.flows {
            for piece in f.to_server.chunks(64) {
                flow.feed(&engine, Direction::ToServer, piece);
            }
            for piece in f.to_client.chunks(64) {
                flow.feed(&engine, Direction::ToClient, piece);
            }
        }
        flow
    });
    put("keepalive_heap_bytes", flow.heap_bytes());
    put("keepalive_live_bytes", live);
    drop(flow);

    // Worst case within the limits: the most live transactions (requests pipelined without
    // answers) and a line that stops just short of the line limit in each direction.
    let (flow, live) = live_delta(|| {
        let mut flow = Flow::new(&engine, f0.key);
        let mut pos = 0;
        for _ in 0..MAX_LIVE_TRANSACTIONS {
            if pos == requests.len() {
                pos = 0;
            }
            let len = first_message_len(&requests[pos..]);
            flow.feed(&engine, Direction::ToServer, &requests[pos..pos + len]);
            pos += len;
        }
        let long = MAX_CARRY_OVER - 100;
        let mut line = b"GET /".to_vec();
        line.resize(long, b'a');
        for piece in line.chunks(1460) {
            flow.feed(&engine, Direction::ToServer, piece);
        }
        let mut head = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
        head.resize(long, b'b');
        for piece in head.chunks(1460) {
            flow.feed(&engine, Direction::ToClient, piece);
        }
        flow
    });
    put("worst_heap_bytes", flow.heap_bytes());
    put("worst_live_bytes", live);
    put("worst_live_transactions", MAX_LIVE_TRANSACTIONS);
    put("worst_carry_over_per_direction", MAX_CARRY_OVER);
    drop(flow);

    // The parser alone, for comparison.
    let (s, live) = live_delta(|| {
        let mut s = HttpStream::new();
        s.feed(Direction::ToServer, &requests, &mut NullSink);
        s
    });
    put("stream_after_requests_heap_bytes", s.heap_bytes());
    put("stream_after_requests_live_bytes", live);
    let body = out
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect::<Vec<_>>()
        .join(",");
    println!("{{{body}}}");
}

/// The length of the first message of `data` (head, then `Content-Length` body, chunked
/// body, or none), found with httparse's framing.
fn first_message_len(data: &[u8]) -> usize {
    let head = memchr::memmem::find(data, b"\r\n\r\n").expect("a head") + 4;
    let h = &data[..head];
    if let Some(p) = memchr::memmem::find(h, b"Content-Length: ") {
        let v = &h[p + 16..];
        let end = memchr::memchr(b'\r', v).expect("CRLF");
        let n: usize = std::str::from_utf8(&v[..end])
            .expect("digits")
            .parse()
            .expect("a length");
        return head + n;
    }
    if memchr::memmem::find(h, b"Transfer-Encoding: chunked").is_some() {
        return head
            + memchr::memmem::find(&data[head..], b"\r\n0\r\n\r\n").expect("a last chunk")
            + 7;
    }
    head
}

/// One timed configuration of the round-robin: runs once, returns the time of the timed part.
type Timed<'a> = Box<dyn FnMut() -> Duration + 'a>;

fn timed<'a, P: Peer>(p: &'a P, c: &'a FlowCorpus, chunk: usize) -> Timed<'a> {
    match c.side {
        Side::Requests => Box::new(move || {
            let t = Instant::now();
            black_box(peers::run_requests(p, black_box(c), chunk));
            t.elapsed()
        }),
        Side::Responses => Box::new(move || {
            let mut conns = peers::prepare_responses(p, c);
            let t = Instant::now();
            black_box(peers::run_responses(p, black_box(c), &mut conns, chunk));
            let e = t.elapsed();
            drop(conns);
            e
        }),
    }
}

fn report(corpus: &str, peer: &str, chunk: &str, per: usize, times: &mut [Duration]) {
    times.sort();
    let ns = |d: Duration| d.as_nanos() as f64;
    println!(
        "{{\"corpus\":\"{corpus}\",\"peer\":\"{peer}\",\"chunk\":\"{chunk}\",\"per\":{per},\"rounds\":{},\"median\":{},\"min\":{},\"max\":{}}}",
        times.len(),
        ns(times[times.len() / 2]),
        ns(times[0]),
        ns(times[times.len() - 1])
    );
}

/// Runs `configs` round-robin: each once per round, in order, `rounds` rounds after two
/// warm-up rounds; then prints each one's figures.
fn round_robin(corpus: &FlowCorpus, configs: &mut [(&str, &str, Timed<'_>)], rounds: usize) {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); configs.len()];
    for round in 0..rounds + 2 {
        for (i, (_, _, run)) in configs.iter_mut().enumerate() {
            let d = run();
            if round >= 2 {
                times[i].push(d);
            }
        }
    }
    for ((peer, chunk, _), t) in configs.iter().zip(times.iter_mut()) {
        report(corpus.name, peer, chunk, corpus.messages(), t);
    }
}

/// Round-robin over every configuration of each corpus but libhtp's, then the tracker, then 1
/// and 2 threads, and last libhtp in rounds of its own (with `feature = "libhtp"`).
///
/// libhtp runs last, apart, because it leaves the process slower for the others' chunked
/// configurations. With its four configurations in each round (in a fixed or a shuffled
/// order alike), responses fed to imdsguard-flow in 1460-byte pieces took 1.12-1.17x their
/// whole time; with them left out, 1.00x, on the same binary (Ir: 1.03x). httparse's
/// chunked times rose the same way; no peer's whole time did. The cause is not pinned down:
/// perf shows glibc's `malloc_consolidate` as the process's top symbol when libhtp runs
/// (called from the untimed preparation of the response corpus), and glibc's trim and
/// top-pad tunables, or a carry-over buffer allocated before the timed part, changed nothing.
/// libhtp's rounds carry an imdsguard-flow anchor (`imdsguard-flow-beside-libhtp`, whole
/// buffers), so that the ratio between the two still comes from one round-robin.
fn rr(rounds: usize, only: &[&str]) {
    const CHUNKS: [(usize, &str); 4] =
        [(usize::MAX, "whole"), (1460, "1460"), (64, "64"), (1, "1")];
    let imdsguard = peers::Imdsguard::default();
    #[cfg(feature = "libhtp")]
    let libhtp = peers::Libhtp::default();
    let (regex, memmem, memcpy) = (
        peers::Regex::default(),
        peers::Memmem::default(),
        peers::Memcpy::default(),
    );
    let wanted = |name: &str| only.is_empty() || only.contains(&name);
    for c in common::flow_corpora(common::FLOW_CORPUS_REQUESTS) {
        if !wanted(c.name) {
            continue;
        }
        let mut configs: Vec<(&str, &str, Timed<'_>)> = Vec::new();
        for &(chunk, label) in &CHUNKS {
            configs.push(("imdsguard-flow", label, timed(&imdsguard, &c, chunk)));
            configs.push(("imdsguard-stream", label, timed(&peers::Stream, &c, chunk)));
            configs.push(("httparse", label, timed(&peers::Httparse, &c, chunk)));
        }
        configs.push(("regex", "whole", timed(&regex, &c, usize::MAX)));
        if c.side == Side::Requests {
            configs.push(("lines", "whole", timed(&peers::Lines, &c, usize::MAX)));
            configs.push((
                "lines-by-block",
                "whole",
                timed(&peers::LinesByBlock, &c, usize::MAX),
            ));
        }
        configs.push(("memmem", "whole", timed(&memmem, &c, usize::MAX)));
        configs.push(("memcpy", "whole", timed(&memcpy, &c, usize::MAX)));
        round_robin(&c, &mut configs, rounds);
    }
    if wanted("tracker") {
        // As the `tracker` group of `benches/flow.rs`: 1,024 frames of a kind per pass, into
        // a table holding `BACKGROUND_FLOWS` other flows. Each run times its first pass on
        // its own: the round's other configurations (the corpora, the other kinds' tables)
        // have just evicted this one's table, frames and branch history from the caches, so
        // that pass is the cold cost. The `TRACKER_PASSES` after it are the steady state a
        // sensor's warm table sees, which is what criterion measures. Folding the cold pass
        // into the steady ones, as this did before, gave a figure that depended on how many
        // passes it was spread over.
        const FRAMES: usize = 1024;
        const TRACKER_PASSES: usize = 16;
        /// One run: (first pass, the steady passes after it).
        type TrackerRun<'a> = Box<dyn FnMut() -> (Duration, Duration) + 'a>;
        let engine = Engine::default();
        let mut runs: Vec<(&str, TrackerRun<'_>)> = Vec::new();
        for &kind in common::FRAME_KINDS {
            let mut frames = common::frames(kind, FRAMES);
            let (mut tracker, mut ts) = common::populated_tracker(&engine);
            let record = frames[0].len().saturating_sub(14 + 20 + 20);
            let mut pass: u32 = 0;
            let engine = &engine;
            runs.push((
                kind,
                Box::new(move || {
                    let (mut first, mut steady) = (Duration::ZERO, Duration::ZERO);
                    for p in 0..=TRACKER_PASSES {
                        if kind == "tcp-tls" {
                            for (i, f) in frames.iter_mut().enumerate() {
                                let round = pass * (FRAMES / 64) as u32 + (i / 64) as u32;
                                let seq = 1000u32.wrapping_add(round.wrapping_mul(record as u32));
                                f[14 + 20 + 4..14 + 20 + 8].copy_from_slice(&seq.to_be_bytes());
                            }
                        }
                        pass += 1;
                        let t = Instant::now();
                        for f in &frames {
                            black_box(tracker.packet(engine, f, LinkType::Ethernet, ts));
                            ts += 1;
                        }
                        *(if p == 0 { &mut first } else { &mut steady }) += t.elapsed();
                    }
                    (first, steady)
                }),
            ));
        }
        let frames = common::frames("udp-dns", FRAMES);
        runs.push((
            "decode-udp-dns",
            Box::new(move || {
                let (mut first, mut steady) = (Duration::ZERO, Duration::ZERO);
                for p in 0..=TRACKER_PASSES {
                    let t = Instant::now();
                    for f in &frames {
                        let _ = black_box(decode(black_box(f), LinkType::Ethernet));
                    }
                    *(if p == 0 { &mut first } else { &mut steady }) += t.elapsed();
                }
                (first, steady)
            }),
        ));
        let mut firsts = vec![Vec::new(); runs.len()];
        let mut steadies = vec![Vec::new(); runs.len()];
        for round in 0..rounds + 2 {
            for (i, (_, run)) in runs.iter_mut().enumerate() {
                let (first, steady) = run();
                if round >= 2 {
                    firsts[i].push(first);
                    steadies[i].push(steady);
                }
            }
        }
        for (((kind, _), first), steady) in runs.iter().zip(&mut firsts).zip(&mut steadies) {
            report("tracker", kind, "-", FRAMES * TRACKER_PASSES, steady);
            report("tracker-first-pass", kind, "-", FRAMES, first);
        }
    }
    if wanted("threads") {
        // As the `threads` group of `benches/flow.rs`: each thread runs the browser corpus 4
        // times; imdsguard's threads share one engine, httparse (the control) nothing.
        let c = common::browser_flows(common::FLOW_CORPUS_REQUESTS);
        // Beside the wall time, what the threads themselves saw: their CPU time (summed) and
        // how often the kernel took the CPU from them, and the machine's steal time (the
        // hypervisor running someone else on our vCPUs). Two threads that each use as much CPU
        // as one thread alone, but take longer, were not running at the same time; two that
        // each use more CPU contended for something (caches, memory, a shared core).
        #[derive(Clone, Copy, Default)]
        struct Seen {
            wall: Duration,
            cpu: Duration,
            preempted: u64,
            steal_ticks: u64,
        }
        fn thread_cpu() -> (Duration, u64) {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: plain out-parameters of the right types.
            let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
            unsafe {
                libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
                libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
            }
            (
                Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                ru.ru_nivcsw as u64,
            )
        }
        fn steal_ticks() -> u64 {
            // /proc/stat "cpu  user nice system idle iowait irq softirq steal ...".
            std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|s| {
                    let line = s.lines().next()?.to_owned();
                    line.split_whitespace().nth(8)?.parse().ok()
                })
                .unwrap_or(0)
        }
        fn threaded<P: Peer + Sync>(p: &P, c: &FlowCorpus, threads: usize) -> Seen {
            let steal = steal_ticks();
            let t = Instant::now();
            let per_thread: Vec<(Duration, u64)> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|_| {
                        s.spawn(|| {
                            let (cpu0, pre0) = thread_cpu();
                            for _ in 0..4 {
                                black_box(peers::run_requests(p, c, usize::MAX));
                            }
                            let (cpu1, pre1) = thread_cpu();
                            (cpu1 - cpu0, pre1 - pre0)
                        })
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().expect("a bench thread"))
                    .collect()
            });
            Seen {
                wall: t.elapsed(),
                cpu: per_thread.iter().map(|x| x.0).sum::<Duration>() / threads as u32,
                preempted: per_thread.iter().map(|x| x.1).sum(),
                steal_ticks: steal_ticks().saturating_sub(steal),
            }
        }
        let mut times = vec![Vec::new(); 4];
        let mut cpu = vec![Vec::new(); 4];
        let mut preempted = [0u64; 4];
        let mut steal = [0u64; 4];
        for round in 0..rounds + 2 {
            let d = [
                threaded(&imdsguard, &c, 1),
                threaded(&imdsguard, &c, 2),
                threaded(&peers::Httparse, &c, 1),
                threaded(&peers::Httparse, &c, 2),
            ];
            if round >= 2 {
                for (i, seen) in d.iter().enumerate() {
                    times[i].push(seen.wall);
                    cpu[i].push(seen.cpu);
                    preempted[i] += seen.preempted;
                    steal[i] += seen.steal_ticks;
                }
            }
        }
        let names = [
            ("engine-shared", "1"),
            ("engine-shared", "2"),
            ("httparse-control", "1"),
            ("httparse-control", "2"),
        ];
        for ((peer, n), t) in names.iter().zip(times.iter_mut()) {
            report("threads", peer, n, 1, t);
        }
        // CPU time per thread (the mean of the threads of a run), then the totals of involuntary
        // context switches and of steal ticks (1/100 s) over the measured rounds.
        for (i, ((peer, n), t)) in names.iter().zip(cpu.iter_mut()).enumerate() {
            report("threads-cpu", peer, n, 1, t);
            println!(
                "{{\"corpus\":\"threads-sched\",\"peer\":\"{peer}\",\"chunk\":\"{n}\",\"preempted\":{},\"steal_ticks\":{}}}",
                preempted[i], steal[i]
            );
        }
    }
    #[cfg(feature = "libhtp")]
    for c in common::flow_corpora(common::FLOW_CORPUS_REQUESTS) {
        if !wanted(c.name) {
            continue;
        }
        let mut configs: Vec<(&str, &str, Timed<'_>)> = vec![(
            "imdsguard-flow-beside-libhtp",
            "whole",
            timed(&imdsguard, &c, usize::MAX),
        )];
        for &(chunk, label) in &CHUNKS {
            configs.push(("libhtp", label, timed(&libhtp, &c, chunk)));
        }
        round_robin(&c, &mut configs, rounds);
    }
}

/// What the `adv` mode keeps of the alerts it drains.
#[derive(Default)]
struct AlertTally {
    count: u64,
    /// (signature id, alerts), in order of first appearance.
    signatures: Vec<(u32, u64)>,
    indicators: Indicators,
    anomalies: Anomalies,
}

impl AlertTally {
    fn take(&mut self, flow: &mut Flow) {
        for a in flow.drain_alerts() {
            self.count += 1;
            self.indicators |= a.indicators;
            self.anomalies |= a.anomalies;
            match self
                .signatures
                .iter_mut()
                .find(|(id, _)| *id == a.signature.id)
            {
                Some((_, n)) => *n += 1,
                None => self.signatures.push((a.signature.id, 1)),
            }
        }
    }
}

/// The region callgrind counts for `adv`: the stream fed in `chunk`-byte calls, the alerts
/// drained after each. Returns the number of calls.
#[inline(never)]
fn measured_adv(
    engine: &Engine,
    flow: &mut Flow,
    data: &[u8],
    chunk: usize,
    tally: &mut AlertTally,
) -> usize {
    let mut calls = 0;
    for piece in data.chunks(chunk) {
        flow.feed(engine, Direction::ToServer, piece);
        if flow.pending_alerts() > 0 {
            tally.take(flow);
        }
        calls += 1;
    }
    calls
}

/// Also counted: the close, which gives the pending verdicts.
#[inline(never)]
fn measured_adv_close(engine: &Engine, flow: &mut Flow, tally: &mut AlertTally) {
    flow.close(engine);
    tally.take(flow);
}

fn adv(pattern: &str, bytes: &str, chunk: &str) {
    let requested = adversarial::parse_size(bytes).expect("a size: 262144, 256KiB or 1MiB");
    let Some(data) = adversarial::stream(pattern, requested) else {
        eprintln!(
            "unknown pattern {pattern} (one of {})",
            adversarial::PATTERNS.join(", ")
        );
        std::process::exit(2);
    };
    let chunk_len = parse_chunk(chunk);
    let engine = Engine::default();
    let key = adversarial::metadata_key();
    // Global tables initialised on first use are not the pattern's cost: one request first.
    {
        let mut warm = Flow::new(&engine, key);
        warm.feed(&engine, Direction::ToServer, adversarial::HIDDEN);
        warm.close(&engine);
        warm.drain_alerts().for_each(drop);
    }
    let mut flow = Flow::new(&engine, key);
    let mut tally = AlertTally::default();
    let calls = measured_adv(&engine, &mut flow, black_box(&data), chunk_len, &mut tally);
    let heap_before_close = flow.heap_bytes();
    let stats_before_close = flow.stats();
    measured_adv_close(&engine, &mut flow, &mut tally);
    let heap_after_close = flow.heap_bytes();
    let st = flow.stats();
    let parsed = adversarial::parse_facts(&data);
    let names = |a: Anomalies| a.names().collect::<Vec<_>>();
    // Every counter of `FlowStats`, read from its `Debug` form so that counters added later
    // show up without a change here.
    let stats: serde_json::Map<String, serde_json::Value> = format!("{st:?}")
        .split_once('{')
        .and_then(|(_, rest)| rest.rsplit_once('}'))
        .map(|(fields, _)| fields)
        .unwrap_or_default()
        .split(',')
        .filter_map(|f| f.split_once(':'))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .parse::<u64>()
                .map_or_else(|_| serde_json::Value::from(v), serde_json::Value::from);
            (k.trim().to_string(), v)
        })
        .collect();
    let line = serde_json::json!({
        "pattern": pattern,
        "requested_bytes": requested,
        "bytes": data.len(),
        "units": adversarial::units(pattern, requested),
        "chunk": chunk,
        "calls": calls,
        "key": "metadata",
        "stats": stats,
        "transactions": st.transactions,
        "transactions_before_close": stats_before_close.transactions,
        "alerts": st.alerts,
        "suppressed": st.suppressed,
        "anomalous_messages": st.anomalous_messages,
        "stream_anomalies": st.stream_anomalies,
        "alerts_drained": tally.count,
        "alert_signatures": tally.signatures.iter()
            .map(|(id, n)| serde_json::json!({"id": id, "alerts": n}))
            .collect::<Vec<_>>(),
        "alert_indicators": tally.indicators.iter_names()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect::<Vec<_>>(),
        "alert_anomalies": names(tally.anomalies),
        "heap_bytes_before_close": heap_before_close,
        "heap_bytes_after_close": heap_after_close,
        "parser_request_lines": parsed.request_lines,
        "parser_headers": parsed.headers,
        "parser_body_bytes": parsed.body_bytes,
        "parser_messages": parsed.messages,
        "parser_anomalies": names(parsed.anomalies),
    });
    println!("{line}");
}

fn parse_chunk(s: &str) -> usize {
    if s == "whole" {
        usize::MAX
    } else {
        s.parse().expect("a chunk size or `whole`")
    }
}

fn run_ir(peer: &str, corpus: &str, chunk: usize, passes: usize) {
    let c = common::flow_corpus(corpus, common::FLOW_CORPUS_REQUESTS).expect("a corpus name");
    match peer {
        "imdsguard-flow" => ir(&peers::Imdsguard::default(), &c, chunk, passes),
        "imdsguard-stream" => ir(&peers::Stream, &c, chunk, passes),
        "httparse" => ir(&peers::Httparse, &c, chunk, passes),
        #[cfg(feature = "libhtp")]
        "libhtp" => ir(&peers::Libhtp::default(), &c, chunk, passes),
        "regex" => ir(&peers::Regex::default(), &c, chunk, passes),
        "memmem" => ir(&peers::Memmem::default(), &c, chunk, passes),
        "lines" => ir(&peers::Lines, &c, chunk, passes),
        "lines-by-block" => ir(&peers::LinesByBlock, &c, chunk, passes),
        "memcpy" => ir(&peers::Memcpy::default(), &c, chunk, passes),
        _ => {
            eprintln!("unknown peer {peer}");
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["stats"] => stats(),
        ["mem"] => mem(),
        ["rr", rounds, only @ ..] => rr(rounds.parse().expect("a number of rounds"), only),
        ["ir-tracker", kind, passes] => {
            ir_tracker(kind, passes.parse().expect("a number of passes"))
        }
        ["adv", pattern, bytes, chunk] => adv(pattern, bytes, chunk),
        ["ir", peer, corpus, chunk, passes] => run_ir(
            peer,
            corpus,
            parse_chunk(chunk),
            passes.parse().expect("a number of passes"),
        ),
        _ => eprintln!(
            "ir_driver: stats | mem | ir <peer> <corpus> <chunk> <passes> | adv <pattern> <bytes> <chunk> (see the source)"
        ),
    }
}
