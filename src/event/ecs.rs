//! Elastic Common Schema (ECS 8.x) rendering of an [`Alert`], for SIEMs that index by ECS names.
//!
//! Standard fields carry what ECS has a name for (`source.ip`, `url.original`,
//! `http.request.method`, `rule.id`, ...); what it has no name for goes under one custom
//! top-level object, `imdsguard`, as ECS advises for custom fields. The categorisation follows
//! the way Elastic's own Suricata integration maps EVE alerts, so the same detection rules and
//! dashboards see both. `docs/output.md` is the contract.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::io;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::eve::{
    has_ports, put_bytes, rfc3339_timestamp, split_host_port, write_json_line, CATEGORY,
};
use super::{Alert, HttpInfo};
use crate::flow::transaction::display_bytes;
use crate::imds::Signature;
use crate::key::{FlowKey, Transport};
use crate::normalize::{split_target, RequestTarget};
use crate::policy::Decision;

/// The ECS version the output conforms to (`ecs.version`, which ECS requires in every event).
pub const ECS_VERSION: &str = "8.17.0";

/// The alert as one ECS document.
///
/// Absent information is left out, never written as `null`. A suppressed alert keeps every
/// field but is `event.kind: "event"` instead of `"alert"`, so that SIEM rules and alert views
/// keyed on `event.kind` honour the suppression; `imdsguard.decision` says why.
#[must_use]
pub fn to_ecs(alert: &Alert) -> Value {
    let key = &alert.key;
    let sig = &alert.signature;
    let mut doc = Map::new();
    doc.insert(
        "@timestamp".into(),
        rfc3339_timestamp(alert.timestamp_us).into(),
    );
    doc.insert("ecs".into(), object([("version", ECS_VERSION.into())]));
    doc.insert("message".into(), sig.name.into());
    doc.insert("event".into(), event(alert));
    doc.insert("rule".into(), rule(sig));
    doc.insert(
        "observer".into(),
        object([
            ("vendor", "imdsguard".into()),
            ("product", "imdsguard".into()),
            ("type", "ids".into()),
            ("version", env!("CARGO_PKG_VERSION").into()),
        ]),
    );
    doc.insert(
        "source".into(),
        endpoint(key.src_ip, key.src_port, key.transport),
    );
    let mut destination = endpoint_map(key.dst_ip, key.dst_port, key.transport);
    // The responder is the server end of the flow, so its MAC is the destination's.
    if let Some(mac) = alert.responder.mac {
        destination.insert("mac".into(), mac_hyphens(mac).into());
    }
    doc.insert("destination".into(), Value::Object(destination));
    doc.insert("network".into(), network(key, alert.http.is_some()));
    let mut related: Vec<Value> = vec![key.src_ip.to_string().into()];
    if key.dst_ip != key.src_ip {
        related.push(key.dst_ip.to_string().into());
    }
    doc.insert("related".into(), object([("ip", related.into())]));
    if let Some(http) = &alert.http {
        insert_nonempty(&mut doc, "url", url(http));
        insert_nonempty(&mut doc, "http", http_fields(http));
        let mut ua = Map::new();
        put_bytes(&mut ua, "original", &http.user_agent);
        insert_nonempty(&mut doc, "user_agent", ua);
    }
    doc.insert("imdsguard".into(), custom(alert));
    Value::Object(doc)
}

/// Writes [`to_ecs`] as one compact JSON line ending in `\n`, in a single `write_all`.
///
/// # Errors
/// Whatever `out` returns.
pub fn write_ecs_line(alert: &Alert, out: &mut impl io::Write) -> io::Result<()> {
    write_json_line(&to_ecs(alert), out)
}

