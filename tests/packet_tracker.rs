//! The packet layer end to end: frames built by hand (Ethernet, 802.1Q / QinQ, SLL2, raw IP;
//! IPv4 and IPv6; TCP, UDP, ICMP) go through `packet::Tracker`, and its alerts are compared
//! with those of an `engine::Flow` fed the same conversation directly.
//!
//! [`Conv`] synthesises a TCP conversation from `.t`-like `(direction, bytes)` steps: the
//! handshake, data cut into segments of N bytes with running sequence and acknowledgment
//! numbers, and the FIN exchange; the packet list can then be reordered, duplicated or
//! thinned before it is played.

use imdsguard::conversation::{self, ChunkKind};
use imdsguard::engine::{Engine, Flow};
use imdsguard::event::Alert;
use imdsguard::flow::Direction;
use imdsguard::imds::sid;
use imdsguard::key::{FlowKey, Transport, Vlans};
use imdsguard::packet::tracker::fixed_flow_bytes;
use imdsguard::packet::{FlowAction, LinkType, Tracker, TrackerConfig};
use imdsguard::policy::{Policy, VlanId};
use std::net::IpAddr;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;
const T0: u64 = 1_764_470_400_000_000;
const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

/// How frames are framed.
#[derive(Debug, Clone)]
enum L2 {
    /// Ethernet II with these (TPID, VLAN id) tags, outer first.
    Ethernet(Vec<(u16, u16)>),
    /// Linux cooked v2.
    Sll2,
    /// Raw IP.
    Raw,
}

impl L2 {
    fn link(&self) -> LinkType {
        match self {
            L2::Ethernet(_) => LinkType::Ethernet,
            L2::Sll2 => LinkType::LinuxSll2,
            L2::Raw => LinkType::Raw,
        }
    }

    fn vlans(&self) -> Vlans {
        match self {
            L2::Ethernet(tags) => Vlans {
                outer: tags.first().map(|t| t.1),
                inner: tags.get(1).map(|t| t.1),
            },
            _ => Vlans::NONE,
        }
    }
}

/// An IP packet: addresses, TTL, protocol, and the transport bytes (header included).
struct IpPkt<'a> {
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    proto: u8,
    body: &'a [u8],
}

fn ip_bytes(p: &IpPkt<'_>) -> Vec<u8> {
    match (p.src, p.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut v = vec![0x45, 0];
            v.extend_from_slice(&((20 + p.body.len()) as u16).to_be_bytes());
            // Identification 1, don't fragment.
            v.extend_from_slice(&[0, 1, 0x40, 0]);
            v.extend_from_slice(&[p.ttl, p.proto, 0, 0]);
            v.extend_from_slice(&s.octets());
            v.extend_from_slice(&d.octets());
            v.extend_from_slice(p.body);
            v
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut v = vec![0x60, 0, 0, 0];
            v.extend_from_slice(&(p.body.len() as u16).to_be_bytes());
            v.extend_from_slice(&[p.proto, p.ttl]);
            v.extend_from_slice(&s.octets());
            v.extend_from_slice(&d.octets());
            v.extend_from_slice(p.body);
            v
        }
        _ => panic!("mixed address families"),
    }
}

fn frame(l2: &L2, src_mac: [u8; 6], dst_mac: [u8; 6], ip: &[u8]) -> Vec<u8> {
    let et: u16 = if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
    let mut f = Vec::new();
    match l2 {
        L2::Ethernet(tags) => {
            f.extend_from_slice(&dst_mac);
            f.extend_from_slice(&src_mac);
            for &(tpid, id) in tags {
                f.extend_from_slice(&tpid.to_be_bytes());
                f.extend_from_slice(&id.to_be_bytes());
            }
            f.extend_from_slice(&et.to_be_bytes());
        }
        L2::Sll2 => {
            f.extend_from_slice(&et.to_be_bytes());
            f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
            f.extend_from_slice(&src_mac);
            f.extend_from_slice(&[0, 0]);
        }
        L2::Raw => {}
    }
    f.extend_from_slice(ip);
    f
}

