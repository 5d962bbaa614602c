//! The flow table: frames in, detection flows fed, alerts out.
//!
//! A [`Tracker`] owns a bounded table of flows keyed by the unordered pair of endpoints, the
//! transport and the VLAN tags. Each entry holds an engine [`Flow`] (oriented client →
//! server) and, for TCP, one [`HalfStream`] per direction. See the [module docs](super) for
//! the policies; the ones decided here:
//!
//! - **Which packets make a flow.** TCP to any address, when the packet is a SYN or carries
//!   payload (HTTP to any host can carry a metadata request through a proxy); any packet of
//!   any transport to or from a metadata address (a SYN alone, a refused connection, a UDP
//!   datagram, an ICMP echo is address contact). Everything else costs a decode and two
//!   address look-ups, and no memory.
//! - **Orientation.** The sender of a SYN is the client, the sender of a SYN-ACK the server.
//!   Without either (mid-stream pickup): a metadata address is the server; else a port below
//!   1024 facing one at or above it is the server's; else the lower port; on a tie the
//!   destination of the first packet seen.
//! - **Timeouts.** Three classes, each its own LRU list: *new* (nothing but handshake
//!   packets yet, or UDP / ICMP), *established* (payload seen), *closed* (both directions
//!   ended, or reset: kept briefly so that late retransmissions do not start a new flow).
//! - **Eviction.** When the table is at `max_flows`, or the memory charged passes the
//!   memcap, the least recently seen flow is closed and removed (closed flows first: they
//!   have nothing left to say). Closing gives every verdict, so an evicted flow to a
//!   metadata address still raises its alert; evictions are counted.
//! - **Memory charged**: every heap byte the tracker holds for flows. The tables: the hash
//!   map, allocated at creation for the most flows the memcap allows (with twice the
//!   buckets, so it never grows), the slab of entries (each with its flow and both
//!   reassembly halves inline) and its free list, grown in steps that fit under the cap. Per
//!   flow: [`Flow::heap_bytes`] plus the reassembly queues' heap, re-measured after each
//!   packet. `tests/memcap.rs` holds the sum to a counting allocator over a million flows.

use super::decode::{
    decode, decode_reassembled, quick_classify, DecodeError, DecodeErrorKind, Layer4, LinkType,
    QuickClass, TcpFlags, TcpSegment,
};
use super::defrag::{DefragConfig, DefragStats, Defragmenter, FragmentKey};
use super::reassembly::{HalfStream, ReassemblyConfig, ReassemblyStats, StreamSink};
use crate::engine::{Engine, Flow};
use crate::event::Alert;
use crate::flow::transaction::Transaction;
use crate::flow::Direction;
use crate::imds::targets::is_metadata_address;
use crate::key::{FlowKey, Transport, Vlans};
use std::collections::{HashMap, VecDeque};

/// The flow table's hasher: foldhash, seeded per process (a remote sender cannot choose
/// colliding keys without the seed), and several times cheaper than SipHash on a flow key.
type FlowMap = HashMap<NormKey, u32, foldhash::fast::RandomState>;
use std::net::IpAddr;

/// Default number of flows held at once.
pub const MAX_FLOWS: usize = 65_536;
/// Default memory cap of the flow table, in bytes.
pub const MEMCAP_BYTES: usize = 64 << 20;
/// Default timeout of a flow that has carried payload (5 minutes).
pub const IDLE_TIMEOUT_US: u64 = 300_000_000;
/// Default timeout of a flow that has not (30 seconds: a lone SYN is reported this soon).
pub const NEW_TIMEOUT_US: u64 = 30_000_000;
/// Default time a closed TCP flow is kept to absorb late packets (10 seconds).
pub const TCP_CLOSED_TIMEOUT_US: u64 = 10_000_000;
/// Default quiet time after which a flow's detection state is compacted (1 second): long
/// enough that a connection carrying requests keeps its state between them.
pub const PARK_AFTER_US: u64 = 1_000_000;
/// Default number of alerts held for [`Tracker::drain_alerts`].
pub const MAX_PENDING_ALERTS: usize = 65_536;
/// A reset is believed when its sequence number lies this close to the next expected one
/// (RFC 5961 asks receivers for an exact match; a monitor sees a little behind or ahead).
/// A forged reset with a random sequence number passes with odds of 1 in 2048.
const RST_WINDOW: i64 = 1 << 20;

/// What a tracker is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackerConfig {
    /// Flows held at once ([`MAX_FLOWS`]).
    pub max_flows: usize,
    /// Memory charged to flows at most ([`MEMCAP_BYTES`]).
    pub memcap_bytes: usize,
    /// Timeout of a flow that carried payload ([`IDLE_TIMEOUT_US`]).
    pub idle_timeout_us: u64,
    /// Timeout of a flow that did not: handshake only, UDP, ICMP ([`NEW_TIMEOUT_US`]).
    pub new_timeout_us: u64,
    /// Time a closed TCP flow is kept ([`TCP_CLOSED_TIMEOUT_US`]).
    pub tcp_closed_timeout_us: u64,
    /// Quiet time after which an established flow's detection state is compacted
    /// ([`PARK_AFTER_US`]; see `Flow::compact`).
    pub park_after_us: u64,
    /// Bounds of each direction's out-of-order queue.
    pub reassembly: ReassemblyConfig,
    /// Bounds of IP defragmentation.
    pub defrag: DefragConfig,
    /// Alerts held until drained ([`MAX_PENDING_ALERTS`]); past it the oldest is dropped
    /// and counted.
    pub max_pending_alerts: usize,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            max_flows: MAX_FLOWS,
            memcap_bytes: MEMCAP_BYTES,
            idle_timeout_us: IDLE_TIMEOUT_US,
            new_timeout_us: NEW_TIMEOUT_US,
            tcp_closed_timeout_us: TCP_CLOSED_TIMEOUT_US,
            park_after_us: PARK_AFTER_US,
            reassembly: ReassemblyConfig::default(),
            defrag: DefragConfig::default(),
            max_pending_alerts: MAX_PENDING_ALERTS,
        }
    }
}

/// Decoding errors by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeErrorCounts([u64; DecodeErrorKind::ALL.len()]);

impl DecodeErrorCounts {
    /// The count of one kind.
    pub fn get(&self, kind: DecodeErrorKind) -> u64 {
        self.0.get(kind as usize).copied().unwrap_or(0)
    }

