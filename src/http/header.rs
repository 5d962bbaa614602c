//! Header fields, and the values of the two headers that frame a body.

use super::token::{find_byte_near, has_controls, is_ctl, is_ows, is_tchar, trim_ows};
use super::Anomalies;

/// One header field, borrowing the bytes it was parsed from.
///
/// `value` is the raw value between the colon and the end of the field, with surrounding
/// whitespace removed. When the field was folded (obs-fold) the value still contains the
/// line breaks: [`Header::unfolded`] yields its pieces the way a server that unfolds sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The field name as sent (not lower-cased).
    pub name: &'a [u8],
    /// The field value as sent, trimmed; may span continuation lines.
    pub value: &'a [u8],
    /// What was odd about the field.
    pub anomalies: Anomalies,
}

impl<'a> Header<'a> {
    /// Whether the name equals `name`, ASCII case-insensitively.
    #[inline]
    pub fn is(&self, name: &[u8]) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Whether the value spans continuation lines.
    pub fn is_folded(&self) -> bool {
        self.anomalies.contains(Anomalies::OBS_FOLD)
    }

    /// The value as pieces to be joined by single spaces (RFC 9112 §5.2: a recipient replaces
    /// each obs-fold with SP). An unfolded value is one piece.
    pub fn unfolded(&self) -> UnfoldedParts<'a> {
        UnfoldedParts { rest: self.value }
    }
}

/// Iterator over the pieces of a folded header value; see [`Header::unfolded`].
#[derive(Debug, Clone)]
pub struct UnfoldedParts<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for UnfoldedParts<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while !self.rest.is_empty() {
            let (line, rest) = match memchr::memchr(b'\n', self.rest) {
                Some(p) => split_around(self.rest, p),
                None => (self.rest, &b""[..]),
            };
            self.rest = rest;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let piece = trim_ows(line);
            if !piece.is_empty() {
                return Some(piece);
            }
        }
        None
    }
}

/// `s` before and after the byte at `at` (which is dropped).
fn split_around(s: &[u8], at: usize) -> (&[u8], &[u8]) {
    (
        s.get(..at).unwrap_or(s),
        s.get(at + 1..).unwrap_or_default(),
    )
}

/// Parses a header field; `field` is the field without its final line terminator, but with
/// the line breaks of any continuation lines.
///
/// A line without a colon yields the whole line as name and an empty value, flagged
/// [`Anomalies::HEADER_WITHOUT_COLON`]: the caller decides whether to report it.
pub fn parse_field_line(field: &[u8]) -> Header<'_> {
    parse_field_line_checked(field, has_controls(field))
}

/// [`parse_field_line`] for a caller that already knows whether `field` holds control bytes
/// (see [`has_controls`]): the byte-by-byte checks run only when it does.
pub(crate) fn parse_field_line_checked(field: &[u8], controls: bool) -> Header<'_> {
    let mut anomalies = Anomalies::empty();
    let Some(colon) = find_byte_near(b':', field) else {
        return Header {
            name: field,
            value: b"",
            anomalies: Anomalies::HEADER_WITHOUT_COLON,
        };
    };
    let (raw_name, after_colon) = split_around(field, colon);
    // Without an exit inside the loop, the compiler unrolls it: cheaper than testing for
    // the colon and the class in one byte-at-a-time loop (session 6 measured both).
    let all_tchar = raw_name.iter().fold(true, |all, &b| all & is_tchar(b));
    let name = if all_tchar {
        raw_name
    } else {
        trim_end(raw_name)
    };
    if name.len() != raw_name.len() {
        anomalies |= Anomalies::SPACE_BEFORE_COLON;
    }
    if name.is_empty() || (!all_tchar && !name.iter().all(|&b| is_tchar(b))) {
        anomalies |= Anomalies::INVALID_HEADER_NAME;
    }
    let start = after_colon
        .iter()
        .position(|&b| !is_ows(b))
        .unwrap_or(after_colon.len());
    let value = after_colon.get(start..).unwrap_or_default();
    // Only OWS and the line break of a fold are trimmed: a trailing VT or FF stays in the
    // value, where the control-byte check flags it (some servers strip it, most do not).
    let value = trim_end_ows(value);
    if controls {
        if memchr::memchr(b'\n', value).is_some() {
            anomalies |= Anomalies::OBS_FOLD;
        }
        if value.iter().any(|&b| is_ctl(b) && b != b'\r' && b != b'\n') {
            anomalies |= Anomalies::CTL_IN_FIELD;
        }
    }
    Header {
        name,
        value,
        anomalies,
    }
}

/// Trims trailing OWS and the CR/LF a fold leaves at the very end.
fn trim_end_ows(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |p| p + 1);
    s.get(..end).unwrap_or(s)
}