fn tcp_bytes(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[5 << 4, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

/// One endpoint of a synthetic conversation.
#[derive(Debug, Clone, Copy)]
struct Ep {
    ip: IpAddr,
    port: u16,
    mac: [u8; 6],
    ttl: u8,
}

/// A synthetic TCP conversation.
#[derive(Debug, Clone)]
struct Conv {
    client: Ep,
    server: Ep,
    l2: L2,
    /// Payload bytes per segment at most.
    mss: usize,
    isn_c: u32,
    isn_s: u32,
    handshake: bool,
    fin: bool,
}

impl Conv {
    fn new(server: &str, port: u16, l2: L2) -> Conv {
        let v6 = ip(server).is_ipv6();
        Conv {
            client: Ep {
                ip: ip(if v6 { "fd00::5" } else { "10.1.2.3" }),
                port: 40_000,
                mac: CLIENT_MAC,
                ttl: 64,
            },
            server: Ep {
                ip: ip(server),
                port,
                mac: SERVER_MAC,
                ttl: 1,
            },
            l2,
            mss: 1460,
            isn_c: 1_000,
            isn_s: 0x7000_0000,
            handshake: true,
            fin: true,
        }
    }

    fn key(&self) -> FlowKey {
        FlowKey {
            src_ip: self.client.ip,
            src_port: self.client.port,
            dst_ip: self.server.ip,
            dst_port: self.server.port,
            transport: Transport::Tcp,
            vlans: self.l2.vlans(),
        }
    }

    fn tcp(&self, dir: Direction, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (from, to) = match dir {
            C => (self.client, self.server),
            S => (self.server, self.client),
        };
        let body = tcp_bytes(from.port, to.port, seq, ack, flags, payload);
        let pkt = ip_bytes(&IpPkt {
            src: from.ip,
            dst: to.ip,
            ttl: from.ttl,
            proto: 6,
            body: &body,
        });
        frame(&self.l2, from.mac, to.mac, &pkt)
    }

    /// The frames of the conversation, in order.
    fn frames(&self, steps: &[(Direction, &[u8])]) -> Vec<(Direction, Vec<u8>)> {
        let mut out = Vec::new();
        // Next sequence number of each side.
        let mut seq = [self.isn_c.wrapping_add(1), self.isn_s.wrapping_add(1)];
        if self.handshake {
            out.push((C, self.tcp(C, self.isn_c, 0, SYN, b"")));
            out.push((S, self.tcp(S, self.isn_s, seq[0], SYN | ACK, b"")));
            out.push((C, self.tcp(C, seq[0], seq[1], ACK, b"")));
        }
        for &(dir, data) in steps {
            let (me, peer) = (dir as usize, 1 - dir as usize);
            for piece in data.chunks(self.mss.max(1)) {
                out.push((dir, self.tcp(dir, seq[me], seq[peer], PSH | ACK, piece)));
                seq[me] = seq[me].wrapping_add(piece.len() as u32);
            }
        }
        if self.fin {
            out.push((C, self.tcp(C, seq[0], seq[1], FIN | ACK, b"")));
            seq[0] = seq[0].wrapping_add(1);
            out.push((S, self.tcp(S, seq[1], seq[0], FIN | ACK, b"")));
            seq[1] = seq[1].wrapping_add(1);
            out.push((C, self.tcp(C, seq[0], seq[1], ACK, b"")));
        }
        out
    }
}

/// Reverses each run of up to `window` consecutive frames of one direction, and repeats every
/// `dup`-th frame (0: none): reordering and duplication within what TCP's queue must absorb.
fn shuffle(frames: Vec<(Direction, Vec<u8>)>, window: usize, dup: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut run: Vec<(Direction, Vec<u8>)> = Vec::new();
    let flush = |run: &mut Vec<(Direction, Vec<u8>)>, out: &mut Vec<Vec<u8>>| {
        out.extend(run.drain(..).rev().map(|f| f.1));
    };
    for (i, f) in frames.into_iter().enumerate() {
        if run.first().is_some_and(|r| r.0 != f.0) || run.len() >= window {
            flush(&mut run, &mut out);
        }
        if dup > 0 && i % dup == 0 {
            run.push(f.clone());
        }
        run.push(f);
    }
    flush(&mut run, &mut out);
    out
}

fn botocore() -> Vec<u8> {
    std::fs::read("tests/data/conversations/imdsv2-botocore-credentials.t").expect("file")
}

fn steps(file: &[u8]) -> Vec<(Direction, &[u8])> {
    conversation::parse(file)
        .expect("conversation")
        .into_iter()
        .filter(|c| c.kind == ChunkKind::Data)
        .map(|c| (c.dir, c.bytes))
        .collect()
}

/// The alerts of the steps fed to a flow directly, as the tracker should see them.
fn direct(engine: &Engine, conv: &Conv, steps: &[(Direction, &[u8])]) -> Vec<Alert> {
    let mut flow = Flow::new(engine, conv.key());
    flow.set_time(T0);
    flow.set_responder_ttl(conv.server.ttl);
    if !matches!(conv.l2, L2::Raw) {
        flow.set_responder_mac(conv.server.mac);
    }
    for &(dir, data) in steps {
        flow.feed(engine, dir, data);
    }
    flow.close(engine);
    flow.drain_alerts().collect()
}

/// Plays frames through a fresh tracker, flushes it, and returns the alerts.
fn play(engine: &Engine, tracker: &mut Tracker, link: LinkType, frames: &[Vec<u8>]) -> Vec<Alert> {
    for f in frames {
        let out = tracker.packet(engine, f, link, T0);
        assert!(out.error.is_none(), "{:?}", out.error);
    }
    tracker.flush(engine);
    tracker.drain_alerts().collect()
}

fn sids(alerts: &[Alert]) -> Vec<u32> {
    alerts.iter().map(|a| a.signature.id).collect()
}

#[test]
fn imdsv2_exchange_matches_direct_feeding() {
    let engine = Engine::default();
    let file = botocore();
    let steps = steps(&file);
    let layouts = [
        L2::Ethernet(vec![]),
        L2::Ethernet(vec![(0x8100, 10)]),
        L2::Ethernet(vec![(0x88a8, 100), (0x8100, 200)]),
        L2::Ethernet(vec![(0x9100, 300), (0x8100, 400)]),
    ];
    let mut runs = 0;
    for l2 in layouts {
        for mss in [1460, 8] {
            let conv = Conv {
                mss,
                ..Conv::new("169.254.169.254", 80, l2.clone())
            };
            let want = direct(&engine, &conv, &steps);
            assert!(
                sids(&want).contains(&sid::CREDENTIALS_SERVED.id),
                "{want:#?}"
            );
            for (window, dup) in [(1, 0), (4, 3), (7, 2)] {
                let frames = shuffle(conv.frames(&steps), window, dup);
                let mut t = Tracker::default();
                let got = play(&engine, &mut t, LinkType::Ethernet, &frames);
                assert_eq!(got, want, "{l2:?} mss {mss} window {window} dup {dup}");
                assert_eq!(got[0].key.vlans, l2.vlans());
                let st = t.stats();
                assert_eq!(st.flows_created, 1);
                assert_eq!(st.reassembly.gaps, 0);
                assert_eq!(st.flows_closed, 1, "ended by FIN");
                if window > 1 && mss == 8 {
                    assert!(st.reassembly.out_of_order > 0);
                }
                if dup > 0 {
                    assert!(st.reassembly.retransmissions > 0);
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 24);
}

#[test]
fn ipv6_sll2_raw_midstream_and_wraparound() {
    let engine = Engine::default();
    let file = botocore();
    let steps = steps(&file);
    let cases = [
        Conv::new("fd00:ec2::254", 80, L2::Sll2),
        Conv::new("169.254.169.254", 80, L2::Raw),
        Conv {
            handshake: false,
            fin: false,
            ..Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]))
        },
        Conv {
            isn_c: u32::MAX - 300,
            isn_s: u32::MAX - 10,
            mss: 100,
            ..Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]))
        },
    ];
    for conv in cases {
        let want = direct(&engine, &conv, &steps);
        let frames: Vec<Vec<u8>> = conv.frames(&steps).into_iter().map(|f| f.1).collect();
        let mut t = Tracker::default();
        let got = play(&engine, &mut t, conv.l2.link(), &frames);
        assert_eq!(got, want, "{conv:?}");
        assert_eq!(got[0].responder.ttl, Some(1));
        if matches!(conv.l2, L2::Raw) {
            assert_eq!(got[0].responder.mac, None);
        } else {
            assert_eq!(got[0].responder.mac, Some(SERVER_MAC));
        }
    }
}

