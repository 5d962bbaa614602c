//! The request line.

use super::token::{has_controls, is_ctl, is_lenient_space, is_token};
use super::{parse_version_token, Anomalies, Version};
use nom::bytes::complete::{take_till1, take_while};
use nom::{IResult, Parser};

/// The form of a request target (RFC 9112 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetForm {
    /// `/path?query`, the usual form.
    Origin,
    /// `scheme://authority/path`, sent to proxies.
    Absolute,
    /// `host:port`, the target of CONNECT.
    Authority,
    /// `*`, for a server-wide OPTIONS.
    Asterisk,
    /// Empty, or none of the above.
    Other,
}

/// A parsed request line, borrowing the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// The method token, exactly as sent (`GET`, `PUT`, or any other token).
    pub method: &'a [u8],
    /// The request target, exactly as sent (not decoded); empty when the line had none.
    pub target: &'a [u8],
    /// The protocol token as sent (`HTTP/1.1`); empty for an HTTP/0.9 simple request.
    pub protocol: &'a [u8],
    /// The version `protocol` names.
    pub version: Version,
    /// The form of `target`.
    pub form: TargetForm,
    /// What was odd about the line.
    pub anomalies: Anomalies,
}

impl RequestLine<'_> {
    /// Whether a lenient server would take this line as the start of a request: its method is
    /// a token, or it ends in a protocol token.
    pub fn is_plausible(&self) -> bool {
        is_token(self.method)
            || self.version != Version::Missing && self.version != Version::Invalid
    }

    /// Whether this is a well-formed request line with a method a resynchronising parser can
    /// trust: a known method, a target and an `HTTP/1.x` version.
    pub fn is_strict_start(&self) -> bool {
        KNOWN_METHODS.contains(&self.method)
            && !self.target.is_empty()
            && matches!(self.version, Version::Http10 | Version::Http11)
    }
}

/// Methods of RFC 9110 and the common WebDAV extensions: the ones a resynchronising parser
/// accepts as the start of a request after a gap.
pub(crate) const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
];

fn spaces(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(is_lenient_space).parse(i)
}

fn word(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_till1(is_lenient_space).parse(i)
}

/// Whether a run of whitespace between two request-line parts is the single SP of the ABNF.
fn is_single_sp(ws: &[u8]) -> bool {
    ws == b" "
}

/// Parses a request line; `line` is the line without its terminator.
///
/// Lenient the way Apache and libhtp are: any run of SP/HTAB/VT/FF/CR separates the parts,
/// the target may contain spaces when the line ends in a protocol token, and a line without a
/// protocol is an HTTP/0.9 request. Returns `None` only for a line with no method at all
/// (empty or whitespace only).
pub fn parse_request_line(line: &[u8]) -> Option<RequestLine<'_>> {
    let mut anomalies = Anomalies::empty();
    if has_controls(line) && line.iter().any(|&b| is_ctl(b) && b != b'\r') {
        anomalies |= Anomalies::CTL_IN_FIELD;
    }
    let (rest, lead) = spaces(line).ok()?;
    if !lead.is_empty() {
        anomalies |= Anomalies::START_LINE_WHITESPACE;
    }
    let (rest, method) = word(rest).ok()?;
    if !is_token(method) {
        anomalies |= Anomalies::METHOD_INVALID;
    }
    let (rest, sep) = spaces(rest).ok()?;
    if !sep.is_empty() && !is_single_sp(sep) {
        anomalies |= Anomalies::START_LINE_WHITESPACE;
    }
    // The protocol is the last word, if it looks like one; everything between is the target.
    let body = trim_end_spaces(rest, &mut anomalies);
    let (target, protocol) = match body.iter().rposition(|&b| is_lenient_space(b)) {
        Some(split) => {
            let (before, sep_and_last) = body.split_at_checked(split).unwrap_or((body, b""));
            let last = sep_and_last.get(1..).unwrap_or_default();
            if looks_like_protocol(last) {
                let target = trim_end_spaces(before, &mut Anomalies::empty());
                // The whitespace between target and protocol: one SP is the grammar's.
                let gap = body.get(target.len()..=split).unwrap_or_default();
                if !is_single_sp(gap) {
                    anomalies |= Anomalies::START_LINE_WHITESPACE;
                }
                (target, last)
            } else {
                (body, &b""[..])
            }
        }
        None if looks_like_protocol(body) && !body.is_empty() => (&b""[..], body),
        None => (body, &b""[..]),
    };
    let version = if protocol.is_empty() {
        anomalies |= Anomalies::VERSION_MISSING;
        Version::Missing
    } else {
        parse_version_token(protocol, &mut anomalies)
    };
    if target.is_empty() || target.iter().any(|&b| is_lenient_space(b) || is_ctl(b)) {
        anomalies |= Anomalies::TARGET_INVALID;
    }
    Some(RequestLine {
        method,
        target,
        protocol,
        version,
        form: target_form(method, target),
        anomalies,
    })
}

