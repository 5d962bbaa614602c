//! Suricata EVE-JSON rendering of an [`Alert`], and the one-line text rendering for humans.
//!
//! The EVE shape follows what Suricata itself writes for an `alert` event with HTTP metadata
//! (`src/output-json.c`, `src/output-json-alert.c`, `src/output-json-http.c`), so that the
//! pipelines, index mappings and dashboards built for Suricata take these lines unchanged.
//! Everything imdsguard adds lives in one extra `imds` object. `docs/output.md` is the contract.
//!
//! Also home of the helpers the ECS renderer shares: time formatting, host/port splitting,
//! byte-to-text conversion.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::borrow::Cow;
use std::io;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::{Alert, HttpInfo, Responder};
use crate::flow::transaction::display_bytes;
use crate::imds::{Signature, GID};
use crate::key::Transport;
use crate::policy::Decision;

/// Suricata classification text written in `alert.category` (and ECS `rule.category`) for every
/// imdsguard signature.
///
/// It is the text of Suricata's `attempted-recon` classtype: a request to an instance-metadata
/// service is an attempt to read information about a host and its credentials, the classtype
/// Suricata rule sets already use for metadata-service (SSRF) access. One fixed category keeps
/// SIEM filters simple; the signature id says which stage was reached.
pub const CATEGORY: &str = "Attempted Information Leak";

/// The alert as one EVE-JSON `alert` event.
///
/// Fields absent from the model (no HTTP, no VLAN tag, unknown responder, ...) are left out
/// rather than written as `null` or `""`, as Suricata does.
#[must_use]
pub fn to_eve(alert: &Alert) -> Value {
    let key = &alert.key;
    let mut obj = Map::new();
    obj.insert("timestamp".into(), eve_timestamp(alert.timestamp_us).into());
    obj.insert("flow_id".into(), key.flow_id().into());
    obj.insert("event_type".into(), "alert".into());
    // Suricata writes the tags right after event_type and only on tagged packets.
    if !key.vlans.is_empty() {
        obj.insert(
            "vlan".into(),
            key.vlans.ids().map(Value::from).collect::<Vec<_>>().into(),
        );
    }
    obj.insert("src_ip".into(), eve_ip(key.src_ip).into());
    if has_ports(key.transport) {
        obj.insert("src_port".into(), key.src_port.into());
    }
    obj.insert("dest_ip".into(), eve_ip(key.dst_ip).into());
    if has_ports(key.transport) {
        obj.insert("dest_port".into(), key.dst_port.into());
    }
    obj.insert("proto".into(), key.transport.eve_name().into());
    obj.insert("alert".into(), eve_alert(&alert.signature));
    if let Some(http) = &alert.http {
        obj.insert("app_proto".into(), "http".into());
        obj.insert("http".into(), Value::Object(eve_http(http)));
    }
    obj.insert("imds".into(), Value::Object(eve_imds(alert)));
    Value::Object(obj)
}

/// Writes [`to_eve`] as one compact JSON line ending in `\n`.
///
/// Strings are escaped so that the line holds no other line break for any reader: JSON's own
/// escapes for C0 controls, plus `\uXXXX` for C1 controls, U+2028/U+2029 and bidirectional
/// controls (the decoded strings are the same as [`to_eve`]'s). The line goes out in a single `write_all`, so that writers sharing a file opened for append
/// do not interleave halves of lines.
///
/// # Errors
/// Whatever `out` returns.
pub fn write_eve_line(alert: &Alert, out: &mut impl io::Write) -> io::Result<()> {
    write_json_line(&to_eve(alert), out)
}

