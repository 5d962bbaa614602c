//! suricata-verify HTTP tests (`tests/data/corpus/suricata-verify-http/`, MIT), and the
//! chunk-invariance check over every conversation file of the whole corpus.
//!
//! Each suricata-verify test states its expectation as filters over Suricata's EVE output
//! (`test.yaml`). Where the expectation is about parsing (transactions, fields, parser
//! events) it is restated here in our terms; rule-engine matters (signatures, file
//! extraction sizes, IPS drops) are out of scope. Differences are listed in
//! [`KNOWN_DIFFERENCES`] with their reason.

mod common;

use common::*;
use imdsguard::flow::BodyFraming;
use imdsguard::http::Anomalies;
use std::time::Instant;

/// Expectations we do not meet today, with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn known(test: &str) -> bool {
    KNOWN_DIFFERENCES.iter().any(|(t, _)| *t == test)
}

fn run(test: &str, file: &str) -> Vec<imdsguard::flow::transaction::Transaction> {
    run_corpus_file(&format!("suricata-verify-http/{test}/{file}"))
}

#[test]
fn multiple_content_length_is_flagged() {
    // `http.duplicate_content_length_field_in_request`: two different values.
    let txs = run("http-multiple-cl", "input.t");
    assert!(
        tx_anomalies(&txs[0]).contains(Anomalies::CL_CONFLICT),
        "{}",
        summary(&txs)
    );
    assert_eq!(method(&txs[0]), "POST");
}

#[test]
fn chunk_extension_is_flagged() {
    // `http.request_chunk_extension`.
    let txs = run("http-event-chunk", "input.t");
    let r = txs[0].request.as_ref().expect("request");
    assert!(
        r.anomalies.contains(Anomalies::CHUNK_EXTENSION),
        "{}",
        summary(&txs)
    );
    assert_eq!(r.framing, Some(BodyFraming::Chunked));
}

#[test]
fn request_lines_without_protocol_keep_their_headers() {
    // http-not09: `REQUEST_LINE_MISSING_PROTOCOL`, and the user agent is still logged.
    let txs = run("http-not09", "input.t");
    let r = txs[0].request.as_ref().expect("request");
    assert!(
        r.anomalies.contains(Anomalies::VERSION_MISSING),
        "{}",
        summary(&txs)
    );
    assert_eq!(header(r, "User-Agent"), Some(&b"myscript"[..]));
    // http-not09-spaces: the event only.
    let txs = run("http-not09-spaces", "input.t");
    assert!(
        tx_anomalies(&txs[0]).contains(Anomalies::VERSION_MISSING),
        "{}",
        summary(&txs)
    );
    // http-missing-protocol: a rule on method GET and header name User-Agent fires.
    let txs = run("http-missing-protocol", "input.t");
    let r = txs[0].request.as_ref().expect("request");
    assert_eq!(r.method, b"GET");
    assert!(header(r, "User-Agent").is_some(), "{}", summary(&txs));
    assert!(r.anomalies.contains(Anomalies::VERSION_MISSING));
}

#[test]
fn gap_inside_a_body_keeps_the_following_transactions() {
    // http-gap-simple: /1, /2, /3 all answered 200; only the /2 body has a gap. (Suricata's
    // file sizes, 14/70/14, count two bytes after each 12-byte body: not a parser matter.)
    let txs = run("http-gap-simple", "input.t");
    assert_eq!(txs.len(), 3, "{}", summary(&txs));
    for (i, u) in ["/1", "/2", "/3"].iter().enumerate() {
        assert_eq!(uri(&txs[i]), *u);
        assert_eq!(status(&txs[i]), 200);
        let r = txs[i].response.as_ref().expect("response");
        assert_eq!(
            r.anomalies.contains(Anomalies::GAP),
            i == 1,
            "{}",
            summary(&txs)
        );
        assert_eq!(r.body_len, if i == 1 { 70 } else { 12 });
        assert!(r.complete && !r.anomalies.contains(Anomalies::TRUNCATED));
    }
}

#[test]
fn interim_answers_and_odd_status() {
    // http-multiple100: two `100 Continue` then 200.
    let txs = run("http-multiple100", "input.t");
    assert_eq!(txs.len(), 1, "{}", summary(&txs));
    assert_eq!(txs[0].interim, [100, 100]);
    assert_eq!(status(&txs[0]), 200);
    // http1-noint-status: `2XX` is logged as the status string; for us an invalid status.
    let txs = run("http1-noint-status", "input.t");
    let r = txs[0].response.as_ref().expect("response");
    assert!(
        r.anomalies.contains(Anomalies::STATUS_INVALID),
        "{}",
        summary(&txs)
    );
    assert_eq!(r.status, 0);
}

#[test]
fn one_sided_and_midstream_captures() {
    let txs = run("http-async", "input.t");
    assert_eq!(
        txs.iter().map(|t| (uri(t), status(t))).collect::<Vec<_>>(),
        [("/1".to_string(), 200), ("/2".to_string(), 200)]
    );
    let txs = run("http-async-cli", "input.t");
    assert_eq!(txs.iter().map(uri).collect::<Vec<_>>(), ["/1", "/2"]);
    let txs = run("http-async-srv", "input.t");
    assert_eq!(txs.iter().map(status).collect::<Vec<_>>(), [200, 200]);
    assert!(txs
        .iter()
        .all(|t| tx_anomalies(t).contains(Anomalies::RESPONSE_WITHOUT_REQUEST)));
    // http-request-line: the request line is `GET /index.html HTTP/1.0`.
    let txs = run("http-request-line", "input.t");
    let r = txs[0].request.as_ref().expect("request");
    assert_eq!(
        (&r.method[..], &r.uri[..], &r.protocol[..]),
        (&b"GET"[..], &b"/index.html"[..], &b"HTTP/1.0"[..])
    );
}

