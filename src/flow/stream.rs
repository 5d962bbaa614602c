//! Both directions of one connection, and the pairing of responses with requests.

use super::event::{EventSink, TxId};
use super::half::{Half, Run, State};
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
    /// A CONNECT answer for the waiting request side, to deliver once the response side
    /// returns.
    resolution: Option<bool>,
    tunnel: bool,
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
        self.waiting.push_back(Waiting { tx, method });
        (tx, anomalies)
    }

    /// Pairs a response with the oldest request still waiting; an interim answer leaves the
    /// request waiting for its final one.
    pub(crate) fn begin_response(&mut self, interim: bool) -> (TxId, MethodKind, Anomalies) {
        let head = if interim {
            self.waiting.front().copied()
        } else {
            self.waiting.pop_front()
        };
        match head {
            Some(w) => (w.tx, w.method, Anomalies::empty()),
            None => {
                let tx = self.next_tx;
                self.next_tx += 1;
                (tx, MethodKind::Other, Anomalies::RESPONSE_WITHOUT_REQUEST)
            }
        }
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
                self.resolution = Some(tunnel);
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

    pub(crate) fn set_tunnel(&mut self) {
        self.tunnel = true;
    }

    pub(crate) fn is_tunnel(&self) -> bool {
        self.tunnel
    }
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
                tunnel: false,
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
        self.run(dir, data, true, sink);
    }

    /// Suricata-style feeding that never copies: parses what is complete in `data` and
    /// returns how much was consumed. The caller keeps the unconsumed tail and presents it
    /// again, with more bytes after it, in its next call for this direction (the part already
    /// scanned is not scanned again). At the end of the stream, hand the tail to
    /// [`HttpStream::feed`] before [`HttpStream::close`].
    pub fn parse_in_place(
        &mut self,
        dir: Direction,
        data: &[u8],
        sink: &mut dyn EventSink,
    ) -> Progress {
        let run = self.run(dir, data, false, sink);
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

    /// Whether the connection became a tunnel (CONNECT answered 2xx, or an upgrade).
    pub fn is_tunnel(&self) -> bool {
        self.shared.tunnel
    }

    /// Whether the request direction waits for the answer to a CONNECT.
    pub fn awaits_connect_answer(&self) -> bool {
        self.request.state() == State::AwaitConnect
    }

    /// Heap bytes the parser holds (carry-over buffers and the queue of waiting requests).
    pub fn heap_bytes(&self) -> usize {
        self.request.heap_bytes()
            + self.response.heap_bytes()
            + self.shared.waiting.capacity() * size_of::<Waiting>()
    }

    /// Runs one direction over `data`, letting the request side act on a CONNECT answer as
    /// soon as the response side reads it.
    fn run(&mut self, dir: Direction, data: &[u8], copy: bool, sink: &mut dyn EventSink) -> Run {
        let mut offset = 0;
        loop {
            let (half, shared) = self.split(dir);
            let run = half.run(shared, &data[offset..], copy, sink);
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

    fn deliver_connect_answer(&mut self, sink: &mut dyn EventSink) {
        if let Some(tunnel) = self.shared.resolution.take() {
            self.request
                .connect_resolved(&mut self.shared, tunnel, sink);
            if tunnel {
                self.shared.tunnel = true;
            }
        }
    }
}