/// The alert as one line of text for people, in the spirit of Suricata's `fast.log`:
///
/// `2026-12-30T02:40:21.123456Z [1:4210005:1] IMDSGUARD instance credentials served
/// [credentials, aws] {TCP} 10.0.0.5:40000 -> 169.254.169.254:80 vlan=100/200
/// PUT 169.254.169.254/latest/api/token status=200 indicators=dst_imds,host_imds
/// (suppressed by policy.txt:3: ...)` (on one line).
///
/// Text taken from the traffic has its control characters, line separators and bidirectional
/// overrides escaped (`\x0a`, `\u{202e}`), so that a request cannot forge a second line or
/// reorder what a terminal shows.
#[must_use]
pub fn to_text(alert: &Alert) -> String {
    let key = &alert.key;
    let sig = &alert.signature;
    let mut parts: Vec<String> = vec![
        rfc3339_timestamp(alert.timestamp_us),
        format!("[{GID}:{}:{}]", sig.id, sig.rev),
        text_safe(sig.name).into_owned(),
        format!("[{}, {}]", alert.stage.as_str(), alert.provider.as_str()),
        format!("{{{}}}", key.transport.eve_name()),
        format!(
            "{} -> {}",
            text_endpoint(key.src_ip, key.src_port, key.transport),
            text_endpoint(key.dst_ip, key.dst_port, key.transport)
        ),
    ];
    if !key.vlans.is_empty() {
        let ids: Vec<String> = key.vlans.ids().map(|v| v.to_string()).collect();
        parts.push(format!("vlan={}", ids.join("/")));
    }
    if let Some(http) = &alert.http {
        if !http.method.is_empty() {
            parts.push(text_bytes(&http.method));
        }
        // Host and origin-form target read as one address; an absolute-form or authority
        // target already names its host, so it stands alone.
        let target = if http.url.first() == Some(&b'/') || http.url.is_empty() {
            [http.hostname.as_slice(), http.url.as_slice()].concat()
        } else {
            http.url.clone()
        };
        if !target.is_empty() {
            parts.push(text_bytes(&target));
        }
        if let Some(status) = http.status {
            parts.push(format!("status={status}"));
        }
    }
    let indicators: Vec<String> = alert.indicators.names().collect();
    parts.push(if indicators.is_empty() {
        "indicators=-".to_owned()
    } else {
        format!("indicators={}", indicators.join(","))
    });
    let anomalies: Vec<String> = alert.anomalies.names().collect();
    if !anomalies.is_empty() {
        parts.push(format!("anomalies={}", anomalies.join(",")));
    }
    if let Decision::Suppressed { rule } = &alert.decision {
        parts.push(format!("(suppressed by {})", text_safe(rule)));
    }
    parts.join(" ")
}

/// Writes [`to_text`] followed by `\n`, in a single `write_all`.
///
/// # Errors
/// Whatever `out` returns.
pub fn write_text_line(alert: &Alert, out: &mut impl io::Write) -> io::Result<()> {
    let mut line = to_text(alert);
    line.push('\n');
    out.write_all(line.as_bytes())
}

/// Serialises `value` compactly, appends `\n`, and writes it in one call.
///
/// On top of serde_json's escaping, string contents that some readers take as a line break
/// (U+0085, U+2028, U+2029: Python's `str.splitlines`, pre-2019 JavaScript) or that reorder a
/// terminal's display (bidirectional controls), and the other C1 controls, are written as
/// `\uXXXX`. Decoded strings are unchanged. This can be done on the serialised text because
/// outside strings JSON is pure ASCII, and inside one a raw character never follows an
/// unfinished escape.
pub(super) fn write_json_line(value: &Value, out: &mut impl io::Write) -> io::Result<()> {
    let json = serde_json::to_string(value)?;
    let mut line = String::with_capacity(json.len() + 1);
    for c in json.chars() {
        if !c.is_ascii() && unsafe_char(c) {
            // Every such character is in the Basic Multilingual Plane: one escape suffices.
            line.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            line.push(c);
        }
    }
    line.push('\n');
    out.write_all(line.as_bytes())
}

fn eve_alert(sig: &Signature) -> Value {
    let mut obj = Map::new();
    // imdsguard only observes: nothing is ever dropped, so the action is Suricata's IDS one.
    obj.insert("action".into(), "allowed".into());
    obj.insert("gid".into(), GID.into());
    obj.insert("signature_id".into(), sig.id.into());
    obj.insert("rev".into(), sig.rev.into());
    obj.insert("signature".into(), sig.name.into());
    obj.insert("category".into(), CATEGORY.into());
    obj.insert("severity".into(), sig.severity.into());
    Value::Object(obj)
}

