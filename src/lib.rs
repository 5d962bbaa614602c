//! # imdsguard
//!
//! Detects cloud instance-metadata (IMDS) traffic where it must never appear, for network
//! security engines (Suricata, Zeek, custom appliances) and as a plain Rust crate.
//!
//! AWS bulletin AWS-2025-021 ("IMDS impersonation"): AWS tools running outside EC2 ask the
//! instance metadata service for credentials, and on an on-premises network a third party can
//! answer in its place. This crate reads the HTTP those tools speak and reports it.
//!
//! ## Data flow
//! ```text
//! bytes ──► flow::HttpStream ──► http (elements) ──► events ──► (matcher, policy: to come)
//! ```
//! - [`http`]: pure, zero-copy nom parsers for the elements of HTTP/1.x messages, lenient the
//!   way servers are, with every deviation recorded as an [`http::Anomalies`] flag.
//! - [`flow`]: the streaming state machine per connection: chunks that split anywhere, pairing
//!   of responses with requests, gaps, limits.
//! - [`conversation`]: libhtp's `.t` conversation files, the test and fuzz input format.

#![deny(missing_docs)]
#![deny(unused_qualifications)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod capture;
pub mod conversation;
pub mod engine;
pub mod event;
pub mod ffi;
pub mod flow;
pub mod http;
pub mod imds;
pub mod key;
pub mod normalize;
pub mod packet;
pub mod policy;
