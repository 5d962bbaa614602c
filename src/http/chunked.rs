//! The chunk-size line of the chunked transfer coding.

use super::ascii_tag_ci;
use super::token::is_ows;
use super::Anomalies;
use nom::bytes::complete::take_while;
use nom::combinator::opt;
use nom::{IResult, Parser};

/// A parsed chunk-size line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSizeLine {
    /// The chunk size; `None` when the line held no hexadecimal digits or the number did not
    /// fit in 64 bits.
    pub size: Option<u64>,
    /// Bytes of chunk extension (`;name=value...`) on the line.
    pub extension_len: usize,
    /// What was odd about the line.
    pub anomalies: Anomalies,
}

fn hex_digits(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|b: u8| b.is_ascii_hexdigit()).parse(i)
}

/// Leading whitespace, an optional `0x`, and the hexadecimal digits.
type SizeParts<'a> = (&'a [u8], Option<&'a [u8]>, &'a [u8]);

fn size_part(i: &[u8]) -> IResult<&[u8], SizeParts<'_>> {
    (lead, opt(|i| ascii_tag_ci(b"0x", i)), hex_digits).parse(i)
}

fn ows(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(is_ows).parse(i)
}

/// Whitespace a lenient reader skips before a chunk size (VT and FF as `isspace` does).
fn lead(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|b| is_ows(b) || b == 0x0b || b == 0x0c).parse(i)
}

/// Parses a chunk-size line (without its terminator): `chunk-size [ chunk-ext ]`.
///
/// Lenient as strtol-based servers are: surrounding whitespace and a `0x` prefix are accepted
/// and flagged; junk after the digits is flagged and ignored. `max_extension` is the number of
/// extension bytes past which [`Anomalies::CHUNK_EXT_TOO_LONG`] is set.
pub fn parse_chunk_size_line(line: &[u8], max_extension: usize) -> ChunkSizeLine {
    let mut anomalies = Anomalies::empty();
    let Ok((rest, (lead, prefix, digits))) = size_part(line) else {
        return invalid();
    };
    if !lead.is_empty() || prefix.is_some() {
        anomalies |= Anomalies::CHUNK_SIZE_INVALID;
    }
    let digits = match (prefix, digits.is_empty()) {
        // "0x" without digits after it is the chunk size 0 followed by junk.
        (Some(_), true) => &b"0"[..],
        (None, true) => return invalid(),
        _ => digits,
    };
    let zeros = digits.iter().take_while(|&&d| d == b'0').count();
    let significant = digits.get(zeros..).unwrap_or_default();
    let size = if significant.len() > 16 {
        anomalies |= Anomalies::CHUNK_SIZE_OVERFLOW;
        None
    } else {
        Some(
            significant
                .iter()
                .fold(0u64, |acc, &d| (acc << 4) | u64::from(hex_value(d))),
        )
    };
    let (rest, trailing) = ows(rest).unwrap_or((rest, b""));
    if !trailing.is_empty() && rest.first() != Some(&b';') {
        // `a \r\n`: strict parsers (llhttp) reject whitespace after the size, unless it is
        // the BWS that RFC 9112 §7.1.1 allows before a chunk extension.
        anomalies |= Anomalies::CHUNK_SIZE_INVALID;
    }
    let extension_len = if rest.first() == Some(&b';') {
        anomalies |= Anomalies::CHUNK_EXTENSION;
        rest.len()
    } else {
        if !rest.is_empty() {
            anomalies |= Anomalies::CHUNK_SIZE_INVALID;
        }
        0
    };
    if extension_len > max_extension {
        anomalies |= Anomalies::CHUNK_EXT_TOO_LONG;
    }
    ChunkSizeLine {
        size,
        extension_len,
        anomalies,
    }
}

fn invalid() -> ChunkSizeLine {
    ChunkSizeLine {
        size: None,
        extension_len: 0,
        anomalies: Anomalies::CHUNK_SIZE_INVALID,
    }
}

fn hex_value(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        b'A'..=b'F' => d - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[u8]) -> ChunkSizeLine {
        parse_chunk_size_line(s, 16)
    }

    #[test]
    fn sizes() {
        assert_eq!(p(b"1a").size, Some(26));
        assert_eq!(p(b"0").size, Some(0));
        assert_eq!(p(b"FFFFFFFFFFFFFFFF").size, Some(u64::MAX));
        assert!(p(b"1a").anomalies.is_empty());
        assert_eq!(p(b"0000000000000000000001").size, Some(1));
    }

    #[test]
    fn overflow_and_invalid() {
        let c = p(b"10000000000000000");
        assert_eq!(c.size, None);
        assert!(c.anomalies.contains(Anomalies::CHUNK_SIZE_OVERFLOW));
        let c = p(b"zz");
        assert_eq!(c.size, None);
        assert!(c.anomalies.contains(Anomalies::CHUNK_SIZE_INVALID));
        assert_eq!(p(b"").size, None);
    }

    #[test]
    fn lenient_forms_are_flagged() {
        let c = p(b" 5 ");
        assert_eq!(c.size, Some(5));
        assert!(c.anomalies.contains(Anomalies::CHUNK_SIZE_INVALID));
        let c = p(b"0x10");
        assert_eq!(c.size, Some(16));
        assert!(c.anomalies.contains(Anomalies::CHUNK_SIZE_INVALID));
        let c = p(b"5x");
        assert_eq!(c.size, Some(5));
        let c = p(b"a ");
        assert_eq!(c.size, Some(10));
        assert!(c.anomalies.contains(Anomalies::CHUNK_SIZE_INVALID));
        assert!(!p(b"5 ;e=1")
            .anomalies
            .contains(Anomalies::CHUNK_SIZE_INVALID));
        let c = p(b"\x0b5");
        assert_eq!(c.size, Some(5));
        assert!(c.anomalies.contains(Anomalies::CHUNK_SIZE_INVALID));
    }

    #[test]
    fn extensions() {
        let c = p(b"5;name=\"v\"");
        assert_eq!((c.size, c.extension_len), (Some(5), 9));
        assert_eq!(c.anomalies, Anomalies::CHUNK_EXTENSION);
        let c = p(b"5;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert!(c.anomalies.contains(Anomalies::CHUNK_EXT_TOO_LONG));
    }
}
