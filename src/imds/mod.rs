//! The IMDS matcher: what ties traffic to an instance-metadata service.

#![forbid(unsafe_code)]

mod indicator;

pub use indicator::{sid, Indicators, Provider, Signature, Stage, GID};
