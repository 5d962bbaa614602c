//! Both directions of one connection, and the pairing of responses with requests.

use super::event::{Event, EventSink, TxId};
use super::half::{ElementPiece, Half, Run, State};
use super::limits::Limits;
use super::Direction;
use crate::http::Anomalies;
use std::collections::VecDeque;

/// What the method of a request means for the framing of its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MethodKind {
    /// HEAD: the response has no body whatever its headers say.
    Head,
    /// CONNECT: a 2xx response turns the connection into a tunnel.
    Connect,
    /// Every other method.
    Other,
}

impl MethodKind {
    pub(crate) fn of(method: &[u8]) -> MethodKind {
        // Methods are case-sensitive (RFC 9110 §9.1), but lenient servers match them in any
        // case; a tunnel missed is worse than one imagined.
        if method.eq_ignore_ascii_case(b"HEAD") {
            MethodKind::Head
        } else if method.eq_ignore_ascii_case(b"CONNECT") {
            MethodKind::Connect
        } else {
            MethodKind::Other
        }
    }
}

/// A request waiting for its final response.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    tx: TxId,
    method: MethodKind,
    /// The request asked for a protocol upgrade (an `Upgrade` header).
    upgrade: bool,
}

/// What a response tells the request side, delivered between the two sides' runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// The answer to the CONNECT the request side waits for: tunnel or not.
    Connect(bool),
    /// The request `tx` announced `Expect: 100-continue` and got a final answer first.
    ExpectRejected(TxId),
    /// A requested protocol upgrade was granted.
    Upgrade,
}

/// Why a connection stopped being HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TunnelKind {
    /// CONNECT answered 2xx: a proxy tunnel, which may carry plain HTTP (probed).
    Connect,
    /// 101 Switching Protocols to a requested upgrade.
    Upgrade,
}

/// Where the connection stands with CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Connect {
    Idle,
    /// The request side finished a CONNECT and waits for its answer.
    Awaiting(TxId),
    /// The answer came before the request side finished the CONNECT request.
    Answered {
        tx: TxId,
        tunnel: bool,
    },
}

/// State both directions share: limits, transaction numbering and pairing, tunnel status.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) limits: Limits,
    next_tx: TxId,
    waiting: VecDeque<Waiting>,
    connect: Connect,
    /// What the response side decided for the request side, delivered as soon as the
    /// response side yields.
    resolution: Option<Resolution>,
    /// A request whose body waits for `100 Continue`.
    expect: Option<TxId>,
    tunnel: Option<TunnelKind>,
}

impl Shared {
    /// Numbers a new request and queues it for its response.
    pub(crate) fn begin_request(&mut self, method: MethodKind) -> (TxId, Anomalies) {
        let tx = self.next_tx;
        self.next_tx += 1;
        let mut anomalies = Anomalies::empty();
        if self.waiting.len() >= self.limits.max_live_transactions {
            self.waiting.pop_front();
            anomalies |= Anomalies::TOO_MANY_TRANSACTIONS;
        }
        self.waiting.push_back(Waiting {
            tx,
            method,
            upgrade: false,
        });
        (tx, anomalies)
    }

    /// The request `tx` asked for a protocol upgrade.
    pub(crate) fn mark_upgrade(&mut self, tx: TxId) {
        if let Some(w) = self.waiting.iter_mut().rev().find(|w| w.tx == tx) {
            w.upgrade = true;
        }
    }

    /// A requested upgrade was granted (101): the request side stops parsing HTTP.
    pub(crate) fn upgrade_answered(&mut self) {
        self.resolution = Some(Resolution::Upgrade);
    }

    /// The request `tx` sent its head with `Expect: 100-continue` and a body to follow.
    pub(crate) fn expect_continue(&mut self, tx: TxId) {
        self.expect = Some(tx);
    }

    /// Pairs a response with the oldest request still waiting; an interim answer leaves the
    /// request waiting for its final one.
    pub(crate) fn begin_response(&mut self, status: Option<u16>) -> ResponseStart {
        let interim = status.is_some_and(|c| (100..200).contains(&c) && c != 101);
        let head = if interim {
            self.waiting.front().copied()
        } else {
            self.waiting.pop_front()
        };
        let start = match head {
            Some(w) => ResponseStart {
                tx: w.tx,
                method: w.method,
                upgrade_requested: w.upgrade,
                anomalies: Anomalies::empty(),
            },
            None => {
                let tx = self.next_tx;
                self.next_tx += 1;
                ResponseStart {
                    tx,
                    method: MethodKind::Other,
                    upgrade_requested: false,
                    anomalies: Anomalies::RESPONSE_WITHOUT_REQUEST,
                }
            }
        };
        if self.expect == Some(start.tx) {
            match status {
                // The client may now send the body.
                Some(100) => self.expect = None,
                Some(c) if (100..200).contains(&c) => {}
                // A final answer before the body: a server that refuses does not read it,
                // and the client does not send it.
                _ => {
                    self.expect = None;
                    self.resolution = Some(Resolution::ExpectRejected(start.tx));
                }
            }
        }
        start
    }