/// Trims trailing whitespace the lenient way framing values are read (VT and FF too, as
/// `strtol`-based servers skip them); the field itself was already flagged.
fn trim_end(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c))
        .map_or(0, |p| p + 1);
    s.get(..end).unwrap_or(s)
}

/// The meaning of a Content-Length value (RFC 9110 §8.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentLength {
    /// A usable length. `leading_zeros` flags a value such as `0050`.
    Valid {
        /// The length in bytes.
        length: u64,
        /// Whether the number had leading zeros.
        leading_zeros: bool,
    },
    /// A comma-separated list of different lengths (`5, 7`).
    Conflicting,
    /// Not a decimal number (`-1`, `+5`, `0x10`, empty, junk).
    Invalid,
    /// A number larger than 2^63-1.
    Overflow,
}

/// Largest length accepted: servers that parse into a signed 64-bit integer reject more.
const MAX_CONTENT_LENGTH: u64 = i64::MAX as u64;

/// Parses a Content-Length value, accepting the list form `5, 5` that RFC 9110 §8.6 allows a
/// recipient to collapse.
pub fn parse_content_length(value: &[u8]) -> ContentLength {
    let mut result: Option<ContentLength> = None;
    for part in value.split(|&b| b == b',') {
        let part = trim_end(trim_ows(part));
        let this = parse_one_length(part);
        result = Some(match (result, this) {
            (None, this) => this,
            (
                Some(ContentLength::Valid { length: a, .. }),
                ContentLength::Valid {
                    length: b,
                    leading_zeros,
                },
            ) if a == b => ContentLength::Valid {
                length: a,
                leading_zeros,
            },
            (Some(ContentLength::Valid { .. }), ContentLength::Valid { .. }) => {
                ContentLength::Conflicting
            }
            (Some(ContentLength::Valid { .. }), bad) | (Some(bad), _) => bad,
        });
    }
    result.unwrap_or(ContentLength::Invalid)
}

fn parse_one_length(digits: &[u8]) -> ContentLength {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return ContentLength::Invalid;
    }
    let mut length: u64 = 0;
    for &d in digits {
        length = match length
            .checked_mul(10)
            .and_then(|l| l.checked_add(u64::from(d - b'0')))
        {
            Some(l) => l,
            None => return ContentLength::Overflow,
        };
    }
    if length > MAX_CONTENT_LENGTH {
        return ContentLength::Overflow;
    }
    ContentLength::Valid {
        length,
        leading_zeros: digits.len() > 1 && digits.first() == Some(&b'0'),
    }
}

/// What a Transfer-Encoding value says about framing (RFC 9112 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransferCoding {
    /// `chunked` is the final coding: the body is chunked.
    pub chunked_last: bool,
    /// `chunked` appears somewhere in the list.
    pub chunked_anywhere: bool,
    /// Some coding other than `chunked` appears (`gzip`, `identity`, junk).
    pub other: bool,
    /// A coding that is neither `chunked` nor a registered content coding appears
    /// (`identity` counts as unknown: RFC 9112 removed it).
    pub unknown: bool,
}

impl TransferCoding {
    /// Adds the codings of another Transfer-Encoding field (repeated fields form one list).
    pub fn merge(&mut self, later: TransferCoding) {
        if later.chunked_anywhere || later.other {
            self.chunked_last = later.chunked_last;
        }
        self.chunked_anywhere |= later.chunked_anywhere;
        self.other |= later.other;
        self.unknown |= later.unknown;
    }
}

/// Content codings of the IANA registry that may appear as transfer codings.
const KNOWN_CODINGS: &[&[u8]] = &[
    b"gzip",
    b"x-gzip",
    b"deflate",
    b"compress",
    b"x-compress",
    b"br",
    b"zstd",
];

/// Parses a Transfer-Encoding value: a comma-separated list of codings, each possibly with
/// `;parameters`, in any case, and possibly folded.
pub fn parse_transfer_encoding(value: &[u8]) -> TransferCoding {
    let mut tc = TransferCoding::default();
    for part in value.split(|&b| b == b',') {
        let coding = part.split(|&b| b == b';').next().unwrap_or(part);
        let coding = trim_end(trim_fold_space(coding));
        if coding.is_empty() {
            continue;
        }
        let chunked = coding.eq_ignore_ascii_case(b"chunked");
        tc.chunked_anywhere |= chunked;
        tc.other |= !chunked;
        tc.unknown |= !chunked && !KNOWN_CODINGS.iter().any(|k| coding.eq_ignore_ascii_case(k));
        tc.chunked_last = chunked;
    }
    tc
}

