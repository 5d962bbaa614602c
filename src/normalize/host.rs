//! Host and authority canonicalisation: which machine a `Host` header, an absolute-form
//! authority or a CONNECT target really names.
//!
//! Addresses are recognised in every spelling a client library might turn into a connection:
//! all `inet_aton(3)` IPv4 forms, IPv6 literals (bracketed or not, with zone ids), IPv6 forms
//! that embed an IPv4 address, percent-encoding and the UTS #46 mappings of full-width and other
//! digit-like code points. Each spelling leaves a flag, since a legitimate client writes
//! `169.254.169.254` and nothing else.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bitflags::bitflags;
use memchr::{memchr, memchr_iter, memrchr};

use super::pct::{self, Ev};
use super::unicode;

bitflags! {
    /// How a host was spelled, and what was wrong with the authority.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct HostFlags: u32 {
        /// IPv4 in fewer than four parts: `2852039166`, `169.254.43518`, `169.16689662`.
        const IPV4_NON_DOTTED = 1 << 0;
        /// An IPv4 part in octal (leading `0`): `0251.0376.0251.0376`.
        const IPV4_OCTAL = 1 << 1;
        /// An IPv4 part in hex (`0x`/`0X`): `0xA9FEA9FE`.
        const IPV4_HEX = 1 << 2;
        /// An IPv6 address without brackets (only a `Host` header sloppy parsers accept).
        const IPV6_BRACKETS_MISSING = 1 << 3;
        /// An IPv6 zone id (`%25eth0` or `%eth0`) was present and stripped.
        const IPV6_ZONE_ID = 1 << 4;
        /// IPv4-mapped IPv6 address `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2).
        const IPV4_MAPPED = 1 << 5;
        /// NAT64 well-known prefix `64:ff9b::/96` (RFC 6052 §2.1).
        const NAT64 = 1 << 6;
        /// Deprecated IPv4-compatible IPv6 address `::a.b.c.d` (RFC 4291 §2.5.5.1).
        const IPV4_COMPAT = 1 << 7;
        /// IPv4-translated address `::ffff:0:a.b.c.d` (RFC 2765 §2.1, SIIT).
        const IPV4_TRANSLATED = 1 << 8;
        /// 6to4 address `2002:AABB:CCDD::/48` (RFC 3056), which embeds `A.B.C.D`.
        const SIX_TO_FOUR = 1 << 9;
        /// One trailing dot (the DNS root) was removed.
        const TRAILING_DOT = 1 << 10;
        /// `userinfo@` preceded the host. The host is after the *last* `@`, so
        /// `evil.com@169.254.169.254` names 169.254.169.254.
        const USERINFO = 1 << 11;
        /// The host was percent-encoded (`%31%36%39.254.169.254`).
        const PERCENT_ENCODED = 1 << 12;
        /// Full-width forms (U+FF01..U+FF5E, e.g. U+FF10..U+FF19 digits and U+FF0E dot) or an
        /// ideographic full stop (U+3002, U+FF61) were mapped to ASCII, as UTS #46 does.
        const FULLWIDTH = 1 << 13;
        /// Other code points UTS #46 maps to ASCII were mapped: circled digits and letters
        /// (①, ⓐ), digits with a period (⒈), mathematical (𝟏), superscript or subscript digits.
        const UNICODE_MAPPED = 1 << 14;
        /// Non-ASCII bytes remain in the name (an IDN, or invalid UTF-8).
        const NON_ASCII = 1 << 15;
        /// Leading or trailing spaces or tabs were trimmed.
        const WHITESPACE = 1 << 16;
        /// The port was not a decimal number in 0..=65535 (`:99999`, `:8o`); it is dropped.
        /// An empty port (`host:`) is valid and not flagged.
        const INVALID_PORT = 1 << 17;
        /// There was no host at all.
        const EMPTY = 1 << 18;
        /// The host is malformed: numeric but not an address (`256.1.1.1`, `1.2.3.4.5`,
        /// `0x1a9fea9fe`), a bad IPv6 literal or bracket, an invalid escape, an overlong UTF-8
        /// sequence, or a character no host name may contain.
        const INVALID = 1 << 19;
    }
}

/// What a host names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostName<'a> {
    /// An IP address in any of the spellings above. IPv6 addresses are kept as written; use
    /// [`HostName::ipv4`] to see through IPv4-embedding forms.
    Ip(IpAddr),
    /// A name: decoded, ASCII-lower-cased, without its trailing dot. Borrows the input when
    /// none of that changed anything. Non-ASCII letters are left as they are.
    Name(Cow<'a, [u8]>),
}

