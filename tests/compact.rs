//! `Flow::compact` changes nothing but memory.
//!
//! Every `.t` conversation in `tests/data` (the peer corpora and our own, 725+ streams) and
//! the IMDS conversations below are run through a detection flow twice: fed as they are,
//! and with `compact()` tried after every chunk (and at every 64-byte piece). The alerts
//! (rendered as EVE, so every field counts), the counters and the transactions must be the
//! same; a flow that says it is compact must hold no heap and be small.

use imdsguard::conversation::{parse, ChunkKind};
use imdsguard::engine::{Engine, EngineConfig, Flow};
use imdsguard::event::to_eve;
use imdsguard::flow::Direction;
use imdsguard::key::FlowKey;
use imdsguard::policy::Policy;
use std::path::{Path, PathBuf};

fn key(dst: &str) -> FlowKey {
    FlowKey::tcp("10.1.2.3".parse().unwrap(), 40000, dst.parse().unwrap(), 80)
}

/// What a run produced: EVE lines of the alerts, counters, and how often a flow compacted.
#[derive(Debug, PartialEq)]
struct Outcome {
    alerts: Vec<String>,
    stats: String,
}

fn run(engine: &Engine, k: FlowKey, data: &[u8], piece: usize, compact: bool) -> (Outcome, usize) {
    let chunks = parse(data).expect("conversation");
    let mut flow = Flow::new(engine, k);
    let mut alerts = Vec::new();
    let mut compactions = 0;
    let mut try_compact = |flow: &mut Flow, alerts: &mut Vec<String>| {
        // Alerts waiting keep a flow busy: take them, as a caller does after each call.
        alerts.extend(flow.drain_alerts().map(|a| to_eve(&a).to_string()));
        if compact && !flow.is_compact() && flow.compact() {
            assert_eq!(flow.heap_bytes(), 0);
            compactions += 1;
        }
    };
    for c in &chunks {
        match c.kind {
            ChunkKind::Gap => flow.gap(engine, c.dir, c.bytes.len() as u64),
            ChunkKind::Data => {
                for p in c.bytes.chunks(piece.max(1)) {
                    flow.feed(engine, c.dir, p);
                    try_compact(&mut flow, &mut alerts);
                }
            }
        }
        try_compact(&mut flow, &mut alerts);
    }
    flow.close(engine);
    alerts.extend(flow.drain_alerts().map(|a| to_eve(&a).to_string()));
    let stats = format!("{:?}", flow.stats());
    (Outcome { alerts, stats }, compactions)
}

fn conversations(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            conversations(&p, out);
        } else if p.extension().is_some_and(|x| x == "t") {
            out.push(p);
        }
    }
}

#[test]
fn compacting_between_chunks_changes_no_alert_and_no_counter() {
    let engine = Engine::default();
    let mut files = Vec::new();
    conversations(Path::new("tests/data"), &mut files);
    files.sort();
    assert!(files.len() > 700, "{} conversations", files.len());
    let (mut compacted, mut alerting) = (0, 0);
    for f in &files {
        let data = std::fs::read(f).unwrap();
        if parse(&data).is_err() {
            continue;
        }
        // To the IMDS address, so that every stream goes through detection with alerts.
        for k in [key("169.254.169.254"), key("198.51.100.7")] {
            let (plain, _) = run(&engine, k, &data, usize::MAX, false);
            for piece in [usize::MAX, 64] {
                let (c, n) = run(&engine, k, &data, piece, true);
                assert_eq!(
                    c,
                    plain,
                    "{} to {}, pieces of {piece}",
                    f.display(),
                    k.dst_ip
                );
                compacted += usize::from(n > 0);
            }
            alerting += usize::from(!plain.alerts.is_empty());
        }
    }
    eprintln!(
        "{} conversations: {compacted} runs compacted at least once, {alerting} runs alerted",
        files.len()
    );
    assert!(compacted > files.len(), "compaction happened in most runs");
}

/// Keep-alive IMDS exchanges with a compaction after each: the alerts of a flow that was
/// compacted between every request are those of one that never was, and transaction ids go
/// on counting.
#[test]
fn keep_alive_metadata_flow_compacted_between_requests() {
    let engine = Engine::default();
    let mut t = Vec::new();
    for i in 0..5 {
        t.extend_from_slice(b">>>\n");
        t.extend_from_slice(
            format!("GET /latest/meta-data/iam/security-credentials/r{i} HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token: t\r\n\r\n")
                .as_bytes(),
        );
        t.extend_from_slice(b"\n<<<\n");
        t.extend_from_slice(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nServer: EC2ws\r\n\r\n\n",
        );
    }
    let k = key("198.51.100.7");
    let (plain, _) = run(&engine, k, &t, usize::MAX, false);
    let (c, n) = run(&engine, k, &t, usize::MAX, true);
    assert_eq!(c, plain);
    assert!(n >= 5, "compacted after every exchange: {n}");
    assert_eq!(plain.alerts.len(), 5);
    assert!(
        plain.alerts[4].contains("\"tx_id\":4"),
        "{}",
        plain.alerts[4]
    );
}

#[test]
fn idle_flow_is_small_and_holds_no_heap() {
    let engine = Engine::default();
    let mut flow = Flow::new(&engine, key("198.51.100.7"));
    assert!(flow.is_compact());
    assert_eq!(flow.heap_bytes(), 0, "a new flow allocates nothing");
    flow.feed(
        &engine,
        Direction::ToServer,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert!(!flow.compact(), "a request waits for its response");
    flow.feed(
        &engine,
        Direction::ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    assert!(flow.compact());
    assert_eq!(flow.heap_bytes(), 0);
    assert!(
        std::mem::size_of::<Flow>() <= 128,
        "{}",
        std::mem::size_of::<Flow>()
    );
    assert_eq!(flow.stats().transactions, 1);
    // Recording flows keep their records, so they never compact.
    let recording = Engine::with_config(
        Policy::default(),
        EngineConfig {
            record_transactions: true,
            ..EngineConfig::default()
        },
    );
    let mut flow = Flow::new(&recording, key("198.51.100.7"));
    flow.feed(
        &recording,
        Direction::ToServer,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    flow.feed(
        &recording,
        Direction::ToClient,
        b"HTTP/1.1 204 No Content\r\n\r\n",
    );
    assert!(!flow.compact());
}