#[test]
fn lone_syn_raises_one_address_alert_at_flush() {
    let engine = Engine::default();
    let conv = Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]));
    let mut t = Tracker::default();
    for _ in 0..3 {
        // The SYN and its retransmissions.
        let out = t.packet(
            &engine,
            &conv.tcp(C, 1000, 0, SYN, b""),
            LinkType::Ethernet,
            T0,
        );
        assert_eq!(out.alerts_pending, 0);
    }
    assert_eq!(t.flow_count(), 1);
    t.flush(&engine);
    let alerts: Vec<Alert> = t.drain_alerts().collect();
    assert_eq!(sids(&alerts), [sid::ADDRESS_CONTACT.id]);
    assert_eq!(alerts[0].key, conv.key());
    assert_eq!(alerts[0].responder.ttl, None, "nobody answered");
    assert_eq!((t.flow_count(), t.memory_used()), (0, t.table_bytes()));
    assert_eq!(t.stats().flows_flushed, 1);
}

#[test]
fn lone_syn_times_out_into_an_alert() {
    let engine = Engine::default();
    let conv = Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]));
    let mut t = Tracker::default();
    t.packet(
        &engine,
        &conv.tcp(C, 1000, 0, SYN, b""),
        LinkType::Ethernet,
        T0,
    );
    t.expire(&engine, T0 + 29_000_000);
    assert_eq!(t.drain_alerts().count(), 0, "not yet");
    t.expire(&engine, T0 + 31_000_000);
    assert_eq!(sids(&t.drain_alerts().collect::<Vec<_>>()), [4_210_001]);
    assert_eq!(t.stats().flows_timed_out, 1);
    // A later packet of the pair would start a new flow; here a benign one keeps the time.
    t.flush(&engine);
    assert_eq!(t.drain_alerts().count(), 0);
}

