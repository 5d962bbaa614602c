//! Streaming HTTP/1.x over one TCP connection: both directions, any chunking.
//!
//! [`HttpStream`] takes the in-order bytes of each direction as the caller has them (a
//! reassembly engine's segments, a capture's packets) and reports what it reads as
//! [`Event`]s to an [`EventSink`]: request and status lines, header fields, body bytes (with
//! chunked framing removed), message ends with their [`Anomalies`](crate::http::Anomalies).
//! Responses are paired with requests into transactions ([`TxId`]).
//!
//! # Guarantees
//! - The events are identical for every way of splitting the same bytes into chunks.
//! - An element that arrives whole is parsed from the caller's buffer without copying or
//!   allocating; an element split across chunks is copied into a carry-over buffer of at
//!   most one line per direction.
//! - Time is linear in the input: every byte is scanned once, whatever the chunking.
//! - Small pieces are cheap: a piece in the middle of a line or of a body (a caller feeding a
//!   few bytes at a time) is counted, kept or passed on without entering the state machine.
//! - Memory is bounded by [`Limits`]; passing a limit sets an anomaly, never stops parsing.

#![forbid(unsafe_code)]
// Attacker-controlled bytes: nothing here may panic. Slices are taken with `get`.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod event;
mod half;
mod limits;
mod scan;
mod stream;
pub mod transaction;

pub use event::{BodyFraming, Event, EventSink, NullSink, Section, TxId};
pub(crate) use half::ElementPiece;
pub use limits::{
    Limits, MAX_CARRY_OVER, MAX_CHUNK_EXTENSION, MAX_FOLDS, MAX_HEADERS, MAX_HEADER_BLOCK,
    MAX_LINE_LEN, MAX_LIVE_TRANSACTIONS,
};
pub use stream::{HttpStream, Progress, RestState};

/// The direction of bytes in a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Direction {
    /// Client to server: requests.
    ToServer = 0,
    /// Server to client: responses.
    ToClient = 1,
}

impl Direction {
    /// Converts a raw value (0 = to server, 1 = to client), as it comes from C.
    pub fn from_raw(raw: u8) -> Option<Direction> {
        match raw {
            0 => Some(Direction::ToServer),
            1 => Some(Direction::ToClient),
            _ => None,
        }
    }

    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}
