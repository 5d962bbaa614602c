//! The status line.

use super::token::{is_ctl, is_lenient_space};
use super::{parse_version_token, Anomalies, Version};
use nom::bytes::complete::{take_till1, take_while};
use nom::{IResult, Parser};

/// A parsed status line, borrowing the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine<'a> {
    /// The protocol token as sent (`HTTP/1.1`).
    pub protocol: &'a [u8],
    /// The version `protocol` names.
    pub version: Version,
    /// The status code; 0 when it was not three digits.
    pub code: u16,
    /// The status code as sent.
    pub code_raw: &'a [u8],
    /// The reason phrase, possibly empty.
    pub reason: &'a [u8],
    /// What was odd about the line.
    pub anomalies: Anomalies,
}

impl StatusLine<'_> {
    /// An interim (1xx) answer other than 101: the final answer still follows.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.code) && self.code != 101
    }
}

fn spaces(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(is_lenient_space).parse(i)
}

fn word(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_till1(is_lenient_space).parse(i)
}

fn code(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|b: u8| !is_lenient_space(b)).parse(i)
}

/// Whether a line starts like a status line (`HTTP/`, any case, after optional whitespace).
pub(crate) fn looks_like_status_line(line: &[u8]) -> bool {
    let start = line
        .iter()
        .position(|&b| !is_lenient_space(b))
        .unwrap_or(line.len());
    line.get(start..start + 5)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/"))
}

/// Parses a status line; `line` is the line without its terminator. Returns `None` when the
/// line does not start with a protocol token.
pub fn parse_status_line(line: &[u8]) -> Option<StatusLine<'_>> {
    if !looks_like_status_line(line) {
        return None;
    }
    let mut anomalies = Anomalies::empty();
    if line.iter().any(|&b| is_ctl(b) && b != b'\r') {
        anomalies |= Anomalies::CTL_IN_FIELD;
    }
    let (rest, lead) = spaces(line).ok()?;
    if !lead.is_empty() {
        anomalies |= Anomalies::START_LINE_WHITESPACE;
    }
    let (rest, protocol) = word(rest).ok()?;
    let version = parse_version_token(protocol, &mut anomalies);
    let (rest, sep) = spaces(rest).ok()?;
    if sep != b" " {
        anomalies |= Anomalies::START_LINE_WHITESPACE;
    }
    let (rest, code_raw) = code(rest).ok()?;
    let code = match code_raw {
        [a, b, c] if code_raw.iter().all(u8::is_ascii_digit) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => {
            anomalies |= Anomalies::STATUS_INVALID;
            0
        }
    };
    let (reason, _) = spaces(rest).ok()?;
    Some(StatusLine {
        protocol,
        version,
        code,
        code_raw,
        reason,
        anomalies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary() {
        let s = parse_status_line(b"HTTP/1.1 200 OK").expect("status line");
        assert_eq!(
            (s.version, s.code, s.reason),
            (Version::Http11, 200, &b"OK"[..])
        );
        assert!(s.anomalies.is_empty());
        assert!(!s.is_interim());
        let s = parse_status_line(b"HTTP/1.1 100 Continue").expect("status line");
        assert!(s.is_interim());
        let s = parse_status_line(b"HTTP/1.1 101 Switching Protocols").expect("status line");
        assert!(!s.is_interim());
    }

    #[test]
    fn no_reason_and_odd_codes() {
        let s = parse_status_line(b"HTTP/1.0 204").expect("status line");
        assert_eq!((s.code, s.reason), (204, &b""[..]));
        let s = parse_status_line(b"HTTP/1.1 ABC Weird").expect("status line");
        assert_eq!(s.code, 0);
        assert!(s.anomalies.contains(Anomalies::STATUS_INVALID));
        let s = parse_status_line(b"HTTP/1.1").expect("status line");
        assert!(s.anomalies.contains(Anomalies::STATUS_INVALID));
    }

    #[test]
    fn not_a_status_line() {
        assert!(parse_status_line(b"<html>").is_none());
        assert!(parse_status_line(b"HTT").is_none());
        assert!(parse_status_line(b"  http/1.1 200 OK").is_some());
    }
}
