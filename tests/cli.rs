//! The `imdsguard` binary as a user runs it.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_imdsguard");
const BOTOCORE: &str = "tests/data/conversations/imdsv2-botocore-credentials.t";

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

#[test]
fn http_dump_prints_one_json_line_per_transaction() {
    let out = run(&["http-dump", BOTOCORE]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["request"]["method"], "PUT");
    assert_eq!(lines[0]["request"]["uri"], "/latest/api/token");
    assert_eq!(lines[0]["request"]["protocol"], "HTTP/1.1");
    assert_eq!(
        lines[0]["request"]["headers"][4],
        serde_json::json!(["x-aws-ec2-metadata-token-ttl-seconds", "21600"])
    );
    assert_eq!(lines[0]["response"]["status"], 200);
    assert_eq!(lines[2]["response"]["body_len"], 282);
    for l in &lines {
        assert_eq!(l["request"]["anomalies"], serde_json::json!([]));
        assert_eq!(l["response"]["complete"], true);
    }
}

#[test]
fn http_dump_output_does_not_depend_on_chunk_size() {
    let whole = run(&["http-dump", BOTOCORE]).stdout;
    for n in ["1", "7", "64", "1460"] {
        let split = run(&["http-dump", BOTOCORE, "--chunk", n]);
        assert!(split.status.success());
        assert_eq!(split.stdout, whole, "--chunk {n}");
    }
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    let missing = run(&["http-dump", "tests/data/no-such-file.t"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-file.t"));

    let not_t = run(&["http-dump", "Cargo.toml"]);
    assert_eq!(not_t.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_t.stderr).contains("not a conversation file"));

    let zero = run(&["http-dump", BOTOCORE, "--chunk", "0"]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(run(&["no-such-command"]).status.code() == Some(2));
}

#[test]
fn scan_prints_eve_alerts_and_applies_suppression_flags() {
    let out = run(&[
        "scan",
        BOTOCORE,
        "--dst",
        "169.254.169.254:80",
        "--vlan",
        "100",
    ]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let stages: Vec<&str> = lines
        .iter()
        .map(|l| l["imds"]["stage"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(stages, ["token", "request", "credentials"]);
    assert!(lines.iter().all(|l| l["vlan"] == serde_json::json!([100])));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 alerts (0 suppressed)"));

    let quiet = run(&["scan", BOTOCORE, "--suppress-src", "192.0.2.0/24"]);
    assert!(quiet.status.success());
    assert!(quiet.stdout.is_empty());
    assert!(String::from_utf8_lossy(&quiet.stderr).contains("0 alerts (3 suppressed)"));

    let shown = run(&[
        "scan",
        BOTOCORE,
        "--vlan",
        "7",
        "--suppress-vlan",
        "7",
        "--show-suppressed",
    ]);
    let text = String::from_utf8(shown.stdout).expect("UTF-8");
    assert_eq!(text.lines().count(), 3);
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
        assert_eq!(v["imds"]["decision"], "suppressed");
        assert_eq!(v["imds"]["suppressed_by"], "--suppress-vlan 7");
    }
}

#[test]
fn scan_exit_codes_and_bad_policy() {
    let found = run(&["scan", BOTOCORE, "--fail-on-alert"]);
    assert_eq!(found.status.code(), Some(1));
    let dir = std::env::temp_dir().join(format!("imdsguard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.policy");
    std::fs::write(&bad, "suppress src 10.0.0.0/8\nsuppress src 10.0.0.0/33\n").expect("write");
    let out = run(&["scan", BOTOCORE, "--policy", bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.policy:2:") && err.contains("10.0.0.0/33"),
        "{err}"
    );
    let bad_flag = run(&["scan", BOTOCORE, "--suppress-src", "10.0.0.1/8"]);
    assert_eq!(bad_flag.status.code(), Some(2));
    for format in ["ecs", "text"] {
        let out = run(&["scan", BOTOCORE, "--format", format]);
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).lines().count(),
            3,
            "{format}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const CAPTURE: &str = "tests/data/captures/botocore-imdsv2-ipv4.pcap";

#[test]
fn scan_reads_captures_and_stdin() {
    let out = run(&["scan", CAPTURE]);
    assert!(out.status.success());
    let sids: Vec<u64> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            v["alert"]["signature_id"].as_u64().expect("sid")
        })
        .collect();
    assert_eq!(sids, [4_210_004, 4_210_002, 4_210_005]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        stderr.contains("24 packets, 1 flows, 3 transactions, 3 alerts"),
        "{stderr}"
    );

    let data = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CAPTURE))
        .expect("capture");
    let mut child = Command::new(BIN)
        .args(["scan", "-", "--format", "text"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&data).expect("write");
    }
    let piped = child.wait_with_output().expect("output");
    assert!(piped.status.success());
    assert_eq!(String::from_utf8_lossy(&piped.stdout).lines().count(), 3);
}

#[test]
fn a_truncated_capture_keeps_what_was_found_and_names_the_offset() {
    let data = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CAPTURE))
        .expect("capture");
    let dir = std::env::temp_dir().join(format!("imdsguard-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    // Cut 10 bytes into the last record.
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &data[..data.len() - 40]).expect("write");
    let out = run(&["scan", cut.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("truncated") && err.contains("byte offset"),
        "{err}"
    );
    // The flow was flushed: all three alerts were still written.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    // Not a capture and not a conversation: a clear error.
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"\x00\x01\x02 definitely not a capture").expect("write");
    let out = run(&["scan", junk.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn http_dump_reads_captures() {
    let out = run(&["http-dump", CAPTURE]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["request"]["method"], "PUT");
    assert_eq!(lines[0]["flow"], "198.19.1.10:53814 -> 169.254.169.254:80");
    assert_eq!(
        lines[0]["request"]["headers"][2][0],
        "x-aws-ec2-metadata-token-ttl-seconds"
    );
    assert_eq!(lines[2]["response"]["status"], 200);
}
