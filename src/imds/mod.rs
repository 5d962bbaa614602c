//! The IMDS matcher: what ties traffic to an instance-metadata service.
//!
//! - [`targets`]: metadata addresses, host names and provider profiles (static tables).
//! - [`request`]: evidence from a request's line and headers, through the normaliser.
//! - [`response`]: evidence from a response: a credential document, `Server: EC2ws`.
//! - [`verdict`]: the stage an exchange reached and the signature it raises.
//!
//! This module knows nothing of flows or streams: it is fed parsed elements.

#![forbid(unsafe_code)]
// Fed attacker-controlled bytes: nothing here may panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod indicator;
pub mod request;
pub mod response;
pub mod targets;
pub mod verdict;

pub use indicator::{sid, Indicators, Provider, Signature, Stage, GID};
