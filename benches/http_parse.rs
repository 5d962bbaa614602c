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
//! The corpora are generated in `benches/common/`.
//!
//! Run: `cargo bench --bench http_parse`.

mod common;

use common::Corpus;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use imdsguard::flow::{Direction, Event, EventSink, HttpStream};
use std::time::Duration;

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
    bench_corpus(c, &common::browser_corpus());
    bench_corpus(c, &common::imds_corpus());
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
