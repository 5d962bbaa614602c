//! Request-side evidence: what a request's line and headers say about metadata access.
//!
//! The matcher is fed the parser's events for one request ([`RequestMatcher::on_request_line`],
//! [`RequestMatcher::on_header`]) and keeps only flags and small facts: nothing borrowed
//! outlives an event, and nothing is allocated unless a path had to be decoded.

use super::targets::{
    endpoint_of_name, has_segment_prefix, host_endpoint_of_address, Endpoint, CREDENTIAL_PATHS,
    HEADER_SIGNS, PATH_PREFIXES,
};
use super::{Indicators, Provider};
use crate::event::StringPool;
use crate::flow::transaction::push_display_bytes;
use crate::http::{Header, RequestLine};
use crate::normalize::{
    normalize_path, parse_authority, split_target, HostFlags, HostName, PathFlags, RequestTarget,
};
use std::fmt::Write;

/// Path flags that are evasions rather than ordinary spelling.
const EVASIVE_PATH: PathFlags = PathFlags::PERCENT_DECODED
    .union(PathFlags::DOUBLE_ENCODED)
    .union(PathFlags::OVERLONG_UTF8)
    .union(PathFlags::IIS_UNICODE)
    .union(PathFlags::BACKSLASH)
    .union(PathFlags::REPEATED_SLASH)
    .union(PathFlags::DOT_SEGMENTS)
    .union(PathFlags::PARAMS);

/// Host flags that are evasions rather than ordinary spelling.
const EVASIVE_HOST: HostFlags = HostFlags::IPV4_NON_DOTTED
    .union(HostFlags::IPV4_OCTAL)
    .union(HostFlags::IPV4_HEX)
    .union(HostFlags::IPV4_MAPPED)
    .union(HostFlags::NAT64)
    .union(HostFlags::IPV4_COMPAT)
    .union(HostFlags::PERCENT_ENCODED)
    .union(HostFlags::FULLWIDTH)
    .union(HostFlags::USERINFO)
    .union(HostFlags::TRAILING_DOT);

/// Whether a Host value or target authority is a plain DNS name (letters, digits, dots and
/// hyphens, starting with a letter, with or without a numeric port) that is none of the
/// metadata names: almost every Host header, decided without the full authority parser.
/// `false` means "ask [`parse_authority`]", not "metadata". A name that starts with a
/// letter is never an `inet_aton` address, has nothing to percent-decode, and maps to
/// ASCII by lower-casing alone; the property test `ordinary_names_agree_with_the_parser`
/// holds it to the full path.
fn is_ordinary_name(raw: &[u8]) -> bool {
    if !raw.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    // One pass, a table load per byte: the name runs to the first byte that is not a
    // letter, digit, dot or hyphen, and only a `:` and a port may follow it. (This runs on
    // every Host header; the per-byte `||` chain and a separate search for the colon cost
    // about 200 instructions more per request.)
    let name_len = raw
        .iter()
        .position(|&b| !is_name_byte(b))
        .unwrap_or(raw.len());
    let (host, rest) = raw.split_at_checked(name_len).unwrap_or((raw, &[]));
    let port_ok = match rest {
        [] => true,
        [b':', port @ ..] => port.len() <= 5 && port.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !port_ok {
        return false;
    }
    let name = host.strip_suffix(b".").unwrap_or(host);
    !crate::imds::targets::is_metadata_name_ignore_case(name)
}

/// Letters, digits, `.` and `-`: the bytes of a plain DNS name.
// A u8 indexes a 256-entry table, filled in a `const` loop bounded by its length.
#[allow(clippy::indexing_slicing)]
static NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
        b += 1;
    }
    t
};

#[inline]
#[allow(clippy::indexing_slicing)] // a u8 indexes a 256-entry table
fn is_name_byte(b: u8) -> bool {
    NAME_BYTE[usize::from(b)]
}

/// What the AWS path of a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AwsPath {
    None,
    Metadata { credentials: bool },
    Token,
}