/// The `http` object, in Suricata's key order (`EveHttpLogJSONBasic`, then `...Extended`).
fn eve_http(http: &HttpInfo) -> Map<String, Value> {
    let mut obj = Map::new();
    // libhtp reports the host without its port and the port apart, as `http_port`.
    let (host, port) = split_host_port(&http.hostname);
    put_bytes(&mut obj, "hostname", host);
    if let Some(port) = port {
        obj.insert("http_port".into(), port.into());
    }
    put_bytes(&mut obj, "url", &http.url);
    put_bytes(&mut obj, "http_user_agent", &http.user_agent);
    put_bytes(&mut obj, "http_method", &http.method);
    put_bytes(&mut obj, "protocol", &http.protocol);
    if let Some(status) = http.status {
        obj.insert("status".into(), status.into());
    }
    obj
}

/// The fields EVE's `imds` object and ECS's `imdsguard` object share; `mac` formats the
/// responder's MAC address the way each schema writes MACs.
pub(super) fn detection_fields(alert: &Alert, mac: fn([u8; 6]) -> String) -> Map<String, Value> {
    let mut obj = Map::new();
    obj.insert("indicators".into(), names(alert.indicators.names()));
    obj.insert("stage".into(), alert.stage.as_str().into());
    obj.insert("provider".into(), alert.provider.as_str().into());
    insert_decision(&mut obj, &alert.decision);
    if let Some(responder) = responder_json(&alert.responder, mac) {
        obj.insert("responder".into(), responder);
    }
    obj.insert(
        "evidence".into(),
        alert
            .evidence
            .iter()
            .map(|e| Value::from(e.as_str()))
            .collect(),
    );
    let anomalies: Vec<String> = alert.anomalies.names().collect();
    if !anomalies.is_empty() {
        obj.insert("http_anomalies".into(), anomalies.into());
    }
    obj
}

fn eve_imds(alert: &Alert) -> Map<String, Value> {
    let mut obj = detection_fields(alert, mac_colons);
    // Not in Suricata's http object (whose fields pipelines map strictly), so it lives here.
    if let Some(path) = alert.http.as_ref().and_then(|h| h.normalized_path.as_ref()) {
        obj.insert("normalized_path".into(), display_bytes(path).into());
    }
    // Kept out of the top level, where Suricata writes its own transaction numbers: these
    // count imdsguard's transactions and would mislead a join with Suricata's events.
    if let Some(tx) = alert.tx {
        obj.insert("tx_id".into(), tx.into());
    }
    obj
}

/// `decision`, and `suppressed_by` when suppressed: shared by EVE and ECS.
pub(super) fn insert_decision(obj: &mut Map<String, Value>, decision: &Decision) {
    match decision {
        Decision::Alert => {
            obj.insert("decision".into(), "alert".into());
        }
        Decision::Suppressed { rule } => {
            obj.insert("decision".into(), "suppressed".into());
            obj.insert("suppressed_by".into(), rule.as_str().into());
        }
    }
}

/// `{ttl, mac}` with only the known fields, or `None` when nothing is known.
pub(super) fn responder_json(r: &Responder, mac: fn([u8; 6]) -> String) -> Option<Value> {
    let mut obj = Map::new();
    if let Some(ttl) = r.ttl {
        obj.insert("ttl".into(), ttl.into());
    }
    if let Some(m) = r.mac {
        obj.insert("mac".into(), mac(m).into());
    }
    (!obj.is_empty()).then_some(Value::Object(obj))
}

/// `aa:bb:cc:dd:ee:ff`, as Suricata's `ether` object writes MAC addresses.
fn mac_colons(mac: [u8; 6]) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

pub(super) fn names(it: impl Iterator<Item = String>) -> Value {
    it.map(Value::from).collect()
}

/// Inserts `bytes` as text under `name`, unless empty: Suricata leaves out what was not sent.
pub(super) fn put_bytes(obj: &mut Map<String, Value>, name: &str, bytes: &[u8]) {
    if !bytes.is_empty() {
        obj.insert(name.into(), display_bytes(bytes).into());
    }
}

/// An address as Suricata writes it by default: IPv4 dotted, IPv6 as eight groups of four hex
/// digits with no `::` compression (`PrintInetIPv6` when `shorten` is off). Keeping that form
/// lets a pipeline match these addresses as strings against Suricata's own events.
fn eve_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => {
            let groups: Vec<String> = a.segments().iter().map(|s| format!("{s:04x}")).collect();
            groups.join(":")
        }
    }
}

/// Whether the transport has ports: Suricata writes `src_port`/`dest_port` only for TCP, UDP
/// and SCTP; for the rest the key holds 0, which is no port.
pub(super) fn has_ports(t: Transport) -> bool {
    matches!(t, Transport::Tcp | Transport::Udp | Transport::Other(132))
}

