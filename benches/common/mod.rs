//! Deterministic corpora shared by the benches (`benches/http_parse.rs`, `benches/flow.rs`,
//! `benches/ir_driver.rs`) and the allocation test (`tests/alloc.rs`, through `#[path]`).
//!
//! Everything is generated in code from fixed seeds (xorshift64*), so every run, every bench
//! and every peer sees the same bytes.
//!
//! - Stream corpora ([`Corpus`]): one client direction of about 256 KiB, for the parse-only
//!   bench `http_parse`.
//! - Flow corpora ([`FlowCorpus`]): connections with both directions, for `flow`:
//!   `browser` (keep-alive flows of 1–16 browser GETs of 400–700 bytes with 8–14 fields),
//!   `imds` (the IMDSv2 requests botocore sends, one per flow, to 169.254.169.254),
//!   `mixed` (99 browser requests to 1 IMDS request) and `responses` (the responses of
//!   `mixed`: HTML/CSS/JS/JSON bodies, 304s, chunked bodies, and the IMDS token, role list
//!   and credential JSON answered by `Server: EC2ws`).
//! - Frames ([`frames`]) for the packet tracker: Ethernet + IPv4 + UDP / ICMP / TCP, and ARP.

// Each bench or test uses a different subset.
#![allow(dead_code)]

use imdsguard::key::FlowKey;
use std::net::{IpAddr, Ipv4Addr};

#[cfg(feature = "libhtp")]
#[path = "../libhtp_shim/mod.rs"]
pub mod libhtp;
pub mod peers;

// ------------------------------------------------------------------------------------------
// Randomness
// ------------------------------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// `n` characters of `alphabet`.
    pub fn text(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n)
            .map(|_| alphabet[self.range(0, alphabet.len() - 1)] as char)
            .collect()
    }
}

pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const PROSE: &[u8] = b"abcdefghijklmnopqrstuvwxyz     eeettaaoi.,";

// ------------------------------------------------------------------------------------------
// Browser requests
// ------------------------------------------------------------------------------------------

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
];

const HOSTS: &[&str] = &[
    "www.example.com",
    "news.example.org",
    "cdn.static-assets.example.net",
    "api.shop.example.com",
    "intranet.corp.example",
];

pub const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/assets/app.3f9c2e1b.js",
    "/assets/styles.min.css?v=20240511",
    "/images/hero-banner@2x.webp",
    "/api/v2/cart/items?session=8f14e45fceea167a5a36dedd4bea2543",
    "/search?q=instance+metadata+service&page=2",
    "/fonts/inter-var.woff2",
];

const ACCEPTS: &[&str] = &[
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "text/css,*/*;q=0.1",
    "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    "application/json, text/plain, */*",
    "*/*",
];

const LANGUAGES: &[&str] = &[
    "en-US,en;q=0.9",
    "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7",
    "fr-FR,fr;q=0.8,en-US;q=0.5,en;q=0.3",
];

