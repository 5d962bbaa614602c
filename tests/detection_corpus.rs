//! The peer corpora are ordinary web traffic: no stream may raise an IMDS alert, whatever
//! the chunking.

use imdsguard::conversation::{self, ChunkKind};
use imdsguard::engine::{Engine, Flow};
use imdsguard::key::FlowKey;
use std::path::{Path, PathBuf};

fn conversation_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            conversation_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "t")
            || p.file_name()
                .is_some_and(|n| n == "22-http_1_1-host_missing")
        {
            out.push(p);
        }
    }
}

#[test]
fn no_peer_corpus_stream_raises_an_imds_alert() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let mut files = Vec::new();
    conversation_files(&root, &mut files);
    assert_eq!(files.len(), 725, "the copied corpora changed");
    let engine = Engine::default();
    let key = FlowKey::tcp(
        "192.0.2.10".parse().expect("ip"),
        49152,
        "192.0.2.20".parse().expect("ip"),
        80,
    );
    let mut transactions = 0;
    for path in &files {
        let data = std::fs::read(path).expect("readable");
        let chunks = conversation::parse(&data).expect("a conversation");
        for piece in [0usize, 64, 1460] {
            let mut flow = Flow::new(&engine, key);
            for c in &chunks {
                match c.kind {
                    ChunkKind::Gap => flow.gap(&engine, c.dir, c.bytes.len() as u64),
                    ChunkKind::Data if piece == 0 => flow.feed(&engine, c.dir, c.bytes),
                    ChunkKind::Data => {
                        for p in c.bytes.chunks(piece) {
                            flow.feed(&engine, c.dir, p);
                        }
                    }
                }
            }
            flow.close(&engine);
            let alerts: Vec<_> = flow.drain_alerts().collect();
            assert!(alerts.is_empty(), "{}: {alerts:#?}", path.display());
            if piece == 0 {
                transactions += flow.stats().transactions;
            }
        }
    }
    assert!(transactions > 700, "{transactions} transactions");
}

/// The libhtp streams whose requests our parser flags with smuggling-grade anomalies (both
/// framings, invalid or overflowing chunk sizes, ambiguous line ends, folding, ...), each
/// rewritten so that its request asks the metadata service for credentials (target
/// `/latest/meta-data/iam/security-credentials/`, `Host: 169.254.169.254`), sent to an
/// ordinary address as through a proxy: every one alerts, marked as a framing anomaly,
/// whole and at every chunking.
#[test]
fn libhtp_smuggling_streams_carrying_a_metadata_request_alert() {
    use imdsguard::flow::{Direction, Event, HttpStream};
    use imdsguard::http::Anomalies;
    use imdsguard::imds::Indicators;

    const PATH: &[u8] = b"/latest/meta-data/iam/security-credentials/";
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/libhtp");
    let mut files = Vec::new();
    conversation_files(&root, &mut files);
    let engine = Engine::default();
    let key = FlowKey::tcp(
        "192.0.2.10".parse().expect("ip"),
        49152,
        "192.0.2.20".parse().expect("ip"),
        3128,
    );
    let mut checked = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("readable");
        let Ok(chunks) = conversation::parse(&data) else {
            continue;
        };
        // Does our parser see smuggling-grade anomalies on a request of this stream?
        let mut stream = HttpStream::new();
        let mut smuggling = Anomalies::empty();
        let mut first_request: Option<Anomalies> = None;
        let mut sink = |ev: &Event<'_>| {
            if let Event::MessageComplete {
                dir: Direction::ToServer,
                anomalies,
                ..
            } = ev
            {
                smuggling |= *anomalies & Anomalies::SMUGGLING;
                first_request.get_or_insert(*anomalies & Anomalies::SMUGGLING);
            }
        };
        for c in &chunks {
            match c.kind {
                ChunkKind::Gap => stream.gap(c.dir, c.bytes.len() as u64, &mut sink),
                ChunkKind::Data => stream.feed(c.dir, c.bytes, &mut sink),
            }
        }
        stream.close(Direction::ToServer, &mut sink);
        stream.close(Direction::ToClient, &mut sink);
        if smuggling.is_empty() {
            continue;
        }
        // The first client chunk holds the request line: its target becomes the metadata
        // path, and its Host header (added when missing) the metadata address.
        let mut steps: Vec<(Direction, ChunkKind, Vec<u8>)> = chunks
            .iter()
            .map(|c| (c.dir, c.kind, c.bytes.to_vec()))
            .collect();
        let Some(first) = steps
            .iter_mut()
            .find(|s| s.0 == Direction::ToServer && s.1 == ChunkKind::Data)
        else {
            continue;
        };
        let Some(rewritten) = with_metadata_request(&first.2, PATH) else {
            continue;
        };
        first.2 = rewritten;
        for piece in [0usize, 1, 7, 64] {
            let mut flow = Flow::new(&engine, key);
            for (dir, kind, bytes) in &steps {
                match kind {
                    ChunkKind::Gap => flow.gap(&engine, *dir, bytes.len() as u64),
                    ChunkKind::Data if piece == 0 => flow.feed(&engine, *dir, bytes),
                    ChunkKind::Data => {
                        for p in bytes.chunks(piece) {
                            flow.feed(&engine, *dir, p);
                        }
                    }
                }
            }
            flow.close(&engine);
            let alerts: Vec<_> = flow.drain_alerts().collect();
            // The path is what must be seen; the Host may fold into a junk continuation line
            // that follows it in some streams (then it names no metadata host, rightly).
            let hit = alerts
                .iter()
                .find(|a| a.indicators.contains(Indicators::PATH_CREDENTIALS));
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let Some(hit) = hit else {
                panic!("{name}, pieces of {piece} ({smuggling:?}): no metadata alert: {alerts:#?}");
            };
            // Marked when the rewritten request itself is the ambiguous one (a later one
            // marks the metadata requests after it, not before).
            if first_request.is_some_and(|a| !a.is_empty()) {
                assert!(
                    hit.indicators.contains(Indicators::FRAMING_ANOMALY),
                    "{name}, pieces of {piece}: not marked as a framing anomaly: {:?}",
                    hit.indicators
                );
            }
        }
        checked.push(
            path.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
    }
    eprintln!(
        "{} libhtp smuggling streams: {}",
        checked.len(),
        checked.join(", ")
    );
    assert!(checked.len() >= 5, "{checked:?}");
}

