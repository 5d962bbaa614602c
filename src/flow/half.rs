//! One direction of an HTTP connection: a state machine over elements and body bytes.
//!
//! The machine reads *elements* (lines and header fields, found by [`Scanner`]) and body
//! bytes. An element that lies whole in the caller's buffer is parsed there. An element split
//! across calls is copied into a per-direction carry-over buffer, allocated on first use and
//! never larger than one line (`Limits::max_line_len`); in place mode the caller keeps the
//! bytes instead. A line longer than the limit is inspected by its prefix, at the moment the
//! limit is passed, whatever the chunking: that is what keeps the output identical for every
//! split of the input.

use super::event::{BodyFraming, Event, EventSink, Section, TxId};
use super::limits::Limits;
use super::scan::{ElementKind, Scanner};
use super::stream::{MethodKind, Shared, TunnelKind};
use super::Direction;
use crate::http::{
    parse_chunk_size_line, parse_content_length, parse_field_line_checked, parse_request_line,
    parse_status_line, parse_transfer_encoding, Anomalies, ContentLength, TransferCoding, Version,
};

/// Pieces up to this length are scanned byte by byte on the fast path
/// ([`Half::absorb_element`]).
const SHORT_PIECE: usize = 16;

/// The carry-over buffer's first allocation, in bytes (never above the line limit).
const FIRST_CARRY_CAPACITY: usize = 256;

/// Where a direction is in its current message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Expecting a start line; empty lines are skipped and junk is counted.
    Start,
    /// Expecting header fields or the empty line that ends them.
    Headers,
    /// In a body framed by Content-Length.
    Body { remaining: u64 },
    /// Expecting a chunk-size line.
    ChunkSize,
    /// In chunk data.
    ChunkData { remaining: u64 },
    /// Expecting the CRLF after chunk data.
    ChunkDataEnd,
    /// Expecting trailer fields or the empty line that ends them.
    Trailers,
    /// In a response body that ends when the connection closes.
    UntilClose,
    /// The connection is a tunnel: nothing more is HTTP.
    Tunnel,
    /// The first line of a CONNECT tunnel: a well-formed HTTP start line means the tunnel
    /// carries plain HTTP, which is parsed on; anything else (TLS) makes it a tunnel.
    TunnelProbe,
    /// Request side: a CONNECT was sent and its answer decides what the next bytes are.
    AwaitConnect,
}

impl State {
    fn element_kind(self) -> Option<ElementKind> {
        match self {
            State::Start | State::ChunkSize | State::ChunkDataEnd | State::TunnelProbe => {
                Some(ElementKind::Line)
            }
            State::Headers | State::Trailers => Some(ElementKind::Field),
            _ => None,
        }
    }
}

/// An element in progress across calls.
#[derive(Debug, Clone, Copy)]
struct Pending {
    scanner: Scanner,
    /// The element passed the line limit and its prefix was already handled; the rest is
    /// skipped.
    handled: bool,
}

/// A complete element (or the inspected prefix of a long one).
struct Element<'a> {
    bytes: &'a [u8],
    truncated: bool,
    folds_exceeded: bool,
}

/// Per-message state, reset when a message starts.
#[derive(Debug, Clone, Copy)]
struct Message {
    active: bool,
    tx: TxId,
    anomalies: Anomalies,
    body_len: u64,
    version: Version,
    method: MethodKind,
    status: u16,
    interim: bool,
    /// Request: it asked for a protocol upgrade; response: its request did.
    upgrade_requested: bool,
    /// Request: `Expect: 100-continue`.
    expect_continue: bool,
    headers: u32,
    head_bytes: usize,
    content_length: Option<ContentLength>,
    transfer_coding: Option<TransferCoding>,
    hosts: u32,
    host_hash: Option<u64>,
    target_host_hash: Option<u64>,
}

impl Message {
    /// Counts `n` more body bytes. Saturating: gap lengths come from the caller (any u64).
    #[inline]
    fn count_body(&mut self, n: u64) {
        self.body_len = self.body_len.saturating_add(n);
    }

    fn idle() -> Message {
        Message {
            active: false,
            tx: 0,
            anomalies: Anomalies::empty(),
            body_len: 0,
            version: Version::Missing,
            method: MethodKind::Other,
            status: 0,
            interim: false,
            upgrade_requested: false,
            expect_continue: false,
            headers: 0,
            head_bytes: 0,
            content_length: None,
            transfer_coding: None,
            hosts: 0,
            host_hash: None,
            target_host_hash: None,
        }
    }
}

/// Result of running the machine over a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) consumed: usize,
    pub(crate) needed: usize,
    /// The run stopped early so that the other direction can act first (a CONNECT answer
    /// decides what the waiting request bytes are); the caller runs the rest afterwards.
    pub(crate) yielded: bool,
}

/// What [`Half::absorb_element`] did with a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ElementPiece {
    /// The piece continues an element split across calls, or starts one, and is kept;
    /// nothing follows from it yet.
    Kept,
    /// Nothing was done: the piece needs the full machine ([`Half::run`]).
    Run {
        /// Where the piece's first LF is, when the fast path searched for it: passed on to
        /// [`Half::run`] so that a 64-byte piece is not searched twice.
        first_lf: Option<usize>,
    },
}

/// One direction's parser.
#[derive(Debug)]
pub(crate) struct Half {
    dir: Direction,
    state: State,
    carry: Vec<u8>,
    elem: Option<Pending>,
    /// In place mode: the scanner state of an element the caller will present again.
    resume: Option<Scanner>,
    msg: Message,
    /// Anomalies seen between messages, given to the next one.
    pending: Anomalies,
    /// After a gap: only a well-formed start line starts a message.
    resync: bool,
    closed: bool,
    /// DATA_AFTER_CLOSE was reported.
    late_data_reported: bool,
}