/// One browser request of 400–700 bytes with 8–14 headers, in browser order.
pub fn browser_request(rng: &mut Rng) -> Vec<u8> {
    let host = rng.pick(HOSTS);
    let ua = rng.pick(USER_AGENTS);
    let chrome = ua.contains("Chrome/");
    let path = rng.pick(PATHS);
    // (name, value, optional?) in the order browsers send them.
    let referer = format!("https://{host}{}", rng.pick(PATHS));
    let mut fields: Vec<(&str, String, bool)> = vec![
        ("Host", host.to_string(), false),
        ("Connection", "keep-alive".into(), true),
        (
            "sec-ch-ua",
            "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"".into(),
            true,
        ),
        ("sec-ch-ua-mobile", "?0".into(), true),
        ("sec-ch-ua-platform", "\"Windows\"".into(), true),
        ("Upgrade-Insecure-Requests", "1".into(), true),
        ("User-Agent", ua.to_string(), false),
        ("Accept", rng.pick(ACCEPTS).to_string(), false),
        ("Sec-Fetch-Site", "same-origin".into(), true),
        ("Sec-Fetch-Mode", "navigate".into(), true),
        ("Sec-Fetch-Dest", "document".into(), true),
        ("Referer", referer, true),
        ("Accept-Encoding", "gzip, deflate, br, zstd".into(), true),
        ("Accept-Language", rng.pick(LANGUAGES).to_string(), true),
        ("Cookie", String::new(), true),
    ];
    if !chrome {
        fields.retain(|(n, _, _)| !n.starts_with("sec-ch-ua"));
    }
    // Keep 8–14 fields (Cookie always among them, sized last), dropping optional ones.
    let want = rng.range(8, 14).min(fields.len());
    while fields.len() > want {
        let optional: Vec<usize> = (0..fields.len())
            .filter(|&i| fields[i].2 && fields[i].0 != "Cookie")
            .collect();
        let drop = optional[rng.range(0, optional.len() - 1)];
        fields.remove(drop);
    }
    let render = |fields: &[(&str, String, bool)]| {
        let mut out = format!("GET {path} HTTP/1.1\r\n");
        for (n, v, _) in fields {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.into_bytes()
    };
    // Size the cookie so the request lands in 400..=700 bytes (with long optional fields,
    // drop some first, keeping at least 8).
    const MIN_COOKIE: usize = 24;
    while render(&fields).len() + MIN_COOKIE > 700 && fields.len() > 8 {
        let drop = (0..fields.len())
            .rev()
            .find(|&i| fields[i].2 && fields[i].0 != "Cookie")
            .expect("an optional field");
        fields.remove(drop);
    }
    let base = render(&fields).len();
    let target = rng.range(400.max(base + MIN_COOKIE), 700);
    let cookie_len = target - base;
    let mut cookie = String::new();
    while cookie.len() < cookie_len {
        let (name_len, value_len) = (rng.range(3, 10), rng.range(8, 40));
        let name = rng.text(name_len, ALNUM);
        let value = rng.text(value_len, BASE64URL);
        if !cookie.is_empty() {
            cookie.push_str("; ");
        }
        cookie.push_str(&format!("{name}={value}"));
    }
    cookie.truncate(cookie_len);
    if cookie.ends_with([' ', ';', '=']) {
        cookie.pop();
        cookie.push('x');
    }
    if let Some(c) = fields.iter_mut().find(|f| f.0 == "Cookie") {
        c.1 = cookie;
    }
    let req = render(&fields);
    assert!((8..=14).contains(&fields.len()), "{} fields", fields.len());
    req
}

// ------------------------------------------------------------------------------------------
// botocore's IMDSv2 requests
// ------------------------------------------------------------------------------------------

/// The botocore User-Agent, as recent versions build it.
pub fn botocore_user_agent(rng: &mut Rng) -> String {
    format!(
        "Botocore/1.34.{} ua/2.0 os/linux#5.10.{}-{}.amzn2.x86_64 md/arch#x86_64 lang/python#3.{}.{} md/pyimpl#CPython cfg/retry-mode#legacy",
        rng.range(0, 160),
        rng.range(100, 230),
        rng.range(100, 999),
        rng.range(8, 12),
        rng.range(0, 14),
    )
}

/// An IMDSv2 token as observed: 56 base64url characters starting `AQAEA` and ending `==`.
pub fn imds_token(rng: &mut Rng) -> String {
    format!("AQAEA{}==", rng.text(49, BASE64URL))
}

/// What an IMDS request asks for, which decides its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImdsAsk {
    Token(String),
    RoleList(String),
    Credentials,
    Zone,
}

