//! Shared helpers of the peer-corpus tests (`tests/corpus_*.rs`).
//!
//! The corpus lives in `tests/data/corpus/` (see its README.md for provenance and licences).
//! A conversation (`.t` file) is run through [`HttpStream`] either chunk by chunk as the file
//! gives it, or with every data chunk re-split into pieces of a fixed size; gap chunks are
//! passed as gaps in both cases. Transactions are rendered to one JSON line each (the
//! `http-dump` format plus the captured body bytes) so that runs can be compared as text.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use imdsguard::conversation::{self, ChunkKind};
use imdsguard::flow::transaction::{display_bytes, Collector, MessageRecord, Transaction};
use imdsguard::flow::{Direction, HttpStream};
use imdsguard::http::Anomalies;
use std::path::{Path, PathBuf};

/// Split sizes every corpus stream is re-fed at (issue text: 1, 7, 64 and 1460).
pub const SPLITS: [usize; 4] = [1, 7, 64, 1460];

/// Body bytes kept per message: more than any corpus body.
pub const BODY_CAPTURE: usize = 1 << 20;

/// The 68-byte EICAR test file.
pub const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// `tests/data/corpus`.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus")
}

/// A corpus file by its path relative to [`corpus_root`].
pub fn corpus_path(rel: &str) -> PathBuf {
    corpus_root().join(rel)
}

