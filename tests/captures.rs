//! Real-client captures through the `imdsguard` binary.
//!
//! `tests/data/captures/` holds pcaps of botocore, boto3, the AWS CLI and curl talking to a fake
//! IMDS (and of benign look-alikes), recorded by `scripts/make-captures` inside network
//! namespaces; `manifest.json` there says what each must raise. For every capture this runs
//! `imdsguard scan --format eve <capture>` and checks the alerts against the manifest, then
//! checks that `--suppress-src` and `--suppress-vlan` suppress exactly the alerts they name
//! (counted in the stderr summary `N alerts (M suppressed)`, shown with `--show-suppressed`).

use ipnet::IpNet;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_imdsguard");
const DIR: &str = "tests/data/captures";
const IMDS: [&str; 2] = ["169.254.169.254", "fd00:ec2::254"];

/// One expected alert kind of a capture.
#[derive(Debug)]
struct Expected {
    sid: u64,
    stage: String,
    min: usize,
    max: usize,
}

/// One manifest entry.
#[derive(Debug)]
struct Capture {
    file: String,
    benign: bool,
    vlan: Vec<u64>,
    addrs: Vec<IpAddr>,
    cidrs: Vec<String>,
    expected: Vec<Expected>,
}

impl Capture {
    fn path(&self) -> String {
        format!("{DIR}/{}", self.file)
    }

    fn owns(&self, alert: &Value) -> bool {
        self.addrs.contains(&ip_of(&alert["src_ip"]))
    }
}

struct Manifest {
    captures: Vec<Capture>,
    unrelated: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn manifest() -> Manifest {
    let path = format!("{}/{DIR}/manifest.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("manifest.json");
    let m: Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    let captures = m["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .map(|c| Capture {
            file: c["file"].as_str().expect("file").to_owned(),
            benign: c["benign"].as_bool().expect("benign"),
            vlan: c["vlan"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_u64().expect("VLAN id")).collect())
                .unwrap_or_default(),
            addrs: strings(&c["client_addresses"])
                .iter()
                .map(|a| a.parse().expect("client address"))
                .collect(),
            cidrs: strings(&c["client_cidrs"]),
            expected: c["expected_alerts"]
                .as_array()
                .expect("expected_alerts")
                .iter()
                .map(|e| Expected {
                    sid: e["signature_id"].as_u64().expect("signature_id"),
                    stage: e["stage"].as_str().expect("stage").to_owned(),
                    min: e["min_count"].as_u64().expect("min_count") as usize,
                    max: e["max_count"].as_u64().expect("max_count") as usize,
                })
                .collect(),
        })
        .collect();
    Manifest {
        captures,
        unrelated: strings(&m["unrelated_cidrs"]),
    }
}

fn ip_of(v: &Value) -> IpAddr {
    v.as_str()
        .expect("an address string")
        .parse()
        .expect("an IP address")
}

/// What one `imdsguard scan` printed.
struct Scan {
    /// EVE lines on stdout.
    alerts: Vec<Value>,
    /// `N` of the stderr summary: alerts raised and not suppressed.
    live: u64,
    /// `M` of the stderr summary.
    suppressed: u64,
    stderr: String,
}

/// Reads `N alerts (M suppressed)` from the summary line.
fn summary(stderr: &str) -> Option<(u64, u64)> {
    let at = stderr.find(" alerts (")?;
    let before = &stderr[..at];
    let start = before
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let live = before[start..].parse().ok()?;
    let rest = &stderr[at + " alerts (".len()..];
    let end = rest.find(" suppressed)")?;
    let suppressed = rest[..end].parse().ok()?;
    Some((live, suppressed))
}

fn scan(options: &[&str], captures: &[&Capture]) -> Scan {
    let mut args = vec!["scan".to_owned(), "--format".into(), "eve".into()];
    args.extend(options.iter().map(|s| s.to_string()));
    args.extend(captures.iter().map(|c| c.path()));
    let out = Command::new(BIN)
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "imdsguard {} failed ({}): {stderr}",
        args.join(" "),
        out.status
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let alerts: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("EVE line {l:?}: {e}")))
        .collect();
    let (live, suppressed) = summary(&stderr).unwrap_or_else(|| {
        panic!(
            "no `N alerts (M suppressed)` summary from imdsguard {}: {stderr}",
            args.join(" ")
        )
    });
    Scan {
        alerts,
        live,
        suppressed,
        stderr,
    }
}

