//! Suppression policy: which alerts are kept, and which are suppressed because the source is
//! known not to be on-premises (a cloud subnet, a VLAN of cloud hosts, ...).
//!
//! (Interface only; the rule language arrives with the policy module proper.)

#![forbid(unsafe_code)]

use crate::imds::{Indicators, Provider};
use crate::key::FlowKey;

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
        /// The suppressing rule, as `file:line: rule text`.
        rule: String,
    },
}

/// A compiled suppression policy. The default alerts on everything.
#[derive(Debug, Clone, Default)]
pub struct Policy {}

impl Policy {
    /// Decides one alert.
    pub fn decide(&self, _input: &DecisionInput<'_>) -> Decision {
        Decision::Alert
    }
}
