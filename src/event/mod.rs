//! Alerts: the model the engine produces, and its renderings for Suricata's EVE pipelines
//! and for SIEMs (Elastic Common Schema field names).

#![forbid(unsafe_code)]

use crate::flow::TxId;
use crate::http::Anomalies;
use crate::imds::{Indicators, Provider, Signature, Stage};
use crate::key::FlowKey;
use crate::policy::Decision;

mod ecs;
mod eve;

pub use ecs::{to_ecs, write_ecs_line, ECS_VERSION};
pub use eve::{to_eve, to_text, write_eve_line, write_text_line, CATEGORY};

/// HTTP fields of the transaction an alert is about, as sent (bounded copies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpInfo {
    /// Host header value, or the authority of an absolute-form / CONNECT target.
    pub hostname: Vec<u8>,
    /// Raw request target.
    pub url: Vec<u8>,
    /// Method.
    pub method: Vec<u8>,
    /// User-Agent header value.
    pub user_agent: Vec<u8>,
    /// Protocol token (`HTTP/1.1`).
    pub protocol: Vec<u8>,
    /// Response status, once seen.
    pub status: Option<u16>,
    /// The normalised path the matcher used, when it differs from the raw target's path.
    pub normalized_path: Option<Vec<u8>>,
}

/// What is known of the host that answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Responder {
    /// IP TTL / hop limit of the responder's packets, when the caller supplied it. The real
    /// IMDS answers with 1; an impersonator a hop or more away usually does not.
    pub ttl: Option<u8>,
    /// The responder's MAC address, when known.
    pub mac: Option<[u8; 6]>,
}

/// One alert (kept also when suppressed, so that suppressed alerts can be counted and shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Time of the observation, microseconds since the Unix epoch (0 when unknown).
    pub timestamp_us: u64,
    /// The flow.
    pub key: FlowKey,
    /// The transaction, for HTTP alerts; `None` for address-only contact.
    pub tx: Option<TxId>,
    /// The signature raised.
    pub signature: Signature,
    /// Every indicator seen on the transaction (or flow).
    pub indicators: Indicators,
    /// How far the exchange got.
    pub stage: Stage,
    /// The metadata service concerned.
    pub provider: Provider,
    /// The policy's verdict.
    pub decision: Decision,
    /// HTTP fields, when HTTP was seen.
    pub http: Option<HttpInfo>,
    /// The responder, when known.
    pub responder: Responder,
    /// Short human-readable statements of what was seen (`"host 0xa9fea9fe is 169.254.169.254"`).
    pub evidence: Vec<String>,
    /// HTTP anomalies of the transaction (request and response).
    pub anomalies: Anomalies,
}

impl Alert {
    /// Whether the policy suppressed the alert.
    pub fn is_suppressed(&self) -> bool {
        matches!(self.decision, Decision::Suppressed { .. })
    }
}

/// Strings kept for the next evidence statements, so that a flow whose alerts come back
/// to it ([`crate::engine::Flow::pop_alert_into`]) writes each statement into the capacity
/// an earlier one left instead of allocating: alerting traffic, too, allocates nothing in
/// steady state.
#[derive(Debug, Clone, Default)]
pub(crate) struct StringPool {
    spare: Vec<String>,
}

impl StringPool {
    /// Most strings kept: a transaction's alert carries at most a dozen statements.
    const MAX: usize = 16;
    /// The capacity of a new string: room for every statement of a well-formed request
    /// (the longest, a credentials path with a role name, is about 80 bytes), so that one
    /// allocation makes it, and a string reused for another statement need not grow.
    const NEW_CAPACITY: usize = 128;

    /// An empty string, with the capacity of a returned one when there is one.
    pub(crate) fn take(&mut self) -> String {
        match self.spare.pop() {
            Some(mut s) => {
                s.clear();
                s
            }
            None => String::with_capacity(Self::NEW_CAPACITY),
        }
    }

    /// Writes a statement into a string from the pool and appends it to `to`.
    pub(crate) fn push_written(&mut self, to: &mut Vec<String>, write: impl FnOnce(&mut String)) {
        let mut s = self.take();
        write(&mut s);
        to.push(s);
    }

    /// Takes back every string of `from`, which is left empty (its capacity kept). Past
    /// [`StringPool::MAX`] they are freed.
    pub(crate) fn give_all(&mut self, from: &mut Vec<String>) {
        for s in from.drain(..) {
            if self.spare.len() >= Self::MAX {
                break;
            }
            self.spare.push(s);
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.spare.capacity() * size_of::<String>()
            + self.spare.iter().map(String::capacity).sum::<usize>()
    }
}

#[cfg(test)]
mod pool_tests {
    use super::StringPool;

    #[test]
    fn a_returned_string_is_handed_out_empty_with_its_capacity() {
        let mut pool = StringPool::default();
        let mut given = vec![String::with_capacity(64), "old".to_string()];
        let caps: Vec<usize> = given.iter().map(String::capacity).collect();
        pool.give_all(&mut given);
        assert!(given.is_empty());
        let (a, b) = (pool.take(), pool.take());
        assert!(a.is_empty() && b.is_empty());
        let mut got = vec![a.capacity(), b.capacity()];
        got.sort_unstable();
        let mut want = caps;
        want.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(
            pool.take().capacity(),
            StringPool::NEW_CAPACITY,
            "an empty pool hands out new strings"
        );
    }

    #[test]
    fn the_pool_is_bounded() {
        let mut pool = StringPool::default();
        let mut many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        pool.give_all(&mut many);
        assert!(many.is_empty(), "the rest are freed, not left behind");
        assert_eq!(pool.spare.len(), StringPool::MAX);
    }
}
