//! `#[repr(C)]` types that cross the boundary, and their conversions (the only logic here:
//! checking what C hands in).

use super::status::imdsguard_status;
use crate::key::{FlowKey, Transport, Vlans};
use std::ffi::c_char;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Direction value: client to server.
pub const IMDSGUARD_DIR_TO_SERVER: u8 = 0;
/// Direction value: server to client.
pub const IMDSGUARD_DIR_TO_CLIENT: u8 = 1;

/// `imdsguard_event.decision`: the alert stands.
pub const IMDSGUARD_DECISION_ALERT: u8 = 0;
/// `imdsguard_event.decision`: the policy suppressed it.
pub const IMDSGUARD_DECISION_SUPPRESSED: u8 = 1;

// The values below are literals because cbindgen cannot evaluate expressions over Rust
// types; `tests::constants_match_the_rust_values` ties them to `Indicators`, `Stage` and
// `Provider`.

/// Indicator bit: the L3 destination is the AWS IMDS.
pub const IMDSGUARD_IND_DST_IMDS: u32 = 1 << 0;
/// Indicator bit: Host / target / CONNECT authority names the IMDS.
pub const IMDSGUARD_IND_HOST_IMDS: u32 = 1 << 1;
/// Indicator bit: a metadata path.
pub const IMDSGUARD_IND_PATH_METADATA: u32 = 1 << 2;
/// Indicator bit: the IMDSv2 token path.
pub const IMDSGUARD_IND_PATH_TOKEN: u32 = 1 << 3;
/// Indicator bit: the `X-aws-ec2-metadata-token` header.
pub const IMDSGUARD_IND_HDR_TOKEN: u32 = 1 << 4;
/// Indicator bit: the `X-aws-ec2-metadata-token-ttl-seconds` header.
pub const IMDSGUARD_IND_HDR_TOKEN_TTL: u32 = 1 << 5;
/// Indicator bit: a token was granted.
pub const IMDSGUARD_IND_RESP_TOKEN_GRANTED: u32 = 1 << 6;
/// Indicator bit: a credential document was served.
pub const IMDSGUARD_IND_RESP_CREDENTIALS: u32 = 1 << 7;
/// Indicator bit: `Server: EC2ws`.
pub const IMDSGUARD_IND_RESP_IMDS_SERVER: u32 = 1 << 8;
/// Indicator bit: the ECS credential endpoint.
pub const IMDSGUARD_IND_ECS_ENDPOINT: u32 = 1 << 9;
/// Indicator bit: the EKS Pod Identity endpoint.
pub const IMDSGUARD_IND_EKS_POD_IDENTITY: u32 = 1 << 10;
/// Indicator bit: another cloud's metadata service.
pub const IMDSGUARD_IND_OTHER_CLOUD: u32 = 1 << 11;
/// Indicator bit: smuggling-grade anomalies on the flow.
pub const IMDSGUARD_IND_FRAMING_ANOMALY: u32 = 1 << 12;
/// Indicator bit: a credential path.
pub const IMDSGUARD_IND_PATH_CREDENTIALS: u32 = 1 << 13;
/// Indicator bit: an evasive spelling of the path or host.
pub const IMDSGUARD_IND_EVASION: u32 = 1 << 14;

/// Stage value: the address was contacted.
pub const IMDSGUARD_STAGE_PROBE: u8 = 0;
/// Stage value: a metadata request.
pub const IMDSGUARD_STAGE_REQUEST: u8 = 1;
/// Stage value: a token requested or granted.
pub const IMDSGUARD_STAGE_TOKEN: u8 = 2;
/// Stage value: credentials served.
pub const IMDSGUARD_STAGE_CREDENTIALS: u8 = 3;

