//! HTTP Evader responses (`tests/data/corpus/suricata-verify-http-evader/`, MIT; captures by
//! HTTP Evader / App::DubiousHTTP).
//!
//! Each of the 502 streams is a `GET` for `eicar.txt` and a deliberately odd response that
//! at least one browser accepts. suricata-verify expects the de-chunked (and decompressed)
//! body to be the 68-byte EICAR file. We check every case whose body is not compressed:
//! our de-chunked response body must equal EICAR, unless the case is in [`KNOWN_DIFFERENCES`]
//! with its reason. Compressed bodies (category `compressed`, or a gzip/deflate/lzma trick,
//! with no plain EICAR in the raw bytes) are out of scope and counted as skipped.
//!
//! A known difference must still be visible: the run carries at least one anomaly (the IDS
//! knows the framing is disputed), except the cases in [`SILENT`].

mod common;

use common::*;
use imdsguard::http::Anomalies;
use std::collections::BTreeMap;

/// Totals today: streams, skipped (compressed), checked, equal to EICAR.
const TOTAL: usize = 502;
const SKIPPED: usize = 159;
const EQUAL: usize = 253;

// Why our body differs (one constant per cause; bytes looked at for each group).

/// `\rf\r\n`, `\nf\r\n`, VT/FF before the size, or empty lines before the first chunk: the
/// chunk-size line is not a hex number for us (CHUNK_SIZE_INVALID) and the framing is lost;
/// browsers skip the stray bytes.
const CHUNK_SIZE_PREFIX: &str = "junk/line end before the chunk size: CHUNK_SIZE_INVALID";
/// `Transfer-Encoding: chunked` with `Content-length: 68` and 68 junk bytes appended inside
/// the chunked body: TE wins (RFC 9112 §6.3), our body is EICAR + junk (CL_AND_TE flagged).
const TE_AND_CL: &str = "TE and CL: TE wins, body = EICAR + 68 junk bytes";
/// Response version below 1.1 (`HTTP/1.0`, `HTTP/0.9`, `HTTP/1.01`, `http/1.0`) with
/// `Transfer-Encoding: chunked` and a raw body: we de-chunk (TE_IN_HTTP10 /
/// CHUNK_SIZE_INVALID); browsers ignore TE there and read until close.
const TE_BELOW_11: &str = "TE honoured below HTTP/1.1; the body is raw (flagged)";
/// A Transfer-Encoding value that is not exactly `chunked` (`xchunked`, `chunked, x`, NUL,
/// VT, FF, NBSP, BOM, DEL around it, `:: chunked`) with a chunked body: for us the final coding
/// is not chunked, so the response is read until close (TE_NOT_CHUNKED); browsers de-chunk.
const TE_VARIANT_RAW: &str = "odd TE value not taken as chunked: body read raw (flagged)";
/// `Transfer-Encoding` that we do take as chunked (`chunked` after a fold, a CR, an unknown
/// coding, or with space before the colon) but browsers do not: the body is raw (do_clen),
/// so de-chunking fails (CHUNK_SIZE_INVALID).
const TE_VARIANT_DECHUNKED: &str = "odd TE taken as chunked, body is raw (CHUNK_SIZE_INVALID)";
/// A lone CR is never a line end for us (LONE_CR): a header (Transfer-Encoding) or the
/// status line separated by CR only merges with its neighbour, so chunked framing is not seen.
const CR_LINE_END: &str = "CR-only line end hides a line (LONE_CR)";
/// ` Transfer-Encoding: chunked` after another header: an obs-fold continuation for us
/// (OBS_FOLD), a header of its own for browsers.
const TE_IN_FOLD: &str = "TE line starting with whitespace is a fold (OBS_FOLD)";
/// NUL inside the header name (`Transfer\0-Encoding`, `te\0:`): not Transfer-Encoding for us
/// (INVALID_HEADER_NAME); browsers drop the NUL.
const NUL_IN_NAME: &str = "NUL in the TE header name (INVALID_HEADER_NAME)";
/// Folded, parenthesised, or junk-suffixed Content-Length with a second length, junk after the
/// 68 bytes: the length is invalid or conflicting for us (CL_INVALID / CL_CONFLICT) and the
/// body runs to the close (EICAR + junk); browsers take a leading number.
const CL_TRICK: &str = "Content-Length not a plain number: read until close (flagged)";
/// `\0HTTP/1.1 200 ok`: no status line for us (NO_STATUS_LINE), the whole response is an
/// HTTP/0.9 body.
const STATUS_NUL: &str = "NUL before the status line: NO_STATUS_LINE";
/// A line of junk (space, tab, `foobar`, `SIP/2.0 200 ok`) before the status line: the
/// response is an HTTP/0.9 body for us (NO_STATUS_LINE); browsers skip to the status line.
const JUNK_BEFORE_STATUS: &str = "junk line before the status line: NO_STATUS_LINE";
/// Header block ended by `\n\r\r\n`, `\n \n` or `\n\t\n`: not an end for us, the body is read
/// as header lines (HEADER_WITHOUT_COLON, TRUNCATED).
const ODD_HEAD_END: &str = "unusual end of header block not recognised (flagged)";
/// 101 / 204 / 304 with a body: no body by RFC 9110 (101 makes a tunnel); browsers read it.
/// For 204/304 the body surfaces as a second, response-without-request message (flagged).
const NO_BODY_STATUS: &str = "status without body (101/204/304) carries one";