    /// Every kind with its count.
    pub fn iter(&self) -> impl Iterator<Item = (DecodeErrorKind, u64)> + '_ {
        DecodeErrorKind::ALL.into_iter().map(|k| (k, self.get(k)))
    }

    /// All errors, `NotIp` included.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Frames that were damaged or could not be followed: every kind but
    /// [`DecodeErrorKind::NotIp`] (ARP, LLDP: not an error of the frame).
    pub fn malformed(&self) -> u64 {
        self.total() - self.get(DecodeErrorKind::NotIp)
    }

    fn add(&mut self, kind: DecodeErrorKind) {
        if let Some(c) = self.0.get_mut(kind as usize) {
            *c += 1;
        }
    }
}

/// Counters of a tracker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Frames handed in.
    pub packets: u64,
    /// Bytes of those frames.
    pub bytes: u64,
    /// Frames not decoded, by kind.
    pub decode_errors: DecodeErrorCounts,
    /// Decoded packets that needed no flow (UDP / ICMP / other not involving a metadata
    /// address, TCP without SYN or payload to a new non-metadata pair).
    pub untracked: u64,
    /// Flows created.
    pub flows_created: u64,
    /// Flows that ended by FIN or RST.
    pub flows_closed: u64,
    /// Flows that timed out while open.
    pub flows_timed_out: u64,
    /// Flows removed to make room (memcap or `max_flows`).
    pub flows_evicted: u64,
    /// Quiet flows whose detection state was compacted (see `TrackerConfig::park_after_us`).
    pub flows_compacted: u64,
    /// Flows closed by [`Tracker::flush`].
    pub flows_flushed: u64,
    /// Connections replaced by a new one on the same ports (a new SYN).
    pub flows_reused: u64,
    /// Times the memcap forced evictions.
    pub memcap_hits: u64,
    /// Times `max_flows` forced an eviction.
    pub max_flows_hits: u64,
    /// Resets ignored as implausible (sequence number far from the expected one).
    pub resets_ignored: u64,
    /// TCP reassembly counters (bytes reassembled, gaps, overlaps, ...).
    pub reassembly: ReassemblyStats,
    /// IP fragments and defragmentation counters.
    pub defrag: DefragStats,
    /// Alerts taken from flows.
    pub alerts: u64,
    /// Alerts dropped because nobody drained them.
    pub alerts_dropped: u64,
    /// HTTP transactions of the flows that ended.
    pub http_transactions: u64,
    /// HTTP messages with anomalies (and anomaly reports outside messages) of the flows that
    /// ended.
    pub http_anomalies: u64,
    /// Flows held now.
    pub active_flows: u64,
    /// Memory charged to flows now.
    pub memory_bytes: u64,
    /// The highest `memory_bytes` seen.
    pub memory_peak: u64,
}

/// What became of a flow by a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowAction {
    /// No flow: not decoded, or nothing to track.
    Untracked,
    /// An IP fragment held until its datagram is complete.
    FragmentHeld,
    /// A flow was created.
    Created,
    /// An existing flow was updated.
    Existing,
}

/// What one packet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketOutcome {
    /// The decoding error, if the frame was not decoded.
    pub error: Option<DecodeError>,
    /// What became of its flow.
    pub action: FlowAction,
    /// The packet's direction in its flow.
    pub direction: Option<Direction>,
    /// Alerts waiting in [`Tracker::drain_alerts`].
    pub alerts_pending: usize,
}

/// The unordered identity of a flow: both endpoints (lower first), transport, VLAN tags,
/// packed into integers so that ordering, hashing and comparing them is a handful of
/// instructions (every packet of a tracked transport looks one up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct NormKey {
    /// The lower endpoint's address (IPv4 as `::ffff:a.b.c.d`; `meta` holds the family).
    lo: u128,
    /// The higher endpoint's address.
    hi: u128,
    /// The lower endpoint's port above the higher one's.
    ports: u32,
    /// VLAN tags (32 bits: each 12-bit id with a presence bit), the transport (16 bits) and
    /// the address family (8 bits).
    meta: u64,
}

/// An address as an integer; IPv6 addresses that embed IPv4 stay apart from IPv4 ones by
/// the family bit of [`NormKey::meta`].
fn addr_bits(ip: IpAddr) -> u128 {
    match ip {
        // `::ffff:a.b.c.d` as an integer, without going through the IPv6 type.
        IpAddr::V4(v4) => 0xffff_u128 << 32 | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl NormKey {
    fn new(a: (IpAddr, u16), b: (IpAddr, u16), transport: Transport, vlans: Vlans) -> NormKey {
        let (a_bits, b_bits) = ((addr_bits(a.0), a.1), (addr_bits(b.0), b.1));
        let (lo, hi) = if a_bits <= b_bits {
            (a_bits, b_bits)
        } else {
            (b_bits, a_bits)
        };
        let tag = |v: Option<u16>| v.map_or(0u64, |id| 0x1000 | u64::from(id & 0x0fff));
        let transport = match transport {
            Transport::Tcp => 6u64,
            Transport::Udp => 17,
            Transport::Icmp => 1,
            Transport::Other(p) => 0x100 | u64::from(p),
        };
        NormKey {
            lo: lo.0,
            hi: hi.0,
            ports: u32::from(lo.1) << 16 | u32::from(hi.1),
            meta: tag(vlans.outer) << 48
                | tag(vlans.inner) << 32
                | transport << 16
                | u64::from(a.0.is_ipv6()),
        }
    }

    fn of(k: &FlowKey) -> NormKey {
        NormKey::new(
            (k.src_ip, k.src_port),
            (k.dst_ip, k.dst_port),
            k.transport,
            k.vlans,
        )
    }
}

/// Timeout classes; each has an LRU list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    New = 0,
    Established = 1,
    Closed = 2,
    /// Established, then quiet for `park_after_us`: its detection flow was compacted (when
    /// it had nothing in progress). Times out like an established flow; a packet makes it
    /// established again.
    Parked = 3,
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct List {
    /// Most recently seen.
    head: u32,
    /// Least recently seen.
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

#[derive(Debug)]
struct Entry {
    key: FlowKey,
    flow: Flow,
    /// Reassembly of each direction (TCP only), indexed by [`Direction`].
    tcp: [HalfStream; 2],
    class: Class,
    /// Both directions ended or reset: the detection flow is closed.
    closed: bool,
    last_seen_us: u64,
    prev: u32,
    next: u32,
    /// Memory charged for this entry.
    charge: usize,
}

impl Entry {
    /// The heap this flow holds beyond its slab slot (parser, detection, reassembly).
    fn measure(&self) -> usize {
        self.flow.heap_bytes() + self.tcp.iter().map(HalfStream::heap_bytes).sum::<usize>()
    }
}

/// A slab slot: the entry with its flow and both reassembly halves, inline.
const SLOT_BYTES: usize = size_of::<Option<Entry>>();
/// A hash-map bucket: key, index and hashbrown's control byte.
const BUCKET_BYTES: usize = size_of::<(NormKey, u32)>() + 1;

/// What one flow costs in the tables before it holds anything: its slab slot, its free-list
/// index, and two hash-map buckets at the map's 7/8 load (the map is sized for twice the
/// flows it can hold, so that it never grows: see [`Tracker::new`]).
const FIXED_CHARGE: usize = SLOT_BYTES + size_of::<u32>() + 2 * BUCKET_BYTES * 8 / 7;

/// The fixed memory charged per flow (see the module docs): the part that does not depend
/// on what the flow carried. A memcap of `k * fixed_flow_bytes()` holds about `k` flows
/// (the hash map's buckets come in powers of two, so a little less).
pub fn fixed_flow_bytes() -> usize {
    FIXED_CHARGE
}

/// Bytes hashbrown allocates for a map of this `capacity()`: a power of two of buckets, a
/// control byte per bucket plus one group (16), the buckets aligned to the group.
fn map_bytes(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        (capacity + 1).next_power_of_two()
    } else {
        (capacity * 8 / 7).next_power_of_two()
    };
    (buckets * size_of::<(NormKey, u32)>()).next_multiple_of(16) + buckets + 16
}

/// Feeds one direction's reassembled bytes to the detection flow.
struct FlowSink<'a> {
    flow: &'a mut Flow,
    engine: &'a Engine,
    dir: Direction,
}

impl StreamSink for FlowSink<'_> {
    fn data(&mut self, bytes: &[u8]) {
        self.flow.feed(self.engine, self.dir, bytes);
    }

    fn gap(&mut self, len: u64) {
        self.flow.gap(self.engine, self.dir, len);
    }

    fn end(&mut self) {
        self.flow.close_direction(self.engine, self.dir);
    }
}

