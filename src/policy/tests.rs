//! Suppression table tests: CIDR inside/outside (IPv4, IPv6, IPv4-mapped), VLAN outer / inner /
//! either, destination, provider, indicator subsets, rule order, every error kind with its
//! line, file handling, sharing between threads, and a never-panics property.

use std::net::IpAddr;
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::key::Vlans;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn flow(src: &str, dst: &str, outer: Option<u16>, inner: Option<u16>) -> FlowKey {
    FlowKey {
        vlans: Vlans { outer, inner },
        ..FlowKey::tcp(ip(src), 40000, ip(dst), 80)
    }
}

const IMDS: &str = "169.254.169.254";

fn policy(text: &str) -> Policy {
    Policy::parse(text, "policy.conf").expect("test policy parses")
}

/// The name of the suppressing rule, or `None` when the alert is reported.
fn verdict(
    p: &Policy,
    key: &FlowKey,
    indicators: Indicators,
    provider: Provider,
) -> Option<String> {
    match p.decide(&DecisionInput {
        key,
        indicators,
        provider,
    }) {
        Decision::Alert => None,
        Decision::Suppressed { rule } => Some(rule),
    }
}

fn verdict_src(p: &Policy, src: &str) -> Option<String> {
    verdict(
        p,
        &flow(src, IMDS, None, None),
        Indicators::DST_IMDS,
        Provider::Aws,
    )
}

#[test]
fn default_policy_alerts_on_everything() {
    let empty_texts = [
        "",
        "\n\n",
        "# only a comment\n   \n\t# another\n",
        "\u{feff}",
    ];
    let mut policies = vec![Policy::default(), Policy::builder().build()];
    policies.extend(empty_texts.iter().map(|t| policy(t)));
    for p in &policies {
        assert!(p.is_empty());
        for src in ["10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1", "0.0.0.0"] {
            for vlans in [(None, None), (Some(1), None), (Some(1), Some(2))] {
                let key = flow(src, IMDS, vlans.0, vlans.1);
                assert_eq!(verdict(p, &key, Indicators::all(), Provider::Aws), None);
                assert_eq!(verdict(p, &key, Indicators::empty(), Provider::Gcp), None);
            }
        }
    }
}

#[test]
fn src_cidr_inside_and_outside_ipv4_ipv6_and_mapped() {
    let p = policy(
        "suppress src 10.20.0.0/16,2001:db8::/32   # VPC over VPN\n\
         suppress src 192.0.2.7\n\
         suppress src 2001:db8:ffff::1,fd00::/8\n\
         suppress src ::ffff:198.51.100.0/120\n",
    );
    let r1 = "policy.conf:1: suppress src 10.20.0.0/16,2001:db8::/32";
    let r2 = "policy.conf:2: suppress src 192.0.2.7";
    let r4 = "policy.conf:4: suppress src ::ffff:198.51.100.0/120";
    let table: &[(&str, Option<&str>)] = &[
        // IPv4: edges of the /16.
        ("10.20.0.0", Some(r1)),
        ("10.20.0.1", Some(r1)),
        ("10.20.255.255", Some(r1)),
        ("10.19.255.255", None),
        ("10.21.0.0", None),
        // A bare IPv4 address is a /32.
        ("192.0.2.7", Some(r2)),
        ("192.0.2.6", None),
        ("192.0.2.8", None),
        // IPv6.
        ("2001:db8::", Some(r1)),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", Some(r1)),
        ("2001:db9::", None),
        ("2001:db7:ffff::1", None),
        (
            "fd12:3456::1",
            Some("policy.conf:3: suppress src 2001:db8:ffff::1,fd00::/8"),
        ),
        ("fe80::1", None),
        // IPv4-mapped IPv6 sources match IPv4 CIDRs (a dual-stack socket's view of a v4 peer).
        ("::ffff:10.20.3.4", Some(r1)),
        ("::ffff:192.0.2.7", Some(r2)),
        ("::ffff:10.21.3.4", None),
        // ...but the deprecated IPv4-compatible form is just an IPv6 address.
        ("::10.20.3.4", None),
        // An IPv6 CIDR inside ::ffff:0:0/96 matches the plain IPv4 address too.
        ("198.51.100.77", Some(r4)),
        ("::ffff:198.51.100.77", Some(r4)),
        ("198.51.101.1", None),
    ];
    for &(src, expected) in table {
        assert_eq!(verdict_src(&p, src).as_deref(), expected, "source {src}");
    }
}

