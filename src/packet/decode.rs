//! Frame decoding: link layer, VLAN tags, IPv4 / IPv6 (with extension headers), TCP, UDP and
//! ICMP, as zero-copy views borrowing the caller's frame.
//!
//! Every header is read through a bounds-checked cursor (`Reader`): a frame cut anywhere,
//! or a length field that lies, gives a [`DecodeError`] naming the layer and the offset of the
//! header that failed, never a panic. Checksums are not verified: captures taken on the
//! sending host carry the placeholder checksums of offloading NICs, and an IDS that dropped
//! those packets would miss the local host's own traffic (see the module docs of
//! [`crate::packet`] for what that means for evasion).
//!
//! Link types are the pcap `LINKTYPE_*` numbers ([`LinkType::from_dlt`]).

use crate::key::Vlans;
use bitflags::bitflags;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How a frame starts: the pcap link-layer header type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// `LINKTYPE_NULL` (0): BSD loopback, a 4-byte address family in the capturing host's
    /// byte order.
    Null,
    /// `LINKTYPE_ETHERNET` (1): Ethernet II, with any number of 802.1Q / 802.1ad tags.
    Ethernet,
    /// `LINKTYPE_RAW` (101; also the historical `DLT_RAW` values 12 and 14): an IPv4 or IPv6
    /// packet, told apart by its version nibble.
    Raw,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, the address family in network byte order.
    Loop,
    /// `LINKTYPE_LINUX_SLL` (113): Linux "cooked" capture, version 1 (16-byte header).
    LinuxSll,
    /// `LINKTYPE_IPV4` (228): a raw IPv4 packet.
    Ipv4,
    /// `LINKTYPE_IPV6` (229): a raw IPv6 packet.
    Ipv6,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux "cooked" capture, version 2 (20-byte header).
    LinuxSll2,
}

impl LinkType {
    /// The link type of a pcap / pcapng `LINKTYPE_*` number, `None` when unsupported.
    pub fn from_dlt(dlt: u32) -> Option<LinkType> {
        Some(match dlt {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // 12 and 14 are the platform `DLT_RAW` values old writers put in files; Wireshark
            // reads both as raw IP too.
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }

    /// The canonical `LINKTYPE_*` number.
    pub fn dlt(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
        }
    }
}

/// The protocol layer a decoding error was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// The link-layer header (Ethernet, SLL, SLL2, loopback).
    Link,
    /// An 802.1Q / 802.1ad tag.
    Vlan,
    /// The IPv4 header.
    Ipv4,
    /// The IPv6 fixed header.
    Ipv6,
    /// An IPv6 extension header.
    Ipv6Extension,
    /// The TCP header.
    Tcp,
    /// The UDP header.
    Udp,
    /// The ICMP / ICMPv6 header.
    Icmp,
}

/// What was wrong with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DecodeErrorKind {
    /// The link type number is not one this decoder reads.
    UnknownLinkType = 0,
    /// The frame ends inside a header, or before the length an IP header announces.
    Truncated = 1,
    /// A length field is impossible (IPv4 IHL below 5, a total length shorter than the
    /// header, a TCP data offset below 5, a UDP length below 8).
    BadLength = 2,
    /// The IP version nibble does not match the link layer's claim.
    BadVersion = 3,
    /// The frame carries no IP packet (ARP, LLDP, an 802.3 length field, an unknown
    /// address family): not an error of the frame, but nothing to track.
    NotIp = 4,
    /// More VLAN tags or IPv6 extension headers than the decoder follows.
    TooManyHeaders = 5,
}

impl DecodeErrorKind {
    /// Every kind, in numeric order (the index of its counter).
    pub const ALL: [DecodeErrorKind; 6] = [
        DecodeErrorKind::UnknownLinkType,
        DecodeErrorKind::Truncated,
        DecodeErrorKind::BadLength,
        DecodeErrorKind::BadVersion,
        DecodeErrorKind::NotIp,
        DecodeErrorKind::TooManyHeaders,
    ];

    /// A short lower-case name for counters and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DecodeErrorKind::UnknownLinkType => "unknown_link_type",
            DecodeErrorKind::Truncated => "truncated",
            DecodeErrorKind::BadLength => "bad_length",
            DecodeErrorKind::BadVersion => "bad_version",
            DecodeErrorKind::NotIp => "not_ip",
            DecodeErrorKind::TooManyHeaders => "too_many_headers",
        }
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// What was wrong.
    pub kind: DecodeErrorKind,
    /// The layer it was wrong in.
    pub layer: Layer,
    /// Offset in the frame of the header that failed.
    pub offset: usize,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in the {:?} header at offset {}",
            self.kind.as_str(),
            self.layer,
            self.offset
        )
    }
}

impl std::error::Error for DecodeError {}

bitflags! {
    /// Unusual but valid properties of a frame, for counters.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PacketFlags: u16 {
        /// More than two VLAN tags: only the outer two are kept.
        const EXTRA_VLAN_TAGS = 1 << 0;
        /// The IPv4 header carries options.
        const IPV4_OPTIONS = 1 << 1;
        /// An IPv4 or IPv6 fragment (see [`IpHeader::fragment`]).
        const FRAGMENT = 1 << 2;
        /// IPv6 extension headers were walked.
        const IPV6_EXTENSIONS = 1 << 3;
        /// The IP length field was 0 (TCP segmentation offload on the capturing host, or an
        /// IPv6 jumbogram): the captured length was used instead.
        const LENGTH_FROM_CAPTURE = 1 << 4;
        /// The IPv6 extension-header chain ended at a header this decoder does not know (or
        /// at ESP, or "no next header"): the transport is [`Layer4::Other`].
        const UNKNOWN_NEXT_HEADER = 1 << 5;
        /// The link layer or IP header left bytes after the IP packet (Ethernet padding).
        const TRAILING_BYTES = 1 << 6;
    }
}

/// IPv4 or IPv6 fragmentation of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's data in the original payload, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// The protocol of the fragmented payload: IPv4's protocol field, or the IPv6 fragment
    /// header's next header (which may be a further extension header).
    pub next_header: u8,
}

impl Fragment {
    /// Whether this fragment starts the payload (and so may carry the transport header).
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }
}

/// The IP layer of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpHeader<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The upper-layer protocol: IPv4's protocol field; for IPv6 the next header that ended
    /// the extension-header chain.
    pub protocol: u8,
    /// Set on fragments (not on IPv6 "atomic" fragments, offset 0 and no more).
    pub fragment: Option<Fragment>,
    /// The bytes after the IP headers, trimmed to the length the IP header announces. For a
    /// fragment, the fragment's data (what a defragmenter needs).
    pub payload: &'a [u8],
}

bitflags! {
    /// TCP header flags.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TcpFlags: u16 {
        /// FIN: the sender has no more data.
        const FIN = 0x001;
        /// SYN: synchronise sequence numbers.
        const SYN = 0x002;
        /// RST: reset the connection.
        const RST = 0x004;
        /// PSH: push.
        const PSH = 0x008;
        /// ACK: the acknowledgment field is significant.
        const ACK = 0x010;
        /// URG: the urgent pointer is significant.
        const URG = 0x020;
        /// ECE: ECN echo.
        const ECE = 0x040;
        /// CWR: congestion window reduced.
        const CWR = 0x080;
        /// NS: ECN nonce (historic).
        const NS = 0x100;
    }
}

