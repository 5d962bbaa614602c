//! The performance suite: detection (`engine::Flow`: parse + IMDS match + policy) beside its
//! peers, in one run, so that every figure can be read as a ratio. `scripts/bench-report`
//! runs it and writes `BENCHMARKS.md`.
//!
//! Groups (corpora and peers: `benches/common/`):
//! - `flow-browser`, `flow-imds`, `flow-mixed`, `flow-responses`: each peer over every flow of
//!   the corpus (requests, or responses after untimed requests), whole flow sides and 1460-,
//!   64- and 1-byte chunks. Peers: `imdsguard-flow` (detection), `imdsguard-stream` (its parser
//!   alone), `httparse` (parse only, with framing and a carry buffer), `libhtp` (with the
//!   feature `libhtp`: libhtp 0.5 + the peer IMDS rule; timed last, after every other
//!   group, as `ir_driver rr` does), `regex` (naive scanner),
//!   `lines` (request corpora: a `memchr` for each line's LF and colon, the floor of a
//!   line-at-a-time parser), `lines-by-block` (the same found by 64-byte SSE2 masks),
//!   `memmem` (`/latest/`) and `memcpy`.
//! - `tracker`: `packet::Tracker::packet` per frame on traffic that is no candidate (UDP,
//!   ICMP, ARP, a bare TCP ACK; and TCP payload that is not HTTP, which does get a flow), in
//!   a table that holds 4,096 other flows; and `decode` alone for scale.
//! - `threads`: one `Arc<Engine>` shared by 1 and 2 threads, each running the browser corpus;
//!   httparse the same way as a control (it shares nothing, so it shows how far two threads
//!   scale on this machine at all).
//!
//! Every peer is checked on every corpus and chunking before timing: all messages read, no
//! error, and exactly the IMDS requests matched by the matchers.
//!
//! Run: `cargo bench --bench flow [--features libhtp] [-- <filter>]`. Under `cargo test`
//! (criterion's test mode) the corpora are smaller.

mod common;

use common::peers::{self, Peer};
use common::{FlowCorpus, Side};
use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode,
    Throughput,
};
use imdsguard::engine::Engine;
use imdsguard::packet::{decode, LinkType};
use std::time::Duration;

/// Chunk sizes: whole flow sides (`usize::MAX`), MTU-sized segments, small and tiny ones.
const CHUNKS: [(usize, &str); 4] = [(usize::MAX, "whole"), (1460, "1460"), (64, "64"), (1, "1")];

/// Requests per corpus: the full size when benchmarking, a small one under `cargo test`.
fn corpus_requests() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        common::FLOW_CORPUS_REQUESTS
    } else {
        200
    }
}

/// Checks a peer on every chunking, then times it.
fn bench_peer<P: Peer>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    p: &P,
    corpus: &FlowCorpus,
    chunks: &[(usize, &str)],
) {
    for &(chunk, label) in chunks {
        let t = peers::run_corpus(p, corpus, chunk);
        peers::check(p.name(), corpus, chunk, &t);
        let id = BenchmarkId::new(p.name(), label);
        match corpus.side {
            Side::Requests => group.bench_function(id, |b| {
                b.iter(|| black_box(peers::run_requests(p, black_box(corpus), chunk)))
            }),
            Side::Responses => group.bench_function(id, |b| {
                b.iter_batched(
                    || peers::prepare_responses(p, corpus),
                    |mut conns| {
                        let t = peers::run_responses(p, black_box(corpus), &mut conns, chunk);
                        // Dropped after the timing, as the preparation ran before it.
                        (black_box(t), conns)
                    },
                    BatchSize::PerIteration,
                )
            }),
        };
    }
}

/// The `flow-<corpus>` group: throughput in the corpus's bytes, flat sampling.
fn flow_group<'a>(
    c: &'a mut Criterion,
    corpus: &FlowCorpus,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(format!("flow-{}", corpus.name));
    group.throughput(Throughput::Bytes(corpus.bytes() as u64));
    group.sampling_mode(SamplingMode::Flat);
    group
}

fn flow_groups(c: &mut Criterion) {
    let imdsguard = peers::Imdsguard::default();
    let httparse = peers::Httparse;
    let regex = peers::Regex::default();
    let memmem = peers::Memmem::default();
    let memcpy = peers::Memcpy::default();
    let whole = &CHUNKS[..1];
    for corpus in common::flow_corpora(corpus_requests()) {
        eprintln!(
            "corpus {}: {} flows, {} messages ({} IMDS), {} bytes, {} bytes per message",
            corpus.name,
            corpus.flows.len(),
            corpus.messages(),
            corpus.imds_messages(),
            corpus.bytes(),
            corpus.bytes() / corpus.messages()
        );
        let mut group = flow_group(c, &corpus);
        bench_peer(&mut group, &imdsguard, &corpus, &CHUNKS);
        bench_peer(&mut group, &peers::Stream, &corpus, &CHUNKS);
        bench_peer(&mut group, &httparse, &corpus, &CHUNKS);
        bench_peer(&mut group, &regex, &corpus, whole);
        if corpus.side == Side::Requests {
            bench_peer(&mut group, &peers::Lines, &corpus, whole);
            bench_peer(&mut group, &peers::LinesByBlock, &corpus, whole);
        }
        bench_peer(&mut group, &memmem, &corpus, whole);
        bench_peer(&mut group, &memcpy, &corpus, whole);
        group.finish();
    }
}