/// Differences without any anomaly on the run: the IDS cannot tell. (None since a 101 to a
/// request that asked for no upgrade is read as an ordinary response.)
const SILENT: &[&str] = &[];

/// Cases whose body differs today: (number, evader spec from index.tsv, reason).
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    ("017", "cr-size", CHUNK_SIZE_PREFIX),
    ("040", "addjunk,chunked,clen50", TE_AND_CL),
    ("044", "chunked,http10,do_clen", TE_BELOW_11),
    ("045", "chunked,clen,http10,do_clen", TE_BELOW_11),
    ("046", "clen,chunked,http10,do_clen", TE_BELOW_11),
    ("050", "chunked,clen,HTTP/0.9,do_clen", TE_BELOW_11),
    ("052", "chunked,clen,HTTP/1.01,do_clen", TE_BELOW_11),
    ("056", "chunked,clen,http/1.0,do_clen", TE_BELOW_11),
    ("063", "xchunked", TE_VARIANT_RAW),
    ("064", "chunkedx", TE_VARIANT_RAW),
    ("065", "chunked-x", TE_VARIANT_RAW),
    ("066", "x-chunked", TE_VARIANT_RAW),
    ("069", "x-nl-chunked", TE_VARIANT_RAW),
    ("070", "chunked-nl-x", TE_VARIANT_RAW),
    ("073", "nl-chunked,do_clen", TE_VARIANT_DECHUNKED),
    ("074", "crchunked,do_clen", TE_VARIANT_DECHUNKED),
    ("076", "cr-chunked,do_clen", TE_VARIANT_DECHUNKED),
    ("078", "chunkedcr-,do_clen", TE_VARIANT_DECHUNKED),
    ("080", "chunked,xte,do_chunked", TE_VARIANT_RAW),
    ("081", "xte,chunked,xte,do_chunked", TE_VARIANT_RAW),
    ("082", "xte,chunked,do_clen", TE_VARIANT_DECHUNKED),
    ("083", "chunked,xte,clen,do_chunked", TE_VARIANT_RAW),
    ("085", "xte,chunked,xte,clen,do_chunked", TE_VARIANT_RAW),
    ("086", "xte,chunked,clen,do_clen", TE_VARIANT_DECHUNKED),
    ("089", "space-colon-chunked,do_clen", TE_VARIANT_DECHUNKED),
    ("090", "tab-colon-chunked,do_clen", TE_VARIANT_DECHUNKED),
    ("091", "cr-colon-chunked,do_clen", TE_VARIANT_DECHUNKED),
    ("092", "colon-colon-chunked,do_chunked", TE_VARIANT_RAW),
    ("094", "cronly-chunked,do_chunked", CR_LINE_END),
    ("102", "cr-before-chunks", CHUNK_SIZE_PREFIX),
    (
        "244",
        "close,clen-folding100,clen200,content,junk",
        CL_TRICK,
    ),
    (
        "247",
        "close,xte,clen-folding100,clen200,content,junk",
        CL_TRICK,
    ),
    ("254", "close,clen100-folding200,content,junk", CL_TRICK),
    ("255", "close,clen100-(200),content,junk", CL_TRICK),
    ("256", "close,(clen)\\073,content,junk", CL_TRICK),
    ("257", "close,\\054(clen),content,junk", CL_TRICK),
    ("258", "close,(clen)\\054,content,junk", CL_TRICK),
    ("260", "close,(clen)A,content,junk", CL_TRICK),
    ("261", "close,(clen)\\040A,content,junk", CL_TRICK),
    ("262", "close,(clen)\\240,content,junk", CL_TRICK),
    ("263", "close,(clen).0,content,junk", CL_TRICK),
    ("264", "close,(clen).9,content,junk", CL_TRICK),
    ("268", "hdrfirst;space;chunked", TE_IN_FOLD),
    ("269", "hdrfirst;tab;chunked", TE_IN_FOLD),
    ("274", "somehdr;space;chunked", TE_IN_FOLD),
    ("275", "somehdr;tab;chunked", TE_IN_FOLD),
    ("286", "crcronly;chunked", CR_LINE_END),
    ("287", "cr-cronly;chunked", CR_LINE_END),
    ("290", "te:chu\\000nked;do_chunked", TE_VARIANT_RAW),
    (
        "291",
        "data:Transfer\\000-encoding:chunked\\015\\012;do_chunked",
        NUL_IN_NAME,
    ),
    (
        "292",
        "data:Transfer\\000-encoding:chun\\000ked\\015\\012;do_chunked",
        NUL_IN_NAME,
    ),
    ("293", "te\\000:chunked;do_chunked", NUL_IN_NAME),
    ("302", "te:\\073chunked;do_chunked", TE_VARIANT_RAW),
    ("303", "te:\\000chunked;do_chunked", TE_VARIANT_RAW),
    ("304", "te:\\013chunked;do_chunked", TE_VARIANT_RAW),
    ("305", "te:\\014chunked;do_chunked", TE_VARIANT_RAW),
    ("306", "te:\\240chunked;do_chunked", TE_VARIANT_RAW),
    ("307", "te:\\012\\000chunked;do_chunked", TE_VARIANT_RAW),
    ("310", "te:chunked\\000;do_chunked", TE_VARIANT_RAW),
    ("311", "te:\\177chunked;do_chunked", TE_VARIANT_RAW),
    ("312", "te:chunked\\177;do_chunked", TE_VARIANT_RAW),
    (
        "313",
        "te:\\357\\273\\277chunked;do_chunked",
        TE_VARIANT_RAW,
    ),
    ("314", "te:\\302\\204chunked;do_chunked", TE_VARIANT_RAW),
    (
        "378",
        "status:HTTP/1.1(cr)Transfer-Encoding:chunked;do_chunked",
        CR_LINE_END,
    ),
    (
        "382",
        "status:HTTP/1.1(space)200(cr)Transfer-Encoding:chunked;do_chunked",
        CR_LINE_END,
    ),
    (
        "385",
        "status:HTTP/1.1(space)200(space)(cr)Transfer-Encoding:chunked;do_chunked",
        CR_LINE_END,
    ),
    (
        "388",
        "status:HTTP/1.1(space)200(space)ok(cr)Transfer-Encoding:chunked;do_chunked",
        CR_LINE_END,
    ),
    (
        "390",
        "status:\\000HTTP/1.1(space)200(space)ok;chunked",
        STATUS_NUL,
    ),
    (
        "398",
        "status:HTTP/1.1foobar(cr)Transfer-Encoding:chunked;do_chunked",
        CR_LINE_END,
    ),
    ("402", "chunked;cr-no-crlf;end-crlflf", CR_LINE_END),
    ("403", "chunked;cr-no-crlf;end-crlfcrlf", CR_LINE_END),
    ("405", "chunked;lfcr-no-crlf;end-crlfcrlf", CR_LINE_END),
    ("410", "end-lfcrcrlf", ODD_HEAD_END),
    ("411", "end-lfcrcrlf;chunked", ODD_HEAD_END),
    ("416", "end-lf\\040lf", ODD_HEAD_END),
    ("419", "chunked;end-lf\\040lf", ODD_HEAD_END),
    ("425", "end-lf\\011lf", ODD_HEAD_END),
    ("428", "chunked;end-lf\\011lf", ODD_HEAD_END),
    ("450", "204", NO_BODY_STATUS),
    ("453", "304", NO_BODY_STATUS),
    ("476", "204;chunked", NO_BODY_STATUS),
    ("481", "space-crlf-header;chunked", JUNK_BEFORE_STATUS),
    ("482", "space-tab-crlf-header;chunked", JUNK_BEFORE_STATUS),
    (
        "483",
        "space-crlf-tab-crlf-header;chunked",
        JUNK_BEFORE_STATUS,
    ),
    (
        "484",
        "space-tab-cr-crlf-header;chunked",
        JUNK_BEFORE_STATUS,
    ),
    ("485", "foobar-crlf-header;chunked", JUNK_BEFORE_STATUS),
    (
        "486",
        "SIP/2.0-space-200-space-ok-crlf-header;chunked",
        JUNK_BEFORE_STATUS,
    ),
    (
        "487",
        "space-foobar-crlf-header;chunked",
        JUNK_BEFORE_STATUS,
    ),
    (
        "488",
        "space-SIP/2.0-space-200-space-ok-crlf-header;chunked",
        JUNK_BEFORE_STATUS,
    ),
    ("494", "space-lf-header;chunked", JUNK_BEFORE_STATUS),
];

