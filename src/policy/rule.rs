//! Rules and their conditions: what one line of a policy file compiles to, and how a rule is
//! matched against one alert.
//!
//! Matching is a handful of comparisons per condition over slices built at load time: it never
//! allocates, so [`Policy::decide`](super::Policy::decide) can run on the packet path.

#![forbid(unsafe_code)]

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::DecisionInput;
use crate::imds::{Indicators, Provider};

/// What a matching rule does with the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Keep the alert as suppressed (the source is known not to be on-premises).
    Suppress,
    /// Report the alert: an exception placed before a broader `suppress`.
    Alert,
}

impl Action {
    /// The keyword of the action in a policy file (`suppress`, `alert`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Suppress => "suppress",
            Action::Alert => "alert",
        }
    }

    /// Looks an action up by its keyword, in any case.
    pub fn from_keyword(word: &str) -> Option<Action> {
        [Action::Suppress, Action::Alert]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that does not parse: a CIDR, a VLAN id. The message names the value and the reason,
/// e.g. `invalid CIDR "10.0.0.0/33": prefix length 33 is longer than 32`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    message: String,
}

impl ValueError {
    pub(super) fn new(message: String) -> ValueError {
        ValueError { message }
    }

    /// The message, without position (the policy parser adds the line).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// Quotes a value for an error message, cut to a readable length: a policy file can be any
/// file (a binary passed by mistake), and one error line should stay one screen line.
pub(super) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    match value.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{:?}...", &value[..cut]),
        None => format!("{value:?}"),
    }
}

/// An 802.1Q VLAN id: 12 bits, 0 to 4095.
///
/// Parses from decimal digits only (`"300"`), so that `+300` or ` 300` in a policy file are
/// reported rather than read silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VlanId(u16);

impl VlanId {
    /// The largest id the 12-bit field can carry.
    pub const MAX: u16 = 4095;

    /// A VLAN id, or `None` above [`VlanId::MAX`].
    pub const fn new(id: u16) -> Option<VlanId> {
        if id <= VlanId::MAX {
            Some(VlanId(id))
        } else {
            None
        }
    }

    /// The numeric id.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl FromStr for VlanId {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<VlanId, ValueError> {
        let bad = || {
            ValueError::new(format!(
                "invalid VLAN id {}: expected a number from 0 to {}",
                quote(s),
                VlanId::MAX
            ))
        };
        // u16::from_str would accept "+5"; digits only. The length bound keeps the parse from
        // overflowing into an error message about integers rather than VLANs.
        if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u16>().ok().and_then(VlanId::new).ok_or_else(bad)
    }
}

impl fmt::Display for VlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parses a CIDR (`10.20.0.0/16`, `2001:db8::/32`) or a bare address (`192.0.2.7`, one host:
/// /32 or /128).
///
/// Host bits set after the prefix (`10.20.1.0/16`) are an error, with the network it would
/// mean: in a suppression list a typo that widens the range silently hides alerts, so the
/// operator is asked to write what they mean.
///
/// # Errors
///
/// A [`ValueError`] naming the value and what is wrong with it (not an address, prefix too
/// long, host bits set).
pub fn parse_net(text: &str) -> Result<IpNet, ValueError> {
    let bad = |reason: String| ValueError::new(format!("invalid CIDR {}: {reason}", quote(text)));
    let (addr_text, prefix_text) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let addr: IpAddr = addr_text.parse().map_err(|_| {
        bad(format!(
            "{} is not an IPv4 or IPv6 address",
            quote(addr_text)
        ))
    })?;
    let max: u8 = match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let prefix = match prefix_text {
        None => max,
        Some(p) => {
            // At most three digits: "0032" is not a prefix anyone writes, and the bound keeps
            // the number small enough that the comparison below is the only range check.
            let not_a_number = || {
                bad(format!(
                    "prefix length {} is not a number from 0 to {max}",
                    quote(p)
                ))
            };
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_a_number());
            }
            let len: u16 = p.parse().map_err(|_| not_a_number())?;
            match u8::try_from(len) {
                Ok(len) if len <= max => len,
                _ => return Err(bad(format!("prefix length {len} is longer than {max}"))),
            }
        }
    };
    let net = match addr {
        IpAddr::V4(a) => Ipv4Net::new(a, prefix).map(IpNet::V4),
        IpAddr::V6(a) => Ipv6Net::new(a, prefix).map(IpNet::V6),
    }
    .map_err(|_| bad(format!("prefix length {prefix} is longer than {max}")))?;
    if net.trunc() != net {
        return Err(bad(format!(
            "host bits are set after the prefix (the network is {})",
            net.trunc()
        )));
    }
    Ok(net)
}

