//! The parsers and scanners measured side by side, each behind one `open / feed / close`
//! interface ([`Peer`]), and the drivers that run one over a [`FlowCorpus`].
//!
//! - [`Imdsguard`]: `engine::Flow` (parse + IMDS detection + policy), one per connection.
//! - [`Stream`]: `flow::HttpStream` alone (parse only) with a sink that counts messages.
//! - [`Httparse`]: httparse 1.x (parse only) with the framing a caller must add
//!   (`Content-Length`, chunked through `httparse::parse_chunk_size`, bodiless statuses) and
//!   a carry buffer: a head cut by a chunk boundary is kept and parsed again from its start
//!   when more bytes arrive. Whole buffers are parsed in place, without copying.
//! - [`Libhtp`] (feature `libhtp`): libhtp 0.5 with the peer IMDS rule ([`imds_rule`]) in
//!   its request-headers callback.
//! - [`Regex`]: the naive scanner, `(?i)(/latest/(meta-data|api/token)|x-aws-ec2-metadata-token)`
//!   over each flow side; it cannot tell a header from a body.
//! - [`Lines`]: a `memchr` for each line's LF and colon, nothing else: the floor of any
//!   parser that finds the lines of a head one at a time. [`LinesByBlock`]: the same found
//!   by SSE2 masks of 64 bytes at a time, the floor of a block-wise classifier.
//! - [`Memmem`] (`/latest/`) and [`Memcpy`]: one vectorised pass, one copy: the physical
//!   limit.

use super::{FlowCorpus, FlowData, Side};
use imdsguard::engine::{Engine, Flow};
use imdsguard::flow::{Direction, Event, EventSink, HttpStream};
use std::cell::RefCell;
use std::sync::Arc;

/// What a run counted, to check that every peer read everything.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Requests read.
    pub requests: usize,
    /// Responses read.
    pub responses: usize,
    /// Requests matched by the peer's IMDS rule, or HTTP alerts raised (imdsguard).
    pub imds: usize,
    /// Flows with at least one match (scanners) or alert (imdsguard).
    pub flagged_flows: usize,
    /// Parse errors.
    pub errors: usize,
}

/// One parser or scanner, per connection.
pub trait Peer {
    type Conn;
    fn name(&self) -> &'static str;
    fn open(&self, f: &FlowData) -> Self::Conn;
    fn feed(&self, c: &mut Self::Conn, dir: Direction, data: &[u8]);
    fn close(&self, c: &mut Self::Conn, tally: &mut Tally);
}

/// Feeds `data` in pieces of at most `chunk` bytes.
#[inline]
fn feed_chunks<P: Peer>(p: &P, c: &mut P::Conn, dir: Direction, data: &[u8], chunk: usize) {
    if chunk >= data.len() {
        p.feed(c, dir, data);
    } else {
        for piece in data.chunks(chunk) {
            p.feed(c, dir, piece);
        }
    }
}

/// Runs a request corpus: per flow, open, feed the client side in `chunk`-byte pieces, close.
pub fn run_requests<P: Peer>(p: &P, corpus: &FlowCorpus, chunk: usize) -> Tally {
    debug_assert_eq!(corpus.side, Side::Requests);
    let mut t = Tally::default();
    for f in &corpus.flows {
        let mut c = p.open(f);
        feed_chunks(p, &mut c, Direction::ToServer, &f.to_server, chunk);
        p.close(&mut c, &mut t);
    }
    t
}

/// The untimed part of a response corpus: every flow opened and its requests fed whole.
pub fn prepare_responses<P: Peer>(p: &P, corpus: &FlowCorpus) -> Vec<P::Conn> {
    corpus
        .flows
        .iter()
        .map(|f| {
            let mut c = p.open(f);
            p.feed(&mut c, Direction::ToServer, &f.to_server);
            c
        })
        .collect()
}