impl HostName<'_> {
    /// The IPv4 address this host reaches: an IPv4 address itself, or the IPv4 address embedded
    /// in an IPv6 one (see [`embedded_ipv4`]). Names need DNS and give `None`.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        match self {
            HostName::Ip(IpAddr::V4(a)) => Some(*a),
            HostName::Ip(IpAddr::V6(a)) => embedded_ipv4(a).map(|(v4, _)| v4),
            HostName::Name(_) => None,
        }
    }
}

/// An authority (`[userinfo@]host[:port]`) taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority<'a> {
    /// Everything before the last `@`, raw.
    pub userinfo: Option<&'a [u8]>,
    /// The host in canonical form.
    pub host: HostName<'a>,
    /// The port, when present and valid.
    pub port: Option<u16>,
    /// How it was spelled.
    pub flags: HostFlags,
    /// The input, untouched, for logging.
    pub raw: &'a [u8],
}

/// The host as it comes out of the bracket/port split.
enum HostPart<'a> {
    V6(Ipv6Addr),
    Text(&'a [u8]),
}

/// Parses a `Host` header value, an absolute-form authority or a CONNECT target.
///
/// Never fails: whatever the input, the result says what a lenient client would have
/// connected to, and the flags say what was odd. Steps: trim spaces and tabs; split userinfo at
/// the last `@`; take a `[...]` IPv6 literal, or an unbracketed IPv6 address when two or more
/// colons make it one (then there is no port, unless only the part before the last colon is an
/// address); otherwise split the port at the colon; percent-decode the host; apply the UTS #46
/// mappings to ASCII; drop one trailing dot; try `inet_aton(3)` IPv4; else lower-case the name.
///
/// With two or more colons that form no IPv6 address, the host ends at the first colon
/// (`169.254.169.254:80:80` names 169.254.169.254, with an invalid port).
pub fn parse_authority(raw: &[u8]) -> Authority<'_> {
    let mut flags = HostFlags::empty();
    let trimmed = trim_ows(raw);
    if trimmed.len() != raw.len() {
        flags |= HostFlags::WHITESPACE;
    }
    let (userinfo, hostport) = match memrchr(b'@', trimmed) {
        Some(i) => {
            flags |= HostFlags::USERINFO;
            (trimmed.get(..i), trimmed.get(i + 1..).unwrap_or_default())
        }
        None => (None, trimmed),
    };
    let (part, port_text) = if hostport.first() == Some(&b'[') {
        bracketed(hostport, &mut flags)
    } else {
        unbracketed(hostport, &mut flags)
    };
    let port = match port_text {
        None | Some([]) => None,
        Some(p) => {
            let port = parse_port(p);
            if port.is_none() {
                flags |= HostFlags::INVALID_PORT;
            }
            port
        }
    };
    let host = match part {
        HostPart::V6(a) => {
            if let Some((_, f)) = embedded_ipv4(&a) {
                flags |= f;
            }
            HostName::Ip(IpAddr::V6(a))
        }
        HostPart::Text(t) => host_name(t, &mut flags),
    };
    Authority {
        userinfo,
        host,
        port,
        flags,
        raw,
    }
}

/// Parses IPv4 the way `inet_aton(3)` (glibc, BSD libc) does, which is the way most socket
/// code, `curl` and `ping` read an address:
///
/// - `a.b.c.d`: four parts of 8 bits each; `a.b.c`: the last part is 16 bits;
///   `a.b`: the last part is 24 bits; `a`: one 32-bit number;
/// - each part is decimal, octal after a leading `0`, or hex after `0x`/`0X` (an empty
///   `0x` is zero, as in glibc); parts may mix bases and carry any number of leading zeros;
/// - any part too large for its place, an empty part, a non-digit (`08` is not octal), or more
///   than four parts makes it no address.
///
/// Stricter than glibc in one respect: glibc ignores anything after a space (`"1.2.3.4 x"`),
/// which no URL parser does, so that is rejected; callers strip whitespace themselves.
/// The flags say which forms were used: [`HostFlags::IPV4_NON_DOTTED`],
/// [`HostFlags::IPV4_OCTAL`], [`HostFlags::IPV4_HEX`].
pub fn parse_ipv4_inet_aton(s: &[u8]) -> Option<(Ipv4Addr, HostFlags)> {
    let mut parts = [0u32; 4];
    let mut count = 0usize;
    let mut flags = HostFlags::empty();
    for text in s.split(|&b| b == b'.') {
        let slot = parts.get_mut(count)?;
        let (value, f) = ipv4_part(text)?;
        *slot = value;
        flags |= f;
        count += 1;
    }
    let [a, b, c, d] = parts;
    let byte = |v: u32| v <= 0xFF;
    let addr = match count {
        1 => a,
        2 if byte(a) && b <= 0xFF_FFFF => (a << 24) | b,
        3 if byte(a) && byte(b) && c <= 0xFFFF => (a << 24) | (b << 16) | c,
        4 if byte(a) && byte(b) && byte(c) && byte(d) => (a << 24) | (b << 16) | (c << 8) | d,
        _ => return None,
    };
    if count < 4 {
        flags |= HostFlags::IPV4_NON_DOTTED;
    }
    Some((Ipv4Addr::from(addr), flags))
}

