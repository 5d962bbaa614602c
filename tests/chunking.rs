//! Chunking invariance of the stream parser.
//!
//! The core guarantee of `imdsguard::flow`: the events are identical for every way of
//! splitting the same bytes, in copy mode (`feed`) and in Suricata mode (`parse_in_place`).
//! Events are recorded as owned data and compared whole; the only normalisation is that
//! adjacent `Body` events of the same message are joined (how body bytes are cut is the one
//! thing chunking is allowed to change).
//!
//! - `split_feed_matches_whole_feed`: generated conversations (with gaps at fixed
//!   offsets), whole vs. random splits, interleaved and one direction after the other.
//! - `in_place_matches_feed`: generated conversations, caller-managed buffer vs. `feed`,
//!   and every `Progress` checked against the contract Suricata enforces.
//! - `arbitrary_bytes_*`: no panic in any mode, bounded heap, split invariance.
//! - `heap_stays_bounded_under_floods_and_long_lines`: the heap bound at its worst cases.
//! - `tricky_streams_every_split`: hand-written smuggling and tunnel streams, every split.
//! - `declined_headers_change_nothing_else`: a sink that declines some header events
//!   (`EventSink::wants_header`) gets every other event unchanged.
//!
//! `PROPTEST_CASES` overrides the case counts. Failures print the stream as byte strings.

use imdsguard::flow::{Direction, EventSink, HttpStream, Limits, Progress};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::Config;
use std::collections::BTreeSet;

// ------------------------------------------------------------------------------------------
// Owned events (shared with the fuzz harness)
// ------------------------------------------------------------------------------------------

#[path = "common/owned_events.rs"]
mod owned_events;
use owned_events::{Ev, OddNamesDeclined, Recorder};

// ------------------------------------------------------------------------------------------
// Schedules, splits and drivers
// ------------------------------------------------------------------------------------------

/// The bytes of a connection in the order they are fed: segments of one direction each.
type Schedule = Vec<(Direction, Vec<u8>)>;

const DIRS: [Direction; 2] = [Direction::ToServer, Direction::ToClient];

fn total_len(schedule: &Schedule) -> usize {
    schedule.iter().map(|(_, b)| b.len()).sum()
}

/// All request bytes, then all response bytes.
fn sequential(schedule: &Schedule) -> Schedule {
    DIRS.iter()
        .map(|&d| {
            let bytes = schedule
                .iter()
                .filter(|(sd, _)| *sd == d)
                .flat_map(|(_, b)| b.iter().copied())
                .collect();
            (d, bytes)
        })
        .collect()
}

/// Lost bytes: `(direction, offset in that direction's bytes, length)`, reported with `gap`
/// before the byte at that offset.
type Gaps = Vec<(Direction, usize, u64)>;

/// One call to the parser.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Data(Direction, &'a [u8]),
    Gap(Direction, u64),
}

/// Cuts each segment at the given offsets (counted over the whole schedule).
fn pieces<'a>(schedule: &'a Schedule, cuts: &BTreeSet<usize>) -> Vec<Step<'a>> {
    steps(schedule, &Vec::new(), cuts)
}

/// Cuts each segment at the given offsets and reports the gaps where they fall (a gap
/// always cuts its segment, whatever the other cuts).
fn steps<'a>(schedule: &'a Schedule, gaps: &Gaps, cuts: &BTreeSet<usize>) -> Vec<Step<'a>> {
    let mut out = Vec::new();
    let mut base = 0;
    let mut dir_base = [0usize; 2];
    for (dir, bytes) in schedule {
        let (d, len) = (*dir as usize, bytes.len());
        let gaps_at = |local: usize| {
            gaps.iter()
                .filter(move |g| g.0 == *dir && g.1 == dir_base[d] + local)
                .map(|g| Step::Gap(g.0, g.2))
        };
        let mut marks: BTreeSet<usize> = cuts
            .range(base + 1..(base + len).max(base + 1))
            .map(|c| c - base)
            .collect();
        marks.extend(
            gaps.iter()
                .filter(|g| g.0 == *dir && g.1 >= dir_base[d] && g.1 < dir_base[d] + len)
                .map(|g| g.1 - dir_base[d]),
        );
        marks.insert(len);
        let mut start = 0;
        for m in marks {
            if m > start {
                out.push(Step::Data(*dir, &bytes[start..m]));
                start = m;
            }
            if m < len {
                out.extend(gaps_at(m));
            }
        }
        base += len;
        dir_base[d] += len;
    }
    // Gaps at (or past) the end of a direction.
    for g in gaps.iter().filter(|g| g.1 >= dir_base[g.0 as usize]) {
        out.push(Step::Gap(g.0, g.2));
    }
    out
}

/// How a schedule is cut further.
#[derive(Debug, Clone)]
enum Splits {
    /// One byte per call.
    OneByte,
    /// A piece every `n` bytes.
    Every(usize),
    /// At these (random) positions.
    At(Vec<Index>),
}

impl Splits {
    fn cuts(&self, total: usize) -> BTreeSet<usize> {
        match self {
            Splits::OneByte => (1..total).collect(),
            Splits::Every(n) => (1..total).filter(|c| c % n == 0).collect(),
            Splits::At(ix) if total > 0 => ix.iter().map(|i| i.index(total)).collect(),
            Splits::At(_) => BTreeSet::new(),
        }
    }
}

fn splits() -> impl Strategy<Value = Splits> {
    prop_oneof![
        1 => Just(Splits::OneByte),
        1 => (2usize..9).prop_map(Splits::Every),
        4 => prop::collection::vec(any::<Index>(), 0..40).prop_map(Splits::At),
    ]
}