#[test]
fn refused_connection_raises_one_address_alert() {
    let engine = Engine::default();
    let conv = Conv::new("169.254.169.254", 80, L2::Ethernet(vec![(0x8100, 5)]));
    let mut t = Tracker::default();
    t.packet(
        &engine,
        &conv.tcp(C, 1000, 0, SYN, b""),
        LinkType::Ethernet,
        T0,
    );
    let out = t.packet(
        &engine,
        &conv.tcp(S, 0, 1001, RST | ACK, b""),
        LinkType::Ethernet,
        T0,
    );
    assert_eq!(out.direction, Some(S));
    assert_eq!(out.alerts_pending, 1, "a reset ends the flow at once");
    t.flush(&engine);
    let alerts: Vec<Alert> = t.drain_alerts().collect();
    assert_eq!(sids(&alerts), [sid::ADDRESS_CONTACT.id]);
    assert_eq!(alerts[0].responder.ttl, Some(1));
    assert_eq!(alerts[0].responder.mac, Some(SERVER_MAC));
    assert_eq!(alerts[0].key.vlans.outer, Some(5));
    assert_eq!(t.stats().flows_closed, 1);
}

#[test]
fn forged_reset_does_not_end_the_flow() {
    let engine = Engine::default();
    let file = botocore();
    let steps = steps(&file);
    let conv = Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]));
    let want = direct(&engine, &conv, &steps);
    let mut frames: Vec<Vec<u8>> = conv.frames(&steps).into_iter().map(|f| f.1).collect();
    // A reset far outside the client's window, after the handshake.
    frames.insert(3, conv.tcp(C, 0x4000_0000, 0, RST, b""));
    let mut t = Tracker::default();
    assert_eq!(play(&engine, &mut t, LinkType::Ethernet, &frames), want);
    assert_eq!(t.stats().resets_ignored, 1);
}