/// Reads a corpus file; panics with its path when it is missing.
pub fn read_corpus(rel: &str) -> Vec<u8> {
    let p = corpus_path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Reads a corpus text file.
pub fn read_corpus_text(rel: &str) -> String {
    String::from_utf8(read_corpus(rel)).unwrap_or_else(|e| panic!("{rel}: not UTF-8: {e}"))
}

/// Every conversation file under `rel_dir` (recursive, sorted): files ending in `.t`, plus
/// libhtp's `22-http_1_1-host_missing`, which has no suffix upstream.
pub fn conversation_files(rel_dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for e in entries {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.ends_with(".t") || name == "22-http_1_1-host_missing" {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&corpus_path(rel_dir), &mut out);
    out.sort();
    out
}

/// The path relative to the corpus root, for messages.
pub fn rel_name(p: &Path) -> String {
    p.strip_prefix(corpus_root())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// Runs a conversation file's bytes. `split: None` feeds each data chunk whole; `Some(n)`
/// feeds it in pieces of `n` bytes. Gaps are reported as gaps. Both directions are closed at
/// the end.
pub fn run_conversation(data: &[u8], split: Option<usize>) -> Vec<Transaction> {
    let chunks = conversation::parse(data).expect("a valid conversation file");
    let mut stream = HttpStream::new();
    let mut sink = Collector::with_body_capture(BODY_CAPTURE);
    for c in &chunks {
        match c.kind {
            ChunkKind::Gap => stream.gap(c.dir, c.bytes.len() as u64, &mut sink),
            ChunkKind::Data => match split {
                Some(n) => c
                    .bytes
                    .chunks(n)
                    .for_each(|piece| stream.feed(c.dir, piece, &mut sink)),
                None => stream.feed(c.dir, c.bytes, &mut sink),
            },
        }
    }
    stream.close(Direction::ToServer, &mut sink);
    stream.close(Direction::ToClient, &mut sink);
    sink.into_transactions()
}

/// Runs a corpus conversation file whole and returns the anomalies that belonged to no
/// message, both directions together (`Event::StreamAnomalies`).
#[allow(dead_code)] // not every test binary uses every helper
pub fn corpus_stream_anomalies(rel: &str) -> imdsguard::http::Anomalies {
    let data = read_corpus(rel);
    let chunks = conversation::parse(&data).expect("a valid conversation file");
    let mut stream = HttpStream::new();
    let mut sink = Collector::new();
    for c in &chunks {
        match c.kind {
            ChunkKind::Gap => stream.gap(c.dir, c.bytes.len() as u64, &mut sink),
            ChunkKind::Data => stream.feed(c.dir, c.bytes, &mut sink),
        }
    }
    stream.close(Direction::ToServer, &mut sink);
    stream.close(Direction::ToClient, &mut sink);
    sink.stream_anomalies(Direction::ToServer) | sink.stream_anomalies(Direction::ToClient)
}

/// Runs a corpus conversation file whole.
pub fn run_corpus_file(rel: &str) -> Vec<Transaction> {
    run_conversation(&read_corpus(rel), None)
}

/// Runs raw messages of one or both directions (no `.t` framing): `parts` in order, each fed
/// in pieces of `split` bytes (or whole), then both directions are closed.
pub fn run_parts(parts: &[(Direction, &[u8])], split: Option<usize>) -> Vec<Transaction> {
    let mut stream = HttpStream::new();
    let mut sink = Collector::with_body_capture(BODY_CAPTURE);
    for &(dir, bytes) in parts {
        match split {
            Some(n) => bytes
                .chunks(n)
                .for_each(|piece| stream.feed(dir, piece, &mut sink)),
            None => stream.feed(dir, bytes, &mut sink),
        }
    }
    stream.close(Direction::ToServer, &mut sink);
    stream.close(Direction::ToClient, &mut sink);
    sink.into_transactions()
}

/// One JSON line per transaction: `Transaction::to_json` (the `http-dump` line) plus the
/// captured body bytes of each side.
pub fn render(txs: &[Transaction]) -> String {
    let mut out = String::new();
    for tx in txs {
        let mut v = tx.to_json();
        if let Some(obj) = v.as_object_mut() {
            if let Some(r) = &tx.request {
                obj.insert("request_body".into(), display_bytes(&r.body).into());
            }
            if let Some(r) = &tx.response {
                obj.insert("response_body".into(), display_bytes(&r.body).into());
            }
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// Compares the rendering of a whole run with the runs at every size of [`SPLITS`]; returns a
/// description of the first difference.
pub fn chunk_invariance(data: &[u8]) -> Result<(), String> {
    let whole = render(&run_conversation(data, None));
    for n in SPLITS {
        let split = render(&run_conversation(data, Some(n)));
        if split != whole {
            let line = whole
                .lines()
                .zip(split.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| whole.lines().count().min(split.lines().count()));
            return Err(format!(
                "split {n}: output differs at transaction line {line}\n  whole: {}\n  split: {}",
                whole.lines().nth(line).unwrap_or("<none>"),
                split.lines().nth(line).unwrap_or("<none>"),
            ));
        }
    }
    Ok(())
}

/// Anomalies of a message, empty when there is none.
pub fn msg_anomalies(m: &Option<MessageRecord>) -> Anomalies {
    m.as_ref().map_or(Anomalies::empty(), |m| m.anomalies)
}

/// Anomalies of both sides of a transaction.
pub fn tx_anomalies(tx: &Transaction) -> Anomalies {
    msg_anomalies(&tx.request) | msg_anomalies(&tx.response)
}

/// Anomalies of every message of a run.
pub fn all_anomalies(txs: &[Transaction]) -> Anomalies {
    txs.iter()
        .fold(Anomalies::empty(), |a, t| a | tx_anomalies(t))
}

/// Lower-case anomaly names joined by `|`, for messages.
pub fn names(a: Anomalies) -> String {
    a.names().collect::<Vec<_>>().join("|")
}

/// Transactions that carry a request.
pub fn with_request(txs: &[Transaction]) -> usize {
    txs.iter().filter(|t| t.request.is_some()).count()
}

/// The request's method, as text.
pub fn method(tx: &Transaction) -> String {
    tx.request
        .as_ref()
        .map_or_else(String::new, |r| display_bytes(&r.method))
}

/// The request's target, as text.
pub fn uri(tx: &Transaction) -> String {
    tx.request
        .as_ref()
        .map_or_else(String::new, |r| display_bytes(&r.uri))
}

/// The response's status code (0 when there is no response).
pub fn status(tx: &Transaction) -> u16 {
    tx.response.as_ref().map_or(0, |r| r.status)
}

/// The value of the first header named `name` (case-insensitive) of a message.
pub fn header<'a>(m: &'a MessageRecord, name: &str) -> Option<&'a [u8]> {
    m.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.as_slice())
}

/// Short description of a run, for assertion messages.
pub fn summary(txs: &[Transaction]) -> String {
    txs.iter()
        .map(|t| {
            format!(
                "#{} {} {} -> {} [{}]",
                t.id,
                method(t),
                uri(t),
                status(t),
                names(tx_anomalies(t))
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