impl Half {
    pub(crate) fn new(dir: Direction) -> Half {
        Half {
            dir,
            state: State::Start,
            carry: Vec::new(),
            elem: None,
            resume: None,
            msg: Message::idle(),
            pending: Anomalies::empty(),
            resync: false,
            closed: false,
            late_data_reported: false,
        }
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// Whether this direction holds nothing but its closed / late-data flags: between
    /// messages, no element or anomaly pending, no resynchronisation under way (or closed,
    /// after which nothing but the late-data report can happen).
    pub(crate) fn at_rest(&self) -> bool {
        self.closed
            || (self.state == State::Start
                && !self.msg.active
                && self.carry.is_empty()
                && self.elem.is_none()
                && self.resume.is_none()
                && self.pending.is_empty()
                && !self.resync)
    }

    /// The closed and late-data flags, which [`Half::restored`] takes back.
    pub(crate) fn rest_flags(&self) -> (bool, bool) {
        (self.closed, self.late_data_reported)
    }

    /// A direction at rest with these flags: equal, for everything that follows, to the one
    /// [`Half::at_rest`] was true for.
    pub(crate) fn restored(dir: Direction, closed: bool, late_data_reported: bool) -> Half {
        Half {
            closed,
            late_data_reported,
            ..Half::new(dir)
        }
    }

    /// Heap bytes this direction holds.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.carry.capacity()
    }

    /// The fast path of copy mode, for a piece that does not change the state of the
    /// machine beyond counting (a caller feeding a few bytes at a time), in two halves. This
    /// one takes body bytes: `len` bytes that neither end the body nor follow a split
    /// element are counted, and the message they belong to is returned; the caller gives
    /// the body event the machine would give. Calls nothing, so that a caller feeding a byte
    /// at a time can reach the body handler without saving registers on the way.
    #[inline(always)]
    pub(crate) fn absorb_body(&mut self, len: usize) -> Option<TxId> {
        if self.closed || len == 0 || self.elem.is_some() {
            return None;
        }
        let len = len as u64;
        self.state = match self.state {
            State::Body { remaining } if remaining > len => State::Body {
                remaining: remaining - len,
            },
            State::ChunkData { remaining } if remaining > len => State::ChunkData {
                remaining: remaining - len,
            },
            State::UntilClose => State::UntilClose,
            _ => return None,
        };
        self.msg.count_body(len);
        Some(self.msg.tx)
    }

    /// The other half of the fast path, for a piece [`Half::absorb_body`] did not take:
    /// bytes that continue a line of an element split across calls and hold no LF, the
    /// first bytes of an element that they do not end, or a few bytes of a header field
    /// that do not end it. The piece is taken exactly as [`Half::run`] would take it,
    /// without the run loop. Returns [`ElementPiece::Run`], having changed nothing, when the
    /// piece needs the full machine: it may end the element, it passes the line limit, or
    /// the carry-over must grow.
    #[inline(always)]
    pub(crate) fn absorb_element(&mut self, limits: &Limits, input: &[u8]) -> ElementPiece {
        const UNKNOWN: ElementPiece = ElementPiece::Run { first_lf: None };
        if self.closed || input.is_empty() {
            return UNKNOWN;
        }
        let Some(p) = self.elem.as_mut() else {
            return if self.absorb_element_start(limits, input) {
                ElementPiece::Kept
            } else {
                UNKNOWN
            };
        };
        let first_lf = match input {
            [byte] => (*byte == b'\n').then_some(0),
            _ if input.len() <= SHORT_PIECE => input.iter().position(|&b| b == b'\n'),
            _ => memchr::memchr(b'\n', input),
        };
        let has_lf = first_lf.is_some();
        let not_kept = ElementPiece::Run { first_lf };
        // Where the scanner will be after the piece: `None` when the piece only extends the
        // current line; otherwise a header field that the piece does not end (its LF, whose
        // next byte decides, or a continuation line's first bytes), found by stepping a copy
        // over a single byte or scanning a copy over a short piece.
        let scanned = if !has_lf && p.scanner.continues_line() {
            None
        } else if p.handled {
            return not_kept;
        } else if let [byte] = input {
            match p.scanner.stepped(*byte) {
                Some(scanner) => Some(scanner),
                None => return not_kept,
            }
        } else if input.len() <= SHORT_PIECE && p.scanner.may_continue_field(input) {
            match p.scanner.scanned_past(input) {
                Some(scanner) => Some(scanner),
                None => return not_kept,
            }
        } else {
            return not_kept;
        };
        if p.handled {
            // The rest of a long line whose prefix was inspected: only its end matters.
            p.scanner.extend_line(input.len());
            return ElementPiece::Kept;
        }
        let fits = p.scanner.total() + input.len() <= limits.max_line_len
            && self.carry.capacity() - self.carry.len() >= input.len();
        if !fits || self.state.element_kind().is_none() {
            return not_kept;
        }
        match scanned {
            Some(scanner) => p.scanner = scanner,
            None => p.scanner.extend_line(input.len()),
        }
        if let [byte] = input {
            // One byte: cheaper than the call to memcpy that extending makes.
            self.carry.push(*byte);
        } else {
            self.carry.extend_from_slice(input);
        }
        ElementPiece::Kept
    }

    /// [`Half::absorb_element`] between elements: a piece that starts an element without
    /// ending it begins it as [`Half::run`] would (a new scanner, the piece in the
    /// carry-over). Out of line: the fast path that calls it must stay small.
    #[inline(never)]
    fn absorb_element_start(&mut self, limits: &Limits, input: &[u8]) -> bool {
        let Some(kind) = self.state.element_kind() else {
            return false;
        };
        if self.resume.is_some()
            || input.len() > SHORT_PIECE
            || input.len() > limits.max_line_len
            || self.carry.capacity() - self.carry.len() < input.len()
        {
            return false;
        }
        let scanner = Scanner::new(kind, limits.max_folds);
        let scanned = match input {
            [byte] => scanner.stepped(*byte),
            _ => scanner.scanned_past(input),
        };
        let Some(scanner) = scanned else {
            return false;
        };
        self.carry.extend_from_slice(input);
        self.elem = Some(Pending {
            scanner,
            handled: false,
        });
        true
    }