/// Classifies a normalised path against the IMDS path tree: `/latest/` or a dated version
/// `/<YYYY-MM-DD>/`, then `meta-data`, `dynamic` or `user-data`; `/latest/api/token`.
/// Matching is by whole segments, so `/latest/meta-data-guide.html` is no metadata path
/// (the bulletin's Sigma `contains` would match it).
fn aws_path(path: &[u8]) -> AwsPath {
    let mut segs = path.split(|&b| b == b'/').filter(|s| !s.is_empty());
    let (Some(version), Some(category)) = (segs.next(), segs.next()) else {
        return AwsPath::None;
    };
    let latest = version == b"latest";
    if !latest && !is_dated_version(version) {
        return AwsPath::None;
    }
    match category {
        b"api" if latest && segs.next() == Some(&b"token"[..]) => AwsPath::Token,
        b"meta-data" => {
            // The next two segments, without collecting them (this runs for every request
            // to a metadata path).
            let credentials = matches!(
                (segs.next(), segs.next()),
                (
                    Some(b"iam"),
                    Some(b"security-credentials" | b"security-credentials-extended")
                ) | (Some(b"identity-credentials"), _)
            );
            AwsPath::Metadata { credentials }
        }
        b"dynamic" | b"user-data" => AwsPath::Metadata { credentials: false },
        _ => AwsPath::None,
    }
}

/// `YYYY-MM-DD`, or IMDS's first version `1.0`.
fn is_dated_version(s: &[u8]) -> bool {
    s == b"1.0"
        || (s.len() == 10
            && s.iter().enumerate().all(|(i, &b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            }))
}

/// Appends ` (a,b)`: the names of the evasion flags, lower case, as the evidence shows them.
fn push_flag_names<'a>(s: &mut String, names: impl Iterator<Item = &'a str>) {
    s.push_str(" (");
    for (i, name) in names.enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.extend(name.chars().map(|c| c.to_ascii_lowercase()));
    }
    s.push(')');
}

/// Evidence gathered from one request.
#[derive(Debug, Clone, Default)]
pub struct RequestMatcher {
    /// Indicators raised by the request.
    pub indicators: Indicators,
    /// A provider named by the host, a header or the path.
    provider_by_host: Option<Provider>,
    provider_by_header: Option<Provider>,
    provider_by_path: Option<Provider>,
    /// The request asks for an IMDSv2 token (token path, or the TTL header).
    pub token_request: bool,
    /// The method is PUT.
    pub put: bool,
    /// Normalised path differs from the raw one (for the evidence list).
    pub path_rewritten: bool,
    /// Short statements of what matched, for the alert's evidence list.
    pub evidence: Vec<String>,
    /// The normalised path, kept only when it differs from the raw target and matched.
    pub normalized_path: Option<Vec<u8>>,
    host_seen: bool,
    /// Strings for the statements of the next requests (and for the response side's, which
    /// the engine writes for the same transaction).
    pub(crate) strings: StringPool,
}

const HOST: &[u8] = b"host";
const TOKEN: &[u8] = b"x-aws-ec2-metadata-token";
const TOKEN_TTL: &[u8] = b"x-aws-ec2-metadata-token-ttl-seconds";

/// The fields [`RequestMatcher::on_header`] looks at besides [`HEADER_SIGNS`]: the names it
/// compares with, so that the length mask below cannot miss one.
const AWS_HEADER_NAMES: [&[u8]; 3] = [HOST, TOKEN, TOKEN_TTL];

/// Bit `n` is set when some field that [`RequestMatcher::on_header`] looks at has a name of
/// `n` bytes (all are shorter than 64). Computed at compile time from the same lists (an
/// index out of bounds or a name of 64 bytes or more fails the build: it cannot panic at
/// run time, as targets.rs says of its own const tables).
#[allow(clippy::indexing_slicing)]
const WATCHED_NAME_LENGTHS: u64 = {
    let mut mask = 0u64;
    let mut i = 0;
    while i < AWS_HEADER_NAMES.len() {
        mask |= 1u64 << AWS_HEADER_NAMES[i].len();
        i += 1;
    }
    let mut i = 0;
    while i < HEADER_SIGNS.len() {
        mask |= 1u64 << HEADER_SIGNS[i].name.len();
        i += 1;
    }
    mask
};

