//! llhttp markdown fixtures (`tests/data/corpus/llhttp/{request,response}/*.md`, MIT).
//!
//! Each fixture has an `http` input and the `log` of callbacks llhttp 9.4.2 produces for it.
//! The input is normalised the way llhttp's runner (`test/md-test.ts`) does it: final newline
//! dropped, escaped newlines removed, newlines turned into CRLF, then `\r \n \t \f \xHH \NNN`
//! expanded (characters above 0x7f are sent UTF-8 encoded, as Node does). `${js}` inputs
//! would be skipped (none in this snapshot).
//!
//! Requests are fed to the server direction. Responses are fed to the client direction after
//! one synthetic request per expected message (`GET / HTTP/1.1`, or `HEAD` when the fixture
//! has `skipBody`, which is llhttp's way of saying "answer to a HEAD").
//!
//! Outcome per fixture:
//! - **strict error** (type `request`/`response`, log ends in `error code=…`, except the
//!   upgrade pauses 22/23): a strict server rejects the input, so we must flag at least one
//!   anomaly from the set mapped to llhttp's error reason ([`error_anomalies`]).
//! - **lenient** (type `*-lenient-*`): llhttp parses it only with a leniency switched on; we
//!   must parse it the same way (see below) *and* flag an anomaly mapped to that leniency
//!   ([`lenient_anomalies`]), because a strict peer would disagree.
//! - **finish** (type `*-finish`): `finish=2` (message cut short) must give `TRUNCATED`,
//!   `finish=0/1` must not.
//! - **strict success**: the messages we report (method, target, status, de-chunked body, in
//!   order) must equal llhttp's. Anomalies are allowed: we may be more suspicious than llhttp.
//!
//! Every fixture must agree except those in [`DISAGREE`], each with its reason. A fixture
//! that agrees today and stops agreeing fails the test; so does one in the table that starts
//! agreeing (remove it then), so the table always tells the truth.

mod common;

use common::*;
use imdsguard::flow::transaction::Transaction;
use imdsguard::flow::Direction;
use imdsguard::http::Anomalies;
use std::collections::BTreeMap;

// Reasons for the disagreements (one per cause; the table below names the fixtures).

/// llhttp stops reading after a message that ends the connection (`Connection: close`, or
/// HTTP/1.0 without keep-alive) and reports later bytes as an error or drops them; we keep
/// parsing them as HTTP. Connection persistence is not modelled as an anomaly.
const KEEP_ALIVE: &str = "connection semantics: data after `Connection: close` is parsed on";
/// A lone CR is never a line end for us (flagged LONE_CR, the CVE-2023-30589 class); llhttp's
/// `lenient-optional-lf-after-cr` takes it as one, so the rest is framed differently.
const CR_LINE_END: &str = "lone CR is not a line end for us (LONE_CR flagged)";
/// The input stops inside the header block: framing fields are judged when the block ends,
/// so the bad Content-Length is never looked at (only TRUNCATED).
const UNFINISHED_BLOCK: &str = "input ends inside the header block: Content-Length never judged";
/// llhttp checks methods against per-protocol lists; any token is a method for us (RFC 9110
/// §9.1) and nothing is flagged.
const METHOD_LIST: &str = "any token is a method for us; llhttp has a method list";
/// We accept any `HTTP/<digit>.<digit>`; llhttp only 0.9, 1.0, 1.1 and 2.0 when strict.
const VERSION_NUMBER: &str = "HTTP/5.6 is a well-formed version for us (no anomaly)";
/// llhttp hands the connection over after the CONNECT head; we frame the CONNECT request's
/// own Content-Length body first (RFC 9112 §6.3 does not exempt it).
const CONNECT_BODY: &str = "CONNECT request body framed by its Content-Length";
/// RTSP and ICE are not HTTP: `RTSP/1.0` stays in the target (VERSION_MISSING |
/// TARGET_INVALID) and an RTSP/ICE status line starts an HTTP/0.9 body (NO_STATUS_LINE).
const NOT_HTTP: &str = "RTSP/ICE protocol: not HTTP for us (flagged as such)";
/// Chunk extensions are skipped to the end of the line and flagged CHUNK_EXTENSION only; a
/// malformed extension (`;` alone, unbalanced quotes) is not flagged as invalid.
const CHUNK_EXT_SYNTAX: &str = "chunk-extension syntax not validated (CHUNK_EXTENSION only)";
/// Request with `Transfer-Encoding` not ending in `chunked`: lenient llhttp reads the rest
/// raw; we de-chunk when `chunked` appears, else frame by Content-Length (TE_NOT_CHUNKED,
/// CL_AND_TE flagged).
const TE_NOT_LAST: &str = "request TE not ending in chunked: framed differently (flagged)";
/// Bytes >= 0x80 in the target are not flagged (TARGET_INVALID is for whitespace/CTL only).
const UTF8_TARGET: &str = "UTF-8 in the request target not flagged";