/// The decoded facts the flow logic needs, whether from one frame or a reassembled datagram.
#[derive(Debug, Clone, Copy)]
struct View<'a> {
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    protocol: u8,
    src_mac: Option<[u8; 6]>,
    vlans: Vlans,
    l4: Layer4<'a>,
    /// A first fragment: its transport header may create the flow (the address rule), but
    /// its payload waits for the whole datagram.
    header_only: bool,
}

/// A bounded bidirectional flow table with TCP reassembly. See the module docs.
#[derive(Debug)]
pub struct Tracker {
    config: TrackerConfig,
    map: FlowMap,
    /// The most flows the memcap can hold with the tables sized for them.
    most_flows: usize,
    /// Bytes of the map's allocation (fixed: it never grows). Its `capacity()` is no
    /// measure of that: deleted buckets lower it.
    map_bytes: usize,
    /// Bytes of the map, the slab and the free list (charged in `mem_used`).
    table_bytes: usize,
    slab: Vec<Option<Entry>>,
    free: Vec<u32>,
    lists: [List; 4],
    defrag: Defragmenter,
    alerts: VecDeque<Alert>,
    /// Transactions of ended flows, when the engine records them.
    transactions: Vec<(FlowKey, Transaction)>,
    mem_used: usize,
    last_expiry_us: u64,
    stats: TrackerStats,
}

// One tracker per capture thread: it must be able to move to its thread.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Tracker>();
};

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new(TrackerConfig::default())
    }
}

impl Tracker {
    /// An empty tracker.
    ///
    /// Every heap byte the tracker holds for flows is charged to `config.memcap_bytes`: the
    /// flow table is allocated here for the most flows the memcap can hold (twice that many
    /// buckets, so that it never grows: hashbrown reuses deleted buckets in place while at
    /// most half are full) and charged from the start; the slab grows in steps it can
    /// afford; each flow's parser, detection and reassembly heap is re-measured after every
    /// packet. `tests/memcap.rs` checks the sum against a counting allocator.
    pub fn new(config: TrackerConfig) -> Tracker {
        let mut most = config
            .max_flows
            .max(1)
            .min(config.memcap_bytes / FIXED_CHARGE + 1);
        while most > 1 && map_bytes(2 * most) + most * (SLOT_BYTES + 4) > config.memcap_bytes {
            most -= 1;
        }
        let map = FlowMap::with_capacity_and_hasher(2 * most, Default::default());
        let table = map_bytes(map.capacity());
        Tracker {
            config,
            most_flows: most,
            map_bytes: table,
            table_bytes: table,
            map,
            slab: Vec::new(),
            free: Vec::new(),
            lists: [EMPTY; 4],
            defrag: Defragmenter::new(config.defrag),
            alerts: VecDeque::new(),
            transactions: Vec::new(),
            mem_used: table,
            last_expiry_us: 0,
            stats: TrackerStats {
                memory_peak: table as u64,
                ..TrackerStats::default()
            },
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> TrackerStats {
        let mut s = self.stats;
        s.defrag = self.defrag.stats();
        s.active_flows = self.map.len() as u64;
        s.memory_bytes = self.mem_used as u64;
        s
    }

    /// Flows held.
    pub fn flow_count(&self) -> usize {
        self.map.len()
    }

    /// Memory charged now, in bytes: the tables ([`Tracker::table_bytes`]) and every flow's
    /// heap (see the module docs for what is counted). Never above the memcap after a call
    /// returns.
    pub fn memory_used(&self) -> usize {
        self.mem_used
    }

    /// The part of [`Tracker::memory_used`] the tables hold whether or not they hold flows:
    /// the flow map (allocated up front for the most flows the memcap allows), the slab and
    /// its free list (grown on demand, never shrunk).
    pub fn table_bytes(&self) -> usize {
        self.table_bytes
    }

    /// Takes the HTTP transactions of the flows that ended, with their flow keys (only when
    /// the engine has `record_transactions` set; `imdsguard http-dump` uses it).
    pub fn drain_transactions(&mut self) -> impl Iterator<Item = (FlowKey, Transaction)> + '_ {
        self.transactions.drain(..)
    }

    /// Takes every pending alert, oldest first.
    pub fn drain_alerts(&mut self) -> impl Iterator<Item = Alert> + '_ {
        self.alerts.drain(..)
    }

