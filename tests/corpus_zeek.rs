//! Zeek HTTP traces (`tests/data/corpus/zeek-http/`, BSD-3-Clause) against Zeek's own
//! expected logs (`baselines/*/http.log`, `weird.log`).
//!
//! - `traces/261/`: request-smuggling variants. Each stream is `POST /` with a framing trick
//!   followed by `GET /smuggled-…`. We must surface the hidden request as its own transaction
//!   *and* flag the trick (the anomaly named per variant below).
//! - Other traces with a baseline `http.log`: method, target and status per transaction
//!   must match Zeek's rows, except the documented [`KNOWN_DIFFERENCES`]. Zeek's `weird.log`
//!   names are mapped to our anomalies where a counterpart exists ([`weird_anomalies`]).

mod common;

use common::*;
use imdsguard::flow::transaction::Transaction;
use imdsguard::http::Anomalies;
use std::collections::BTreeMap;

/// The smuggling variants and the anomaly each must raise (`None`: nothing to flag, the
/// stream is well-formed; Zeek only finds the combination odd).
const VARIANTS_261: &[(&str, &str, Option<Anomalies>)] = &[
    (
        "variant-01-chunk_2pow64_overflow",
        "261.chunk-2pow64-overflow",
        Some(Anomalies::CHUNK_SIZE_OVERFLOW),
    ),
    (
        "variant-02-cl_uint64max",
        "261.cl-uint64max",
        Some(Anomalies::CL_OVERFLOW),
    ),
    (
        "variant-03-cl_negative",
        "261.cl-negative",
        Some(Anomalies::CL_INVALID),
    ),
    (
        "variant-04-te_cl_desync",
        "261.te-cl-desync",
        Some(Anomalies::CL_AND_TE),
    ),
    ("variant-07-expect_100_cl0", "261.cl-0-expect-100", None),
    (
        "variant-08-leading_zeros",
        "261.cl-leading-zeros",
        Some(Anomalies::CL_LEADING_ZEROS),
    ),
    (
        "variant-09-te_obs_fold",
        "261.obsolete-line-fold",
        Some(Anomalies::OBS_FOLD),
    ),
    (
        "variant-10-multi_value_te",
        "261.chunked-rest",
        Some(Anomalies::TE_NOT_CHUNKED),
    ),
];