/// One row of `index.tsv`.
struct Case {
    id: String,
    category: String,
    spec: String,
    uri: String,
    plaintext: bool,
}

fn cases() -> Vec<Case> {
    read_corpus_text("suricata-verify-http-evader/index.tsv")
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 8, "index.tsv: {l}");
            Case {
                id: c[0].to_string(),
                category: c[1].to_string(),
                spec: c[2].to_string(),
                uri: c[3].to_string(),
                plaintext: c[7] == "yes",
            }
        })
        .collect()
}

/// The body is compressed: a compression trick and no plain EICAR in the raw response.
fn compressed(c: &Case) -> bool {
    let spec = c.spec.to_ascii_lowercase();
    let trick = c.category == "compressed"
        || ["gzip", "deflate", "lzma", "zlib", "compress"]
            .iter()
            .any(|k| spec.contains(k));
    trick && !c.plaintext
}

#[test]
fn every_request_parses_as_the_evader_get() {
    let cases = cases();
    assert_eq!(cases.len(), TOTAL);
    for c in &cases {
        let txs = run_corpus_file(&format!("suricata-verify-http-evader/t/{}.t", c.id));
        let r = txs[0]
            .request
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no request", c.id));
        assert_eq!(method(&txs[0]), "GET", "{}", c.id);
        assert_eq!(uri(&txs[0]), c.uri, "{}", c.id);
        assert_eq!(r.protocol, b"HTTP/1.1", "{}", c.id);
        assert_eq!(
            header(r, "Host"),
            Some(&b"evader.example.com"[..]),
            "{}",
            c.id
        );
        assert!(r.complete, "{}", c.id);
        assert!(
            (r.anomalies - Anomalies::HOST_MISSING).is_empty(),
            "{}: request anomalies [{}]",
            c.id,
            names(r.anomalies)
        );
        assert!(txs[0].response.is_some(), "{}: no response", c.id);
    }
}

