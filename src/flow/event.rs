//! What the stream parser reports, as it reads.

use super::Direction;
use crate::http::{Anomalies, Header, RequestLine, StatusLine};

/// Identifier of a transaction: a request and the response paired with it. Numbered from 0
/// in the order requests start; a response that arrives without a request gets a number of
/// its own.
pub type TxId = u64;

/// How the body of a message is framed (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
    /// Everything until the connection closes (a response without length).
    UntilClose,
    /// The connection became a tunnel (CONNECT answered 2xx, or 101 Switching Protocols):
    /// the bytes that follow are not HTTP.
    Tunnel,
}

/// Where a header field stands in its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The header block of the message.
    Head,
    /// The header block of an interim (1xx) response before the final one.
    Interim,
    /// The trailer section after a chunked body.
    Trailer,
}

/// One thing the parser saw. Slices borrow either the caller's buffer or the parser's
/// carry-over buffer, and are valid only during the [`EventSink::on_event`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A request started.
    RequestLine {
        /// Its transaction.
        tx: TxId,
        /// The request line.
        line: RequestLine<'a>,
    },
    /// A response (or an interim 1xx answer) started.
    StatusLine {
        /// Its transaction.
        tx: TxId,
        /// The status line.
        line: StatusLine<'a>,
    },
    /// A header field of a request or response.
    Header {
        /// Its transaction.
        tx: TxId,
        /// Its direction.
        dir: Direction,
        /// Header block, interim block or trailer section.
        section: Section,
        /// The field.
        header: Header<'a>,
    },
    /// The header block of a message ended; the body framing is decided.
    HeadersComplete {
        /// Its transaction.
        tx: TxId,
        /// Its direction.
        dir: Direction,
        /// How the body is framed.
        framing: BodyFraming,
        /// Anomalies of the message so far.
        anomalies: Anomalies,
    },
    /// Body bytes, with any chunked framing removed.
    Body {
        /// Its transaction.
        tx: TxId,
        /// Its direction.
        dir: Direction,
        /// The bytes.
        data: &'a [u8],
    },
    /// Anomalies of a direction that belong to no message: bytes after the last message
    /// that were no HTTP (a body nobody announced), data after close. Reported when the
    /// direction closes (or at once for data after close), so that nothing seen is lost.
    StreamAnomalies {
        /// The direction.
        dir: Direction,
        /// The anomalies.
        anomalies: Anomalies,
    },
    /// A message ended (also when the stream ended or resynchronised in the middle of it).
    MessageComplete {
        /// Its transaction.
        tx: TxId,
        /// Its direction.
        dir: Direction,
        /// Body bytes the message carried (lost bytes of a gap included).
        body_len: u64,
        /// All anomalies of the message.
        anomalies: Anomalies,
    },
}

impl Event<'_> {
    /// The transaction the event belongs to (`TxId::MAX` for [`Event::StreamAnomalies`]).
    pub fn tx(&self) -> TxId {
        match *self {
            Event::RequestLine { tx, .. }
            | Event::StatusLine { tx, .. }
            | Event::Header { tx, .. }
            | Event::HeadersComplete { tx, .. }
            | Event::Body { tx, .. }
            | Event::MessageComplete { tx, .. } => tx,
            Event::StreamAnomalies { .. } => TxId::MAX,
        }
    }

    /// Whether the event belongs to a transaction (all but [`Event::StreamAnomalies`]).
    pub fn has_tx(&self) -> bool {
        !matches!(self, Event::StreamAnomalies { .. })
    }
}

/// Receives the parser's events. Implemented for every `FnMut(&Event<'_>)`.
pub trait EventSink {
    /// Called for each event, in stream order.
    fn on_event(&mut self, event: &Event<'_>);

    /// Whether the sink wants the [`Event::Header`] of a field named `name` sent in
    /// direction `dir`. The parser asks before building the event, and skips it when the
    /// answer is no; the field is parsed, checked and counted either way (framing,
    /// anomalies and limits do not depend on the answer). The default wants every field.
    ///
    /// A sink that reads only some fields (detection reads about a dozen names) saves
    /// building and dispatching the events of the others.
    #[inline]
    fn wants_header(&self, dir: Direction, name: &[u8]) -> bool {
        let _ = (dir, name);
        true
    }
}

impl<F: FnMut(&Event<'_>)> EventSink for F {
    fn on_event(&mut self, event: &Event<'_>) {
        self(event)
    }
}

/// A sink that ignores everything: for callers that only want framing or counts.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl EventSink for NullSink {
    fn on_event(&mut self, _event: &Event<'_>) {}
}