#[test]
fn headers_fields_and_limits() {
    // http-close-headers: the server header arrives although the connection closes during
    // the header block (TRUNCATED for us).
    let txs = run("http-close-headers", "input.t");
    let r = txs[0].response.as_ref().expect("response");
    assert_eq!(header(r, "Server"), Some(&b"ng1nx"[..]));
    // http-chunked: `Transfer-Encoding: ,\tchunked,` still chunked; all headers reported.
    let txs = run("http-chunked", "input.t");
    let r = txs[0].request.as_ref().expect("request");
    assert_eq!(r.framing, Some(BodyFraming::Chunked), "{}", summary(&txs));
    for h in [
        "Host",
        "Cookie",
        "X-Qlik-User",
        "User-Agent",
        "Content-Length",
    ] {
        assert!(header(r, h).is_some(), "{h}");
    }
    // http-uri-spaces: the target keeps the part after the space.
    let txs = run("http-uri-spaces", "input.t");
    assert!(uri(&txs[0]).ends_with(" afterspace"), "{}", summary(&txs));
    assert!(tx_anomalies(&txs[0]).contains(Anomalies::TARGET_INVALID));
    // http-ipv6: no anomaly, Host `[::1]`.
    let txs = run("http-ipv6", "input.t");
    assert!(all_anomalies(&txs).is_empty(), "{}", summary(&txs));
    let r = txs[0].request.as_ref().expect("request");
    assert!(header(r, "Host").is_some_and(|h| h.starts_with(b"[::1]")));
    // bug-8224-01: `request_field_too_long`.
    let txs = run("bug-8224-01", "example-s0.t");
    assert!(
        tx_anomalies(&txs[0]).contains(Anomalies::LINE_TOO_LONG),
        "{}",
        summary(&txs)
    );
    // http-data-after-09: no parser error (for us: it parses, the 400 is paired).
    let txs = run("http-data-after-09", "input.t");
    assert_eq!(txs.len(), 1, "{}", summary(&txs));
    assert_eq!(status(&txs[0]), 400);
    // http-request-header-multi: one GET /s/ws with its headers.
    let txs = run("http-request-header-multi", "input.t");
    assert_eq!(
        (method(&txs[0]), uri(&txs[0])),
        ("GET".to_string(), "/s/ws".to_string())
    );
    // http-double-encoded-uri uses the bug-3616 capture: the raw target is kept as sent.
    let txs = run("bug-3616-urldecode", "input.conn0.t");
    assert_eq!(uri(&txs[0]), "/evil%2527sqli");
}

#[test]
fn connect_tunnels() {
    for t in [
        "http-connect-simple",
        "http-connect-fragmented",
        "http-connect-fail",
        "http-connect-tls",
    ] {
        let txs = run(&format!("http-connect/{t}"), "input.t");
        assert_eq!(method(&txs[0]), "CONNECT", "{t}");
        assert_eq!(status(&txs[0]), 200, "{t}");
        let second_get = txs
            .iter()
            .skip(1)
            .any(|x| method(x) == "GET" && status(x) == 200);
        let expects_get = matches!(t, "http-connect-simple" | "http-connect-fragmented");
        if expects_get {
            // Plain HTTP inside the tunnel is parsed, as Suricata does.
            assert_eq!(
                second_get,
                !known(&format!("http-connect/{t}")),
                "{t}: {}",
                summary(&txs)
            );
        } else {
            assert!(!second_get, "{t}");
        }
    }
}

#[test]
fn unframed_request_body() {
    // http-request-invalid: POST without Content-Length, then the form data. Suricata:
    // `request_body_unexpected` on two of the four connections. For us the bytes after the
    // body-less POST belong to no message: they are reported at close as a stream anomaly.
    let mut flagged = 0;
    for n in 0..4 {
        let file = format!("input.conn{n}.t");
        let txs = run("http-request-invalid", &file);
        assert_eq!(method(&txs[0]), "POST");
        let stream =
            corpus_stream_anomalies(&format!("suricata-verify-http/http-request-invalid/{file}"));
        if (all_anomalies(&txs) | stream).intersects(Anomalies::JUNK_BEFORE_MESSAGE) {
            flagged += 1;
        }
    }
    assert!(flagged >= 2, "{flagged} connections flagged");
}

/// Every conversation file of the corpus gives the same rendered transactions (the
/// `http-dump` JSON plus the body bytes) whole and re-split at 1, 7, 64 and 1460 bytes; gap
/// chunks are passed as gaps in every run.
#[test]
fn every_corpus_stream_is_chunk_invariant() {
    let start = Instant::now();
    let files = conversation_files("");
    let mut failures = Vec::new();
    for f in &files {
        let data = std::fs::read(f).expect("stream");
        if let Err(e) = chunk_invariance(&data) {
            failures.push(format!("{}: {e}", rel_name(f)));
        }
    }
    println!(
        "chunk invariance: {} streams x {} splits in {:.2?}",
        files.len(),
        SPLITS.len(),
        start.elapsed()
    );
    // 155 libhtp + 502 evader + 41 zeek + 28 suricata-verify streams.
    assert!(files.len() >= 720, "only {} streams found", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