/// botocore's IMDSv2 requests through urllib3 and `http.client`: `Host` and
/// `Accept-Encoding: identity` come from `http.client.putrequest`, then botocore's own
/// headers in the order it sets them, then `Content-Length: 0` for a PUT without a body.
/// The token PUT, the role listing, the role's credentials, now and then the zone.
pub fn botocore_requests(rng: &mut Rng) -> Vec<(Vec<u8>, ImdsAsk)> {
    let ua = botocore_user_agent(rng);
    let token = imds_token(rng);
    let role = format!(
        "{}-ec2-role-{}",
        rng.pick(&["app", "web", "batch", "ci"]),
        rng.text(6, ALNUM)
    );
    let mut out = vec![(
        format!(
            "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nAccept-Encoding: identity\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\nUser-Agent: {ua}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
        ImdsAsk::Token(token.clone()),
    )];
    let get = |path: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: 169.254.169.254\r\nAccept-Encoding: identity\r\nx-aws-ec2-metadata-token: {token}\r\nUser-Agent: {ua}\r\n\r\n"
        )
        .into_bytes()
    };
    out.push((
        get("/latest/meta-data/iam/security-credentials/"),
        ImdsAsk::RoleList(role.clone()),
    ));
    out.push((
        get(&format!(
            "/latest/meta-data/iam/security-credentials/{role}"
        )),
        ImdsAsk::Credentials,
    ));
    if rng.chance(30) {
        out.push((
            get("/latest/meta-data/placement/availability-zone/"),
            ImdsAsk::Zone,
        ));
    }
    out
}

/// The sequence of [`botocore_requests`] appended to `out`; returns how many requests.
pub fn botocore_sequence(rng: &mut Rng, out: &mut Vec<u8>) -> usize {
    let reqs = botocore_requests(rng);
    for (r, _) in &reqs {
        out.extend_from_slice(r);
    }
    reqs.len()
}

// ------------------------------------------------------------------------------------------
// Responses
// ------------------------------------------------------------------------------------------

const SERVERS: &[&str] = &["nginx", "cloudflare", "Apache/2.4.58 (Ubuntu)", "AmazonS3"];