    /// The request side finished the CONNECT request `tx`: `Some(tunnel)` if its answer is
    /// already known, `None` if the side must wait.
    pub(crate) fn connect_sent(&mut self, tx: TxId) -> Option<bool> {
        match self.connect {
            Connect::Answered { tx: t, tunnel } if t == tx => {
                self.connect = Connect::Idle;
                Some(tunnel)
            }
            _ => {
                self.connect = Connect::Awaiting(tx);
                None
            }
        }
    }

    /// The final answer to the CONNECT request `tx` arrived.
    pub(crate) fn connect_answered(&mut self, tx: TxId, tunnel: bool) {
        match self.connect {
            Connect::Awaiting(t) if t == tx => {
                self.connect = Connect::Idle;
                self.resolution = Some(Resolution::Connect(tunnel));
            }
            _ => self.connect = Connect::Answered { tx, tunnel },
        }
    }

    /// The request side stopped waiting for a CONNECT answer.
    pub(crate) fn connect_abandoned(&mut self) {
        self.connect = Connect::Idle;
    }

    /// Whether a CONNECT answer waits to be delivered to the request side.
    pub(crate) fn has_resolution(&self) -> bool {
        self.resolution.is_some()
    }

    pub(crate) fn set_tunnel(&mut self, kind: TunnelKind) {
        self.tunnel = Some(kind);
    }

    pub(crate) fn tunnel(&self) -> Option<TunnelKind> {
        self.tunnel
    }
}

/// What the response side learns when a response starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResponseStart {
    pub(crate) tx: TxId,
    pub(crate) method: MethodKind,
    pub(crate) upgrade_requested: bool,
    pub(crate) anomalies: Anomalies,
}

/// All a parser at rest holds: see [`HttpStream::at_rest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestState {
    /// The id the next request gets.
    pub next_tx: TxId,
    /// Which directions ended (request, response).
    pub closed: [bool; 2],
    /// Which directions reported data after their end already.
    pub late_data_reported: [bool; 2],
}

/// What [`HttpStream::parse_in_place`] did with a buffer (Suricata's `AppLayerResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the buffer that were consumed. The caller presents the rest again, followed
    /// by new bytes, in its next call for this direction.
    pub consumed: usize,
    /// When not everything was consumed: how many bytes, counted from `consumed`, the caller
    /// should hold before calling again (a lower bound). 0 when everything was consumed.
    pub needed: usize,
}

/// The HTTP/1.x parser for one TCP connection: a request direction and a response direction,
/// fed independently, in chunks that may split anywhere.
///
/// ```
/// use imdsguard::flow::{Direction, Event, HttpStream};
///
/// let mut stream = HttpStream::new();
/// let mut methods = Vec::new();
/// let mut sink = |ev: &Event<'_>| {
///     if let Event::RequestLine { line, .. } = ev {
///         methods.push(line.method.to_vec());
///     }
/// };
/// stream.feed(Direction::ToServer, b"PUT /latest/api/to", &mut sink);
/// stream.feed(Direction::ToServer, b"ken HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n", &mut sink);
/// assert_eq!(methods, [b"PUT".to_vec()]);
/// ```
#[derive(Debug)]
pub struct HttpStream {
    shared: Shared,
    request: Half,
    response: Half,
}

impl Default for HttpStream {
    fn default() -> Self {
        HttpStream::new()
    }
}

impl HttpStream {
    /// A parser with the default [`Limits`].
    pub fn new() -> HttpStream {
        HttpStream::with_limits(Limits::default())
    }