/// A TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window (unscaled).
    pub window: u16,
    /// Payload (partial when the packet is a first fragment).
    pub payload: &'a [u8],
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload, trimmed to the UDP length.
    pub payload: &'a [u8],
}

/// An ICMP or ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpMessage<'a> {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// The bytes after type, code and checksum.
    pub payload: &'a [u8],
}

/// The transport layer of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer4<'a> {
    /// TCP.
    Tcp(TcpSegment<'a>),
    /// UDP.
    Udp(UdpDatagram<'a>),
    /// ICMP (IPv4, protocol 1) or ICMPv6 (next header 58).
    Icmp(IcmpMessage<'a>),
    /// A fragment without a usable transport header (not the first, or a first fragment too
    /// short to hold it): only a defragmenter can go further.
    Fragment,
    /// Any other protocol; its bytes.
    Other(&'a [u8]),
}

/// A decoded frame, borrowing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The link type it was decoded as.
    pub link: LinkType,
    /// Source MAC: Ethernet's source, or the sender address of a Linux cooked header on an
    /// Ethernet interface.
    pub src_mac: Option<[u8; 6]>,
    /// Destination MAC (Ethernet only).
    pub dst_mac: Option<[u8; 6]>,
    /// The outer and inner VLAN ids.
    pub vlans: Vlans,
    /// IP layer.
    pub ip: IpHeader<'a>,
    /// Transport layer.
    pub l4: Layer4<'a>,
    /// Unusual properties.
    pub flags: PacketFlags,
}

/// Ethertypes of the tags this decoder steps over: 802.1Q, 802.1ad (QinQ S-tag), and the
/// pre-standard QinQ values 0x9100 / 0x9200 some switches still emit.
const VLAN_TPIDS: [u16; 4] = [0x8100, 0x88a8, 0x9100, 0x9200];
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Tags followed before giving up: real networks stack at most three.
const MAX_VLAN_TAGS: usize = 4;
/// IPv6 extension headers followed before giving up (RFC 8200 expects each at most once or
/// twice; more is an evasion attempt or garbage).
const MAX_IPV6_EXTENSIONS: usize = 12;

/// IP protocol numbers.
mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const HOP_BY_HOP: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const DEST_OPTS: u8 = 60;
    pub const MOBILITY: u8 = 135;
    pub const HIP: u8 = 139;
    pub const SHIM6: u8 = 140;
}

/// A bounds-checked cursor over the frame: every read either fits or fails with the current
/// layer and offset.
#[derive(Debug, Clone, Copy)]
struct Reader<'a> {
    rest: &'a [u8],
    offset: usize,
    layer: Layer,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], offset: usize, layer: Layer) -> Reader<'a> {
        Reader {
            rest: data,
            offset,
            layer,
        }
    }

    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            kind,
            layer: self.layer,
            offset: self.offset,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(self.err(DecodeErrorKind::Truncated))?;
        self.rest = tail;
        self.offset = self.offset.saturating_add(n);
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let b = self.take(N)?;
        <[u8; N]>::try_from(b).map_err(|_| self.err(DecodeErrorKind::Truncated))
    }

    /// The next `N` bytes without consuming them.
    fn clone_peek<const N: usize>(&self) -> Result<[u8; N], DecodeError> {
        let mut copy = *self;
        copy.array::<N>()
    }

    fn be16(&mut self) -> Result<u16, DecodeError> {
        self.array::<2>().map(u16::from_be_bytes)
    }
}

/// What [`quick_classify`] could tell about a frame without the full decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuickClass {
    /// The full [`decode`] reads it, without error, as an unfragmented IP packet of a
    /// transport other than TCP, from and to these addresses.
    NonTcp(IpAddr, IpAddr),
    /// [`QuickClass::NonTcp`] for IPv4, the common case, without the `IpAddr` wrapping.
    NonTcpV4(Ipv4Addr, Ipv4Addr),
    /// The full [`decode`] reads it, without error, as an unfragmented TCP segment without
    /// SYN and without payload (a bare ACK, FIN or RST): it can only belong to a flow that
    /// exists already.
    BareTcp(QuickTcp),
    /// The full [`decode`] fails with exactly this error: an Ethernet frame of another
    /// protocol than IP (ARP, LLDP, STP, ...).
    NotIp(DecodeError),
    /// Anything else: use the full decoder.
    Decode,
}

/// The flow identity of a [`QuickClass::BareTcp`] segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuickTcp {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The VLAN tags (one at most).
    pub vlans: Vlans,
}

/// The tracker's fast path: classifies the most common frames that make no flow with a few
/// loads, before the full decoder. A non-TCP packet makes no flow unless an address is a
/// metadata address, so the tracker decides it from [`QuickClass::NonTcp`]'s two addresses
/// alone (DNS and other UDP cost a fraction of a full decode); a bare TCP segment of no
/// known flow from a look-up; ARP and other non-IP Ethernet frames get their decode error
/// at once.
///
/// The IP variants cover frames behind Ethernet with at most one 802.1Q tag or with no link
/// header, without IPv4 options or IPv6 extension headers; the rest is
/// [`QuickClass::Decode`]. The property test `quick_class_agrees_with_decode` holds every
/// answer to the full decoder's.
#[inline]
pub fn quick_classify(frame: &[u8], link: LinkType) -> QuickClass {
    if let Some((vlan, protocol, src, dst, transport)) = quick_ip(frame, link) {
        let readable = match protocol {
            proto::UDP => match transport {
                [_, _, _, _, l0, l1, _, _, rest @ ..] => {
                    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
                    len >= 8 && len - 8 <= rest.len()
                }
                _ => false,
            },
            proto::ICMP | proto::ICMPV6 => transport.len() >= 4,
            proto::TCP => {
                return match transport {
                    // The header is the whole segment (no payload), and no SYN.
                    [s0, s1, d0, d1, _, _, _, _, _, _, _, _, off, fl, ..]
                        if usize::from(off >> 4) * 4 == transport.len()
                            && transport.len() >= 20
                            && fl & 0x02 == 0 =>
                    {
                        QuickClass::BareTcp(QuickTcp {
                            src,
                            dst,
                            src_port: u16::from_be_bytes([*s0, *s1]),
                            dst_port: u16::from_be_bytes([*d0, *d1]),
                            vlans: Vlans {
                                outer: vlan,
                                inner: None,
                            },
                        })
                    }
                    _ => QuickClass::Decode,
                };
            }
            _ => false,
        };
        return match (readable, src, dst) {
            (false, ..) => QuickClass::Decode,
            (true, IpAddr::V4(s), IpAddr::V4(d)) => QuickClass::NonTcpV4(s, d),
            (true, ..) => QuickClass::NonTcp(src, dst),
        };
    }
    match (link, frame.get(12..14)) {
        (LinkType::Ethernet, Some(&[t0, t1])) => {
            let et = u16::from_be_bytes([t0, t1]);
            if et == ETHERTYPE_IPV4 || et == ETHERTYPE_IPV6 || VLAN_TPIDS.contains(&et) {
                QuickClass::Decode
            } else {
                QuickClass::NotIp(DecodeError {
                    kind: DecodeErrorKind::NotIp,
                    layer: Layer::Link,
                    offset: 14,
                })
            }
        }
        _ => QuickClass::Decode,
    }
}

