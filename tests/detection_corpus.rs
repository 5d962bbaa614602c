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