    /// A parser with the given limits (made consistent with [`Limits::sanitized`]).
    pub fn with_limits(limits: Limits) -> HttpStream {
        HttpStream {
            shared: Shared {
                limits: limits.sanitized(),
                next_tx: 0,
                waiting: VecDeque::new(),
                connect: Connect::Idle,
                resolution: None,
                expect: None,
                tunnel: None,
            },
            request: Half::new(Direction::ToServer),
            response: Half::new(Direction::ToClient),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// Feeds the next bytes of one direction. Everything is consumed: an element split at the
    /// end of `data` is copied (at most one line) and completed by the next call.
    pub fn feed(&mut self, dir: Direction, data: &[u8], sink: &mut dyn EventSink) {
        if let Some(tx) = self.absorb_body(dir, data.len()) {
            return sink.on_event(&Event::Body { tx, dir, data });
        }
        if let ElementPiece::Run { first_lf } = self.absorb_element(dir, data) {
            self.feed_slow(dir, data, first_lf, sink);
        }
    }

    /// The fast path of [`HttpStream::feed`], for pieces that change nothing but counts, in
    /// two halves; no other event can follow from such a piece and the other direction has
    /// nothing to learn, which is what lets a caller feeding a few bytes at a time skip the
    /// machine for most of them. This half takes the middle of a body: `Some(tx)` when `len`
    /// bytes are body bytes of message `tx` (the caller gives the body event). A leaf, for
    /// the per-byte path of callers that feed a byte at a time (see [`Half::absorb_body`]).
    #[inline(always)]
    pub(crate) fn absorb_body(&mut self, dir: Direction, len: usize) -> Option<TxId> {
        if self.shared.has_resolution() {
            return None;
        }
        self.split(dir).0.absorb_body(len)
    }

    /// The other half of the fast path, for a piece [`HttpStream::absorb_body`] did not
    /// take: the middle of a line split across calls (see [`Half::absorb_element`]).
    #[inline(always)]
    pub(crate) fn absorb_element(&mut self, dir: Direction, data: &[u8]) -> ElementPiece {
        if self.shared.has_resolution() {
            return ElementPiece::Run { first_lf: None };
        }
        let (half, shared) = self.split(dir);
        half.absorb_element(&shared.limits, data)
    }

    /// [`HttpStream::feed`] without its fast path, for a caller that tried it first:
    /// `first_lf` is what [`HttpStream::absorb_element`] returned.
    #[inline]
    pub(crate) fn feed_slow(
        &mut self,
        dir: Direction,
        data: &[u8],
        first_lf: Option<usize>,
        sink: &mut dyn EventSink,
    ) {
        self.run(dir, data, true, first_lf, sink);
    }

    /// Suricata-style feeding that does not copy: parses what is complete in `data` and
    /// returns how much was consumed. (One exception: request bytes sent before the answer to
    /// a CONNECT are held by the parser, up to `max_carry_over`, because that answer decides
    /// whether they are HTTP.) The caller keeps the unconsumed tail and presents it
    /// again, with more bytes after it, in its next call for this direction (the part already
    /// scanned is not scanned again). At the end of the stream, hand the tail to
    /// [`HttpStream::feed`] before [`HttpStream::close`].
    pub fn parse_in_place(
        &mut self,
        dir: Direction,
        data: &[u8],
        sink: &mut dyn EventSink,
    ) -> Progress {
        let run = self.run(dir, data, false, None, sink);
        Progress {
            consumed: run.consumed,
            needed: run.needed,
        }
    }

    /// Reports `len` bytes of one direction as lost. Inside a body of known length the
    /// framing is kept; elsewhere the message ends and parsing resynchronises at the next
    /// well-formed start line.
    pub fn gap(&mut self, dir: Direction, len: u64, sink: &mut dyn EventSink) {
        let (half, shared) = self.split(dir);
        half.gap(shared, len, sink);
        self.deliver_connect_answer(sink);
    }

    /// Ends one direction (FIN, RST or end of capture): a message in progress ends, and a
    /// body delimited by the close completes normally.
    pub fn close(&mut self, dir: Direction, sink: &mut dyn EventSink) {
        let (half, shared) = self.split(dir);
        half.close(shared, sink);
        self.deliver_connect_answer(sink);
    }

    /// Whether the connection became a tunnel (CONNECT answered 2xx, or an upgrade). A
    /// CONNECT tunnel that carries plain HTTP is still parsed.
    pub fn is_tunnel(&self) -> bool {
        self.shared.tunnel.is_some()
    }

    /// Whether the request direction waits for the answer to a CONNECT.
    pub fn awaits_connect_answer(&self) -> bool {
        self.request.state() == State::AwaitConnect
    }

    /// What the parser still needs to know when it holds nothing else: `Some` when both
    /// directions are between messages (or closed) with nothing pending, no request waits for
    /// its response and no CONNECT, `Expect` or upgrade is under way. The parser can then be
    /// dropped and rebuilt with [`HttpStream::from_rest`] without any difference in what
    /// follows (`Flow::compact` does this for idle flows).
    pub fn at_rest(&self) -> Option<RestState> {
        let sh = &self.shared;
        let quiet = sh.waiting.is_empty()
            && matches!(sh.connect, Connect::Idle)
            && sh.resolution.is_none()
            && sh.expect.is_none()
            && sh.tunnel.is_none();
        (quiet && self.request.at_rest() && self.response.at_rest()).then(|| {
            let (request_closed, request_late) = self.request.rest_flags();
            let (response_closed, response_late) = self.response.rest_flags();
            RestState {
                next_tx: sh.next_tx,
                closed: [request_closed, response_closed],
                late_data_reported: [request_late, response_late],
            }
        })
    }

    /// A parser at rest in `rest` (see [`HttpStream::at_rest`]), with these limits.
    pub fn from_rest(limits: Limits, rest: RestState) -> HttpStream {
        let mut s = HttpStream::with_limits(limits);
        s.shared.next_tx = rest.next_tx;
        let [rc, sc] = rest.closed;
        let [rl, sl] = rest.late_data_reported;
        s.request = Half::restored(Direction::ToServer, rc, rl);
        s.response = Half::restored(Direction::ToClient, sc, sl);
        s
    }

    /// Heap bytes the parser holds (carry-over buffers and the queue of waiting requests).
    pub fn heap_bytes(&self) -> usize {
        self.request.heap_bytes()
            + self.response.heap_bytes()
            + self.shared.waiting.capacity() * size_of::<Waiting>()
    }

    /// Runs one direction over `data`, letting the request side act on a CONNECT answer as
    /// soon as the response side reads it.
    #[inline]
    fn run(
        &mut self,
        dir: Direction,
        data: &[u8],
        copy: bool,
        first_lf: Option<usize>,
        sink: &mut dyn EventSink,
    ) -> Run {
        let mut offset = 0;
        loop {
            let (half, shared) = self.split(dir);
            let rest = data.get(offset..).unwrap_or_default();
            // The caller's search is about `data` from its start.
            let first_lf = first_lf.filter(|_| offset == 0);
            let run = half.run(shared, rest, copy, first_lf, sink);
            self.deliver_connect_answer(sink);
            offset += run.consumed;
            if !run.yielded {
                return Run {
                    consumed: offset,
                    needed: run.needed,
                    yielded: false,
                };
            }
        }
    }

    fn split(&mut self, dir: Direction) -> (&mut Half, &mut Shared) {
        match dir {
            Direction::ToServer => (&mut self.request, &mut self.shared),
            Direction::ToClient => (&mut self.response, &mut self.shared),
        }
    }

    /// Lets the request side act on what the response side decided for it. Called after
    /// every run, and nearly always with nothing to deliver: only that test is inline.
    #[inline]
    fn deliver_connect_answer(&mut self, sink: &mut dyn EventSink) {
        if self.shared.has_resolution() {
            self.deliver_resolution(sink);
        }
    }

    #[inline(never)]
    fn deliver_resolution(&mut self, sink: &mut dyn EventSink) {
        match self.shared.resolution.take() {
            Some(Resolution::Connect(tunnel)) => {
                if tunnel {
                    self.shared.tunnel = Some(TunnelKind::Connect);
                }
                self.request
                    .connect_resolved(&mut self.shared, tunnel, sink);
            }
            Some(Resolution::ExpectRejected(tx)) => {
                self.request.expect_rejected(&mut self.shared, tx, sink);
            }
            Some(Resolution::Upgrade) => self.request.upgraded(),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::transaction::{Collector, Transaction};
    use crate::flow::{BodyFraming, Limits};

    /// Feeds (direction, bytes) steps whole, then closes both sides.
    fn run(steps: &[(Direction, &[u8])]) -> Vec<Transaction> {
        run_with(HttpStream::new(), steps)
    }

    fn run_with(mut s: HttpStream, steps: &[(Direction, &[u8])]) -> Vec<Transaction> {
        let mut c = Collector::with_body_capture(1 << 16);
        for (dir, data) in steps {
            s.feed(*dir, data, &mut c);
        }
        s.close(Direction::ToServer, &mut c);
        s.close(Direction::ToClient, &mut c);
        c.into_transactions()
    }

    const C: Direction = Direction::ToServer;
    const S: Direction = Direction::ToClient;

    fn req(t: &Transaction) -> &crate::flow::transaction::MessageRecord {
        t.request.as_ref().expect("a request")
    }

    fn resp(t: &Transaction) -> &crate::flow::transaction::MessageRecord {
        t.response.as_ref().expect("a response")
    }

    #[test]
    fn pipelined_requests_pair_with_responses_in_order() {
        let txs = run(&[
            (C, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
            (S, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 No\r\nContent-Length: 0\r\n\r\n"),
        ]);
        assert_eq!(txs.len(), 2);
        assert_eq!(
            (req(&txs[0]).uri.as_slice(), resp(&txs[0]).status),
            (&b"/a"[..], 200)
        );
        assert_eq!(
            (req(&txs[1]).uri.as_slice(), resp(&txs[1]).status),
            (&b"/b"[..], 404)
        );
        assert_eq!(resp(&txs[0]).body, b"A");
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let txs = run(&[(
            C,
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
              3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n",
        )]);
        assert_eq!(txs.len(), 2);
        let r = req(&txs[0]);
        assert_eq!((r.body.as_slice(), r.body_len), (&b"abcde"[..], 5));
        assert_eq!(r.trailers, [(b"X-Trailer".to_vec(), b"t".to_vec())]);
        assert!(r.anomalies.contains(Anomalies::CHUNK_EXTENSION));
        assert_eq!(req(&txs[1]).uri, b"/next");
    }

    #[test]
    fn te_wins_over_cl_and_the_smuggled_request_surfaces() {
        let txs = run(&[(
            C,
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n\
              0\r\n\r\nGET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
        )]);
        assert_eq!(txs.len(), 2);
        assert!(req(&txs[0]).anomalies.contains(Anomalies::CL_AND_TE));
        assert_eq!(req(&txs[1]).uri, b"/latest/meta-data/");
    }

    #[test]
    fn head_204_304_and_interim_answers_have_no_body() {
        let txs = run(&[
            (
                C,
                b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            ),
            (C, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            (
                S,
                b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n\
                  HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\
                  HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
            ),
        ]);
        assert_eq!(txs.len(), 3);
        assert_eq!(resp(&txs[0]).body_len, 0);
        assert_eq!(txs[1].interim, [100]);
        assert_eq!(resp(&txs[1]).status, 204);
        assert_eq!(resp(&txs[2]).framing, Some(BodyFraming::None));
        assert!(txs.iter().all(|t| resp(t).complete));
    }

    #[test]
    fn connect_answered_2xx_becomes_a_tunnel() {
        let mut s = HttpStream::new();
        let mut c = Collector::new();
        s.feed(
            C,
            b"CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n",
            &mut c,
        );
        assert!(s.awaits_connect_answer());
        s.feed(C, b"\x16\x03\x01 binary", &mut c);
        s.feed(
            S,
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03",
            &mut c,
        );
        assert!(s.is_tunnel());
        s.feed(C, b"GET /not-http HTTP/1.1\r\n\r\n", &mut c);
        let txs = c.into_transactions();
        assert_eq!(txs.len(), 1);
        assert_eq!(resp(&txs[0]).framing, Some(BodyFraming::Tunnel));
    }

    #[test]
    fn connect_refused_parses_the_held_request() {
        let txs = run(&[
            (C, b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\nGET /latest/api/token HTTP/1.1\r\nHost: b\r\n\r\n"),
            (S, b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ]);
        assert_eq!(txs.len(), 2);
        assert_eq!(req(&txs[1]).uri, b"/latest/api/token");
        assert_eq!(resp(&txs[1]).status, 200);
        assert!(!resp(&txs[1])
            .anomalies
            .contains(Anomalies::RESPONSE_WITHOUT_REQUEST));
    }

    #[test]
    fn gap_inside_a_body_keeps_framing() {
        let mut s = HttpStream::new();
        let mut c = Collector::new();
        s.feed(
            C,
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab",
            &mut c,
        );
        s.gap(C, 6, &mut c);
        s.feed(C, b"cdGET /b HTTP/1.1\r\nHost: x\r\n\r\n", &mut c);
        let txs = c.into_transactions();
        assert_eq!(txs.len(), 2);
        assert_eq!(req(&txs[0]).body_len, 10);
        assert!(req(&txs[0]).anomalies.contains(Anomalies::GAP));
        assert_eq!(req(&txs[1]).uri, b"/b");
    }

    #[test]
    fn gap_in_a_head_resynchronises_on_a_well_formed_request() {
        let mut s = HttpStream::new();
        let mut c = Collector::new();
        s.feed(C, b"GET /a HTTP/1.1\r\nHo", &mut c);
        s.gap(C, 100, &mut c);
        s.feed(
            C,
            b"ader tail\r\nfoo bar\r\n\r\nGET /latest/meta-data/ HTTP/1.1\r\n\r\n",
            &mut c,
        );
        let txs = c.into_transactions();
        assert_eq!(txs.len(), 2);
        assert!(req(&txs[0])
            .anomalies
            .contains(Anomalies::GAP | Anomalies::TRUNCATED));
        let second = req(&txs[1]);
        assert_eq!(second.uri, b"/latest/meta-data/");
        assert!(second
            .anomalies
            .contains(Anomalies::GAP | Anomalies::JUNK_BEFORE_MESSAGE));
    }

    #[test]
    fn long_line_is_inspected_by_its_prefix_and_parsing_goes_on() {
        let limits = Limits {
            max_line_len: 64,
            ..Limits::default()
        };
        let junk = vec![b'a'; 500];
        let mut stream = b"GET / HTTP/1.1\r\nX-Junk: ".to_vec();
        stream.extend_from_slice(&junk);
        stream.extend_from_slice(b"\r\nX-aws-ec2-metadata-token: t\r\n\r\n");
        for piece in [stream.len(), 1, 7, 63, 64, 65] {
            let mut s = HttpStream::with_limits(limits);
            let mut c = Collector::new();
            for p in stream.chunks(piece) {
                s.feed(C, p, &mut c);
            }
            assert!(
                s.request.heap_bytes() <= 64,
                "piece {piece}: {}",
                s.request.heap_bytes()
            );
            let txs = c.into_transactions();
            let r = req(&txs[0]);
            assert!(
                r.anomalies.contains(Anomalies::LINE_TOO_LONG),
                "piece {piece}"
            );
            assert_eq!(r.headers.len(), 2, "piece {piece}");
            assert_eq!(r.headers[0].1.len(), 64 - b"X-Junk: ".len());
            assert_eq!(r.headers[1].0, b"X-aws-ec2-metadata-token");
        }
    }

    #[test]
    fn too_many_headers_still_frame_the_body() {
        let limits = Limits {
            max_headers: 3,
            ..Limits::default()
        };
        let mut m = b"POST / HTTP/1.1\r\n".to_vec();
        for i in 0..5 {
            m.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        m.extend_from_slice(b"Content-Length: 4\r\n\r\nGET /GET / HTTP/1.1\r\n\r\n");
        let txs = run_with(HttpStream::with_limits(limits), &[(C, &m)]);
        assert_eq!(txs.len(), 2);
        assert_eq!(req(&txs[0]).headers.len(), 3);
        assert_eq!(req(&txs[0]).body, b"GET ");
        assert!(req(&txs[0]).anomalies.contains(Anomalies::TOO_MANY_HEADERS));
    }

    #[test]
    fn live_transactions_are_bounded() {
        let limits = Limits {
            max_live_transactions: 2,
            ..Limits::default()
        };
        let m = b"GET / HTTP/1.0\r\n\r\n".repeat(3);
        let mut s = HttpStream::with_limits(limits);
        let mut c = Collector::new();
        s.feed(C, &m, &mut c);
        assert_eq!(s.shared.waiting.len(), 2);
        let txs = c.into_transactions();
        assert!(req(&txs[2])
            .anomalies
            .contains(Anomalies::TOO_MANY_TRANSACTIONS));
    }

    #[test]
    fn in_place_mode_reports_consumed_and_needed() {
        let mut s = HttpStream::new();
        let mut c = Collector::new();
        let data = b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.2";
        let p = s.parse_in_place(C, data, &mut c);
        assert_eq!(p.consumed, 33);
        assert!(p.needed > data.len() - 33);
        let mut rest = data[p.consumed..].to_vec();
        rest.extend_from_slice(b"54.169.254\r\n\r\n");
        let p = s.parse_in_place(C, &rest, &mut c);
        assert_eq!((p.consumed, p.needed), (rest.len(), 0));
        assert_eq!(s.request.heap_bytes(), 0, "no carry-over in place mode");
        let txs = c.into_transactions();
        assert_eq!(req(&txs[0]).headers[0].1, b"169.254.169.254");
    }

    #[test]
    fn response_without_request_and_http09_answer() {
        let txs = run(&[(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]);
        assert!(resp(&txs[0])
            .anomalies
            .contains(Anomalies::RESPONSE_WITHOUT_REQUEST));
        let txs = run(&[(C, b"GET /\r\n"), (S, b"<html>body</html>")]);
        assert_eq!(req(&txs[0]).anomalies, Anomalies::VERSION_MISSING);
        assert!(resp(&txs[0]).anomalies.contains(Anomalies::NO_STATUS_LINE));
        assert_eq!(resp(&txs[0]).body, b"<html>body</html>");
    }

    #[test]
    fn data_after_close_is_ignored() {
        let mut s = HttpStream::new();
        let mut c = Collector::new();
        s.close(C, &mut c);
        s.feed(C, b"GET / HTTP/1.1\r\n\r\n", &mut c);
        assert_eq!(c.transactions().count(), 0);
    }

    #[test]
    fn plain_http_inside_a_connect_tunnel_is_parsed() {
        let txs = run(&[
            (
                C,
                b"CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n",
            ),
            (S, b"HTTP/1.1 200 Connection established\r\n\r\n"),
            (
                C,
                b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
            ),
            (S, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nami"),
        ]);
        assert_eq!(txs.len(), 2);
        assert_eq!(req(&txs[1]).uri, b"/latest/meta-data/");
        assert_eq!(resp(&txs[1]).body, b"ami");
    }

    #[test]
    fn upgrade_only_when_asked() {
        let txs = run(&[
            (C, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            (S, b"HTTP/1.1 101 ok\r\nContent-Length: 5\r\n\r\nhello"),
        ]);
        let r = resp(&txs[0]);
        assert!(r.anomalies.contains(Anomalies::UPGRADE_UNREQUESTED));
        assert_eq!(r.body, b"hello");
        let mut s = HttpStream::new();
        let mut c = Collector::new();
        s.feed(
            C,
            b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
            &mut c,
        );
        s.feed(
            S,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
            &mut c,
        );
        s.feed(C, b"\x81\x85GET / HTTP/1.1\r\n\r\n", &mut c);
        assert!(s.is_tunnel());
        assert_eq!(c.transactions().count(), 1);
    }

    #[test]
    fn a_refused_expect_continue_body_does_not_swallow_the_next_request() {
        let txs = run(&[
            (C, b"PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"),
            (S, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
            (C, b"POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
        ]);
        assert_eq!(txs.len(), 2);
        assert!(req(&txs[0])
            .anomalies
            .contains(Anomalies::EXPECT_BODY_SKIPPED));
        assert_eq!(req(&txs[1]).uri, b"/ok");
        // Answered 100 Continue: the body comes.
        let txs = run(&[
            (
                C,
                b"PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            ),
            (S, b"HTTP/1.1 100 Continue\r\n\r\n"),
            (C, b"abc"),
            (S, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
        ]);
        assert_eq!(txs.len(), 1);
        assert_eq!(req(&txs[0]).body, b"abc");
    }

    #[test]
    fn stray_line_ends_before_a_chunk_size_keep_the_body() {
        let txs = run(&[(
            C,
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n3\r\nabc\r\n\r\n0\r\n\r\n",
        )]);
        let r = req(&txs[0]);
        assert_eq!(r.body, b"abc");
        assert!(r.anomalies.contains(Anomalies::CHUNK_SIZE_INVALID));
        assert!(r.complete);
    }

    #[test]
    fn bytes_outside_messages_are_reported_at_close() {
        let mut s = HttpStream::new();
        let mut c = Collector::new();
        s.feed(
            C,
            b"POST / HTTP/1.1\r\nHost: a\r\n\r\nlogin=foo&password=bar",
            &mut c,
        );
        s.close(C, &mut c);
        assert!(c
            .stream_anomalies(C)
            .contains(Anomalies::JUNK_BEFORE_MESSAGE));
        s.feed(C, b"more", &mut c);
        assert!(c.stream_anomalies(C).contains(Anomalies::DATA_AFTER_CLOSE));
        assert!(c.stream_anomalies(S).is_empty());
    }

    #[test]
    fn an_http09_answer_cut_by_the_close_is_complete() {
        let txs = run(&[(C, b"GET / HTTP/1.0\r\n\r\n"), (S, b"Hello")]);
        assert_eq!(resp(&txs[0]).anomalies, Anomalies::NO_STATUS_LINE);
        assert_eq!(resp(&txs[0]).body, b"Hello");
    }

    #[test]
    fn unknown_transfer_codings_are_flagged() {
        let txs = run(&[(
            C,
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: lalala, chunked\r\n\r\n0\r\n\r\n",
        )]);
        assert!(req(&txs[0])
            .anomalies
            .contains(Anomalies::TE_UNKNOWN_CODING));
        assert_eq!(req(&txs[0]).framing, Some(BodyFraming::Chunked));
    }

    /// Regression (found by the in-place property): a refused Expect body is not cancelled
    /// once part of a chunk-size line arrived, whichever mode holds that part.
    #[test]
    fn expect_refusal_after_a_partial_chunk_line_is_the_same_in_both_modes() {
        let head: &[u8] =
            b"POST /x HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n1";
        let refusal: &[u8] = b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n";
        let rest: &[u8] = b"0\r\nabcdefghijklmnop\r\n0\r\n\r\n";
        let mut copy = Collector::with_body_capture(64);
        let mut s = HttpStream::new();
        s.feed(C, head, &mut copy);
        s.feed(S, refusal, &mut copy);
        s.feed(C, rest, &mut copy);
        let mut in_place = Collector::with_body_capture(64);
        let mut s = HttpStream::new();
        let p = s.parse_in_place(C, head, &mut in_place);
        s.parse_in_place(S, refusal, &mut in_place);
        let mut again = head[p.consumed..].to_vec();
        again.extend_from_slice(rest);
        s.parse_in_place(C, &again, &mut in_place);
        let (a, b) = (copy.into_transactions(), in_place.into_transactions());
        assert_eq!(a, b);
        assert_eq!(req(&a[0]).body, b"abcdefghijklmnop");
    }

    #[test]
    fn gap_lengths_saturate_the_body_count() {
        // Found by the ffi_sequence fuzzer: gap lengths are the caller's (any u64), and two
        // huge gaps in a body delimited by the close overflowed the body count.
        let mut s = HttpStream::new();
        let mut c = Collector::new();
        s.feed(C, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &mut c);
        s.feed(S, b"HTTP/1.1 200 OK\r\n\r\nbody", &mut c);
        s.gap(S, u64::MAX, &mut c);
        s.gap(S, u64::MAX, &mut c);
        s.close(C, &mut c);
        s.close(S, &mut c);
        let txs = c.into_transactions();
        assert_eq!(resp(&txs[0]).body_len, u64::MAX);
    }

    /// The small-piece fast path ([`HttpStream::absorb`]) against the full machine alone: fed
    /// the same pieces, both give the same events, piece for piece (body pieces included),
    /// and end in the same rest state. Pieces of 1 to 20 bytes, from atoms that reach every
    /// case of the fast path (lines split anywhere, folds, empty lines, bodies of known
    /// length, chunks with extensions, long lines past a small limit), in both directions.
    mod fast_path {
        use super::*;
        use crate::flow::event::Event;
        use proptest::prelude::*;

        #[derive(Default)]
        struct Log(Vec<String>);

        impl EventSink for Log {
            fn on_event(&mut self, event: &Event<'_>) {
                self.0.push(format!("{event:?}"));
            }
        }

        const ATOMS: &[&[u8]] = &[
            b"GET /latest/meta-data/ HTTP/1.1\r\n",
            b"POST / HTTP/1.1\r\n",
            b"HTTP/1.1 200 OK\r\n",
            b"Host: 169.254.169.254\r\n",
            b"X-aws-ec2-metadata-token: AQAEA\r\n",
            b" folded\r\n",
            b"\tfolded\r\n",
            b"\r\n",
            b"\n",
            b"\r",
            b"Content-Length: 5\r\n\r\nhello",
            b"Transfer-Encoding: chunked\r\n\r\n",
            b"5;ext=aaaaaaaaaaaaaaaa\r\nhello\r\n",
            b"0\r\n\r\n",
            b"{\"AccessKeyId\":\"ASIAXXXXXXXXXXXXXXXX\"}",
            b"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
            b"a:b\r\n",
            b"junk",
        ];

        fn atoms() -> impl Strategy<Value = Vec<u8>> {
            prop::collection::vec(prop::sample::select(ATOMS), 1..40).prop_map(|v| v.concat())
        }

        fn pieces(len: usize, sizes: &[usize]) -> Vec<(usize, usize)> {
            let (mut at, mut out, mut i) = (0, Vec::new(), 0);
            while at < len {
                let n = sizes[i % sizes.len()].min(len - at);
                out.push((at, at + n));
                at += n;
                i += 1;
            }
            out
        }

        fn feed_all(
            limits: Limits,
            request: &[u8],
            response: &[u8],
            sizes: &[usize],
            fast: bool,
        ) -> (Vec<String>, Option<RestState>) {
            let mut s = HttpStream::with_limits(limits);
            let mut log = Log::default();
            let (rq, rs) = (pieces(request.len(), sizes), pieces(response.len(), sizes));
            for i in 0..rq.len().max(rs.len()) {
                for (dir, data, p) in [(C, request, rq.get(i)), (S, response, rs.get(i))] {
                    if let Some(&(a, b)) = p {
                        if fast {
                            s.feed(dir, &data[a..b], &mut log);
                        } else {
                            s.feed_slow(dir, &data[a..b], None, &mut log);
                        }
                    }
                }
            }
            let rest = s.at_rest();
            s.close(C, &mut log);
            s.close(S, &mut log);
            (log.0, rest)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            #[test]
            fn fast_path_equals_the_machine(
                request in atoms(),
                response in atoms(),
                sizes in prop::collection::vec(1usize..=20, 1..8),
                small_limits in any::<bool>(),
            ) {
                let limits = if small_limits {
                    Limits { max_line_len: 40, max_folds: 1, ..Limits::default() }.sanitized()
                } else {
                    Limits::default()
                };
                let fast = feed_all(limits, &request, &response, &sizes, true);
                let slow = feed_all(limits, &request, &response, &sizes, false);
                prop_assert_eq!(fast, slow);
            }
        }
    }
}