/// One `inet_aton` part: value and the base flag. Accumulates with checked arithmetic, so
/// leading zeros cost nothing and overflow is a rejection, never a wrap.
fn ipv4_part(text: &[u8]) -> Option<(u32, HostFlags)> {
    let (digits, radix, flag) = match text {
        [] => return None,
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16, HostFlags::IPV4_HEX),
        [b'0', rest @ ..] if !rest.is_empty() => (rest, 8, HostFlags::IPV4_OCTAL),
        _ => (text, 10, HostFlags::empty()),
    };
    let mut value: u32 = 0;
    for &b in digits {
        let d = char::from(b).to_digit(radix)?;
        value = value.checked_mul(radix)?.checked_add(d)?;
    }
    Some((value, flag))
}

/// The IPv4 address embedded in an IPv6 address, for the forms that route to that IPv4
/// address (or did, or do through a translator):
///
/// - `::ffff:a.b.c.d`, IPv4-mapped ([`HostFlags::IPV4_MAPPED`]);
/// - `64:ff9b::a.b.c.d`, the NAT64 well-known prefix with the /96 layout of RFC 6052 §2.2
///   ([`HostFlags::NAT64`]);
/// - `::ffff:0:a.b.c.d`, IPv4-translated ([`HostFlags::IPV4_TRANSLATED`]);
/// - `::a.b.c.d`, IPv4-compatible ([`HostFlags::IPV4_COMPAT`]), except `::` and `::1`, which
///   are the unspecified and loopback addresses;
/// - `2002:aabb:ccdd::/48`, 6to4 ([`HostFlags::SIX_TO_FOUR`]).
///
/// Network-specific NAT64 prefixes (RFC 6052 §2.3) cannot be recognised without knowing them.
pub fn embedded_ipv4(v6: &Ipv6Addr) -> Option<(Ipv4Addr, HostFlags)> {
    let [_, _, _, _, _, _, _, _, _, _, _, _, o12, o13, o14, o15] = v6.octets();
    let low = Ipv4Addr::new(o12, o13, o14, o15);
    match v6.segments() {
        [0, 0, 0, 0, 0, 0xFFFF, _, _] => Some((low, HostFlags::IPV4_MAPPED)),
        [0x64, 0xFF9B, 0, 0, 0, 0, _, _] => Some((low, HostFlags::NAT64)),
        [0, 0, 0, 0, 0xFFFF, 0, _, _] => Some((low, HostFlags::IPV4_TRANSLATED)),
        [0, 0, 0, 0, 0, 0, _, _] if u32::from(low) > 1 => Some((low, HostFlags::IPV4_COMPAT)),
        [0x2002, hi, lo, ..] => {
            let [a, b] = hi.to_be_bytes();
            let [c, d] = lo.to_be_bytes();
            Some((Ipv4Addr::new(a, b, c, d), HostFlags::SIX_TO_FOUR))
        }
        _ => None,
    }
}