#[test]
fn ipv6_catch_all_does_not_swallow_ipv4_sources() {
    let p = policy("suppress src ::/0");
    assert!(verdict_src(&p, "2001:db8::1").is_some());
    assert!(verdict_src(&p, "::ffff:10.0.0.1").is_some());
    assert_eq!(verdict_src(&p, "10.0.0.1"), None);
    let p = policy("suppress src 0.0.0.0/0");
    assert!(verdict_src(&p, "10.0.0.1").is_some());
    assert!(verdict_src(&p, "::ffff:10.0.0.1").is_some());
    assert_eq!(verdict_src(&p, "2001:db8::1"), None);
}

#[test]
fn dst_cidr() {
    let p = policy("suppress dst 169.254.170.2/32,fd00:ec2::23\n");
    let r = "policy.conf:1: suppress dst 169.254.170.2/32,fd00:ec2::23";
    let table: &[(&str, Option<&str>)] = &[
        ("169.254.170.2", Some(r)),
        ("::ffff:169.254.170.2", Some(r)),
        ("fd00:ec2::23", Some(r)),
        (IMDS, None),
        ("fd00:ec2::254", None),
    ];
    for &(dst, expected) in table {
        let key = flow("10.0.0.1", dst, None, None);
        let got = verdict(&p, &key, Indicators::ECS_ENDPOINT, Provider::AwsEcs);
        assert_eq!(got.as_deref(), expected, "destination {dst}");
    }
    // The source is not looked at by a dst rule.
    let key = flow("169.254.170.2", IMDS, None, None);
    assert_eq!(verdict(&p, &key, Indicators::DST_IMDS, Provider::Aws), None);
}

#[test]
fn vlan_outer_inner_and_either() {
    let p = policy(
        "suppress vlan 300,301                       # either tag\n\
         suppress outer-vlan 100 inner-vlan 200      # QinQ pair\n\
         suppress inner-vlan 7\n\
         suppress outer-vlan 0\n",
    );
    let r1 = "policy.conf:1: suppress vlan 300,301";
    let r2 = "policy.conf:2: suppress outer-vlan 100 inner-vlan 200";
    let r3 = "policy.conf:3: suppress inner-vlan 7";
    let r4 = "policy.conf:4: suppress outer-vlan 0";
    type Tags = (Option<u16>, Option<u16>);
    let table: &[(Tags, Option<&str>)] = &[
        ((None, None), None),
        ((Some(300), None), Some(r1)),
        ((Some(5), Some(301)), Some(r1)),
        ((Some(300), Some(5)), Some(r1)),
        ((Some(302), None), None),
        ((Some(100), Some(200)), Some(r2)),
        ((Some(100), None), None),
        ((Some(100), Some(201)), None),
        ((Some(200), Some(100)), None),
        ((Some(1), Some(7)), Some(r3)),
        ((Some(7), None), None),
        ((Some(7), Some(1)), None),
        // VLAN 0 (priority tag) is an id like the others; untagged is not VLAN 0.
        ((Some(0), None), Some(r4)),
        ((Some(1), Some(0)), None),
    ];
    for &((outer, inner), expected) in table {
        let key = flow("10.0.0.1", IMDS, outer, inner);
        let got = verdict(&p, &key, Indicators::DST_IMDS, Provider::Aws);
        assert_eq!(got.as_deref(), expected, "vlans {outer:?}/{inner:?}");
    }
}

#[test]
fn provider_condition() {
    let p = policy("suppress provider gcp,AZURE");
    let key = flow("10.0.0.1", IMDS, None, None);
    let r = "policy.conf:1: suppress provider gcp,AZURE";
    for (provider, expected) in [
        (Provider::Gcp, Some(r)),
        (Provider::Azure, Some(r)),
        (Provider::Aws, None),
        (Provider::AwsEcs, None),
        (Provider::Hetzner, None),
    ] {
        let got = verdict(&p, &key, Indicators::OTHER_CLOUD, provider);
        assert_eq!(got.as_deref(), expected, "{provider}");
    }
}