/// Conversation file → (baseline folder suffix, log file, Zeek connection uid). The uid picks
/// the connection's rows when a capture held several.
const WITH_BASELINE: &[(&str, &str, &str, &str)] = &[
    (
        "content-length-in-request-body.t",
        "content-length-in-request-body",
        "http.log.cut",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "content-length-overflow.t",
        "content-length-overflow",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "curl_http_09.t",
        "curl-http-09",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "fake-content-length.t",
        "fake-content-length",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "http_09.conn0.t",
        "http-09",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "http_09.conn1.t",
        "http-09",
        "http.log",
        "ClEkJM2Vm5giqnMf4h",
    ),
    (
        "http_09.conn2.t",
        "http-09",
        "http.log",
        "C4J4Th3PJpwUYZZ6gc",
    ),
    (
        "http_09.conn3.t",
        "http-09",
        "http.log",
        "CtPZjS20MLrsMUOJi2",
    ),
    (
        "http_09.conn4.t",
        "http-09",
        "http.log",
        "CUM0KZ3MLUfNB0cl11",
    ),
    (
        "http-09-content-length-confusion.t",
        "http-09-content-length-confusion",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "http-11-request-then-cruft.t",
        "http-11-request-then-cruft",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "http-bad-request-with-version.t",
        "http-bad-request-with-version",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "connect-with-smtp.t",
        "http-connect",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "http-desync-request-response-5.conn1.t",
        "http-desynched",
        "http.log",
        "ClEkJM2Vm5giqnMf4h",
    ),
    (
        "http-lower-case.t",
        "http-lower-case",
        "http.log.standard",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "http-inner-transfer-encoding-ossfuzz.t",
        "inner-transfer-encoding-ossfuzz",
        "http.log.cut",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "http-inner-transfer-encoding-reproducer.t",
        "inner-transfer-encoding-reproducer",
        "http.log.cut",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "multipart.t",
        "multipart-extract",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    ("no-uri.t", "no-uri", "http.log", "CHhAvVGS1DHFjwGM9"),
    (
        "no-version.t",
        "no-version",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "percent-end-of-line.conn0.t",
        "percent-end-of-line",
        "http.log",
        "CHhAvVGS1DHFjwGM9",
    ),
    (
        "percent-end-of-line.conn1.t",
        "percent-end-of-line",
        "http.log",
        "ClEkJM2Vm5giqnMf4h",
    ),
    (
        "smuggle-http-request.t",
        "smuggle-http-request",
        "http.log.cut",
        "CHhAvVGS1DHFjwGM9",
    ),
];

/// Traces whose transactions legitimately differ from Zeek's `http.log`, and what we see.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "http-11-request-then-cruft.t",
        // After `GET /` the client sends lines `T / HTTP`; Zeek logs one transaction and a
        // `bad_HTTP_request` weird. We keep reading and report each cruft line as a request
        // (method `T`, target `/ HTTP`, flagged VERSION_MISSING | TARGET_INVALID), the first
        // one paired with the server's 400.
        "cruft lines become flagged HTTP/0.9-style requests",
    ),
    (
        "http-bad-request-with-version.t",
        // The request line starts with `\xdd\0\0\0 `: Zeek gives up on the request
        // (`bad_HTTP_request_with_version`, response-only row); we keep it as a request with
        // an invalid method (METHOD_INVALID | CTL_IN_FIELD | TARGET_INVALID).
        "malformed request line kept as a flagged request",
    ),
    (
        "http_09.conn2.t",
        // `GET` alone then LF: Zeek's `bad_HTTP_request`, no http.log row; we report an
        // HTTP/0.9 `GET` without target (TARGET_INVALID | VERSION_MISSING).
        "request line without target kept as a flagged request",
    ),
    (
        "http_09.conn3.t",
        // `T /zeek.html` then LF: Zeek's `bad_HTTP_request`; for us a flagged HTTP/0.9 request.
        "HTTP/0.9 request with an unknown method kept (flagged)",
    ),
    (
        "http_09.conn4.t",
        // `T` alone: Zeek's `bad_HTTP_request`; for us a flagged HTTP/0.9 request.
        "one-word request line kept as a flagged request",
    ),
];

/// Zeek weird names mapped to the anomalies that record the same thing.
fn weird_anomalies(name: &str) -> Option<Anomalies> {
    use Anomalies as A;
    Some(match name {
        "HTTP_bad_chunk_size" => A::CHUNK_SIZE_OVERFLOW | A::CHUNK_SIZE_INVALID,
        "HTTP_bad_content_length" => A::CL_OVERFLOW | A::CL_INVALID,
        "HTTP_content_length_and_chunked" => A::CL_AND_TE,
        "HTTP_content_length_leading_zeros" => A::CL_LEADING_ZEROS,
        "HTTP_obsolete_line_folding" => A::OBS_FOLD,
        "HTTP_chunked_multi" => A::TE_NOT_CHUNKED,
        "http_09_reply_before_request" | "HTTP_response_before_request" => {
            A::RESPONSE_WITHOUT_REQUEST
        }
        "invalid_http_09_request_method" => A::VERSION_MISSING,
        "bad_HTTP_request" | "bad_HTTP_request_with_version" => {
            A::METHOD_INVALID | A::TARGET_INVALID | A::VERSION_MISSING | A::VERSION_INVALID
        }
        "line_terminated_with_single_CR" => A::LONE_CR,
        "missing_HTTP_uri" => A::TARGET_INVALID,
        _ => return None,
    })
}

/// Weirds without a counterpart among our anomalies, and why.
const UNMAPPED_WEIRDS: &[(&str, &str)] = &[
    (
        "HTTP_content_length_0_and_expect_100_cont",
        "a well-formed combination; not a framing anomaly",
    ),
    (
        "HTTP_version_mismatch",
        "request and response versions differ: not tracked",
    ),
    (
        "unknown_HTTP_method",
        "any token is a valid method for us (RFC 9110 §9.1)",
    ),
    (
        "http_no_crlf_in_header_list",
        "raised by Zeek's MIME parser inside a body: bodies are not MIME-parsed here",
    ),
    (
        "HTTP_nested_transfer_encoding_header",
        "raised by Zeek's MIME parser inside a body",
    ),
    (
        "illegal_%_at_end_of_URI",
        "percent-decoding belongs to the normalize module, not the parser",
    ),
    (
        "partial_escape_at_end_of_URI",
        "percent-decoding belongs to the normalize module, not the parser",
    ),
];

