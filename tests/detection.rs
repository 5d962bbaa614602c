//! Detection through the public API: one table row per indicator (a positive and a near
//! miss), an evasion table, smuggling, and the chunk invariance of alerts.

use imdsguard::engine::{Engine, Flow};
use imdsguard::event::Alert;
use imdsguard::flow::Direction;
use imdsguard::imds::{sid, Indicators, Provider, Signature, Stage};
use imdsguard::key::FlowKey;
use imdsguard::policy::Policy;
use std::net::IpAddr;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn key(src: &str, dst: &str, dport: u16) -> FlowKey {
    FlowKey::tcp(
        src.parse::<IpAddr>().expect("src"),
        40_000,
        dst.parse::<IpAddr>().expect("dst"),
        dport,
    )
}

fn imds() -> FlowKey {
    key("10.1.2.3", "169.254.169.254", 80)
}

fn web() -> FlowKey {
    key("10.1.2.3", "10.9.9.9", 80)
}

fn proxy() -> FlowKey {
    key("10.1.2.3", "10.0.0.1", 3128)
}

/// Runs a conversation through a flow, fed in pieces of `piece` bytes (0 = whole).
fn run_chunked(
    engine: &Engine,
    k: FlowKey,
    steps: &[(Direction, &[u8])],
    piece: usize,
) -> Vec<Alert> {
    let mut flow = Flow::new(engine, k);
    for (dir, data) in steps {
        if piece == 0 {
            flow.feed(engine, *dir, data);
        } else {
            for p in data.chunks(piece) {
                flow.feed(engine, *dir, p);
            }
        }
    }
    flow.close(engine);
    flow.drain_alerts().collect()
}

/// As `run_chunked` whole, but every alert is built in the buffers of a used one: around
/// each step the flow gets back a copy of `used` (`Flow::give_back`), and alerts are taken
/// with `Flow::pop_alert_into` into another copy. Nothing of `used` may show in them.
fn run_recycled(
    engine: &Engine,
    k: FlowKey,
    steps: &[(Direction, &[u8])],
    used: &Alert,
) -> Vec<Alert> {
    let mut flow = Flow::new(engine, k);
    let mut held = used.clone();
    let mut out = Vec::new();
    let take = |flow: &mut Flow, held: &mut Alert, out: &mut Vec<Alert>| {
        while flow.pop_alert_into(held) {
            out.push(held.clone());
        }
    };
    for (dir, data) in steps {
        flow.give_back(used.clone());
        flow.feed(engine, *dir, data);
        flow.give_back(used.clone());
        take(&mut flow, &mut held, &mut out);
    }
    flow.close(engine);
    take(&mut flow, &mut held, &mut out);
    out
}

/// An alert full of values no test conversation produces, longer than theirs: what a
/// recycled alert must not leak.
fn used_alert() -> Alert {
    let mut a = run_chunked(
        &Engine::default(),
        imds(),
        &[(
            C,
            b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
        )],
        0,
    )
    .remove(0);
    let junk = |n: usize| vec![b'~'; n];
    let http = a.http.get_or_insert_with(Default::default);
    http.hostname = junk(300);
    http.url = junk(900);
    http.method = junk(40);
    http.user_agent = junk(500);
    http.protocol = junk(30);
    http.status = Some(999);
    http.normalized_path = Some(junk(700));
    a.evidence = (0..12)
        .map(|i| format!("stale statement {i} {}", "~".repeat(200)))
        .collect();
    a.responder.ttl = Some(77);
    a.tx = Some(12_345);
    a
}

/// Runs whole and at several split sizes, and whole with alerts built in used ones,
/// asserting the alerts do not change.
fn run(k: FlowKey, steps: &[(Direction, &[u8])]) -> Vec<Alert> {
    let engine = Engine::default();
    let whole = run_chunked(&engine, k, steps, 0);
    for piece in [1, 7, 64, 1460] {
        assert_eq!(
            run_chunked(&engine, k, steps, piece),
            whole,
            "split size {piece}"
        );
    }
    assert_eq!(
        run_recycled(&engine, k, steps, &used_alert()),
        whole,
        "alerts built in the buffers of used ones"
    );
    whole
}

fn one(k: FlowKey, steps: &[(Direction, &[u8])]) -> Alert {
    let alerts = run(k, steps);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    alerts.into_iter().next().expect("one alert")
}

