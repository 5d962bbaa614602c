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
//! frames ─► packet (decode, flow table, TCP reassembly) ─┐
//! bytes ──────────────────────────────────────────────────┴► flow::HttpStream ─► http (nom elements)
//!     ─► imds (matcher, through normalize) ─► policy ─► event (EVE-JSON, ECS) ─► ffi / CLI
//! ```
//! - [`http`]: pure, zero-copy nom parsers for the elements of HTTP/1.x messages, lenient the
//!   way servers are, with every deviation recorded as an [`http::Anomalies`] flag.
//! - [`flow`]: the streaming state machine per connection: chunks that split anywhere, pairing
//!   of responses with requests, gaps, tunnels, limits.
//! - [`normalize`]: canonical forms of paths and hosts (every spelling of 169.254.169.254).
//! - [`imds`]: indicators, stages, providers, signatures; request and response evidence.
//! - [`policy`]: suppression by source, destination, VLAN, provider, indicator.
//! - [`engine`]: the immutable [`engine::Engine`] and per-connection [`engine::Flow`].
//! - [`event`]: the alert model and its renderings.
//! - [`packet`], [`capture`]: frames and capture files for callers without reassembly.
//! - [`ffi`]: the C ABI.
//!
//! ## Example
//! ```
//! use imdsguard::engine::{Engine, Flow};
//! use imdsguard::flow::Direction;
//! use imdsguard::imds::Stage;
//! use imdsguard::key::FlowKey;
//! use imdsguard::policy::Policy;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new(Policy::parse("suppress src 10.20.0.0/16\n", "site.policy")?);
//! let key = FlowKey::tcp("10.1.2.3".parse()?, 40000, "169.254.169.254".parse()?, 80);
//! let mut flow = Flow::new(&engine, key);
//! // Chunks may split anywhere, even inside a header name.
//! flow.feed(&engine, Direction::ToServer, b"PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-me");
//! flow.feed(&engine, Direction::ToServer, b"tadata-token-ttl-seconds: 21600\r\n\r\n");
//! flow.close(&engine);
//! let alert = flow.pop_alert().expect("an alert");
//! assert_eq!(alert.stage, Stage::Token);
//! assert!(!alert.is_suppressed());
//! let mut line = Vec::new();
//! imdsguard::event::write_eve_line(&alert, &mut line)?;
//! assert!(line.starts_with(b"{\"timestamp\""));
//! # Ok(())
//! # }
//! ```

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