fn http_date(rng: &mut Rng) -> String {
    format!(
        "{}, {:02} May 2024 {:02}:{:02}:{:02} GMT",
        rng.pick(&["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        rng.range(1, 28),
        rng.range(0, 23),
        rng.range(0, 59),
        rng.range(0, 59)
    )
}

/// The answer of a web server to a browser request for `path`: 19 % `304 Not Modified`,
/// 16 % chunked, the rest with `Content-Length`; bodies of 300–3,600 bytes.
pub fn browser_response(rng: &mut Rng, path: &str) -> Vec<u8> {
    let ctype = if path.contains(".js") {
        "application/javascript; charset=utf-8"
    } else if path.contains(".css") {
        "text/css; charset=utf-8"
    } else if path.contains(".webp") {
        "image/webp"
    } else if path.contains(".woff2") {
        "font/woff2"
    } else if path.starts_with("/api/") {
        "application/json"
    } else {
        "text/html; charset=utf-8"
    };
    let etag = format!("\"{}\"", rng.text(16, b"0123456789abcdef"));
    let mut head = String::new();
    let roll = rng.range(0, 99);
    let (status, body, chunked) = if roll < 19 {
        ("304 Not Modified", None, false)
    } else {
        let n = rng.range(300, 3600);
        let body = if ctype.starts_with("application/json") {
            let mut s = String::from("{\"items\":[");
            while s.len() < n {
                s.push_str(&format!(
                    "{{\"id\":{},\"sku\":\"{}\",\"qty\":{}}},",
                    rng.range(1, 99999),
                    rng.text(10, ALNUM),
                    rng.range(1, 9)
                ));
            }
            s.pop();
            s.push_str("]}");
            s
        } else {
            rng.text(n, PROSE)
        };
        ("200 OK", Some(body), roll < 35)
    };
    head.push_str(&format!("HTTP/1.1 {status}\r\n"));
    head.push_str(&format!("Date: {}\r\n", http_date(rng)));
    head.push_str(&format!("Server: {}\r\n", rng.pick(SERVERS)));
    if body.is_some() {
        head.push_str(&format!("Content-Type: {ctype}\r\n"));
    }
    head.push_str(&format!("Last-Modified: {}\r\n", http_date(rng)));
    head.push_str(&format!("ETag: {etag}\r\n"));
    head.push_str(&format!(
        "Cache-Control: {}\r\n",
        rng.pick(&[
            "public, max-age=31536000, immutable",
            "no-cache",
            "max-age=600"
        ])
    ));
    if rng.chance(50) {
        head.push_str("Vary: Accept-Encoding\r\n");
    }
    head.push_str("Connection: keep-alive\r\n");
    let mut out = head.into_bytes();
    match body {
        None => out.extend_from_slice(b"\r\n"),
        Some(b) if chunked => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let b = b.as_bytes();
            let mut pos = 0;
            while pos < b.len() {
                let n = rng.range(256, 1024).min(b.len() - pos);
                out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                out.extend_from_slice(&b[pos..pos + n]);
                out.extend_from_slice(b"\r\n");
                pos += n;
            }
            out.extend_from_slice(b"0\r\n\r\n");
        }
        Some(b) => {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", b.len()).as_bytes());
            out.extend_from_slice(b.as_bytes());
        }
    }
    out
}

/// The credential document of an instance profile, as the IMDS serves it.
pub fn credential_json(rng: &mut Rng) -> String {
    let token_len = rng.range(900, 1300);
    format!(
        "{{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2024-05-11T10:{:02}:{:02}Z\",\n  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIA{}\",\n  \"SecretAccessKey\" : \"{}\",\n  \"Token\" : \"IQoJb3JpZ2luX2Vj{}\",\n  \"Expiration\" : \"2024-05-11T16:{:02}:{:02}Z\"\n}}",
        rng.range(0, 59),
        rng.range(0, 59),
        rng.text(16, UPPER_DIGITS),
        rng.text(40, BASE64),
        rng.text(token_len, BASE64),
        rng.range(0, 59),
        rng.range(0, 59),
    )
}

/// The IMDS's answer (`Server: EC2ws`, as the real service sends it).
pub fn imds_response(rng: &mut Rng, ask: &ImdsAsk) -> Vec<u8> {
    let (extra, ctype, body) = match ask {
        ImdsAsk::Token(t) => (
            "X-Aws-Ec2-Metadata-Token-Ttl-Seconds: 21600\r\n",
            "text/plain",
            t.clone(),
        ),
        ImdsAsk::RoleList(role) => ("", "text/plain", role.clone()),
        ImdsAsk::Credentials => ("", "text/plain", credential_json(rng)),
        ImdsAsk::Zone => (
            "",
            "text/plain",
            format!("us-east-1{}", rng.pick(&["a", "b", "c", "d"])),
        ),
    };
    format!(
        "HTTP/1.1 200 OK\r\n{extra}Content-Type: {ctype}\r\nAccept-Ranges: none\r\nLast-Modified: {}\r\nContent-Length: {}\r\nDate: {}\r\nServer: EC2ws\r\nConnection: close\r\n\r\n{body}",
        http_date(rng),
        body.len(),
        http_date(rng),
    )
    .into_bytes()
}

// ------------------------------------------------------------------------------------------
// Stream corpora (one client direction)
// ------------------------------------------------------------------------------------------

/// A corpus: the bytes of one client direction and the number of requests in it.
pub struct Corpus {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub requests: usize,
}

pub const CORPUS_SIZE: usize = 256 * 1024;

pub fn browser_corpus() -> Corpus {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut bytes = Vec::with_capacity(CORPUS_SIZE + 1024);
    let mut requests = 0;
    while bytes.len() < CORPUS_SIZE {
        let r = browser_request(&mut rng);
        assert!(
            (400..=700).contains(&r.len()),
            "request of {} bytes",
            r.len()
        );
        bytes.extend_from_slice(&r);
        requests += 1;
    }
    Corpus {
        name: "browser",
        bytes,
        requests,
    }
}

pub fn imds_corpus() -> Corpus {
    let mut rng = Rng(0xd1b5_4a32_d192_ed03);
    let mut bytes = Vec::with_capacity(CORPUS_SIZE + 1024);
    let mut requests = 0;
    while bytes.len() < CORPUS_SIZE {
        requests += botocore_sequence(&mut rng, &mut bytes);
    }
    Corpus {
        name: "imds_botocore",
        bytes,
        requests,
    }
}

// ------------------------------------------------------------------------------------------
// Flow corpora (connections, both directions)
// ------------------------------------------------------------------------------------------

/// One connection: the client's bytes, the server's bytes, and what they hold.
pub struct FlowData {
    pub key: FlowKey,
    pub to_server: Vec<u8>,
    pub to_client: Vec<u8>,
    pub requests: usize,
    /// Whether this is a flow to the metadata service (every request in it is IMDS).
    pub imds: bool,
}

/// Which side of the flows a corpus measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The requests (`to_server`).
    Requests,
    /// The responses (`to_client`), the requests having been fed before (untimed).
    Responses,
}