fn udp_frame(src: &str, dst: &str, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&5353u16.to_be_bytes());
    body.extend_from_slice(&dport.to_be_bytes());
    body.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(payload);
    let pkt = ip_bytes(&IpPkt {
        src: ip(src),
        dst: ip(dst),
        ttl: 64,
        proto: 17,
        body: &body,
    });
    frame(&L2::Ethernet(vec![]), CLIENT_MAC, SERVER_MAC, &pkt)
}

#[test]
fn udp_and_icmp_to_the_metadata_address_alert_once_per_flow() {
    let engine = Engine::default();
    let mut t = Tracker::default();
    for i in 0..5 {
        let f = udp_frame("10.1.2.3", "169.254.169.254", 53, b"query");
        let out = t.packet(&engine, &f, LinkType::Ethernet, T0 + i);
        assert_ne!(out.action, FlowAction::Untracked);
    }
    // ICMP echo requests to the IPv6 IMDS.
    let echo = ip_bytes(&IpPkt {
        src: ip("fd00::5"),
        dst: ip("fd00:ec2::254"),
        ttl: 64,
        proto: 58,
        body: &[128, 0, 0, 0, 0, 1, 0, 1],
    });
    for _ in 0..3 {
        t.packet(&engine, &echo, LinkType::Raw, T0);
    }
    // Neither to a metadata address: no flow at all.
    let other = udp_frame("10.1.2.3", "10.0.0.53", 53, b"query");
    let out = t.packet(&engine, &other, LinkType::Ethernet, T0);
    assert_eq!(out.action, FlowAction::Untracked);
    assert_eq!(t.flow_count(), 2);
    t.flush(&engine);
    let alerts: Vec<Alert> = t.drain_alerts().collect();
    assert_eq!(sids(&alerts), [4_210_001, 4_210_001]);
    let transports: Vec<Transport> = alerts.iter().map(|a| a.key.transport).collect();
    assert!(transports.contains(&Transport::Udp) && transports.contains(&Transport::Icmp));
    assert_eq!(t.stats().untracked, 1);
}

const BENIGN: &[(Direction, &[u8])] = &[
    (C, b"GET /index.html HTTP/1.1\r\nHost: intranet\r\n\r\n"),
    (
        S,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: nginx\r\n\r\nhello",
    ),
];

#[test]
fn benign_http_raises_nothing() {
    let engine = Engine::default();
    let conv = Conv::new("10.0.0.2", 80, L2::Ethernet(vec![]));
    let frames = shuffle(conv.frames(BENIGN), 3, 2);
    let mut t = Tracker::default();
    assert!(play(&engine, &mut t, LinkType::Ethernet, &frames).is_empty());
    assert_eq!(t.stats().flows_created, 1);
    assert!(t.stats().reassembly.bytes_delivered > 0);
}

#[test]
fn metadata_request_through_a_proxy_is_seen_on_any_address() {
    let engine = Engine::default();
    let steps: &[(Direction, &[u8])] = &[(
        C,
        b"GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
    )];
    let conv = Conv {
        mss: 10,
        handshake: false,
        ..Conv::new("10.0.0.1", 3128, L2::Ethernet(vec![]))
    };
    let want = direct(&engine, &conv, steps);
    assert!(!want.is_empty());
    let frames: Vec<Vec<u8>> = conv.frames(steps).into_iter().map(|f| f.1).collect();
    let got = play(
        &engine,
        &mut Tracker::default(),
        LinkType::Ethernet,
        &frames,
    );
    assert_eq!(got, want);
}

