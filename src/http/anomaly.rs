//! Protocol anomalies recorded on a message instead of rejecting it.
//!
//! An IDS must see what the most lenient server would accept, so the parser never refuses a
//! message: it records what was odd and keeps framing the way such a server would. Many of
//! these are "smuggling-grade": two servers that disagree on them frame the stream differently
//! (RFC 9112 §6.3, §11.2; the llhttp and HTTP Garden findings listed in the research notes).

use bitflags::bitflags;

bitflags! {
    /// Anomalies of one HTTP message (a request or a response), as bit flags.
    ///
    /// The numeric values are part of the C ABI once exported: never renumber a flag, only
    /// add new ones at the end.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Anomalies: u64 {
        /// A line ended in LF without the preceding CR (RFC 9112 §2.2 lets a recipient accept it).
        const BARE_LF = 1 << 0;
        /// A CR not followed by LF inside a line (the CVE-2023-30589 class: never a line end here).
        const LONE_CR = 1 << 1;
        /// A header value continued on the next line (obs-fold, RFC 9112 §5.2).
        const OBS_FOLD = 1 << 2;
        /// Whitespace between a header name and its colon (RFC 9112 §5.1 says reject).
        const SPACE_BEFORE_COLON = 1 << 3;
        /// A header name with bytes outside `tchar`, or an empty name.
        const INVALID_HEADER_NAME = 1 << 4;
        /// A header line without a colon.
        const HEADER_WITHOUT_COLON = 1 << 5;
        /// NUL or another control byte inside a start line or a header field.
        const CTL_IN_FIELD = 1 << 6;
        /// Both Content-Length and Transfer-Encoding: Transfer-Encoding wins (RFC 9112 §6.3).
        const CL_AND_TE = 1 << 7;
        /// Content-Length given more than once with the same value.
        const CL_DUPLICATE = 1 << 8;
        /// Content-Length given more than once with different values: the first one frames.
        const CL_CONFLICT = 1 << 9;
        /// Content-Length that is not a plain decimal number (sign, junk, empty).
        const CL_INVALID = 1 << 10;
        /// Content-Length with leading zeros (`00050`): valid, but a known smuggling variant.
        const CL_LEADING_ZEROS = 1 << 11;
        /// Content-Length larger than 2^63-1: most servers reject it, so it frames no body.
        const CL_OVERFLOW = 1 << 12;
        /// Transfer-Encoding whose final coding is not `chunked` (or an unknown coding).
        const TE_NOT_CHUNKED = 1 << 13;
        /// Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: treat framing as faulty).
        const TE_IN_HTTP10 = 1 << 14;
        /// Chunk-size line that is not a hexadecimal number.
        const CHUNK_SIZE_INVALID = 1 << 15;
        /// Chunk size that does not fit in 64 bits.
        const CHUNK_SIZE_OVERFLOW = 1 << 16;
        /// A chunk extension (`;name=value`) was present.
        const CHUNK_EXTENSION = 1 << 17;
        /// Chunk extensions longer than the configured limit (the llhttp CVE-2024-? class).
        const CHUNK_EXT_TOO_LONG = 1 << 18;
        /// Chunk data not followed by CRLF.
        const CHUNK_DATA_NO_CRLF = 1 << 19;
        /// HTTP/1.1 request without a Host header.
        const HOST_MISSING = 1 << 20;
        /// More than one Host header.
        const HOST_REPEATED = 1 << 21;
        /// An absolute-form target names another host than the Host header.
        const HOST_AMBIGUOUS = 1 << 22;
        /// More header fields than the configured limit; the rest are framed but not reported.
        const TOO_MANY_HEADERS = 1 << 23;
        /// A line longer than the configured limit; only its prefix was inspected.
        const LINE_TOO_LONG = 1 << 24;
        /// A header block larger than the configured limit; the rest is framed but not reported.
        const HEADER_BLOCK_TOO_LARGE = 1 << 25;
        /// More continuation lines in one header than the configured limit.
        const TOO_MANY_FOLDS = 1 << 26;
        /// A method that is not a valid token.
        const METHOD_INVALID = 1 << 27;
        /// A request line without an HTTP version (HTTP/0.9 style).
        const VERSION_MISSING = 1 << 28;
        /// A version that is not `HTTP/<digit>.<digit>` (lower case, junk, other digits).
        const VERSION_INVALID = 1 << 29;
        /// Extra or non-SP whitespace in the start line.
        const START_LINE_WHITESPACE = 1 << 30;
        /// A request target with whitespace or control bytes, or missing.
        const TARGET_INVALID = 1 << 31;
        /// A status code that is not three digits.
        const STATUS_INVALID = 1 << 32;
        /// A response that arrived with no request waiting for it.
        const RESPONSE_WITHOUT_REQUEST = 1 << 33;
        /// A response without a status line (HTTP/0.9 style): its bytes are body until close.
        const NO_STATUS_LINE = 1 << 34;
        /// Empty lines before the start line.
        const LEADING_EMPTY_LINES = 1 << 35;
        /// Bytes that are no HTTP message were skipped before this one.
        const JUNK_BEFORE_MESSAGE = 1 << 36;
        /// Bytes of this message were lost (a gap reported by the caller).
        const GAP = 1 << 37;
        /// The stream ended before this message did.
        const TRUNCATED = 1 << 38;
        /// More live transactions than the configured limit; the oldest was dropped.
        const TOO_MANY_TRANSACTIONS = 1 << 39;
        /// A continuation line with no header before it.
        const FOLD_WITHOUT_HEADER = 1 << 40;
        /// Request bytes arrived before the answer to a CONNECT and were more than can be held.
        const CONNECT_UNANSWERED = 1 << 41;
        /// Data after the stream was closed.
        const DATA_AFTER_CLOSE = 1 << 42;
        /// A transfer coding that is neither `chunked` nor a known content coding
        /// (`lalala, chunked`): servers disagree on such lists.
        const TE_UNKNOWN_CODING = 1 << 43;
        /// A 101 Switching Protocols answer to a request that asked for no upgrade: read as
        /// an ordinary response instead of a tunnel, so that its body is not hidden.
        const UPGRADE_UNREQUESTED = 1 << 44;
        /// A request announced `Expect: 100-continue` and was refused before sending its body:
        /// the body is not coming, and the next bytes are the next request.
        const EXPECT_BODY_SKIPPED = 1 << 45;
        /// Memory for a split element could not be had (the allocator refused): the bytes
        /// were not kept, the element is read from what was. Never a process abort.
        const MEMORY_EXHAUSTED = 1 << 46;
    }
}