/// A set of flows and the side of them that is measured.
pub struct FlowCorpus {
    pub name: &'static str,
    pub flows: Vec<FlowData>,
    pub side: Side,
}

impl FlowCorpus {
    /// Messages on the measured side (one response per request).
    pub fn messages(&self) -> usize {
        self.flows.iter().map(|f| f.requests).sum()
    }

    /// Bytes on the measured side.
    pub fn bytes(&self) -> usize {
        self.flows.iter().map(|f| self.side_of(f).len()).sum()
    }

    /// IMDS requests (or responses) in the corpus.
    pub fn imds_messages(&self) -> usize {
        self.flows
            .iter()
            .filter(|f| f.imds)
            .map(|f| f.requests)
            .sum()
    }

    /// Flows to the metadata service.
    pub fn imds_flows(&self) -> usize {
        self.flows.iter().filter(|f| f.imds).count()
    }

    /// The measured side of a flow.
    pub fn side_of<'a>(&self, f: &'a FlowData) -> &'a [u8] {
        match self.side {
            Side::Requests => &f.to_server,
            Side::Responses => &f.to_client,
        }
    }
}

/// Requests per corpus (default size). 3,000 browser requests are about 1.8 MB.
pub const FLOW_CORPUS_REQUESTS: usize = 3000;

fn client_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 20, (i >> 8) as u8, i as u8))
}

fn web_server_ip(rng: &mut Rng) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        93,
        184,
        rng.range(0, 255) as u8,
        rng.range(1, 254) as u8,
    ))
}

const IMDS_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254));

/// A keep-alive browser flow of `n` requests and their responses.
fn browser_flow(rng: &mut Rng, i: usize, n: usize) -> FlowData {
    let key = FlowKey::tcp(
        client_ip(i),
        40_000 + (i % 20_000) as u16,
        web_server_ip(rng),
        80,
    );
    let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let r = browser_request(rng);
        let path_end = r[4..].iter().position(|&b| b == b' ').expect("a target") + 4;
        let path = std::str::from_utf8(&r[4..path_end]).expect("ASCII");
        to_client.extend_from_slice(&browser_response(rng, path));
        to_server.extend_from_slice(&r);
    }
    FlowData {
        key,
        to_server,
        to_client,
        requests: n,
        imds: false,
    }
}

/// A flow to the IMDS carrying one request and its answer (botocore opens one per request).
fn imds_flow(rng: &mut Rng, i: usize, req: &[u8], ask: &ImdsAsk) -> FlowData {
    FlowData {
        key: FlowKey::tcp(client_ip(i), 50_000 + (i % 10_000) as u16, IMDS_IP, 80),
        to_server: req.to_vec(),
        to_client: imds_response(rng, ask),
        requests: 1,
        imds: true,
    }
}

/// Keep-alive browser flows of 1–16 requests, `requests` requests in all.
pub fn browser_flows(requests: usize) -> FlowCorpus {
    let mut rng = Rng(0x243f_6a88_85a3_08d3);
    let mut flows = Vec::new();
    let mut left = requests;
    while left > 0 {
        let n = rng.range(1, 16).min(left);
        flows.push(browser_flow(&mut rng, flows.len(), n));
        left -= n;
    }
    FlowCorpus {
        name: "browser",
        flows,
        side: Side::Requests,
    }
}

/// botocore's IMDSv2 sequences, one request per flow, `requests` requests in all.
pub fn imds_flows(requests: usize) -> FlowCorpus {
    let mut rng = Rng(0x1319_8a2e_0370_7344);
    let mut flows = Vec::new();
    'outer: loop {
        for (req, ask) in botocore_requests(&mut rng) {
            if flows.len() == requests {
                break 'outer;
            }
            let i = flows.len();
            flows.push(imds_flow(&mut rng, i, &req, &ask));
        }
    }
    FlowCorpus {
        name: "imds",
        flows,
        side: Side::Requests,
    }
}