/// (signature id, stage) -> count.
fn kinds<'a>(alerts: impl IntoIterator<Item = &'a Value>) -> BTreeMap<(u64, String), usize> {
    let mut m = BTreeMap::new();
    for a in alerts {
        let sid = a["alert"]["signature_id"].as_u64().expect("signature_id");
        let stage = a["imds"]["stage"].as_str().expect("stage").to_owned();
        *m.entry((sid, stage)).or_insert(0) += 1;
    }
    m
}

fn decision(alert: &Value) -> &str {
    alert["imds"]["decision"].as_str().expect("decision")
}

/// Scans each capture alone, checks it against the manifest and returns its alert count.
fn baseline(c: &Capture) -> usize {
    let s = scan(&[], &[c]);
    let got = kinds(&s.alerts);
    let ctx = format!("{}: got {got:?}; stderr: {}", c.file, s.stderr);
    for ((sid, stage), n) in &got {
        let e = c
            .expected
            .iter()
            .find(|e| e.sid == *sid && e.stage == *stage)
            .unwrap_or_else(|| panic!("unexpected alert {sid} ({stage}) ×{n}; {ctx}"));
        assert!(
            (e.min..=e.max).contains(n),
            "{sid} ({stage}) ×{n}, expected {}..={}; {ctx}",
            e.min,
            e.max
        );
    }
    for e in &c.expected {
        if e.min > 0 {
            assert!(
                got.contains_key(&(e.sid, e.stage.clone())),
                "missing {} ({}); {ctx}",
                e.sid,
                e.stage
            );
        }
    }
    for a in &s.alerts {
        assert_eq!(decision(a), "alert", "{ctx}");
        assert!(c.owns(a), "alert from a foreign source {a}; {ctx}");
        let dst = ip_of(&a["dest_ip"]);
        assert!(
            IMDS.iter().any(|m| m.parse::<IpAddr>().ok() == Some(dst)),
            "alert toward {dst}; {ctx}"
        );
        if c.vlan.is_empty() {
            assert!(a.get("vlan").is_none(), "untagged capture, vlan in {a}");
        } else {
            assert_eq!(a["vlan"], serde_json::json!(c.vlan), "{ctx}");
        }
    }
    if c.benign {
        assert!(s.alerts.is_empty(), "benign capture raised alerts; {ctx}");
    }
    assert_eq!(s.live as usize, s.alerts.len(), "summary; {ctx}");
    assert_eq!(s.suppressed, 0, "summary; {ctx}");
    s.alerts.len()
}