/// Fixtures that do not agree today, with the reason. Key: `file:line` of the fixture's
/// `<!-- meta` comment, then its heading (checked, so that a shifted line is noticed).
/// The harness answers a synthetic request that asks for no upgrade; a 101 to such a request
/// is read as an ordinary response (UPGRADE_UNREQUESTED) so that its body is not hidden.
const UNREQUESTED_101: &str = "101 to a request without Upgrade: ordinary response (flagged)";

const DISAGREE: &[(&str, &str, &str)] = &[
    (
        "response/connection.md:295",
        "HTTP 101 response with Upgrade and Content-Length header",
        UNREQUESTED_101,
    ),
    (
        "response/connection.md:333",
        "HTTP 101 response with Upgrade and Transfer-Encoding header",
        UNREQUESTED_101,
    ),
    (
        "request/connection.md:83",
        "No restart when keep-alive is off (1.0)",
        KEEP_ALIVE,
    ),
    (
        "request/connection.md:112",
        "Resetting flags when keep-alive is off (1.0, lenient)",
        KEEP_ALIVE,
    ),
    (
        "request/connection.md:296",
        "CRLF between requests, explicit `close`",
        KEEP_ALIVE,
    ),
    (
        "request/connection.md:346",
        "CRLF between requests, explicit `close` followed by tab",
        KEEP_ALIVE,
    ),
    (
        "request/connection.md:396",
        "CRLF between requests, explicit `close` (lenient)",
        KEEP_ALIVE,
    ),
    (
        "request/content-length.md:77",
        "Error on `Content-Length` overflow",
        UNFINISHED_BLOCK,
    ),
    (
        "request/content-length.md:521",
        "Missing CRLF-CRLF before body (lenient)",
        CR_LINE_END,
    ),
    (
        "request/invalid.md:68",
        "HTTP protocol and ANNOUNCE method",
        METHOD_LIST,
    ),
    (
        "request/invalid.md:183",
        "Headers separated by dummy characters (lenient)",
        KEEP_ALIVE,
    ),
    ("request/invalid.md:358", "Invalid method", METHOD_LIST),
    (
        "request/invalid.md:492",
        "Invalid HTTP version",
        VERSION_NUMBER,
    ),
    (
        "request/lenient-headers.md:111",
        "Empty headers separated by CR (lenient)",
        CR_LINE_END,
    ),
    (
        "request/lenient-version.md:6",
        "Invalid HTTP version (lenient)",
        VERSION_NUMBER,
    ),
    ("request/method.md:98", "CONNECT with body", CONNECT_BODY),
    ("request/method.md:374", "SOURCE request with ICE", NOT_HTTP),
    (
        "request/method.md:404",
        "OPTIONS request with RTSP",
        NOT_HTTP,
    ),
    (
        "request/method.md:432",
        "ANNOUNCE request with RTSP",
        NOT_HTTP,
    ),
    (
        "request/sample.md:456",
        "No LF after CR (lenient)",
        CR_LINE_END,
    ),
    (
        "request/transfer-encoding.md:330",
        "No extension after semicolon",
        CHUNK_EXT_SYNTAX,
    ),
    (
        "request/transfer-encoding.md:426",
        "Unbalanced chunk extensions quoting",
        CHUNK_EXT_SYNTAX,
    ),
    (
        "request/transfer-encoding.md:538",
        "POST with `Transfer-Encoding` and `Content-Length` (lenient)",
        TE_NOT_LAST,
    ),
    (
        "request/transfer-encoding.md:682",
        "POST with `chunked` before other transfer-coding (lenient)",
        TE_NOT_LAST,
    ),
    (
        "request/transfer-encoding.md:715",
        "POST with `chunked` and duplicate transfer-encoding (lenient)",
        TE_NOT_LAST,
    ),
    (
        "request/transfer-encoding.md:1027",
        "Chunk header not terminated by CRLF (lenient)",
        CR_LINE_END,
    ),
    (
        "request/uri.md:150",
        "Disallow UTF-8 in URI path in strict mode",
        UTF8_TARGET,
    ),
    (
        "response/connection.md:166",
        "HTTP/1.1 with keep-alive disabled and 204 status",
        KEEP_ALIVE,
    ),
    (
        "response/connection.md:195",
        "HTTP/1.1 with keep-alive disabled, content-length (lenient)",
        KEEP_ALIVE,
    ),
    (
        "response/connection.md:229",
        "HTTP/1.1 with keep-alive disabled, content-length",
        KEEP_ALIVE,
    ),
    (
        "response/connection.md:262",
        "HTTP/1.1 with keep-alive disabled and 204 status (lenient)",
        KEEP_ALIVE,
    ),
    (
        "response/invalid.md:197",
        "Invalid HTTP version",
        VERSION_NUMBER,
    ),
    (
        "response/lenient-version.md:6",
        "Invalid HTTP version (lenient)",
        VERSION_NUMBER,
    ),
    ("response/sample.md:42", "RTSP response", NOT_HTTP),
    ("response/sample.md:62", "ICE response", NOT_HTTP),
    (
        "response/transfer-encoding.md:250",
        "No extension after semicolon",
        CHUNK_EXT_SYNTAX,
    ),
    (
        "response/transfer-encoding.md:347",
        "Unbalanced chunk extensions quoting",
        CHUNK_EXT_SYNTAX,
    ),
];