fn event(alert: &Alert) -> Value {
    let kind = match alert.decision {
        Decision::Alert => "alert",
        Decision::Suppressed { .. } => "event",
    };
    object([
        ("kind", kind.into()),
        ("category", vec!["network", "intrusion_detection"].into()),
        // imdsguard only observes, so the traffic was let through: Elastic's Suricata mapping
        // writes `allowed` for EVE's `action: allowed`, and it is valid for both categories.
        ("type", vec!["allowed"].into()),
        ("action", action(alert.signature.name).into()),
        // Suricata's scale (1 high .. 3 low), as Elastic's Suricata mapping keeps it.
        ("severity", alert.signature.severity.into()),
        ("module", "imdsguard".into()),
        ("dataset", "imdsguard.alert".into()),
    ])
}

fn rule(sig: &Signature) -> Value {
    object([
        ("id", sig.id.to_string().into()),
        ("name", sig.name.into()),
        ("category", CATEGORY.into()),
        ("ruleset", "imdsguard".into()),
        ("version", sig.rev.to_string().into()),
    ])
}

/// `event.action`: the signature name as a slug (`IMDSGUARD instance credentials served` →
/// `instance-credentials-served`), a stable keyword to aggregate on.
fn action(name: &str) -> String {
    let name = name.strip_prefix("IMDSGUARD ").unwrap_or(name);
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn endpoint(ip: IpAddr, port: u16, t: Transport) -> Value {
    Value::Object(endpoint_map(ip, port, t))
}

fn endpoint_map(ip: IpAddr, port: u16, t: Transport) -> Map<String, Value> {
    let mut obj = Map::new();
    // ECS `ip` fields accept any textual form; the compressed one (RFC 5952) is what people type.
    obj.insert("ip".into(), ip.to_string().into());
    if has_ports(t) {
        obj.insert("port".into(), port.into());
    }
    obj
}

fn network(key: &FlowKey, http: bool) -> Value {
    let mut obj = Map::new();
    let v6 = key.dst_ip.is_ipv6();
    obj.insert("type".into(), if v6 { "ipv6" } else { "ipv4" }.into());
    // `network.transport` is the lower-case IANA keyword; only the ones known here are named,
    // the number is always given.
    let (transport, number) = match key.transport {
        Transport::Tcp => (Some("tcp"), 6),
        Transport::Udp => (Some("udp"), 17),
        Transport::Icmp if v6 => (Some("ipv6-icmp"), 58),
        Transport::Icmp => (Some("icmp"), 1),
        Transport::Other(132) => (Some("sctp"), 132),
        Transport::Other(n) => (None, n),
    };
    if let Some(t) = transport {
        obj.insert("transport".into(), t.into());
    }
    obj.insert("iana_number".into(), number.to_string().into());
    if http {
        obj.insert("protocol".into(), "http".into());
    }
    // ECS keeps one tag in network.vlan (the outer one under QinQ) and the inner in
    // network.inner.vlan; VLAN ids are keywords, hence strings.
    let mut ids = key.vlans.ids();
    if let Some(outer) = ids.next() {
        obj.insert("vlan".into(), object([("id", outer.to_string().into())]));
        if let Some(inner) = ids.next() {
            obj.insert(
                "inner".into(),
                object([("vlan", object([("id", inner.to_string().into())]))]),
            );
        }
    }
    Value::Object(obj)
}

fn url(http: &HttpInfo) -> Map<String, Value> {
    let mut obj = Map::new();
    put_bytes(&mut obj, "original", &http.url);
    let (scheme, path, query) = match split_target(&http.url) {
        RequestTarget::Origin { path, query, .. } => (None, Some(path), query),
        RequestTarget::Absolute {
            scheme,
            path,
            query,
            ..
        } => (Some(scheme), Some(path), query),
        RequestTarget::Authority(_) | RequestTarget::Asterisk | RequestTarget::Other(_) => {
            (None, None, None)
        }
    };
    if let Some(scheme) = scheme {
        put_bytes(&mut obj, "scheme", scheme);
    }
    // The host as sent, without its port; an IPv6 literal keeps its brackets, as ECS asks.
    let (domain, port) = split_host_port(&http.hostname);
    put_bytes(&mut obj, "domain", domain);
    if let Some(port) = port {
        obj.insert("port".into(), port.into());
    }
    // The path the matcher judged: the normalised one when normalisation changed it, so that
    // a search for `/latest/meta-data/...` finds the evasive spellings too (`url.original`
    // keeps what was sent).
    match (&http.normalized_path, path) {
        (Some(normalized), _) => put_bytes(&mut obj, "path", normalized),
        (None, Some(path)) => put_bytes(&mut obj, "path", path),
        (None, None) => {}
    }
    if let Some(query) = query {
        put_bytes(&mut obj, "query", query);
    }
    obj
}

fn http_fields(http: &HttpInfo) -> Map<String, Value> {
    let mut obj = Map::new();
    let mut request = Map::new();
    put_bytes(&mut request, "method", &http.method);
    insert_nonempty(&mut obj, "request", request);
    if let Some(status) = http.status {
        obj.insert("response".into(), object([("status_code", status.into())]));
    }
    // ECS wants the bare version (`1.1`); a protocol token that is not `HTTP/x` has none.
    if let Some(version) = http.protocol.strip_prefix(b"HTTP/") {
        put_bytes(&mut obj, "version", version);
    }
    obj
}

fn custom(alert: &Alert) -> Value {
    let mut obj = super::eve::detection_fields(alert, mac_hyphens);
    // The raw protocol token, only when it is not `HTTP/x` and so has no `http.version`.
    if let Some(http) = &alert.http {
        if !http.protocol.is_empty() && !http.protocol.starts_with(b"HTTP/") {
            obj.insert("http_protocol".into(), display_bytes(&http.protocol).into());
        }
    }
    // The EVE `flow_id` and `imds.tx_id`, to join an ECS document with its EVE line.
    obj.insert("flow_id".into(), alert.key.flow_id().into());
    if let Some(tx) = alert.tx {
        obj.insert("tx_id".into(), tx.into());
    }
    Value::Object(obj)
}

/// `AA-BB-CC-DD-EE-FF`: the RFC 7042 notation ECS prescribes for `*.mac` fields.
fn mac_hyphens(mac: [u8; 6]) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02X}")).collect();
    parts.join("-")
}

fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn insert_nonempty(doc: &mut Map<String, Value>, name: &str, obj: Map<String, Value>) {
    if !obj.is_empty() {
        doc.insert(name.into(), Value::Object(obj));
    }
}

#[cfg(test)]
mod tests {
    use super::super::eve::tests::{address_only, binary_url, full_v4, suppressed_v6};
    use super::*;
    use crate::key::Vlans;
    use serde_json::json;

    const VERSION: &str = env!("CARGO_PKG_VERSION");

    #[test]
    fn ecs_full_ipv4_alert() {
        let a = full_v4();
        let want = json!({
            "@timestamp": "2026-12-30T02:40:21.123456Z",
            "ecs": {"version": "8.17.0"},
            "message": "IMDSGUARD instance credentials served",
            "event": {
                "kind": "alert",
                "category": ["network", "intrusion_detection"],
                "type": ["allowed"],
                "action": "instance-credentials-served",
                "severity": 1,
                "module": "imdsguard",
                "dataset": "imdsguard.alert"
            },
            "rule": {
                "id": "4210005",
                "name": "IMDSGUARD instance credentials served",
                "category": "Attempted Information Leak",
                "ruleset": "imdsguard",
                "version": "1"
            },
            "observer": {"vendor": "imdsguard", "product": "imdsguard", "type": "ids",
                         "version": VERSION},
            "source": {"ip": "10.0.0.5", "port": 40000},
            "destination": {"ip": "169.254.169.254", "port": 80, "mac": "02-42-AC-11-00-02"},
            "network": {
                "type": "ipv4",
                "transport": "tcp",
                "iana_number": "6",
                "protocol": "http",
                "vlan": {"id": "100"},
                "inner": {"vlan": {"id": "200"}}
            },
            "related": {"ip": ["10.0.0.5", "169.254.169.254"]},
            "url": {
                "original": "/latest/meta-data/iam/security-credentials/%72ole",
                "domain": "169.254.169.254",
                "port": 80,
                "path": "/latest/meta-data/iam/security-credentials/role"
            },
            "http": {
                "request": {"method": "GET"},
                "response": {"status_code": 200},
                "version": "1.1"
            },
            "user_agent": {"original": "aws-cli/2.15.0"},
            "imdsguard": {
                "indicators": ["dst_imds", "host_imds", "path_metadata", "resp_credentials",
                               "path_credentials", "evasion"],
                "stage": "credentials",
                "provider": "aws",
                "decision": "alert",
                "responder": {"ttl": 1, "mac": "02-42-AC-11-00-02"},
                "evidence": ["path %72ole decodes to role"],
                "http_anomalies": ["bare_lf", "obs_fold"],
                "flow_id": a.key.flow_id(),
                "tx_id": 3
            }
        });
        assert_eq!(to_ecs(&a), want);
        assert_eq!(
            serde_json::to_string(&to_ecs(&a)).expect("json"),
            serde_json::to_string(&want).expect("json")
        );
    }