    /// Handles one frame: decodes it, finds or creates its flow, reassembles, feeds the
    /// detection flow, applies timeouts (at most once a second of packet time) and bounds.
    /// `ts_us` is the capture time in microseconds since the Unix epoch.
    pub fn packet(
        &mut self,
        engine: &Engine,
        frame: &[u8],
        link: LinkType,
        ts_us: u64,
    ) -> PacketOutcome {
        self.stats.packets += 1;
        self.stats.bytes += frame.len() as u64;
        if ts_us >= self.last_expiry_us.saturating_add(1_000_000) {
            self.expire(engine, ts_us);
        }
        let mut out = PacketOutcome {
            error: None,
            action: FlowAction::Untracked,
            direction: None,
            alerts_pending: 0,
        };
        // The fast path, before the full decode: plain UDP / ICMP between ordinary hosts (see
        // `handle`) is decided from its two addresses, a bare TCP segment of no flow by one
        // look-up, a non-IP frame at once.
        match quick_classify(frame, link) {
            QuickClass::NonTcpV4(src, dst)
                if !is_metadata_address(src.into()) && !is_metadata_address(dst.into()) =>
            {
                self.stats.untracked += 1;
                out.alerts_pending = self.alerts.len();
                return out;
            }
            QuickClass::NonTcp(src, dst)
                if !is_metadata_address(src) && !is_metadata_address(dst) =>
            {
                self.stats.untracked += 1;
                out.alerts_pending = self.alerts.len();
                return out;
            }
            QuickClass::BareTcp(q)
                if !is_metadata_address(q.src) && !is_metadata_address(q.dst) =>
            {
                let nkey = NormKey::new(
                    (q.src, q.src_port),
                    (q.dst, q.dst_port),
                    Transport::Tcp,
                    q.vlans,
                );
                let Some(&idx) = self.map.get(&nkey) else {
                    // Without SYN or payload, TCP makes no flow (see `new_key`).
                    self.stats.untracked += 1;
                    out.alerts_pending = self.alerts.len();
                    return out;
                };
                // A segment of a known flow (most ACKs): the full way, without a second
                // look-up for the flow just found.
                return self.decoded_packet(engine, frame, link, ts_us, out, Some((nkey, idx)));
            }
            QuickClass::NotIp(e) => {
                self.stats.decode_errors.add(e.kind);
                out.error = Some(e);
                out.alerts_pending = self.alerts.len();
                return out;
            }
            _ => {}
        }
        self.decoded_packet(engine, frame, link, ts_us, out, None)
    }

    /// Everything but the fast path: kept out of line so that the fast path stays a small
    /// function (its prologue and register saves are part of every packet's cost). `found`
    /// is the flow the fast path already looked up for this frame, with its key.
    #[inline(never)]
    fn decoded_packet(
        &mut self,
        engine: &Engine,
        frame: &[u8],
        link: LinkType,
        ts_us: u64,
        mut out: PacketOutcome,
        found: Option<(NormKey, u32)>,
    ) -> PacketOutcome {
        match decode(frame, link) {
            Err(e) => {
                self.stats.decode_errors.add(e.kind);
                out.error = Some(e);
            }
            Ok(pkt) => {
                let mut view = View {
                    src: pkt.ip.src,
                    dst: pkt.ip.dst,
                    ttl: pkt.ip.ttl,
                    protocol: pkt.ip.protocol,
                    src_mac: pkt.src_mac,
                    vlans: pkt.vlans,
                    l4: pkt.l4,
                    header_only: false,
                };
                match pkt.ip.fragment {
                    None => self.handle(engine, &view, ts_us, &mut out, found),
                    Some(f) => {
                        out.action = FlowAction::FragmentHeld;
                        if f.is_first() && !matches!(view.l4, Layer4::Fragment) {
                            view.header_only = true;
                            self.handle(engine, &view, ts_us, &mut out, None);
                            out.action = FlowAction::FragmentHeld;
                        }
                        let key = FragmentKey {
                            src: view.src,
                            dst: view.dst,
                            id: f.id,
                            next_header: f.next_header,
                            vlans: view.vlans,
                        };
                        let ipv6 = view.src.is_ipv6();
                        if let Some(whole) = self.defrag.push(key, f, pkt.ip.payload, ts_us) {
                            match decode_reassembled(&whole, f.next_header, ipv6) {
                                Ok((protocol, l4)) => {
                                    view.protocol = protocol;
                                    view.l4 = l4;
                                    view.header_only = false;
                                    self.handle(engine, &view, ts_us, &mut out, None);
                                }
                                Err(e) => {
                                    self.stats.decode_errors.add(e.kind);
                                    out.error = Some(e);
                                }
                            }
                        }
                    }
                }
            }
        }
        self.enforce_memcap(engine);
        out.alerts_pending = self.alerts.len();
        out
    }

    /// [`Tracker::packet`] with the link type as a pcap `LINKTYPE_*` number (the C ABI's
    /// form). An unknown number is counted as [`DecodeErrorKind::UnknownLinkType`].
    pub fn packet_dlt(
        &mut self,
        engine: &Engine,
        frame: &[u8],
        dlt: u32,
        ts_us: u64,
    ) -> PacketOutcome {
        match LinkType::from_dlt(dlt) {
            Some(link) => self.packet(engine, frame, link, ts_us),
            None => {
                self.stats.packets += 1;
                self.stats.bytes += frame.len() as u64;
                self.stats
                    .decode_errors
                    .add(DecodeErrorKind::UnknownLinkType);
                PacketOutcome {
                    error: Some(DecodeError {
                        kind: DecodeErrorKind::UnknownLinkType,
                        layer: super::decode::Layer::Link,
                        offset: 0,
                    }),
                    action: FlowAction::Untracked,
                    direction: None,
                    alerts_pending: self.alerts.len(),
                }
            }
        }
    }

    /// Closes flows idle past their timeout at `now_us` (their verdicts become alerts), and
    /// drops fragments past theirs. [`Tracker::packet`] calls this by itself as packet time
    /// advances; call it when no packets arrive.
    pub fn expire(&mut self, engine: &Engine, now_us: u64) {
        self.last_expiry_us = now_us;
        self.defrag.expire(now_us);
        let timeouts = [
            (Class::New, self.config.new_timeout_us),
            (Class::Established, self.config.idle_timeout_us),
            (Class::Parked, self.config.idle_timeout_us),
            (Class::Closed, self.config.tcp_closed_timeout_us),
        ];
        for (class, timeout) in timeouts {
            loop {
                let tail = self.list(class).tail;
                let Some(e) = self.entry(tail) else { break };
                if now_us.saturating_sub(e.last_seen_us) < timeout {
                    break;
                }
                if !e.closed {
                    self.stats.flows_timed_out += 1;
                }
                self.remove(engine, tail);
            }
        }
        // Established flows quiet for a while give their parser and detection state back:
        // an idle keep-alive connection then costs its slab slot and no heap, while a busy
        // one keeps its state between requests (and allocates nothing per request).
        loop {
            let tail = self.list(Class::Established).tail;
            let Some(e) = self.entry(tail) else { break };
            if now_us.saturating_sub(e.last_seen_us) < self.config.park_after_us {
                break;
            }
            self.park(tail);
        }
    }