/// The timed part of a response corpus: the server side of every flow in `chunk`-byte
/// pieces, then close. The connections are left to the caller to drop (untimed).
pub fn run_responses<P: Peer>(
    p: &P,
    corpus: &FlowCorpus,
    conns: &mut [P::Conn],
    chunk: usize,
) -> Tally {
    let mut t = Tally::default();
    for (f, c) in corpus.flows.iter().zip(conns.iter_mut()) {
        feed_chunks(p, c, Direction::ToClient, &f.to_client, chunk);
        p.close(c, &mut t);
    }
    t
}

/// Either kind of corpus, preparation included (for checks and the instruction counter).
pub fn run_corpus<P: Peer>(p: &P, corpus: &FlowCorpus, chunk: usize) -> Tally {
    match corpus.side {
        Side::Requests => run_requests(p, corpus, chunk),
        Side::Responses => {
            let mut conns = prepare_responses(p, corpus);
            run_responses(p, corpus, &mut conns, chunk)
        }
    }
}

/// Checks a tally against the corpus: every message read, no error, and for matchers on
/// requests exactly the IMDS requests (flows) matched.
pub fn check(peer: &str, corpus: &FlowCorpus, chunk: usize, t: &Tally) {
    let ctx = format!("{peer} on {} in {chunk}-byte chunks: {t:?}", corpus.name);
    let n = corpus.messages();
    assert_eq!(t.errors, 0, "{ctx}");
    match peer {
        "imdsguard-flow" => {
            assert_eq!(t.imds, corpus.imds_messages(), "alerts: {ctx}");
            assert_eq!(t.flagged_flows, corpus.imds_flows(), "flows: {ctx}");
        }
        "imdsguard-stream" | "httparse" | "libhtp" => {
            let read = match corpus.side {
                Side::Requests => t.requests,
                Side::Responses => t.responses,
            };
            assert_eq!(read, n, "messages: {ctx}");
            if peer == "libhtp" && corpus.side == Side::Requests {
                assert_eq!(t.imds, corpus.imds_messages(), "IMDS matches: {ctx}");
            }
        }
        "lines" | "lines-by-block" if corpus.side == Side::Requests => {
            assert_eq!(t.requests, n, "messages: {ctx}");
        }
        "regex" if corpus.side == Side::Requests => {
            assert_eq!(t.flagged_flows, corpus.imds_flows(), "flows: {ctx}");
        }
        _ => {}
    }
}

// ------------------------------------------------------------------------------------------
// The peer IMDS rule (httparse, libhtp)
// ------------------------------------------------------------------------------------------

/// What a peer matcher on a parsed request checks, the least that catches botocore: the
/// target under `/latest/`, a metadata `Host`, or an IMDSv2 token header.
pub fn imds_rule(uri: &[u8], host: Option<&[u8]>, token_header: bool) -> bool {
    token_header
        || uri.starts_with(b"/latest/")
        || host.is_some_and(|h| {
            h == b"169.254.169.254"
                || h == b"[fd00:ec2::254]"
                || h.eq_ignore_ascii_case(b"metadata.google.internal")
        })
}

// ------------------------------------------------------------------------------------------
// imdsguard
// ------------------------------------------------------------------------------------------

/// `engine::Flow`: parse, match, policy; alerts drained at close. The engine is shared
/// (`Arc`) so that threads can use one.
pub struct Imdsguard {
    pub engine: Arc<Engine>,
}

impl Default for Imdsguard {
    fn default() -> Self {
        Imdsguard {
            engine: Arc::new(Engine::default()),
        }
    }
}

impl Peer for Imdsguard {
    type Conn = Flow;
    fn name(&self) -> &'static str {
        "imdsguard-flow"
    }
    #[inline]
    fn open(&self, f: &FlowData) -> Flow {
        Flow::new(&self.engine, f.key)
    }
    #[inline]
    fn feed(&self, c: &mut Flow, dir: Direction, data: &[u8]) {
        c.feed(&self.engine, dir, data);
    }
    #[inline]
    fn close(&self, c: &mut Flow, t: &mut Tally) {
        c.close(&self.engine);
        let s = c.stats();
        t.requests += s.transactions as usize;
        let alerts = c.drain_alerts().filter(|a| a.tx.is_some()).count();
        t.imds += alerts;
        t.flagged_flows += usize::from(alerts > 0);
    }
}

