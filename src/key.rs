//! The identity of a flow: addresses, ports, transport and VLAN tags.
//!
//! Shared by the policy (which suppresses by source, destination and VLAN), the engine, the
//! event renderers and the packet tracker.

use std::fmt;
use std::net::IpAddr;

/// The transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6.
    Icmp,
    /// Any other IP protocol number.
    Other(u8),
}

impl Transport {
    /// The name EVE uses in `proto` (`TCP`, `UDP`, `ICMP`, or the number).
    pub fn eve_name(self) -> String {
        match self {
            Transport::Tcp => "TCP".into(),
            Transport::Udp => "UDP".into(),
            Transport::Icmp => "ICMP".into(),
            Transport::Other(n) => n.to_string(),
        }
    }
}

/// 802.1Q / 802.1ad tags of a frame: the outer (first) and inner (second) VLAN id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Vlans {
    /// The outer tag's VLAN id (the only one on a single-tagged frame).
    pub outer: Option<u16>,
    /// The inner tag's VLAN id (QinQ).
    pub inner: Option<u16>,
}

impl Vlans {
    /// No tags.
    pub const NONE: Vlans = Vlans {
        outer: None,
        inner: None,
    };

    /// The ids present, outer first: the order of EVE's `vlan` array.
    pub fn ids(&self) -> impl Iterator<Item = u16> {
        self.outer.into_iter().chain(self.inner)
    }

    /// Whether no tag is present.
    pub fn is_empty(&self) -> bool {
        self.outer.is_none() && self.inner.is_none()
    }
}

/// The identity of a flow, oriented from the client (source) to the server (destination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Client address.
    pub src_ip: IpAddr,
    /// Client port (0 for ICMP).
    pub src_port: u16,
    /// Server address.
    pub dst_ip: IpAddr,
    /// Server port (0 for ICMP).
    pub dst_port: u16,
    /// Transport protocol.
    pub transport: Transport,
    /// VLAN tags.
    pub vlans: Vlans,
}

impl FlowKey {
    /// A TCP flow without VLAN tags.
    pub fn tcp(src_ip: IpAddr, src_port: u16, dst_ip: IpAddr, dst_port: u16) -> FlowKey {
        FlowKey {
            src_ip,
            src_port,
            dst_ip,
            dst_port,
            transport: Transport::Tcp,
            vlans: Vlans::NONE,
        }
    }

    /// A stable 51-bit identifier of the flow (EVE `flow_id`), the same for the same key in
    /// every run. 51 bits so that JSON readers that use doubles keep it exact.
    pub fn flow_id(&self) -> u64 {
        let mut h = Fnv::default();
        h.ip(self.src_ip);
        h.bytes(&self.src_port.to_be_bytes());
        h.ip(self.dst_ip);
        h.bytes(&self.dst_port.to_be_bytes());
        h.bytes(&[match self.transport {
            Transport::Tcp => 6,
            Transport::Udp => 17,
            Transport::Icmp => 1,
            Transport::Other(n) => n,
        }]);
        for v in [self.vlans.outer, self.vlans.inner] {
            h.bytes(&v.map_or([0xff, 0xff, 0xff], |v| {
                let b = v.to_be_bytes();
                [1, b[0], b[1]]
            }));
        }
        h.0 & ((1 << 51) - 1)
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ep = |ip: IpAddr, port: u16| match ip {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        };
        write!(
            f,
            "{} -> {}",
            ep(self.src_ip, self.src_port),
            ep(self.dst_ip, self.dst_port)
        )
    }
}

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => self.bytes(&a.octets()),
            IpAddr::V6(a) => self.bytes(&a.octets()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_id_is_stable_and_distinguishes_vlans() {
        let k = FlowKey::tcp(
            "10.0.0.5".parse().expect("ip"),
            40000,
            "169.254.169.254".parse().expect("ip"),
            80,
        );
        assert_eq!(k.flow_id(), k.flow_id());
        assert!(k.flow_id() < 1 << 51);
        let tagged = FlowKey {
            vlans: Vlans {
                outer: Some(0),
                inner: None,
            },
            ..k
        };
        assert_ne!(k.flow_id(), tagged.flow_id());
        assert_eq!(k.to_string(), "10.0.0.5:40000 -> 169.254.169.254:80");
        assert_eq!(tagged.vlans.ids().collect::<Vec<_>>(), [0]);
    }
}