    /// Runs the machine over `input`. In copy mode everything is consumed; in place mode the
    /// run stops at an element that is not complete and says how many bytes were consumed.
    /// `first_lf` is where the first LF of `input` is, when the caller already searched.
    // Inline into its few callers: a sensor feeding 64-byte pieces runs the machine once
    // per piece, and as a function of its own its frame cost about 60 of the 1,000 or so
    // instructions of such a call.
    #[inline]
    pub(crate) fn run(
        &mut self,
        sh: &mut Shared,
        input: &[u8],
        copy: bool,
        first_lf: Option<usize>,
        sink: &mut dyn EventSink,
    ) -> Run {
        if self.closed {
            if !input.is_empty() && !self.late_data_reported {
                // No message can follow a close, so this is reported on its own, once.
                self.late_data_reported = true;
                sink.on_event(&Event::StreamAnomalies {
                    dir: self.dir,
                    anomalies: Anomalies::DATA_AFTER_CLOSE,
                });
            }
            return Run {
                consumed: input.len(),
                needed: 0,
                yielded: false,
            };
        }
        // In place mode with a split element already in the carry-over (the caller switched
        // modes): finish it by copying, so nothing accepted is lost.
        let copy = copy || !self.carry.is_empty();
        let max = sh.limits.max_line_len;
        let mut pos = 0;
        // The caller's search holds for a slice that starts where `input` does.
        let known_lf = |from: usize| first_lf.filter(|_| from == 0);
        while pos < input.len() {
            if sh.has_resolution() {
                return Run {
                    consumed: pos,
                    needed: 0,
                    yielded: true,
                };
            }
            let Some(rest) = input.get(pos..) else {
                break;
            };
            // The rest of a line whose prefix was already handled is skipped first, whatever
            // state handling it led to (a long chunk-size line leads into chunk data).
            if let Some(p) = self.elem.as_mut().filter(|p| p.handled) {
                match p.scanner.scan_known(rest, known_lf(pos)) {
                    Some(end) => {
                        let folds_exceeded = p.scanner.folds_exceeded();
                        self.elem = None;
                        pos += end;
                        // Known only now that the field ended; the whole-buffer path flags it
                        // when it handles the field, before any later element either way.
                        if folds_exceeded {
                            self.flag(Anomalies::TOO_MANY_FOLDS);
                        }
                    }
                    // The scanner went on in place.
                    None => pos = input.len(),
                }
                continue;
            }
            match self.state {
                State::Body { remaining } | State::ChunkData { remaining } => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    self.body(rest.get(..n).unwrap_or(rest), sink);
                    pos += n;
                    let remaining = remaining - n as u64;
                    match self.state {
                        State::Body { .. } if remaining == 0 => self.complete(sh, sink),
                        State::Body { .. } => self.state = State::Body { remaining },
                        _ if remaining == 0 => self.state = State::ChunkDataEnd,
                        _ => self.state = State::ChunkData { remaining },
                    }
                }
                State::UntilClose => {
                    self.body(rest, sink);
                    pos = input.len();
                }
                State::Tunnel => pos = input.len(),
                State::AwaitConnect => {
                    // Held by the parser in both modes (bounded by max_carry_over): the answer
                    // may arrive before the caller presents these bytes again, and the events
                    // must not depend on the feeding mode.
                    if self.carry.len() + rest.len() <= sh.limits.max_carry_over {
                        if !append_capped(&mut self.carry, rest, sh.limits.max_carry_over) {
                            self.flag(Anomalies::MEMORY_EXHAUSTED);
                        }
                        pos = input.len();
                    } else {
                        // The client did not wait for the answer: what it sent is HTTP.
                        self.pending |= Anomalies::CONNECT_UNANSWERED;
                        sh.connect_abandoned();
                        self.state = State::Start;
                        self.replay_held(sh, sink);
                    }
                }
                State::Start
                | State::Headers
                | State::ChunkSize
                | State::ChunkDataEnd
                | State::Trailers
                | State::TunnelProbe => {
                    // Whole one-line fields first; what they leave goes to the scanner, told
                    // when the fast path already saw that it holds no LF.
                    let mut rest = rest;
                    let mut no_lf = false;
                    if self.elem.is_none() && self.resume.is_none() && self.carry.is_empty() {
                        let (n, tail_without_lf) = self.whole_fields(sh, rest, sink);
                        if n > 0 {
                            pos += n;
                            rest = rest.get(n..).unwrap_or_default();
                            let go_on = matches!(self.state, State::Headers | State::Trailers)
                                && !sh.has_resolution()
                                && !rest.is_empty();
                            if !go_on {
                                continue;
                            }
                        }
                        no_lf = tail_without_lf;
                    }
                    let kind = self.state.element_kind().unwrap_or(ElementKind::Line);
                    // Where scanning resumes: in place mode the caller presents an element
                    // again from its start, and the part already scanned is skipped. The
                    // element in progress is worked on where it lies (no handled prefix is
                    // pending here: that case is taken above).
                    let (p, skip) = match self.elem {
                        Some(ref mut p) => {
                            // Never both set (a resume state is made only without a pending
                            // element, and returned with at once); dropped as before if they
                            // were.
                            self.resume = None;
                            (p, 0)
                        }
                        None => {
                            let (scanner, skip) = match self.resume.take() {
                                Some(s) if !copy && s.total() <= rest.len() => (s, s.total()),
                                _ => (Scanner::new(kind, sh.limits.max_folds), 0),
                            };
                            let pending = Pending {
                                scanner,
                                handled: false,
                            };
                            (self.elem.insert(pending), skip)
                        }
                    };
                    let data = rest.get(skip..).unwrap_or_default();
                    let scanned = if no_lf {
                        p.scanner.take_without_lf(data);
                        None
                    } else {
                        p.scanner.scan_known(data, known_lf(pos + skip))
                    };
                    let total = p.scanner.total();
                    match scanned {
                        Some(n) => {
                            let folds_exceeded = p.scanner.folds_exceeded();
                            self.elem = None;
                            let end = skip + n;
                            if self.carry.is_empty() {
                                let el = Element {
                                    bytes: rest.get(..end.min(max)).unwrap_or(rest),
                                    truncated: total > max,
                                    folds_exceeded,
                                };
                                self.element(sh, el, sink);
                            } else {
                                let element = rest.get(..end).unwrap_or(rest);
                                if !append_capped(&mut self.carry, element, max) {
                                    self.flag(Anomalies::MEMORY_EXHAUSTED);
                                }
                                self.element_from_carry(sh, total, folds_exceeded, sink);
                            }
                            pos += end;
                        }
                        None if total > max => {
                            // Inspected by its prefix now; the rest is skipped (above).
                            p.handled = true;
                            if self.carry.is_empty() {
                                let el = Element {
                                    bytes: rest.get(..max).unwrap_or(rest),
                                    truncated: true,
                                    folds_exceeded: false,
                                };
                                self.element(sh, el, sink);
                            } else {
                                if !append_capped(&mut self.carry, rest, max) {
                                    self.flag(Anomalies::MEMORY_EXHAUSTED);
                                }
                                self.element_from_carry(sh, total, false, sink);
                            }
                            pos = input.len();
                        }
                        None => {
                            if !copy {
                                self.resume = Some(p.scanner);
                                self.elem = None;
                                return Run {
                                    consumed: pos,
                                    needed: rest.len() + 1,
                                    yielded: false,
                                };
                            }
                            if !append_capped(&mut self.carry, rest, max) {
                                self.flag(Anomalies::MEMORY_EXHAUSTED);
                            }
                            pos = input.len();
                        }
                    }
                }
            }
        }
        Run {
            consumed: input.len(),
            needed: 0,
            yielded: false,
        }
    }

    /// The header fields at the start of `rest` that are one line each and lie whole in it,
    /// handled without the scanner: for such a field the scanner's end is the line's LF, once
    /// the byte after it is seen and is not SP or HTAB. Returns the bytes consumed, and stops
    /// (leaving the rest to the scanner) at a line the buffer ends in or whose next line may
    /// continue it, at a line over the limit, when the block ends, or when a CONNECT answer
    /// waits to be delivered. Most header bytes of whole-buffer and large-chunk traffic go
    /// this way; the events are the scanner's, element for element.
    ///
    /// Also says whether it stopped because the rest holds no LF, which the scanner need not
    /// look for again (with pieces of a few dozen bytes, most calls end in a partial line).
    #[inline]
    fn whole_fields(
        &mut self,
        sh: &mut Shared,
        rest: &[u8],
        sink: &mut dyn EventSink,
    ) -> (usize, bool) {
        let mut pos = 0;
        while matches!(self.state, State::Headers | State::Trailers) && !sh.has_resolution() {
            let line = rest.get(pos..).unwrap_or_default();
            let Some(lf) = memchr::memchr(b'\n', line) else {
                return (pos, !line.is_empty());
            };
            let len = lf + 1;
            if len > sh.limits.max_line_len {
                break;
            }
            // The empty line that ends the block ends at its LF, whatever follows.
            let empty = lf == 0 || (lf == 1 && line.first() == Some(&b'\r'));
            if !empty && matches!(line.get(len), None | Some(b' ' | b'\t')) {
                break;
            }
            let el = Element {
                bytes: line.get(..len).unwrap_or(line),
                truncated: false,
                folds_exceeded: false,
            };
            self.element(sh, el, sink);
            pos += len;
        }
        (pos, false)
    }

    /// Handles the element held in the carry-over buffer, then empties the buffer (keeping its
    /// capacity, so a flow in steady state does not allocate again).
    fn element_from_carry(
        &mut self,
        sh: &mut Shared,
        total: usize,
        folds_exceeded: bool,
        sink: &mut dyn EventSink,
    ) {
        let buf = std::mem::take(&mut self.carry);
        let el = Element {
            bytes: &buf,
            truncated: total > sh.limits.max_line_len,
            folds_exceeded,
        };
        self.element(sh, el, sink);
        self.carry = buf;
        self.carry.clear();
    }

    fn body(&mut self, data: &[u8], sink: &mut dyn EventSink) {
        if data.is_empty() {
            return;
        }
        self.msg.count_body(data.len() as u64);
        sink.on_event(&Event::Body {
            tx: self.msg.tx,
            dir: self.dir,
            data,
        });
    }

    /// Adds anomalies to the current message, or to the next one between messages.
    fn flag(&mut self, a: Anomalies) {
        if self.msg.active {
            self.msg.anomalies |= a;
        } else {
            self.pending |= a;
        }
    }

    fn element(&mut self, sh: &mut Shared, el: Element<'_>, sink: &mut dyn EventSink) {
        let (content, mut anomalies) = strip_terminator(el.bytes, el.truncated);
        // One word-at-a-time pass decides whether the byte-by-byte checks (bare LF, lone
        // CR, control bytes) are needed at all: on clean traffic they are not.
        let controls = crate::http::token::has_controls(content);
        if controls {
            anomalies |= line_end_anomalies(content);
        }
        if el.truncated {
            anomalies |= Anomalies::LINE_TOO_LONG;
        }
        if el.folds_exceeded {
            anomalies |= Anomalies::TOO_MANY_FOLDS;
        }
        match self.state {
            State::Start => self.start_line(sh, content, &el, anomalies, sink),
            State::Headers | State::Trailers => {
                self.msg.anomalies |= anomalies;
                // Inspected bytes, not wire bytes: an over-long line counts by its prefix, which
                // is the same whether the line came whole or in pieces.
                self.msg.head_bytes = self.msg.head_bytes.saturating_add(el.bytes.len());
                if content.is_empty() {
                    self.end_of_block(sh, sink);
                } else {
                    self.field(sh, content, controls, sink);
                }
            }
            State::ChunkSize => {
                self.msg.anomalies |= anomalies;
                if content.is_empty() {
                    // A stray line end before the size: browsers skip it (HTTP Evader
                    // chunked/17-22), so the body is not lost; it is still odd.
                    self.msg.anomalies |= Anomalies::CHUNK_SIZE_INVALID;
                } else {
                    self.chunk_size(sh, content, sink);
                }
            }
            // Line ends before the first line say nothing yet (a stray CRLF after the
            // CONNECT head is common).
            State::TunnelProbe if content.is_empty() => {}
            State::TunnelProbe => {
                let http = match self.dir {
                    Direction::ToServer => {
                        parse_request_line(content).is_some_and(|l| l.is_strict_start())
                    }
                    Direction::ToClient => parse_status_line(content).is_some(),
                };
                if http {
                    self.state = State::Start;
                    self.start_line(sh, content, &el, anomalies, sink);
                } else {
                    self.state = State::Tunnel;
                }
            }
            State::ChunkDataEnd => {
                self.msg.anomalies |= anomalies;
                self.state = State::ChunkSize;
                if !content.is_empty() {
                    // Lenient: the line after the data is taken as the next chunk-size line.
                    self.msg.anomalies |= Anomalies::CHUNK_DATA_NO_CRLF;
                    self.chunk_size(sh, content, sink);
                }
            }
            _ => {}
        }
    }

    fn start_line(
        &mut self,
        sh: &mut Shared,
        content: &[u8],
        el: &Element<'_>,
        line_anomalies: Anomalies,
        sink: &mut dyn EventSink,
    ) {
        if content.is_empty() {
            if !self.resync && self.dir == Direction::ToServer {
                self.pending |= Anomalies::LEADING_EMPTY_LINES;
            }
            return;
        }
        match self.dir {
            Direction::ToServer => self.request_line(sh, content, line_anomalies, sink),
            Direction::ToClient => self.status_line(sh, content, el, line_anomalies, sink),
        }
    }

    fn begin(&mut self, tx: TxId, anomalies: Anomalies) {
        self.msg = Message::idle();
        self.msg.active = true;
        self.msg.tx = tx;
        self.msg.anomalies = anomalies | std::mem::take(&mut self.pending);
        self.resync = false;
    }

    fn request_line(
        &mut self,
        sh: &mut Shared,
        content: &[u8],
        line_anomalies: Anomalies,
        sink: &mut dyn EventSink,
    ) {
        let line = match parse_request_line(content) {
            Some(l)
                if if self.resync {
                    l.is_strict_start()
                } else {
                    l.is_plausible()
                } =>
            {
                l
            }
            _ => {
                self.pending |= Anomalies::JUNK_BEFORE_MESSAGE;
                return;
            }
        };
        let method = MethodKind::of(line.method);
        let (tx, tx_anomalies) = sh.begin_request(method);
        self.begin(tx, line.anomalies | line_anomalies | tx_anomalies);
        self.msg.version = line.version;
        self.msg.method = method;
        if line.form == crate::http::TargetForm::Absolute {
            self.msg.target_host_hash = absolute_target_host(line.target).map(host_hash);
        }
        sink.on_event(&Event::RequestLine { tx, line });
        self.state = State::Headers;
    }

    fn status_line(
        &mut self,
        sh: &mut Shared,
        content: &[u8],
        el: &Element<'_>,
        line_anomalies: Anomalies,
        sink: &mut dyn EventSink,
    ) {
        if let Some(line) = parse_status_line(content) {
            let interim = line.is_interim();
            let start = sh.begin_response(Some(line.code));
            let tx = start.tx;
            self.begin(tx, line.anomalies | line_anomalies | start.anomalies);
            self.msg.version = line.version;
            self.msg.method = start.method;
            self.msg.upgrade_requested = start.upgrade_requested;
            self.msg.status = line.code;
            self.msg.interim = interim;
            sink.on_event(&Event::StatusLine { tx, line });
            self.state = State::Headers;
        } else if self.resync {
            self.pending |= Anomalies::JUNK_BEFORE_MESSAGE;
        } else {
            // No status line: an HTTP/0.9 answer, whose bytes are all body until close.
            let start = sh.begin_response(None);
            let tx = start.tx;
            self.begin(tx, Anomalies::NO_STATUS_LINE | start.anomalies);
            self.msg.method = start.method;
            sink.on_event(&Event::HeadersComplete {
                tx,
                dir: self.dir,
                framing: BodyFraming::UntilClose,
                anomalies: self.msg.anomalies,
            });
            self.state = State::UntilClose;
            // Only the inspected prefix of an over-long first line counts as body: the rest of
            // that line is skipped like any over-long line, so the count does not depend on
            // where the input was split.
            self.body(el.bytes, sink);
        }
    }

    fn field(&mut self, sh: &mut Shared, content: &[u8], controls: bool, sink: &mut dyn EventSink) {
        // Both header limits are reported whichever is passed first, and whatever the line.
        if self.msg.head_bytes > sh.limits.max_header_block {
            self.msg.anomalies |= Anomalies::HEADER_BLOCK_TOO_LARGE;
        }
        if content.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            self.msg.anomalies |= Anomalies::FOLD_WITHOUT_HEADER;
            return;
        }
        let header = parse_field_line_checked(content, controls);
        self.msg.anomalies |= header.anomalies;
        if header.anomalies.contains(Anomalies::HEADER_WITHOUT_COLON) {
            return;
        }
        let section = if self.state == State::Trailers {
            Section::Trailer
        } else if self.msg.interim {
            Section::Interim
        } else {
            Section::Head
        };
        if section == Section::Head {
            self.framing_header(sh, &header);
        }
        self.msg.headers = self.msg.headers.saturating_add(1);
        if self.msg.headers > sh.limits.max_headers {
            self.msg.anomalies |= Anomalies::TOO_MANY_HEADERS;
            return;
        }
        if self.msg.head_bytes > sh.limits.max_header_block
            || !sink.wants_header(self.dir, header.name)
        {
            return;
        }
        sink.on_event(&Event::Header {
            tx: self.msg.tx,
            dir: self.dir,
            section,
            header,
        });
    }

    /// Records what a header of the head block says about framing and Host.
    fn framing_header(&mut self, sh: &mut Shared, header: &crate::http::Header<'_>) {
        if header.is(b"content-length") {
            let cl = parse_content_length(header.value);
            match (self.msg.content_length, cl) {
                (None, _) => self.msg.content_length = Some(cl),
                (
                    Some(ContentLength::Valid { length: a, .. }),
                    ContentLength::Valid { length: b, .. },
                ) if a == b => self.msg.anomalies |= Anomalies::CL_DUPLICATE,
                _ => self.msg.anomalies |= Anomalies::CL_CONFLICT,
            }
        } else if header.is(b"transfer-encoding") {
            let tc = parse_transfer_encoding(header.value);
            match &mut self.msg.transfer_coding {
                Some(prev) => prev.merge(tc),
                None => self.msg.transfer_coding = Some(tc),
            }
        } else if self.dir == Direction::ToServer {
            if header.is(b"host") {
                self.msg.hosts += 1;
                // Only an absolute-form target has a host to compare with.
                if self.msg.hosts == 1 && self.msg.target_host_hash.is_some() {
                    self.msg.host_hash = Some(host_hash(strip_port(header.value)));
                }
            } else if header.is(b"upgrade") {
                self.msg.upgrade_requested = true;
                sh.mark_upgrade(self.msg.tx);
            } else if header.is(b"expect") {
                let v = crate::http::token::trim_ows(header.value);
                self.msg.expect_continue |= v.eq_ignore_ascii_case(b"100-continue");
            }
        }
    }

    fn end_of_block(&mut self, sh: &mut Shared, sink: &mut dyn EventSink) {
        if self.state == State::Trailers {
            self.complete(sh, sink);
            return;
        }
        if self.msg.interim {
            // An interim answer has no body; the final answer follows on the same transaction.
            self.msg.active = false;
            self.state = State::Start;
            return;
        }
        let framing = match self.dir {
            Direction::ToServer => self.request_framing(),
            Direction::ToClient => self.response_framing(sh),
        };
        if self.msg.expect_continue
            && matches!(framing, BodyFraming::Length(_) | BodyFraming::Chunked)
        {
            sh.expect_continue(self.msg.tx);
        }
        sink.on_event(&Event::HeadersComplete {
            tx: self.msg.tx,
            dir: self.dir,
            framing,
            anomalies: self.msg.anomalies,
        });
        match framing {
            BodyFraming::None => self.complete(sh, sink),
            BodyFraming::Length(n) => self.state = State::Body { remaining: n },
            BodyFraming::Chunked => self.state = State::ChunkSize,
            BodyFraming::UntilClose => self.state = State::UntilClose,
            BodyFraming::Tunnel => {
                self.complete(sh, sink);
                self.state = match sh.tunnel() {
                    Some(TunnelKind::Connect) => State::TunnelProbe,
                    _ => State::Tunnel,
                };
            }
        }
    }

    /// Decides how much of the message is body from the Content-Length and
    /// Transfer-Encoding fields seen, and flags what two servers could read differently.
    fn length_framing(&mut self) -> Option<BodyFraming> {
        let msg = &mut self.msg;
        if let Some(tc) = msg.transfer_coding {
            if msg.content_length.is_some() {
                msg.anomalies |= Anomalies::CL_AND_TE;
            }
            if msg.version == Version::Http10 {
                msg.anomalies |= Anomalies::TE_IN_HTTP10;
            }
            if !tc.chunked_last {
                msg.anomalies |= Anomalies::TE_NOT_CHUNKED;
            }
            if tc.unknown {
                msg.anomalies |= Anomalies::TE_UNKNOWN_CODING;
            }
            if tc.chunked_anywhere {
                return Some(BodyFraming::Chunked);
            }
        }
        match msg.content_length {
            Some(ContentLength::Valid {
                length,
                leading_zeros,
            }) => {
                if leading_zeros {
                    msg.anomalies |= Anomalies::CL_LEADING_ZEROS;
                }
                Some(if length == 0 {
                    BodyFraming::None
                } else {
                    BodyFraming::Length(length)
                })
            }
            Some(ContentLength::Conflicting) => {
                msg.anomalies |= Anomalies::CL_CONFLICT;
                Some(BodyFraming::None)
            }
            Some(ContentLength::Invalid) => {
                msg.anomalies |= Anomalies::CL_INVALID;
                Some(BodyFraming::None)
            }
            Some(ContentLength::Overflow) => {
                msg.anomalies |= Anomalies::CL_OVERFLOW;
                Some(BodyFraming::None)
            }
            None => None,
        }
    }

    fn request_framing(&mut self) -> BodyFraming {
        let msg = &mut self.msg;
        if msg.version.is_http11_or_later() && msg.hosts == 0 {
            msg.anomalies |= Anomalies::HOST_MISSING;
        }
        if msg.hosts > 1 {
            msg.anomalies |= Anomalies::HOST_REPEATED;
        }
        if let (Some(t), Some(h)) = (msg.target_host_hash, msg.host_hash) {
            if t != h {
                msg.anomalies |= Anomalies::HOST_AMBIGUOUS;
            }
        }
        self.length_framing().unwrap_or(BodyFraming::None)
    }

    fn response_framing(&mut self, sh: &mut Shared) -> BodyFraming {
        let status = self.msg.status;
        if self.msg.method == MethodKind::Connect {
            let tunnel = (200..300).contains(&status);
            sh.connect_answered(self.msg.tx, tunnel);
            if tunnel {
                sh.set_tunnel(TunnelKind::Connect);
                return BodyFraming::Tunnel;
            }
        }
        if status == 101 {
            if self.msg.upgrade_requested {
                sh.set_tunnel(TunnelKind::Upgrade);
                sh.upgrade_answered();
                return BodyFraming::Tunnel;
            }
            // Nobody asked to switch protocols: a 101 here only hides what follows, so it is
            // read as an ordinary response (HTTP Evader 448).
            self.msg.anomalies |= Anomalies::UPGRADE_UNREQUESTED;
        }
        let framing = self.length_framing();
        if self.msg.method == MethodKind::Head || status == 204 || status == 304 {
            return BodyFraming::None;
        }
        match framing {
            // A response whose transfer coding is not chunked is read until close
            // (RFC 9112 §6.3 item 4).
            Some(BodyFraming::Chunked)
                if !self.msg.transfer_coding.is_some_and(|t| t.chunked_last) =>
            {
                BodyFraming::UntilClose
            }
            Some(BodyFraming::None)
                if self
                    .msg
                    .content_length
                    .is_some_and(|c| !matches!(c, ContentLength::Valid { .. })) =>
            {
                BodyFraming::UntilClose
            }
            Some(f) => f,
            None if self.msg.transfer_coding.is_some() => BodyFraming::UntilClose,
            None => BodyFraming::UntilClose,
        }
    }

    fn chunk_size(&mut self, sh: &mut Shared, content: &[u8], sink: &mut dyn EventSink) {
        let line = parse_chunk_size_line(content, sh.limits.max_chunk_extension);
        self.msg.anomalies |= line.anomalies;
        match line.size {
            Some(0) => self.state = State::Trailers,
            Some(n) => self.state = State::ChunkData { remaining: n },
            None => {
                // Framing is lost: end the message and look for the next well-formed one.
                self.complete(sh, sink);
                self.resync = true;
            }
        }
    }

    /// Ends the current message and decides what the direction expects next.
    fn complete(&mut self, sh: &mut Shared, sink: &mut dyn EventSink) {
        if !self.msg.active {
            return;
        }
        sink.on_event(&Event::MessageComplete {
            tx: self.msg.tx,
            dir: self.dir,
            body_len: self.msg.body_len,
            anomalies: self.msg.anomalies,
        });
        self.msg.active = false;
        self.state = State::Start;
        if self.dir == Direction::ToServer && self.msg.method == MethodKind::Connect {
            match sh.connect_sent(self.msg.tx) {
                Some(true) => self.state = State::TunnelProbe,
                Some(false) => {}
                None => self.state = State::AwaitConnect,
            }
        } else if self.dir == Direction::ToServer && sh.tunnel() == Some(TunnelKind::Upgrade) {
            self.state = State::Tunnel;
        }
    }

    /// The other side switched protocols: from here on nothing is HTTP.
    pub(crate) fn upgraded(&mut self) {
        if self.msg.active {
            // The request is still arriving: the tunnel starts after it.
            return;
        }
        self.state = State::Tunnel;
        self.elem = None;
        self.resume = None;
        self.carry.clear();
    }

    /// The request `tx` announced `Expect: 100-continue` and got a final answer before its
    /// body: the body is not coming.
    pub(crate) fn expect_rejected(&mut self, sh: &mut Shared, tx: TxId, sink: &mut dyn EventSink) {
        // A chunk-size line partly received (in the carry-over, or with the caller in place
        // mode) means the body has started.
        let waiting_for_body = matches!(self.state, State::Body { .. } | State::ChunkSize)
            && self.elem.is_none()
            && self.resume.is_none()
            && self.carry.is_empty();
        if self.msg.active && self.msg.tx == tx && self.msg.body_len == 0 && waiting_for_body {
            self.msg.anomalies |= Anomalies::EXPECT_BODY_SKIPPED;
            self.complete(sh, sink);
        }
    }

    /// The answer to a CONNECT arrived while this (request) side was waiting for it.
    pub(crate) fn connect_resolved(
        &mut self,
        sh: &mut Shared,
        tunnel: bool,
        sink: &mut dyn EventSink,
    ) {
        if self.state != State::AwaitConnect {
            return;
        }
        if tunnel {
            self.state = State::TunnelProbe;
            self.replay_held(sh, sink);
        } else {
            self.state = State::Start;
            self.replay_held(sh, sink);
        }
    }

    /// Parses the request bytes held while waiting for a CONNECT answer.
    fn replay_held(&mut self, sh: &mut Shared, sink: &mut dyn EventSink) {
        let held = std::mem::take(&mut self.carry);
        self.run(sh, &held, true, None, sink);
        if self.carry.is_empty() {
            // Keep the allocation for later use.
            self.carry = held;
            self.carry.clear();
        }
    }

    /// Bytes were lost: keep framing when the gap lies inside a body of known length,
    /// otherwise end the message and resynchronise on the next well-formed start line.
    pub(crate) fn gap(&mut self, sh: &mut Shared, len: u64, sink: &mut dyn EventSink) {
        if self.closed || len == 0 {
            return;
        }
        self.flag(Anomalies::GAP);
        match self.state {
            State::Body { remaining } | State::ChunkData { remaining } if len <= remaining => {
                self.msg.count_body(len);
                let left = remaining - len;
                self.state = match self.state {
                    State::Body { .. } if left == 0 => {
                        self.complete(sh, sink);
                        return;
                    }
                    State::Body { .. } => State::Body { remaining: left },
                    _ if left == 0 => State::ChunkDataEnd,
                    _ => State::ChunkData { remaining: left },
                };
            }
            State::UntilClose => self.msg.count_body(len),
            State::Tunnel => {}
            State::AwaitConnect => {
                // The held bytes are no longer contiguous with what follows.
                self.carry.clear();
            }
            _ => {
                self.elem = None;
                self.resume = None;
                self.carry.clear();
                self.flag(Anomalies::TRUNCATED);
                self.complete(sh, sink);
                self.state = State::Start;
                self.resync = true;
                self.pending |= Anomalies::GAP;
            }
        }
    }

    /// The direction ended: an element cut short is handled as it is, and a message in
    /// progress ends (flagged truncated unless it was a body delimited by the close).
    pub(crate) fn close(&mut self, sh: &mut Shared, sink: &mut dyn EventSink) {
        if self.closed {
            return;
        }
        if self.state == State::AwaitConnect {
            self.state = State::Start;
            sh.connect_abandoned();
            self.replay_held(sh, sink);
        }
        let had_partial = self.elem.is_some();
        if let Some(p) = self.elem.take() {
            if !p.handled && !self.carry.is_empty() {
                // A response's first line cut by the close is the body of an HTTP/0.9
                // answer, which ends at the close by definition.
                let answer_09 = self.dir == Direction::ToClient && self.state == State::Start;
                if !p.scanner.complete_at_eof() && !answer_09 {
                    self.flag(Anomalies::TRUNCATED);
                }
                self.element_from_carry(sh, p.scanner.total(), false, sink);
            }
        }
        self.carry = Vec::new();
        if self.state == State::Headers && self.msg.active && self.msg.version == Version::Missing {
            // An HTTP/0.9 request has no header block: the close ends it, complete.
            sink.on_event(&Event::HeadersComplete {
                tx: self.msg.tx,
                dir: self.dir,
                framing: BodyFraming::None,
                anomalies: self.msg.anomalies,
            });
            self.state = State::Start;
        }
        match self.state {
            State::UntilClose | State::Tunnel | State::Start => {}
            // After the last chunk only the end of the (optional) trailer section is missing:
            // the body is whole.
            State::Trailers if !had_partial => {}
            State::Headers if !self.msg.active => {}
            _ => self.flag(Anomalies::TRUNCATED),
        }
        self.complete(sh, sink);
        // What belongs to no message is reported now or never. Empty lines after the last
        // message are common and harmless.
        let left = std::mem::take(&mut self.pending) - Anomalies::LEADING_EMPTY_LINES;
        if !left.is_empty() {
            sink.on_event(&Event::StreamAnomalies {
                dir: self.dir,
                anomalies: left,
            });
        }
        self.closed = true;
    }
}