/// Provider value: AWS EC2 IMDS.
pub const IMDSGUARD_PROVIDER_AWS: u8 = 0;
/// Provider value: AWS ECS task credentials.
pub const IMDSGUARD_PROVIDER_AWS_ECS: u8 = 1;
/// Provider value: AWS EKS Pod Identity.
pub const IMDSGUARD_PROVIDER_AWS_EKS_POD_IDENTITY: u8 = 2;
/// Provider value: Google Cloud.
pub const IMDSGUARD_PROVIDER_GCP: u8 = 3;
/// Provider value: Azure.
pub const IMDSGUARD_PROVIDER_AZURE: u8 = 4;
/// Provider value: Alibaba Cloud.
pub const IMDSGUARD_PROVIDER_ALIBABA: u8 = 5;
/// Provider value: Oracle Cloud.
pub const IMDSGUARD_PROVIDER_OCI: u8 = 6;
/// Provider value: DigitalOcean.
pub const IMDSGUARD_PROVIDER_DIGITALOCEAN: u8 = 7;
/// Provider value: OpenStack.
pub const IMDSGUARD_PROVIDER_OPENSTACK: u8 = 8;
/// Provider value: Hetzner Cloud.
pub const IMDSGUARD_PROVIDER_HETZNER: u8 = 9;

/// An IP address: `family` is 4 or 6; an IPv4 address is in `addr[0..4]` in network order.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct imdsguard_ip {
    /// 4 or 6.
    pub family: u8,
    /// The address bytes, network order.
    pub addr: [u8; 16],
}

impl imdsguard_ip {
    pub(crate) fn to_ip(self) -> Result<IpAddr, imdsguard_status> {
        match self.family {
            4 => Ok(IpAddr::V4(Ipv4Addr::new(
                self.addr[0],
                self.addr[1],
                self.addr[2],
                self.addr[3],
            ))),
            6 => Ok(IpAddr::V6(Ipv6Addr::from(self.addr))),
            _ => Err(imdsguard_status::IMDSGUARD_INVALID_ARGUMENT),
        }
    }
}

/// The identity of a flow, oriented client (src) to server (dst).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct imdsguard_flow_key {
    /// Client address.
    pub src: imdsguard_ip,
    /// Server address.
    pub dst: imdsguard_ip,
    /// Client port.
    pub src_port: u16,
    /// Server port.
    pub dst_port: u16,
    /// IP protocol number (6 TCP, 17 UDP, 1 or 58 ICMP).
    pub ip_proto: u8,
    /// How many VLAN tags are valid: 0, 1 (`vlan_outer`) or 2 (`vlan_outer`, `vlan_inner`).
    pub vlan_count: u8,
    /// Outer VLAN id (0-4095).
    pub vlan_outer: u16,
    /// Inner VLAN id (0-4095).
    pub vlan_inner: u16,
}

impl imdsguard_flow_key {
    pub(crate) fn to_key(self) -> Result<FlowKey, imdsguard_status> {
        let bad = imdsguard_status::IMDSGUARD_INVALID_ARGUMENT;
        let vlan = |id: u16| if id <= 4095 { Ok(id) } else { Err(bad) };
        let vlans = match self.vlan_count {
            0 => Vlans::NONE,
            1 => Vlans {
                outer: Some(vlan(self.vlan_outer)?),
                inner: None,
            },
            2 => Vlans {
                outer: Some(vlan(self.vlan_outer)?),
                inner: Some(vlan(self.vlan_inner)?),
            },
            _ => return Err(bad),
        };
        Ok(FlowKey {
            src_ip: self.src.to_ip()?,
            src_port: self.src_port,
            dst_ip: self.dst.to_ip()?,
            dst_port: self.dst_port,
            transport: match self.ip_proto {
                6 => Transport::Tcp,
                17 => Transport::Udp,
                1 | 58 => Transport::Icmp,
                n => Transport::Other(n),
            },
            vlans,
        })
    }
}

/// Bytes borrowed from the library: not NUL-terminated; `ptr` is NULL when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct imdsguard_str {
    /// First byte, or NULL.
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

impl imdsguard_str {
    pub(crate) fn empty() -> imdsguard_str {
        imdsguard_str {
            ptr: std::ptr::null(),
            len: 0,
        }
    }