#[test]
fn lost_segment_becomes_a_gap_and_detection_goes_on() {
    let engine = Engine::default();
    let file = botocore();
    let steps = steps(&file);
    let conv = Conv {
        mss: 200,
        ..Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]))
    };
    let mut frames: Vec<Vec<u8>> = conv.frames(&steps).into_iter().map(|f| f.1).collect();
    // Drop the second data segment of the first request (inside its headers).
    frames.remove(4);
    let mut t = Tracker::default();
    let got = play(&engine, &mut t, LinkType::Ethernet, &frames);
    let st = t.stats();
    assert_eq!(st.reassembly.gaps, 1);
    assert!(
        st.reassembly.acked_gaps >= 1,
        "the server's ACK gave the hole up"
    );
    assert!(!got.is_empty());
    assert!(sids(&got).contains(&sid::CREDENTIALS_SERVED.id), "{got:#?}");
}

/// The IP payload of a raw-IP frame cut into fragments of `size` bytes (a multiple of 8),
/// IPv4 or IPv6 after the frame's own family.
fn fragments(frame: &[u8], size: usize) -> Vec<Vec<u8>> {
    let v6 = frame[0] >> 4 == 6;
    let header = if v6 { 40 } else { 20 };
    let payload = &frame[header..];
    payload
        .chunks(size)
        .enumerate()
        .map(|(i, piece)| {
            let more = (i + 1) * size < payload.len();
            let units = (i * size / 8) as u16;
            if v6 {
                let mut p = frame[..40].to_vec();
                p[4..6].copy_from_slice(&((8 + piece.len()) as u16).to_be_bytes());
                p[6] = 44;
                p.extend_from_slice(&[6, 0]);
                p.extend_from_slice(&(units << 3 | u16::from(more)).to_be_bytes());
                p.extend_from_slice(&0x4242_4242u32.to_be_bytes());
                p.extend_from_slice(piece);
                p
            } else {
                let mut p = frame[..20].to_vec();
                p[2..4].copy_from_slice(&((20 + piece.len()) as u16).to_be_bytes());
                p[4..6].copy_from_slice(&0x4242u16.to_be_bytes());
                let ff = if more { 0x2000 } else { 0 } | units;
                p[6..8].copy_from_slice(&ff.to_be_bytes());
                p.extend_from_slice(piece);
                p
            }
        })
        .collect()
}

#[test]
fn fragmented_request_is_reassembled() {
    let engine = Engine::default();
    let steps: &[(Direction, &[u8])] = &[(
        C,
        b"GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
    )];
    for server in ["169.254.169.254", "fd00:ec2::254"] {
        let conv = Conv {
            handshake: false,
            fin: false,
            ..Conv::new(server, 80, L2::Raw)
        };
        let mut want = direct(&engine, &conv, steps);
        for a in &mut want {
            // Nothing came back from the server.
            a.responder = Default::default();
        }
        let whole = &conv.frames(steps)[0].1;
        // 24-byte fragments (the TCP header split across two), sent last first.
        let mut frags = fragments(whole, 24);
        frags.reverse();
        let mut t = Tracker::default();
        for f in &frags {
            let out = t.packet(&engine, f, LinkType::Raw, T0);
            assert!(out.error.is_none(), "{server}: {:?}", out.error);
        }
        t.flush(&engine);
        let got: Vec<Alert> = t.drain_alerts().collect();
        assert_eq!(got, want, "{server}");
        let st = t.stats();
        assert_eq!(
            (st.defrag.fragments, st.defrag.reassembled),
            (frags.len() as u64, 1)
        );
    }
}