/// Fixtures we cannot run meaningfully: the behaviour is driven by an embedder callback.
const NOT_MAPPABLE: &[(&str, &str)] = &[(
    "request/content-length.md:446",
    "request with skipBody: the embedder's on_headers_complete skips a request body",
)];

/// Totals today (fixtures found, agreeing). Change them only together with the tables above.
const EXPECTED_FOUND: usize = 251;
const EXPECTED_AGREE: usize = 213;

/// One fixture.
#[derive(Debug, Clone)]
struct Fixture {
    /// `request/content-length.md:5` (line of the meta comment, 1-based).
    id: String,
    heading: String,
    ty: String,
    meta: serde_json::Value,
    /// The raw `http` block (lines joined by `\n`).
    http: String,
    log: Vec<String>,
}

impl Fixture {
    fn is_response(&self) -> bool {
        self.ty.starts_with("response")
    }
    fn flag(&self, name: &str) -> bool {
        self.meta.get(name).and_then(|v| v.as_bool()) == Some(true)
    }
}

/// Reads every fixture of one markdown file.
fn parse_md(rel: &str) -> Vec<Fixture> {
    let text = read_corpus_text(&format!("llhttp/{rel}"));
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut meta: Option<(usize, serde_json::Value)> = None;
    let mut pending_http: Option<(usize, serde_json::Value, String, String)> = None;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with('#') {
            heading = l.trim_start_matches('#').trim().to_string();
        } else if let Some(rest) = l.trim().strip_prefix("<!-- meta=") {
            let json = rest.trim_end_matches("-->").trim();
            let v: serde_json::Value = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("{rel}:{}: bad meta {json}: {e}", i + 1));
            meta = Some((i + 1, v));
        } else if l.starts_with("```http") || l.starts_with("```log") {
            let is_http = l.starts_with("```http");
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].starts_with("```") {
                body.push(lines[i]);
                i += 1;
            }
            if is_http {
                let (line, m) = meta
                    .take()
                    .unwrap_or_else(|| panic!("{rel}:{}: http block without meta", i + 1));
                pending_http = Some((line, m, heading.clone(), body.join("\n")));
            } else if let Some((line, m, h, http)) = pending_http.take() {
                let ty = m
                    .get("type")
                    .and_then(|t| t.as_str())
                    .unwrap_or_else(|| panic!("{rel}:{line}: meta without type"))
                    .to_string();
                out.push(Fixture {
                    id: format!("{rel}:{line}"),
                    heading: h,
                    ty,
                    meta: m,
                    http,
                    log: body.iter().map(|s| s.to_string()).collect(),
                });
            }
        }
        i += 1;
    }
    out
}

