//! Canonical forms of the two request parts an IMDS matcher looks at: the URI path and the host.
//!
//! An attacker who wants an HTTP request to reach 169.254.169.254 unnoticed rarely writes
//! `http://169.254.169.254/latest/meta-data/` literally. The path is percent-encoded (once, twice,
//! IIS `%uXXXX`, overlong UTF-8), padded with dot segments, doubled slashes, backslashes and
//! `;params`; the host is spelled in any form `inet_aton(3)` or a URL parser accepts (decimal,
//! octal, hex, short forms), as an IPv6 literal that embeds the IPv4 address, percent-encoded or
//! in full-width Unicode. These functions fold every such spelling onto one canonical form and
//! record each trick used as a flag, because the trick itself is evidence.
//!
//! Everything here is a pure function over attacker-controlled bytes: inputs need not be UTF-8,
//! nothing panics, every function runs in time linear in its input, and the result borrows the
//! input (no allocation) whenever it is already canonical.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

pub mod host;
pub mod path;
mod pct;
mod target;
mod unicode;

pub use host::{
    embedded_ipv4, parse_authority, parse_ipv4_inet_aton, Authority, HostFlags, HostName,
};
pub use path::{
    normalize_path, split_target, NormalizedPath, PathFlags, RequestTarget, TargetFlags,
};