/// Whether `ip` is inside `net`.
///
/// IPv4 and IPv4-mapped IPv6 (`::ffff:a.b.c.d`) are one address space here: a dual-stack
/// socket reports an IPv4 peer in mapped form, and the operator who wrote `10.0.0.0/8` means
/// that peer too. The other direction only holds for an IPv6 CIDR inside `::ffff:0:0/96`, so
/// that `src ::/0` ("every IPv6 source") never swallows the IPv4 sources.
fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpNet::V4(n), IpAddr::V4(a)) => n.contains(&a),
        (IpNet::V6(n), IpAddr::V6(a)) => n.contains(&a),
        (IpNet::V4(n), IpAddr::V6(a)) => a.to_ipv4_mapped().is_some_and(|v4| n.contains(&v4)),
        (IpNet::V6(n), IpAddr::V4(a)) => n.prefix_len() >= 96 && n.contains(&a.to_ipv6_mapped()),
    }
}

/// One condition of a rule. A rule matches when all its conditions match; a list inside one
/// condition matches when any of its items does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The source (client) address is inside one of the networks.
    Src(Vec<IpNet>),
    /// The destination (server) address is inside one of the networks.
    Dst(Vec<IpNet>),
    /// The outer or the inner VLAN tag is one of the ids. Untagged frames do not match.
    Vlan(Vec<VlanId>),
    /// The outer (first, or only) VLAN tag is one of the ids.
    OuterVlan(Vec<VlanId>),
    /// The inner (QinQ) VLAN tag is one of the ids.
    InnerVlan(Vec<VlanId>),
    /// The alert concerns one of the providers.
    Provider(Vec<Provider>),
    /// Every indicator of the alert is in the set, and the alert has at least one.
    ///
    /// Subset, not intersection: `indicator resp_imds_server` means "suppress alerts whose
    /// *only* evidence is a `Server: EC2ws` header". An alert that also carries
    /// `resp_credentials` stays reported; with "any of" semantics a noisy indicator would hide
    /// every stronger alert that happens to include it.
    Indicator(Indicators),
}

impl Condition {
    /// The keyword of the condition in a policy file (`src`, `outer-vlan`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            Condition::Src(_) => "src",
            Condition::Dst(_) => "dst",
            Condition::Vlan(_) => "vlan",
            Condition::OuterVlan(_) => "outer-vlan",
            Condition::InnerVlan(_) => "inner-vlan",
            Condition::Provider(_) => "provider",
            Condition::Indicator(_) => "indicator",
        }
    }

    /// Whether the alert satisfies the condition. Never allocates.
    pub fn matches(&self, input: &DecisionInput<'_>) -> bool {
        let vlans = input.key.vlans;
        let has = |ids: &[VlanId], tag: Option<u16>| {
            tag.is_some_and(|t| ids.iter().any(|id| id.get() == t))
        };
        match self {
            Condition::Src(nets) => nets.iter().any(|n| net_contains(n, input.key.src_ip)),
            Condition::Dst(nets) => nets.iter().any(|n| net_contains(n, input.key.dst_ip)),
            Condition::Vlan(ids) => has(ids, vlans.outer) || has(ids, vlans.inner),
            Condition::OuterVlan(ids) => has(ids, vlans.outer),
            Condition::InnerVlan(ids) => has(ids, vlans.inner),
            Condition::Provider(list) => list.contains(&input.provider),
            Condition::Indicator(set) => {
                !input.indicators.is_empty() && set.contains(input.indicators)
            }
        }
    }
}

/// One rule: an action, the conditions that must all match, and a name that the
/// [`Decision`](super::Decision) quotes when the rule suppresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    action: Action,
    name: String,
    conditions: Vec<Condition>,
}

impl Rule {
    /// A rule, or `None` without conditions: a rule that matches everything is almost always a
    /// mistake, and when it is meant it can be spelled (`src 0.0.0.0/0,::/0`).
    ///
    /// `name` is what a suppressed alert shows, e.g. `policy.conf:3: suppress src 10.0.0.0/8`
    /// or `--suppress-src 10.0.0.0/8`.
    pub fn new(
        action: Action,
        name: impl Into<String>,
        conditions: Vec<Condition>,
    ) -> Option<Rule> {
        if conditions.is_empty() {
            return None;
        }
        Some(Rule {
            action,
            name: name.into(),
            conditions,
        })
    }

    /// What the rule does when it matches.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The rule's name, as shown in [`Decision::Suppressed`](super::Decision::Suppressed).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The conditions, all of which must match.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Whether every condition matches the alert. Never allocates.
    pub fn matches(&self, input: &DecisionInput<'_>) -> bool {
        self.conditions.iter().all(|c| c.matches(input))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
