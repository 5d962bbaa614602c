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