/// Rows of a Zeek TSV log as column → value maps (header from `#fields` or, for `zeek-cut -m`
/// output, the first non-comment line).
fn zeek_rows(rel: &str) -> Vec<BTreeMap<String, String>> {
    let text = String::from_utf8_lossy(&read_corpus(rel)).into_owned();
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            header = Some(f.split('\t').map(str::to_string).collect());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match &header {
            None => header = Some(line.split('\t').map(str::to_string).collect()),
            Some(h) => rows.push(
                h.iter()
                    .cloned()
                    .zip(line.split('\t').map(str::to_string))
                    .collect(),
            ),
        }
    }
    rows
}

fn baseline(dir: &str, file: &str) -> String {
    format!("zeek-http/baselines/scripts.base.protocols.http.{dir}/{file}")
}

/// (method, uri, status) of one transaction in Zeek's notation: `-` for no request, `0` for no
/// status.
fn zeek_view(tx: &Transaction) -> (String, String, String) {
    match &tx.request {
        Some(_) => (method(tx), uri(tx), status(tx).to_string()),
        None => ("-".into(), "-".into(), status(tx).to_string()),
    }
}

/// Zeek's rows of one connection, without the placeholder rows Zeek writes for a transaction
/// that never started (`-` method and `-` status).
fn expected_rows(dir: &str, file: &str, uid: &str) -> Vec<(String, String, String)> {
    zeek_rows(&baseline(dir, file))
        .into_iter()
        .filter(|r| r.get("uid").map(String::as_str) == Some(uid))
        .filter(|r| !(r["method"] == "-" && r.get("status_code").map_or(true, |s| s == "-")))
        .map(|r| {
            let uri = match r["uri"].as_str() {
                "(empty)" => String::new(),
                u => u.to_string(),
            };
            let status = match r.get("status_code").map(String::as_str) {
                None | Some("-") => "0".to_string(),
                Some(s) => s.to_string(),
            };
            (r["method"].clone(), uri, status)
        })
        .collect()
}

#[test]
fn smuggling_variants_surface_the_hidden_request_and_flag_the_trick() {
    let files = conversation_files("zeek-http/traces/261");
    assert_eq!(files.len(), VARIANTS_261.len(), "261 variant count");
    for &(name, dir, want) in VARIANTS_261 {
        let txs = run_corpus_file(&format!("zeek-http/traces/261/{name}.t"));
        let s = summary(&txs);
        assert_eq!(txs.len(), 2, "{name}: {s}");
        assert_eq!(
            (method(&txs[0]).as_str(), uri(&txs[0]).as_str()),
            ("POST", "/"),
            "{name}"
        );
        assert_eq!(method(&txs[1]), "GET", "{name}: {s}");
        assert!(uri(&txs[1]).starts_with("/smuggled-"), "{name}: {s}");
        // The trick is flagged on the POST that carries it; the smuggled GET is clean.
        if let Some(a) = want {
            assert!(tx_anomalies(&txs[0]).contains(a), "{name}: {s}");
            assert!(
                txs[0].request.as_ref().is_some_and(|r| r.complete),
                "{name}: {s}"
            );
        }
        assert!(
            (tx_anomalies(&txs[1]) - Anomalies::HOST_MISSING - Anomalies::TRUNCATED).is_empty(),
            "{name}: smuggled request has anomalies: {s}"
        );
        // Zeek's view is the same: two requests with these targets, and the same weird.
        let rows = expected_rows(dir, "http.log", "CHhAvVGS1DHFjwGM9");
        let mut ours: Vec<_> = txs
            .iter()
            .map(|t| (method(t), uri(t), "0".to_string()))
            .collect();
        ours.sort();
        let mut rows_sorted = rows.clone();
        rows_sorted.sort();
        assert_eq!(ours, rows_sorted, "{name}: http.log rows");
        for w in zeek_rows(&baseline(dir, "weird.log")) {
            match weird_anomalies(&w["name"]) {
                Some(m) => assert!(
                    all_anomalies(&txs).intersects(m),
                    "{name}: weird {} not flagged: {s}",
                    w["name"]
                ),
                None => assert!(
                    UNMAPPED_WEIRDS.iter().any(|(n, _)| *n == w["name"]),
                    "{name}: weird {} neither mapped nor listed",
                    w["name"]
                ),
            }
        }
    }
}