#[test]
fn dechunked_bodies_are_eicar_or_explained() {
    let known: BTreeMap<String, (&str, &str)> = KNOWN_DIFFERENCES
        .iter()
        .map(|&(n, spec, why)| (format!("http-evader-{n}"), (spec, why)))
        .collect();
    let (mut skipped, mut checked, mut equal, mut different) = (0, 0, 0, 0);
    let mut contains = 0;
    let mut problems = Vec::new();
    for c in cases() {
        if compressed(&c) {
            skipped += 1;
            continue;
        }
        checked += 1;
        let txs = run_corpus_file(&format!("suricata-verify-http-evader/t/{}.t", c.id));
        let body = txs
            .iter()
            .find_map(|t| t.response.as_ref())
            .map(|r| r.body.clone())
            .unwrap_or_default();
        let same = body == EICAR;
        match (same, known.get(&c.id)) {
            (true, None) => equal += 1,
            (true, Some(_)) => problems.push(format!(
                "{} ({}) is now EICAR: remove it from KNOWN_DIFFERENCES",
                c.id, c.spec
            )),
            (false, None) => problems.push(format!(
                "{} [{}] {}: body {:?} [{}]",
                c.id,
                c.category,
                c.spec,
                String::from_utf8_lossy(&body),
                summary(&txs)
            )),
            (false, Some((spec, _))) => {
                different += 1;
                assert_eq!(*spec, c.spec, "{}: spec in KNOWN_DIFFERENCES", c.id);
                if body.windows(EICAR.len()).any(|w| w == EICAR) {
                    contains += 1;
                }
                let short = c.id.trim_start_matches("http-evader-");
                let a = all_anomalies(&txs);
                assert_eq!(
                    a.is_empty(),
                    SILENT.contains(&short),
                    "{}: anomalies [{}] (SILENT lists the cases without any)",
                    c.id,
                    names(a)
                );
            }
        }
    }
    println!(
        "http-evader: total {TOTAL}, skipped (compressed) {skipped}, checked {checked}, \
         equal {equal}, different {different} (of which {contains} contain EICAR)"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(skipped, SKIPPED);
    assert_eq!(equal, EQUAL);
    assert_eq!(different, KNOWN_DIFFERENCES.len());
    assert_eq!(skipped + checked, TOTAL);
}