fn trim_ows(s: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| matches!(b, b' ' | b'\t');
    let start = s.iter().position(|b| !is_ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// `[...]` with an optional `:port` after it.
fn bracketed<'a>(hp: &'a [u8], flags: &mut HostFlags) -> (HostPart<'a>, Option<&'a [u8]>) {
    let inside = hp.get(1..).unwrap_or_default();
    let (inner, port) = match memchr(b']', inside) {
        Some(i) => {
            let inner = inside.get(..i).unwrap_or_default();
            match inside.get(i + 1..).unwrap_or_default() {
                [] => (inner, None),
                [b':', port @ ..] => (inner, Some(port)),
                _ => {
                    *flags |= HostFlags::INVALID;
                    (inner, None)
                }
            }
        }
        None => {
            *flags |= HostFlags::INVALID;
            (inside, None)
        }
    };
    match ipv6_literal(inner, flags) {
        Some(a) => (HostPart::V6(a), port),
        None => {
            *flags |= HostFlags::INVALID;
            (HostPart::Text(inner), port)
        }
    }
}

/// A host without brackets, and the text after its port colon.
fn unbracketed<'a>(hp: &'a [u8], flags: &mut HostFlags) -> (HostPart<'a>, Option<&'a [u8]>) {
    let split = |i: usize| (hp.get(..i).unwrap_or_default(), hp.get(i + 1..));
    let mut colons = memchr_iter(b':', hp);
    let (Some(first), second) = (colons.next(), colons.next()) else {
        return (HostPart::Text(hp), None);
    };
    if second.is_some() {
        if let Some(a) = ipv6_literal(hp, flags) {
            *flags |= HostFlags::IPV6_BRACKETS_MISSING;
            return (HostPart::V6(a), None);
        }
        if let Some(last) = memrchr(b':', hp) {
            let (host, port) = split(last);
            if let Some(a) = ipv6_literal(host, flags) {
                *flags |= HostFlags::IPV6_BRACKETS_MISSING;
                return (HostPart::V6(a), port);
            }
        }
    }
    let (host, port) = split(first);
    (HostPart::Text(host), port)
}

/// An IPv6 address with an optional zone id, possibly percent-encoded as a whole.
fn ipv6_literal(s: &[u8], flags: &mut HostFlags) -> Option<Ipv6Addr> {
    if let Some(a) = ipv6_with_zone(s, flags) {
        return Some(a);
    }
    if memchr(b'%', s).is_some() {
        let decoded = pct::decode(s, false);
        if decoded.first.contains(Ev::DECODED) {
            if let Some(a) = ipv6_with_zone(&decoded.bytes, flags) {
                *flags |= HostFlags::PERCENT_ENCODED;
                return Some(a);
            }
        }
    }
    None
}

/// RFC 6874 writes a zone id as `%25zone`; browsers and most tools also accept a bare
/// `%zone`. The zone only selects an interface, so it is stripped.
fn ipv6_with_zone(s: &[u8], flags: &mut HostFlags) -> Option<Ipv6Addr> {
    let (addr, zone) = match memchr(b'%', s) {
        Some(i) => (s.get(..i).unwrap_or_default(), true),
        None => (s, false),
    };
    let a = std::str::from_utf8(addr).ok()?.parse::<Ipv6Addr>().ok()?;
    if zone {
        *flags |= HostFlags::IPV6_ZONE_ID;
    }
    Some(a)
}

fn parse_port(p: &[u8]) -> Option<u16> {
    p.iter().try_fold(0u16, |acc, &b| {
        let d = b.is_ascii_digit().then(|| b - b'0')?;
        acc.checked_mul(10)?.checked_add(d.into())
    })
}

/// The non-IPv6 host text: decoded, mapped, tried as IPv4, else a lower-cased name.
fn host_name<'a>(text: &'a [u8], flags: &mut HostFlags) -> HostName<'a> {
    let decoded = pct::decode(text, false);
    let events = decoded.first | decoded.later;
    if events.contains(Ev::DECODED) {
        *flags |= HostFlags::PERCENT_ENCODED;
    }
    if events.intersects(Ev::INVALID | Ev::NUL | Ev::OVERLONG) || decoded.exhausted {
        *flags |= HostFlags::INVALID;
    }
    let mut bytes = decoded.bytes;
    if !bytes.is_ascii() {
        if let Some(folded) = unicode::fold(&bytes) {
            if folded.fullwidth {
                *flags |= HostFlags::FULLWIDTH;
            }
            if folded.other {
                *flags |= HostFlags::UNICODE_MAPPED;
            }
            bytes = Cow::Owned(folded.bytes);
        }
        if !bytes.is_ascii() {
            *flags |= HostFlags::NON_ASCII;
        }
    }
    if bytes.last() == Some(&b'.') {
        *flags |= HostFlags::TRAILING_DOT;
        bytes = drop_last(bytes);
    }
    if bytes.is_empty() {
        *flags |= HostFlags::EMPTY;
        return HostName::Name(bytes);
    }
    if let Some((a, f)) = parse_ipv4_inet_aton(&bytes) {
        *flags |= f;
        return HostName::Ip(IpAddr::V4(a));
    }
    if looks_numeric(&bytes) || bytes.iter().any(forbidden_in_host) || has_empty_label(&bytes) {
        *flags |= HostFlags::INVALID;
    }
    if bytes.iter().any(u8::is_ascii_uppercase) {
        bytes.to_mut().make_ascii_lowercase();
    }
    HostName::Name(bytes)
}