fn none(k: FlowKey, steps: &[(Direction, &[u8])]) {
    let alerts = run(k, steps);
    assert!(alerts.is_empty(), "{alerts:#?}");
}

fn check(a: &Alert, sig: Signature, stage: Stage, must: Indicators) {
    assert_eq!(a.signature, sig, "{a:#?}");
    assert_eq!(a.stage, stage, "{a:#?}");
    assert!(
        a.indicators.contains(must),
        "{:?} lacks {:?}",
        a.indicators,
        must
    );
}

const CREDS_BODY: &str = r#"{"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"s","Token":"t","Expiration":"2026-12-01T00:00:00Z"}"#;

/// A credential response as the IMDS sends it.
fn creds() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{CREDS_BODY}",
        CREDS_BODY.len()
    )
    .into_bytes()
}

#[test]
fn dst_imds_alone_is_one_probe_alert_per_flow() {
    for dst in [
        "169.254.169.254",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
    ] {
        let a = one(key("10.1.2.3", dst, 80), &[]);
        check(&a, sid::ADDRESS_CONTACT, Stage::Probe, Indicators::DST_IMDS);
        assert!(a.http.is_none() && a.tx.is_none());
        // Non-HTTP payload (TLS) to the address: still one probe alert.
        let a = one(
            key("10.1.2.3", dst, 443),
            &[(C, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")],
        );
        check(&a, sid::ADDRESS_CONTACT, Stage::Probe, Indicators::DST_IMDS);
    }
    none(key("10.1.2.3", "169.254.169.253", 80), &[]);
    none(key("10.1.2.3", "fd00:ec2::255", 80), &[]);
}

#[test]
fn http_to_the_imds_address_is_a_request_even_on_an_odd_path() {
    let a = one(
        imds(),
        &[(C, b"GET / HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n")],
    );
    check(
        &a,
        sid::METADATA_REQUEST,
        Stage::Request,
        Indicators::DST_IMDS | Indicators::HOST_IMDS,
    );
}

#[test]
fn host_imds_through_a_proxy() {
    let a = one(
        proxy(),
        &[(C, b"GET / HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n")],
    );
    check(
        &a,
        sid::METADATA_REQUEST,
        Stage::Request,
        Indicators::HOST_IMDS,
    );
    assert!(!a.indicators.contains(Indicators::DST_IMDS));
    none(
        proxy(),
        &[(C, b"GET / HTTP/1.1\r\nHost: 169.254.169.25\r\n\r\n")],
    );
    none(
        proxy(),
        &[(
            C,
            b"GET / HTTP/1.1\r\nHost: instance-data.example.com\r\n\r\n",
        )],
    );
}

#[test]
fn metadata_paths_and_near_misses() {
    for path in [
        "/latest/meta-data/",
        "/latest/meta-data/instance-id",
        "/2021-03-23/meta-data/",
        "/latest/dynamic/instance-identity/document",
        "/latest/user-data",
    ] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: 10.9.9.9\r\n\r\n");
        let a = one(web(), &[(C, req.as_bytes())]);
        check(
            &a,
            sid::METADATA_REQUEST,
            Stage::Request,
            Indicators::PATH_METADATA,
        );
    }
    let a = one(
        web(),
        &[(
            C,
            b"GET /latest/meta-data/iam/security-credentials-extended/ HTTP/1.1\r\n\r\n",
        )],
    );
    assert!(a.indicators.contains(Indicators::PATH_CREDENTIALS));
    // The bulletin's Sigma `contains` would match these; segment matching does not.
    for path in [
        "/latest/meta-data-guide.html",
        "/api/token",
        "/docs/latest/meta-data/",
        "/latest/api/tokens",
    ] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: 10.9.9.9\r\n\r\n");
        none(web(), &[(C, req.as_bytes())]);
    }
}

#[test]
fn token_request_and_headers() {
    let a = one(web(), &[(C, b"PUT /latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n")]);
    check(
        &a,
        sid::TOKEN_REQUEST,
        Stage::Token,
        Indicators::PATH_TOKEN | Indicators::HDR_TOKEN_TTL,
    );
    let a = one(
        web(),
        &[(
            C,
            b"GET /x HTTP/1.1\r\nx-aws-ec2-metadata-token: AQAE==\r\n\r\n",
        )],
    );
    check(
        &a,
        sid::METADATA_REQUEST,
        Stage::Request,
        Indicators::HDR_TOKEN,
    );
    let a = one(
        web(),
        &[(
            C,
            b"PUT /x HTTP/1.1\r\nX-AWS-EC2-METADATA-TOKEN-TTL-SECONDS: 60\r\n\r\n",
        )],
    );
    check(
        &a,
        sid::TOKEN_REQUEST,
        Stage::Token,
        Indicators::HDR_TOKEN_TTL,
    );
    none(
        web(),
        &[(
            C,
            b"GET /x HTTP/1.1\r\nX-aws-ec2-metadata-tokens: 1\r\nX-Token: 2\r\n\r\n",
        )],
    );
}