/// Copies `data` to `buf` without letting `buf` grow past `cap` bytes.
/// The buffer never holds more than `cap` bytes and, unlike the amortised growth of
/// `extend`, never reserves more than `cap` either. An allocation the allocator refuses is
/// no abort: nothing is copied and `false` says so (the caller flags `MEMORY_EXHAUSTED`).
#[must_use]
fn append_capped(buf: &mut Vec<u8>, data: &[u8], cap: usize) -> bool {
    let take = cap.saturating_sub(buf.len()).min(data.len());
    if buf.capacity() < buf.len() + take {
        // The first allocation holds a typical line whole: growing from the size of the
        // first piece cut (often a few bytes) cost several reallocations per flow.
        let want = (buf.len() + take)
            .max(buf.capacity() * 2)
            .max(FIRST_CARRY_CAPACITY)
            .min(cap);
        if buf.try_reserve_exact(want - buf.len()).is_err() {
            return false;
        }
    }
    buf.extend_from_slice(data.get(..take).unwrap_or(data));
    true
}

/// Removes the line terminator (LF or CRLF) of a complete element; a truncated element has
/// none. Flags a bare LF.
fn strip_terminator(bytes: &[u8], truncated: bool) -> (&[u8], Anomalies) {
    if truncated {
        return (bytes, Anomalies::empty());
    }
    match bytes {
        [rest @ .., b'\r', b'\n'] => (rest, Anomalies::empty()),
        [rest @ .., b'\n'] => (rest, Anomalies::BARE_LF),
        _ => (bytes, Anomalies::empty()),
    }
}