/// 99 browser requests to 1 IMDS request, `requests` requests in all (a multiple of 100
/// gives exactly 1 %), in flows as [`browser_flows`] and [`imds_flows`] make them.
pub fn mixed_flows(requests: usize) -> FlowCorpus {
    let mut rng = Rng(0xa409_3822_299f_31d0);
    let mut flows = Vec::new();
    let imds_total = requests / 100;
    let browser_total = requests - imds_total;
    let mut pending_imds: Vec<(Vec<u8>, ImdsAsk)> = Vec::new();
    let (mut browser, mut imds) = (0, 0);
    while browser < browser_total || imds < imds_total {
        // One IMDS request after every 99 browser requests.
        if imds < imds_total && (browser >= 99 * (imds + 1) || browser == browser_total) {
            if pending_imds.is_empty() {
                pending_imds = botocore_requests(&mut rng);
                pending_imds.reverse();
            }
            let (req, ask) = pending_imds.pop().expect("refilled");
            let i = flows.len();
            flows.push(imds_flow(&mut rng, i, &req, &ask));
            imds += 1;
            continue;
        }
        let until_imds = if imds < imds_total {
            99 * (imds + 1) - browser
        } else {
            browser_total - browser
        };
        let n = rng
            .range(1, 16)
            .min(until_imds)
            .min(browser_total - browser);
        let i = flows.len();
        flows.push(browser_flow(&mut rng, i, n));
        browser += n;
    }
    FlowCorpus {
        name: "mixed",
        flows,
        side: Side::Requests,
    }
}

/// The responses of [`mixed_flows`].
pub fn response_flows(requests: usize) -> FlowCorpus {
    FlowCorpus {
        name: "responses",
        side: Side::Responses,
        ..mixed_flows(requests)
    }
}

/// The four flow corpora of the `flow` bench, `requests` messages each.
pub fn flow_corpora(requests: usize) -> Vec<FlowCorpus> {
    vec![
        browser_flows(requests),
        imds_flows(requests),
        mixed_flows(requests),
        response_flows(requests),
    ]
}

/// One corpus by name.
pub fn flow_corpus(name: &str, requests: usize) -> Option<FlowCorpus> {
    Some(match name {
        "browser" => browser_flows(requests),
        "imds" => imds_flows(requests),
        "mixed" => mixed_flows(requests),
        "responses" => response_flows(requests),
        _ => return None,
    })
}

// ------------------------------------------------------------------------------------------
// Frames for the packet tracker
// ------------------------------------------------------------------------------------------

/// Kinds of packets that are not candidates for detection.
pub const FRAME_KINDS: &[&str] = &[
    "udp-dns",
    "icmp-echo",
    "arp",
    "tcp-ack",
    "tcp-ack-flow",
    "tcp-tls",
];

/// Flows in the table while packets are measured ([`populated_tracker`]).
pub const BACKGROUND_FLOWS: usize = 4096;

/// A tracker holding [`BACKGROUND_FLOWS`] flows (SYNs to port 80), as a busy sensor's table
/// does, so that look-ups hash and probe a real table. Returns it with the next timestamp.
pub fn populated_tracker(engine: &imdsguard::engine::Engine) -> (imdsguard::packet::Tracker, u64) {
    use imdsguard::packet::{LinkType, Tracker, TrackerConfig};
    let mut t = Tracker::new(TrackerConfig::default());
    let mut ts = 1_715_000_000_000_000;
    for f in frames("tcp-syn", BACKGROUND_FLOWS) {
        t.packet(engine, &f, LinkType::Ethernet, ts);
        ts += 1;
    }
    assert_eq!(t.flow_count(), BACKGROUND_FLOWS);
    (t, ts)
}