#[test]
fn traces_match_zeek_http_log() {
    let known: BTreeMap<&str, &str> = KNOWN_DIFFERENCES.iter().copied().collect();
    let (mut agree, mut differ) = (0, 0);
    let mut problems = Vec::new();
    for &(trace, dir, file, uid) in WITH_BASELINE {
        let txs = run_corpus_file(&format!("zeek-http/traces/{trace}"));
        let ours: Vec<_> = txs.iter().map(zeek_view).collect();
        let rows = expected_rows(dir, file, uid);
        let same = ours == rows;
        match (same, known.get(trace)) {
            (true, None) => agree += 1,
            (false, Some(_)) => differ += 1,
            (true, Some(_)) => problems.push(format!(
                "{trace}: now matches Zeek, remove it from KNOWN_DIFFERENCES"
            )),
            (false, None) => problems.push(format!(
                "{trace}: ours {ours:?} != Zeek {rows:?} [{}]",
                summary(&txs)
            )),
        }
        // A known difference still has to be visible: every transaction Zeek did not log
        // carries an anomaly.
        if !same && known.contains_key(trace) {
            for t in &txs {
                if !rows.contains(&zeek_view(t)) {
                    let a = tx_anomalies(t) - Anomalies::HOST_MISSING - Anomalies::TRUNCATED;
                    assert!(
                        !a.is_empty(),
                        "{trace}: extra transaction without anomaly: {}",
                        summary(std::slice::from_ref(t))
                    );
                }
            }
        }
    }
    println!(
        "zeek http.log: {} traces, {agree} agree, {differ} known differences",
        WITH_BASELINE.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(differ, KNOWN_DIFFERENCES.len());
    assert_eq!(agree + differ, WITH_BASELINE.len());
}

#[test]
fn zeek_weirds_are_flagged_or_explained() {
    let mut checked = 0;
    for &(trace, dir, _, uid) in WITH_BASELINE {
        let weird_file = ["weird.log", "weird.log.cut", "weird.log.standard"]
            .into_iter()
            .map(|f| baseline(dir, f))
            .find(|p| corpus_path(p).exists());
        let Some(weird_file) = weird_file else {
            continue;
        };
        let txs = run_corpus_file(&format!("zeek-http/traces/{trace}"));
        let ours = all_anomalies(&txs);
        for w in zeek_rows(&weird_file) {
            if w.get("uid").map(String::as_str) != Some(uid) {
                continue;
            }
            let name = w["name"].as_str();
            match weird_anomalies(name) {
                Some(m) => {
                    assert!(
                        ours.intersects(m),
                        "{trace}: weird {name} but none of [{}] (have [{}])",
                        names(m),
                        names(ours)
                    );
                    checked += 1;
                }
                None => assert!(
                    UNMAPPED_WEIRDS.iter().any(|(n, _)| *n == name),
                    "{trace}: weird {name} neither mapped nor listed"
                ),
            }
        }
    }
    assert!(checked >= 8, "only {checked} weirds checked");
}

/// Every trace (with or without a baseline) runs and yields transactions; the 206 answer of
/// `http-large-gap` (whose `.t` holds only the bytes before the hole) is paired.
#[test]
fn all_traces_run() {
    let files = conversation_files("zeek-http/traces");
    assert!(files.len() >= 40, "{} traces", files.len());
    for f in &files {
        let txs = run_conversation(&std::fs::read(f).expect("trace"), None);
        assert!(!txs.is_empty(), "{}: no transaction", rel_name(f));
    }
    let txs = run_corpus_file("zeek-http/traces/http-large-gap.t");
    assert_eq!(txs.len(), 1, "{}", summary(&txs));
    assert_eq!(status(&txs[0]), 206, "{}", summary(&txs));
    assert_eq!(method(&txs[0]), "GET");
}