fn trim_end_spaces<'a>(s: &'a [u8], anomalies: &mut Anomalies) -> &'a [u8] {
    let end = s
        .iter()
        .rposition(|&b| !is_lenient_space(b))
        .map_or(0, |p| p + 1);
    if end != s.len() {
        *anomalies |= Anomalies::START_LINE_WHITESPACE;
    }
    s.get(..end).unwrap_or(s)
}

fn looks_like_protocol(word: &[u8]) -> bool {
    word.get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/"))
}

fn target_form(method: &[u8], target: &[u8]) -> TargetForm {
    match target.first() {
        None => TargetForm::Other,
        Some(b'/') => TargetForm::Origin,
        Some(b'*') if target.len() == 1 => TargetForm::Asterisk,
        _ if memchr::memmem::find(target, b"://").is_some_and(|p| {
            p > 0
                && target
                    .iter()
                    .take(p)
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
        }) =>
        {
            TargetForm::Absolute
        }
        _ if method.eq_ignore_ascii_case(b"CONNECT") || !target.contains(&b'/') => {
            TargetForm::Authority
        }
        _ => TargetForm::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> RequestLine<'_> {
        parse_request_line(s).expect("a request line")
    }

    #[test]
    fn origin_form() {
        let r = parse(b"GET /latest/meta-data/ HTTP/1.1");
        assert_eq!(r.method, b"GET");
        assert_eq!(r.target, b"/latest/meta-data/");
        assert_eq!(r.protocol, b"HTTP/1.1");
        assert_eq!(r.version, Version::Http11);
        assert_eq!(r.form, TargetForm::Origin);
        assert!(r.anomalies.is_empty());
        assert!(r.is_strict_start());
    }

    #[test]
    fn absolute_authority_and_asterisk_forms() {
        let r = parse(b"GET http://169.254.169.254/latest/ HTTP/1.1");
        assert_eq!(r.form, TargetForm::Absolute);
        let r = parse(b"CONNECT 169.254.169.254:80 HTTP/1.1");
        assert_eq!(r.form, TargetForm::Authority);
        let r = parse(b"OPTIONS * HTTP/1.1");
        assert_eq!(r.form, TargetForm::Asterisk);
    }

    #[test]
    fn unknown_methods_are_requests() {
        let r = parse(b"FOO-BAR / HTTP/1.1");
        assert_eq!(r.method, b"FOO-BAR");
        assert!(r.is_plausible());
        assert!(!r.is_strict_start());
    }

    #[test]
    fn http09_simple_request() {
        let r = parse(b"GET /");
        assert_eq!(r.version, Version::Missing);
        assert_eq!(r.target, b"/");
        assert_eq!(r.anomalies, Anomalies::VERSION_MISSING);
        let r = parse(b"HELLO");
        assert_eq!(r.method, b"HELLO");
        assert!(r.target.is_empty());
        assert!(r.anomalies.contains(Anomalies::TARGET_INVALID));
    }

    #[test]
    fn spaces_in_target_and_extra_whitespace() {
        let r = parse(b"GET /a b  HTTP/1.0");
        assert_eq!(r.target, b"/a b");
        assert_eq!(r.version, Version::Http10);
        assert!(r.anomalies.contains(Anomalies::TARGET_INVALID));
        assert!(r.anomalies.contains(Anomalies::START_LINE_WHITESPACE));
        let r = parse(b"\tGET\t/x\tHTTP/1.1 ");
        assert_eq!((r.method, r.target), (&b"GET"[..], &b"/x"[..]));
        assert!(r.anomalies.contains(Anomalies::START_LINE_WHITESPACE));
    }

    #[test]
    fn missing_target() {
        let r = parse(b"GET HTTP/1.1");
        assert_eq!(r.target, b"");
        assert_eq!(r.version, Version::Http11);
        assert!(r.anomalies.contains(Anomalies::TARGET_INVALID));
    }

    #[test]
    fn nul_and_invalid_method_are_flagged() {
        let r = parse(b"G\x00T / HTTP/1.1");
        assert!(r
            .anomalies
            .contains(Anomalies::CTL_IN_FIELD | Anomalies::METHOD_INVALID));
        assert!(r.is_plausible());
        assert!(parse_request_line(b"   ").is_none());
        assert!(parse_request_line(b"").is_none());
        let junk = parse(b"\x16\x03\x01");
        assert!(!junk.is_plausible());
    }
}
