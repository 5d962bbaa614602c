//! Suppression policy: which alerts are kept, and which are suppressed because the source is
//! known not to be on-premises (a cloud subnet reached over a VPN, a VLAN of cloud hosts, ...).
//!
//! IMDS traffic is only alarming where no metadata service can legitimately answer, so every
//! source counts as on-premises until the operator says otherwise: the default policy alerts
//! on everything, and rules only ever narrow that down (or carve exceptions back out).
//!
//! - The text format is documented for operators in `docs/policy.md`; [`Policy::parse`] and
//!   [`Policy::from_file`] read it, with errors that name the line ([`PolicyError`]).
//! - [`PolicyBuilder`] adds rules from code (the CLI's `--suppress-src`, `--suppress-vlan`).
//! - A [`Policy`] is immutable once built and `Send + Sync`: share it by reference or in an
//!   `Arc`. It holds no flow state (flows live in the engine, which is handed the policy to use
//!   on every call), so a new policy replaces the old one without losing a flow; alerts
//!   already decided keep the verdict they got.
//!
//! ```
//! use imdsguard::key::FlowKey;
//! use imdsguard::imds::{Indicators, Provider};
//! use imdsguard::policy::{Decision, DecisionInput, Policy};
//!
//! let policy = Policy::parse(
//!     "alert src 10.20.5.0/24             # the lab subnet is on-premises\n\
//!      suppress src 10.20.0.0/16          # cloud VPC reached over VPN\n",
//!     "policy.conf",
//! )?;
//! let key = FlowKey::tcp("10.20.1.9".parse()?, 40000, "169.254.169.254".parse()?, 80);
//! let input = DecisionInput { key: &key, indicators: Indicators::DST_IMDS, provider: Provider::Aws };
//! assert_eq!(
//!     policy.decide(&input),
//!     Decision::Suppressed { rule: "policy.conf:2: suppress src 10.20.0.0/16".into() }
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod parse;
mod rule;
#[cfg(test)]
mod tests;

use std::path::Path;

use ipnet::IpNet;

use crate::imds::{Indicators, Provider};
use crate::key::FlowKey;

pub use parse::PolicyError;
pub use rule::{parse_net, Action, Condition, Rule, ValueError, VlanId};

/// What the policy looks at for one alert.
#[derive(Debug, Clone, Copy)]
pub struct DecisionInput<'a> {
    /// The flow.
    pub key: &'a FlowKey,
    /// The alert's indicators.
    pub indicators: Indicators,
    /// The provider concerned.
    pub provider: Provider,
}

/// The policy's verdict on one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Report it.
    Alert,
    /// Keep it as suppressed; `rule` names the rule that suppressed it.
    Suppressed {
        /// The suppressing rule, as `file:line: rule text` (e.g.
        /// `policy.conf:3: suppress src 10.20.0.0/16`), or the flag that added it
        /// (`--suppress-src 10.0.0.0/8`).
        rule: String,
    },
}

impl Decision {
    /// Whether the alert was suppressed.
    pub fn is_suppressed(&self) -> bool {
        matches!(self, Decision::Suppressed { .. })
    }
}

/// A compiled suppression policy: rules in order, first match wins, no match alerts. The
/// default (no rules) alerts on everything.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    rules: Vec<Rule>,
}

// The engine shares one policy across worker threads; fail the build, not a user's
// `thread::spawn`, if a field ever stops being shareable.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<Policy>();
};

impl Policy {
    /// A builder, for rules made in code.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// Parses a policy text (docs/policy.md). `source_name` (usually the file path) prefixes
    /// error messages and rule names: `policy.conf:3: suppress src 10.20.0.0/16`.
    ///
    /// # Errors
    ///
    /// Any input that is not a valid policy is a [`PolicyError`] naming the line (the first
    /// bad one); the whole text is refused. Never panics, whatever the input.
    pub fn parse(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        parse::parse_rules(text, source_name).map(|rules| Policy { rules })
    }