/// A sink that does the least a real consumer does: look at each event.
#[derive(Debug, Default)]
pub struct CountSink {
    pub events: usize,
    pub requests: usize,
    pub responses: usize,
}

impl EventSink for CountSink {
    #[inline]
    fn on_event(&mut self, event: &Event<'_>) {
        self.events += 1;
        match event {
            Event::RequestLine { .. } => self.requests += 1,
            Event::StatusLine { line, .. } if !line.is_interim() => self.responses += 1,
            _ => {}
        }
    }
}

/// `flow::HttpStream` alone: parse only.
pub struct Stream;

impl Peer for Stream {
    type Conn = (HttpStream, CountSink);
    fn name(&self) -> &'static str {
        "imdsguard-stream"
    }
    #[inline]
    fn open(&self, _: &FlowData) -> Self::Conn {
        (HttpStream::new(), CountSink::default())
    }
    #[inline]
    fn feed(&self, c: &mut Self::Conn, dir: Direction, data: &[u8]) {
        c.0.feed(dir, data, &mut c.1);
    }
    #[inline]
    fn close(&self, c: &mut Self::Conn, t: &mut Tally) {
        c.0.close(Direction::ToServer, &mut c.1);
        c.0.close(Direction::ToClient, &mut c.1);
        t.requests += std::mem::take(&mut c.1.requests);
        t.responses += std::mem::take(&mut c.1.responses);
    }
}

// ------------------------------------------------------------------------------------------
// httparse
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkCrlf,
    Trailer,
}

/// One direction of an httparse connection.
#[derive(Debug)]
pub struct HpHalf {
    carry: Vec<u8>,
    state: Framing,
    messages: usize,
    errors: usize,
}

impl HpHalf {
    fn new() -> HpHalf {
        HpHalf {
            carry: Vec::new(),
            state: Framing::Head,
            messages: 0,
            errors: 0,
        }
    }

    fn feed(&mut self, response: bool, data: &[u8]) {
        if self.carry.is_empty() {
            let used = self.consume(response, data);
            if used < data.len() {
                self.carry.extend_from_slice(&data[used..]);
            }
        } else {
            let mut buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(data);
            let used = self.consume(response, &buf);
            buf.drain(..used);
            self.carry = buf;
        }
    }