/// Flags bare LFs and lone CRs inside an element (between the continuation lines of a field,
/// or a CR in the middle of a line).
fn line_end_anomalies(content: &[u8]) -> Anomalies {
    let mut a = Anomalies::empty();
    for at in memchr::memchr2_iter(b'\r', b'\n', content) {
        let before = at.checked_sub(1).and_then(|i| content.get(i));
        match content.get(at) {
            Some(b'\n') if before != Some(&b'\r') => a |= Anomalies::BARE_LF,
            Some(b'\r') if content.get(at + 1) != Some(&b'\n') => a |= Anomalies::LONE_CR,
            _ => {}
        }
    }
    a
}

/// The host of an absolute-form target, without userinfo and port.
fn absolute_target_host(target: &[u8]) -> Option<&[u8]> {
    let crate::normalize::RequestTarget::Absolute { authority, .. } =
        crate::normalize::split_target(target)
    else {
        return None;
    };
    let host_port = match memchr::memrchr(b'@', authority) {
        Some(at) => authority.get(at + 1..).unwrap_or_default(),
        None => authority,
    };
    Some(strip_port(host_port))
}

/// `host[:port]` or `[v6][:port]` without the port.
fn strip_port(hostport: &[u8]) -> &[u8] {
    let hostport = crate::http::token::trim_ows(hostport);
    if hostport.first() == Some(&b'[') {
        return match memchr::memchr(b']', hostport) {
            Some(end) => hostport.get(..=end).unwrap_or(hostport),
            None => hostport,
        };
    }
    // More than one colon without brackets is a bare IPv6 address: it has no port.
    match memchr::memrchr(b':', hostport) {
        Some(c)
            if memchr::memchr(b':', hostport) == Some(c)
                && hostport
                    .get(c + 1..)
                    .is_some_and(|port| port.iter().all(u8::is_ascii_digit)) =>
        {
            hostport.get(..c).unwrap_or(hostport)
        }
        _ => hostport,
    }
}