/// Replaces every `\c` (backslash + `c`) by `to`, left to right, like a global JS regex.
fn replace_escape(input: &[u8], c: u8, to: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'\\' && input.get(i + 1) == Some(&c) {
            out.push(to);
            i += 2;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

/// Pushes a code point the way Node sends a JS string: UTF-8.
fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    let ch = char::from_u32(cp).expect("a valid code point");
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

/// Expands `\xH…` (greedy hex, as upstream's `/\\x([0-9a-fA-F]+)/`) or `\NNN` (1-3 octal).
fn replace_numeric(input: &[u8], hex: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'\\' {
            let start = if hex { i + 2 } else { i + 1 };
            let ok_prefix = !hex || input.get(i + 1) == Some(&b'x');
            let digits = input
                .get(start..)
                .unwrap_or(&[])
                .iter()
                .take(if hex { usize::MAX } else { 3 })
                .take_while(|b| {
                    if hex {
                        b.is_ascii_hexdigit()
                    } else {
                        (b'0'..=b'7').contains(*b)
                    }
                })
                .count();
            if ok_prefix && digits > 0 {
                let s = std::str::from_utf8(&input[start..start + digits]).expect("ASCII");
                let v = u32::from_str_radix(s, if hex { 16 } else { 8 }).expect("digits");
                push_code_point(&mut out, v);
                i = start + digits;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// The bytes llhttp's runner feeds for an `http` block; `None` for inline JavaScript.
fn normalise(raw: &str) -> Option<Vec<u8>> {
    if raw.contains("${") {
        return None;
    }
    // The block text is the lines joined by `\n`: the runner's "remove trailing newline" is
    // already done.
    let mut s = String::with_capacity(raw.len());
    // Remove escaped newlines.
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'\n') {
            chars.next();
            continue;
        }
        s.push(c);
    }
    // Normalise newlines to CRLF (the markdown has only `\n`).
    let s = s.replace('\n', "\r\n");
    let mut b = s.into_bytes();
    b = replace_escape(&b, b'r', b'\r');
    b = replace_escape(&b, b'n', b'\n');
    b = replace_escape(&b, b't', b'\t');
    b = replace_escape(&b, b'f', 0x0c);
    b = replace_numeric(&b, true);
    b = replace_numeric(&b, false);
    Some(b)
}

/// One message as llhttp's log describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Msg {
    method: Vec<u8>,
    url: Vec<u8>,
    status: u16,
    body: Vec<u8>,
    /// The header block ended (`headers complete`): only then is the status known.
    headers_done: bool,
    complete: bool,
}

/// What the log says.
#[derive(Debug, Default)]
struct Expected {
    messages: Vec<Msg>,
    /// `(code, reason)` of a final `error` line.
    error: Option<(u32, String)>,
    /// `finish=N` value.
    finish: Option<u32>,
}

/// Decodes a logged span value. The log prints span bytes raw between quotes (no escaping
/// of `"` or `\\`); the runner turns `\t` and `\f` into the real bytes; a one-byte CR or LF
/// span is written `cr` / `lf`.
fn span_value(v: &str) -> Vec<u8> {
    match v {
        "cr" => return b"\r".to_vec(),
        "lf" => return b"\n".to_vec(),
        _ => {}
    }
    let inner = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v);
    let b = replace_escape(inner.as_bytes(), b't', b'\t');
    replace_escape(&b, b'f', 0x0c)
}

fn parse_log(log: &[String]) -> Expected {
    let mut e = Expected::default();
    for line in log {
        // `off=N rest`
        let rest = line.split_once(' ').map_or("", |(_, r)| r);
        if rest == "message begin" {
            e.messages.push(Msg::default());
        } else if rest == "message complete" {
            if let Some(m) = e.messages.last_mut() {
                m.complete = true;
            }
        } else if let Some(r) = rest.strip_prefix("error code=") {
            let (code, reason) = r.split_once(' ').unwrap_or((r, ""));
            let reason = reason
                .trim_start_matches("reason=")
                .trim_matches('"')
                .to_string();
            e.error = Some((code.parse().expect("error code"), reason));
        } else if let Some(f) = rest.strip_prefix("finish=") {
            e.finish = Some(f.parse().expect("finish code"));
        } else if rest.starts_with("headers complete method=") {
            if let Some(m) = e.messages.last_mut() {
                m.headers_done = true;
            }
        } else if let Some(h) = rest.strip_prefix("headers complete status=") {
            let code = h.split(' ').next().unwrap_or("0");
            if let Some(m) = e.messages.last_mut() {
                m.status = code.parse().unwrap_or(0);
                m.headers_done = true;
            }
        } else if let Some(s) = rest.strip_prefix("len=") {
            // `len=N span[kind]=value`
            let Some((_, span)) = s.split_once(" span[") else {
                continue;
            };
            let Some((kind, value)) = span.split_once("]=") else {
                continue;
            };
            let v = span_value(value);
            if let Some(m) = e.messages.last_mut() {
                match kind {
                    "method" => m.method.extend_from_slice(&v),
                    "url" => m.url.extend_from_slice(&v),
                    "body" => m.body.extend_from_slice(&v),
                    _ => {}
                }
            }
        }
    }
    e
}

/// llhttp error reasons mapped to the anomalies that mean "a strict parser would stop here".
/// `None`: no anomaly of ours corresponds (the disagreement is then listed in [`DISAGREE`]).
fn error_anomalies(reason: &str) -> Option<Anomalies> {
    use Anomalies as A;
    let start_line = A::METHOD_INVALID
        | A::TARGET_INVALID
        | A::VERSION_INVALID
        | A::VERSION_MISSING
        | A::START_LINE_WHITESPACE
        | A::STATUS_INVALID
        | A::NO_STATUS_LINE;
    let header_name = A::INVALID_HEADER_NAME
        | A::SPACE_BEFORE_COLON
        | A::HEADER_WITHOUT_COLON
        | A::CTL_IN_FIELD
        | A::FOLD_WITHOUT_HEADER
        | A::LONE_CR;
    Some(match reason {
        "Invalid header token" | "Invalid header field char" => header_name,
        // A bare LF inside a value is what llhttp reports as an invalid value char.
        "Invalid header value char" | "Unexpected whitespace after header value" => {
            A::CTL_IN_FIELD | A::LONE_CR | A::BARE_LF | A::OBS_FOLD
        }
        "Expected LF after CR"
        | "Missing expected LF after header value"
        | "Expected LF after headers" => A::LONE_CR | A::HEADER_WITHOUT_COLON,
        "Missing expected CR after response line" | "Missing expected CR after header value" => {
            A::BARE_LF
        }
        "Invalid character in chunk size" => A::CHUNK_SIZE_INVALID,
        "Expected LF after chunk size" => A::CHUNK_SIZE_INVALID | A::LONE_CR,
        "Expected LF after chunk data" => A::CHUNK_DATA_NO_CRLF | A::LONE_CR,
        "Invalid character in chunk extensions"
        | "Invalid character in chunk extensions quoted value" => {
            A::CHUNK_SIZE_INVALID | A::CTL_IN_FIELD
        }
        "Expected HTTP/, RTSP/ or ICE/"
        | "Expected space after version"
        | "Invalid HTTP version"
        | "Expected dot"
        | "Expected CRLF after version"
        | "Invalid method for RTSP/x.x request"
        | "Invalid method for HTTP/x.x request"
        | "Expected SOURCE method for ICE/x.x request"
        | "Invalid char in url path"
        | "Expected space after method"
        | "Invalid status code" => start_line | A::CTL_IN_FIELD | A::LONE_CR | A::BARE_LF,
        "Unexpected space after start line" => A::FOLD_WITHOUT_HEADER | A::START_LINE_WHITESPACE,
        "Request has invalid `Transfer-Encoding`" | "Invalid `Transfer-Encoding` header value" => {
            A::TE_NOT_CHUNKED | A::TE_IN_HTTP10
        }
        "Transfer-Encoding can't be present with Content-Length"
        | "Content-Length can't be present with Transfer-Encoding" => A::CL_AND_TE,
        "Invalid character in Content-Length" | "Empty Content-Length" => A::CL_INVALID,
        "Content-Length overflow" => A::CL_OVERFLOW,
        "Duplicate Content-Length" => A::CL_CONFLICT | A::CL_DUPLICATE,
        _ => return None,
    })
}

/// Lenient parser modes mapped to the anomaly that records what the leniency tolerates.
/// `None`: the leniency is about connection semantics we do not model as an anomaly.
fn lenient_anomalies(ty: &str) -> Option<Anomalies> {
    use Anomalies as A;
    let suffix = ty
        .strip_prefix("request-lenient-")
        .or_else(|| ty.strip_prefix("response-lenient-"))?;
    Some(match suffix {
        // llhttp's lenient-headers also covers folds it rejects when strict.
        "headers" | "header-value-relaxed" => {
            A::OBS_FOLD
                | A::INVALID_HEADER_NAME
                | A::CTL_IN_FIELD
                | A::LONE_CR
                | A::HEADER_WITHOUT_COLON
                | A::SPACE_BEFORE_COLON
                | A::FOLD_WITHOUT_HEADER
        }
        "chunked-length" => A::CL_AND_TE,
        "optional-lf-after-cr" => A::LONE_CR,
        "optional-cr-before-lf" => A::BARE_LF,
        "optional-crlf-after-chunk" => A::CHUNK_DATA_NO_CRLF,
        "spaces-after-chunk-size" => A::CHUNK_SIZE_INVALID | A::CHUNK_EXTENSION,
        "transfer-encoding" => A::TE_NOT_CHUNKED,
        "version" => A::VERSION_INVALID,
        "all" => !(A::HOST_MISSING | A::TRUNCATED),
        _ => return None,
    })
}

/// Anomalies that come from the fixture format rather than from the message: fixtures omit
/// `Host`, and most stop without closing.
const FORMAT_NOISE: Anomalies = Anomalies::HOST_MISSING.union(Anomalies::TRUNCATED);

/// Runs a fixture; returns our messages (in llhttp's sense: interim answers count) and the
/// anomalies of the fixture's own direction.
fn run_fixture(f: &Fixture, input: &[u8], expected_messages: usize) -> (Vec<Msg>, Anomalies) {
    let txs: Vec<Transaction> = if f.is_response() {
        let req: &[u8] = if f.flag("skipBody") {
            b"HEAD / HTTP/1.1\r\n\r\n"
        } else {
            b"GET / HTTP/1.1\r\n\r\n"
        };
        let reqs = req.repeat(expected_messages.max(1));
        run_parts(
            &[(Direction::ToServer, &reqs), (Direction::ToClient, input)],
            None,
        )
    } else {
        run_parts(&[(Direction::ToServer, input)], None)
    };
    let mut msgs = Vec::new();
    let mut anomalies = Anomalies::empty();
    for tx in &txs {
        if f.is_response() {
            for &code in &tx.interim {
                msgs.push(Msg {
                    status: code,
                    complete: true,
                    ..Msg::default()
                });
            }
            if let Some(r) = &tx.response {
                anomalies |= r.anomalies;
                msgs.push(Msg {
                    status: r.status,
                    body: r.body.clone(),
                    complete: r.complete && !r.anomalies.contains(Anomalies::TRUNCATED),
                    ..Msg::default()
                });
            }
        } else if let Some(r) = &tx.request {
            anomalies |= r.anomalies;
            msgs.push(Msg {
                method: r.method.clone(),
                url: r.uri.clone(),
                body: r.body.clone(),
                complete: r.complete && !r.anomalies.contains(Anomalies::TRUNCATED),
                ..Msg::default()
            });
        }
    }
    (msgs, anomalies)
}

/// Compares llhttp's messages with ours: same number, and per message the same method,
/// target, status and body; a message llhttp completed must not be truncated for us.
fn same_messages(exp: &[Msg], ours: &[Msg]) -> Result<(), String> {
    if exp.len() != ours.len() {
        return Err(format!(
            "{} message(s) expected, {} seen",
            exp.len(),
            ours.len()
        ));
    }
    for (i, (e, o)) in exp.iter().zip(ours).enumerate() {
        let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        // A message llhttp left inside its header block has no status (and no body) yet.
        let status_differs = e.headers_done && e.status != o.status;
        if e.method != o.method || e.url != o.url || status_differs || e.body != o.body {
            return Err(format!(
                "message {i}: expected {} {:?} {} body {:?}, seen {} {:?} {} body {:?}",
                show(&e.method),
                show(&e.url),
                e.status,
                show(&e.body),
                show(&o.method),
                show(&o.url),
                o.status,
                show(&o.body)
            ));
        }
        if e.complete && !o.complete {
            return Err(format!(
                "message {i}: complete for llhttp, truncated for us"
            ));
        }
    }
    Ok(())
}

/// The outcome for one fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Agree(String),
    Disagree(String),
    Skipped(String),
}