fn text_endpoint(ip: IpAddr, port: u16, t: Transport) -> String {
    match (ip, has_ports(t)) {
        (IpAddr::V4(a), true) => format!("{a}:{port}"),
        (IpAddr::V6(a), true) => format!("[{a}]:{port}"),
        (ip, false) => ip.to_string(),
    }
}

/// Splits a Host value (or authority) into the host as sent and a valid port.
///
/// `host:80` gives (`host`, 80); `[v6]:80` gives (`[v6]`, 80), brackets kept as ECS `url.domain`
/// asks; `host:` gives (`host`, none). Anything else, such as an unbracketed IPv6 address or an
/// invalid port (`host:99999`, `host:8o`), is returned whole, so that no byte of what was sent
/// disappears from the output. Surrounding spaces and tabs are dropped.
pub(super) fn split_host_port(raw: &[u8]) -> (&[u8], Option<u16>) {
    let raw = trim_ows(raw);
    let split = if raw.first() == Some(&b'[') {
        raw.iter()
            .position(|&b| b == b']')
            .and_then(|end| raw.split_at_checked(end + 1))
    } else {
        match raw.iter().filter(|&&b| b == b':').count() {
            1 => raw
                .iter()
                .position(|&b| b == b':')
                .and_then(|at| raw.split_at_checked(at)),
            _ => None,
        }
    };
    match split {
        Some((host, [] | [b':'])) => (host, None),
        Some((host, [b':', digits @ ..])) => match parse_port(digits) {
            Some(port) => (host, Some(port)),
            None => (raw, None),
        },
        _ => (raw, None),
    }
}

fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

/// Bytes from the traffic as one safe line of text (see [`to_text`]).
fn text_bytes(b: &[u8]) -> String {
    text_safe(&display_bytes(b)).into_owned()
}

/// Whether `c` could break or disguise a line: a control character (C0, DEL, C1), the Unicode
/// line or paragraph separator, or a bidirectional formatting character.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Escapes every [`unsafe_char`] of `s` (`\x0a`, `\u{202e}`).
fn text_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if c.is_ascii() {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        }
    }
    Cow::Owned(out)
}

/// A UTC instant broken into civil fields.
struct Civil {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
    micros: u64,
}

/// Converts microseconds since the Unix epoch to the proleptic Gregorian calendar, UTC.
///
/// Days to date by Howard Hinnant's `civil_from_days`: shift the epoch to 0000-03-01 so that
/// the leap day ends each 400-year era's years, then count eras, years of era and days of year.
/// Only unsigned values occur, since the input cannot precede 1970.
fn civil(us: u64) -> Civil {
    let secs = us / 1_000_000;
    let days = secs / 86_400;
    let sod = secs % 86_400;
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z / 146_097;
    let doe = z % 146_097; // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: sod / 3_600,
        minute: sod % 3_600 / 60,
        second: sod % 60,
        micros: us % 1_000_000,
    }
}

fn civil_text(us: u64) -> String {
    let c = civil(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros
    )
}

/// Suricata's EVE timestamp (`CreateIsoTimeString`: `%Y-%m-%dT%H:%M:%S.uuuuuu%z`), always in
/// UTC so that lines from sensors in different zones sort and compare as text.
pub(super) fn eve_timestamp(us: u64) -> String {
    civil_text(us) + "+0000"
}

