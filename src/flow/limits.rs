//! Resource limits of the HTTP stream parser.
//!
//! Every limit is a named constant with an override in [`Limits`]. Passing a limit never stops
//! parsing silently and never grows memory: it sets an anomaly and the parser keeps framing
//! (or resynchronises). The defaults are Suricata's / libhtp's (`rust/htp/src/config.rs`),
//! so an analyst sees the same message boundaries in both.

/// Longest line (start line, header field with its continuation lines, chunk-size line) that
/// is inspected whole; a longer one is inspected by its first `MAX_LINE_LEN` bytes only.
/// libhtp's `field_limit`.
pub const MAX_LINE_LEN: usize = 18_000;
/// Header block size past which further fields are framed but not reported.
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;
/// Header fields per message past which further fields are framed but not reported.
/// libhtp's `number_headers_limit`.
pub const MAX_HEADERS: u32 = 1024;
/// Continuation lines per header field (libhtp's `MAX_NB_FOLD`).
pub const MAX_FOLDS: u32 = 128;
/// Chunk-extension bytes on one chunk-size line before it is flagged as oversized.
pub const MAX_CHUNK_EXTENSION: usize = 1024;
/// Requests that wait for their response before the oldest is dropped (libhtp's `max-tx`).
pub const MAX_LIVE_TRANSACTIONS: usize = 512;
/// Bytes held per direction while an element is split across chunks, or while request bytes
/// wait for the answer to a CONNECT. Never less than [`MAX_LINE_LEN`].
pub const MAX_CARRY_OVER: usize = MAX_LINE_LEN;

/// The limits one stream parser works under; [`Limits::default`] gives the constants above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_LINE_LEN`].
    pub max_line_len: usize,
    /// See [`MAX_HEADER_BLOCK`].
    pub max_header_block: usize,
    /// See [`MAX_HEADERS`].
    pub max_headers: u32,
    /// See [`MAX_FOLDS`].
    pub max_folds: u32,
    /// See [`MAX_CHUNK_EXTENSION`].
    pub max_chunk_extension: usize,
    /// See [`MAX_LIVE_TRANSACTIONS`].
    pub max_live_transactions: usize,
    /// See [`MAX_CARRY_OVER`].
    pub max_carry_over: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_len: MAX_LINE_LEN,
            max_header_block: MAX_HEADER_BLOCK,
            max_headers: MAX_HEADERS,
            max_folds: MAX_FOLDS,
            max_chunk_extension: MAX_CHUNK_EXTENSION,
            max_live_transactions: MAX_LIVE_TRANSACTIONS,
            max_carry_over: MAX_CARRY_OVER,
        }
    }
}

impl Limits {
    /// Returns these limits made consistent: every limit at least 1, and the carry-over at
    /// least one line, because output must not depend on where the input was split (a line
    /// that fits whole in a caller's buffer must also fit when it arrives in pieces).
    pub fn sanitized(mut self) -> Limits {
        self.max_line_len = self.max_line_len.max(16);
        self.max_header_block = self.max_header_block.max(1);
        self.max_headers = self.max_headers.max(1);
        self.max_live_transactions = self.max_live_transactions.max(1);
        self.max_carry_over = self.max_carry_over.max(self.max_line_len);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carry_over_never_below_a_line() {
        let l = Limits {
            max_line_len: 100,
            max_carry_over: 10,
            ..Limits::default()
        }
        .sanitized();
        assert_eq!(l.max_carry_over, 100);
        assert_eq!(Limits::default().sanitized(), Limits::default());
    }
}