    /// Moves an established flow to the parked list (least recently seen go first, so the
    /// list stays in last-seen order), compacting its detection flow when it can be.
    fn park(&mut self, idx: u32) {
        self.unlink(idx);
        let Some(e) = self.entry_mut(idx) else { return };
        let compacted = !e.flow.is_compact() && e.flow.compact();
        let charge = e.measure();
        let old = std::mem::replace(&mut e.charge, charge);
        e.class = Class::Parked;
        self.mem_used = self.mem_used - old + charge;
        self.stats.flows_compacted += u64::from(compacted);
        self.link_front(idx);
    }

    /// Closes and removes every flow (end of capture): every verdict becomes an alert.
    pub fn flush(&mut self, engine: &Engine) {
        for class in [Class::Closed, Class::New, Class::Established, Class::Parked] {
            loop {
                let tail = self.list(class).tail;
                let Some(e) = self.entry(tail) else { break };
                if !e.closed {
                    self.stats.flows_flushed += 1;
                }
                self.remove(engine, tail);
            }
        }
        self.defrag.expire(u64::MAX);
    }

    /// Finds or creates the packet's flow and feeds it. `found`: a look-up already made for
    /// this packet (used when its key is this packet's key).
    fn handle(
        &mut self,
        engine: &Engine,
        v: &View<'_>,
        ts: u64,
        out: &mut PacketOutcome,
        found: Option<(NormKey, u32)>,
    ) {
        let (transport, sport, dport, tcp) = match v.l4 {
            Layer4::Tcp(t) => (Transport::Tcp, t.src_port, t.dst_port, Some(t)),
            Layer4::Udp(u) => (Transport::Udp, u.src_port, u.dst_port, None),
            // IPv6 neighbour discovery (router and neighbour solicitations and
            // advertisements, redirects) resolves addresses, as ARP does for IPv4: it is no
            // contact with the metadata service, and the connection it precedes is its own
            // flow.
            Layer4::Icmp(i) if v.protocol == 58 && (133..=137).contains(&i.icmp_type) => {
                self.stats.untracked += 1;
                return;
            }
            Layer4::Icmp(_) => (Transport::Icmp, 0, 0, None),
            Layer4::Other(_) => (Transport::Other(v.protocol), 0, 0, None),
            Layer4::Fragment => {
                self.stats.untracked += 1;
                return;
            }
        };
        // Only TCP makes flows between ordinary hosts, so any other packet that does not touch
        // a metadata address has no flow to find: it is decided without a table look-up.
        if tcp.is_none() && !is_metadata_address(v.dst) && !is_metadata_address(v.src) {
            self.stats.untracked += 1;
            return;
        }
        let nkey = NormKey::new((v.src, sport), (v.dst, dport), transport, v.vlans);
        let mut idx = match found {
            Some((key, i)) if key == nkey => Some(i),
            _ => self.map.get(&nkey).copied(),
        };
        if let (Some(i), Some(seg)) = (idx, tcp) {
            if !v.header_only && self.is_new_connection(i, v, &seg) {
                self.stats.flows_reused += 1;
                self.remove(engine, i);
                idx = None;
            }
        }
        let idx = match idx {
            Some(i) => {
                out.action = FlowAction::Existing;
                i
            }
            None => {
                let Some(key) = self.new_key(v, transport, sport, dport, tcp.as_ref()) else {
                    self.stats.untracked += 1;
                    return;
                };
                out.action = FlowAction::Created;
                self.create(engine, key, nkey, ts)
            }
        };
        let cfg = self.config.reassembly;
        let stats = &mut self.stats;
        let Some(e) = self.slab.get_mut(idx as usize).and_then(Option::as_mut) else {
            return;
        };
        let dir = if (v.src, sport) == (e.key.src_ip, e.key.src_port) {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        out.direction = Some(dir);
        e.last_seen_us = ts;
        e.flow.set_time(ts);
        if dir == Direction::ToClient {
            e.flow.set_responder_ttl(v.ttl);
            if let Some(mac) = v.src_mac {
                e.flow.set_responder_mac(mac);
            }
        }
        if let (Some(seg), false, false) = (tcp, v.header_only, e.closed) {
            tcp_segment(e, engine, dir, &seg, &cfg, stats);
            if e.closed {
                stats.flows_closed += 1;
            }
        }
        let class = if e.closed {
            Class::Closed
        } else if matches!(e.class, Class::Established | Class::Parked)
            || e.tcp.iter().any(HalfStream::has_data)
            || tcp.is_some_and(|s| !s.payload.is_empty())
        {
            Class::Established
        } else {
            Class::New
        };
        let charge = e.measure();
        let old = std::mem::replace(&mut e.charge, charge);
        self.mem_used = self.mem_used - old + charge;
        self.take_alerts(idx);
        // Out of the old class's list, into the new one's, as the most recent.
        self.unlink(idx);
        if let Some(e) = self.entry_mut(idx) {
            e.class = class;
        }
        self.link_front(idx);
        self.stats.memory_peak = self.stats.memory_peak.max(self.mem_used as u64);
    }

    /// A SYN that starts a new connection on the ports of an existing flow: another initial
    /// sequence number than the flow's, after the flow closed or once data flowed.
    fn is_new_connection(&self, i: u32, v: &View<'_>, seg: &TcpSegment<'_>) -> bool {
        if !seg.flags.contains(TcpFlags::SYN) || seg.flags.contains(TcpFlags::ACK) {
            return false;
        }
        let Some(e) = self.entry(i) else { return false };
        let client = (v.src, seg.src_port) == (e.key.src_ip, e.key.src_port);
        let [to_server, to_client] = &e.tcp;
        let half = if client { to_server } else { to_client };
        let same_isn = half.isn() == Some(seg.seq);
        // A late copy of the closed connection's own SYN is not a new connection.
        if e.closed {
            return !same_isn;
        }
        half.has_data() && half.isn().is_some() && !same_isn
    }

    /// The oriented key of a flow to create from this packet, or `None` when the packet
    /// needs no flow (see the module docs).
    fn new_key(
        &self,
        v: &View<'_>,
        transport: Transport,
        sport: u16,
        dport: u16,
        tcp: Option<&TcpSegment<'_>>,
    ) -> Option<FlowKey> {
        let dst_md = Engine::metadata_endpoint(v.dst).is_some();
        let src_md = !dst_md && Engine::metadata_endpoint(v.src).is_some();
        let forward = FlowKey {
            src_ip: v.src,
            src_port: sport,
            dst_ip: v.dst,
            dst_port: dport,
            transport,
            vlans: v.vlans,
        };
        let reverse = FlowKey {
            src_ip: v.dst,
            src_port: dport,
            dst_ip: v.src,
            dst_port: sport,
            ..forward
        };
        let Some(seg) = tcp else {
            // UDP, ICMP, other: only metadata addresses are of interest.
            return match (dst_md, src_md) {
                (true, _) => Some(forward),
                (_, true) => Some(reverse),
                _ => None,
            };
        };
        let syn = seg.flags.contains(TcpFlags::SYN);
        let ack = seg.flags.contains(TcpFlags::ACK);
        if !(syn || dst_md || src_md || !seg.payload.is_empty()) {
            return None;
        }
        let server_is_dst = if syn {
            !ack
        } else if dst_md || src_md {
            dst_md
        } else if (dport < 1024) != (sport < 1024) {
            dport < 1024
        } else {
            dport <= sport
        };
        Some(if server_is_dst { forward } else { reverse })
    }

    fn create(&mut self, engine: &Engine, key: FlowKey, nkey: NormKey, ts: u64) -> u32 {
        while self.map.len() >= self.config.max_flows.max(1) {
            self.stats.max_flows_hits += 1;
            if !self.evict_one(engine) {
                break;
            }
        }
        let mut hit = false;
        // The memcap bounds the flow count too: the table was sized for `most_flows`.
        while self.map.len() >= self.most_flows {
            hit = true;
            if !self.evict_one(engine) {
                break;
            }
        }
        // A new slab slot, when no freed one is left, must fit under the cap.
        while self.free.is_empty() && self.slab.len() == self.slab.capacity() {
            let cap = self.slab.capacity();
            let room = self.config.memcap_bytes.saturating_sub(self.mem_used) / (SLOT_BYTES + 4);
            let step = cap
                .max(16)
                .min(self.most_flows.saturating_sub(cap))
                .min(room);
            if step > 0 {
                self.slab.reserve_exact(step);
                self.free
                    .reserve_exact(self.slab.capacity() - self.free.capacity());
                self.resize_tables();
                break;
            }
            hit = true;
            if !self.evict_one(engine) {
                break;
            }
        }
        if hit {
            self.stats.memcap_hits += 1;
        }
        let mut entry = Entry {
            key,
            flow: Flow::new(engine, key),
            tcp: [HalfStream::new(), HalfStream::new()],
            class: Class::New,
            closed: false,
            last_seen_us: ts,
            prev: NIL,
            next: NIL,
            charge: 0,
        };
        entry.charge = entry.measure();
        self.mem_used += entry.charge;
        let idx = match self.free.pop() {
            Some(i) => {
                if let Some(slot) = self.slab.get_mut(i as usize) {
                    *slot = Some(entry);
                }
                i
            }
            None => {
                self.slab.push(Some(entry));
                u32::try_from(self.slab.len() - 1).unwrap_or(NIL)
            }
        };
        self.map.insert(nkey, idx);
        self.link_front(idx);
        self.stats.flows_created += 1;
        idx
    }

    /// Re-measures the tables after the slab grew.
    fn resize_tables(&mut self) {
        let table = self.map_bytes
            + self.slab.capacity() * SLOT_BYTES
            + self.free.capacity() * size_of::<u32>();
        self.mem_used = self.mem_used - self.table_bytes + table;
        self.table_bytes = table;
        self.stats.memory_peak = self.stats.memory_peak.max(self.mem_used as u64);
    }

    /// Evicts flows while the memory charged is over the cap, least recently seen first,
    /// so the packet's own flow goes last (a flow alone over the cap is closed too: the cap
    /// holds).
    fn enforce_memcap(&mut self, engine: &Engine) {
        if self.mem_used <= self.config.memcap_bytes {
            return;
        }
        self.stats.memcap_hits += 1;
        while self.mem_used > self.config.memcap_bytes {
            if !self.evict_one(engine) {
                break;
            }
        }
    }

    /// Evicts the least recently seen flow (closed flows first).
    fn evict_one(&mut self, engine: &Engine) -> bool {
        let pick = |t: &Tracker, class: Class| {
            let i = t.list(class).tail;
            t.entry(i).map(|e| (i, e.last_seen_us))
        };
        let victim = pick(self, Class::Closed).or_else(|| {
            [Class::New, Class::Established, Class::Parked]
                .into_iter()
                .filter_map(|c| pick(self, c))
                .min_by_key(|&(_, seen)| seen)
        });
        match victim {
            Some((i, _)) => {
                self.stats.flows_evicted += 1;
                self.remove(engine, i);
                true
            }
            None => false,
        }
    }

    /// Closes (if open), unlinks and frees a flow; its alerts are kept.
    fn remove(&mut self, engine: &Engine, idx: u32) {
        self.unlink(idx);
        let Some(mut e) = self.slab.get_mut(idx as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(idx);
        if !e.closed {
            finish(&mut e, engine, &mut self.stats.reassembly);
        }
        self.map.remove(&NormKey::of(&e.key));
        self.mem_used -= e.charge;
        if engine.config().record_transactions {
            let key = e.key;
            self.transactions
                .extend(e.flow.take_transactions().into_iter().map(|t| (key, t)));
        }
        let fs = e.flow.stats();
        self.stats.http_transactions += fs.transactions;
        self.stats.http_anomalies += fs.anomalous_messages + fs.stream_anomalies;
        push_alerts(&mut self.alerts, &mut self.stats, &self.config, &mut e.flow);
    }

    fn take_alerts(&mut self, idx: u32) {
        if let Some(e) = self.slab.get_mut(idx as usize).and_then(Option::as_mut) {
            push_alerts(&mut self.alerts, &mut self.stats, &self.config, &mut e.flow);
        }
    }

    fn entry(&self, idx: u32) -> Option<&Entry> {
        self.slab.get(idx as usize).and_then(Option::as_ref)
    }

    fn entry_mut(&mut self, idx: u32) -> Option<&mut Entry> {
        self.slab.get_mut(idx as usize).and_then(Option::as_mut)
    }

    fn list(&self, class: Class) -> List {
        self.lists.get(class as usize).copied().unwrap_or(EMPTY)
    }

    fn list_mut(&mut self, class: Class) -> Option<&mut List> {
        self.lists.get_mut(class as usize)
    }

    /// Links an unlinked entry at the head (most recent end) of its class's list.
    fn link_front(&mut self, idx: u32) {
        let Some(class) = self.entry(idx).map(|e| e.class) else {
            return;
        };
        let old_head = self.list(class).head;
        if let Some(e) = self.entry_mut(idx) {
            e.prev = NIL;
            e.next = old_head;
        }
        if let Some(h) = self.entry_mut(old_head) {
            h.prev = idx;
        }
        if let Some(l) = self.list_mut(class) {
            l.head = idx;
            if l.tail == NIL {
                l.tail = idx;
            }
        }
    }

    /// Takes an entry out of its class's list.
    fn unlink(&mut self, idx: u32) {
        let Some((class, prev, next)) = self.entry(idx).map(|e| (e.class, e.prev, e.next)) else {
            return;
        };
        if let Some(p) = self.entry_mut(prev) {
            p.next = next;
        }
        if let Some(n) = self.entry_mut(next) {
            n.prev = prev;
        }
        if let Some(l) = self.list_mut(class) {
            if l.head == idx {
                l.head = next;
            }
            if l.tail == idx {
                l.tail = prev;
            }
        }
        if let Some(e) = self.entry_mut(idx) {
            e.prev = NIL;
            e.next = NIL;
        }
    }
}

/// Moves a flow's alerts to the tracker's queue, dropping the oldest past the bound.
fn push_alerts(
    alerts: &mut VecDeque<Alert>,
    stats: &mut TrackerStats,
    config: &TrackerConfig,
    flow: &mut Flow,
) {
    for a in flow.drain_alerts() {
        stats.alerts += 1;
        if alerts.len() >= config.max_pending_alerts.max(1) {
            alerts.pop_front();
            stats.alerts_dropped += 1;
        }
        alerts.push_back(a);
    }
}

/// Ends both directions (holes become gaps, queued bytes are delivered) and closes the
/// detection flow, which gives every pending verdict.
fn finish(e: &mut Entry, engine: &Engine, stats: &mut ReassemblyStats) {
    if e.key.transport == Transport::Tcp {
        let [to_server, to_client] = &mut e.tcp;
        for (dir, half) in [
            (Direction::ToServer, to_server),
            (Direction::ToClient, to_client),
        ] {
            let flow = &mut e.flow;
            half.finish(stats, &mut FlowSink { flow, engine, dir });
        }
    }
    e.flow.close(engine);
    e.closed = true;
}

/// One TCP segment of an open flow.
fn tcp_segment(
    e: &mut Entry,
    engine: &Engine,
    dir: Direction,
    seg: &TcpSegment<'_>,
    cfg: &ReassemblyConfig,
    stats: &mut TrackerStats,
) {
    let flags = seg.flags;
    let [to_server, to_client] = &mut e.tcp;
    let (half, peer) = match dir {
        Direction::ToServer => (to_server, to_client),
        Direction::ToClient => (to_client, to_server),
    };
    if flags.contains(TcpFlags::RST) {
        let plausible =
            !half.is_synced() || half.is_ended() || (half.distance(seg.seq)).abs() < RST_WINDOW;
        if plausible {
            finish(e, engine, &mut stats.reassembly);
        } else {
            stats.resets_ignored += 1;
        }
        return;
    }
    let mut seq = seg.seq;
    if flags.contains(TcpFlags::SYN) {
        half.syn(seg.seq);
        // A SYN occupies one sequence number; data on it (TCP Fast Open) follows.
        seq = seq.wrapping_add(1);
    }
    let flow = &mut e.flow;
    half.segment(
        seq,
        seg.payload,
        flags.contains(TcpFlags::FIN),
        cfg,
        &mut stats.reassembly,
        &mut FlowSink { flow, engine, dir },
    );
    if flags.contains(TcpFlags::ACK) {
        let dir = dir.reverse();
        peer.peer_ack(
            seg.ack,
            &mut stats.reassembly,
            &mut FlowSink { flow, engine, dir },
        );
    }
    if half.is_ended() && peer.is_ended() {
        // Both directions ended: the flow has given its verdicts (close is idempotent).
        e.flow.close(engine);
        e.closed = true;
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    /// A raw IPv4 TCP packet.
    fn tcp4(src: ([u8; 4], u16), dst: ([u8; 4], u16), seq: u32, flags: u8, data: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&((40 + data.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        p.extend_from_slice(&src.0);
        p.extend_from_slice(&dst.0);
        p.extend_from_slice(&src.1.to_be_bytes());
        p.extend_from_slice(&dst.1.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&0u32.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(data);
        p
    }

    const IMDS: [u8; 4] = [169, 254, 169, 254];
    const HOST: [u8; 4] = [10, 0, 0, 5];
    const WEB: [u8; 4] = [10, 0, 0, 80];

    impl Tracker {
        /// Every list link agrees with its neighbours, every flow is in exactly one list (its
        /// class's), and the memory charged adds up.
        fn check(&self) {
            let mut seen = 0;
            for class in [Class::New, Class::Established, Class::Closed, Class::Parked] {
                let mut prev = NIL;
                let mut i = self.list(class).head;
                while i != NIL {
                    let e = self.entry(i).expect("linked entry exists");
                    assert_eq!(e.class, class);
                    assert_eq!(e.prev, prev);
                    assert_eq!(self.map.get(&NormKey::of(&e.key)), Some(&i));
                    prev = i;
                    i = e.next;
                    seen += 1;
                }
                assert_eq!(self.list(class).tail, prev);
            }
            assert_eq!(seen, self.map.len());
            let charged: usize = self.slab.iter().flatten().map(|e| e.charge).sum();
            assert_eq!(charged + self.table_bytes, self.mem_used);
            assert!(self.map.len() <= self.most_flows);
        }
    }

    #[test]
    fn ipv4_key_bits_are_the_mapped_address() {
        for a in ["0.0.0.0", "10.1.2.3", "169.254.169.254", "255.255.255.255"] {
            let v4: Ipv4Addr = a.parse().unwrap();
            assert_eq!(
                addr_bits(IpAddr::V4(v4)),
                u128::from(v4.to_ipv6_mapped()),
                "{a}"
            );
        }
        // The family bit keeps IPv4 and its mapped IPv6 form apart.
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        let k = |ip| NormKey::new((ip, 1), (ip, 2), Transport::Tcp, Vlans::NONE);
        assert_ne!(k(v4), k(mapped));
    }

    /// A bare segment of a known flow goes the full way with the slot the fast path found:
    /// each side's ACK finds the flow, in its direction, and updates it.
    #[test]
    fn bare_segments_of_a_known_flow_find_it() {
        let engine = Engine::default();
        let mut t = Tracker::default();
        let syn = t.packet(
            &engine,
            &tcp4((HOST, 40000), (WEB, 80), 1, 0x02, b""),
            LinkType::Raw,
            1,
        );
        assert_eq!(syn.action, FlowAction::Created);
        for (frame, dir, ts) in [
            (
                tcp4((WEB, 80), (HOST, 40000), 9, 0x10, b""),
                Direction::ToClient,
                2,
            ),
            (
                tcp4((HOST, 40000), (WEB, 80), 2, 0x10, b""),
                Direction::ToServer,
                3,
            ),
        ] {
            let out = t.packet(&engine, &frame, LinkType::Raw, ts);
            assert_eq!(out.action, FlowAction::Existing);
            assert_eq!(out.direction, Some(dir));
            t.check();
        }
        let e = t.slab.iter().flatten().next().expect("the flow");
        assert_eq!(e.last_seen_us, 3, "the flow was updated by the last ACK");
        // An ACK of no flow stays untracked.
        let stray = t.packet(
            &engine,
            &tcp4((HOST, 40001), (WEB, 80), 2, 0x10, b""),
            LinkType::Raw,
            4,
        );
        assert_eq!(stray.action, FlowAction::Untracked);
        assert_eq!(t.flow_count(), 1);
    }

    #[test]
    fn orientation_without_syn() {
        let engine = Engine::default();
        let mut t = Tracker::default();
        // A response seen first: the metadata address is the server.
        t.packet(
            &engine,
            &tcp4((IMDS, 80), (HOST, 40000), 5, 0x18, b"HTTP/1.1 200 OK\r\n"),
            LinkType::Raw,
            1,
        );
        // A privileged port faces an ephemeral one.
        t.packet(
            &engine,
            &tcp4((WEB, 443), (HOST, 50000), 5, 0x18, b"x"),
            LinkType::Raw,
            1,
        );
        // Both unprivileged: the lower port.
        t.packet(
            &engine,
            &tcp4((HOST, 50001), (WEB, 8080), 5, 0x18, b"x"),
            LinkType::Raw,
            1,
        );
        // A SYN-ACK: its sender is the server.
        t.packet(
            &engine,
            &tcp4((WEB, 60000), (HOST, 60001), 5, 0x12, b""),
            LinkType::Raw,
            1,
        );
        t.check();
        let mut servers: Vec<(IpAddr, u16)> = t
            .slab
            .iter()
            .flatten()
            .map(|e| (e.key.dst_ip, e.key.dst_port))
            .collect();
        servers.sort();
        let ip = |a: [u8; 4]| IpAddr::V4(Ipv4Addr::from(a));
        assert_eq!(
            servers,
            [
                (ip(WEB), 443),
                (ip(WEB), 8080),
                (ip(WEB), 60000),
                (ip(IMDS), 80)
            ]
        );
        // A pure ACK between two ordinary hosts makes no flow.
        let out = t.packet(
            &engine,
            &tcp4((HOST, 1234), (WEB, 80), 5, 0x10, b""),
            LinkType::Raw,
            1,
        );
        assert_eq!(out.action, FlowAction::Untracked);
        t.flush(&engine);
        assert_eq!(t.drain_alerts().count(), 1, "the IMDS flow's address alert");
    }

    #[test]
    fn closed_flows_absorb_late_packets_then_expire() {
        let engine = Engine::default();
        let mut t = Tracker::default();
        let c = (HOST, 40000);
        let s = (WEB, 80);
        t.packet(&engine, &tcp4(c, s, 100, 0x02, b""), LinkType::Raw, 0);
        t.packet(&engine, &tcp4(c, s, 101, 0x04, b""), LinkType::Raw, 1);
        assert_eq!(t.stats().flows_closed, 1);
        // A late retransmission, even of the SYN, finds the closed flow instead of starting
        // a new one.
        let out = t.packet(&engine, &tcp4(c, s, 101, 0x18, b"late"), LinkType::Raw, 2);
        assert_eq!(out.action, FlowAction::Existing);
        let out = t.packet(&engine, &tcp4(c, s, 100, 0x02, b""), LinkType::Raw, 2);
        assert_eq!(out.action, FlowAction::Existing);
        assert_eq!(t.stats().flows_created, 1);
        t.check();
        t.expire(&engine, 2 + TCP_CLOSED_TIMEOUT_US);
        assert_eq!(t.flow_count(), 0);
        assert_eq!(t.stats().flows_timed_out, 0, "closed flows do not time out");
        t.check();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random packets of a few flows at random times, under small bounds: the table's
        /// invariants hold after every packet, and memory stays under the cap.
        #[test]
        fn table_invariants(ops in proptest::collection::vec(
            (0u16..6, any::<bool>(), 0u8..6, 0u32..64, 0u64..40_000_000), 1..120)
        ) {
            let engine = Engine::default();
            let mut t = Tracker::new(TrackerConfig {
                max_flows: 4,
                memcap_bytes: 3 * FIXED_CHARGE + 6000,
                ..TrackerConfig::default()
            });
            let mut now = 0;
            for (port, reply, kind, seq, dt) in ops {
                now += dt;
                let server = if port % 2 == 0 { (IMDS, 80) } else { (WEB, 80) };
                let client = (HOST, 40000 + port);
                let (src, dst) = if reply { (server, client) } else { (client, server) };
                let (flags, data): (u8, &[u8]) = match kind {
                    0 => (0x02, b""),
                    1 => (0x12, b""),
                    2 => (0x18, b"GET /latest/meta-data/ HTTP/1.1\r\n\r\n"),
                    3 => (0x11, b""),
                    4 => (0x04, b""),
                    _ => (0x18, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
                };
                t.packet(&engine, &tcp4(src, dst, seq * 7, flags, data), LinkType::Raw, now);
                t.check();
                prop_assert!(t.memory_used() <= t.config().memcap_bytes);
                prop_assert!(t.flow_count() <= 4);
            }
            t.flush(&engine);
            t.check();
            prop_assert_eq!(t.memory_used(), t.table_bytes, "only the tables are left");
            let st = t.stats();
            prop_assert!(st.flows_created >= st.flows_timed_out + st.flows_flushed);
            prop_assert_eq!(st.active_flows, 0);
        }

        #[test]
        fn arbitrary_frames_never_panic(frames in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..80), 0u32..300), 0..40)
        ) {
            let engine = Engine::default();
            let mut t = Tracker::default();
            for (i, (f, dlt)) in frames.iter().enumerate() {
                t.packet_dlt(&engine, f, *dlt, i as u64);
            }
            t.flush(&engine);
            t.check();
        }
    }
}
