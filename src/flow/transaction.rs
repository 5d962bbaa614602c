//! Owned transaction records built from events, for tools, tests and logs.
//!
//! The streaming API hands out borrowed slices that live for one event. A tool that wants
//! whole transactions afterwards (the `http-dump` command, corpus tests) collects them here;
//! this copies, so the detection path does not use it.

use super::event::{BodyFraming, Event, EventSink, Section, TxId};
use super::Direction;
use crate::http::Anomalies;
use std::collections::BTreeMap;

/// One request or response as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageRecord {
    /// Request method; empty for a response.
    pub method: Vec<u8>,
    /// Raw request target; empty for a response.
    pub uri: Vec<u8>,
    /// Protocol token as sent; empty when there was none.
    pub protocol: Vec<u8>,
    /// Response status code (0 for a request, or when invalid or absent).
    pub status: u16,
    /// Response reason phrase.
    pub reason: Vec<u8>,
    /// Header fields in order, values unfolded (continuation lines joined by one space).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Trailer fields in order.
    pub trailers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Body framing, once the header block ended.
    pub framing: Option<BodyFraming>,
    /// Body bytes the message carried.
    pub body_len: u64,
    /// The first body bytes, up to the collector's capture limit.
    pub body: Vec<u8>,
    /// Anomalies of the message.
    pub anomalies: Anomalies,
    /// Whether the message ended.
    pub complete: bool,
}

/// A request and the response paired with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// Its number.
    pub id: TxId,
    /// The request, if one was seen.
    pub request: Option<MessageRecord>,
    /// The final response, if one was seen.
    pub response: Option<MessageRecord>,
    /// Status codes of interim (1xx) answers before the final one.
    pub interim: Vec<u16>,
}

/// An [`EventSink`] that records transactions.
#[derive(Debug, Default, Clone)]
pub struct Collector {
    txs: BTreeMap<TxId, Transaction>,
    body_capture: usize,
    stream_anomalies: [Anomalies; 2],
}

impl Collector {
    /// A collector that keeps no body bytes (only their count).
    pub fn new() -> Collector {
        Collector::default()
    }

    /// A collector that keeps up to `limit` body bytes per message.
    pub fn with_body_capture(limit: usize) -> Collector {
        Collector {
            txs: BTreeMap::new(),
            body_capture: limit,
            stream_anomalies: [Anomalies::empty(); 2],
        }
    }

    /// Anomalies of a direction that belonged to no message ([`Event::StreamAnomalies`]).
    pub fn stream_anomalies(&self, dir: Direction) -> Anomalies {
        let [request, response] = self.stream_anomalies;
        match dir {
            Direction::ToServer => request,
            Direction::ToClient => response,
        }
    }

    /// The stream anomalies as one JSON object (`{"stream_anomalies": {...}}`), or `None`
    /// when there are none: the last line of `imdsguard http-dump`.
    pub fn stream_anomalies_json(&self) -> Option<serde_json::Value> {
        let [req, resp] = self.stream_anomalies;
        if req.is_empty() && resp.is_empty() {
            return None;
        }
        Some(serde_json::json!({
            "stream_anomalies": {
                "request": req.names().collect::<Vec<_>>(),
                "response": resp.names().collect::<Vec<_>>(),
            }
        }))
    }

    /// Heap bytes the recorded transactions hold (an estimate from capacities).
    pub fn heap_bytes(&self) -> usize {
        let message = |m: &MessageRecord| {
            m.method.capacity()
                + m.uri.capacity()
                + m.protocol.capacity()
                + m.reason.capacity()
                + m.body.capacity()
                + m.headers
                    .iter()
                    .chain(&m.trailers)
                    .map(|(n, v)| n.capacity() + v.capacity() + 2 * size_of::<Vec<u8>>())
                    .sum::<usize>()
        };
        self.txs
            .values()
            .map(|t| {
                size_of::<Transaction>()
                    + t.request.as_ref().map_or(0, message)
                    + t.response.as_ref().map_or(0, message)
                    + t.interim.capacity() * 2
            })
            .sum()
    }

    /// The transactions, by number.
    pub fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.txs.values()
    }

    /// Consumes the collector, returning the transactions by number.
    pub fn into_transactions(self) -> Vec<Transaction> {
        self.txs.into_values().collect()
    }

    fn message(&mut self, tx: TxId, dir: Direction) -> &mut MessageRecord {
        let t = self.txs.entry(tx).or_insert_with(|| Transaction {
            id: tx,
            ..Transaction::default()
        });
        let slot = match dir {
            Direction::ToServer => &mut t.request,
            Direction::ToClient => &mut t.response,
        };
        slot.get_or_insert_with(MessageRecord::default)
    }
}

fn unfold(header: &crate::http::Header<'_>) -> Vec<u8> {
    if !header.is_folded() {
        return header.value.to_vec();
    }
    let mut v = Vec::with_capacity(header.value.len());
    for (i, part) in header.unfolded().enumerate() {
        if i > 0 {
            v.push(b' ');
        }
        v.extend_from_slice(part);
    }
    v
}