    /// Framing of a head: (content length, chunked).
    fn framing(headers: &[httparse::Header<'_>]) -> (u64, bool) {
        let (mut len, mut chunked) = (0, false);
        for h in headers {
            if h.name.len() == 14 && h.name.eq_ignore_ascii_case("content-length") {
                len = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
            } else if h.name.len() == 17
                && h.name.eq_ignore_ascii_case("transfer-encoding")
                && h.value.eq_ignore_ascii_case(b"chunked")
            {
                chunked = true;
            }
        }
        (len, chunked)
    }

    /// Consumes what it can of `data`; returns how many bytes.
    fn consume(&mut self, response: bool, data: &[u8]) -> usize {
        let mut pos = 0;
        loop {
            let rest = &data[pos..];
            match self.state {
                Framing::Head => {
                    if rest.is_empty() {
                        return pos;
                    }
                    let mut headers = [httparse::EMPTY_HEADER; 32];
                    let (parsed, len, chunked, bodiless) = if response {
                        let mut r = httparse::Response::new(&mut headers);
                        let parsed = r.parse(rest);
                        let (len, chunked) = Self::framing(r.headers);
                        let code = r.code.unwrap_or(0);
                        (
                            parsed,
                            len,
                            chunked,
                            (100..200).contains(&code) || code == 204 || code == 304,
                        )
                    } else {
                        let mut r = httparse::Request::new(&mut headers);
                        let parsed = r.parse(rest);
                        let (len, chunked) = Self::framing(r.headers);
                        (parsed, len, chunked, false)
                    };
                    match parsed {
                        Ok(httparse::Status::Complete(n)) => {
                            pos += n;
                            self.messages += 1;
                            self.state = if bodiless {
                                Framing::Head
                            } else if chunked {
                                Framing::ChunkSize
                            } else if len > 0 {
                                Framing::Length(len)
                            } else {
                                Framing::Head
                            };
                        }
                        Ok(httparse::Status::Partial) => return pos,
                        Err(_) => {
                            self.errors += 1;
                            return data.len();
                        }
                    }
                }
                Framing::Length(left) | Framing::ChunkData(left) => {
                    let take = left.min(rest.len() as u64);
                    pos += take as usize;
                    let left = left - take;
                    if left > 0 {
                        self.state = match self.state {
                            Framing::Length(_) => Framing::Length(left),
                            _ => Framing::ChunkData(left),
                        };
                        return pos;
                    }
                    self.state = match self.state {
                        Framing::Length(_) => Framing::Head,
                        _ => Framing::ChunkCrlf,
                    };
                }
                Framing::ChunkSize => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((n, size))) => {
                        pos += n;
                        self.state = if size == 0 {
                            Framing::Trailer
                        } else {
                            Framing::ChunkData(size)
                        };
                    }
                    Ok(httparse::Status::Partial) => return pos,
                    Err(_) => {
                        self.errors += 1;
                        return data.len();
                    }
                },
                Framing::ChunkCrlf | Framing::Trailer => {
                    // No trailers in the corpora: the chunk data's CRLF, or the final one.
                    if rest.len() < 2 {
                        return pos;
                    }
                    if &rest[..2] != b"\r\n" {
                        self.errors += 1;
                        return data.len();
                    }
                    pos += 2;
                    self.state = match self.state {
                        Framing::ChunkCrlf => Framing::ChunkSize,
                        _ => Framing::Head,
                    };
                }
            }
        }
    }
}

/// httparse with framing and a carry buffer (parse only).
pub struct Httparse;

impl Peer for Httparse {
    type Conn = [HpHalf; 2];
    fn name(&self) -> &'static str {
        "httparse"
    }
    #[inline]
    fn open(&self, _: &FlowData) -> Self::Conn {
        [HpHalf::new(), HpHalf::new()]
    }
    #[inline]
    fn feed(&self, c: &mut Self::Conn, dir: Direction, data: &[u8]) {
        c[dir as usize].feed(dir == Direction::ToClient, data);
    }
    #[inline]
    fn close(&self, c: &mut Self::Conn, t: &mut Tally) {
        t.requests += std::mem::take(&mut c[0].messages);
        t.responses += std::mem::take(&mut c[1].messages);
        t.errors += c[0].errors + c[1].errors;
        // A message cut by the end of the stream is an error of the corpus.
        t.errors += c.iter().filter(|h| !h.carry.is_empty()).count();
    }
}

// ------------------------------------------------------------------------------------------
// libhtp
// ------------------------------------------------------------------------------------------

/// libhtp 0.5 with the peer IMDS rule in its request-headers callback.
#[cfg(feature = "libhtp")]
pub struct Libhtp {
    pub config: super::libhtp::Config,
}

#[cfg(feature = "libhtp")]
impl Default for Libhtp {
    fn default() -> Self {
        Libhtp {
            config: super::libhtp::Config::new(Some(imds_rule)),
        }
    }
}

#[cfg(feature = "libhtp")]
impl Peer for Libhtp {
    type Conn = super::libhtp::Conn;
    fn name(&self) -> &'static str {
        "libhtp"
    }
    #[inline]
    fn open(&self, _: &FlowData) -> Self::Conn {
        self.config.conn()
    }
    #[inline]
    fn feed(&self, c: &mut Self::Conn, dir: Direction, data: &[u8]) {
        match dir {
            Direction::ToServer => c.req(data),
            Direction::ToClient => c.res(data),
        }
    }
    #[inline]
    fn close(&self, c: &mut Self::Conn, t: &mut Tally) {
        c.close();
        let n = c.counts();
        t.requests += n.requests;
        t.responses += n.responses;
        t.imds += n.imds;
        t.flagged_flows += usize::from(n.imds > 0);
        t.errors += n.errors;
    }
}

