//! Events recorded as owned data: an owned mirror of `imdsguard::flow::Event` and a sink that
//! records it. Shared, by `#[path]`, by the chunking tests (`tests/chunking.rs`) and the fuzz
//! harness (`fuzz/fuzz_targets/harness.rs`), which both compare the events of one stream fed
//! in different ways.

use imdsguard::flow::{BodyFraming, Direction, Event, EventSink, Section, TxId};
use imdsguard::http::{Anomalies, TargetForm, Version};

/// An owned mirror of [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    StreamAnomalies {
        dir: Direction,
        anomalies: Anomalies,
    },
    Request {
        tx: TxId,
        method: Vec<u8>,
        target: Vec<u8>,
        protocol: Vec<u8>,
        version: Version,
        form: TargetForm,
        anomalies: Anomalies,
    },
    Status {
        tx: TxId,
        protocol: Vec<u8>,
        version: Version,
        code: u16,
        code_raw: Vec<u8>,
        reason: Vec<u8>,
        anomalies: Anomalies,
    },
    Header {
        tx: TxId,
        dir: Direction,
        section: Section,
        name: Vec<u8>,
        value: Vec<u8>,
        anomalies: Anomalies,
    },
    HeadersComplete {
        tx: TxId,
        dir: Direction,
        framing: BodyFraming,
        anomalies: Anomalies,
    },
    Body {
        tx: TxId,
        dir: Direction,
        data: Vec<u8>,
    },
    Complete {
        tx: TxId,
        dir: Direction,
        body_len: u64,
        anomalies: Anomalies,
    },
}

/// Records events as owned data. Adjacent body pieces of one message are joined: how body
/// bytes are cut is the one thing chunking may change (`imdsguard::flow` guarantees).
#[derive(Debug, Default)]
pub struct Recorder {
    /// The events so far.
    pub events: Vec<Ev>,
}

impl EventSink for Recorder {
    fn on_event(&mut self, event: &Event<'_>) {
        let ev = match *event {
            Event::RequestLine { tx, line } => Ev::Request {
                tx,
                method: line.method.to_vec(),
                target: line.target.to_vec(),
                protocol: line.protocol.to_vec(),
                version: line.version,
                form: line.form,
                anomalies: line.anomalies,
            },
            Event::StatusLine { tx, line } => Ev::Status {
                tx,
                protocol: line.protocol.to_vec(),
                version: line.version,
                code: line.code,
                code_raw: line.code_raw.to_vec(),
                reason: line.reason.to_vec(),
                anomalies: line.anomalies,
            },
            Event::Header {
                tx,
                dir,
                section,
                header,
            } => Ev::Header {
                tx,
                dir,
                section,
                name: header.name.to_vec(),
                value: header.value.to_vec(),
                anomalies: header.anomalies,
            },
            Event::HeadersComplete {
                tx,
                dir,
                framing,
                anomalies,
            } => Ev::HeadersComplete {
                tx,
                dir,
                framing,
                anomalies,
            },
            Event::Body { tx, dir, data } => {
                assert!(!data.is_empty(), "empty Body event (tx {tx}, {dir:?})");
                if let Some(Ev::Body {
                    tx: t,
                    dir: d,
                    data: prev,
                }) = self.events.last_mut()
                {
                    if *t == tx && *d == dir {
                        prev.extend_from_slice(data);
                        return;
                    }
                }
                Ev::Body {
                    tx,
                    dir,
                    data: data.to_vec(),
                }
            }
            Event::MessageComplete {
                tx,
                dir,
                body_len,
                anomalies,
            } => Ev::Complete {
                tx,
                dir,
                body_len,
                anomalies,
            },
            Event::StreamAnomalies { dir, anomalies } => Ev::StreamAnomalies { dir, anomalies },
        };
        self.events.push(ev);
    }
}

/// A [`Recorder`] that declines ([`EventSink::wants_header`]) the header events of fields
/// whose name has an odd length: it must record what a recorder does with those events
/// taken out ([`OddNamesDeclined::expected`]).
#[derive(Debug, Default)]
pub struct OddNamesDeclined(pub Recorder);

impl OddNamesDeclined {
    /// What this sink records of a stream that gives a [`Recorder`] `all`: the events it
    /// declines taken out, and the body pieces that this leaves side by side joined (a
    /// recorder joins adjacent pieces of one message; a declined header between two pieces
    /// of a response body, sent while the response streams, kept them apart).
    pub fn expected(all: Vec<Ev>) -> Vec<Ev> {
        let mut out: Vec<Ev> = Vec::with_capacity(all.len());
        for e in all {
            if matches!(&e, Ev::Header { name, .. } if name.len() % 2 == 1) {
                continue;
            }
            if let (
                Some(Ev::Body {
                    tx: t,
                    dir: d,
                    data: prev,
                }),
                Ev::Body { tx, dir, data },
            ) = (out.last_mut(), &e)
            {
                if t == tx && d == dir {
                    prev.extend_from_slice(data);
                    continue;
                }
            }
            out.push(e);
        }
        out
    }
}

impl EventSink for OddNamesDeclined {
    fn on_event(&mut self, event: &Event<'_>) {
        self.0.on_event(event);
    }

    fn wants_header(&self, _dir: Direction, name: &[u8]) -> bool {
        name.len() % 2 == 0
    }
}