/// The fixed-layout part of [`quick_classify`]: the VLAN id (one tag at most), protocol,
/// addresses and transport bytes of an unfragmented IP packet without IPv4 options or IPv6
/// extension headers that the full decoder reads the same way.
type QuickIp<'a> = (Option<u16>, u8, IpAddr, IpAddr, &'a [u8]);

/// See [`QuickIp`].
#[inline]
fn quick_ip(frame: &[u8], link: LinkType) -> Option<QuickIp<'_>> {
    let (vlan, ip) = match link {
        LinkType::Ethernet => match frame.get(12..14)? {
            [0x08, 0x00] | [0x86, 0xdd] => (None, frame.get(14..)?),
            // One 802.1Q tag (the common access-port trunk); more take the full decoder.
            [0x81, 0x00] => match frame.get(14..18)? {
                [t0, t1, 0x08, 0x00] | [t0, t1, 0x86, 0xdd] => (
                    Some(u16::from_be_bytes([*t0, *t1]) & 0x0fff),
                    frame.get(18..)?,
                ),
                _ => return None,
            },
            _ => return None,
        },
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => (None, frame),
        _ => return None,
    };
    match *ip.first()? {
        0x45 if link != LinkType::Ipv6 => {
            let h: &[u8; 20] = ip.get(..20)?.try_into().ok()?;
            let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
            // No fragment (MF or an offset), a stated length the frame holds.
            if h[6] & 0x3f != 0 || h[7] != 0 || total < 20 {
                return None;
            }
            let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
            let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
            Some((vlan, h[9], src.into(), dst.into(), ip.get(20..total)?))
        }
        v if v >> 4 == 6 && link != LinkType::Ipv4 => {
            let h: &[u8; 40] = ip.get(..40)?.try_into().ok()?;
            let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
            if len == 0 {
                return None;
            }
            let mut src = [0u8; 16];
            let mut dst = [0u8; 16];
            src.copy_from_slice(h.get(8..24)?);
            dst.copy_from_slice(h.get(24..40)?);
            let body = ip.get(40..40 + len)?;
            Some((vlan, h[6], IpAddr::from(src), IpAddr::from(dst), body))
        }
        _ => None,
    }
}

/// Decodes a frame of the given link type.
pub fn decode(frame: &[u8], link: LinkType) -> Result<Packet<'_>, DecodeError> {
    let mut r = Reader::new(frame, 0, Layer::Link);
    let mut pkt = Partial {
        src_mac: None,
        dst_mac: None,
        vlans: Vlans::NONE,
        flags: PacketFlags::empty(),
    };
    let net = match link {
        LinkType::Ethernet => {
            let dst = r.array::<6>()?;
            let src = r.array::<6>()?;
            pkt.dst_mac = Some(dst);
            pkt.src_mac = Some(src);
            let et = r.be16()?;
            ethertype(&mut r, et, &mut pkt)?
        }
        LinkType::LinuxSll => {
            // packet type, ARPHRD type, address length, 8 address bytes, protocol.
            let [_, _, ha0, ha1, _, alen, a0, a1, a2, a3, a4, a5, _, _, p0, p1] =
                r.array::<16>()?;
            if u16::from_be_bytes([ha0, ha1]) == ARPHRD_ETHER && alen == 6 {
                pkt.src_mac = Some([a0, a1, a2, a3, a4, a5]);
            }
            ethertype(&mut r, u16::from_be_bytes([p0, p1]), &mut pkt)?
        }
        LinkType::LinuxSll2 => {
            // protocol, reserved, interface index, ARPHRD type, packet type, address length,
            // 8 address bytes.
            let [p0, p1, _, _, _, _, _, _, ha0, ha1, _, alen, a0, a1, a2, a3, a4, a5, _, _] =
                r.array::<20>()?;
            if u16::from_be_bytes([ha0, ha1]) == ARPHRD_ETHER && alen == 6 {
                pkt.src_mac = Some([a0, a1, a2, a3, a4, a5]);
            }
            ethertype(&mut r, u16::from_be_bytes([p0, p1]), &mut pkt)?
        }
        LinkType::Null | LinkType::Loop => {
            let af = r.array::<4>()?;
            // NULL is in the capturing host's byte order, which the file does not say: accept
            // a known family in either order (the values never collide).
            let (le, be) = (u32::from_le_bytes(af), u32::from_be_bytes(af));
            let is = |set: &[u32]| set.contains(&le) || set.contains(&be);
            if is(&[AF_INET]) {
                Net::V4
            } else if is(&AF_INET6) {
                Net::V6
            } else {
                return Err(r.err(DecodeErrorKind::NotIp));
            }
        }
        LinkType::Raw => match frame.first().map(|b| b >> 4) {
            Some(4) => Net::V4,
            Some(6) => Net::V6,
            Some(_) => return Err(r.err(DecodeErrorKind::BadVersion)),
            None => return Err(r.err(DecodeErrorKind::Truncated)),
        },
        LinkType::Ipv4 => Net::V4,
        LinkType::Ipv6 => Net::V6,
    };
    let (ip, l4) = match net {
        Net::V4 => ipv4(r, &mut pkt.flags)?,
        Net::V6 => ipv6(r, &mut pkt.flags)?,
    };
    Ok(Packet {
        link,
        src_mac: pkt.src_mac,
        dst_mac: pkt.dst_mac,
        vlans: pkt.vlans,
        ip,
        l4,
        flags: pkt.flags,
    })
}

/// Decodes a frame whose link type is a pcap `LINKTYPE_*` number.
pub fn decode_dlt(frame: &[u8], dlt: u32) -> Result<Packet<'_>, DecodeError> {
    match LinkType::from_dlt(dlt) {
        Some(link) => decode(frame, link),
        None => Err(DecodeError {
            kind: DecodeErrorKind::UnknownLinkType,
            layer: Layer::Link,
            offset: 0,
        }),
    }
}

const ARPHRD_ETHER: u16 = 1;
const AF_INET: u32 = 2;
/// `AF_INET6` of Linux, NetBSD / OpenBSD, FreeBSD and Darwin.
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

#[derive(Debug, Clone, Copy)]
enum Net {
    V4,
    V6,
}

/// The link-layer facts gathered before the IP header.
struct Partial {
    src_mac: Option<[u8; 6]>,
    dst_mac: Option<[u8; 6]>,
    vlans: Vlans,
    flags: PacketFlags,
}