fn ethernet(ethertype: u16, payload: &[u8], i: usize) -> Vec<u8> {
    let mut f = vec![
        0x02,
        0,
        0,
        0,
        0,
        0xfe,
        0x02,
        0,
        0,
        (i >> 8) as u8,
        i as u8,
        1,
    ];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4(protocol: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let total = (20 + l4.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34, 0x40, 0, 64, protocol, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    // Header checksum (the tracker does not verify it; a real one anyway).
    let sum = (0..10)
        .map(|k| u32::from(u16::from_be_bytes([p[2 * k], p[2 * k + 1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    let ck = !((sum & 0xffff) + (sum >> 16)) as u16;
    p[10..12].copy_from_slice(&ck.to_be_bytes());
    p.extend_from_slice(l4);
    p
}

fn tcp(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&0x1000_0000u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

/// `n` frames of one kind ([`FRAME_KINDS`]), spread over many hosts:
/// - `udp-dns`: a DNS query (UDP/53) between LAN hosts;
/// - `icmp-echo`: an echo request to a public host;
/// - `arp`: an ARP request (no IP);
/// - `tcp-ack`: a bare ACK (no SYN, no payload) to a public host on 443, no flow known;
/// - `tcp-ack-flow`: a bare ACK of a connection the tracker holds (the client side of the
///   first [`BACKGROUND_FLOWS`] `tcp-syn` frames: the same addresses and ports), the
///   commonest segment on a real link;
/// - `tcp-syn`: a SYN to a public host on 80 (a flow each: the background the others are
///   measured against, so that the flow table is not empty);
/// - `tcp-tls`: TLS application data on 64 connections to public hosts on 443: payload
///   on a port that is not HTTP, so the tracker keeps a flow for it and its parser reads it
///   (consecutive sequence numbers, so it stays in order).
pub fn frames(kind: &str, n: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x0bad_cafe_f00d_0001);
    (0..n)
        .map(|i| {
            let client = [10, 20, (i >> 8) as u8, i as u8];
            let public = [93, 184, rng.range(0, 255) as u8, rng.range(1, 254) as u8];
            match kind {
                "udp-dns" => {
                    let mut q = vec![(i >> 8) as u8, i as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
                    q.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
                    let mut u = Vec::new();
                    u.extend_from_slice(&(30_000 + i as u16).to_be_bytes());
                    u.extend_from_slice(&53u16.to_be_bytes());
                    u.extend_from_slice(&((8 + q.len()) as u16).to_be_bytes());
                    u.extend_from_slice(&[0, 0]);
                    u.extend_from_slice(&q);
                    ethernet(0x0800, &ipv4(17, client, [10, 20, 0, 53], &u), i)
                }
                "icmp-echo" => {
                    let mut m = vec![8, 0, 0, 0, 0, 1, (i >> 8) as u8, i as u8];
                    m.extend_from_slice(&[0x61; 56]);
                    ethernet(0x0800, &ipv4(1, client, public, &m), i)
                }
                "arp" => {
                    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
                    a.extend_from_slice(&[0x02, 0, 0, 0, (i >> 8) as u8, i as u8]);
                    a.extend_from_slice(&client);
                    a.extend_from_slice(&[0; 6]);
                    a.extend_from_slice(&[10, 20, 0, 1]);
                    ethernet(0x0806, &a, i)
                }
                "tcp-ack" => {
                    let t = tcp(40_000 + (i % 20_000) as u16, 443, i as u32, 0x10, &[]);
                    ethernet(0x0800, &ipv4(6, client, public, &t), i)
                }
                "tcp-ack-flow" => {
                    let t = tcp(40_000 + (i % 20_000) as u16, 80, i as u32 + 1, 0x10, &[]);
                    ethernet(0x0800, &ipv4(6, client, public, &t), i)
                }
                "tcp-syn" => {
                    let t = tcp(40_000 + (i % 20_000) as u16, 80, i as u32, 0x02, &[]);
                    ethernet(0x0800, &ipv4(6, client, public, &t), i)
                }
                "tcp-tls" => {
                    let conn = i % 64;
                    let round = (i / 64) as u32;
                    let mut rec = vec![0x17, 0x03, 0x03, 0x02, 0x00];
                    rec.extend_from_slice(&[0x5a; 512]);
                    let seq = 1000 + round * rec.len() as u32;
                    let t = tcp(40_000 + conn as u16, 443, seq, 0x18, &rec);
                    let server = [93, 184, 216, conn as u8 + 1];
                    ethernet(0x0800, &ipv4(6, [10, 20, 0, conn as u8], server, &t), i)
                }
                _ => panic!("unknown frame kind {kind}"),
            }
        })
        .collect()
}