#[test]
fn token_granted_by_the_imds_and_by_an_impersonator() {
    let put: &[u8] = b"PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\n";
    let granted: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nServer: EC2ws\r\n\r\nAQAEAtok";
    let a = one(imds(), &[(C, put), (S, granted)]);
    check(
        &a,
        sid::TOKEN_GRANTED,
        Stage::Token,
        Indicators::RESP_TOKEN_GRANTED | Indicators::RESP_IMDS_SERVER,
    );
    let a = one(web(), &[(C, b"PUT /latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n"), (S, granted)]);
    check(
        &a,
        sid::RESPONDER_TOKEN,
        Stage::Token,
        Indicators::RESP_TOKEN_GRANTED,
    );
    let refused: &[u8] = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    let a = one(imds(), &[(C, put), (S, refused)]);
    assert!(!a.indicators.contains(Indicators::RESP_TOKEN_GRANTED));
    assert_eq!(a.signature, sid::TOKEN_REQUEST);
}

#[test]
fn credentials_served() {
    let get: &[u8] = b"GET /latest/meta-data/iam/security-credentials/role HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";
    let a = one(imds(), &[(C, get), (S, &creds())]);
    check(
        &a,
        sid::CREDENTIALS_SERVED,
        Stage::Credentials,
        Indicators::RESP_CREDENTIALS,
    );
    assert_eq!(a.signature.severity, 1);
    // An ordinary host answering an ordinary path with a credential document.
    let a = one(
        web(),
        &[
            (C, b"GET /creds HTTP/1.1\r\nHost: 10.9.9.9\r\n\r\n"),
            (S, &creds()),
        ],
    );
    check(
        &a,
        sid::RESPONDER_CREDENTIALS,
        Stage::Credentials,
        Indicators::RESP_CREDENTIALS,
    );
    // Chunked, with the keys split across chunks.
    let chunked: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        10\r\n{\"AccessKeyId\":\"\r\n1c\r\na\",\"SecretAccessKey\":\"s\",\"To\r\nb\r\nken\":\"t\"}\r\n\r\n0\r\n\r\n";
    let a = one(web(), &[(C, b"GET /creds HTTP/1.1\r\n\r\n"), (S, chunked)]);
    check(
        &a,
        sid::RESPONDER_CREDENTIALS,
        Stage::Credentials,
        Indicators::RESP_CREDENTIALS,
    );
    // A page that quotes a credential document is not one.
    let html: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 97\r\n\r\n\
        <html><pre>{\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"s\",\"Token\":\"t\"}</pre>see the docs</html>\n";
    none(
        web(),
        &[(C, b"GET /docs HTTP/1.1\r\n\r\n"), (S, &html[..html.len()])],
    );
}

#[test]
fn server_ec2ws_alone() {
    let a = one(
        web(),
        &[
            (C, b"GET / HTTP/1.1\r\n\r\n"),
            (
                S,
                b"HTTP/1.1 200 OK\r\nServer: EC2ws\r\nContent-Length: 0\r\n\r\n",
            ),
        ],
    );
    check(
        &a,
        sid::RESPONDER_SERVER,
        Stage::Request,
        Indicators::RESP_IMDS_SERVER,
    );
    assert_eq!(a.signature.severity, 3);
    none(
        web(),
        &[
            (C, b"GET / HTTP/1.1\r\n\r\n"),
            (
                S,
                b"HTTP/1.1 200 OK\r\nServer: EC2ws-proxy\r\nContent-Length: 0\r\n\r\n",
            ),
        ],
    );
}

#[test]
fn ecs_eks_and_other_clouds() {
    let a = one(
        key("10.1.2.3", "169.254.170.2", 80),
        &[(
            C,
            b"GET /v2/credentials/0b2c HTTP/1.1\r\nHost: 169.254.170.2\r\n\r\n",
        )],
    );
    check(
        &a,
        sid::ECS_REQUEST,
        Stage::Request,
        Indicators::ECS_ENDPOINT | Indicators::PATH_CREDENTIALS,
    );
    assert_eq!(a.provider, Provider::AwsEcs);
    let a = one(
        key("10.1.2.3", "169.254.170.23", 80),
        &[(
            C,
            b"GET /v1/credentials HTTP/1.1\r\nHost: 169.254.170.23\r\nAuthorization: x\r\n\r\n",
        )],
    );
    check(
        &a,
        sid::EKS_REQUEST,
        Stage::Request,
        Indicators::EKS_POD_IDENTITY,
    );
    let a = one(imds(), &[(C, b"GET /computeMetadata/v1/instance/service-accounts/default/token HTTP/1.1\r\nHost: metadata.google.internal\r\nMetadata-Flavor: Google\r\n\r\n")]);
    check(
        &a,
        sid::OTHER_CLOUD_REQUEST,
        Stage::Request,
        Indicators::OTHER_CLOUD | Indicators::PATH_CREDENTIALS,
    );
    assert_eq!(a.provider, Provider::Gcp);
    let a = one(imds(), &[(C, b"GET /metadata/identity/oauth2/token?api-version=2018-02-01 HTTP/1.1\r\nMetadata: true\r\n\r\n")]);
    assert_eq!(a.provider, Provider::Azure);
    let a = one(
        key("10.1.2.3", "100.100.100.200", 80),
        &[(
            C,
            b"GET /latest/meta-data/ram/security-credentials/r HTTP/1.1\r\n\r\n",
        )],
    );
    assert_eq!(a.provider, Provider::Alibaba);
    // An ordinary site's /metadata/v1/ is not a metadata service.
    none(
        web(),
        &[(
            C,
            b"GET /metadata/v1/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
        )],
    );
}

#[test]
fn a_body_that_mentions_the_address_is_not_an_indicator() {
    let post: &[u8] =
        b"POST /notes HTTP/1.1\r\nHost: wiki.example.com\r\nContent-Length: 47\r\n\r\n\
        curl http://169.254.169.254/latest/meta-data/\n";
    none(web(), &[(C, post)]);
}

#[test]
fn one_alert_per_transaction_with_the_highest_stage() {
    let conv =
        std::fs::read("tests/data/conversations/imdsv2-botocore-credentials.t").expect("file");
    let chunks = imdsguard::conversation::parse(&conv).expect("conversation");
    let steps: Vec<(Direction, &[u8])> = chunks.iter().map(|c| (c.dir, c.bytes)).collect();
    let alerts = run(imds(), &steps);
    let got: Vec<(u32, Stage)> = alerts.iter().map(|a| (a.signature.id, a.stage)).collect();
    assert_eq!(
        got,
        [
            (sid::TOKEN_GRANTED.id, Stage::Token),
            (sid::METADATA_REQUEST.id, Stage::Request),
            (sid::CREDENTIALS_SERVED.id, Stage::Credentials),
        ]
    );
    let creds = &alerts[2];
    let http = creds.http.as_ref().expect("http");
    assert_eq!(http.method, b"GET");
    assert_eq!(http.hostname, b"169.254.169.254");
    assert_eq!(http.status, Some(200));
    assert!(http.user_agent.starts_with(b"Botocore/"));
    assert!(creds.indicators.contains(
        Indicators::DST_IMDS
            | Indicators::HOST_IMDS
            | Indicators::PATH_METADATA
            | Indicators::PATH_CREDENTIALS
            | Indicators::HDR_TOKEN
            | Indicators::RESP_CREDENTIALS
            | Indicators::RESP_IMDS_SERVER
    ));
}

#[test]
fn responder_ttl_is_evidence() {
    let engine = Engine::default();
    let mut f = Flow::new(&engine, imds());
    f.set_responder_ttl(64);
    f.feed(
        &engine,
        C,
        b"GET /latest/meta-data/iam/security-credentials/r HTTP/1.1\r\n\r\n",
    );
    f.feed(&engine, S, &creds());
    f.close(&engine);
    let a = f.pop_alert().expect("alert");
    assert_eq!(a.responder.ttl, Some(64));
    assert!(
        a.evidence.iter().any(|e| e.contains("TTL 64")),
        "{:?}",
        a.evidence
    );
}

/// Every spelling must alert through a proxy, both as absolute-form and as CONNECT.
#[test]
fn evasion_host_spellings_through_a_proxy() {
    let hosts = [
        "169.254.169.254",
        "2852039166",
        "0xA9FEA9FE",
        "0xa9fea9fe",
        "0251.0376.0251.0376",
        "0251.254.169.254",
        "169.254.43518",
        "169.16689662",
        "0xa9.0xfe.0xa9.0xfe",
        "169.254.169.254.",
        "[fd00:ec2::254]",
        "[::ffff:a9fe:a9fe]",
        "[::ffff:169.254.169.254]",
        "[64:ff9b::a9fe:a9fe]",
        "[fd00:ec2::254%25eth0]",
        "instance-data",
        "instance-data.ec2.internal",
        "INSTANCE-DATA.EC2.INTERNAL.",
        "user:pw@169.254.169.254",
        "%31%36%39.254.169.254",
    ];
    for h in hosts {
        let absolute = format!("GET http://{h}/latest/meta-data/ HTTP/1.1\r\nHost: {h}\r\n\r\n");
        let a = one(proxy(), &[(C, absolute.as_bytes())]);
        assert!(
            a.indicators
                .contains(Indicators::HOST_IMDS | Indicators::PATH_METADATA),
            "{h}: {:?}",
            a.indicators
        );
        let port = if h.starts_with('[') || !h.contains(':') {
            format!("{h}:80")
        } else {
            h.to_string()
        };
        let connect = format!("CONNECT {port} HTTP/1.1\r\nHost: {port}\r\n\r\n");
        let a = one(proxy(), &[(C, connect.as_bytes())]);
        assert!(
            a.indicators.contains(Indicators::HOST_IMDS),
            "CONNECT {h}: {:?}",
            a.indicators
        );
    }
}

#[test]
fn evasion_each_path_character_percent_encoded() {
    let path = "/latest/meta-data/";
    for (i, ch) in path.char_indices() {
        let encoded = format!("{}%{:02X}{}", &path[..i], ch as u32, &path[i + 1..]);
        let lower = encoded.to_lowercase();
        for p in [encoded, lower] {
            let req = format!("GET {p} HTTP/1.1\r\n\r\n");
            let a = one(web(), &[(C, req.as_bytes())]);
            assert!(a.indicators.contains(Indicators::PATH_METADATA), "{p}");
        }
    }
    for p in [
        "/latest/./meta-data/",
        "/x/../latest/meta-data",
        "//latest//meta-data",
        "\\latest\\meta-data",
        "/latest%2fmeta-data",
        "/latest/meta%252Ddata",
        "/%2e%2e/latest/meta-data",
        "/latest;a=b/meta-data/",
        "/latest/%c0%afmeta-data",
        "/latest/api/%74oken",
    ] {
        let req = format!("GET {p} HTTP/1.1\r\n\r\n");
        let a = one(web(), &[(C, req.as_bytes())]);
        assert!(
            a.indicators
                .intersects(Indicators::PATH_METADATA | Indicators::PATH_TOKEN),
            "{p}"
        );
        assert!(a.indicators.contains(Indicators::EVASION), "{p}");
    }
}

#[test]
fn evasion_folded_token_header_pipelining_and_http10() {
    let a = one(
        web(),
        &[(
            C,
            b"GET /x HTTP/1.1\r\nX-aws-ec2-metadata-token:\r\n AQAE==\r\n\r\n",
        )],
    );
    assert!(a.indicators.contains(Indicators::HDR_TOKEN));
    let alerts = run(web(), &[(C, b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET /latest/meta-data/ HTTP/1.1\r\nHost: a\r\n\r\n")]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].tx, Some(1));
    let a = one(web(), &[(C, b"GET /latest/meta-data/ HTTP/1.0\r\n\r\n")]);
    assert!(a.indicators.contains(Indicators::PATH_METADATA));
    let a = one(web(), &[(C, b"GET /latest/meta-data/\r\n")]);
    assert!(a.indicators.contains(Indicators::PATH_METADATA));
}

/// Zeek's 261/ smuggling variants with the IMDS host and path in the hidden request.
#[test]
fn smuggled_metadata_requests_alert() {
    let hidden =
        "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";
    let variants: [(&str, String); 8] = [
        (
            "chunk 2^64",
            "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n\r\n".into(),
        ),
        (
            "CL u64max",
            "Content-Length: 18446744073709551615\r\n\r\n".into(),
        ),
        ("CL negative", "Content-Length: -1\r\n\r\n".into()),
        (
            "TE+CL",
            "Transfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n0\r\n\r\n".into(),
        ),
        (
            "expect 100 CL 0",
            "Expect: 100-continue\r\nContent-Length: 0\r\n\r\n".into(),
        ),
        (
            "CL zeros",
            format!(
                "Content-Length: 00000000000000000000000000000050\r\n\r\n{}",
                "X".repeat(50)
            ),
        ),
        (
            "TE obs-fold",
            "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n".into(),
        ),
        (
            "TE multi",
            "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n".into(),
        ),
    ];
    for (name, trick) in variants {
        let stream = format!("POST / HTTP/1.1\r\nHost: target\r\n{trick}{hidden}");
        let alerts = run(proxy(), &[(C, stream.as_bytes())]);
        assert_eq!(alerts.len(), 1, "{name}: {alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.tx, Some(1), "{name}");
        assert!(
            a.indicators
                .contains(Indicators::HOST_IMDS | Indicators::PATH_CREDENTIALS),
            "{name}"
        );
        if name != "expect 100 CL 0" {
            assert!(
                a.indicators.contains(Indicators::FRAMING_ANOMALY),
                "{name}: {:?}",
                a.indicators
            );
        }
    }
    // A hidden request behind a junk header longer than the line limit.
    let junk = "a".repeat(20_000);
    let stream = format!("GET / HTTP/1.1\r\nX-Junk: {junk}\r\n\r\n{hidden}");
    let alerts = run(proxy(), &[(C, stream.as_bytes())]);
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0]
        .indicators
        .contains(Indicators::FRAMING_ANOMALY | Indicators::HOST_IMDS));
}

#[test]
fn the_policy_decides_after_matching() {
    let text = "suppress src 10.1.0.0/16\n";
    let policy = Policy::parse(text, "test.policy").expect("policy");
    let engine = Engine::new(policy);
    let alerts = run_chunked(&engine, imds(), &[], 0);
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].is_suppressed());
    let outside = key("10.2.0.1", "169.254.169.254", 80);
    let alerts = run_chunked(&engine, outside, &[], 0);
    assert!(!alerts[0].is_suppressed());
}

/// A suppression case: name, flow, conversation, the rule expected to suppress (if any).
type SuppressionCase<'a> = (
    &'a str,
    FlowKey,
    Vec<(Direction, &'a [u8])>,
    Option<&'a str>,
);

/// Suppression after matching: CIDR inside and outside, IPv4 and IPv6, VLAN outer and inner,
/// destination, provider, indicator; suppressed alerts are kept and counted.
#[test]
fn suppression_table() {
    use imdsguard::key::Vlans;
    let policy = Policy::parse(
        "# cloud VPCs reached over the VPN\n\
         alert src 10.20.5.0/24\n\
         suppress src 10.20.0.0/16\n\
         suppress src 2001:db8:cafe::/48\n\
         suppress outer-vlan 300\n\
         suppress inner-vlan 301\n\
         suppress dst 169.254.170.2\n\
         suppress provider gcp\n\
         suppress indicator resp_imds_server\n",
        "lab.policy",
    )
    .expect("policy");
    let engine = Engine::new(policy);
    let tagged = |outer, inner| FlowKey {
        vlans: Vlans { outer, inner },
        ..key("10.99.0.1", "169.254.169.254", 80)
    };
    let get: &[u8] = b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";
    let gcp: &[u8] = b"GET /computeMetadata/v1/ HTTP/1.1\r\nMetadata-Flavor: Google\r\n\r\n";
    let ec2ws: &[u8] = b"HTTP/1.1 200 OK\r\nServer: EC2ws\r\nContent-Length: 0\r\n\r\n";
    let cases: Vec<SuppressionCase> = vec![
        (
            "v4 inside",
            key("10.20.1.1", "169.254.169.254", 80),
            vec![(C, get)],
            Some("lab.policy:3: suppress src 10.20.0.0/16"),
        ),
        (
            "v4 exception",
            key("10.20.5.9", "169.254.169.254", 80),
            vec![(C, get)],
            None,
        ),
        (
            "v4 outside",
            key("10.21.0.1", "169.254.169.254", 80),
            vec![(C, get)],
            None,
        ),
        (
            "v6 inside",
            key("2001:db8:cafe::7", "fd00:ec2::254", 80),
            vec![(C, get)],
            Some("lab.policy:4: suppress src 2001:db8:cafe::/48"),
        ),
        (
            "v6 outside",
            key("2001:db8:beef::7", "fd00:ec2::254", 80),
            vec![(C, get)],
            None,
        ),
        (
            "outer vlan",
            tagged(Some(300), None),
            vec![(C, get)],
            Some("lab.policy:5: suppress outer-vlan 300"),
        ),
        (
            "inner vlan",
            tagged(Some(1), Some(301)),
            vec![(C, get)],
            Some("lab.policy:6: suppress inner-vlan 301"),
        ),
        (
            "301 as outer only",
            tagged(Some(301), None),
            vec![(C, get)],
            None,
        ),
        (
            "dst",
            key("10.99.0.1", "169.254.170.2", 80),
            vec![(C, b"GET /v2/credentials/x HTTP/1.1\r\n\r\n")],
            Some("lab.policy:7: suppress dst 169.254.170.2"),
        ),
        (
            "provider",
            key("10.99.0.1", "169.254.169.254", 80),
            vec![(C, gcp)],
            Some("lab.policy:8: suppress provider gcp"),
        ),
        (
            "only Server: EC2ws",
            web(),
            vec![(C, b"GET / HTTP/1.1\r\n\r\n"), (S, ec2ws)],
            Some("lab.policy:9: suppress indicator resp_imds_server"),
        ),
        (
            "EC2ws and more",
            web(),
            vec![(C, b"GET /latest/meta-data/ HTTP/1.1\r\n\r\n"), (S, ec2ws)],
            None,
        ),
    ];
    let (mut alerted, mut suppressed) = (0, 0);
    for (name, k, steps, expect) in cases {
        let mut flow = Flow::new(&engine, k);
        for (dir, data) in &steps {
            flow.feed(&engine, *dir, data);
        }
        flow.close(&engine);
        let stats = flow.stats();
        let alerts: Vec<Alert> = flow.drain_alerts().collect();
        assert_eq!(alerts.len(), 1, "{name}");
        match (&alerts[0].decision, expect) {
            (imdsguard::policy::Decision::Suppressed { rule }, Some(r)) => {
                assert_eq!(rule, r, "{name}");
                assert_eq!(stats.suppressed, 1, "{name}");
                suppressed += 1;
            }
            (imdsguard::policy::Decision::Alert, None) => {
                assert_eq!(stats.suppressed, 0, "{name}");
                alerted += 1;
            }
            (d, e) => panic!("{name}: decision {d:?}, expected {e:?}"),
        }
    }
    assert_eq!((alerted, suppressed), (5, 7));
}

/// Replacing the engine (a new policy) keeps the flow's state.
#[test]
fn a_new_policy_applies_to_live_flows() {
    let lenient = Engine::default();
    let strict = Engine::new(Policy::parse("suppress src 10.1.0.0/16", "p").expect("policy"));
    let mut flow = Flow::new(&lenient, imds());
    flow.feed(
        &lenient,
        C,
        b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.2",
    );
    flow.feed(&strict, C, b"54.169.254\r\n\r\n");
    flow.close(&strict);
    let a = flow.pop_alert().expect("alert");
    assert!(a.indicators.contains(Indicators::HOST_IMDS));
    assert!(a.is_suppressed());
}

/// A caller that never takes its alerts cannot make a flow grow without bound: past
/// `max_pending_alerts` the oldest pending alert goes, counted.
#[test]
fn pending_alerts_are_bounded_and_drops_counted() {
    let engine = Engine::default();
    let max = engine.config().max_pending_alerts;
    let mut flow = Flow::new(&engine, web());
    let request = b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";
    let response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    let n = 3 * max as u64;
    for _ in 0..n {
        flow.feed(&engine, C, request);
        flow.feed(&engine, S, response);
    }
    let st = flow.stats();
    assert_eq!(st.transactions, n);
    assert_eq!(st.alerts, n, "every metadata request alerted");
    assert_eq!(flow.pending_alerts(), max);
    assert_eq!(st.alerts_dropped, n - max as u64);
    // The ones kept are the newest.
    let kept: Vec<Alert> = flow.drain_alerts().collect();
    assert_eq!(kept.last().and_then(|a| a.tx), Some(n - 1));
}