/// RFC 3339 with microseconds and `Z` (ECS `@timestamp`, the text format).
pub(super) fn rfc3339_timestamp(us: u64) -> String {
    civil_text(us) + "Z"
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::http::Anomalies;
    use crate::imds::{sid, Indicators, Provider, Stage};
    use crate::key::{FlowKey, Vlans};
    use serde_json::json;

    /// IPv4, QinQ 100/200, full HTTP, credentials served, responder known, anomalies.
    pub(crate) fn full_v4() -> Alert {
        Alert {
            timestamp_us: 1_798_598_421_123_456,
            key: FlowKey {
                src_ip: "10.0.0.5".parse().expect("ip"),
                src_port: 40000,
                dst_ip: "169.254.169.254".parse().expect("ip"),
                dst_port: 80,
                transport: Transport::Tcp,
                vlans: Vlans {
                    outer: Some(100),
                    inner: Some(200),
                },
            },
            tx: Some(3),
            signature: sid::CREDENTIALS_SERVED,
            indicators: Indicators::DST_IMDS
                | Indicators::HOST_IMDS
                | Indicators::PATH_METADATA
                | Indicators::RESP_CREDENTIALS
                | Indicators::PATH_CREDENTIALS
                | Indicators::EVASION,
            stage: Stage::Credentials,
            provider: Provider::Aws,
            decision: Decision::Alert,
            http: Some(HttpInfo {
                hostname: b"169.254.169.254:80".to_vec(),
                url: b"/latest/meta-data/iam/security-credentials/%72ole".to_vec(),
                method: b"GET".to_vec(),
                user_agent: b"aws-cli/2.15.0".to_vec(),
                protocol: b"HTTP/1.1".to_vec(),
                status: Some(200),
                normalized_path: Some(b"/latest/meta-data/iam/security-credentials/role".to_vec()),
            }),
            responder: Responder {
                ttl: Some(1),
                mac: Some([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]),
            },
            evidence: vec!["path %72ole decodes to role".into()],
            anomalies: Anomalies::BARE_LF | Anomalies::OBS_FOLD,
        }
    }

    /// IPv6, suppressed, token request with a bracketed Host and no User-Agent or response.
    pub(crate) fn suppressed_v6() -> Alert {
        Alert {
            timestamp_us: 951_782_400_000_001,
            key: FlowKey::tcp(
                "2001:db8::5".parse().expect("ip"),
                51000,
                "fd00:ec2::254".parse().expect("ip"),
                80,
            ),
            tx: Some(0),
            signature: sid::TOKEN_REQUEST,
            indicators: Indicators::DST_IMDS
                | Indicators::HOST_IMDS
                | Indicators::PATH_TOKEN
                | Indicators::HDR_TOKEN_TTL,
            stage: Stage::Token,
            provider: Provider::Aws,
            decision: Decision::Suppressed {
                rule: "policy.txt:3: suppress src 2001:db8::/32".into(),
            },
            http: Some(HttpInfo {
                hostname: b"[fd00:ec2::254]:80".to_vec(),
                url: b"/latest/api/token".to_vec(),
                method: b"PUT".to_vec(),
                user_agent: Vec::new(),
                protocol: b"HTTP/1.1".to_vec(),
                status: None,
                normalized_path: None,
            }),
            responder: Responder::default(),
            evidence: Vec::new(),
            anomalies: Anomalies::empty(),
        }
    }

    /// A SYN to the IMDS address, no HTTP.
    pub(crate) fn address_only() -> Alert {
        Alert {
            timestamp_us: 0,
            key: FlowKey::tcp(
                "192.168.1.20".parse().expect("ip"),
                33333,
                "169.254.169.254".parse().expect("ip"),
                443,
            ),
            tx: None,
            signature: sid::ADDRESS_CONTACT,
            indicators: Indicators::DST_IMDS,
            stage: Stage::Probe,
            provider: Provider::Aws,
            decision: Decision::Alert,
            http: None,
            responder: Responder {
                ttl: Some(64),
                mac: None,
            },
            evidence: Vec::new(),
            anomalies: Anomalies::empty(),
        }
    }

    /// Non-UTF-8 bytes in the URL and a control character in the User-Agent.
    pub(crate) fn binary_url() -> Alert {
        Alert {
            timestamp_us: 1_735_689_599_999_999,
            tx: Some(1),
            signature: sid::METADATA_REQUEST,
            indicators: Indicators::DST_IMDS | Indicators::PATH_METADATA,
            stage: Stage::Request,
            http: Some(HttpInfo {
                hostname: b"169.254.169.254".to_vec(),
                url: b"/latest/meta-data/\xff\xfe?x=\xc3\xa9".to_vec(),
                method: b"GET".to_vec(),
                user_agent: b"evil\nUA\xe2\x80\xae".to_vec(),
                protocol: b"HTTP/1.0".to_vec(),
                status: Some(404),
                normalized_path: None,
            }),
            responder: Responder::default(),
            ..address_only()
        }
    }

    #[test]
    fn timestamps_on_known_epochs() {
        let cases: [(u64, &str); 9] = [
            (0, "1970-01-01T00:00:00.000000"),
            (951_782_400_000_000, "2000-02-29T00:00:00.000000"),
            (951_868_799_999_999, "2000-02-29T23:59:59.999999"),
            (951_868_800_000_000, "2000-03-01T00:00:00.000000"),
            (1_798_598_421_123_456, "2026-12-30T02:40:21.123456"),
            (1_798_761_599_000_000, "2026-12-31T23:59:59.000000"),
            (1_735_689_599_999_999, "2024-12-31T23:59:59.999999"),
            // 2100 is not a leap year: February 28th is followed by March 1st.
            (4_107_542_399_000_000, "2100-02-28T23:59:59.000000"),
            (253_402_300_799_000_001, "9999-12-31T23:59:59.000001"),
        ];
        for (us, want) in cases {
            assert_eq!(eve_timestamp(us), format!("{want}+0000"), "{us}");
            assert_eq!(rfc3339_timestamp(us), format!("{want}Z"), "{us}");
        }
        assert_eq!(
            rfc3339_timestamp(4_107_542_400_000_000),
            "2100-03-01T00:00:00.000000Z"
        );
        // The largest input still renders (a five-digit year), without overflow.
        assert!(eve_timestamp(u64::MAX).ends_with(".551615+0000"));
    }

    #[test]
    fn timestamps_agree_with_day_counting() {
        // Walk day by day from 1970 to 2400 and check the calendar advances one day at a time.
        let (mut y, mut m, mut d) = (1970u64, 1u64, 1u64);
        let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for day in 0..(430 * 366) {
            let c = civil(day * 86_400_000_000 + 43_200_000_000);
            assert_eq!((c.year, c.month, c.day, c.hour), (y, m, d, 12), "day {day}");
            let len = match m {
                2 if leap(y) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn eve_full_ipv4_alert() {
        let a = full_v4();
        let want = json!({
            "timestamp": "2026-12-30T02:40:21.123456+0000",
            "flow_id": a.key.flow_id(),
            "event_type": "alert",
            "vlan": [100, 200],
            "src_ip": "10.0.0.5",
            "src_port": 40000,
            "dest_ip": "169.254.169.254",
            "dest_port": 80,
            "proto": "TCP",
            "alert": {
                "action": "allowed",
                "gid": 1,
                "signature_id": 4210005,
                "rev": 1,
                "signature": "IMDSGUARD instance credentials served",
                "category": "Attempted Information Leak",
                "severity": 1
            },
            "app_proto": "http",
            "http": {
                "hostname": "169.254.169.254",
                "http_port": 80,
                "url": "/latest/meta-data/iam/security-credentials/%72ole",
                "http_user_agent": "aws-cli/2.15.0",
                "http_method": "GET",
                "protocol": "HTTP/1.1",
                "status": 200
            },
            "imds": {
                "indicators": ["dst_imds", "host_imds", "path_metadata", "resp_credentials",
                               "path_credentials", "evasion"],
                "stage": "credentials",
                "provider": "aws",
                "decision": "alert",
                "responder": {"ttl": 1, "mac": "02:42:ac:11:00:02"},
                "evidence": ["path %72ole decodes to role"],
                "http_anomalies": ["bare_lf", "obs_fold"],
                "normalized_path": "/latest/meta-data/iam/security-credentials/role",
                "tx_id": 3
            }
        });
        assert_eq!(to_eve(&a), want);
        // Value equality ignores key order; the serialised line shows Suricata's order too.
        assert_eq!(
            serde_json::to_string(&to_eve(&a)).expect("json"),
            serde_json::to_string(&want).expect("json")
        );
    }

    #[test]
    fn eve_suppressed_ipv6_alert() {
        let a = suppressed_v6();
        let want = json!({
            "timestamp": "2000-02-29T00:00:00.000001+0000",
            "flow_id": a.key.flow_id(),
            "event_type": "alert",
            "src_ip": "2001:0db8:0000:0000:0000:0000:0000:0005",
            "src_port": 51000,
            "dest_ip": "fd00:0ec2:0000:0000:0000:0000:0000:0254",
            "dest_port": 80,
            "proto": "TCP",
            "alert": {
                "action": "allowed",
                "gid": 1,
                "signature_id": 4210003,
                "rev": 1,
                "signature": "IMDSGUARD IMDSv2 token requested",
                "category": "Attempted Information Leak",
                "severity": 2
            },
            "app_proto": "http",
            "http": {
                "hostname": "[fd00:ec2::254]",
                "http_port": 80,
                "url": "/latest/api/token",
                "http_method": "PUT",
                "protocol": "HTTP/1.1"
            },
            "imds": {
                "indicators": ["dst_imds", "host_imds", "path_token", "hdr_token_ttl"],
                "stage": "token",
                "provider": "aws",
                "decision": "suppressed",
                "suppressed_by": "policy.txt:3: suppress src 2001:db8::/32",
                "evidence": [],
                "tx_id": 0
            }
        });
        assert_eq!(to_eve(&a), want);
    }

    #[test]
    fn eve_address_only_alert_has_no_http() {
        let a = address_only();
        let want = json!({
            "timestamp": "1970-01-01T00:00:00.000000+0000",
            "flow_id": a.key.flow_id(),
            "event_type": "alert",
            "src_ip": "192.168.1.20",
            "src_port": 33333,
            "dest_ip": "169.254.169.254",
            "dest_port": 443,
            "proto": "TCP",
            "alert": {
                "action": "allowed",
                "gid": 1,
                "signature_id": 4210001,
                "rev": 1,
                "signature": "IMDSGUARD metadata service address contacted",
                "category": "Attempted Information Leak",
                "severity": 3
            },
            "imds": {
                "indicators": ["dst_imds"],
                "stage": "probe",
                "provider": "aws",
                "decision": "alert",
                "responder": {"ttl": 64},
                "evidence": []
            }
        });
        assert_eq!(to_eve(&a), want);
    }

    #[test]
    fn eve_non_utf8_url_is_escaped() {
        let v = to_eve(&binary_url());
        assert_eq!(
            v["http"],
            json!({
                "hostname": "169.254.169.254",
                "url": "/latest/meta-data/\\xff\\xfe?x=\u{e9}",
                "http_user_agent": "evil\nUA\u{202e}",
                "http_method": "GET",
                "protocol": "HTTP/1.0",
                "status": 404
            })
        );
        assert!(v["imds"].get("responder").is_none());
        assert!(v["imds"].get("normalized_path").is_none());
    }

    #[test]
    fn eve_ports_only_for_port_transports() {
        let mut a = address_only();
        a.key.transport = Transport::Icmp;
        a.key.src_port = 0;
        a.key.dst_port = 0;
        a.key.vlans = Vlans {
            outer: Some(7),
            inner: None,
        };
        let v = to_eve(&a);
        assert!(v.get("src_port").is_none() && v.get("dest_port").is_none());
        assert_eq!(v["proto"], "ICMP");
        assert_eq!(v["vlan"], json!([7]));
        a.key.transport = Transport::Udp;
        assert_eq!(to_eve(&a)["dest_port"], 0);
    }

    #[test]
    fn lines_are_single_and_newline_terminated() {
        for a in [full_v4(), suppressed_v6(), address_only(), binary_url()] {
            let mut out = Vec::new();
            write_eve_line(&a, &mut out).expect("write");
            write_text_line(&a, &mut out).expect("write");
            let text = String::from_utf8(out).expect("utf-8");
            let lines: Vec<&str> = text.split_terminator('\n').collect();
            assert_eq!(lines.len(), 2, "{text}");
            assert!(text.ends_with('\n'));
            let back: Value = serde_json::from_str(lines[0]).expect("json");
            assert_eq!(back, to_eve(&a));
            assert!(!lines[0].contains(['\u{85}', '\u{2028}', '\u{2029}', '\u{202e}']));
        }
    }

    #[test]
    fn json_lines_escape_unicode_line_breaks_and_bidi() {
        let mut a = binary_url();
        a.evidence = vec!["a\u{2028}b\u{85}c\u{2029}d\u{202e}e\u{e9}\u{1f600}\"\\".into()];
        let mut out = Vec::new();
        write_eve_line(&a, &mut out).expect("write");
        let line = String::from_utf8(out).expect("utf-8");
        assert!(line.contains(
            "\"evidence\":[\"a\\u2028b\\u0085c\\u2029d\\u202ee\u{e9}\u{1f600}\\\"\\\\\"]"
        ));
        assert!(line.contains(r#""http_user_agent":"evil\nUA\u202e""#));
        let back: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(back, to_eve(&a));
    }

    /// The examples in docs/output.md are the renderers' real output: keep them in step.
    #[test]
    fn documented_examples_are_current() {
        let doc = include_str!("../../docs/output.md");
        for a in [suppressed_v6(), address_only()] {
            let mut out = Vec::new();
            write_eve_line(&a, &mut out).expect("write");
            let line = String::from_utf8(out).expect("utf-8");
            assert!(doc.contains(&line), "docs/output.md lacks {line}");
        }
        for a in [full_v4(), suppressed_v6(), address_only(), binary_url()] {
            let line = to_text(&a) + "\n";
            assert!(doc.contains(&line), "docs/output.md lacks {line}");
        }
    }

    #[test]
    fn text_lines() {
        assert_eq!(
            to_text(&full_v4()),
            "2026-12-30T02:40:21.123456Z [1:4210005:1] IMDSGUARD instance credentials served \
             [credentials, aws] {TCP} 10.0.0.5:40000 -> 169.254.169.254:80 vlan=100/200 GET \
             169.254.169.254:80/latest/meta-data/iam/security-credentials/%72ole status=200 \
             indicators=dst_imds,host_imds,path_metadata,resp_credentials,path_credentials,\
             evasion anomalies=bare_lf,obs_fold"
        );
        assert_eq!(
            to_text(&suppressed_v6()),
            "2000-02-29T00:00:00.000001Z [1:4210003:1] IMDSGUARD IMDSv2 token requested \
             [token, aws] {TCP} [2001:db8::5]:51000 -> [fd00:ec2::254]:80 PUT \
             [fd00:ec2::254]:80/latest/api/token \
             indicators=dst_imds,host_imds,path_token,hdr_token_ttl \
             (suppressed by policy.txt:3: suppress src 2001:db8::/32)"
        );
        assert_eq!(
            to_text(&address_only()),
            "1970-01-01T00:00:00.000000Z [1:4210001:1] IMDSGUARD metadata service address \
             contacted [probe, aws] {TCP} 192.168.1.20:33333 -> 169.254.169.254:443 \
             indicators=dst_imds"
        );
        let t = to_text(&binary_url());
        assert!(t.contains(" 169.254.169.254/latest/meta-data/\\xff\\xfe?x=\u{e9} "));
        assert!(!t.contains('\n') && !t.contains('\u{202e}'));
    }

    #[test]
    fn text_absolute_target_and_icmp() {
        let mut a = binary_url();
        if let Some(h) = a.http.as_mut() {
            h.url = b"http://169.254.169.254/latest/meta-data/".to_vec();
        }
        a.key.transport = Transport::Icmp;
        let t = to_text(&a);
        assert!(
            t.contains("{ICMP} 192.168.1.20 -> 169.254.169.254 GET http://169.254.169.254/"),
            "{t}"
        );
        a.key.vlans.inner = Some(5);
        a.indicators = Indicators::empty();
        a.http = None;
        let t = to_text(&a);
        assert!(t.ends_with("vlan=5 indicators=-"), "{t}");
    }

    #[test]
    fn text_escapes_controls_and_bidi() {
        assert_eq!(text_safe("plain é"), "plain é");
        assert_eq!(text_safe("a\nb\x7f"), "a\\x0ab\\x7f");
        assert_eq!(
            text_safe("\u{202e}x\u{2028}\u{85}"),
            "\\u{202e}x\\u{2028}\\u{0085}"
        );
    }

    #[test]
    fn host_port_split() {
        let cases: [(&[u8], &[u8], Option<u16>); 10] = [
            (b"169.254.169.254", b"169.254.169.254", None),
            (b"169.254.169.254:80", b"169.254.169.254", Some(80)),
            (b" host:8080\t", b"host", Some(8080)),
            (b"host:", b"host", None),
            (b"[fd00:ec2::254]:80", b"[fd00:ec2::254]", Some(80)),
            (b"[fd00:ec2::254]", b"[fd00:ec2::254]", None),
            (b"fd00:ec2::254", b"fd00:ec2::254", None),
            (b"host:99999", b"host:99999", None),
            (b"host:8o", b"host:8o", None),
            (b"[::1]x", b"[::1]x", None),
        ];
        for (raw, host, port) in cases {
            assert_eq!(split_host_port(raw), (host, port), "{raw:?}");
        }
        assert_eq!(split_host_port(b""), (&b""[..], None));
    }
}