    #[test]
    fn ecs_suppressed_ipv6_alert() {
        let a = suppressed_v6();
        let want = json!({
            "@timestamp": "2000-02-29T00:00:00.000001Z",
            "ecs": {"version": "8.17.0"},
            "message": "IMDSGUARD IMDSv2 token requested",
            "event": {
                "kind": "event",
                "category": ["network", "intrusion_detection"],
                "type": ["allowed"],
                "action": "imdsv2-token-requested",
                "severity": 2,
                "module": "imdsguard",
                "dataset": "imdsguard.alert"
            },
            "rule": {
                "id": "4210003",
                "name": "IMDSGUARD IMDSv2 token requested",
                "category": "Attempted Information Leak",
                "ruleset": "imdsguard",
                "version": "1"
            },
            "observer": {"vendor": "imdsguard", "product": "imdsguard", "type": "ids",
                         "version": VERSION},
            "source": {"ip": "2001:db8::5", "port": 51000},
            "destination": {"ip": "fd00:ec2::254", "port": 80},
            "network": {"type": "ipv6", "transport": "tcp", "iana_number": "6",
                        "protocol": "http"},
            "related": {"ip": ["2001:db8::5", "fd00:ec2::254"]},
            "url": {
                "original": "/latest/api/token",
                "domain": "[fd00:ec2::254]",
                "port": 80,
                "path": "/latest/api/token"
            },
            "http": {"request": {"method": "PUT"}, "version": "1.1"},
            "imdsguard": {
                "indicators": ["dst_imds", "host_imds", "path_token", "hdr_token_ttl"],
                "stage": "token",
                "provider": "aws",
                "decision": "suppressed",
                "suppressed_by": "policy.txt:3: suppress src 2001:db8::/32",
                "evidence": [],
                "flow_id": a.key.flow_id(),
                "tx_id": 0
            }
        });
        assert_eq!(to_ecs(&a), want);
    }