fn judge(f: &Fixture) -> Outcome {
    let Some(input) = normalise(&f.http) else {
        return Outcome::Skipped("inline JavaScript input".into());
    };
    if f.flag("skipBody") && !f.is_response() {
        return Outcome::Skipped("request with skipBody: embedder callback behaviour".into());
    }
    let exp = parse_log(&f.log);
    let (ours, anomalies) = run_fixture(f, &input, exp.messages.len());
    let relevant = anomalies - FORMAT_NOISE;
    let upgrade_pause = matches!(exp.error, Some((22 | 23, _)));
    let lenient = f.ty.contains("-lenient-");

    if let Some(code) = exp.finish {
        // finish=2: llhttp_finish() says the message was cut short.
        let truncated = anomalies.contains(Anomalies::TRUNCATED);
        return if (code == 2) == truncated {
            Outcome::Agree(format!("finish={code}, truncated={truncated}"))
        } else {
            Outcome::Disagree(format!("finish={code} but truncated={truncated}"))
        };
    }
    match (&exp.error, lenient) {
        (Some((code, reason)), _) if !upgrade_pause => {
            // A strict (or still failing lenient) parser rejects the input.
            match error_anomalies(reason) {
                Some(want) if anomalies.intersects(want) => Outcome::Agree(format!(
                    "error {code} {reason:?} -> {}",
                    names(anomalies & want)
                )),
                Some(want) => Outcome::Disagree(format!(
                    "error {code} {reason:?}: none of [{}] flagged (have [{}])",
                    names(want),
                    names(relevant)
                )),
                None => Outcome::Disagree(format!(
                    "error {code} {reason:?}: unmapped (have [{}])",
                    names(relevant)
                )),
            }
        }
        _ => {
            // Parsed by llhttp: compare the messages (up to an upgrade pause, after which
            // llhttp stops reading HTTP).
            let ours_cmp = if upgrade_pause {
                &ours[..ours.len().min(exp.messages.len())]
            } else {
                &ours[..]
            };
            if let Err(e) = same_messages(&exp.messages, ours_cmp) {
                return Outcome::Disagree(format!("{e} (have [{}])", names(relevant)));
            }
            if lenient {
                match lenient_anomalies(&f.ty) {
                    Some(want) if anomalies.intersects(want) => {
                        Outcome::Agree(format!("lenient -> {}", names(anomalies & want)))
                    }
                    Some(want) => Outcome::Disagree(format!(
                        "lenient parse matches, but none of [{}] flagged (have [{}])",
                        names(want),
                        names(relevant)
                    )),
                    None => Outcome::Disagree(format!(
                        "lenient mode {} unmapped (have [{}])",
                        f.ty,
                        names(relevant)
                    )),
                }
            } else {
                Outcome::Agree(format!("same messages [{}]", names(relevant)))
            }
        }
    }
}

