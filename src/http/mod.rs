//! HTTP/1.x grammar: pure, zero-copy nom parsers for the elements of a message.
//!
//! This module knows nothing of streams, flows or IMDS. Each parser takes one *complete*
//! element (a start line, a header field with its continuation lines, a chunk-size line) as a
//! byte slice and returns views into it. Finding where an element ends in a stream that
//! arrives in pieces is the job of [`crate::flow`]; deciding what the bytes mean for detection
//! is the job of the matcher.
//!
//! The parsers are lenient on purpose: an IDS must read what the most forgiving server would
//! accept, and record each deviation as an [`Anomalies`] flag instead of rejecting the message.
//!
//! ```text
//! request-line = method SP request-target SP HTTP-version      (RFC 9112 §3)
//! status-line  = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
//! field-line   = field-name ":" OWS field-value OWS             (RFC 9112 §5)
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF  (RFC 9112 §7.1)
//! ```

#![forbid(unsafe_code)]
// Attacker-controlled bytes: nothing here may panic. Every slice is taken with `get`, and the
// few table lookups that cannot fail say why where they allow the lint.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod anomaly;
mod chunked;
mod header;
mod request;
mod response;
pub mod token;

pub use anomaly::Anomalies;
pub use chunked::{parse_chunk_size_line, ChunkSizeLine};
pub(crate) use header::parse_field_line_checked;
pub use header::{
    parse_content_length, parse_field_line, parse_transfer_encoding, ContentLength, Header,
    TransferCoding, UnfoldedParts,
};
pub use request::{parse_request_line, RequestLine, TargetForm};
pub use response::{parse_status_line, StatusLine};

use nom::bytes::complete::take_while_m_n;
use nom::character::complete::char as nom_char;
use nom::error::{Error as NomError, ErrorKind};
use nom::{IResult, Parser};

/// `tag_no_case` for an ASCII tag, as a plain function the compiler always inlines.
///
/// nom's `tag_no_case` is generic over its input and goes through `TagNoCase::process`;
/// whether that call is inlined into the start-line and chunk-size parsers changed with
/// unrelated code elsewhere in the crate, and cost 272 instructions per browser request when
/// it was not. A comparison of two slices does not depend on the inliner's mood.
#[inline(always)]
pub(crate) fn ascii_tag_ci<'a>(tag: &'static [u8], i: &'a [u8]) -> IResult<&'a [u8], &'a [u8]> {
    match (i.get(..tag.len()), i.get(tag.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(tag) => Ok((rest, head)),
        _ => Err(nom::Err::Error(NomError::new(i, ErrorKind::Tag))),
    }
}

/// The HTTP version of a message, as written on its start line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// No version on the request line: an HTTP/0.9 simple request.
    Missing,
    /// `HTTP/0.9` written out.
    Http09,
    /// `HTTP/1.0`.
    Http10,
    /// `HTTP/1.1`.
    Http11,
    /// Another `HTTP/<digit>.<digit>`, such as `HTTP/2.0` or `HTTP/1.2`.
    Other {
        /// The major digit.
        major: u8,
        /// The minor digit.
        minor: u8,
    },
    /// Something in the version position that is not `HTTP/<digit>.<digit>`.
    Invalid,
}

impl Version {
    /// Whether a message of this version uses persistent connections by default and so may
    /// carry a Host header requirement (1.1 and later minor versions).
    pub fn is_http11_or_later(self) -> bool {
        match self {
            Version::Http11 => true,
            Version::Other { major, minor } => major > 1 || (major == 1 && minor >= 1),
            _ => false,
        }
    }
}

/// `HTTP-version = HTTP-name "/" DIGIT "." DIGIT` (RFC 9112 §2.3), case-insensitively; the
/// caller flags a lower-case name.
fn http_version(i: &[u8]) -> IResult<&[u8], Version> {
    let (i, _) = ascii_tag_ci(b"HTTP/", i)?;
    let (i, major) = take_while_m_n(1, 1, |b: u8| b.is_ascii_digit()).parse(i)?;
    let (i, _) = nom_char('.').parse(i)?;
    let (i, minor) = take_while_m_n(1, 1, |b: u8| b.is_ascii_digit()).parse(i)?;
    let digit = |s: &[u8]| s.first().map_or(0, |d| d - b'0');
    let v = match (digit(major), digit(minor)) {
        (0, 9) => Version::Http09,
        (1, 0) => Version::Http10,
        (1, 1) => Version::Http11,
        (major, minor) => Version::Other { major, minor },
    };
    Ok((i, v))
}

/// Parses a whole protocol token (`HTTP/1.1`) and flags what is odd about it.
fn parse_version_token(token: &[u8], anomalies: &mut Anomalies) -> Version {
    // Nearly every message says one of these two: an 8-byte compare instead of the
    // combinator chain, which cost about 250 instructions per message (callgrind, browser
    // corpus). Both spellings are valid, so there is nothing to flag.
    match token {
        b"HTTP/1.1" => return Version::Http11,
        b"HTTP/1.0" => return Version::Http10,
        _ => {}
    }
    match http_version(token) {
        Ok((rest, v)) => {
            if !rest.is_empty() || !token.starts_with(b"HTTP/") {
                *anomalies |= Anomalies::VERSION_INVALID;
            }
            v
        }
        Err(_) => {
            *anomalies |= Anomalies::VERSION_INVALID;
            Version::Invalid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_common_versions_agree_with_the_grammar() {
        for (token, version) in [
            (b"HTTP/1.1", Version::Http11),
            (b"HTTP/1.0", Version::Http10),
        ] {
            let mut a = Anomalies::empty();
            assert_eq!(parse_version_token(token, &mut a), version);
            assert!(a.is_empty());
            let (rest, parsed) = http_version(token).expect("valid");
            assert!(rest.is_empty());
            assert_eq!(parsed, version);
        }
    }

    #[test]
    fn versions() {
        let mut a = Anomalies::empty();
        assert_eq!(parse_version_token(b"HTTP/1.1", &mut a), Version::Http11);
        assert_eq!(parse_version_token(b"HTTP/1.0", &mut a), Version::Http10);
        assert_eq!(parse_version_token(b"HTTP/0.9", &mut a), Version::Http09);
        assert!(a.is_empty());
        assert_eq!(parse_version_token(b"http/1.1", &mut a), Version::Http11);
        assert_eq!(a, Anomalies::VERSION_INVALID);
        let mut a = Anomalies::empty();
        assert_eq!(
            parse_version_token(b"HTTP/2.0", &mut a),
            Version::Other { major: 2, minor: 0 }
        );
        assert!(a.is_empty());
        assert_eq!(parse_version_token(b"HTTP/1.10", &mut a), Version::Http11);
        assert_eq!(a, Anomalies::VERSION_INVALID);
        assert_eq!(parse_version_token(b"HTTPS", &mut a), Version::Invalid);
        assert!(Version::Http11.is_http11_or_later());
        assert!(!Version::Http10.is_http11_or_later());
    }
}