#[test]
fn indicator_condition_is_a_subset_test() {
    let p = policy("suppress indicator resp_imds_server,DST_IMDS");
    let key = flow("10.0.0.1", IMDS, None, None);
    let table = [
        (Indicators::RESP_IMDS_SERVER, true),
        (Indicators::DST_IMDS, true),
        (Indicators::DST_IMDS | Indicators::RESP_IMDS_SERVER, true),
        // Stronger evidence alongside keeps the alert.
        (
            Indicators::RESP_IMDS_SERVER | Indicators::RESP_CREDENTIALS,
            false,
        ),
        (Indicators::DST_IMDS | Indicators::PATH_METADATA, false),
        (Indicators::HOST_IMDS, false),
        // No evidence at all is not "only the listed evidence".
        (Indicators::empty(), false),
    ];
    for (indicators, suppressed) in table {
        let got = verdict(&p, &key, indicators, Provider::Aws);
        assert_eq!(got.is_some(), suppressed, "{indicators:?}");
    }
}

#[test]
fn all_conditions_of_a_rule_must_match() {
    let p = policy("suppress src 10.0.0.0/8 provider gcp vlan 5 dst 169.254.169.254");
    let ok = flow("10.1.1.1", IMDS, Some(5), None);
    assert!(verdict(&p, &ok, Indicators::OTHER_CLOUD, Provider::Gcp).is_some());
    let other_src = flow("11.1.1.1", IMDS, Some(5), None);
    let other_vlan = flow("10.1.1.1", IMDS, Some(6), None);
    let other_dst = flow("10.1.1.1", "169.254.169.253", Some(5), None);
    for key in [other_src, other_vlan, other_dst] {
        assert_eq!(
            verdict(&p, &key, Indicators::OTHER_CLOUD, Provider::Gcp),
            None
        );
    }
    assert_eq!(
        verdict(&p, &ok, Indicators::OTHER_CLOUD, Provider::Aws),
        None
    );
}

#[test]
fn first_match_wins_and_alert_is_an_exception() {
    let text = "alert src 10.20.5.0/24      # lab: on-premises after all\n\
                suppress src 10.20.0.0/16   # cloud VPC\n";
    let p = policy(text);
    assert_eq!(verdict_src(&p, "10.20.5.9"), None);
    assert_eq!(
        verdict_src(&p, "10.20.6.9").as_deref(),
        Some("policy.conf:2: suppress src 10.20.0.0/16")
    );
    // The exception placed after the broad rule is shadowed: order is the operator's tool.
    let reversed: String = text.lines().rev().map(|l| format!("{l}\n")).collect();
    let p = policy(&reversed);
    assert_eq!(
        verdict_src(&p, "10.20.5.9").as_deref(),
        Some("policy.conf:1: suppress src 10.20.0.0/16")
    );
    // Two suppress rules: the first one is named.
    let p = policy("suppress src 10.0.0.0/8\nsuppress src 10.20.0.0/16\n");
    assert_eq!(
        verdict_src(&p, "10.20.0.1").as_deref(),
        Some("policy.conf:1: suppress src 10.0.0.0/8")
    );
}

#[test]
fn rule_names_are_the_trimmed_text_without_comment() {
    let p = policy(
        "\n  # heading\n\tsuppress   src\t10.0.0.0/8   # why\n\
         SUPPRESS Src 192.0.2.0/24#no space before the comment\n",
    );
    let names: Vec<&str> = p.rules().iter().map(Rule::name).collect();
    assert_eq!(
        names,
        [
            "policy.conf:3: suppress   src\t10.0.0.0/8",
            "policy.conf:4: SUPPRESS Src 192.0.2.0/24",
        ]
    );
    assert_eq!(p.rules()[1].action(), Action::Suppress);
    assert_eq!(p.rules()[1].conditions()[0].keyword(), "src");
    assert_eq!(p.rules()[1].to_string(), names[1]);
}

#[test]
fn crlf_line_endings_and_byte_order_mark() {
    let p = policy("\u{feff}# policy\r\n\r\nsuppress src 10.0.0.0/8\r\nsuppress vlan 4\r\n");
    let names: Vec<&str> = p.rules().iter().map(Rule::name).collect();
    assert_eq!(
        names,
        [
            "policy.conf:3: suppress src 10.0.0.0/8",
            "policy.conf:4: suppress vlan 4"
        ]
    );
    let e = Policy::parse("# x\r\n\r\nsuppress vlan 4096\r\n", "p").expect_err("bad vlan");
    assert_eq!(e.line(), 3);
    assert_eq!(e.column(), Some(15));
    assert!(!e.to_string().contains('\r'), "{e}");
}

