//! Parse throughput of the streaming HTTP/1.x parser, whole buffers and 1460- and 64-byte
//! chunks, on two deterministic request corpora, with httparse in the same groups.
//!
//! - `browser`: pipelined browser requests, 400–700 bytes each, 8–14 headers.
//! - `imds_botocore`: the IMDSv2 sequence botocore sends (token PUT, role listing, role
//!   credentials, now and then the availability zone).
//!
//! httparse is not streaming: a caller that gets the bytes in chunks appends each chunk to a
//! buffer and parses again from the start of the current request until it is complete, so
//! the cost of a request grows with the number of chunks it arrives in. `imdsguard` scans
//! every byte once whatever the chunking. `memchr/memmem` (count of CRLFCRLF) is the speed of
//! one vectorised pass over the bytes, for reference.
//!
//! Run: `cargo bench --bench http_parse`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use imdsguard::flow::{Direction, Event, EventSink, HttpStream};
use std::time::Duration;

// ------------------------------------------------------------------------------------------
// Deterministic corpora
// ------------------------------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// `n` characters of `alphabet`.
    fn text(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n)
            .map(|_| alphabet[self.range(0, alphabet.len() - 1)] as char)
            .collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

const PATHS: &[&str] = &[
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
fn browser_request(rng: &mut Rng) -> Vec<u8> {
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

/// The botocore User-Agent, as recent versions build it.
fn botocore_user_agent(rng: &mut Rng) -> String {
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
fn imds_token(rng: &mut Rng) -> String {
    format!("AQAEA{}==", rng.text(49, BASE64URL))
}

/// botocore's requests through urllib3 and `http.client`: `Host` and
/// `Accept-Encoding: identity` come from `http.client.putrequest`, then botocore's own
/// headers in the order it sets them, then `Content-Length: 0` for a PUT without a body.
fn botocore_sequence(rng: &mut Rng, out: &mut Vec<u8>) -> usize {
    let ua = botocore_user_agent(rng);
    let token = imds_token(rng);
    let role = format!(
        "{}-ec2-role-{}",
        rng.pick(&["app", "web", "batch", "ci"]),
        rng.text(6, ALNUM)
    );
    let mut n = 0;
    let mut push = |s: String| {
        out.extend_from_slice(s.as_bytes());
        n += 1;
    };
    push(format!(
        "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nAccept-Encoding: identity\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\nUser-Agent: {ua}\r\nContent-Length: 0\r\n\r\n"
    ));
    let get = |path: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: 169.254.169.254\r\nAccept-Encoding: identity\r\nx-aws-ec2-metadata-token: {token}\r\nUser-Agent: {ua}\r\n\r\n"
        )
    };
    push(get("/latest/meta-data/iam/security-credentials/"));
    push(get(&format!(
        "/latest/meta-data/iam/security-credentials/{role}"
    )));
    if rng.chance(30) {
        push(get("/latest/meta-data/placement/availability-zone/"));
    }
    n
}

/// A corpus: the bytes of one client direction and the number of requests in it.
struct Corpus {
    name: &'static str,
    bytes: Vec<u8>,
    requests: usize,
}

const CORPUS_SIZE: usize = 256 * 1024;

fn browser_corpus() -> Corpus {
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

fn imds_corpus() -> Corpus {
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
// The parsers under test
// ------------------------------------------------------------------------------------------

/// A sink that does the least a real consumer does: look at each event.
#[derive(Default)]
struct CountSink {
    events: usize,
    requests: usize,
}

impl EventSink for CountSink {
    #[inline]
    fn on_event(&mut self, event: &Event<'_>) {
        self.events += 1;
        if let Event::RequestLine { .. } = event {
            self.requests += 1;
        }
    }
}

const C: Direction = Direction::ToServer;

fn imdsguard_feed(data: &[u8], chunk: usize) -> CountSink {
    let mut s = HttpStream::new();
    let mut sink = CountSink::default();
    for piece in data.chunks(chunk) {
        s.feed(C, piece, &mut sink);
    }
    s.close(C, &mut sink);
    sink
}

/// Suricata mode. The caller's stream buffer is contiguous, so re-presenting the unconsumed
/// tail plus the next chunk is a window `[consumed, received)` of the corpus, as it is in
/// Suricata's reassembled stream: no copy on the caller's side either.
fn imdsguard_in_place(data: &[u8], chunk: usize) -> CountSink {
    let mut s = HttpStream::new();
    let mut sink = CountSink::default();
    let mut start = 0;
    let mut received = 0;
    while received < data.len() {
        received = (received + chunk).min(data.len());
        let p = s.parse_in_place(C, &data[start..received], &mut sink);
        start += p.consumed;
    }
    s.feed(C, &data[start..], &mut sink);
    s.close(C, &mut sink);
    sink
}

/// httparse on a whole buffer: one request after the other.
fn httparse_whole(data: &[u8]) -> (usize, usize) {
    let mut pos = 0;
    let (mut requests, mut headers_seen) = (0, 0);
    while pos < data.len() {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&data[pos..]) {
            Ok(httparse::Status::Complete(n)) => {
                pos += n;
                requests += 1;
                headers_seen += req.headers.len();
            }
            Ok(httparse::Status::Partial) => break,
            Err(e) => panic!("httparse: {e}"),
        }
    }
    (requests, headers_seen)
}

/// httparse the way a streaming caller must use it: append each chunk to a buffer, parse
/// from the start of the current request until it is complete, then drain it.
fn httparse_chunked(data: &[u8], chunk: usize, buf: &mut Vec<u8>) -> (usize, usize) {
    buf.clear();
    let (mut requests, mut headers_seen) = (0, 0);
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    requests += 1;
                    headers_seen += req.headers.len();
                    buf.drain(..n);
                }
                Ok(httparse::Status::Partial) => break,
                Err(e) => panic!("httparse: {e}"),
            }
        }
    }
    (requests, headers_seen)
}