    /// Reads and parses a policy file; rule names and errors start with the path as given.
    ///
    /// # Errors
    ///
    /// As [`Policy::parse`]; also an unreadable file (line 0) and invalid UTF-8 (the line of
    /// the first bad byte).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| PolicyError::new(&name, 0, format!("cannot read the policy: {e}")))?;
        Policy::parse_bytes(&bytes, &name)
    }

    /// Parses policy bytes that may not be UTF-8 (text handed over by C, a file's contents).
    ///
    /// # Errors
    ///
    /// As [`Policy::parse`]; invalid UTF-8 is an error naming the line of the first bad byte.
    pub fn parse_bytes(bytes: &[u8], source_name: &str) -> Result<Policy, PolicyError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let line = memchr::memchr_iter(b'\n', good).count() + 1;
            PolicyError::new(
                source_name,
                line,
                "the policy is not valid UTF-8".to_owned(),
            )
        })?;
        Policy::parse(text, source_name)
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether the policy has no rule (and so alerts on everything).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// A builder holding this policy's rules, to append more (the CLI adds its flags after the
    /// file's rules).
    pub fn into_builder(self) -> PolicyBuilder {
        PolicyBuilder { rules: self.rules }
    }

    /// Decides one alert: the first rule whose conditions all match decides; no match alerts.
    ///
    /// A linear scan (policies have a handful of rules); matching never allocates, only a
    /// suppression copies the rule's name into the [`Decision`].
    pub fn decide(&self, input: &DecisionInput<'_>) -> Decision {
        match self.rules.iter().find(|r| r.matches(input)) {
            Some(rule) if rule.action() == Action::Suppress => Decision::Suppressed {
                rule: rule.name().to_owned(),
            },
            _ => Decision::Alert,
        }
    }
}

/// Builds a [`Policy`] in code. Rules are tried in the order they are added.
///
/// The `suppress_*` shortcuts name their rule after the CLI flag that makes it
/// (`--suppress-src 10.0.0.0/8`), so a suppressed alert says where its rule came from; use
/// [`PolicyBuilder::push_rule`] for another name or several conditions.
///
/// ```
/// use imdsguard::policy::{parse_net, Policy};
///
/// let policy = Policy::builder()
///     .suppress_src(parse_net("10.0.0.0/8")?)
///     .suppress_vlan("300".parse()?)
///     .build();
/// assert_eq!(policy.rules()[0].name(), "--suppress-src 10.0.0.0/8");
/// # Ok::<(), imdsguard::policy::ValueError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PolicyBuilder {
    rules: Vec<Rule>,
}

impl PolicyBuilder {
    /// Appends a rule.
    pub fn push_rule(mut self, rule: Rule) -> PolicyBuilder {
        self.rules.push(rule);
        self
    }

    /// Appends every rule of `policy` (e.g. a parsed file), in order.
    pub fn extend(mut self, policy: Policy) -> PolicyBuilder {
        self.rules.extend(policy.rules);
        self
    }

    fn suppress(self, name: String, condition: Condition) -> PolicyBuilder {
        match Rule::new(Action::Suppress, name, vec![condition]) {
            Some(rule) => self.push_rule(rule),
            // Unreachable: one condition was given. Dropping the rule (rather than panicking)
            // would only ever fail open to "alert", the safe side.
            None => self,
        }
    }

    /// Suppresses alerts whose source is inside `net` (rule `--suppress-src NET`).
    pub fn suppress_src(self, net: IpNet) -> PolicyBuilder {
        self.suppress(format!("--suppress-src {net}"), Condition::Src(vec![net]))
    }

    /// Suppresses alerts whose destination is inside `net` (rule `--suppress-dst NET`).
    pub fn suppress_dst(self, net: IpNet) -> PolicyBuilder {
        self.suppress(format!("--suppress-dst {net}"), Condition::Dst(vec![net]))
    }

    /// Suppresses alerts on frames whose outer or inner VLAN tag is `id`
    /// (rule `--suppress-vlan ID`).
    pub fn suppress_vlan(self, id: VlanId) -> PolicyBuilder {
        self.suppress(format!("--suppress-vlan {id}"), Condition::Vlan(vec![id]))
    }

    /// Suppresses alerts about `provider` (rule `--suppress-provider NAME`).
    pub fn suppress_provider(self, provider: Provider) -> PolicyBuilder {
        self.suppress(
            format!("--suppress-provider {provider}"),
            Condition::Provider(vec![provider]),
        )
    }

    /// Suppresses alerts whose indicators are all in `set` (rule
    /// `--suppress-indicator a,b`); see [`Condition::Indicator`] for why "all".
    pub fn suppress_indicators(self, set: Indicators) -> PolicyBuilder {
        let names: Vec<String> = set.names().collect();
        self.suppress(
            format!("--suppress-indicator {}", names.join(",")),
            Condition::Indicator(set),
        )
    }

    /// The policy.
    pub fn build(self) -> Policy {
        Policy { rules: self.rules }
    }
}