/// What a run produced.
#[derive(Debug)]
struct Outcome {
    events: Vec<Ev>,
    max_heap: usize,
    /// In place mode: the first `Progress` that broke the Suricata contract.
    contract: Option<String>,
}

fn close_all(s: &mut HttpStream, sink: &mut dyn EventSink, max_heap: &mut usize) {
    for d in DIRS {
        s.close(d, sink);
        *max_heap = (*max_heap).max(s.heap_bytes());
    }
}

/// Copy mode into `sink`: every piece to `feed`, then close both directions. Returns the
/// largest heap seen.
fn feed_into(limits: Limits, steps: &[Step<'_>], sink: &mut dyn EventSink) -> usize {
    let mut s = HttpStream::with_limits(limits);
    let mut max_heap = 0;
    for &step in steps {
        match step {
            Step::Data(dir, piece) => s.feed(dir, piece, sink),
            Step::Gap(dir, len) => s.gap(dir, len, sink),
        }
        max_heap = max_heap.max(s.heap_bytes());
    }
    close_all(&mut s, sink, &mut max_heap);
    max_heap
}

/// Copy mode into a [`Recorder`].
fn run_feed(limits: Limits, steps: &[Step<'_>]) -> Outcome {
    let mut rec = Recorder::default();
    let max_heap = feed_into(limits, steps, &mut rec);
    Outcome {
        events: rec.events,
        max_heap,
        contract: None,
    }
}

/// Copy mode into an [`OddNamesDeclined`] sink: its events.
fn run_feed_picky(limits: Limits, steps: &[Step<'_>]) -> Vec<Ev> {
    let mut picky = OddNamesDeclined::default();
    feed_into(limits, steps, &mut picky);
    picky.0.events
}

/// Checks a `Progress` against the contract Suricata enforces on `AppLayerResult`
/// (`src/app-layer-parser.c`: consumed <= input_len, needed > 0 and
/// consumed + needed >= input_len when incomplete; otherwise the protocol is put in error).
fn check_progress(p: Progress, len: usize) -> Result<(), String> {
    if p.consumed > len {
        return Err(format!("consumed {} > len {len}", p.consumed));
    }
    if p.consumed < len && (p.needed == 0 || p.consumed + p.needed < len) {
        return Err(format!(
            "incomplete result violates the Suricata contract: len {len}, {p:?}"
        ));
    }
    if p.consumed == len && p.needed != 0 {
        return Err(format!("all consumed but needed != 0: {p:?}"));
    }
    Ok(())
}

/// Suricata mode: the caller keeps the unconsumed tail of each direction, appends the next
/// piece and presents it again; at the end the tails go to `feed`, then both directions close.
/// Before a gap the caller hands its tail to `feed` (the bytes after the gap are not
/// contiguous with it).
fn run_in_place(limits: Limits, steps: &[Step<'_>]) -> Outcome {
    let mut s = HttpStream::with_limits(limits);
    let mut rec = Recorder::default();
    let mut max_heap = 0;
    let mut held: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut contract = None;
    for &step in steps {
        let (dir, piece) = match step {
            Step::Data(dir, piece) => (dir, piece),
            Step::Gap(dir, len) => {
                let tail = std::mem::take(&mut held[dir as usize]);
                s.feed(dir, &tail, &mut rec);
                s.gap(dir, len, &mut rec);
                max_heap = max_heap.max(s.heap_bytes());
                continue;
            }
        };
        let buf = &mut held[dir as usize];
        buf.extend_from_slice(piece);
        let p = s.parse_in_place(dir, buf, &mut rec);
        if let Err(e) = check_progress(p, buf.len()) {
            contract.get_or_insert(e);
        }
        buf.drain(..p.consumed.min(buf.len()));
        max_heap = max_heap.max(s.heap_bytes());
    }
    for d in DIRS {
        s.feed(d, &held[d as usize], &mut rec);
        max_heap = max_heap.max(s.heap_bytes());
    }
    close_all(&mut s, &mut rec, &mut max_heap);
    Outcome {
        events: rec.events,
        max_heap,
        contract,
    }
}

fn escape(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

fn show(schedule: &Schedule) -> String {
    schedule
        .iter()
        .map(|(d, b)| format!("  {d:?} b\"{}\"", escape(b)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A schedule and its gaps, printed as byte strings in proptest's failure reports.
#[derive(Clone)]
struct Conv(Schedule, Gaps);

impl std::fmt::Debug for Conv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n{}\n  gaps (dir, offset, len): {:?}\n",
            show(&self.0),
            self.1
        )
    }
}

/// Resolves generated gap positions against the bytes of each direction.
fn resolve_gaps(schedule: &Schedule, specs: &[(bool, Index, u16)]) -> Gaps {
    let len = |d: Direction| -> usize {
        schedule
            .iter()
            .filter(|(sd, _)| *sd == d)
            .map(|(_, b)| b.len())
            .sum()
    };
    specs
        .iter()
        .map(|&(to_client, at, n)| {
            let d = if to_client {
                Direction::ToClient
            } else {
                Direction::ToServer
            };
            (d, at.index(len(d) + 1), u64::from(n) + 1)
        })
        .collect()
}

fn gap_specs() -> impl Strategy<Value = Vec<(bool, Index, u16)>> {
    prop_oneof![
        6 => Just(Vec::new()),
        1 => prop::collection::vec((any::<bool>(), any::<Index>(), 0u16..600), 1..3),
    ]
}

/// The first difference of two event lists, for failure messages.
fn first_diff(a: &[Ev], b: &[Ev]) -> String {
    let i = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    format!(
        "events differ at #{i} (lengths {} vs {}):\n  whole: {:?}\n  split: {:?}",
        a.len(),
        b.len(),
        a.get(i),
        b.get(i)
    )
}

fn small_limits() -> Limits {
    Limits {
        max_line_len: 64,
        max_carry_over: 64,
        max_headers: 8,
        max_folds: 2,
        max_header_block: 256,
        max_chunk_extension: 8,
        max_live_transactions: 2,
    }
}

/// Default case counts: `cargo test --test chunking` stays well under a minute in debug on
/// two cores. `PROPTEST_CASES` overrides all of them.
const CONVERSATION_CASES: u32 = 2048;
const ARBITRARY_CASES: u32 = 512;
const SOUP_CASES: u32 = 2048;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn config(default_cases: u32) -> Config {
    Config {
        cases: cases(default_cases),
        // Keep the working tree clean: no proptest-regressions files.
        failure_persistence: None,
        ..Config::default()
    }
}

// ------------------------------------------------------------------------------------------
// Conversation generator
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eol {
    Crlf,
    Lf,
}

impl Eol {
    fn bytes(self) -> &'static [u8] {
        match self {
            Eol::Crlf => b"\r\n",
            Eol::Lf => b"\n",
        }
    }
}

fn eol() -> impl Strategy<Value = Eol> {
    prop_oneof![12 => Just(Eol::Crlf), 1 => Just(Eol::Lf)]
}

/// One header field as written on the wire.
#[derive(Debug, Clone)]
struct Field {
    name: Vec<u8>,
    space_before_colon: bool,
    value: Vec<u8>,
    /// Continuation lines (obs-fold): leading whitespace and text of each.
    folds: Vec<(&'static str, Vec<u8>)>,
    eol: Eol,
}

impl Field {
    fn plain(name: &str, value: &str) -> Field {
        Field {
            name: name.as_bytes().to_vec(),
            space_before_colon: false,
            value: value.as_bytes().to_vec(),
            folds: Vec::new(),
            eol: Eol::Crlf,
        }
    }

    fn render(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.name);
        if self.space_before_colon {
            out.push(b' ');
        }
        out.extend_from_slice(b": ");
        out.extend_from_slice(&self.value);
        for (ws, text) in &self.folds {
            out.extend_from_slice(self.eol.bytes());
            out.extend_from_slice(ws.as_bytes());
            out.extend_from_slice(text);
        }
        out.extend_from_slice(self.eol.bytes());
    }
}

const HEADER_NAMES: &[&str] = &[
    "Host",
    "host",
    "User-Agent",
    "Accept",
    "Accept-Encoding",
    "X-aws-ec2-metadata-token",
    "x-aws-ec2-metadata-token-ttl-seconds",
    "X-Forwarded-For",
    "Cookie",
    "Connection",
    "Expect",
    "Upgrade",
    "Server",
    "Content-Type",
    "Metadata-Flavor",
    "Transfer-Encoding",
    "Content-Length",
    "Bad Name",
    "X\u{1}Ctl",
];

const HEADER_VALUES: &[&str] = &[
    "169.254.169.254",
    "169.254.169.254:80",
    "[fd00:ec2::254]",
    "Botocore/1.34.0 Python/3.12.1 Linux/6.1",
    "identity",
    "21600",
    "AQAEAHx-1mZl3Yz7Q9Kq0b7GbQ4aAbcdEfGhIjKlMnOpQrStUvWxYz0123==",
    "*/*",
    "close",
    "keep-alive",
    "100-continue",
    "chunked",
    "0",
    "5",
    "-1",
    "99999999999999999999",
    "",
];

fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        20 => 0x20u8..0x7f,
        1 => Just(b'\t'),
        1 => 0x80u8..=0xff,
        1 => Just(b'\r'),
        1 => Just(0u8),
    ];
    prop_oneof![
        3 => select(HEADER_VALUES).prop_map(|v| v.as_bytes().to_vec()),
        2 => prop::collection::vec(byte, 0..24),
    ]
}

fn field() -> impl Strategy<Value = Field> {
    let name = prop_oneof![
        3 => select(HEADER_NAMES).prop_map(|n| n.as_bytes().to_vec()),
        1 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}".prop_map(String::into_bytes),
    ];
    let fold = (
        select(&[" ", "\t", "   "][..]),
        "[ -~]{0,10}".prop_map(String::into_bytes),
    );
    (
        name,
        prop::bool::weighted(0.05),
        value_bytes(),
        prop_oneof![
            10 => Just(Vec::new()),
            1 => prop::collection::vec(fold, 1..4),
        ],
        eol(),
    )
        .prop_map(|(name, space_before_colon, value, folds, eol)| Field {
            name,
            space_before_colon,
            value,
            folds,
            eol,
        })
}

/// How a message carries its body; rendered into framing headers and body bytes.
#[derive(Debug, Clone)]
enum Body {
    None,
    Length {
        data: Vec<u8>,
        leading_zeros: bool,
        /// A second Content-Length: `Some(true)` with the same value, `Some(false)` with
        /// another one.
        duplicate: Option<bool>,
    },
    Chunked {
        chunks: Vec<(Vec<u8>, Option<&'static str>)>,
        trailers: Vec<Field>,
        te: &'static str,
        folded_te: bool,
        also_cl: bool,
        /// A first chunk size of 2^64 (framing is lost there).
        overflow: bool,
    },
    /// Bytes after the header block with no framing header (until close for a response).
    Unframed(Vec<u8>),
}

fn body_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => "[ -~]{0,40}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..max),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    let chunk = (
        body_bytes(40),
        prop_oneof![
            4 => Just(None),
            1 => select(&[";a=b", ";ext", " ;x=\"q\"", ";aaaaaaaaaaaa=1"][..]).prop_map(Some),
        ],
    );
    prop_oneof![
        4 => Just(Body::None),
        4 => (body_bytes(64), prop::bool::weighted(0.1), prop_oneof![
                8 => Just(None),
                1 => Just(Some(true)),
                1 => Just(Some(false)),
            ])
            .prop_map(|(data, leading_zeros, duplicate)| Body::Length {
                data,
                leading_zeros,
                duplicate
            }),
        3 => (
                prop::collection::vec(chunk, 0..4),
                prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(field(), 1..3)],
                select(&["chunked", "chunked", "Chunked", "gzip, chunked", "chunked, identity"][..]),
                prop::bool::weighted(0.1),
                prop::bool::weighted(0.15),
                prop::bool::weighted(0.05),
            )
            .prop_map(|(chunks, trailers, te, folded_te, also_cl, overflow)| Body::Chunked {
                chunks,
                trailers,
                te,
                folded_te,
                also_cl,
                overflow,
            }),
        1 => body_bytes(32).prop_map(Body::Unframed),
    ]
}