fn drop_last(bytes: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    match bytes {
        Cow::Borrowed(b) => Cow::Borrowed(b.split_last().map_or(b, |(_, rest)| rest)),
        Cow::Owned(mut v) => {
            v.pop();
            Cow::Owned(v)
        }
    }
}

/// A host that is only digits and dots, or whose last label is a number (the WHATWG URL
/// "ends in a number" test), is meant as an address; if it is not a valid one, a URL parser
/// rejects it and `getaddrinfo` may still try it, so it is malformed rather than a name.
fn looks_numeric(h: &[u8]) -> bool {
    let digits_and_dots = h.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    let last = h.rsplit(|b| *b == b'.').next().unwrap_or_default();
    let number = match last {
        [] => false,
        [b'0', b'x' | b'X', hex @ ..] => hex.iter().all(u8::is_ascii_hexdigit),
        _ => last.iter().all(u8::is_ascii_digit),
    };
    digits_and_dots || number
}

/// `a..b`, `.a` or (after the one trailing dot was dropped) `a.`: no resolver looks these up.
fn has_empty_label(h: &[u8]) -> bool {
    h.split(|b| *b == b'.').any(<[u8]>::is_empty)
}

/// WHATWG "forbidden domain code points" (ASCII ones), which no resolver accepts either.
fn forbidden_in_host(b: &u8) -> bool {
    matches!(
        b,
        0x00..=0x20
            | b'#'
            | b'/'
            | b':'
            | b'<'
            | b'>'
            | b'?'
            | b'@'
            | b'['
            | b'\\'
            | b']'
            | b'^'
            | b'|'
            | b'%'
            | 0x7F
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const IMDS: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
    const F: HostFlags = HostFlags::empty();

    fn ip(s: &str) -> HostName<'static> {
        HostName::Ip(s.parse().unwrap())
    }

    fn name(s: &'static str) -> HostName<'static> {
        HostName::Name(Cow::Borrowed(s.as_bytes()))
    }

    fn check(raw: &str, host: HostName<'_>, port: Option<u16>, must: HostFlags) {
        let a = parse_authority(raw.as_bytes());
        assert_eq!(a.host, host, "{raw:?} ({:?})", a.flags);
        assert_eq!(a.port, port, "port of {raw:?}");
        assert!(
            a.flags.contains(must),
            "{raw:?}: {:?} lacks {:?}",
            a.flags,
            must
        );
        if must.is_empty() {
            assert!(a.flags.is_empty(), "{raw:?}: unexpected {:?}", a.flags);
        }
    }

    #[test]
    fn imds_spellings() {
        use HostFlags as H;
        let v4 = HostName::Ip(IpAddr::V4(IMDS));
        let table: &[(&str, Option<u16>, HostFlags)] = &[
            ("169.254.169.254", None, F),
            ("2852039166", None, H::IPV4_NON_DOTTED),
            ("0xA9FEA9FE", None, H::IPV4_HEX.union(H::IPV4_NON_DOTTED)),
            ("0xa9fea9fe", None, H::IPV4_HEX),
            ("0XA9FEA9FE", None, H::IPV4_HEX),
            ("0251.0376.0251.0376", None, H::IPV4_OCTAL),
            ("0251.254.169.254", None, H::IPV4_OCTAL),
            ("169.254.43518", None, H::IPV4_NON_DOTTED),
            ("169.16689662", None, H::IPV4_NON_DOTTED),
            ("0xa9.0xfe.0xa9.0xfe", None, H::IPV4_HEX),
            ("169.254.169.254.", None, H::TRAILING_DOT),
            ("0x00a9.0376.43518", None, H::IPV4_HEX.union(H::IPV4_OCTAL)),
            (
                "00000000000000000000000251.254.169.254",
                None,
                H::IPV4_OCTAL,
            ),
            ("%31%36%39.254.169.254", None, H::PERCENT_ENCODED),
            ("%2531%2536%2539.254.169.254", None, H::PERCENT_ENCODED),
            ("１６９．２５４．１６９．２５４", None, H::FULLWIDTH),
            (
                "０ｘＡ９ＦＥＡ９ＦＥ",
                None,
                H::FULLWIDTH.union(H::IPV4_HEX),
            ),
            (
                "①⑥⑨。②⑤④。①⑥⑨。②⑤④",
                None,
                H::UNICODE_MAPPED.union(H::FULLWIDTH),
            ),
            ("169.254.169.254:80", Some(80), F),
            ("169.254.169.254:0080", Some(80), F),
            ("169.254.169.254:", None, F),
            ("169.254.169.254:99999", None, H::INVALID_PORT),
            ("169.254.169.254:8o", None, H::INVALID_PORT),
            ("169.254.169.254:-1", None, H::INVALID_PORT),
            ("169.254.169.254:80:80", None, H::INVALID_PORT),
            ("user:pass@169.254.169.254", None, H::USERINFO),
            ("evil.com@169.254.169.254", None, H::USERINFO),
            ("a@b@169.254.169.254:8080", Some(8080), H::USERINFO),
            ("1.1.1.1 &@169.254.169.254", None, H::USERINFO),
            (" 169.254.169.254\t", None, H::WHITESPACE),
            ("[169.254.169.254]", None, H::INVALID),
        ];
        for (raw, port, must) in table {
            check(raw, v4.clone(), *port, *must);
        }
    }

    #[test]
    fn ipv6_spellings() {
        use HostFlags as H;
        let imds6 = ip("fd00:ec2::254");
        let table: &[(&str, HostName<'_>, Option<u16>, HostFlags)] = &[
            ("[fd00:ec2::254]", imds6.clone(), None, F),
            ("[FD00:EC2:0:0:0:0:0:254]", imds6.clone(), None, F),
            ("[fd00:ec2::254]:80", imds6.clone(), Some(80), F),
            ("[fd00:ec2::254]:", imds6.clone(), None, F),
            ("[%66d00:ec2::254]", imds6.clone(), None, H::PERCENT_ENCODED),
            (
                "fd00:ec2::254",
                imds6.clone(),
                None,
                H::IPV6_BRACKETS_MISSING,
            ),
            ("[fd00:ec2::254", imds6.clone(), None, H::INVALID),
            ("[fd00:ec2::254]x", imds6.clone(), None, H::INVALID),
            ("[fe80::1%25eth0]", ip("fe80::1"), None, H::IPV6_ZONE_ID),
            (
                "[fe80::1%eth0]:8080",
                ip("fe80::1"),
                Some(8080),
                H::IPV6_ZONE_ID,
            ),
            (
                "[::ffff:169.254.169.254]",
                ip("::ffff:a9fe:a9fe"),
                None,
                H::IPV4_MAPPED,
            ),
            (
                "[::ffff:a9fe:a9fe]",
                ip("::ffff:a9fe:a9fe"),
                None,
                H::IPV4_MAPPED,
            ),
            (
                "[0:0:0:0:0:ffff:a9fe:a9fe]",
                ip("::ffff:a9fe:a9fe"),
                None,
                H::IPV4_MAPPED,
            ),
            (
                "[64:ff9b::a9fe:a9fe]",
                ip("64:ff9b::a9fe:a9fe"),
                None,
                H::NAT64,
            ),
            (
                "[64:ff9b::169.254.169.254]",
                ip("64:ff9b::a9fe:a9fe"),
                None,
                H::NAT64,
            ),
            ("[::a9fe:a9fe]", ip("::a9fe:a9fe"), None, H::IPV4_COMPAT),
            (
                "[::ffff:0:a9fe:a9fe]",
                ip("::ffff:0:a9fe:a9fe"),
                None,
                H::IPV4_TRANSLATED,
            ),
            (
                "[2002:a9fe:a9fe::1]",
                ip("2002:a9fe:a9fe::1"),
                None,
                H::SIX_TO_FOUR,
            ),
            (
                "::ffff:169.254.169.254:80",
                ip("::ffff:a9fe:a9fe"),
                Some(80),
                H::IPV6_BRACKETS_MISSING.union(H::IPV4_MAPPED),
            ),
            ("[::1]", ip("::1"), None, F),
            ("[]", name(""), None, H::INVALID.union(H::EMPTY)),
            ("[v1.x]", name("v1.x"), None, H::INVALID),
        ];
        for (raw, host, port, must) in table {
            check(raw, host.clone(), *port, *must);
            let a = parse_authority(raw.as_bytes());
            let embeds = must.intersects(
                H::IPV4_MAPPED | H::NAT64 | H::IPV4_COMPAT | H::IPV4_TRANSLATED | H::SIX_TO_FOUR,
            );
            assert_eq!(a.host.ipv4() == Some(IMDS), embeds, "{raw:?}");
        }
    }

    #[test]
    fn names_and_near_misses() {
        use HostFlags as H;
        let table: &[(&str, HostName<'_>, Option<u16>, HostFlags)] = &[
            (
                "Instance-Data.EC2.Internal.",
                name("instance-data.ec2.internal"),
                None,
                H::TRAILING_DOT,
            ),
            ("instance-data", name("instance-data"), None, F),
            ("instance-data:80", name("instance-data"), Some(80), F),
            (
                "ＩＮＳＴＡＮＣＥ-ＤＡＴＡ",
                name("instance-data"),
                None,
                H::FULLWIDTH,
            ),
            (
                "metadata.google.internal",
                name("metadata.google.internal"),
                None,
                F,
            ),
            (
                "169.254.169.254.nip.io",
                name("169.254.169.254.nip.io"),
                None,
                F,
            ),
            ("bücher.example", name("bücher.example"), None, H::NON_ASCII),
            ("", name(""), None, H::EMPTY),
            ("   ", name(""), None, H::EMPTY.union(H::WHITESPACE)),
            (":80", name(""), Some(80), H::EMPTY),
            ("user@", name(""), None, H::EMPTY.union(H::USERINFO)),
            (".", name(""), None, H::EMPTY.union(H::TRAILING_DOT)),
            ("169.254.169.25", ip("169.254.169.25"), None, F),
            (
                "169.254.169.2544",
                name("169.254.169.2544"),
                None,
                H::INVALID,
            ),
            ("0x1a9fea9fe", name("0x1a9fea9fe"), None, H::INVALID),
            ("1.2.3.4.5", name("1.2.3.4.5"), None, H::INVALID),
            ("256.1.1.1", name("256.1.1.1"), None, H::INVALID),
            ("08.1.1.1", name("08.1.1.1"), None, H::INVALID),
            (
                "169.254.169.254..",
                name("169.254.169.254."),
                None,
                H::INVALID,
            ),
            ("example.0x", name("example.0x"), None, H::INVALID),
            ("a b", name("a b"), None, H::INVALID),
            ("a%zz", name("a%zz"), None, H::INVALID),
            (
                "169.254.169.254%00.evil",
                name("169.254.169.254\0.evil"),
                None,
                H::INVALID,
            ),
        ];
        for (raw, host, port, must) in table {
            check(raw, host.clone(), *port, *must);
        }
        let a = parse_authority(b"Instance-Data.EC2.Internal.");
        assert!(matches!(a.host, HostName::Name(Cow::Owned(_))));
        let a = parse_authority(b"instance-data.ec2.internal.:80");
        assert!(matches!(
            a.host,
            HostName::Name(Cow::Borrowed(b"instance-data.ec2.internal"))
        ));
        let a = parse_authority(b"user:pass@h");
        assert_eq!(a.userinfo, Some(&b"user:pass"[..]));
        assert_eq!(a.raw, b"user:pass@h");
    }

    #[test]
    fn inet_aton_table() {
        use HostFlags as H;
        let table: &[(&str, Option<(&str, HostFlags)>)] = &[
            ("1", Some(("0.0.0.1", H::IPV4_NON_DOTTED))),
            ("0", Some(("0.0.0.0", H::IPV4_NON_DOTTED))),
            (
                "0x",
                Some(("0.0.0.0", H::IPV4_HEX.union(H::IPV4_NON_DOTTED))),
            ),
            ("0x.0x.0x.0x", Some(("0.0.0.0", H::IPV4_HEX))),
            ("4294967295", Some(("255.255.255.255", H::IPV4_NON_DOTTED))),
            (
                "037777777777",
                Some(("255.255.255.255", H::IPV4_OCTAL.union(H::IPV4_NON_DOTTED))),
            ),
            (
                "0xffffffff",
                Some(("255.255.255.255", H::IPV4_HEX.union(H::IPV4_NON_DOTTED))),
            ),
            ("1.16777215", Some(("1.255.255.255", H::IPV4_NON_DOTTED))),
            ("1.2.65535", Some(("1.2.255.255", H::IPV4_NON_DOTTED))),
            (
                "0x000000000000000000a9fea9fe",
                Some(("169.254.169.254", H::IPV4_HEX.union(H::IPV4_NON_DOTTED))),
            ),
            ("4294967296", None),
            ("99999999999999999999999", None),
            ("0x1a9fea9fe", None),
            ("1.16777216", None),
            ("1.2.65536", None),
            ("256.1.1.1", None),
            ("1.2.3.256", None),
            ("1.2.3.4.5", None),
            ("08", None),
            ("09.1.1.1", None),
            ("", None),
            ("1..1", None),
            ("1.2.3.4.", None),
            (".1.2.3", None),
            ("0x1g", None),
            ("+1", None),
            (" 1", None),
            ("1.2.3.4 x", None),
            ("1e3", None),
        ];
        for (input, want) in table {
            let got = parse_ipv4_inet_aton(input.as_bytes());
            let want = want.map(|(a, f)| (a.parse::<Ipv4Addr>().unwrap(), f));
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn embedded_forms() {
        let none = [
            "::",
            "::1",
            "fd00:ec2::254",
            "64:ff9b:1::a9fe:a9fe",
            "2001:db8::1",
        ];
        for s in none {
            assert_eq!(embedded_ipv4(&s.parse().unwrap()), None, "{s}");
        }
    }

    fn inet_aton_spelling(addr: u32, parts: usize, radixes: [u8; 4], upper: bool) -> String {
        let [a, b, c, d] = addr.to_be_bytes().map(u32::from);
        let values: Vec<u32> = match parts {
            1 => vec![addr],
            2 => vec![a, addr & 0xFF_FFFF],
            3 => vec![a, b, addr & 0xFFFF],
            _ => vec![a, b, c, d],
        };
        let spelled: Vec<String> = values
            .iter()
            .zip(radixes)
            .map(|(v, r)| match (r % 3, upper) {
                (0, _) => format!("{v}"),
                (1, _) => format!("0{v:o}"),
                (_, false) => format!("0x{v:x}"),
                (_, true) => format!("0X{v:X}"),
            })
            .collect();
        spelled.join(".")
    }

    proptest! {
        #[test]
        fn never_panics_and_never_grows(raw in proptest::collection::vec(any::<u8>(), 0..128)) {
            let a = parse_authority(&raw);
            if let HostName::Name(n) = &a.host {
                prop_assert!(n.len() <= raw.len());
            }
            if let Some(u) = a.userinfo {
                prop_assert!(u.len() < raw.len());
            }
            let _ = parse_ipv4_inet_aton(&raw);
        }

        #[test]
        fn hostish_never_panics(parts in proptest::collection::vec(proptest::sample::select(vec![
            "[", "]", ":", "@", "%", "%25", "%3", ".", "0x", "0", "1", "9", "f", "ff", "ffff",
            "１", "．", "。", "①", "⒐", " ", "\u{0}", "\u{ff}",
        ]), 0..24)) {
            let raw = parts.concat();
            let a = parse_authority(raw.as_bytes());
            if let HostName::Name(n) = &a.host {
                prop_assert!(n.len() <= raw.len());
            }
        }

        #[test]
        fn inet_aton_model(addr in any::<u32>(), parts in 1usize..=4,
                           radixes in any::<[u8; 4]>(), upper in any::<bool>()) {
            let s = inet_aton_spelling(addr, parts, radixes, upper);
            let got = parse_ipv4_inet_aton(s.as_bytes()).map(|(a, _)| a);
            prop_assert_eq!(got, Some(Ipv4Addr::from(addr)), "{}", s);
            let a = parse_authority(s.as_bytes());
            prop_assert_eq!(a.host, HostName::Ip(IpAddr::V4(Ipv4Addr::from(addr))));
        }

        #[test]
        fn dotted_part_overflow_rejected(octets in any::<[u8; 3]>(), big in 256u32..100_000) {
            let [a, b, c] = octets;
            let s = format!("{a}.{b}.{c}.{big}");
            prop_assert_eq!(parse_ipv4_inet_aton(s.as_bytes()), None);
        }

        #[test]
        fn ipv6_roundtrip(segs in any::<[u16; 8]>(), port in proptest::option::of(any::<u16>())) {
            let a = Ipv6Addr::from(segs);
            let raw = match port {
                Some(p) => format!("[{a}]:{p}"),
                None => format!("[{a}]"),
            };
            let parsed = parse_authority(raw.as_bytes());
            prop_assert_eq!(parsed.host, HostName::Ip(IpAddr::V6(a)));
            prop_assert_eq!(parsed.port, port);
            prop_assert!(!parsed.flags.intersects(HostFlags::INVALID | HostFlags::INVALID_PORT));
        }

        #[test]
        fn names_are_idempotent(raw in "[a-zA-Z0-9.-]{0,40}") {
            let a = parse_authority(raw.as_bytes());
            if let (HostName::Name(n), false) = (&a.host, a.flags.contains(HostFlags::INVALID)) {
                let again = parse_authority(n);
                prop_assert_eq!(&again.host, &a.host);
            }
        }
    }
}