/// FNV-1a of the lower-cased host without a trailing dot: Host and target are compared by
/// hash so that no copy of either is kept.
fn host_hash(host: &[u8]) -> u64 {
    let host = host.strip_suffix(b".").unwrap_or(host);
    host.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminators() {
        assert_eq!(
            strip_terminator(b"abc\r\n", false),
            (&b"abc"[..], Anomalies::empty())
        );
        assert_eq!(
            strip_terminator(b"abc\n", false),
            (&b"abc"[..], Anomalies::BARE_LF)
        );
        assert_eq!(strip_terminator(b"abc\r\n", true).0, b"abc\r\n");
        assert_eq!(line_end_anomalies(b"a\r\n b"), Anomalies::empty());
        assert_eq!(line_end_anomalies(b"a\n b"), Anomalies::BARE_LF);
        assert_eq!(line_end_anomalies(b"a\rb"), Anomalies::LONE_CR);
        assert_eq!(line_end_anomalies(b"a\r"), Anomalies::LONE_CR);
    }

    #[test]
    fn hosts_compare_without_port_case_or_userinfo() {
        let t = absolute_target_host(b"http://user@EXAMPLE.com:80/x").map(host_hash);
        assert_eq!(t, Some(host_hash(strip_port(b"example.com"))));
        assert_eq!(strip_port(b"[fd00:ec2::254]:80"), b"[fd00:ec2::254]");
        assert_eq!(strip_port(b"169.254.169.254:80"), b"169.254.169.254");
        assert_eq!(strip_port(b"fd00:ec2::254"), b"fd00:ec2::254");
        assert_ne!(host_hash(b"a.example"), host_hash(b"b.example"));
    }
}
