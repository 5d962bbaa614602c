//! Conversation files in libhtp's `.t` format: the test data of libhtp, Suricata and this
//! crate, and the input grammar of the fuzz targets.
//!
//! A file is a sequence of chunks. Each chunk starts with a marker line: `>>>` (client to
//! server bytes follow), `<<<` (server to client), `><>` or `<><` (a gap in the client or
//! server direction, whose length is that of the payload). The payload is every byte up to
//! the next marker line; before a marker exactly one LF and then at most one CR are removed,
//! as they belong to the marker line. The last chunk is taken verbatim. (Readers: Suricata
//! `rust/htp/src/test/common.rs`, libhtp `test/test.c`.)

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

use crate::flow::Direction;
use std::fmt;

/// What one chunk of a conversation carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// Bytes of a direction.
    Data,
    /// A gap: this many bytes of the direction were lost.
    Gap,
}

/// One chunk of a conversation, borrowing the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Its direction.
    pub dir: Direction,
    /// Data or gap.
    pub kind: ChunkKind,
    /// The payload (for a gap, only its length matters).
    pub bytes: &'a [u8],
}

/// Why a conversation file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationError {
    /// Bytes before the first marker line (offset of the first such byte).
    DataBeforeMarker {
        /// Byte offset in the file.
        offset: usize,
    },
    /// The file has no marker line at all.
    NoMarker,
}

impl fmt::Display for ConversationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConversationError::DataBeforeMarker { offset } => write!(
                f,
                "not a conversation file: data at byte {offset} before the first marker line \
                 (a line `>>>`, `<<<`, `><>` or `<><`)"
            ),
            ConversationError::NoMarker => write!(
                f,
                "not a conversation file: no marker line (`>>>`, `<<<`, `><>` or `<><`)"
            ),
        }
    }
}

impl std::error::Error for ConversationError {}

fn marker_at(data: &[u8], at: usize) -> Option<(Direction, ChunkKind, usize)> {
    let m = data.get(at..at + 3)?;
    let (dir, kind) = match m {
        b">>>" => (Direction::ToServer, ChunkKind::Data),
        b"<<<" => (Direction::ToClient, ChunkKind::Data),
        b"><>" => (Direction::ToServer, ChunkKind::Gap),
        b"<><" => (Direction::ToClient, ChunkKind::Gap),
        _ => return None,
    };
    match data.get(at + 3..) {
        Some([b'\n', ..]) => Some((dir, kind, at + 4)),
        Some([b'\r', b'\n', ..]) => Some((dir, kind, at + 5)),
        _ => None,
    }
}

/// Splits a conversation file into its chunks.
pub fn parse(data: &[u8]) -> Result<Vec<Chunk<'_>>, ConversationError> {
    // Marker lines: at the start of the file or right after an LF.
    let mut markers = Vec::new();
    if let Some(m) = marker_at(data, 0) {
        markers.push((0, m));
    }
    for lf in memchr::memchr_iter(b'\n', data) {
        if let Some(m) = marker_at(data, lf + 1) {
            markers.push((lf + 1, m));
        }
    }
    let Some(&(first, _)) = markers.first() else {
        return Err(ConversationError::NoMarker);
    };
    if first != 0 {
        return Err(ConversationError::DataBeforeMarker { offset: 0 });
    }
    let mut chunks = Vec::with_capacity(markers.len());
    for (i, &(_, (dir, kind, start))) in markers.iter().enumerate() {
        let bytes = match markers.get(i + 1) {
            Some(&(next, _)) => {
                // The LF and at most one CR before a marker belong to the marker line.
                let payload = data.get(start..next.max(start)).unwrap_or_default();
                payload
                    .strip_suffix(b"\n")
                    .map_or(payload, |p| p.strip_suffix(b"\r").unwrap_or(p))
            }
            None => data.get(start..).unwrap_or_default(),
        };
        chunks.push(Chunk { dir, kind, bytes });
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_marker_line_endings() {
        let f =
            b">>>\r\nGET / HTTP/1.0\r\n\r\n\r\n<<<\nHTTP/1.0 200 OK\r\n\r\n\n><>\nxxxx\n<<<\nend";
        let c = parse(f).expect("valid");
        assert_eq!(c.len(), 4);
        assert_eq!(
            (c[0].dir, c[0].kind),
            (Direction::ToServer, ChunkKind::Data)
        );
        assert_eq!(c[0].bytes, b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(c[1].bytes, b"HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!((c[2].kind, c[2].bytes.len()), (ChunkKind::Gap, 4));
        assert_eq!(c[3].bytes, b"end");
    }

    #[test]
    fn rejects_non_conversations() {
        assert_eq!(parse(b""), Err(ConversationError::NoMarker));
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\n"),
            Err(ConversationError::NoMarker)
        );
        assert_eq!(
            parse(b"junk\n>>>\nGET /\n"),
            Err(ConversationError::DataBeforeMarker { offset: 0 })
        );
        // A marker must be a whole line.
        assert_eq!(parse(b">>>x\n"), Err(ConversationError::NoMarker));
    }

    #[test]
    fn empty_chunks() {
        let c = parse(b">>>\n<<<\n").expect("valid");
        assert_eq!(c.len(), 2);
        assert!(c[0].bytes.is_empty() && c[1].bytes.is_empty());
    }
}