// ------------------------------------------------------------------------------------------
// Benchmarks
// ------------------------------------------------------------------------------------------

/// Every variant reads every request: checked once before timing.
fn check(corpus: &Corpus) {
    let n = corpus.requests;
    let data = &corpus.bytes;
    let whole = imdsguard_feed(data, data.len());
    assert_eq!(whole.requests, n, "{}: feed/whole", corpus.name);
    for chunk in [1460, 64] {
        let s = imdsguard_feed(data, chunk);
        assert_eq!(
            (s.requests, s.events),
            (n, whole.events),
            "{}: feed/{chunk}",
            corpus.name
        );
    }
    let s = imdsguard_in_place(data, 64);
    assert_eq!(
        (s.requests, s.events),
        (n, whole.events),
        "{}: in_place/64",
        corpus.name
    );
    let (r, h) = httparse_whole(data);
    assert_eq!(r, n, "{}: httparse/whole", corpus.name);
    let mut buf = Vec::new();
    for chunk in [1460, 64] {
        assert_eq!(
            httparse_chunked(data, chunk, &mut buf),
            (r, h),
            "{}: httparse/{chunk}",
            corpus.name
        );
    }
    let crlfcrlf = memchr::memmem::find_iter(data, b"\r\n\r\n").count();
    assert_eq!(crlfcrlf, n, "{}: one CRLFCRLF per request", corpus.name);
}

fn bench_corpus(c: &mut Criterion, corpus: &Corpus) {
    check(corpus);
    eprintln!(
        "corpus {}: {} bytes, {} requests, {} bytes per request on average",
        corpus.name,
        corpus.bytes.len(),
        corpus.requests,
        corpus.bytes.len() / corpus.requests
    );
    let data = &corpus.bytes[..];
    let mut group = c.benchmark_group(corpus.name);
    group.throughput(Throughput::Bytes(data.len() as u64));

    group.bench_function("imdsguard/feed/whole", |b| {
        b.iter(|| black_box(imdsguard_feed(black_box(data), data.len()).events))
    });
    for chunk in [1460, 64] {
        group.bench_function(format!("imdsguard/feed/{chunk}"), |b| {
            b.iter(|| black_box(imdsguard_feed(black_box(data), chunk).events))
        });
    }
    group.bench_function("imdsguard/in_place/64", |b| {
        b.iter(|| black_box(imdsguard_in_place(black_box(data), 64).events))
    });
    group.bench_function("httparse/whole", |b| {
        b.iter(|| black_box(httparse_whole(black_box(data))))
    });
    let mut buf = Vec::with_capacity(64 * 1024);
    for chunk in [1460, 64] {
        group.bench_function(format!("httparse/{chunk}"), |b| {
            b.iter(|| black_box(httparse_chunked(black_box(data), chunk, &mut buf)))
        });
    }
    let finder = memchr::memmem::Finder::new(b"\r\n\r\n");
    group.bench_function("memchr/memmem_crlfcrlf", |b| {
        b.iter(|| black_box(finder.find_iter(black_box(data)).count()))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_corpus(c, &browser_corpus());
    bench_corpus(c, &imds_corpus());
}

criterion_group! {
    name = http_parse;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(http_parse);