    pub(crate) fn of(bytes: &[u8]) -> imdsguard_str {
        if bytes.is_empty() {
            return imdsguard_str::empty();
        }
        imdsguard_str {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

/// One alert, as C sees it. Strings of type `imdsguard_str` point into the flow and stay
/// valid until the next call on that flow (any call); `const char *` names are static.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct imdsguard_event {
    /// Time of the observation, microseconds since the Unix epoch (0 when unknown).
    pub timestamp_us: u64,
    /// Transaction number, when `has_tx`.
    pub tx_id: u64,
    /// Whether the alert is about an HTTP transaction (false: address-only contact).
    pub has_tx: bool,
    /// Stable signature id (see the README's table).
    pub signature_id: u32,
    /// Signature revision.
    pub signature_rev: u32,
    /// Signature name, static and NUL-terminated.
    pub signature: *const c_char,
    /// Suricata severity, 1 (high) to 3 (low).
    pub severity: u8,
    /// `IMDSGUARD_STAGE_*`.
    pub stage: u8,
    /// Stage name (`probe`, `request`, `token`, `credentials`), static.
    pub stage_name: *const c_char,
    /// `IMDSGUARD_PROVIDER_*`.
    pub provider: u8,
    /// Provider name (`aws`, `gcp`, ...), static.
    pub provider_name: *const c_char,
    /// `IMDSGUARD_IND_*` bits.
    pub indicators: u32,
    /// HTTP anomaly bits of the transaction (see `imdsguard::http::Anomalies`).
    pub http_anomalies: u64,
    /// `IMDSGUARD_DECISION_ALERT` or `IMDSGUARD_DECISION_SUPPRESSED`.
    pub decision: u8,
    /// The rule that suppressed the alert (empty when not suppressed).
    pub suppressed_by: imdsguard_str,
    /// Whether the `http_*` fields are set.
    pub has_http: bool,
    /// Host header value (or target authority).
    pub http_hostname: imdsguard_str,
    /// Raw request target.
    pub http_url: imdsguard_str,
    /// Method.
    pub http_method: imdsguard_str,
    /// User-Agent.
    pub http_user_agent: imdsguard_str,
    /// Protocol token.
    pub http_protocol: imdsguard_str,
    /// Response status, 0 when none was seen.
    pub http_status: u16,
    /// Whether `responder_ttl` is set.
    pub has_responder_ttl: bool,
    /// The responder's IP TTL / hop limit.
    pub responder_ttl: u8,
}

/// Where a policy failed to parse (or why a file could not be read): filled by the engine
/// constructors on `IMDSGUARD_POLICY_ERROR` / `IMDSGUARD_IO_ERROR` when not NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct imdsguard_policy_error {
    /// 1-based line of the error; 0 for an I/O error.
    pub line: u32,
    /// 1-based column, 0 when unknown.
    pub column: u32,
    /// The message, NUL-terminated, truncated to fit.
    pub message: [c_char; 256],
}

impl imdsguard_policy_error {
    pub(crate) fn fill(&mut self, line: usize, column: usize, message: &str) {
        self.line = u32::try_from(line).unwrap_or(u32::MAX);
        self.column = u32::try_from(column).unwrap_or(u32::MAX);
        let bytes = message.as_bytes();
        let n = bytes.len().min(self.message.len() - 1);
        for (dst, &src) in self.message.iter_mut().zip(&bytes[..n]) {
            *dst = src as c_char;
        }
        self.message[n] = 0;
    }
}

/// What a feed did, Suricata's `{status, consumed, needed}`, plus the alerts now pending.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct imdsguard_feed_result {
    /// The status the call returned.
    pub status: u32,
    /// Bytes consumed (all of them in copy mode).
    pub consumed: usize,
    /// In place mode: bytes to hold, counted from `consumed`, before calling again; 0 when
    /// everything was consumed.
    pub needed: usize,
    /// Alerts waiting in the flow (take them with `imdsguard_flow_next_event`).
    pub pending_events: usize,
}