/// Steps over VLAN tags from an ethertype to the network layer.
fn ethertype(r: &mut Reader<'_>, mut et: u16, pkt: &mut Partial) -> Result<Net, DecodeError> {
    let mut tags = 0usize;
    while VLAN_TPIDS.contains(&et) {
        if tags == MAX_VLAN_TAGS {
            r.layer = Layer::Vlan;
            return Err(r.err(DecodeErrorKind::TooManyHeaders));
        }
        r.layer = Layer::Vlan;
        let tci = r.be16()?;
        et = r.be16()?;
        let id = tci & 0x0fff;
        match tags {
            0 => pkt.vlans.outer = Some(id),
            1 => pkt.vlans.inner = Some(id),
            _ => pkt.flags |= PacketFlags::EXTRA_VLAN_TAGS,
        }
        tags += 1;
    }
    match et {
        ETHERTYPE_IPV4 => Ok(Net::V4),
        ETHERTYPE_IPV6 => Ok(Net::V6),
        _ => Err(r.err(DecodeErrorKind::NotIp)),
    }
}

fn ipv4<'a>(
    mut r: Reader<'a>,
    flags: &mut PacketFlags,
) -> Result<(IpHeader<'a>, Layer4<'a>), DecodeError> {
    r.layer = Layer::Ipv4;
    let start = r;
    let [vihl, _tos, l0, l1, i0, i1, f0, f1, ttl, protocol, _, _, s0, s1, s2, s3, d0, d1, d2, d3] =
        r.array::<20>()?;
    if vihl >> 4 != 4 {
        return Err(start.err(DecodeErrorKind::BadVersion));
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    if ihl < 20 {
        return Err(start.err(DecodeErrorKind::BadLength));
    }
    if ihl > 20 {
        flags.insert(PacketFlags::IPV4_OPTIONS);
    }
    let mut total = usize::from(u16::from_be_bytes([l0, l1]));
    if total == 0 {
        // Segmentation offload on the capturing host writes 0; the capture holds it all.
        flags.insert(PacketFlags::LENGTH_FROM_CAPTURE);
        total = start.rest.len();
    }
    if total < ihl {
        return Err(start.err(DecodeErrorKind::BadLength));
    }
    // The options (validated only by their length: nothing here depends on them).
    let mut body = start;
    body.take(ihl)?;
    let packet = start
        .rest
        .get(..total)
        .ok_or(start.err(DecodeErrorKind::Truncated))?;
    if start.rest.len() > total {
        flags.insert(PacketFlags::TRAILING_BYTES);
    }
    let payload = packet.get(ihl..).unwrap_or_default();
    let ff = u16::from_be_bytes([f0, f1]);
    let more = ff & 0x2000 != 0;
    let offset = u32::from(ff & 0x1fff) * 8;
    let fragment = (more || offset != 0).then_some(Fragment {
        id: u32::from(u16::from_be_bytes([i0, i1])),
        offset,
        more,
        next_header: protocol,
    });
    if fragment.is_some() {
        flags.insert(PacketFlags::FRAGMENT);
    }
    let ip = IpHeader {
        src: IpAddr::V4(Ipv4Addr::new(s0, s1, s2, s3)),
        dst: IpAddr::V4(Ipv4Addr::new(d0, d1, d2, d3)),
        ttl,
        protocol,
        fragment,
        payload,
    };
    let body = Reader::new(payload, body.offset, Layer::Ipv4);
    let l4 = match fragment {
        Some(f) if !f.is_first() => Layer4::Fragment,
        Some(_) => transport(body, protocol, true)?,
        None => transport(body, protocol, false)?,
    };
    Ok((ip, l4))
}

fn ipv6<'a>(
    mut r: Reader<'a>,
    flags: &mut PacketFlags,
) -> Result<(IpHeader<'a>, Layer4<'a>), DecodeError> {
    r.layer = Layer::Ipv6;
    let start = r;
    let [v, _, _, _, l0, l1, next, hop_limit] = r.array::<8>()?;
    let src = Ipv6Addr::from(r.array::<16>()?);
    let dst = Ipv6Addr::from(r.array::<16>()?);
    if v >> 4 != 6 {
        return Err(start.err(DecodeErrorKind::BadVersion));
    }
    let mut len = usize::from(u16::from_be_bytes([l0, l1]));
    if len == 0 {
        // A jumbogram (length in a hop-by-hop option) or segmentation offload.
        flags.insert(PacketFlags::LENGTH_FROM_CAPTURE);
        len = r.rest.len();
    }
    let body = r
        .rest
        .get(..len)
        .ok_or(start.err(DecodeErrorKind::Truncated))?;
    if r.rest.len() > len {
        flags.insert(PacketFlags::TRAILING_BYTES);
    }
    let body = Reader::new(body, r.offset, Layer::Ipv6Extension);
    let mut frag = FragmentSeen::default();
    let walked = ipv6_extensions(body, next, flags, &mut frag);
    if frag.fragment.is_some() {
        flags.insert(PacketFlags::FRAGMENT);
    }
    let (protocol, upper, l4) = match (walked, frag.fragment) {
        (Ok((nh, rest)), Some(f)) if !f.is_first() => (nh, rest.rest, Layer4::Fragment),
        (Ok((nh, rest)), f) => (nh, rest.rest, transport(rest, nh, f.is_some())?),
        // A first fragment cut inside its extension headers: the rest is in later fragments.
        (Err(e), Some(f)) if e.kind == DecodeErrorKind::Truncated => {
            (f.next_header, body.rest, Layer4::Fragment)
        }
        (Err(e), _) => return Err(e),
    };
    let ip = IpHeader {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl: hop_limit,
        protocol,
        fragment: frag.fragment,
        // A defragmenter needs the data after the fragment header; everyone else the
        // bytes after the last extension header.
        payload: frag.data.unwrap_or(upper),
    };
    Ok((ip, l4))
}

/// The fragment header an extension-header walk met, if any.
#[derive(Debug, Default, Clone, Copy)]
struct FragmentSeen<'a> {
    fragment: Option<Fragment>,
    /// The data after the fragment header.
    data: Option<&'a [u8]>,
}

/// Walks IPv6 extension headers from `next`; returns the header that ended the walk (an
/// upper layer, an unknown header, or a non-first fragment's next header) and the bytes
/// from there on. A fragment header met on the way is recorded in `frag`, also when the walk
/// then fails.
fn ipv6_extensions<'a>(
    mut r: Reader<'a>,
    mut next: u8,
    flags: &mut PacketFlags,
    frag: &mut FragmentSeen<'a>,
) -> Result<(u8, Reader<'a>), DecodeError> {
    for _ in 0..=MAX_IPV6_EXTENSIONS {
        let len = match next {
            proto::HOP_BY_HOP
            | proto::ROUTING
            | proto::DEST_OPTS
            | proto::MOBILITY
            | proto::HIP
            | proto::SHIM6 => {
                let [_, l] = r.clone_peek::<2>()?;
                (usize::from(l) + 1) * 8
            }
            proto::AH => {
                let [_, l] = r.clone_peek::<2>()?;
                (usize::from(l) + 2) * 4
            }
            proto::FRAGMENT => 8,
            proto::TCP | proto::UDP | proto::ICMPV6 => return Ok((next, r)),
            _ => {
                // ESP, "no next header" (59) or unknown: nothing more can be read safely.
                flags.insert(PacketFlags::UNKNOWN_NEXT_HEADER);
                return Ok((next, r));
            }
        };
        flags.insert(PacketFlags::IPV6_EXTENSIONS);
        let header_at = r.offset;
        let header = r.take(len)?;
        let mut h = Reader::new(header, header_at, Layer::Ipv6Extension);
        let [nh, _] = h.array::<2>()?;
        if next == proto::FRAGMENT {
            let off = h.be16()?;
            let id = u32::from_be_bytes(h.array::<4>()?);
            let f = Fragment {
                id,
                offset: u32::from(off >> 3) * 8,
                more: off & 1 != 0,
                next_header: nh,
            };
            // An "atomic" fragment (offset 0, no more) is a whole packet (RFC 6946).
            if f.more || f.offset != 0 {
                frag.fragment = Some(f);
                frag.data = Some(r.rest);
                if !f.is_first() {
                    return Ok((nh, r));
                }
            }
        }
        next = nh;
    }
    Err(r.err(DecodeErrorKind::TooManyHeaders))
}

