//! The detection engine: parser events → matcher → policy → alerts.
//!
//! An [`Engine`] holds what is configured (policy, limits) and is immutable: build it once and
//! share it between threads (`Arc<Engine>`). A [`Flow`] holds what one connection has shown so
//! far; every call on a flow takes the engine to use, so replacing the engine (a new policy)
//! never loses flow state.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod flow;

pub use flow::{Flow, FlowStats};

use crate::event::Alert;
use crate::flow::Limits;
use crate::imds::targets::endpoint_of_address;
use crate::imds::{Indicators, Provider};
use crate::key::FlowKey;
use crate::policy::{Decision, DecisionInput, Policy};
use std::net::IpAddr;

/// Default number of response-body bytes searched for a credential document.
pub const BODY_INSPECT_LIMIT: usize = 64 * 1024;
/// Default cap of each HTTP field copied into an alert (URL, Host, User-Agent).
pub const MAX_ALERT_FIELD: usize = 2048;
/// Default number of alerts a flow holds until the caller takes them.
pub const MAX_PENDING_ALERTS: usize = 1024;

/// What an engine is configured with besides its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Limits of the HTTP parser.
    pub limits: Limits,
    /// Response-body bytes searched for a credential document ([`BODY_INSPECT_LIMIT`]).
    pub body_inspect_limit: usize,
    /// Cap of each HTTP field copied into an alert ([`MAX_ALERT_FIELD`]).
    pub max_alert_field: usize,
    /// Also record every HTTP transaction as an owned record ([`Flow::take_transactions`]),
    /// for tools such as `imdsguard http-dump`. This copies, so detection leaves it off.
    pub record_transactions: bool,
    /// Alerts a flow holds until taken ([`MAX_PENDING_ALERTS`]): a caller that never takes
    /// them (or a stream of a million pipelined metadata requests) must not grow a flow
    /// without bound. Past it the oldest pending alert is dropped and counted in
    /// `FlowStats::alerts_dropped`.
    pub max_pending_alerts: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            limits: Limits::default(),
            body_inspect_limit: BODY_INSPECT_LIMIT,
            max_alert_field: MAX_ALERT_FIELD,
            record_transactions: false,
            max_pending_alerts: MAX_PENDING_ALERTS,
        }
    }
}

/// The immutable part of detection: policy and configuration. `Send + Sync`.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    policy: Policy,
    config: EngineConfig,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
};

impl Engine {
    /// An engine with the given policy and the default configuration.
    pub fn new(policy: Policy) -> Engine {
        Engine::with_config(policy, EngineConfig::default())
    }

    /// An engine with the given policy and configuration.
    pub fn with_config(policy: Policy, config: EngineConfig) -> Engine {
        Engine { policy, config }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Starts a flow.
    pub fn flow(&self, key: FlowKey) -> Flow {
        Flow::new(self, key)
    }

    /// The stateless address rule, for engines that want only that: the metadata service a
    /// destination address belongs to, looking through IPv6 embeddings of IPv4.
    #[inline]
    pub fn metadata_endpoint(ip: IpAddr) -> Option<(Provider, Indicators)> {
        endpoint_of_address(ip).map(|e| (e.provider, e.indicator))
    }

    /// The stateless policy decision for an alert with these properties on this flow.
    pub fn decide(&self, key: &FlowKey, indicators: Indicators, provider: Provider) -> Decision {
        self.policy.decide(&DecisionInput {
            key,
            indicators,
            provider,
        })
    }

    /// Applies the policy to an alert built elsewhere (re-deciding a stored alert under a
    /// new policy, for example).
    pub fn redecide(&self, alert: &mut Alert) {
        alert.decision = self.decide(&alert.key, alert.indicators, alert.provider);
    }
}