impl Body {
    /// The framing fields and the bytes after the header block. `send_body` is false for the
    /// answer to HEAD and for 204/304 (headers say a length, no bytes follow).
    fn render(&self, send_body: bool) -> (Vec<Field>, Vec<u8>) {
        let mut fields = Vec::new();
        let mut out = Vec::new();
        match self {
            Body::None => {}
            Body::Length {
                data,
                leading_zeros,
                duplicate,
            } => {
                let zeros = if *leading_zeros { "00" } else { "" };
                fields.push(Field::plain(
                    "Content-Length",
                    &format!("{zeros}{}", data.len()),
                ));
                match duplicate {
                    Some(true) => {
                        fields.push(Field::plain("content-length", &data.len().to_string()))
                    }
                    Some(false) => fields.push(Field::plain(
                        "Content-Length",
                        &(data.len() + 1).to_string(),
                    )),
                    None => {}
                }
                if send_body {
                    out.extend_from_slice(data);
                }
            }
            Body::Chunked {
                chunks,
                trailers,
                te,
                folded_te,
                also_cl,
                overflow,
            } => {
                let mut te_field = Field::plain("Transfer-Encoding", te);
                if *folded_te {
                    te_field.value.clear();
                    te_field.folds.push((" ", te.as_bytes().to_vec()));
                }
                fields.push(te_field);
                let mut encoded = Vec::new();
                if *overflow {
                    encoded.extend_from_slice(b"10000000000000000\r\n");
                }
                for (data, ext) in chunks.iter().filter(|(d, _)| !d.is_empty()) {
                    encoded.extend_from_slice(format!("{:x}", data.len()).as_bytes());
                    encoded.extend_from_slice(ext.unwrap_or("").as_bytes());
                    encoded.extend_from_slice(b"\r\n");
                    encoded.extend_from_slice(data);
                    encoded.extend_from_slice(b"\r\n");
                }
                encoded.extend_from_slice(b"0\r\n");
                for t in trailers {
                    t.render(&mut encoded);
                }
                encoded.extend_from_slice(b"\r\n");
                if *also_cl {
                    fields.push(Field::plain("Content-Length", &encoded.len().to_string()));
                }
                if send_body {
                    out = encoded;
                }
            }
            Body::Unframed(data) => {
                if send_body {
                    out.extend_from_slice(data);
                }
            }
        }
        (fields, out)
    }
}