impl EventSink for Collector {
    fn on_event(&mut self, event: &Event<'_>) {
        match *event {
            Event::StreamAnomalies { dir, anomalies } => {
                let [request, response] = &mut self.stream_anomalies;
                *match dir {
                    Direction::ToServer => request,
                    Direction::ToClient => response,
                } |= anomalies;
            }
            Event::RequestLine { tx, line } => {
                let m = self.message(tx, Direction::ToServer);
                m.method = line.method.to_vec();
                m.uri = line.target.to_vec();
                m.protocol = line.protocol.to_vec();
                m.anomalies |= line.anomalies;
            }
            Event::StatusLine { tx, line } => {
                if line.is_interim() {
                    self.txs
                        .entry(tx)
                        .or_insert_with(|| Transaction {
                            id: tx,
                            ..Transaction::default()
                        })
                        .interim
                        .push(line.code);
                    return;
                }
                let m = self.message(tx, Direction::ToClient);
                m.protocol = line.protocol.to_vec();
                m.status = line.code;
                m.reason = line.reason.to_vec();
                m.anomalies |= line.anomalies;
            }
            Event::Header {
                tx,
                dir,
                section,
                header,
            } => {
                let pair = (header.name.to_vec(), unfold(&header));
                let m = match section {
                    Section::Interim => return,
                    _ => self.message(tx, dir),
                };
                match section {
                    Section::Trailer => m.trailers.push(pair),
                    _ => m.headers.push(pair),
                }
            }
            Event::HeadersComplete {
                tx,
                dir,
                framing,
                anomalies,
            } => {
                let m = self.message(tx, dir);
                m.framing = Some(framing);
                m.anomalies |= anomalies;
            }
            Event::Body { tx, dir, data } => {
                let cap = self.body_capture;
                let m = self.message(tx, dir);
                let room = cap.saturating_sub(m.body.len()).min(data.len());
                m.body.extend_from_slice(data.get(..room).unwrap_or(data));
            }
            Event::MessageComplete {
                tx,
                dir,
                body_len,
                anomalies,
            } => {
                let m = self.message(tx, dir);
                m.body_len = body_len;
                m.anomalies |= anomalies;
                m.complete = true;
            }
        }
    }
}

/// Renders bytes for a human and for JSON: valid UTF-8 as it is, every other byte as `\xHH`
/// (the way Suricata's EVE output shows non-printable bytes). A literal backslash stays one.
pub fn display_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    push_display_bytes(&mut out, bytes);
    out
}

/// [`display_bytes`] appended to `out` (no allocation of its own beyond `out`'s growth).
pub fn push_display_bytes(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.push_str("\\x");
            for nibble in [b >> 4, b & 0x0f] {
                out.push(char::from(
                    HEX.get(usize::from(nibble)).copied().unwrap_or(b'?'),
                ));
            }
        }
    }
}

fn framing_name(f: Option<BodyFraming>) -> serde_json::Value {
    match f {
        None => serde_json::Value::Null,
        Some(BodyFraming::None) => "none".into(),
        Some(BodyFraming::Length(_)) => "content-length".into(),
        Some(BodyFraming::Chunked) => "chunked".into(),
        Some(BodyFraming::UntilClose) => "until-close".into(),
        Some(BodyFraming::Tunnel) => "tunnel".into(),
    }
}

fn headers_json(headers: &[(Vec<u8>, Vec<u8>)]) -> serde_json::Value {
    headers
        .iter()
        .map(|(n, v)| serde_json::json!([display_bytes(n), display_bytes(v)]))
        .collect()
}

impl Transaction {
    /// The transaction as one JSON object, the line format of `imdsguard http-dump`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut obj = serde_json::Map::new();
        obj.insert("tx".into(), self.id.into());
        if let Some(r) = &self.request {
            obj.insert(
                "request".into(),
                serde_json::json!({
                    "method": display_bytes(&r.method),
                    "uri": display_bytes(&r.uri),
                    "protocol": display_bytes(&r.protocol),
                    "headers": headers_json(&r.headers),
                    "trailers": headers_json(&r.trailers),
                    "framing": framing_name(r.framing),
                    "body_len": r.body_len,
                    "complete": r.complete,
                    "anomalies": r.anomalies.names().collect::<Vec<_>>(),
                }),
            );
        }
        if !self.interim.is_empty() {
            obj.insert("interim".into(), self.interim.clone().into());
        }
        if let Some(r) = &self.response {
            obj.insert(
                "response".into(),
                serde_json::json!({
                    "status": r.status,
                    "protocol": display_bytes(&r.protocol),
                    "reason": display_bytes(&r.reason),
                    "headers": headers_json(&r.headers),
                    "trailers": headers_json(&r.trailers),
                    "framing": framing_name(r.framing),
                    "body_len": r.body_len,
                    "complete": r.complete,
                    "anomalies": r.anomalies.names().collect::<Vec<_>>(),
                }),
            );
        }
        serde_json::Value::Object(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_display_escapes_only_invalid_utf8() {
        assert_eq!(display_bytes(b"caf\xc3\xa9 \xff"), "café \\xff");
    }
}