#[test]
fn a_first_fragment_alone_is_address_contact() {
    let engine = Engine::default();
    let conv = Conv::new("169.254.169.254", 80, L2::Raw);
    let syn = conv.tcp(C, 1000, 0, SYN, b"");
    // 24 bytes: the whole TCP header is in the first fragment; the rest never comes.
    let first = fragments(&[syn, vec![0; 16]].concat(), 24).swap_remove(0);
    let mut t = Tracker::default();
    let out = t.packet(&engine, &first, LinkType::Raw, T0);
    assert_eq!(out.action, FlowAction::FragmentHeld);
    t.flush(&engine);
    let alerts: Vec<Alert> = t.drain_alerts().collect();
    assert_eq!(sids(&alerts), [sid::ADDRESS_CONTACT.id]);
    assert_eq!(alerts[0].key, conv.key());
}

#[test]
fn vlan_policy_applies_to_tracked_flows() {
    let policy = Policy::builder()
        .suppress_vlan(VlanId::new(200).expect("id"))
        .build();
    let engine = Engine::new(policy);
    let conv = Conv::new(
        "169.254.169.254",
        80,
        L2::Ethernet(vec![(0x88a8, 100), (0x8100, 200)]),
    );
    let mut t = Tracker::default();
    t.packet(
        &engine,
        &conv.tcp(C, 1000, 0, SYN, b""),
        LinkType::Ethernet,
        T0,
    );
    t.flush(&engine);
    let alerts: Vec<Alert> = t.drain_alerts().collect();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].is_suppressed(), "inner tag 200 is suppressed");
}

#[test]
fn port_reuse_starts_a_new_flow() {
    let engine = Engine::default();
    let conv = Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]));
    let mut frames: Vec<Vec<u8>> = conv.frames(&[]).into_iter().map(|f| f.1).collect();
    let again = Conv {
        isn_c: 900_000,
        ..conv.clone()
    };
    frames.extend(again.frames(&[]).into_iter().map(|f| f.1));
    let mut t = Tracker::default();
    let alerts = play(&engine, &mut t, LinkType::Ethernet, &frames);
    assert_eq!(sids(&alerts), [4_210_001, 4_210_001]);
    assert_eq!(t.stats().flows_created, 2);
    assert_eq!(t.stats().flows_reused, 1);
}

#[test]
fn memcap_evicts_without_losing_alerts() {
    let engine = Engine::default();
    let cap = 4 * fixed_flow_bytes() + 2048;
    let mut t = Tracker::new(TrackerConfig {
        memcap_bytes: cap,
        ..TrackerConfig::default()
    });
    // A SYN to the IMDS first, then benign conversations from other ports that push it out.
    let imds = Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]));
    t.packet(
        &engine,
        &imds.tcp(C, 1000, 0, SYN, b""),
        LinkType::Ethernet,
        T0,
    );
    let mut ts = T0;
    for i in 0..40u16 {
        let mut conv = Conv::new("10.0.0.2", 80, L2::Ethernet(vec![]));
        conv.client.port = 41_000 + i;
        conv.fin = i % 2 == 0;
        for (_, f) in conv.frames(BENIGN) {
            ts += 1;
            t.packet(&engine, &f, LinkType::Ethernet, ts);
            assert!(t.memory_used() <= cap, "{} > {cap}", t.memory_used());
        }
    }
    let st = t.stats();
    assert!(st.flows_evicted > 0 && st.memcap_hits > 0, "{st:?}");
    let alerts: Vec<Alert> = t.drain_alerts().collect();
    assert_eq!(
        sids(&alerts),
        [4_210_001],
        "the evicted IMDS flow still alerted"
    );
    assert_eq!(alerts[0].key, imds.key());
    t.flush(&engine);
    assert_eq!(t.drain_alerts().count(), 0);
}