/// Frames handed to the tracker per iteration, per kind.
const FRAMES: usize = 1024;

/// Sets the TCP sequence number of an Ethernet + IPv4 (no options) + TCP frame.
fn set_tcp_seq(frame: &mut [u8], seq: u32) {
    frame[14 + 20 + 4..14 + 20 + 8].copy_from_slice(&seq.to_be_bytes());
}

fn tracker_group(c: &mut Criterion) {
    let engine = Engine::default();
    let mut group = c.benchmark_group("tracker");
    group.throughput(Throughput::Elements(FRAMES as u64));
    for &kind in common::FRAME_KINDS {
        let mut frames = common::frames(kind, FRAMES);
        let (mut tracker, mut ts) = common::populated_tracker(&engine);
        let created = tracker.stats().flows_created;
        // TLS records keep flowing: each pass continues every connection's sequence.
        let tls = kind == "tcp-tls";
        let record = frames[0].len().saturating_sub(14 + 20 + 20); // TLS: the TCP payload
        let rounds = (FRAMES / 64) as u32;
        let mut pass: u32 = 0;
        group.bench_function(BenchmarkId::new("packet", kind), |b| {
            b.iter(|| {
                for (i, f) in frames.iter_mut().enumerate() {
                    if tls {
                        let round = pass * rounds + (i / 64) as u32;
                        set_tcp_seq(f, 1000u32.wrapping_add(round.wrapping_mul(record as u32)));
                    }
                    black_box(tracker.packet(&engine, f, LinkType::Ethernet, ts));
                    ts += 1;
                }
                pass += 1;
            })
        });
        let s = tracker.stats();
        eprintln!(
            "tracker {kind}: {} packets, {} untracked, {} flows created, {} decode errors, {} bytes reassembled",
            s.packets,
            s.untracked,
            s.flows_created,
            s.decode_errors.total(),
            s.reassembly.bytes_delivered
        );
        let created = s.flows_created - created;
        if pass == 0 {
            // Left out by a filter (`cargo bench -- <filter>`): nothing to check.
        } else if tls {
            assert_eq!(created, 64, "one flow per TLS connection");
        } else {
            assert_eq!(created, 0, "{kind}: no flow for non-candidates");
        }
    }
    let frames = common::frames("udp-dns", FRAMES);
    group.bench_function(BenchmarkId::new("decode", "udp-dns"), |b| {
        b.iter(|| {
            for f in &frames {
                let _ = black_box(decode(black_box(f), LinkType::Ethernet));
            }
        })
    });
    group.finish();
}

/// Passes over the corpus per thread and iteration (so that spawning is noise).
const THREAD_PASSES: usize = 4;

/// `threads` threads, each running the corpus `THREAD_PASSES` times through its own flows of
/// `peer` (which they share: for imdsguard, the one `Arc<Engine>`).
fn bench_threads<P: Peer + Sync>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    peer: &P,
    corpus: &FlowCorpus,
) {
    for threads in [1usize, 2] {
        group.throughput(Throughput::Bytes(
            (corpus.bytes() * THREAD_PASSES * threads) as u64,
        ));
        group.bench_function(BenchmarkId::new(name, threads), |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| {
                            for _ in 0..THREAD_PASSES {
                                black_box(peers::run_requests(peer, corpus, usize::MAX));
                            }
                        });
                    }
                })
            })
        });
    }
}

fn threads_group(c: &mut Criterion) {
    let corpus = common::browser_flows(corpus_requests());
    let mut group = c.benchmark_group("threads");
    group.sampling_mode(SamplingMode::Flat);
    // One engine shared by the threads.
    bench_threads(
        &mut group,
        "engine-shared",
        &peers::Imdsguard::default(),
        &corpus,
    );
    // A control that shares nothing but the machine: how far two threads scale here at all.
    bench_threads(&mut group, "httparse-control", &peers::Httparse, &corpus);
    group.finish();
}

/// libhtp over every corpus and chunking, in the `flow-<corpus>` groups, after every other
/// bench: timed before them, it left the others' chunked configurations slower in the same
/// process (see `rr` in `benches/ir_driver.rs`).
#[cfg(feature = "libhtp")]
fn libhtp_groups(c: &mut Criterion) {
    let libhtp = peers::Libhtp::default();
    for corpus in common::flow_corpora(corpus_requests()) {
        let mut group = flow_group(c, &corpus);
        bench_peer(&mut group, &libhtp, &corpus, &CHUNKS);
        group.finish();
    }
}

/// Without the `libhtp` feature there is no libhtp to time.
#[cfg(not(feature = "libhtp"))]
fn libhtp_groups(_: &mut Criterion) {}

criterion_group! {
    name = flow;
    config = Criterion::default()
        .sample_size(10)
        .nresamples(10_000)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .without_plots();
    targets = flow_groups, tracker_group, threads_group, libhtp_groups
}
criterion_main!(flow);