/// A message: start line, fields (framing fields inserted at `framing_at`), body.
#[derive(Debug, Clone)]
struct Message {
    start: Vec<u8>,
    start_eol: Eol,
    fields: Vec<Field>,
    framing_at: Index,
    body: Body,
    end_eol: Eol,
}

impl Message {
    fn render(&self, send_body: bool, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.start);
        out.extend_from_slice(self.start_eol.bytes());
        let (framing, body) = self.body.render(send_body);
        let at = self.framing_at.index(self.fields.len() + 1);
        let mut fields = self.fields.clone();
        for (i, f) in framing.into_iter().enumerate() {
            fields.insert(at + i, f);
        }
        for f in &fields {
            f.render(out);
        }
        out.extend_from_slice(self.end_eol.bytes());
        out.extend_from_slice(&body);
    }
}

const METHODS: &[&str] = &[
    "GET", "GET", "GET", "PUT", "HEAD", "POST", "DELETE", "OPTIONS", "PATCH", "CONNECT", "FOO",
    "get", "M-SEARCH", "PROPFIND", "G\u{1}T",
];

const TARGETS: &[&str] = &[
    "/",
    "/index.html?q=1&r=%2F",
    "/latest/meta-data/",
    "/latest/meta-data/iam/security-credentials/",
    "/latest/meta-data/iam/security-credentials/ec2-role",
    "/latest/api/token",
    "/latest/user-data",
    "/%6catest/meta-data/",
    "/latest/../latest/meta-data/instance-id",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/api/token",
    "HTTP://user@169.254.169.254:80/latest/",
    "169.254.169.254:80",
    "metadata.google.internal:443",
    "*",
    "/a b",
    "",
];

const VERSIONS: &[&str] = &[
    " HTTP/1.1",
    " HTTP/1.1",
    " HTTP/1.1",
    " HTTP/1.0",
    "",
    " HTTP/1.2",
    " http/1.1",
    "  HTTP/1.1 ",
];