/// Counters of a flow.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct imdsguard_flow_stats {
    /// Transactions seen.
    pub transactions: u64,
    /// Alerts raised, suppressed ones included.
    pub alerts: u64,
    /// Alerts suppressed by the policy.
    pub suppressed: u64,
    /// Messages with at least one anomaly.
    pub anomalous_messages: u64,
    /// Reports of anomalies outside any message.
    pub stream_anomalies: u64,
    /// Pending alerts dropped, oldest first, because the flow held its maximum (1024) that
    /// nobody took with `imdsguard_flow_next_event`.
    pub alerts_dropped: u64,
    /// Heap bytes the flow holds now (parser buffers, transaction states, alerts not yet
    /// taken; 0 for a new or compacted flow), for an engine that charges its parsers'
    /// memory to its own memcap. Besides `sizeof` the flow's handle.
    pub heap_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imds::{Indicators, Provider, Stage};

    #[test]
    fn constants_match_the_rust_values() {
        let ind = [
            (IMDSGUARD_IND_DST_IMDS, Indicators::DST_IMDS),
            (IMDSGUARD_IND_HOST_IMDS, Indicators::HOST_IMDS),
            (IMDSGUARD_IND_PATH_METADATA, Indicators::PATH_METADATA),
            (IMDSGUARD_IND_PATH_TOKEN, Indicators::PATH_TOKEN),
            (IMDSGUARD_IND_HDR_TOKEN, Indicators::HDR_TOKEN),
            (IMDSGUARD_IND_HDR_TOKEN_TTL, Indicators::HDR_TOKEN_TTL),
            (
                IMDSGUARD_IND_RESP_TOKEN_GRANTED,
                Indicators::RESP_TOKEN_GRANTED,
            ),
            (IMDSGUARD_IND_RESP_CREDENTIALS, Indicators::RESP_CREDENTIALS),
            (IMDSGUARD_IND_RESP_IMDS_SERVER, Indicators::RESP_IMDS_SERVER),
            (IMDSGUARD_IND_ECS_ENDPOINT, Indicators::ECS_ENDPOINT),
            (IMDSGUARD_IND_EKS_POD_IDENTITY, Indicators::EKS_POD_IDENTITY),
            (IMDSGUARD_IND_OTHER_CLOUD, Indicators::OTHER_CLOUD),
            (IMDSGUARD_IND_FRAMING_ANOMALY, Indicators::FRAMING_ANOMALY),
            (IMDSGUARD_IND_PATH_CREDENTIALS, Indicators::PATH_CREDENTIALS),
            (IMDSGUARD_IND_EVASION, Indicators::EVASION),
        ];
        for (c, r) in ind {
            assert_eq!(c, r.bits());
        }
        // Every indicator has its constant.
        assert_eq!(
            ind.iter().fold(0, |acc, (c, _)| acc | c),
            Indicators::all().bits()
        );
        let stages = [
            (IMDSGUARD_STAGE_PROBE, Stage::Probe),
            (IMDSGUARD_STAGE_REQUEST, Stage::Request),
            (IMDSGUARD_STAGE_TOKEN, Stage::Token),
            (IMDSGUARD_STAGE_CREDENTIALS, Stage::Credentials),
        ];
        for (c, r) in stages {
            assert_eq!(c, r as u8);
        }
        let providers = [
            IMDSGUARD_PROVIDER_AWS,
            IMDSGUARD_PROVIDER_AWS_ECS,
            IMDSGUARD_PROVIDER_AWS_EKS_POD_IDENTITY,
            IMDSGUARD_PROVIDER_GCP,
            IMDSGUARD_PROVIDER_AZURE,
            IMDSGUARD_PROVIDER_ALIBABA,
            IMDSGUARD_PROVIDER_OCI,
            IMDSGUARD_PROVIDER_DIGITALOCEAN,
            IMDSGUARD_PROVIDER_OPENSTACK,
            IMDSGUARD_PROVIDER_HETZNER,
        ];
        for (c, r) in providers.into_iter().zip(Provider::ALL) {
            assert_eq!(c, r as u8);
        }
    }
}