    #[test]
    fn ecs_address_only_alert() {
        let a = address_only();
        let v = to_ecs(&a);
        for absent in ["url", "http", "user_agent"] {
            assert!(v.get(absent).is_none(), "{absent}");
        }
        assert_eq!(
            v["network"],
            json!({"type": "ipv4", "transport": "tcp", "iana_number": "6"})
        );
        assert_eq!(
            v["destination"],
            json!({"ip": "169.254.169.254", "port": 443})
        );
        assert_eq!(
            v["imdsguard"],
            json!({
                "indicators": ["dst_imds"],
                "stage": "probe",
                "provider": "aws",
                "decision": "alert",
                "responder": {"ttl": 64},
                "evidence": [],
                "flow_id": a.key.flow_id()
            })
        );
        assert_eq!(v["@timestamp"], "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn ecs_non_utf8_url_and_query() {
        let v = to_ecs(&binary_url());
        assert_eq!(
            v["url"],
            json!({
                "original": "/latest/meta-data/\\xff\\xfe?x=\u{e9}",
                "domain": "169.254.169.254",
                "path": "/latest/meta-data/\\xff\\xfe",
                "query": "x=\u{e9}"
            })
        );
        assert_eq!(v["user_agent"]["original"], "evil\nUA\u{202e}");
        assert_eq!(v["http"]["version"], "1.0");
        assert_eq!(v["http"]["response"]["status_code"], 404);
    }

    #[test]
    fn ecs_absolute_target_icmp_and_odd_protocol() {
        let mut a = binary_url();
        if let Some(h) = a.http.as_mut() {
            h.url = b"http://169.254.169.254/latest/user-data?a=b".to_vec();
            h.hostname = Vec::new();
            h.protocol = b"HTTP1.1".to_vec();
            h.method = Vec::new();
            h.status = None;
        }
        a.key.transport = Transport::Icmp;
        a.key.src_ip = "fe80::1".parse().expect("ip");
        a.key.dst_ip = "fd00:ec2::254".parse().expect("ip");
        a.key.vlans = Vlans {
            outer: Some(4094),
            inner: None,
        };
        let v = to_ecs(&a);
        assert_eq!(
            v["url"],
            json!({
                "original": "http://169.254.169.254/latest/user-data?a=b",
                "scheme": "http",
                "path": "/latest/user-data",
                "query": "a=b"
            })
        );
        assert!(v.get("http").is_none());
        assert_eq!(v["imdsguard"]["http_protocol"], "HTTP1.1");
        assert_eq!(
            v["network"],
            json!({"type": "ipv6", "transport": "ipv6-icmp", "iana_number": "58",
                   "protocol": "http", "vlan": {"id": "4094"}})
        );
        assert_eq!(v["source"], json!({"ip": "fe80::1"}));
        a.key.transport = Transport::Other(47);
        let v = to_ecs(&a);
        assert_eq!(v["network"]["iana_number"], "47");
        assert!(v["network"].get("transport").is_none());
        assert!(v["destination"].get("port").is_none());
    }

    #[test]
    fn ecs_lines_are_single_and_newline_terminated() {
        for a in [full_v4(), suppressed_v6(), address_only(), binary_url()] {
            let mut out = Vec::new();
            write_ecs_line(&a, &mut out).expect("write");
            let text = String::from_utf8(out).expect("utf-8");
            assert_eq!(text.matches('\n').count(), 1, "{text}");
            assert!(text.ends_with('\n'));
            let back: Value = serde_json::from_str(&text).expect("json");
            assert_eq!(back, to_ecs(&a));
        }
    }

    /// The ECS example line in docs/output.md is the renderer's real output (the observer
    /// version aside, which the document pins).
    #[test]
    fn documented_example_is_current() {
        let doc = include_str!("../../docs/output.md");
        let mut out = Vec::new();
        write_ecs_line(&suppressed_v6(), &mut out).expect("write");
        let line = String::from_utf8(out).expect("utf-8").replace(
            &format!("\"version\":\"{VERSION}\"}}"),
            "\"version\":\"0.1.0\"}",
        );
        assert!(doc.contains(&line), "docs/output.md lacks {line}");
    }

    #[test]
    fn action_slugs() {
        assert_eq!(
            action("IMDSGUARD cloud metadata request (non-AWS provider)"),
            "cloud-metadata-request-non-aws-provider"
        );
        assert_eq!(
            action("IMDSGUARD IMDS-like responder (Server: EC2ws)"),
            "imds-like-responder-server-ec2ws"
        );
        assert_eq!(action("--x--"), "x");
        for sig in crate::imds::sid::ALL {
            let slug = action(sig.name);
            assert!(!slug.is_empty() && !slug.starts_with('-'), "{slug}");
        }
    }
}