/// Every error kind, with the line and column it names and a piece of its message.
#[test]
fn errors_name_the_line() {
    let prefix = "# header\n\n"; // errors below are on line 3
    let table: &[(&str, usize, &str)] = &[
        (
            "suppress src 10.0.0.0/33",
            14,
            r#"invalid CIDR "10.0.0.0/33": prefix length 33 is longer than 32"#,
        ),
        (
            "suppress src 10.0.0.0/8,2001:db8::/129",
            25,
            r#"invalid CIDR "2001:db8::/129": prefix length 129 is longer than 128"#,
        ),
        (
            "suppress src 10.0.0.0/x",
            14,
            r#"prefix length "x" is not a number from 0 to 32"#,
        ),
        (
            "suppress src 10.0.0.0/",
            14,
            r#"prefix length "" is not a number"#,
        ),
        (
            "suppress src 10.0.0/8",
            14,
            r#""10.0.0" is not an IPv4 or IPv6 address"#,
        ),
        (
            "suppress dst fe80::1%eth0",
            14,
            "is not an IPv4 or IPv6 address",
        ),
        (
            "suppress src 10.20.1.0/16",
            14,
            "host bits are set after the prefix (the network is 10.20.0.0/16)",
        ),
        (
            "suppress src 10.0.0.0/8,,10.1.0.0/16",
            25,
            "empty item in the list",
        ),
        ("suppress vlan 1,", 16, "ends with a comma"),
        ("suppress vlan ,1", 15, "empty item in the list"),
        (
            "suppress vlan 4096",
            15,
            r#"invalid VLAN id "4096": expected a number from 0 to 4095"#,
        ),
        ("suppress outer-vlan 100000", 21, "invalid VLAN id"),
        ("suppress inner-vlan +5", 21, r#"invalid VLAN id "+5""#),
        ("suppress vlan -1", 15, "invalid VLAN id"),
        ("suppress vlan ten", 15, "invalid VLAN id"),
        (
            "suppress provider aws,amazon",
            23,
            r#"unknown provider "amazon" (known: aws, aws-ecs,"#,
        ),
        (
            "suppress indicator dst_imds,server",
            29,
            r#"unknown indicator "server" (known: dst_imds,"#,
        ),
        (
            "suppress sorce 10.0.0.0/8",
            10,
            r#"unknown condition "sorce" (expected one of: src, dst, vlan,"#,
        ),
        (
            "suppress src 10.0.0.0/8, 10.1.0.0/16",
            24,
            r#"the list "10.0.0.0/8," ends with a comma (list items are separated by commas without spaces)"#,
        ),
        (
            "suppress src 10.0.0.0/8 ,10.1.0.0/16",
            25,
            "list items are separated by commas without spaces",
        ),
        (
            "suppress src 10.0.0.0/8 10.1.0.0/16",
            25,
            "list items are separated by commas without spaces",
        ),
        ("suppress src", 10, r#""src" needs a value, e.g. src "#),
        (
            "suppress vlan 3 inner-vlan",
            17,
            r#""inner-vlan" needs a value"#,
        ),
        (
            "suppress src 10.0.0.0/8 src 192.0.2.0/24",
            25,
            r#"duplicate condition "src" in one rule"#,
        ),
        (
            "suppress vlan 1 VLAN 2",
            17,
            r#"duplicate condition "vlan""#,
        ),
        ("suppress", 1, r#"rule "suppress" has no condition"#),
        ("  alert   # nothing", 3, r#"rule "alert" has no condition"#),
        (
            "supress src 10.0.0.0/8",
            1,
            r#"unknown action "supress" (a rule starts with "suppress" or "alert")"#,
        ),
        ("10.0.0.0/8", 1, "unknown action"),
        // Columns count characters, not bytes.
        (
            "suppress src 10.0.0.0/8 é 1",
            25,
            r#"unknown condition "é""#,
        ),
    ];
    for &(line, column, message) in table {
        let text = format!("{prefix}{line}\nsuppress src 192.0.2.0/24\n");
        let e = Policy::parse(&text, "policy.conf").expect_err(line);
        assert_eq!((e.line(), e.column()), (3, Some(column)), "{line:?}: {e}");
        assert_eq!(e.source_name(), "policy.conf");
        assert!(e.message().contains(message), "{line:?}: {e}");
        assert_eq!(e.to_string(), format!("policy.conf:3: {}", e.message()));
    }
}

#[test]
fn error_display_matches_the_documented_form() {
    let e = Policy::parse("suppress src 10.0.0.0/33", "policy.conf").expect_err("bad CIDR");
    assert_eq!(
        e.to_string(),
        r#"policy.conf:1: invalid CIDR "10.0.0.0/33": prefix length 33 is longer than 32"#
    );
    // A huge token is cut in the message.
    let long = "x".repeat(10_000);
    let e = Policy::parse(&format!("suppress {long} 1"), "p").expect_err("bad keyword");
    assert!(e.to_string().len() < 300, "{e}");
}

#[test]
fn the_first_error_is_reported() {
    let e = Policy::parse("suppress vlan 1\nbad\nworse\n", "p").expect_err("two errors");
    assert_eq!(e.line(), 2);
}

#[test]
fn keywords_are_case_insensitive() {
    let p =
        policy("Alert SRC 10.1.0.0/16\nSUPPRESS Outer-VLAN 5 PROVIDER Aws INDICATOR Dst_Imds\n");
    assert_eq!(p.rules()[0].action(), Action::Alert);
    let key = flow("10.0.0.1", IMDS, Some(5), None);
    assert!(verdict(&p, &key, Indicators::DST_IMDS, Provider::Aws).is_some());
}

#[test]
fn values_parse_on_their_own() {
    assert_eq!(
        parse_net("10.0.0.0/8").expect("cidr").to_string(),
        "10.0.0.0/8"
    );
    assert_eq!(
        parse_net("192.0.2.1").expect("addr").to_string(),
        "192.0.2.1/32"
    );
    assert_eq!(
        parse_net("2001:db8::1").expect("addr").to_string(),
        "2001:db8::1/128"
    );
    assert_eq!(parse_net("::/0").expect("any").to_string(), "::/0");
    for bad in [
        "",
        "/8",
        "10.0.0.0/8/8",
        "10.0.0.0/0008",
        " 10.0.0.0/8",
        "10.0.0.1/8",
    ] {
        assert!(parse_net(bad).is_err(), "{bad:?}");
    }
    assert_eq!("0".parse::<VlanId>().map(VlanId::get), Ok(0));
    assert_eq!("4095".parse::<VlanId>().map(VlanId::get), Ok(4095));
    for bad in [
        "",
        "4096",
        "65536",
        "99999999999999999999",
        "0x10",
        " 1",
        "1 ",
    ] {
        assert!(bad.parse::<VlanId>().is_err(), "{bad:?}");
    }
    assert_eq!(VlanId::new(4096), None);
    assert_eq!(Action::from_keyword("ALERT"), Some(Action::Alert));
}

#[test]
fn builder_rules_are_named_after_their_flags() {
    let net = parse_net("10.0.0.0/8").expect("cidr");
    let vlan = VlanId::new(300).expect("vlan");
    let p = Policy::builder()
        .suppress_src(net)
        .suppress_vlan(vlan)
        .suppress_dst(parse_net("169.254.170.2").expect("addr"))
        .suppress_provider(Provider::Gcp)
        .suppress_indicators(Indicators::RESP_IMDS_SERVER | Indicators::DST_IMDS)
        .build();
    let names: Vec<&str> = p.rules().iter().map(Rule::name).collect();
    assert_eq!(
        names,
        [
            "--suppress-src 10.0.0.0/8",
            "--suppress-vlan 300",
            "--suppress-dst 169.254.170.2/32",
            "--suppress-provider gcp",
            "--suppress-indicator dst_imds,resp_imds_server",
        ]
    );
    assert_eq!(
        verdict_src(&p, "10.9.9.9").as_deref(),
        Some("--suppress-src 10.0.0.0/8")
    );
    let key = flow("192.0.2.1", IMDS, Some(2), Some(300));
    assert_eq!(
        verdict(&p, &key, Indicators::PATH_METADATA, Provider::Aws).as_deref(),
        Some("--suppress-vlan 300")
    );
    assert_eq!(
        verdict_src(&p, "192.0.2.1").as_deref(),
        Some("--suppress-indicator dst_imds,resp_imds_server")
    );
}

#[test]
fn file_rules_come_before_flag_rules() {
    let file = policy("alert src 10.20.5.0/24\n");
    let p = file
        .into_builder()
        .suppress_src(parse_net("10.20.0.0/16").expect("cidr"))
        .build();
    assert_eq!(verdict_src(&p, "10.20.5.1"), None);
    assert!(verdict_src(&p, "10.20.6.1").is_some());
    let p = Policy::builder()
        .extend(policy("suppress src 10.0.0.0/8"))
        .push_rule(
            Rule::new(
                Action::Suppress,
                "lab hosts",
                vec![Condition::Src(vec![
                    parse_net("192.0.2.0/24").expect("cidr")
                ])],
            )
            .expect("one condition"),
        )
        .build();
    assert_eq!(verdict_src(&p, "192.0.2.9").as_deref(), Some("lab hosts"));
    assert!(Rule::new(Action::Suppress, "everything", Vec::new()).is_none());
}

/// "Suppressed events counted": the verdicts of a batch of alerts, tallied per rule the way
/// an engine's statistics would.
#[test]
fn suppressed_events_are_counted_per_rule() {
    let p = policy(
        "alert src 10.20.5.0/24\n\
         suppress src 10.20.0.0/16,2001:db8::/32\n\
         suppress outer-vlan 100 inner-vlan 200\n",
    );
    let events = [
        flow("10.20.1.1", IMDS, None, None),           // rule 2
        flow("10.20.5.1", IMDS, None, None),           // exception: alert
        flow("2001:db8::5", IMDS, None, None),         // rule 2
        flow("::ffff:10.20.9.9", IMDS, None, None),    // rule 2 (mapped)
        flow("192.0.2.1", IMDS, Some(100), Some(200)), // rule 3
        flow("192.0.2.1", IMDS, Some(200), Some(100)), // alert
        flow("192.0.2.1", IMDS, None, None),           // alert
    ];
    let mut per_rule: std::collections::BTreeMap<String, usize> = Default::default();
    let mut alerts = 0;
    for key in &events {
        match p.decide(&DecisionInput {
            key,
            indicators: Indicators::DST_IMDS,
            provider: Provider::Aws,
        }) {
            Decision::Alert => alerts += 1,
            d @ Decision::Suppressed { .. } => {
                assert!(d.is_suppressed());
                if let Decision::Suppressed { rule } = d {
                    *per_rule.entry(rule).or_default() += 1;
                }
            }
        }
    }
    assert_eq!(alerts, 3);
    let counts: Vec<(&str, usize)> = per_rule.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        counts,
        [
            ("policy.conf:2: suppress src 10.20.0.0/16,2001:db8::/32", 3),
            ("policy.conf:3: suppress outer-vlan 100 inner-vlan 200", 1),
        ]
    );
}

#[test]
fn from_file_reads_names_and_reports_io_and_encoding_errors() {
    let dir = std::env::temp_dir().join(format!("imdsguard-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("good.conf");
    std::fs::write(&good, "# cloud\r\nsuppress src 10.0.0.0/8\r\n").expect("write");
    let p = Policy::from_file(&good).expect("good file");
    assert_eq!(
        p.rules()[0].name(),
        format!("{}:2: suppress src 10.0.0.0/8", good.display())
    );

    let bad = dir.join("bad.conf");
    std::fs::write(&bad, b"suppress vlan 1\nsuppress src \xff\n".as_slice()).expect("write");
    let e = Policy::from_file(&bad).expect_err("invalid UTF-8");
    assert_eq!(e.line(), 2);
    assert!(e.message().contains("UTF-8"), "{e}");

    let missing = dir.join("missing.conf");
    let e = Policy::from_file(&missing).expect_err("missing");
    assert_eq!(e.line(), 0);
    assert!(
        e.to_string()
            .starts_with(&format!("{}: cannot read the policy: ", missing.display())),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn policy_is_shared_by_threads_and_replaced_without_disturbing_readers() {
    let mut current = Arc::new(policy("suppress src 10.0.0.0/8"));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let p = Arc::clone(&current);
            std::thread::spawn(move || {
                (0..1000)
                    .filter(|_| verdict_src(&p, "10.1.2.3").is_some())
                    .count()
            })
        })
        .collect();
    // A reload: new readers get the new policy, running ones finish with their snapshot.
    let old = std::mem::replace(&mut current, Arc::new(Policy::default()));
    for w in workers {
        assert_eq!(w.join().expect("worker"), 1000);
    }
    assert!(verdict_src(&old, "10.1.2.3").is_some());
    assert_eq!(verdict_src(&current, "10.1.2.3"), None);
}

/// docs/policy.md is the operators' reference: its example policy must load, and every
/// message in its error table must be what the parser says.
#[test]
fn the_documentation_matches_the_parser() {
    let doc = include_str!("../../docs/policy.md");
    let example = doc
        .split("```text\n")
        .find(|block| block.starts_with("# /etc/imdsguard/policy.conf\n"))
        .and_then(|block| block.split("```").next())
        .expect("the first policy example");
    let p = Policy::parse(example, "/etc/imdsguard/policy.conf").expect("the example parses");
    assert_eq!(p.rules().len(), 8);
    assert_eq!(
        verdict_src(&p, "10.20.7.1").as_deref(),
        Some("/etc/imdsguard/policy.conf:5: suppress  src 10.20.0.0/16")
    );
    assert_eq!(verdict_src(&p, "10.20.5.9"), None);

    let errors = doc
        .split("\n## Errors\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the Errors section");
    let mut checked = 0;
    for row in errors.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let [rule, message] = cells.as_slice() else {
            panic!("error table row {row:?}");
        };
        let rule = rule.trim_start_matches("| `").trim_end_matches('`');
        let message = message.trim_end_matches(" |").trim_matches('`');
        let e = Policy::parse(rule, "policy.conf").expect_err(rule);
        // "..." in the table stands for the rest of a long list.
        let documented = message.split("...").next().unwrap_or(message);
        assert!(
            e.message().starts_with(documented),
            "docs say {message:?}, parser says {:?}",
            e.message()
        );
        checked += 1;
    }
    assert_eq!(checked, 13, "error rows checked");
}

/// Words a policy is made of, to build inputs that get past the first token.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("suppress".to_owned()),
        Just("alert".to_owned()),
        Just("src".to_owned()),
        Just("dst".to_owned()),
        Just("vlan".to_owned()),
        Just("outer-vlan".to_owned()),
        Just("inner-vlan".to_owned()),
        Just("provider".to_owned()),
        Just("indicator".to_owned()),
        Just("#".to_owned()),
        Just(",".to_owned()),
        Just("\r\n".to_owned()),
        Just("\n".to_owned()),
        "[0-9./:,a-f]{0,20}",
        "(gcp|aws|dst_imds|resp_imds_server|4095|4096|::ffff:10.0.0.0/1[0-2][0-9])(,[a-z0-9_]{0,8})?",
        "\\PC{0,6}",
    ]
}

fn any_key() -> impl Strategy<Value = FlowKey> {
    let addr = prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
        any::<[u8; 4]>().prop_map(|o| IpAddr::from(std::net::Ipv4Addr::from(o).to_ipv6_mapped())),
    ];
    (
        addr.clone(),
        addr,
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u16>()),
    )
        .prop_map(|(s, d, outer, inner)| FlowKey {
            vlans: Vlans { outer, inner },
            ..FlowKey::tcp(s, 1, d, 80)
        })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Policy::parse(&text, "p");
        let _ = Policy::parse(&String::from_utf8_lossy(&bytes), "p");
    }

    #[test]
    fn policy_like_text_never_panics_and_errors_point_inside(
        words in proptest::collection::vec(word(), 0..24),
        seps in proptest::collection::vec(prop_oneof![Just(" "), Just("\t"), Just(""), Just("\n")], 24),
        keys in proptest::collection::vec(any_key(), 1..4),
        indicators in any::<u32>(),
    ) {
        let text: String = words.iter().zip(&seps).map(|(w, s)| format!("{w}{s}")).collect();
        match Policy::parse(&text, "p") {
            Ok(p) => {
                let lines: Vec<&str> = text.lines().collect();
                for rule in p.rules() {
                    // The name quotes its own line.
                    let (line_no, rest) = rule
                        .name()
                        .strip_prefix("p:")
                        .and_then(|s| s.split_once(": "))
                        .expect("name format");
                    let n: usize = line_no.parse().expect("line number");
                    prop_assert!(lines[n - 1].contains(rest), "{:?} not in {:?}", rest, lines[n - 1]);
                }
                for key in &keys {
                    for provider in Provider::ALL {
                        let _ = p.decide(&DecisionInput {
                            key,
                            indicators: Indicators::from_bits_truncate(indicators),
                            provider,
                        });
                    }
                }
            }
            Err(e) => {
                prop_assert!(e.line() >= 1 && e.line() <= text.lines().count(), "{e}");
                prop_assert!(e.column().is_some(), "{e}");
                prop_assert!(!e.message().is_empty());
            }
        }
    }
}