/// `head` with the first request line's target replaced by `path` (after the scheme and
/// authority of an absolute-form target), and the value of its
/// first `Host` field replaced by 169.254.169.254 (or such a field added after the request
/// line); `None` when `head` starts with no request line.
fn with_metadata_request(head: &[u8], path: &[u8]) -> Option<Vec<u8>> {
    let line_end = head.iter().position(|&b| b == b'\n')?;
    let line = &head[..line_end];
    let sp1 = line.iter().position(|&b| b == b' ')?;
    let sp2 = sp1 + 1 + line[sp1 + 1..].iter().position(|&b| b == b' ')?;
    let mut out = Vec::new();
    out.extend_from_slice(&line[..=sp1]);
    // An absolute-form target keeps its scheme and authority (whose disagreement with the
    // Host field may be the stream's point); only its path is replaced.
    let target = &line[sp1 + 1..sp2];
    if let Some(after_scheme) = target.windows(3).position(|w| w == b"://") {
        let authority_at = after_scheme + 3;
        let path_at = target[authority_at..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(target.len(), |i| authority_at + i);
        out.extend_from_slice(&target[..path_at]);
    }
    out.extend_from_slice(path);
    out.extend_from_slice(&line[sp2..]);
    out.push(b'\n');
    let rest = &head[line_end + 1..];
    let host_at = rest
        .split(|&b| b == b'\n')
        .scan(0usize, |at, l| {
            let start = *at;
            *at += l.len() + 1;
            Some((start, l))
        })
        .take_while(|(_, l)| !l.is_empty() && *l != b"\r")
        .find(|(_, l)| l.len() >= 5 && l[..5].eq_ignore_ascii_case(b"host:"));
    match host_at {
        Some((start, l)) => {
            out.extend_from_slice(&rest[..start]);
            out.extend_from_slice(b"Host: 169.254.169.254");
            if l.ends_with(b"\r") {
                out.push(b'\r');
            }
            out.extend_from_slice(&rest[start + l.len()..]);
        }
        None => {
            out.extend_from_slice(b"Host: 169.254.169.254\r\n");
            out.extend_from_slice(rest);
        }
    }
    Some(out)
}