fn message(
    start: impl Strategy<Value = Vec<u8>>,
    max_fields: usize,
) -> impl Strategy<Value = Message> {
    (
        start,
        eol(),
        prop::collection::vec(field(), 0..max_fields),
        any::<Index>(),
        body(),
        eol(),
    )
        .prop_map(
            |(start, start_eol, fields, framing_at, body, end_eol)| Message {
                start,
                start_eol,
                fields,
                framing_at,
                body,
                end_eol,
            },
        )
}

fn request() -> impl Strategy<Value = Message> {
    let start = (select(METHODS), select(TARGETS), select(VERSIONS))
        .prop_map(|(m, t, v)| format!("{m} {t}{v}").into_bytes());
    message(start, 21)
}

fn status_line(codes: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    (
        select(&["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "http/1.1"][..]),
        select(codes),
        select(&[" OK", " Whatever", "", " "][..]),
    )
        .prop_map(|(v, c, r)| format!("{v} {c}{r}").into_bytes())
}

const FINAL_CODES: &[&str] = &[
    "200", "200", "200", "201", "204", "206", "301", "304", "400", "401", "403", "404", "405",
    "407", "500", "101", "999", "20", "2000", "abc",
];

fn interim() -> impl Strategy<Value = Vec<u8>> {
    (
        status_line(&["100", "102", "103"]),
        prop::collection::vec(field(), 0..2),
    )
        .prop_map(|(start, fields)| {
            let mut out = start;
            out.extend_from_slice(b"\r\n");
            for f in &fields {
                f.render(&mut out);
            }
            out.extend_from_slice(b"\r\n");
            out
        })
}

fn junk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        12 => Just(Vec::new()),
        1 => prop::collection::vec(any::<u8>(), 1..16),
        1 => Just(b"\r\n".to_vec()),
    ]
}

/// A request, the answers to it, and junk around them.
#[derive(Debug, Clone)]
struct Exchange {
    junk_before_request: Vec<u8>,
    request: Message,
    interim: Vec<Vec<u8>>,
    response: Option<Message>,
    /// After a CONNECT: bytes of the tunnel (or of the next request) in each direction.
    junk_after: (Vec<u8>, Vec<u8>),
}

fn exchange() -> impl Strategy<Value = Exchange> {
    (
        junk(),
        request(),
        prop::collection::vec(interim(), 0..2),
        prop_oneof![1 => Just(None), 6 => message(status_line(FINAL_CODES), 8).prop_map(Some)],
        (junk(), junk()),
    )
        .prop_map(
            |(junk_before_request, request, interim, response, junk_after)| Exchange {
                junk_before_request,
                request,
                interim,
                response,
                junk_after,
            },
        )
}

/// A conversation as a schedule: each request, then its answers, in order.
fn conversation() -> impl Strategy<Value = Conv> {
    (prop::collection::vec(exchange(), 0..7), gap_specs()).prop_map(|(exchanges, gaps)| {
        let mut schedule: Schedule = Vec::new();
        let mut push = |dir: Direction, bytes: Vec<u8>| {
            if !bytes.is_empty() {
                schedule.push((dir, bytes));
            }
        };
        for x in &exchanges {
            let mut req = x.junk_before_request.clone();
            x.request.render(true, &mut req);
            push(Direction::ToServer, req);
            let head = x.request.start.to_ascii_uppercase().starts_with(b"HEAD ");
            let mut resp = Vec::new();
            for i in &x.interim {
                resp.extend_from_slice(i);
            }
            if let Some(r) = &x.response {
                let no_body = head
                    || r.start.windows(5).any(|w| w == b" 204 " || w == b" 304 ")
                    || r.start.ends_with(b" 204")
                    || r.start.ends_with(b" 304");
                r.render(!no_body, &mut resp);
            }
            push(Direction::ToClient, resp);
            push(Direction::ToServer, x.junk_after.0.clone());
            push(Direction::ToClient, x.junk_after.1.clone());
        }
        let gaps = resolve_gaps(&schedule, &gaps);
        Conv(schedule, gaps)
    })
}

// ------------------------------------------------------------------------------------------
// Properties
// ------------------------------------------------------------------------------------------

fn assert_same(schedule: &Schedule, gaps: &Gaps, whole: &Outcome, other: &Outcome, what: &str) {
    assert!(
        whole.events == other.events,
        "{what}: {}\nstream:\n{}\ngaps: {gaps:?}",
        first_diff(&whole.events, &other.events),
        show(schedule)
    );
}

proptest! {
    #![proptest_config(config(CONVERSATION_CASES))]

    /// (a) Whole feed vs. random splits, for the interleaved schedule and for each
    /// direction fed in order (all requests, then all responses), default and small limits.
    #[test]
    fn split_feed_matches_whole_feed(Conv(schedule, gaps) in conversation(), splits in splits(), small in prop::bool::weighted(0.25)) {
        let limits = if small { small_limits() } else { Limits::default() };
        for sched in [schedule.clone(), sequential(&schedule)] {
            let whole = run_feed(limits, &steps(&sched, &gaps, &BTreeSet::new()));
            let cut = run_feed(limits, &steps(&sched, &gaps, &splits.cuts(total_len(&sched))));
            assert_same(&sched, &gaps, &whole, &cut, "feed split");
        }
    }

    /// (d) Declining header events (`EventSink::wants_header`) takes out exactly those
    /// events: framing, anomalies, limits and every other event stay as they were.
    #[test]
    fn declined_headers_change_nothing_else(Conv(schedule, gaps) in conversation(), splits in splits(), small in prop::bool::weighted(0.25)) {
        let limits = if small { small_limits() } else { Limits::default() };
        let p = steps(&schedule, &gaps, &splits.cuts(total_len(&schedule)));
        let all = OddNamesDeclined::expected(run_feed(limits, &p).events);
        let picky = run_feed_picky(limits, &p);
        prop_assert!(all == picky, "{}\nstream:\n{}", first_diff(&all, &picky), show(&schedule));
    }

    /// (b) `parse_in_place` with a caller-managed buffer gives the events of `feed`.
    #[test]
    fn in_place_matches_feed(Conv(schedule, gaps) in conversation(), splits in splits(), small in prop::bool::weighted(0.25)) {
        let limits = if small { small_limits() } else { Limits::default() };
        for sched in [schedule.clone(), sequential(&schedule)] {
            let p = steps(&sched, &gaps, &splits.cuts(total_len(&sched)));
            let fed = run_feed(limits, &p);
            let in_place = run_in_place(limits, &p);
            assert_same(&sched, &gaps, &fed, &in_place, "in place");
            assert!(in_place.contract.is_none(), "{:?}\nstream:\n{}", in_place.contract, show(&sched));
        }
    }
}