fn trim_fold_space(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(s.len());
    s.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_field() {
        let h = parse_field_line(b"Host: 169.254.169.254 ");
        assert_eq!((h.name, h.value), (&b"Host"[..], &b"169.254.169.254"[..]));
        assert!(h.anomalies.is_empty());
        assert!(h.is(b"host"));
    }

    #[test]
    fn empty_value_and_space_before_colon() {
        let h = parse_field_line(b"X-Empty:");
        assert_eq!(h.value, b"");
        let h = parse_field_line(b"X-aws-ec2-metadata-token : abc");
        assert_eq!(h.name, b"X-aws-ec2-metadata-token");
        assert!(h.anomalies.contains(Anomalies::SPACE_BEFORE_COLON));
    }

    #[test]
    fn folded_value_unfolds() {
        let h = parse_field_line(b"Transfer-Encoding:\r\n chunked");
        assert!(h.is_folded());
        assert_eq!(h.unfolded().collect::<Vec<_>>(), [&b"chunked"[..]]);
        let h = parse_field_line(b"X: a\r\n\tb\n c");
        assert_eq!(h.unfolded().collect::<Vec<_>>(), [&b"a"[..], b"b", b"c"]);
    }

    #[test]
    fn trailing_vertical_tab_and_form_feed_are_flagged() {
        for line in [
            &b"Header1: \x0c"[..],
            b"Transfer-Encoding: chunked\x0b",
            b"Content-Length: 3\x0c",
        ] {
            let h = parse_field_line(line);
            assert!(h.anomalies.contains(Anomalies::CTL_IN_FIELD), "{line:?}");
        }
        assert_eq!(
            parse_content_length(b"3\x0c"),
            ContentLength::Valid {
                length: 3,
                leading_zeros: false
            }
        );
    }

    #[test]
    fn lines_without_colon_and_bad_names() {
        let h = parse_field_line(b"FakeHeader");
        assert_eq!(h.anomalies, Anomalies::HEADER_WITHOUT_COLON);
        let h = parse_field_line(b": v");
        assert!(h.anomalies.contains(Anomalies::INVALID_HEADER_NAME));
        let h = parse_field_line(b"Na\x00me: v\x00");
        assert!(h
            .anomalies
            .contains(Anomalies::INVALID_HEADER_NAME | Anomalies::CTL_IN_FIELD));
    }

    #[test]
    fn content_length_values() {
        use ContentLength::*;
        assert_eq!(
            parse_content_length(b"42"),
            Valid {
                length: 42,
                leading_zeros: false
            }
        );
        assert_eq!(
            parse_content_length(b" 0050 "),
            Valid {
                length: 50,
                leading_zeros: true
            }
        );
        assert_eq!(
            parse_content_length(b"5, 5"),
            Valid {
                length: 5,
                leading_zeros: false
            }
        );
        assert_eq!(parse_content_length(b"5, 7"), Conflicting);
        assert_eq!(parse_content_length(b"-1"), Invalid);
        assert_eq!(parse_content_length(b"+5"), Invalid);
        assert_eq!(parse_content_length(b""), Invalid);
        assert_eq!(parse_content_length(b"5 5"), Invalid);
        assert_eq!(parse_content_length(b"18446744073709551615"), Overflow);
        assert_eq!(parse_content_length(b"99999999999999999999999"), Overflow);
        assert_eq!(parse_content_length(b"9223372036854775808"), Overflow);
        assert_eq!(
            parse_content_length(b"9223372036854775807"),
            Valid {
                length: i64::MAX as u64,
                leading_zeros: false
            }
        );
    }

    #[test]
    fn transfer_codings() {
        let t = parse_transfer_encoding(b"chunked");
        assert!(t.chunked_last && !t.other);
        let t = parse_transfer_encoding(b"gzip, Chunked");
        assert!(t.chunked_last && t.other);
        let t = parse_transfer_encoding(b"chunked, identity");
        assert!(!t.chunked_last && t.chunked_anywhere);
        let t = parse_transfer_encoding(b"\r\n chunked");
        assert!(t.chunked_last && !t.other);
        let t = parse_transfer_encoding(b"chunkedchunked");
        assert!(!t.chunked_anywhere && t.other && t.unknown);
        let t = parse_transfer_encoding(b"lalala, chunked");
        assert!(t.chunked_last && t.unknown);
        let t = parse_transfer_encoding(b"gzip, chunked");
        assert!(t.chunked_last && !t.unknown);
        let t = parse_transfer_encoding(b"chunked\x0b");
        assert!(t.chunked_last, "framing reads VT the lenient way");
        let mut t = parse_transfer_encoding(b"gzip");
        t.merge(parse_transfer_encoding(b"chunked"));
        assert!(t.chunked_last);
    }
}