/// Decodes the upper layer of a reassembled datagram: `next` is IPv4's protocol or the IPv6
/// fragment header's next header (further IPv6 extension headers are walked). Returns the
/// final protocol number and the transport.
pub fn decode_reassembled(
    data: &[u8],
    next: u8,
    ipv6: bool,
) -> Result<(u8, Layer4<'_>), DecodeError> {
    let r = Reader::new(data, 0, Layer::Ipv6Extension);
    if ipv6 {
        let mut flags = PacketFlags::empty();
        let mut frag = FragmentSeen::default();
        let (nh, rest) = ipv6_extensions(r, next, &mut flags, &mut frag)?;
        if frag.fragment.is_some() {
            // A fragment header inside a reassembled datagram: nested fragmentation, which
            // no stack produces.
            return Ok((proto::FRAGMENT, Layer4::Fragment));
        }
        Ok((nh, transport(rest, nh, false)?))
    } else {
        Ok((next, transport(r, next, false)?))
    }
}

/// Decodes the transport header. `partial`: the bytes are a first fragment, so the payload
/// may be cut short and a header that does not fit is no error.
fn transport(mut r: Reader<'_>, protocol: u8, partial: bool) -> Result<Layer4<'_>, DecodeError> {
    let whole = r;
    let res = match protocol {
        proto::TCP => {
            r.layer = Layer::Tcp;
            tcp(r)
        }
        proto::UDP => {
            r.layer = Layer::Udp;
            udp(r, partial)
        }
        proto::ICMP | proto::ICMPV6 => {
            r.layer = Layer::Icmp;
            icmp(r)
        }
        _ => Ok(Layer4::Other(whole.rest)),
    };
    match res {
        Err(e) if partial && e.kind == DecodeErrorKind::Truncated => Ok(Layer4::Fragment),
        other => other,
    }
}

fn tcp(mut r: Reader<'_>) -> Result<Layer4<'_>, DecodeError> {
    let start = r;
    let [sp0, sp1, dp0, dp1, s0, s1, s2, s3, a0, a1, a2, a3, off, fl, w0, w1, _, _, _, _] =
        r.array::<20>()?;
    let header_len = usize::from(off >> 4) * 4;
    if header_len < 20 {
        return Err(start.err(DecodeErrorKind::BadLength));
    }
    let mut whole = start;
    whole.take(header_len)?;
    Ok(Layer4::Tcp(TcpSegment {
        src_port: u16::from_be_bytes([sp0, sp1]),
        dst_port: u16::from_be_bytes([dp0, dp1]),
        seq: u32::from_be_bytes([s0, s1, s2, s3]),
        ack: u32::from_be_bytes([a0, a1, a2, a3]),
        flags: TcpFlags::from_bits_truncate(u16::from(off & 1) << 8 | u16::from(fl)),
        window: u16::from_be_bytes([w0, w1]),
        payload: whole.rest,
    }))
}

fn udp(mut r: Reader<'_>, partial: bool) -> Result<Layer4<'_>, DecodeError> {
    let start = r;
    let [sp0, sp1, dp0, dp1, l0, l1, _, _] = r.array::<8>()?;
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    let payload = if partial {
        // The UDP length covers fragments not yet seen.
        r.rest
    } else {
        if len < 8 {
            return Err(start.err(DecodeErrorKind::BadLength));
        }
        r.rest
            .get(..len - 8)
            .ok_or(start.err(DecodeErrorKind::Truncated))?
    };
    Ok(Layer4::Udp(UdpDatagram {
        src_port: u16::from_be_bytes([sp0, sp1]),
        dst_port: u16::from_be_bytes([dp0, dp1]),
        payload,
    }))
}

fn icmp(mut r: Reader<'_>) -> Result<Layer4<'_>, DecodeError> {
    let [icmp_type, code, _, _] = r.array::<4>()?;
    Ok(Layer4::Icmp(IcmpMessage {
        icmp_type,
        code,
        payload: r.rest,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
    const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

    fn tcp_bytes(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(&sport.to_be_bytes());
        t.extend_from_slice(&dport.to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&7u32.to_be_bytes());
        // Data offset 6: one option word (MSS 1460).
        t.extend_from_slice(&[6 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
        t.extend_from_slice(&[2, 4, 0x05, 0xb4]);
        t.extend_from_slice(payload);
        t
    }

    fn ipv4_bytes(proto: u8, opts: &[u8], frag: u16, payload: &[u8]) -> Vec<u8> {
        assert_eq!(opts.len() % 4, 0);
        let ihl = 20 + opts.len();
        let total = (ihl + payload.len()) as u16;
        let mut p = vec![0x40 | (ihl / 4) as u8, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0x12, 0x34]);
        p.extend_from_slice(&frag.to_be_bytes());
        p.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 5, 169, 254, 169, 254]);
        p.extend_from_slice(opts);
        p.extend_from_slice(payload);
        p
    }

    /// IPv6 with the given extension headers (each: type, body after the 2 first bytes,
    /// padded by the caller to a multiple of 8 minus 2).
    fn ipv6_bytes(exts: &[(u8, Vec<u8>)], proto: u8, payload: &[u8]) -> Vec<u8> {
        let mut chain = Vec::new();
        let first = exts.first().map_or(proto, |e| e.0);
        for (i, (kind, body)) in exts.iter().enumerate() {
            let nh = exts.get(i + 1).map_or(proto, |e| e.0);
            if *kind == proto::AH {
                chain.push(nh);
                chain.push(((body.len() + 2) / 4 - 2) as u8);
            } else if *kind == proto::FRAGMENT {
                chain.push(nh);
                chain.push(0);
            } else {
                chain.push(nh);
                chain.push(((body.len() + 2) / 8 - 1) as u8);
            }
            chain.extend_from_slice(body);
        }
        chain.extend_from_slice(payload);
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(chain.len() as u16).to_be_bytes());
        p.extend_from_slice(&[first, 1]);
        p.extend_from_slice(&"fd00::5".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&"fd00:ec2::254".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&chain);
        p
    }

    fn eth(tags: &[(u16, u16)], et: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&MAC_B);
        f.extend_from_slice(&MAC_A);
        for &(tpid, id) in tags {
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&(0x2000 | id).to_be_bytes());
        }
        f.extend_from_slice(&et.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn http_v4() -> Vec<u8> {
        ipv4_bytes(
            6,
            &[],
            0x4000,
            &tcp_bytes(40000, 80, 1000, 0x18, b"GET / HTTP/1.1\r\n\r\n"),
        )
    }

    fn payload_of(p: &Packet<'_>) -> Vec<u8> {
        match p.l4 {
            Layer4::Tcp(t) => t.payload.to_vec(),
            Layer4::Udp(u) => u.payload.to_vec(),
            Layer4::Icmp(i) => i.payload.to_vec(),
            Layer4::Other(o) => o.to_vec(),
            Layer4::Fragment => Vec::new(),
        }
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let f = eth(&[], 0x0800, &http_v4());
        let p = decode(&f, LinkType::Ethernet).unwrap();
        assert_eq!(p.src_mac, Some(MAC_A));
        assert_eq!(p.dst_mac, Some(MAC_B));
        assert!(p.vlans.is_empty());
        assert_eq!(p.ip.src, "10.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(p.ip.dst, "169.254.169.254".parse::<IpAddr>().unwrap());
        assert_eq!((p.ip.ttl, p.ip.protocol, p.ip.fragment), (64, 6, None));
        let Layer4::Tcp(t) = p.l4 else { panic!("tcp") };
        assert_eq!((t.src_port, t.dst_port, t.seq, t.ack), (40000, 80, 1000, 7));
        assert_eq!(t.flags, TcpFlags::PSH | TcpFlags::ACK);
        assert_eq!(t.payload, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(p.flags, PacketFlags::empty());
    }

    #[test]
    fn vlan_tags_single_qinq_and_more() {
        let ip = http_v4();
        let frame = eth(&[(0x8100, 42)], 0x0800, &ip);
        let p = decode(&frame, LinkType::Ethernet).unwrap();
        assert_eq!((p.vlans.outer, p.vlans.inner), (Some(42), None));
        for outer in [0x88a8, 0x9100, 0x8100] {
            let f = eth(&[(outer, 100), (0x8100, 200)], 0x0800, &ip);
            let p = decode(&f, LinkType::Ethernet).unwrap();
            assert_eq!((p.vlans.outer, p.vlans.inner), (Some(100), Some(200)));
            assert_eq!(payload_of(&p), b"GET / HTTP/1.1\r\n\r\n");
        }
        let f = eth(&[(0x88a8, 1), (0x8100, 2), (0x8100, 3)], 0x0800, &ip);
        let p = decode(&f, LinkType::Ethernet).unwrap();
        assert_eq!((p.vlans.outer, p.vlans.inner), (Some(1), Some(2)));
        assert!(p.flags.contains(PacketFlags::EXTRA_VLAN_TAGS));
        let f = eth(&[(0x8100, 1); 5], 0x0800, &ip);
        let e = decode(&f, LinkType::Ethernet).unwrap_err();
        assert_eq!(
            (e.kind, e.layer),
            (DecodeErrorKind::TooManyHeaders, Layer::Vlan)
        );
    }

    #[test]
    fn every_link_type() {
        let v4 = http_v4();
        let v6 = ipv6_bytes(&[], 6, &tcp_bytes(40000, 80, 1, 0x02, b""));
        let mut sll = vec![0, 0, 0, 1, 0, 6];
        sll.extend_from_slice(&MAC_A);
        sll.extend_from_slice(&[0, 0, 0x08, 0x00]);
        sll.extend_from_slice(&v4);
        let mut sll2 = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6];
        sll2.extend_from_slice(&MAC_A);
        sll2.extend_from_slice(&[0, 0]);
        sll2.extend_from_slice(&v6);
        let with_af = |af: [u8; 4], ip: &[u8]| [&af[..], ip].concat();
        type Case = (LinkType, Vec<u8>, bool, Option<[u8; 6]>);
        let cases: Vec<Case> = vec![
            (LinkType::LinuxSll, sll, false, Some(MAC_A)),
            (LinkType::LinuxSll2, sll2, true, Some(MAC_A)),
            (LinkType::Raw, v4.clone(), false, None),
            (LinkType::Raw, v6.clone(), true, None),
            (LinkType::Ipv4, v4.clone(), false, None),
            (LinkType::Ipv6, v6.clone(), true, None),
            (
                LinkType::Null,
                with_af(2u32.to_le_bytes(), &v4),
                false,
                None,
            ),
            (
                LinkType::Null,
                with_af(30u32.to_le_bytes(), &v6),
                true,
                None,
            ),
            (
                LinkType::Null,
                with_af(2u32.to_be_bytes(), &v4),
                false,
                None,
            ),
            (
                LinkType::Loop,
                with_af(24u32.to_be_bytes(), &v6),
                true,
                None,
            ),
            (LinkType::Ethernet, eth(&[], 0x86dd, &v6), true, Some(MAC_A)),
        ];
        for (link, frame, v6, mac) in cases {
            let p = decode(&frame, link).unwrap_or_else(|e| panic!("{link:?}: {e}"));
            assert_eq!(p.ip.dst.is_ipv6(), v6, "{link:?}");
            assert_eq!(p.src_mac, mac, "{link:?}");
            assert!(matches!(p.l4, Layer4::Tcp(_)), "{link:?}");
            assert_eq!(LinkType::from_dlt(link.dlt()), Some(link));
        }
        for dlt in [12, 14] {
            assert_eq!(LinkType::from_dlt(dlt), Some(LinkType::Raw));
        }
        let e = decode_dlt(&v4, 147).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::UnknownLinkType);
        let e = decode(&with_af(7u32.to_le_bytes(), &v4), LinkType::Null).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::NotIp);
        let e = decode(&v6, LinkType::Ipv4).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::BadVersion);
    }

    #[test]
    fn not_ip_and_bad_lengths() {
        let arp = eth(&[], 0x0806, &[0; 28]);
        assert_eq!(
            decode(&arp, LinkType::Ethernet).unwrap_err().kind,
            DecodeErrorKind::NotIp
        );
        let mut ip = http_v4();
        ip[0] = 0x44; // IHL 4
        let e = decode(&ip, LinkType::Raw).unwrap_err();
        assert_eq!((e.kind, e.layer), (DecodeErrorKind::BadLength, Layer::Ipv4));
        let mut ip = http_v4();
        ip[20 + 12] = 4 << 4; // TCP data offset 4
        let e = decode(&ip, LinkType::Raw).unwrap_err();
        assert_eq!(
            (e.kind, e.layer, e.offset),
            (DecodeErrorKind::BadLength, Layer::Tcp, 20)
        );
        let udp = ipv4_bytes(17, &[], 0, &[0, 53, 0, 53, 0, 4, 0, 0]);
        let e = decode(&udp, LinkType::Raw).unwrap_err();
        assert_eq!((e.kind, e.layer), (DecodeErrorKind::BadLength, Layer::Udp));
        assert!(e.to_string().contains("bad_length"));
    }

    #[test]
    fn ipv4_options_padding_and_offload() {
        let payload = tcp_bytes(1, 2, 3, 0x10, b"xyz");
        let opts = [0x94, 0x04, 0, 0, 0x01, 0x01, 0x01, 0x00]; // router alert, NOPs, EOL
        let ip = ipv4_bytes(6, &opts, 0, &payload);
        let mut f = eth(&[], 0x0800, &ip);
        f.extend_from_slice(&[0; 6]); // Ethernet padding
        let p = decode(&f, LinkType::Ethernet).unwrap();
        assert!(p
            .flags
            .contains(PacketFlags::IPV4_OPTIONS | PacketFlags::TRAILING_BYTES));
        assert_eq!(payload_of(&p), b"xyz");
        // Total length 0: segmentation offload; the capture's length is used.
        let mut ip = ipv4_bytes(6, &[], 0, &payload);
        ip[2] = 0;
        ip[3] = 0;
        let p = decode(&ip, LinkType::Raw).unwrap();
        assert!(p.flags.contains(PacketFlags::LENGTH_FROM_CAPTURE));
        assert_eq!(payload_of(&p), b"xyz");
    }

    #[test]
    fn ipv4_fragments_are_flagged() {
        let seg = tcp_bytes(
            40000,
            80,
            1,
            0x18,
            b"GET /latest/meta-data/ HTTP/1.1\r\n\r\n",
        );
        // First fragment: 32 bytes of the segment, more fragments.
        let first = ipv4_bytes(6, &[], 0x2000, &seg[..32]);
        let p = decode(&first, LinkType::Raw).unwrap();
        let f = p.ip.fragment.unwrap();
        assert!(f.is_first() && f.more && f.id == 0x1234 && f.next_header == 6);
        assert!(p.flags.contains(PacketFlags::FRAGMENT));
        let Layer4::Tcp(t) = p.l4 else {
            panic!("first fragment keeps its TCP header")
        };
        assert_eq!(t.dst_port, 80);
        assert_eq!(p.ip.payload, &seg[..32]);
        // A first fragment too short for the header.
        let tiny = ipv4_bytes(6, &[], 0x2000, &seg[..8]);
        assert_eq!(decode(&tiny, LinkType::Raw).unwrap().l4, Layer4::Fragment);
        // Later fragment: offset 32 (4 units of 8).
        let rest = ipv4_bytes(6, &[], 4, &seg[32..]);
        let p = decode(&rest, LinkType::Raw).unwrap();
        assert_eq!(p.ip.fragment.unwrap().offset, 32);
        assert_eq!(p.l4, Layer4::Fragment);
        assert_eq!(p.ip.payload, &seg[32..]);
        // The pieces put together decode as the segment.
        let whole = [&seg[..32], &seg[32..]].concat();
        let (proto, l4) = decode_reassembled(&whole, 6, false).unwrap();
        assert_eq!(proto, 6);
        assert!(matches!(l4, Layer4::Tcp(t) if t.payload.starts_with(b"GET /latest")));
    }

    #[test]
    fn ipv6_extension_headers() {
        let seg = tcp_bytes(40000, 80, 9, 0x02, b"");
        let exts = vec![
            (proto::HOP_BY_HOP, vec![5, 2, 0, 0, 1, 0]), // router alert
            (proto::ROUTING, vec![0, 0, 0, 0, 0, 0]),
            (
                proto::DEST_OPTS,
                vec![1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            (proto::AH, vec![0; 14]),
        ];
        let frame = ipv6_bytes(&exts, 6, &seg);
        let p = decode(&frame, LinkType::Ipv6).unwrap();
        assert!(p.flags.contains(PacketFlags::IPV6_EXTENSIONS));
        assert_eq!((p.ip.protocol, p.ip.ttl), (6, 1));
        assert!(matches!(p.l4, Layer4::Tcp(t) if t.seq == 9));
        // ESP and unknown headers stop the walk safely.
        for stop in [50u8, 59, 253] {
            let frame = ipv6_bytes(&exts[..1], stop, b"opaque!!");
            let p = decode(&frame, LinkType::Ipv6).unwrap();
            assert_eq!(p.ip.protocol, stop);
            assert_eq!(p.l4, Layer4::Other(b"opaque!!"));
            assert!(p.flags.contains(PacketFlags::UNKNOWN_NEXT_HEADER));
        }
        // A fragment header: first fragment (more), then a later one.
        let frag = |off: u16, more: bool| {
            let v = off << 3 | u16::from(more);
            let mut b = v.to_be_bytes().to_vec();
            b.extend_from_slice(&0xdead_beefu32.to_be_bytes());
            (proto::FRAGMENT, b)
        };
        let frame = ipv6_bytes(&[frag(0, true)], 6, &seg);
        let p = decode(&frame, LinkType::Ipv6).unwrap();
        let f = p.ip.fragment.unwrap();
        assert_eq!((f.id, f.offset, f.more), (0xdead_beef, 0, true));
        assert!(matches!(p.l4, Layer4::Tcp(_)));
        let frame = ipv6_bytes(&[frag(3, false)], 6, b"tail");
        let p = decode(&frame, LinkType::Ipv6).unwrap();
        assert_eq!(
            (p.ip.fragment.unwrap().offset, p.l4),
            (24, Layer4::Fragment)
        );
        assert_eq!(p.ip.payload, b"tail");
        // Atomic fragment: a whole packet.
        let frame = ipv6_bytes(&[frag(0, false)], 6, &seg);
        let p = decode(&frame, LinkType::Ipv6).unwrap();
        assert!(p.ip.fragment.is_none() && matches!(p.l4, Layer4::Tcp(_)));
        // Too long a chain.
        let many = vec![(proto::DEST_OPTS, vec![0; 6]); MAX_IPV6_EXTENSIONS + 2];
        let e = decode(&ipv6_bytes(&many, 6, &seg), LinkType::Ipv6).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TooManyHeaders);
    }

    #[test]
    fn udp_and_icmp() {
        let mut udp = vec![0x30, 0x39, 0, 80, 0, 12];
        udp.extend_from_slice(&[0, 0, b'p', b'i', b'n', b'g']);
        let frame = ipv4_bytes(17, &[], 0, &udp);
        let p = decode(&frame, LinkType::Raw).unwrap();
        assert!(
            matches!(p.l4, Layer4::Udp(u) if u.src_port == 12345 && u.dst_port == 80 && u.payload == b"ping")
        );
        let frame = ipv4_bytes(1, &[], 0, &[8, 0, 0, 0, 0, 1, 0, 1]);
        let p = decode(&frame, LinkType::Raw).unwrap();
        assert!(matches!(p.l4, Layer4::Icmp(i) if i.icmp_type == 8 && i.payload.len() == 4));
        let frame = ipv6_bytes(&[], 58, &[128, 0, 0, 0]);
        let p = decode(&frame, LinkType::Raw).unwrap();
        assert!(matches!(p.l4, Layer4::Icmp(i) if i.icmp_type == 128));
        let frame = ipv4_bytes(47, &[], 0, b"gre!");
        let p = decode(&frame, LinkType::Raw).unwrap();
        assert_eq!((p.ip.protocol, p.l4), (47, Layer4::Other(b"gre!")));
    }

    /// Valid frames of every kind, for the truncation and mutation tests.
    fn corpus() -> Vec<(LinkType, Vec<u8>)> {
        let v4 = http_v4();
        let v6 = ipv6_bytes(
            &[(proto::HOP_BY_HOP, vec![0; 6]), (proto::AH, vec![0; 14])],
            6,
            &tcp_bytes(1, 80, 5, 0x18, b"GET /"),
        );
        let mut udp = vec![0, 1, 0, 2, 0, 9, 0, 0, b'x'];
        let udp4 = ipv4_bytes(17, &[1, 1, 1, 0], 0, &udp);
        udp.truncate(8);
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&udp4);
        let mut sll2 = vec![
            0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        sll2.extend_from_slice(&v6);
        vec![
            (
                LinkType::Ethernet,
                eth(&[(0x88a8, 7), (0x8100, 8)], 0x0800, &v4),
            ),
            (LinkType::Ethernet, eth(&[(0x9100, 7)], 0x86dd, &v6)),
            (LinkType::LinuxSll, sll),
            (LinkType::LinuxSll2, sll2),
            (LinkType::Raw, ipv4_bytes(1, &[], 0, &[0, 0, 0, 0])),
            (LinkType::Null, [&2u32.to_le_bytes()[..], &v4].concat()),
            (LinkType::Loop, [&24u32.to_be_bytes()[..], &v6].concat()),
        ]
    }

    /// Frames the quick pre-check accepts: UDP and ICMP over Ethernet (with and without a
    /// tag) and raw IPv4 / IPv6.
    fn quick_corpus() -> Vec<(LinkType, Vec<u8>)> {
        let udp = [0, 53, 0x30, 0x39, 0, 10, 0, 0, b'h', b'i'];
        let udp4 = ipv4_bytes(17, &[], 0, &udp);
        let v6 = ipv6_bytes(&[], 17, &udp);
        let ack = ipv4_bytes(6, &[], 0, &tcp_bytes(40000, 443, 9, 0x10, b""));
        vec![
            (LinkType::Ethernet, eth(&[(0x8100, 9)], 0x0800, &ack)),
            (LinkType::Ethernet, eth(&[], 0x0800, &udp4)),
            (LinkType::Ethernet, eth(&[(0x8100, 5)], 0x86dd, &v6)),
            (LinkType::Raw, ipv4_bytes(1, &[], 0, &[8, 0, 0, 0, 1, 2])),
        ]
    }

    #[test]
    fn quick_class_takes_plain_udp_icmp_bare_tcp_and_non_ip_only() {
        let corpus = quick_corpus();
        assert!(matches!(
            quick_classify(&corpus[0].1, corpus[0].0),
            QuickClass::BareTcp(QuickTcp {
                src_port: 40000,
                dst_port: 443,
                vlans: Vlans {
                    outer: Some(9),
                    inner: None
                },
                ..
            })
        ));
        for (link, frame) in &corpus[1..] {
            assert!(
                matches!(
                    quick_classify(frame, *link),
                    QuickClass::NonTcp(..) | QuickClass::NonTcpV4(..)
                ),
                "{link:?}"
            );
        }
        let tcp = eth(&[], 0x0800, &http_v4());
        assert_eq!(quick_classify(&tcp, LinkType::Ethernet), QuickClass::Decode);
        let arp = eth(&[], 0x0806, &[0; 28]);
        assert_eq!(
            quick_classify(&arp, LinkType::Ethernet),
            QuickClass::NotIp(decode(&arp, LinkType::Ethernet).unwrap_err())
        );
        let qinq = eth(
            &[(0x88a8, 7), (0x8100, 8)],
            0x0800,
            &ipv4_bytes(17, &[], 0, &[0; 8]),
        );
        assert_eq!(
            quick_classify(&qinq, LinkType::Ethernet),
            QuickClass::Decode
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        for (link, frame) in corpus() {
            assert!(decode(&frame, link).is_ok(), "{link:?} whole");
            for n in 0..frame.len() {
                let e = decode(&frame[..n], link);
                assert!(e.is_err(), "{link:?} cut at {n} of {}", frame.len());
                let e = e.unwrap_err();
                assert!(e.offset <= n, "{link:?} cut at {n}: {e}");
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), dlt in 0u32..300) {
            let _ = decode_dlt(&bytes, dlt);
            for link in [LinkType::Ethernet, LinkType::Raw, LinkType::LinuxSll, LinkType::LinuxSll2, LinkType::Null] {
                let _ = decode(&bytes, link);
            }
            for v6 in [false, true] {
                for nh in [0u8, 6, 17, 44, 51, 58] {
                    let _ = decode_reassembled(&bytes, nh, v6);
                }
            }
        }

        #[test]
        fn quick_class_agrees_with_decode(
            i in 0usize..11,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
            cut in any::<usize>(),
        ) {
            let mut frames = corpus();
            frames.extend(quick_corpus());
            let (link, mut frame) = frames.swap_remove(i % frames.len());
            for (at, b) in edits {
                let n = frame.len();
                frame[at % n] = b;
            }
            frame.truncate(frame.len() - cut % 4);
            for link in [link, LinkType::Ethernet, LinkType::Raw, LinkType::Ipv4, LinkType::Ipv6] {
                let class = match quick_classify(&frame, link) {
                    QuickClass::NonTcpV4(s, d) => QuickClass::NonTcp(s.into(), d.into()),
                    other => other,
                };
                match class {
                    QuickClass::NonTcp(src, dst) => {
                        let p = decode(&frame, link);
                        prop_assert!(p.is_ok(), "{link:?} {frame:02x?}: {p:?}");
                        let p = p.unwrap();
                        prop_assert_eq!((p.ip.src, p.ip.dst), (src, dst));
                        prop_assert!(p.ip.fragment.is_none());
                        prop_assert!(matches!(p.l4, Layer4::Udp(_) | Layer4::Icmp(_)), "{:?}", p.l4);
                    }
                    QuickClass::BareTcp(q) => {
                        let p = decode(&frame, link);
                        prop_assert!(p.is_ok(), "{link:?} {frame:02x?}: {p:?}");
                        let p = p.unwrap();
                        prop_assert_eq!((p.ip.src, p.ip.dst, p.vlans), (q.src, q.dst, q.vlans));
                        prop_assert!(p.ip.fragment.is_none());
                        let Layer4::Tcp(t) = p.l4 else {
                            return Err(TestCaseError::fail(format!("{:?}", p.l4)));
                        };
                        prop_assert_eq!((t.src_port, t.dst_port), (q.src_port, q.dst_port));
                        prop_assert!(t.payload.is_empty() && !t.flags.contains(TcpFlags::SYN));
                    }
                    QuickClass::NotIp(e) => prop_assert_eq!(decode(&frame, link).err(), Some(e)),

                    QuickClass::NonTcpV4(..) | QuickClass::Decode => {}
                }
            }
        }

        #[test]
        fn mutated_frames_never_panic(i in 0usize..7, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
            let (link, mut frame) = corpus().swap_remove(i);
            for (at, b) in edits {
                let n = frame.len();
                frame[at % n] = b;
            }
            let _ = decode(&frame, link);
        }
    }
}