// ------------------------------------------------------------------------------------------
// Scanners
// ------------------------------------------------------------------------------------------

/// The naive regex scanner.
pub struct Regex {
    re: regex::bytes::Regex,
}

impl Default for Regex {
    fn default() -> Self {
        Regex {
            re: regex::bytes::Regex::new(
                r"(?i)(/latest/(meta-data|api/token)|x-aws-ec2-metadata-token)",
            )
            .expect("a valid regex"),
        }
    }
}

impl Peer for Regex {
    type Conn = usize;
    fn name(&self) -> &'static str {
        "regex"
    }
    #[inline]
    fn open(&self, _: &FlowData) -> usize {
        0
    }
    #[inline]
    fn feed(&self, c: &mut usize, _: Direction, data: &[u8]) {
        *c += self.re.find_iter(data).count();
    }
    #[inline]
    fn close(&self, c: &mut usize, t: &mut Tally) {
        t.imds += *c;
        t.flagged_flows += usize::from(*c > 0);
        *c = 0;
    }
}

/// memchr's `memmem` for `/latest/`.
pub struct Memmem {
    finder: memchr::memmem::Finder<'static>,
}

impl Default for Memmem {
    fn default() -> Self {
        Memmem {
            finder: memchr::memmem::Finder::new(b"/latest/"),
        }
    }
}

impl Peer for Memmem {
    type Conn = usize;
    fn name(&self) -> &'static str {
        "memmem"
    }
    #[inline]
    fn open(&self, _: &FlowData) -> usize {
        0
    }
    #[inline]
    fn feed(&self, c: &mut usize, _: Direction, data: &[u8]) {
        *c += self.finder.find_iter(data).count();
    }
    #[inline]
    fn close(&self, c: &mut usize, t: &mut Tally) {
        t.imds += *c;
        t.flagged_flows += usize::from(*c > 0);
        *c = 0;
    }
}

/// The least a parser that visits every line does: find each line's LF and, in a head,
/// its colon. No validation, no framing (request corpora only: a body's lines would count),
/// no matching. The floor under any line-at-a-time design, beside memmem's floor under any
/// design at all.
pub struct Lines;

/// The state of [`Lines`] and [`LinesByBlock`]: the messages ended (empty lines), and the
/// first colons' offsets summed, so that the search cannot be left out.
#[derive(Default)]
pub struct LinesConn {
    messages: usize,
    colons: usize,
}

impl LinesConn {
    /// A line of `len` bytes (its LF left out) has ended; its first colon, if any, was
    /// `colon` bytes into it. A line of at most a CR ends a message.
    #[inline]
    fn line_ended(&mut self, len: usize, colon: Option<usize>) {
        if len <= 1 {
            self.messages += 1;
        } else if let Some(k) = colon {
            self.colons += k;
        }
    }

    /// Adds what was counted to `t` and starts afresh.
    #[inline]
    fn close_into(&mut self, t: &mut Tally) {
        t.requests += self.messages;
        std::hint::black_box(self.colons);
        *self = LinesConn::default();
    }
}

impl Peer for Lines {
    type Conn = LinesConn;
    fn name(&self) -> &'static str {
        "lines"
    }
    #[inline]
    fn open(&self, _: &FlowData) -> LinesConn {
        LinesConn::default()
    }
    #[inline]
    fn feed(&self, c: &mut LinesConn, _: Direction, data: &[u8]) {
        let mut start = 0;
        for lf in memchr::memchr_iter(b'\n', data) {
            let line = &data[start..lf];
            start = lf + 1;
            let colon = if line.len() <= 1 {
                None
            } else {
                memchr::memchr(b':', line)
            };
            c.line_ended(line.len(), colon);
        }
    }
    #[inline]
    fn close(&self, c: &mut LinesConn, t: &mut Tally) {
        c.close_into(t);
    }
}