/// Whether a field name of `len` bytes may be one [`RequestMatcher::on_header`] looks at.
#[inline]
fn is_watched_length(len: usize) -> bool {
    len < 64 && WATCHED_NAME_LENGTHS & (1u64 << len) != 0
}

impl RequestMatcher {
    /// Resets for the next request, keeping allocations.
    pub fn clear(&mut self) {
        self.indicators = Indicators::empty();
        self.provider_by_host = None;
        self.provider_by_header = None;
        self.provider_by_path = None;
        self.token_request = false;
        self.put = false;
        self.path_rewritten = false;
        self.strings.give_all(&mut self.evidence);
        self.normalized_path = None;
        self.host_seen = false;
    }

    /// Inspects the request line: the target's path, and its authority when the request is
    /// addressed to a proxy (absolute form) or is a CONNECT (authority form).
    pub fn on_request_line(&mut self, line: &RequestLine<'_>) {
        self.put = line.method.eq_ignore_ascii_case(b"PUT");
        let connect = line.method.eq_ignore_ascii_case(b"CONNECT");
        match split_target(line.target) {
            RequestTarget::Absolute {
                authority,
                alt_authority,
                path,
                ..
            } => {
                self.host(authority, "target authority");
                if let Some(alt) = alt_authority {
                    self.host(alt, "target authority (alternative reading)");
                }
                // The path after the authority, as the proxy forwards it.
                self.path(path);
            }
            RequestTarget::Asterisk => {}
            RequestTarget::Authority(a) if connect => self.host(a, "CONNECT authority"),
            RequestTarget::Other(raw) if connect => self.host(raw, "CONNECT authority"),
            // Anything else a lenient server may still take as a path (`\latest\meta-data`
            // has no slash and looks like an authority to a strict reader).
            RequestTarget::Authority(_)
            | RequestTarget::Other(_)
            | RequestTarget::Origin { .. } => self.path(line.target),
        }
    }

    /// Inspects one request header field.
    #[inline]
    pub fn on_header(&mut self, h: &Header<'_>) {
        // Most fields of ordinary traffic are ruled out by the length of their name alone,
        // in the caller: the rest is out of line, so that the check costs no call.
        if Self::may_watch(h.name) {
            self.watched_header(h);
        }
    }

    /// Whether [`RequestMatcher::on_header`] may take anything from a field named `name`:
    /// `false` means the field can be left out. A test on the name's length, so it says
    /// yes to some fields it then ignores.
    #[inline]
    pub fn may_watch(name: &[u8]) -> bool {
        is_watched_length(name.len())
    }

    /// [`RequestMatcher::on_header`] for a field whose name has a watched length.
    #[inline(never)]
    fn watched_header(&mut self, h: &Header<'_>) {
        if h.is(HOST) {
            if !self.host_seen {
                self.host_seen = true;
                self.host(h.value, "Host header");
            }
        } else if h.is(TOKEN) {
            self.indicators |= Indicators::HDR_TOKEN;
            self.note(|s| s.push_str("header X-aws-ec2-metadata-token"));
        } else if h.is(TOKEN_TTL) {
            self.indicators |= Indicators::HDR_TOKEN_TTL;
            self.token_request = true;
            self.note(|s| s.push_str("header X-aws-ec2-metadata-token-ttl-seconds"));
        } else {
            for sign in HEADER_SIGNS {
                if h.is(sign.name)
                    && sign.value.map_or(true, |v| {
                        let mut parts = h.unfolded();
                        parts.next().is_some_and(|p| p.eq_ignore_ascii_case(v))
                            && parts.next().is_none()
                    })
                {
                    self.provider_by_header = Some(sign.provider);
                    if sign.name == b"x-aliyun-ecs-metadata-token-ttl-seconds" {
                        self.token_request = true;
                    }
                }
            }
        }
    }