fn all_fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    for dir in ["request", "response"] {
        let mut files: Vec<_> = std::fs::read_dir(corpus_path(&format!("llhttp/{dir}")))
            .expect("llhttp fixtures")
            .map(|e| e.expect("entry").file_name().into_string().expect("name"))
            .filter(|n| n.ends_with(".md"))
            .collect();
        files.sort();
        for f in files {
            out.extend(parse_md(&format!("{dir}/{f}")));
        }
    }
    out
}

#[test]
fn normalisation_matches_upstream_runner() {
    assert_eq!(
        normalise("GET / HTTP/1.1\nA: \\x41\\101\\t\n\n").unwrap(),
        b"GET / HTTP/1.1\r\nA: AA\t\r\n\r\n"
    );
    // Greedy hex, UTF-8 for code points above 0x7f, backslash-newline removed.
    assert_eq!(normalise("\\xffV\\\nX").unwrap(), "\u{ff}VX".as_bytes());
    assert_eq!(normalise("x${'a'.repeat(3)}"), None);
    assert_eq!(span_value("\"a\\tb\""), b"a\tb");
    assert_eq!(span_value("cr"), b"\r");
}

#[test]
fn llhttp_fixtures_agree_or_are_explained() {
    let fixtures = all_fixtures();
    let mut agree = 0;
    let mut skipped = 0;
    let mut problems = Vec::new();
    let disagree: BTreeMap<&str, (&str, &str)> =
        DISAGREE.iter().map(|&(id, h, r)| (id, (h, r))).collect();
    let not_mappable: BTreeMap<&str, &str> = NOT_MAPPABLE.iter().copied().collect();
    let mut seen_listed = 0;
    for f in &fixtures {
        let outcome = judge(f);
        if !matches!(outcome, Outcome::Agree(_)) {
            println!("{}\t{}\t{}\t{:?}", f.id, f.ty, f.heading, outcome);
        }
        let listed = disagree.get(f.id.as_str());
        if let Some((h, _)) = listed {
            seen_listed += 1;
            assert_eq!(*h, f.heading, "{}: DISAGREE heading mismatch", f.id);
        }
        match (&outcome, listed) {
            (Outcome::Agree(_), None) => agree += 1,
            (Outcome::Agree(why), Some(_)) => problems.push(format!(
                "{} ({}) now agrees ({why}): remove it from DISAGREE",
                f.id, f.heading
            )),
            (Outcome::Disagree(_), Some(_)) => {}
            (Outcome::Disagree(why), None) => problems.push(format!(
                "{} ({}) [{}] disagrees: {why}",
                f.id, f.heading, f.ty
            )),
            (Outcome::Skipped(why), _) => {
                skipped += 1;
                if !not_mappable.contains_key(f.id.as_str()) {
                    problems.push(format!("{} skipped ({why}) but not in NOT_MAPPABLE", f.id));
                }
            }
        }
    }
    println!(
        "llhttp fixtures: found {}, run {}, agree {}, disagree {} (listed), skipped {}",
        fixtures.len(),
        fixtures.len() - skipped,
        agree,
        DISAGREE.len(),
        skipped
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        seen_listed,
        DISAGREE.len(),
        "a DISAGREE entry names no fixture"
    );
    assert_eq!(fixtures.len(), EXPECTED_FOUND, "fixture count changed");
    assert_eq!(agree, EXPECTED_AGREE, "agreeing fixture count changed");
}

/// Every fixture input gives the same transactions whole and re-split (1, 7, 64, 1460).
#[test]
fn llhttp_inputs_are_chunk_invariant() {
    let mut n = 0;
    for f in all_fixtures() {
        let Some(input) = normalise(&f.http) else {
            continue;
        };
        let dir = if f.is_response() {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        let pre: &[u8] = b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        let parts: Vec<(Direction, &[u8])> = if f.is_response() {
            vec![(Direction::ToServer, pre), (dir, &input)]
        } else {
            vec![(dir, &input)]
        };
        let whole = render(&run_parts(&parts, None));
        for s in SPLITS {
            assert_eq!(
                whole,
                render(&run_parts(&parts, Some(s))),
                "{} ({}) split {s}",
                f.id,
                f.heading
            );
        }
        n += 1;
    }
    assert!(n > 200, "only {n} fixtures ran");
}