#[test]
fn max_flows_evicts_the_least_recent() {
    let engine = Engine::default();
    let mut t = Tracker::new(TrackerConfig {
        max_flows: 3,
        ..TrackerConfig::default()
    });
    for i in 0..5u16 {
        let mut conv = Conv::new("169.254.169.254", 80, L2::Ethernet(vec![]));
        conv.client.port = 30_000 + i;
        t.packet(
            &engine,
            &conv.tcp(C, 1, 0, SYN, b""),
            LinkType::Ethernet,
            T0 + u64::from(i),
        );
    }
    assert_eq!(t.flow_count(), 3);
    let ports: Vec<u16> = t.drain_alerts().map(|a| a.key.src_port).collect();
    assert_eq!(ports, [30_000, 30_001], "oldest first");
    assert_eq!(t.stats().max_flows_hits, 2);
}

#[test]
fn undecodable_frames_are_counted() {
    let engine = Engine::default();
    let mut t = Tracker::default();
    let out = t.packet(&engine, &[0u8; 10], LinkType::Ethernet, T0);
    assert!(out.error.is_some());
    t.packet(&engine, &[0x45, 0, 0, 20], LinkType::Raw, T0);
    t.packet_dlt(&engine, &[0; 40], 9999, T0);
    let st = t.stats();
    assert_eq!(st.decode_errors.total(), 3);
    assert_eq!(st.packets, 3);
    assert_eq!(t.flow_count(), 0);
}

#[test]
fn memory_per_idle_flow() {
    let engine = Engine::default();
    let mut t = Tracker::default();
    let n = 1000u16;
    for i in 0..n {
        let mut conv = Conv::new("10.0.0.2", 80, L2::Ethernet(vec![]));
        conv.client.port = 20_000 + i;
        conv.fin = false;
        for (_, f) in conv.frames(BENIGN) {
            t.packet(&engine, &f, LinkType::Ethernet, T0);
        }
    }
    assert_eq!(t.flow_count(), usize::from(n));
    // The slab's slots are in `table_bytes`; a flow's own heap is the rest.
    let per_flow = fixed_flow_bytes() + (t.memory_used() - t.table_bytes()) / usize::from(n);
    eprintln!(
        "idle flow after one HTTP exchange: {per_flow} bytes charged ({} fixed + {} heap)",
        fixed_flow_bytes(),
        per_flow - fixed_flow_bytes()
    );
    assert!(per_flow >= fixed_flow_bytes());
    assert!(per_flow < 16 * 1024, "{per_flow}");
    // A second later the quiet flows are parked: their detection state is compacted, and
    // an idle flow costs its slot alone.
    t.expire(&engine, T0 + 1_500_000);
    assert_eq!(t.flow_count(), usize::from(n));
    assert_eq!(t.stats().flows_compacted, u64::from(n));
    assert_eq!(
        t.memory_used(),
        t.table_bytes(),
        "no heap left in any idle flow"
    );
    eprintln!("idle flow after compaction: {} bytes", fixed_flow_bytes());
    // They go on where they were: a metadata request through each (as to a proxy) alerts
    // with transaction id 1, the second of its flow.
    let sent = |d: Direction| {
        BENIGN
            .iter()
            .filter(|s| s.0 == d)
            .map(|s| s.1.len() as u32)
            .sum::<u32>()
    };
    for i in 0..n {
        let mut conv = Conv::new("10.0.0.2", 80, L2::Ethernet(vec![]));
        conv.client.port = 20_000 + i;
        conv.fin = false;
        conv.handshake = false;
        conv.isn_c = conv.isn_c.wrapping_add(sent(C));
        conv.isn_s = conv.isn_s.wrapping_add(sent(S));
        let again: &[(Direction, &[u8])] = &[(
            C,
            b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
        )];
        for (_, f) in conv.frames(again) {
            t.packet(&engine, &f, LinkType::Ethernet, T0 + 2_000_000);
        }
    }
    assert_eq!(t.stats().flows_created, u64::from(n), "the same flows");
    t.flush(&engine);
    let alerts: Vec<Alert> = t.drain_alerts().collect();
    assert_eq!(alerts.len(), usize::from(n));
    assert!(alerts.iter().all(|a| a.tx == Some(1)), "{:?}", alerts[0].tx);
    t.flush(&engine);
    assert_eq!(t.memory_used(), t.table_bytes());
}