impl Anomalies {
    /// Anomalies that let two HTTP implementations frame the same bytes differently.
    ///
    /// The detection layer treats these as `FRAMING_ANOMALY` when they appear on a flow
    /// that also carries an IMDS indicator.
    pub const SMUGGLING: Anomalies = Anomalies::BARE_LF
        .union(Anomalies::LONE_CR)
        .union(Anomalies::OBS_FOLD)
        .union(Anomalies::SPACE_BEFORE_COLON)
        .union(Anomalies::CL_AND_TE)
        .union(Anomalies::CL_CONFLICT)
        .union(Anomalies::CL_INVALID)
        .union(Anomalies::CL_LEADING_ZEROS)
        .union(Anomalies::CL_OVERFLOW)
        .union(Anomalies::TE_NOT_CHUNKED)
        .union(Anomalies::TE_UNKNOWN_CODING)
        .union(Anomalies::UPGRADE_UNREQUESTED)
        .union(Anomalies::TE_IN_HTTP10)
        .union(Anomalies::CHUNK_SIZE_INVALID)
        .union(Anomalies::CHUNK_SIZE_OVERFLOW)
        .union(Anomalies::CHUNK_EXT_TOO_LONG)
        .union(Anomalies::CHUNK_DATA_NO_CRLF)
        .union(Anomalies::HOST_REPEATED)
        .union(Anomalies::HOST_AMBIGUOUS)
        .union(Anomalies::LINE_TOO_LONG)
        .union(Anomalies::FOLD_WITHOUT_HEADER);

    /// Lower-case names of the flags that are set, in bit order (`"bare_lf"`, ...).
    pub fn names(self) -> impl Iterator<Item = String> {
        self.iter_names().map(|(name, _)| name.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_in_bit_order() {
        let a = Anomalies::OBS_FOLD | Anomalies::BARE_LF;
        assert_eq!(a.names().collect::<Vec<_>>(), ["bare_lf", "obs_fold"]);
    }

    #[test]
    fn smuggling_set_excludes_informational_flags() {
        assert!(Anomalies::SMUGGLING.contains(Anomalies::CL_AND_TE));
        assert!(!Anomalies::SMUGGLING.contains(Anomalies::LEADING_EMPTY_LINES));
        assert!(!Anomalies::SMUGGLING.contains(Anomalies::GAP));
    }
}