/// What [`Lines`] finds (each line's LF and first colon), found the block-wise way: one
/// SSE2 pass gives, for every 64 bytes, a bit mask of the LFs and one of the colons, and the
/// set bits are walked in order. The floor of a parser that classifies a head's bytes by
/// blocks instead of searching line by line (whole flow sides only: a line cut between two
/// calls is not carried over).
pub struct LinesByBlock;

impl Peer for LinesByBlock {
    type Conn = LinesConn;
    fn name(&self) -> &'static str {
        "lines-by-block"
    }
    #[inline]
    fn open(&self, _: &FlowData) -> LinesConn {
        LinesConn::default()
    }
    #[inline]
    fn feed(&self, c: &mut LinesConn, _: Direction, data: &[u8]) {
        let mut line_start = 0usize;
        let mut colon: Option<usize> = None;
        for (block_no, block) in data.chunks(64).enumerate() {
            let base = block_no * 64;
            let (lf, co) = block_masks(block);
            let mut bits = lf | co;
            while bits != 0 {
                let at = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let pos = base + at;
                if lf & (1u64 << at) != 0 {
                    c.line_ended(pos - line_start, colon.map(|k| k - line_start));
                    line_start = pos + 1;
                    colon = None;
                } else if colon.is_none() {
                    colon = Some(pos);
                }
            }
        }
    }
    #[inline]
    fn close(&self, c: &mut LinesConn, t: &mut Tally) {
        c.close_into(t);
    }
}

/// The LF and colon masks of up to 64 bytes (bit `i` for byte `i`).
#[cfg(target_arch = "x86_64")]
#[inline]
fn block_masks(block: &[u8]) -> (u64, u64) {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mut padded = [0u8; 64];
    let bytes: &[u8; 64] = match block.try_into() {
        Ok(full) => full,
        Err(_) => {
            padded[..block.len()].copy_from_slice(block);
            &padded
        }
    };
    let (mut lf, mut co) = (0u64, 0u64);
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always
    // available; each `lane` is 16 readable bytes, and the load has no alignment
    // requirement.
    unsafe {
        let (nl, colon) = (_mm_set1_epi8(b'\n' as i8), _mm_set1_epi8(b':' as i8));
        for (i, lane) in bytes.chunks_exact(16).enumerate() {
            let v = _mm_loadu_si128(lane.as_ptr().cast());
            lf |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) as u16) << (16 * i);
            co |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, colon)) as u16) << (16 * i);
        }
    }
    (lf, co)
}

/// The same masks a byte at a time, where SSE2 is not the baseline.
#[cfg(not(target_arch = "x86_64"))]
fn block_masks(block: &[u8]) -> (u64, u64) {
    let (mut lf, mut co) = (0u64, 0u64);
    for (i, &b) in block.iter().enumerate() {
        lf |= u64::from(b == b'\n') << i;
        co |= u64::from(b == b':') << i;
    }
    (lf, co)
}

/// A copy of every byte into a buffer.
pub struct Memcpy {
    buf: RefCell<Vec<u8>>,
}

impl Default for Memcpy {
    fn default() -> Self {
        Memcpy {
            buf: RefCell::new(vec![0; 1 << 20]),
        }
    }
}

impl Peer for Memcpy {
    type Conn = ();
    fn name(&self) -> &'static str {
        "memcpy"
    }
    #[inline]
    fn open(&self, _: &FlowData) {}
    #[inline]
    fn feed(&self, _: &mut (), _: Direction, data: &[u8]) {
        let mut buf = self.buf.borrow_mut();
        if buf.len() < data.len() {
            buf.resize(data.len(), 0);
        }
        buf[..data.len()].copy_from_slice(data);
        std::hint::black_box(&mut buf[..]);
    }
    #[inline]
    fn close(&self, _: &mut (), _: &mut Tally) {}
}