/// Heap a parser may hold: one line of carry-over in the response direction, one line or
/// the bytes held for a CONNECT answer (`max_carry_over`) in the request direction, and the
/// queue of requests waiting for their response (16-byte entries, at most
/// `max_live_transactions`, in a `VecDeque` that grows by doubling). With
/// `max_carry_over == max_line_len` (the default) that is `2 * max_line_len` + the queue.
fn heap_bound(limits: Limits) -> usize {
    let limits = limits.sanitized();
    limits.max_line_len
        + limits.max_carry_over
        + 16 * limits.max_live_transactions.next_power_of_two().max(4)
}

fn arbitrary_modes(limits: Limits, data: &[u8], splits: &Splits, gaps: &[(bool, Index, u16)]) {
    // The same bytes in both directions, interleaved in pieces.
    let schedule: Schedule = vec![
        (Direction::ToServer, data.to_vec()),
        (Direction::ToClient, data.to_vec()),
    ];
    let cuts = splits.cuts(total_len(&schedule));
    let bound = heap_bound(limits);
    for gaps in [Vec::new(), resolve_gaps(&schedule, gaps)] {
        let whole = run_feed(limits, &steps(&schedule, &gaps, &BTreeSet::new()));
        let cut = run_feed(limits, &steps(&schedule, &gaps, &cuts));
        let in_place = run_in_place(limits, &steps(&schedule, &gaps, &cuts));
        for (o, what) in [(&whole, "whole"), (&cut, "split"), (&in_place, "in place")] {
            assert!(
                o.max_heap <= bound,
                "{what}: heap {} > bound {bound} ({limits:?})",
                o.max_heap
            );
        }
        assert_same(
            &schedule,
            &gaps,
            &whole,
            &cut,
            "arbitrary bytes, feed split",
        );
        assert_same(
            &schedule,
            &gaps,
            &whole,
            &in_place,
            "arbitrary bytes, in place",
        );
    }
    // Calls after the end: ignored, no panic.
    let mut s = HttpStream::with_limits(limits);
    let mut rec = Recorder::default();
    for d in DIRS {
        s.feed(d, data, &mut rec);
        s.close(d, &mut rec);
        s.feed(d, b"GET / HTTP/1.1\r\n\r\n", &mut rec);
        s.gap(d, 5, &mut rec);
        let _ = s.parse_in_place(d, data, &mut rec);
        s.close(d, &mut rec);
    }
}

/// Fragments that steer arbitrary bytes into every state of the machine.
const SOUP: &[&str] = &[
    "GET / HTTP/1.1\r\n",
    "PUT /latest/api/token HTTP/1.1\r\n",
    "CONNECT 169.254.169.254:80 HTTP/1.1\r\n",
    "HEAD / HTTP/1.0\r\n",
    "HTTP/1.1 200 OK\r\n",
    "HTTP/1.1 100 Continue\r\n",
    "HTTP/1.1 407 Auth\r\n",
    "HTTP/1.1 101 Switching\r\n",
    "Host: 169.254.169.254\r\n",
    "Content-Length: 5\r\n",
    "Content-Length: 0\r\n",
    "Transfer-Encoding: chunked\r\n",
    "X-aws-ec2-metadata-token: abc\r\n",
    " folded\r\n",
    "\r\n",
    "\n",
    "5\r\n",
    "0\r\n",
    "ffffffffffffffffff\r\n",
    "3;ext=1\r\nabc\r\n",
];

fn soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => select(SOUP).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::collection::vec(any::<u8>(), 0..24),
        ],
        0..64,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config(ARBITRARY_CASES))]

    /// (c) Arbitrary bytes: no panic in any mode (copy, split, in place, gaps), the heap
    /// stays bounded, and splitting still changes nothing.
    #[test]
    fn arbitrary_bytes_never_panic(
        data in prop::collection::vec(any::<u8>(), 0..4096),
        splits in splits(),
        gaps in prop::collection::vec((any::<bool>(), any::<Index>(), any::<u16>()), 0..3),
    ) {
        arbitrary_modes(Limits::default(), &data, &splits, &gaps);
        arbitrary_modes(small_limits(), &data, &splits, &gaps);
        arbitrary_modes(Limits { max_line_len: 64, ..Limits::default() }, &data, &splits, &gaps);
    }
}

proptest! {
    #![proptest_config(config(SOUP_CASES))]

    /// (c) The same over a soup of HTTP fragments and random bytes, which reaches deeper
    /// states than uniform bytes do.
    #[test]
    fn arbitrary_bytes_soup(
        data in soup(),
        splits in splits(),
        gaps in prop::collection::vec((any::<bool>(), any::<Index>(), 0u16..64), 0..3),
    ) {
        arbitrary_modes(Limits::default(), &data, &splits, &gaps);
        arbitrary_modes(small_limits(), &data, &splits, &gaps);
    }
}