fn suppress_src_args(cidrs: &[String]) -> Vec<String> {
    cidrs
        .iter()
        .flat_map(|n| ["--suppress-src".to_owned(), n.clone()])
        .collect()
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn manifest_covers_every_capture_and_captures_are_small() {
    let m = manifest();
    let root = format!("{}/{DIR}", env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = std::fs::read_dir(&root)
        .expect("captures directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = m.captures.iter().map(|c| c.file.clone()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    let total: u64 = on_disk
        .iter()
        .map(|f| {
            std::fs::metadata(format!("{root}/{f}"))
                .expect("pcap")
                .len()
        })
        .sum();
    assert!(total < 300 * 1024, "captures take {total} bytes");
    // Every client address lies in its own networks and in no other capture's.
    for c in &m.captures {
        let nets: Vec<IpNet> = c.cidrs.iter().map(|n| n.parse().expect("CIDR")).collect();
        for a in &c.addrs {
            assert!(nets.iter().any(|n| n.contains(a)), "{}: {a}", c.file);
        }
        for other in m.captures.iter().filter(|o| o.file != c.file) {
            for a in &other.addrs {
                assert!(!nets.iter().any(|n| n.contains(a)), "{}: {a}", c.file);
            }
        }
        for u in &m.unrelated {
            let u: IpNet = u.parse().expect("CIDR");
            assert!(!c.addrs.iter().any(|a| u.contains(a)), "{}", c.file);
        }
    }
}

#[test]
fn every_capture_raises_exactly_its_expected_alerts() {
    let m = manifest();
    for c in &m.captures {
        let n = baseline(c);
        assert_eq!(n == 0, c.benign, "{}: {n} alerts", c.file);
    }
}

#[test]
fn suppress_src_suppresses_exactly_the_clients_alerts() {
    let m = manifest();
    let all: Vec<&Capture> = m.captures.iter().collect();
    let counts: Vec<usize> = all.iter().map(|c| baseline(c)).collect();
    let total: usize = counts.iter().sum();
    for (i, c) in all.iter().enumerate() {
        let n = counts[i];
        let own = suppress_src_args(&c.cidrs);

        // Alone: everything of the capture is suppressed, and counted.
        let s = scan(&as_strs(&own), &[c]);
        assert!(s.alerts.is_empty(), "{}: {:?}", c.file, s.alerts);
        assert_eq!((s.live, s.suppressed), (0, n as u64), "{}", c.file);

        // --show-suppressed prints them, marked.
        let mut shown_args = own.clone();
        shown_args.push("--show-suppressed".into());
        let s = scan(&as_strs(&shown_args), &[c]);
        assert_eq!(s.alerts.len(), n, "{}", c.file);
        for a in &s.alerts {
            assert_eq!(decision(a), "suppressed", "{}: {a}", c.file);
            assert!(a["imds"]["suppressed_by"].is_string(), "{}: {a}", c.file);
        }
        assert_eq!((s.live, s.suppressed), (0, n as u64), "{}", c.file);

        // Networks that are not the client's suppress nothing.
        let next = all[(i + 1) % all.len()];
        for nets in [&m.unrelated, &next.cidrs] {
            let s = scan(&as_strs(&suppress_src_args(nets)), &[c]);
            assert_eq!(s.alerts.len(), n, "{} with {nets:?}", c.file);
            assert!(s.alerts.iter().all(|a| decision(a) == "alert"));
            assert_eq!((s.live, s.suppressed), (n as u64, 0), "{}", c.file);
        }

        // All captures in one run: exactly this capture's alerts go.
        let mut shown_args = own.clone();
        shown_args.push("--show-suppressed".into());
        let s = scan(&as_strs(&shown_args), &all);
        assert_eq!(s.alerts.len(), total, "{}", c.file);
        assert_eq!(
            (s.live, s.suppressed),
            ((total - n) as u64, n as u64),
            "{}",
            c.file
        );
        for a in &s.alerts {
            let want = if c.owns(a) { "suppressed" } else { "alert" };
            assert_eq!(decision(a), want, "{} suppressed: {a}", c.file);
        }
    }
}

#[test]
fn suppress_vlan_suppresses_exactly_the_tagged_capture() {
    let m = manifest();
    let all: Vec<&Capture> = m.captures.iter().collect();
    assert!(all.iter().any(|c| c.vlan == [100]), "a VLAN 100 capture");
    let mut tagged = 0;
    let mut total = 0;
    for c in &all {
        let n = baseline(c);
        total += n;
        let s = scan(&["--suppress-vlan", "100"], &[c]);
        if c.vlan.contains(&100) {
            tagged += n;
            assert!(s.alerts.is_empty(), "{}", c.file);
            assert_eq!((s.live, s.suppressed), (0, n as u64), "{}", c.file);
        } else {
            assert_eq!(s.alerts.len(), n, "{}", c.file);
            assert_eq!((s.live, s.suppressed), (n as u64, 0), "{}", c.file);
        }
        // Another VLAN id suppresses nothing.
        let s = scan(&["--suppress-vlan", "200"], &[c]);
        assert_eq!((s.live, s.suppressed), (n as u64, 0), "{}", c.file);
    }
    assert!(tagged > 0);
    let s = scan(&["--suppress-vlan", "100", "--show-suppressed"], &all);
    assert_eq!(s.alerts.len(), total);
    assert_eq!(
        (s.live, s.suppressed),
        ((total - tagged) as u64, tagged as u64)
    );
    for a in &s.alerts {
        let want = if a.get("vlan") == Some(&serde_json::json!([100])) {
            "suppressed"
        } else {
            "alert"
        };
        assert_eq!(decision(a), want, "{a}");
    }
}

#[test]
fn summary_is_read_from_the_cli_format() {
    assert_eq!(
        summary(
            "imdsguard: 3 flows, 5 transactions, 4 alerts (2 suppressed), 0 messages with \
             anomalies, 900 bytes in 0.001 s\n"
        ),
        Some((4, 2))
    );
    assert_eq!(summary("nothing here"), None);
}
