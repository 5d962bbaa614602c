//! Adversarial request streams (hardening issue, item 2): shared by `benches/ir_driver.rs`
//! (mode `adv`, counted by `scripts/adversarial-report`) and `tests/adversarial.rs`, both
//! through `#[path]`, so that the bench measures exactly the bytes the test checks.
//!
//! Each pattern is one request-direction stream of about `bytes` bytes: a fixed head, a unit
//! repeated to the size, a fixed tail. Everything is generated in code; the same size gives
//! the same bytes.
//!
//! | pattern | head | unit | tail |
//! |---|---|---|---|
//! | `folds` | `GET /latest/meta-data/` request line, `Host: 169.254.169.254`, `X-A: a` | ` b` CRLF (an obs-fold continuation line) | CRLF |
//! | `empty-lines` | – | CRLF | `GET /latest/meta-data/` request |
//! | `chunk-ext` | `POST /upload`, `Host: a`, `Transfer-Encoding: chunked` | chunk `1;ext=aaa…` (100-byte extension) CRLF `x` CRLF | `0` CRLF CRLF |
//! | `tiny-headers` | `GET /latest/meta-data/` request line, `Host: 169.254.169.254` | `a:b` CRLF | CRLF |
//! | `tiny-requests` | – | `GET / HTTP/1.1`, `Host: a`, CRLF | – |
//! | `body` ([`FLOOR`], not an attack) | `POST /upload`, `Host: a`, `Content-Length: 999999999999` | `a` | – |

// The bench and the test each use a different subset.
#![allow(dead_code)]

use imdsguard::flow::{Direction, Event, EventSink};
use imdsguard::http::Anomalies;
use imdsguard::key::FlowKey;
use std::net::{IpAddr, Ipv4Addr};

/// Every pattern, in report order.
pub const PATTERNS: [&str; 5] = [
    "folds",
    "empty-lines",
    "chunk-ext",
    "tiny-headers",
    "tiny-requests",
];

/// A stream that is not among [`PATTERNS`]: one request whose body (a Content-Length that
/// the stream never reaches) is the rest of the stream. Fed a byte per call it takes the
/// cheapest path a call can take (body bytes of a request, which detection does not read),
/// so its cost per call is the floor under every pattern's byte-at-a-time cost.
pub const FLOOR: &str = "body";

/// Bytes of the chunk extension of each `chunk-ext` chunk (`;ext=` included).
pub const CHUNK_EXT_LEN: usize = 100;

/// A metadata request a stream may carry after its adversarial prefix.
pub const HIDDEN: &[u8] =
    b"GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";

/// Head, repeated unit and tail of a pattern.
pub fn parts(pattern: &str) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let (head, unit, tail): (&[u8], Vec<u8>, &[u8]) = match pattern {
        "folds" => (
            b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\nX-A: a\r\n",
            b" b\r\n".to_vec(),
            b"\r\n",
        ),
        "empty-lines" => (
            b"",
            b"\r\n".to_vec(),
            b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
        ),
        "chunk-ext" => {
            let mut unit = b"1;ext=".to_vec();
            unit.resize(1 + CHUNK_EXT_LEN, b'a');
            unit.extend_from_slice(b"\r\nx\r\n");
            (
                b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
                unit,
                b"0\r\n\r\n",
            )
        }
        "tiny-headers" => (
            b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n",
            b"a:b\r\n".to_vec(),
            b"\r\n",
        ),
        "tiny-requests" => (b"", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), b""),
        // Not an attack: the reference for the cost of a call (see [`FLOOR`]).
        FLOOR => (
            b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999\r\n\r\n",
            b"a".to_vec(),
            b"",
        ),
        _ => return None,
    };
    Some((head.to_vec(), unit, tail.to_vec()))
}

/// The stream of `pattern`: head, as many units as fit in `bytes` with head and tail (at
/// least one), tail. `None` for an unknown pattern.
pub fn stream(pattern: &str, bytes: usize) -> Option<Vec<u8>> {
    let (head, unit, tail) = parts(pattern)?;
    let reps = (bytes.saturating_sub(head.len() + tail.len()) / unit.len()).max(1);
    let mut s = Vec::with_capacity(head.len() + reps * unit.len() + tail.len());
    s.extend_from_slice(&head);
    for _ in 0..reps {
        s.extend_from_slice(&unit);
    }
    s.extend_from_slice(&tail);
    Some(s)
}

/// How many units `stream(pattern, bytes)` holds.
pub fn units(pattern: &str, bytes: usize) -> usize {
    let (head, unit, tail) = parts(pattern).expect("a pattern");
    (bytes.saturating_sub(head.len() + tail.len()) / unit.len()).max(1)
}

/// Parses `256KiB`, `1MiB`, `4096`.
pub fn parse_size(s: &str) -> Option<usize> {
    let (num, mult) = if let Some(n) = s.strip_suffix("MiB") {
        (n, 1 << 20)
    } else if let Some(n) = s.strip_suffix("KiB") {
        (n, 1 << 10)
    } else {
        (s, 1)
    };
    num.parse::<usize>().ok().map(|n| n * mult)
}

/// 10.1.2.3:40000 → 169.254.169.254:80: every transaction is judged by detection and alerts
/// (a request to the metadata address).
pub fn metadata_key() -> FlowKey {
    FlowKey::tcp(
        IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
        40_000,
        IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
        80,
    )
}

/// 10.1.2.3:40000 → 10.9.9.9:80: an ordinary destination; only metadata-looking requests
/// alert.
pub fn web_key() -> FlowKey {
    FlowKey::tcp(
        IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
        40_000,
        IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)),
        80,
    )
}

/// What the stream parser reported, summed over a stream: an [`EventSink`] that proves the
/// bytes were parsed as intended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseFacts {
    /// `RequestLine` events.
    pub request_lines: u64,
    /// `Header` events (fields reported; past the limits fields are framed, not reported).
    pub headers: u64,
    /// `Body` bytes (chunked framing removed).
    pub body_bytes: u64,
    /// `MessageComplete` events.
    pub messages: u64,
    /// Union of the anomalies of every message and of the stream.
    pub anomalies: Anomalies,
}

impl EventSink for ParseFacts {
    fn on_event(&mut self, event: &Event<'_>) {
        match *event {
            Event::RequestLine { .. } => self.request_lines += 1,
            Event::Header { .. } => self.headers += 1,
            Event::Body { data, .. } => self.body_bytes += data.len() as u64,
            Event::MessageComplete { anomalies, .. } => {
                self.messages += 1;
                self.anomalies |= anomalies;
            }
            Event::StreamAnomalies { anomalies, .. } => self.anomalies |= anomalies,
            Event::StatusLine { .. } | Event::HeadersComplete { .. } => {}
        }
    }
}

/// Parses `data` whole with a fresh [`imdsguard::flow::HttpStream`] and closes it.
pub fn parse_facts(data: &[u8]) -> ParseFacts {
    let mut facts = ParseFacts::default();
    let mut s = imdsguard::flow::HttpStream::new();
    s.feed(Direction::ToServer, data, &mut facts);
    s.close(Direction::ToServer, &mut facts);
    s.close(Direction::ToClient, &mut facts);
    facts
}