    /// Adds a statement, written by `write` into a string from the pool.
    fn note(&mut self, write: impl FnOnce(&mut String)) {
        // Bounded: an alert carries a handful of statements, not a log.
        if self.evidence.len() < 8 {
            self.strings.push_written(&mut self.evidence, write);
        }
    }

    fn path(&mut self, raw: &[u8]) {
        let norm = normalize_path(raw);
        let path: &[u8] = &norm.path;
        let class = aws_path(path);
        let matched = match class {
            AwsPath::Token => {
                self.indicators |= Indicators::PATH_TOKEN;
                self.token_request = true;
                true
            }
            AwsPath::Metadata { credentials } => {
                self.indicators |= Indicators::PATH_METADATA;
                if credentials {
                    self.indicators |= Indicators::PATH_CREDENTIALS;
                }
                true
            }
            AwsPath::None => {
                self.provider_by_path = PATH_PREFIXES
                    .iter()
                    .find(|(prefix, _)| has_segment_prefix(path, prefix))
                    .map(|(_, p)| *p);
                if CREDENTIAL_PATHS.iter().any(|p| has_segment_prefix(path, p)) {
                    self.indicators |= Indicators::PATH_CREDENTIALS;
                }
                // ECS (/v2/credentials/<id>) and EKS Pod Identity (/v1/credentials) paths
                // mean credentials only on their own addresses: kept as a fact for later.
                if has_segment_prefix(path, b"/v2/credentials")
                    || has_segment_prefix(path, b"/v1/credentials")
                {
                    self.indicators |= Indicators::PATH_CREDENTIALS;
                }
                self.provider_by_path.is_some()
            }
        };
        if matched {
            let evasive = norm.flags & EVASIVE_PATH;
            if !evasive.is_empty() {
                self.indicators |= Indicators::EVASION;
                self.path_rewritten = true;
                self.normalized_path = Some(path.to_vec());
                self.note(|s| {
                    s.push_str("path ");
                    push_display_bytes(s, path);
                    s.push_str(" normalised from ");
                    push_display_bytes(s, raw);
                    push_flag_names(s, evasive.iter_names().map(|(n, _)| n));
                });
            } else if class != AwsPath::None {
                self.note(|s| {
                    s.push_str("path ");
                    push_display_bytes(s, path);
                });
            }
        }
    }

    fn host(&mut self, raw: &[u8], what: &str) {
        if is_ordinary_name(raw) {
            return;
        }
        let auth = parse_authority(raw);
        let endpoint: Option<Endpoint> = match &auth.host {
            HostName::Ip(ip) => host_endpoint_of_address(*ip),
            HostName::Name(n) => endpoint_of_name(n),
        };
        let Some(e) = endpoint else {
            return;
        };
        self.indicators |= e.indicator;
        self.provider_by_host = Some(e.provider);
        let evasive = auth.flags & EVASIVE_HOST;
        let host = &auth.host;
        let show_host = |s: &mut String| match host {
            HostName::Ip(ip) => {
                let _ = write!(s, "{ip}");
            }
            HostName::Name(n) => push_display_bytes(s, n),
        };
        if evasive.is_empty() {
            self.note(|s| {
                s.push_str(what);
                s.push_str(" names ");
                show_host(s);
            });
        } else {
            self.indicators |= Indicators::EVASION;
            self.note(|s| {
                s.push_str(what);
                s.push(' ');
                push_display_bytes(s, raw);
                s.push_str(" is ");
                show_host(s);
                push_flag_names(s, evasive.iter_names().map(|(n, _)| n));
            });
        }
    }

