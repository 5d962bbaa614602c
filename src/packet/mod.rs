//! The packet layer: frames in, flows and in-order TCP bytes out, for callers that have
//! packets rather than reassembled streams (C appliances, the CLI on a capture file).
//!
//! ## Data flow
//! ```text
//! frame ─► decode ─► [defrag] ─► Tracker: flow table ─► HalfStream ×2 ─► engine::Flow ─► alerts
//!          (L2/VLAN/  (IP frag-   (5-tuple + VLANs,      (per-direction     (HTTP parser,
//!           IP/L4)     ments)      LRU, timeouts,         reassembly)        matcher, policy)
//!                                  memcap)
//! ```
//! - [`decode`](mod@decode): zero-copy views of Ethernet (802.1Q / 802.1ad / QinQ tags kept as outer and
//!   inner VLAN), Linux cooked SLL and SLL2, raw IP and BSD loopback frames; IPv4 with
//!   options, IPv6 with extension headers; TCP, UDP, ICMP. Malformed input is a
//!   [`decode::DecodeError`] with a kind, never a panic.
//! - [`defrag`]: bounded IPv4 / IPv6 fragment reassembly; the first fragment's transport
//!   header already counts for the address rule.
//! - [`reassembly`]: one [`reassembly::HalfStream`] per direction turns segments into
//!   in-order bytes, gaps and an end.
//! - [`tracker`]: the bounded flow table that ties it together; its per-packet entry point
//!   is [`Tracker::packet`] (frame, link type, timestamp).
//!
//! ## Policies
//! - **Overlaps** (TCP and IP fragments): the first bytes seen win; differing overlaps are
//!   counted. Why: see [`reassembly`].
//! - **Orientation**: the SYN's sender is the client; without a SYN, a metadata address,
//!   then a privileged port, then the lower port is the server. See [`tracker`].
//! - **Flows**: TCP to any host (SYN or payload), anything to or from a metadata address;
//!   nothing else costs memory. A flow to a metadata address that ends (FIN, RST, timeout,
//!   eviction, [`Tracker::flush`]) without metadata HTTP raises one address-contact alert.
//! - **Bounds**: flows, memory (fixed size + the flow's heap + queued segments), out-of-order
//!   bytes and segments per direction, pending fragments, pending alerts. Passing a bound
//!   evicts or skips and is counted in [`TrackerStats`]; nothing grows without limit.
//! - **Responder**: the IP TTL / hop limit and the source MAC of server-to-client packets
//!   are handed to the detection flow (the real IMDS answers with TTL 1).
//! - **Checksums are not verified** (offloading NICs leave placeholders in captures taken on
//!   the sending host). The price, shared with any first-wins monitor that skips them: a
//!   segment with a bad checksum, which the receiver drops, is taken as the first-seen bytes,
//!   and the real retransmission is then discarded as old. A conflict is counted
//!   ([`reassembly::ReassemblyStats::conflicts`]) only when the decoy was still queued out of
//!   order; bytes already delivered are not kept to compare. The address rule does not depend
//!   on payload, so contact with a metadata address is reported regardless.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

pub mod decode;
pub mod defrag;
pub mod reassembly;
pub mod tracker;

pub use decode::{decode, DecodeError, DecodeErrorKind, LinkType, Packet};
pub use tracker::{FlowAction, PacketOutcome, Tracker, TrackerConfig, TrackerStats};