// ------------------------------------------------------------------------------------------
// (d) Hand-written tricky streams, every split
// ------------------------------------------------------------------------------------------

fn req(bytes: &[u8]) -> (Direction, Vec<u8>) {
    (Direction::ToServer, bytes.to_vec())
}

fn resp(bytes: &[u8]) -> (Direction, Vec<u8>) {
    (Direction::ToClient, bytes.to_vec())
}

fn tricky_streams() -> Vec<(&'static str, Schedule)> {
    let mut chunk_2_64 =
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunk_2_64.extend_from_slice(b"10000000000000000\r\nAAAA\r\n0\r\n\r\n");
    chunk_2_64
        .extend_from_slice(b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n");
    // Past the small limits' line length (64) and header block (256).
    let mut long_field_then_fields = b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: ".to_vec();
    long_field_then_fields.extend_from_slice(&[b'a'; 300]);
    long_field_then_fields.extend_from_slice(b"\r\nX-aws-ec2-metadata-token: t\r\n\r\n");
    let mut folds_after_long_line = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
    folds_after_long_line.extend_from_slice(&[b'b'; 70]);
    folds_after_long_line.extend_from_slice(b"\r\n \r\n \r\n \r\nContent-Length: 0\r\n\r\n");
    let mut long_http09_response = vec![b'c'; 100];
    long_http09_response.extend_from_slice(b"\n{\"Code\":\"Success\"}");
    let tls = b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    vec![
        (
            "TE+CL",
            vec![
                req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n"),
                resp(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nrole"),
            ],
        ),
        (
            "CL+TE, CL first, TE obs-folded",
            vec![req(b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding:\r\n chunked\r\nHost: a\r\n\r\n5\r\nAAAAA\r\n0\r\n\r\nPUT /latest/api/token HTTP/1.1\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n")],
        ),
        (
            "TE chunked, identity",
            vec![
                req(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\nrest until close"),
            ],
        ),
        (
            "CL leading zeros and duplicates",
            vec![
                req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\nhelloPOST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabcPOST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcdGET /latest/api/token HTTP/1.1\r\n\r\n"),
            ],
        ),
        ("chunk size 2^64", vec![req(&chunk_2_64)]),
        (
            "chunk extensions, trailers, bare LF, lone CR",
            vec![
                req(b"POST / HTTP/1.1\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b;c=\"d\"\r\nabc\r\n2 ;x\nde\r\n0\r\nX-Trailer: 1\r\nX-aws-ec2-metadata-token: t\r\n\r\nGET /a\rb HTTP/1.1\r\nX: a\rb\r\n\r\n"),
                resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            ],
        ),
        (
            "pipelined requests, interleaved answers, 100-continue, HEAD, 204, 304",
            vec![
                req(b"PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\nHEAD /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\nGET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nX-aws-ec2-metadata-token: AQAEAAAA==\r\n\r\n"),
                resp(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nAQAEAAAAHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"),
                req(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
                resp(b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close\r\n\r\nHTTP/1.1 200 OK\r\n"),
            ],
        ),
        (
            "CONNECT, 200, then binary",
            vec![
                req(b"CONNECT 169.254.169.254:443 HTTP/1.1\r\nHost: 169.254.169.254:443\r\n\r\n"),
                req(tls),
                resp(b"HTTP/1.1 200 Connection established\r\n\r\n"),
                resp(tls),
                req(tls),
            ],
        ),
        (
            "CONNECT, request bytes before the 200",
            vec![
                req(b"CONNECT 169.254.169.254:443 HTTP/1.1\r\n\r\n"),
                req(tls),
                resp(b"HTTP/1.1 200 OK\r\n\r\n"),
            ],
        ),
        (
            "CONNECT, 407, then request",
            vec![
                req(b"CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n"),
                resp(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny"),
                req(b"GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n"),
                resp(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nami"),
            ],
        ),
        (
            "CONNECT, request sent before the 407",
            vec![
                req(b"CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\nGET http://169.254.169.254/latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n"),
                resp(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntok"),
            ],
        ),
        (
            "HTTP/0.9",
            vec![
                req(b"GET /latest/meta-data/iam/security-credentials/\r\n"),
                resp(b"ec2-role\n{\"Code\":\"Success\"}"),
            ],
        ),
        (
            "101 upgrade",
            vec![
                req(b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"),
                resp(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"),
                req(b"\x81\x85abcdGET / HTTP/1.1\r\n\r\n"),
            ],
        ),
        (
            "junk, leading empty lines, response without request",
            vec![
                resp(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
                req(b"\r\n\r\n\x16\x03garbage\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            ],
        ),
        (
            "long line past the small limit, many folds, many headers",
            vec![req(b"GET /latest/meta-data/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nX-Long: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\nX-Fold: a\r\n b\r\n c\r\n d\r\n e\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\n\r\nGET / HTTP/1.1\r\n\r\n")],
        ),
        (
            "over-long field, then more fields (header block accounting)",
            vec![req(&long_field_then_fields)],
        ),
        (
            "fold limit reached after the line limit",
            vec![
                req(b"GET / HTTP/1.1\r\n\r\n"),
                resp(&folds_after_long_line),
            ],
        ),
        (
            "HTTP/0.9 response with a long first line",
            vec![
                req(b"GET /latest/meta-data/\r\n"),
                resp(&long_http09_response),
            ],
        ),
        (
            "truncated message at close",
            vec![
                req(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"),
                resp(b"HTTP/1.1 200 OK\r\nX-Partial: ab"),
            ],
        ),
    ]
}

/// Every split of `schedule` into two pieces at each offset, plus one byte at a time.
fn every_split(name: &str, schedule: &Schedule, limits: Limits) -> Vec<String> {
    let total = total_len(schedule);
    let whole = run_feed(limits, &pieces(schedule, &BTreeSet::new()));
    assert!(!whole.events.is_empty(), "{name}: no events at all");
    let name = format!(
        "{name} ({} limits)",
        if limits == Limits::default() {
            "default"
        } else {
            "small"
        }
    );
    let mut failures = Vec::new();
    let mut check = |label: String, cuts: BTreeSet<usize>| {
        let p = pieces(schedule, &cuts);
        let fed = run_feed(limits, &p);
        if fed.events != whole.events {
            failures.push(format!(
                "{name} [{label}] feed: {}",
                first_diff(&whole.events, &fed.events)
            ));
        }
        let o = run_in_place(limits, &p);
        if o.events != whole.events {
            failures.push(format!(
                "{name} [{label}] in place: {}",
                first_diff(&whole.events, &o.events)
            ));
        }
        if let Some(e) = o.contract {
            failures.push(format!("{name} [{label}] in place: {e}"));
        }
    };
    for i in 1..total {
        check(format!("split at {i}"), BTreeSet::from([i]));
    }
    check("1-byte".into(), (1..total).collect());
    if failures.is_empty() {
        return Vec::new();
    }
    let n = failures.len();
    failures.truncate(2);
    failures.push(format!(
        "({n} failing splits in all)\nstream:\n{}",
        show(schedule)
    ));
    failures
}

#[test]
fn tricky_streams_every_split() {
    let mut failures = Vec::new();
    for (name, schedule) in tricky_streams() {
        failures.extend(every_split(name, &schedule, Limits::default()));
        failures.extend(every_split(name, &schedule, small_limits()));
        failures.extend(every_split(name, &sequential(&schedule), Limits::default()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A response whose second line never ends.
fn long_resp_of(limits: Limits) -> Vec<u8> {
    let mut long_resp = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
    long_resp.resize(long_resp.len() + 3 * limits.max_line_len, b'b');
    long_resp
}

/// (c) The heap bound under the ways to grow: a pipelined flood with no answers (the
/// queue of waiting requests) and an unfinished over-long line in both directions at once
/// (the carry-over buffers), in copy and in place mode.
#[test]
fn heap_stays_bounded_under_floods_and_long_lines() {
    let limit_sets = [
        Limits::default(),
        small_limits(),
        Limits {
            max_line_len: 64,
            ..Limits::default()
        },
    ];
    for limits in limit_sets {
        let bound = heap_bound(limits);
        let mut flood = Vec::new();
        while flood.len() < 64 * 1024 {
            flood.extend_from_slice(
                b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
            );
        }
        let mut long = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
        long.resize(long.len() + 3 * limits.max_line_len, b'a');
        let long_resp = long_resp_of(limits);
        let flood_and_long_lines: Schedule = vec![
            (Direction::ToServer, flood),
            (Direction::ToServer, long),
            (Direction::ToClient, long_resp),
        ];
        // Request bytes sent before the CONNECT answer, held up to `max_carry_over`.
        let mut connect = b"CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n".to_vec();
        connect.resize(connect.len() + limits.sanitized().max_carry_over - 3, b'x');
        let connect_held: Schedule = vec![
            (Direction::ToServer, connect),
            (Direction::ToClient, long_resp_of(limits)),
        ];
        let cases = [
            (&flood_and_long_lines, Splits::Every(7)),
            (&flood_and_long_lines, Splits::Every(1460)),
            (&connect_held, Splits::Every(3)),
            (&connect_held, Splits::Every(1460)),
        ];
        for (schedule, splits) in cases {
            let p = pieces(schedule, &splits.cuts(total_len(schedule)));
            let fed = run_feed(limits, &p);
            let in_place = run_in_place(limits, &p);
            for (o, what) in [(&fed, "feed"), (&in_place, "in place")] {
                assert!(
                    o.max_heap <= bound,
                    "{what} {splits:?}: heap {} > bound {bound} ({limits:?})",
                    o.max_heap
                );
            }
        }
    }
}

/// The harness itself: steps keep every byte in order and put gaps where they belong.
#[test]
fn steps_keep_bytes_and_place_gaps() {
    let schedule: Schedule = vec![
        (Direction::ToServer, b"abcdef".to_vec()),
        (Direction::ToClient, b"XYZ".to_vec()),
        (Direction::ToServer, b"gh".to_vec()),
    ];
    let gaps: Gaps = vec![
        (Direction::ToServer, 0, 1),
        (Direction::ToServer, 3, 2),
        (Direction::ToServer, 6, 3),
        (Direction::ToClient, 3, 4),
    ];
    let cuts = BTreeSet::from([1, 2, 7, 10]);
    let mut got = String::new();
    for step in steps(&schedule, &gaps, &cuts) {
        match step {
            Step::Data(d, b) => got.push_str(&format!("{d:?}:{} ", escape(b))),
            Step::Gap(d, n) => got.push_str(&format!("{d:?}:gap{n} ")),
        }
    }
    assert_eq!(
        got,
        "ToServer:gap1 ToServer:a ToServer:b ToServer:c ToServer:gap2 ToServer:def \
         ToClient:X ToClient:YZ ToServer:gap3 ToServer:g ToServer:h ToClient:gap4 "
    );
}