    /// Completes the request's evidence with what the flow's destination says, and returns
    /// the provider concerned (if any).
    ///
    /// Another provider's path counts only together with its address, host or client header:
    /// `/metadata/v1/` is a common path on ordinary web servers.
    pub fn finish(&mut self, destination: Option<Endpoint>) -> Option<Provider> {
        let dest_provider = destination.map(|e| e.provider);
        let other = [
            self.provider_by_header,
            self.provider_by_path,
            self.provider_by_host,
        ]
        .into_iter()
        .flatten()
        .find(|p| {
            !matches!(
                p,
                Provider::Aws | Provider::AwsEcs | Provider::AwsEksPodIdentity
            )
        });
        if let Some(p) = other {
            let at_metadata_address =
                matches!(dest_provider, Some(d) if d == p || d == Provider::Aws);
            let named_by_host = self.provider_by_host == Some(p);
            let header = self.provider_by_header == Some(p);
            let path = self.provider_by_path == Some(p)
                || (p == Provider::Alibaba && self.indicators.contains(Indicators::PATH_METADATA));
            if (path && (at_metadata_address || named_by_host || header))
                || (header && (at_metadata_address || named_by_host))
                || named_by_host
            {
                self.indicators |= Indicators::OTHER_CLOUD;
                self.note(|s| {
                    s.push_str(p.as_str());
                    s.push_str(" metadata request");
                });
                return Some(p);
            }
        }
        if self.indicators.contains(Indicators::ECS_ENDPOINT)
            || dest_provider == Some(Provider::AwsEcs)
        {
            return Some(Provider::AwsEcs);
        }
        if self.indicators.contains(Indicators::EKS_POD_IDENTITY)
            || dest_provider == Some(Provider::AwsEksPodIdentity)
        {
            return Some(Provider::AwsEksPodIdentity);
        }
        if dest_provider == Some(Provider::Alibaba) {
            return Some(Provider::Alibaba);
        }
        let aws = Indicators::HOST_IMDS
            | Indicators::PATH_METADATA
            | Indicators::PATH_TOKEN
            | Indicators::HDR_TOKEN
            | Indicators::HDR_TOKEN_TTL;
        if self.indicators.intersects(aws) || dest_provider == Some(Provider::Aws) {
            return Some(Provider::Aws);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{parse_field_line, parse_request_line};
    use crate::imds::targets::endpoint_of_address;

    fn watched_names() -> impl Iterator<Item = &'static [u8]> {
        AWS_HEADER_NAMES
            .iter()
            .copied()
            .chain(HEADER_SIGNS.iter().map(|s| s.name))
    }

    #[test]
    fn every_watched_name_passes_the_length_filter() {
        for name in watched_names() {
            assert!(
                is_watched_length(name.len()),
                "{}",
                String::from_utf8_lossy(name)
            );
        }
        // Common browser fields the filter rules out.
        for name in ["Accept-Encoding", "Cookie", "Referer", "Connection"] {
            let watched = watched_names().any(|w| w.len() == name.len());
            assert_eq!(is_watched_length(name.len()), watched, "{name}");
        }
        assert!(!is_watched_length(64) && !is_watched_length(usize::MAX));
    }

    fn matcher(line: &[u8], headers: &[&[u8]]) -> RequestMatcher {
        let mut m = RequestMatcher::default();
        m.on_request_line(&parse_request_line(line).expect("request line"));
        for h in headers {
            m.on_header(&parse_field_line(h));
        }
        m
    }

    #[test]
    fn aws_paths_by_segment() {
        assert_eq!(
            aws_path(b"/latest/meta-data/"),
            AwsPath::Metadata { credentials: false }
        );
        assert_eq!(
            aws_path(b"/2021-03-23/meta-data/instance-id"),
            AwsPath::Metadata { credentials: false }
        );
        assert_eq!(
            aws_path(b"/latest/meta-data/iam/security-credentials-extended/r"),
            AwsPath::Metadata { credentials: true }
        );
        assert_eq!(
            aws_path(
                b"/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance"
            ),
            AwsPath::Metadata { credentials: true }
        );
        assert_eq!(
            aws_path(b"/latest/dynamic/instance-identity/document"),
            AwsPath::Metadata { credentials: false }
        );
        assert_eq!(
            aws_path(b"/latest/user-data"),
            AwsPath::Metadata { credentials: false }
        );
        assert_eq!(aws_path(b"/latest/api/token"), AwsPath::Token);
        // Near misses.
        assert_eq!(aws_path(b"/latest/meta-data-guide.html"), AwsPath::None);
        assert_eq!(aws_path(b"/api/token"), AwsPath::None);
        assert_eq!(aws_path(b"/2021-03-23/api/token"), AwsPath::None);
        assert_eq!(aws_path(b"/docs/latest/meta-data/"), AwsPath::None);
        assert_eq!(aws_path(b"/2021-3-23/meta-data/"), AwsPath::None);
    }

    #[test]
    fn token_put_with_ttl_header() {
        let m = matcher(
            b"PUT /latest/api/token HTTP/1.1",
            &[
                b"Host: 169.254.169.254",
                b"X-AWS-EC2-METADATA-TOKEN-TTL-SECONDS: 21600",
            ],
        );
        assert!(m
            .indicators
            .contains(Indicators::PATH_TOKEN | Indicators::HDR_TOKEN_TTL | Indicators::HOST_IMDS));
        assert!(m.token_request && m.put);
        assert!(!m.indicators.contains(Indicators::EVASION));
    }

    #[test]
    fn proxied_request_with_hex_host() {
        let mut m = matcher(
            b"GET http://0xA9FEA9FE/latest/meta-data/ HTTP/1.1",
            &[b"Host: 0xA9FEA9FE"],
        );
        assert!(m
            .indicators
            .contains(Indicators::HOST_IMDS | Indicators::PATH_METADATA | Indicators::EVASION));
        assert_eq!(m.finish(None), Some(Provider::Aws));
        assert!(
            m.evidence.iter().any(|e| e.contains("169.254.169.254")),
            "{:?}",
            m.evidence
        );
    }

    #[test]
    fn connect_to_imds() {
        let m = matcher(b"CONNECT [::ffff:a9fe:a9fe]:80 HTTP/1.1", &[]);
        assert!(m
            .indicators
            .contains(Indicators::HOST_IMDS | Indicators::EVASION));
        let m = matcher(b"CONNECT instance-data:80 HTTP/1.1", &[]);
        assert!(m.indicators.contains(Indicators::HOST_IMDS));
    }

    #[test]
    fn encoded_path() {
        let m = matcher(
            b"GET /latest/meta%252Ddata/./iam/%73ecurity-credentials/ HTTP/1.1",
            &[],
        );
        assert!(m.indicators.contains(
            Indicators::PATH_METADATA | Indicators::PATH_CREDENTIALS | Indicators::EVASION
        ));
        assert_eq!(
            m.normalized_path.as_deref(),
            Some(&b"/latest/meta-data/iam/security-credentials/"[..])
        );
    }

    #[test]
    fn other_clouds_need_more_than_a_path() {
        let dest = endpoint_of_address("169.254.169.254".parse().expect("ip"));
        let mut m = matcher(
            b"GET /computeMetadata/v1/instance/service-accounts/default/token HTTP/1.1",
            &[b"Metadata-Flavor: Google"],
        );
        assert_eq!(m.finish(dest), Some(Provider::Gcp));
        assert!(m
            .indicators
            .contains(Indicators::OTHER_CLOUD | Indicators::PATH_CREDENTIALS));
        let mut m = matcher(b"GET /metadata/v1/ HTTP/1.1", &[b"Host: www.example.com"]);
        assert_eq!(m.finish(None), None);
        assert!(!m.indicators.contains(Indicators::OTHER_CLOUD));
        let mut m = matcher(
            b"GET /metadata/instance?api-version=2021-02-01 HTTP/1.1",
            &[b"Metadata: true"],
        );
        assert_eq!(m.finish(dest), Some(Provider::Azure));
        let mut m = matcher(
            b"GET /latest/meta-data/ HTTP/1.1",
            &[b"Host: 100.100.100.200"],
        );
        assert_eq!(m.finish(None), Some(Provider::Alibaba));
    }

    #[test]
    fn ecs_and_eks() {
        let dest = endpoint_of_address("169.254.170.2".parse().expect("ip"));
        let mut m = matcher(
            b"GET /v2/credentials/5f0e-uuid HTTP/1.1",
            &[b"Host: 169.254.170.2"],
        );
        assert_eq!(m.finish(dest), Some(Provider::AwsEcs));
        assert!(m
            .indicators
            .contains(Indicators::ECS_ENDPOINT | Indicators::PATH_CREDENTIALS));
        let mut m = matcher(b"GET /v1/credentials HTTP/1.1", &[b"Host: [fd00:ec2::23]"]);
        assert_eq!(m.finish(None), Some(Provider::AwsEksPodIdentity));
    }

    proptest::proptest! {
        #[test]
        fn ordinary_names_agree_with_the_parser(
            picks in proptest::collection::vec(0usize..14, 0..12),
        ) {
            const PARTS: [&str; 14] = [
                "a", "Z", "0", "9", ".", "-", ":", "80", "%2e", "@", "[", "instance-data",
                "metadata.GOOGLE.internal", " ",
            ];
            let raw: String = picks.iter().map(|&i| PARTS[i]).collect();
            if is_ordinary_name(raw.as_bytes()) {
                let auth = parse_authority(raw.as_bytes());
                let endpoint = match &auth.host {
                    HostName::Ip(ip) => host_endpoint_of_address(*ip),
                    HostName::Name(n) => endpoint_of_name(n),
                };
                proptest::prop_assert!(endpoint.is_none(), "{raw:?}: {endpoint:?}");
            }
        }
    }

    /// The first formulation of [`is_ordinary_name`] (a colon search, then a class test of
    /// each side), kept as the reference the one-pass version must agree with.
    fn is_ordinary_name_reference(raw: &[u8]) -> bool {
        let (host, port) = match memchr::memchr(b':', raw) {
            Some(i) => (&raw[..i], &raw[i + 1..]),
            None => (raw, &[][..]),
        };
        let port_ok = port.len() <= 5 && port.iter().all(u8::is_ascii_digit);
        let plain = host.first().is_some_and(u8::is_ascii_alphabetic)
            && host
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        let name = host.strip_suffix(b".").unwrap_or(host);
        port_ok && plain && !crate::imds::targets::is_metadata_name_ignore_case(name)
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_name_check_agrees_with_the_reference(
            picks in proptest::collection::vec(0usize..16, 0..12),
        ) {
            const PARTS: [&str; 16] = [
                "a", "Z", "0", "9", ".", "-", ":", "80", "123456", "_", "@", "\u{e9}",
                "instance-data", "metadata.google.internal", "::", " ",
            ];
            let raw: String = picks.iter().map(|&i| PARTS[i]).collect();
            proptest::prop_assert_eq!(
                is_ordinary_name(raw.as_bytes()),
                is_ordinary_name_reference(raw.as_bytes()),
                "{:?}", raw
            );
        }
    }

    #[test]
    fn ordinary_names_take_the_short_way() {
        for host in ["www.example.com", "example.com:8080", "a-b.c.", "localhost"] {
            assert!(is_ordinary_name(host.as_bytes()), "{host}");
        }
        for host in [
            "instance-data",
            "INSTANCE-DATA.",
            "metadata.google.internal:80",
            "169.254.169.254",
            "0xa9fea9fe",
            "[fd00:ec2::254]",
            "a@instance-data",
            "instance%2ddata",
            " www.example.com",
        ] {
            assert!(!is_ordinary_name(host.as_bytes()), "{host}");
        }
    }

    #[test]
    fn benign_requests_raise_nothing() {
        for (line, headers) in [
            (
                &b"GET /latest/meta-data-guide.html HTTP/1.1"[..],
                &[&b"Host: docs.example.com"[..]][..],
            ),
            (b"GET /api/token HTTP/1.1", &[b"Host: example.com"]),
            (b"POST /notes HTTP/1.1", &[b"Host: example.com"]),
            (b"GET http://example.com/latest HTTP/1.1", &[]),
        ] {
            let mut m = matcher(line, headers);
            assert_eq!(m.finish(None), None);
            assert!(m.indicators.is_empty(), "{}", String::from_utf8_lossy(line));
        }
    }
}
