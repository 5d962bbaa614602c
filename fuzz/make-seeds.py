#!/usr/bin/env python3
"""Writes the committed seed inputs of the fuzz targets into fuzz/seeds/<target>/.

Run from anywhere: `python3 fuzz/make-seeds.py`. Deterministic: the same tree gives the same
files, so re-running it only shows a diff when this script or the test data changed.
`python3 fuzz/make-seeds.py --check` builds them elsewhere and fails if the committed seeds
differ (the test suite runs it, so that the seeds cannot drift from tests/data).

Sources (see fuzz/README.md):
- http_stream, http_differential: small `.t` conversations from tests/data/corpus/** and
  tests/data/conversations/*.t, plus a few written here, behind the targets' control bytes;
- normalize: request targets, paths and hosts from the normalize module's documentation;
- policy: the policy of docs/policy.md and each line of its error table;
- tracker: frames built here (no capture files are kept in the repository): TCP conversations
  to the IMDS over Ethernet, QinQ, SLL, SLL2, raw IPv4/IPv6, IP fragments, UDP, ICMP;
- ffi_sequence: C-ABI call sequences in the harness's encoding (`Handles::step`).
"""

import os
import re
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
CORPUS = os.path.join(ROOT, "tests", "data", "corpus")
CONVERSATIONS = os.path.join(ROOT, "tests", "data", "conversations")


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safe(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


# --------------------------------------------------------------------------------------------
# Conversations
# --------------------------------------------------------------------------------------------

HANDWRITTEN = {
    "imdsv1-role-list.t": b">>>\r\nGET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\n"
    b"Host: 169.254.169.254\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
    b"\r\n<<<\r\nHTTP/1.1 200 OK\r\nServer: EC2ws\r\nContent-Length: 8\r\n\r\nweb-role",
    "evasive-host-path.t": b">>>\r\nGET /latest/%2e%2e/latest//meta-data/./iam/security-credentials/r HTTP/1.1\r\n"
    b"Host: 0xA9FEA9FE:80\r\n\r\n"
    b"GET http://[::ffff:169.254.169.254]/latest/meta-data/ HTTP/1.0\r\n\r\n"
    b"\r\n<<<\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.0 200 OK\r\n\r\nbye",
    "smuggled-te-cl.t": b">>>\r\nPOST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n"
    b"0\r\n\r\nPUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
    b"X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n"
    b"\r\n<<<\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nAQAE",
    "connect-tunnel.t": b">>>\r\nCONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n"
    b"\r\n<<<\r\nHTTP/1.1 200 Connection established\r\n\r\n"
    b"\r\n>>>\r\nGET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n"
    b"\r\n<<<\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nami",
    "chunked-credentials-gap.t": b">>>\r\nGET /latest/meta-data/iam/security-credentials/role HTTP/1.1\r\n"
    b"Host: instance-data\r\nX-aws-ec2-metadata-token: AQAE\r\n\r\n"
    b"\r\n<<<\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"1a;x=y\r\n{\"Code\":\"Success\",\"AccessK\r\n"
    b"\r\n<><\r\nxxxx\r\n<<<\r\n20\r\neyId\":\"AKIA\",\"SecretAccessKey\":\"s\r\n"
    b"10\r\n\",\"Token\":\"t\"}   \r\n0\r\nX-T: 1\r\n\r\n",
    "expect-continue-refused.t": b">>>\r\nPUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
    b"Expect: 100-continue\r\nContent-Length: 10\r\n\r\n"
    b"\r\n<<<\r\nHTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n"
    b"\r\n>>>\r\nGET /computeMetadata/v1/ HTTP/1.1\r\nHost: metadata.google.internal\r\n"
    b"Metadata-Flavor: Google\r\n\r\n",
    "folded-headers-09.t": b">>>\nGET /latest/meta-data\n\nGET / HTTP/1.1\nHost:\n 169.254.169.254\n"
    b"X-aws-ec2-metadata-token:\ta\n\tb\n\n\n<<<\nHTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\n\nbody until close",
}


def small_conversations(limit_bytes, per_corpus):
    """(name, bytes) of small .t files, deterministically spread over each corpus."""
    out = []
    for corpus in sorted(os.listdir(CORPUS)):
        base = os.path.join(CORPUS, corpus)
        if not os.path.isdir(base):
            continue
        files = []
        for dirpath, _, names in os.walk(base):
            for n in names:
                p = os.path.join(dirpath, n)
                if n.endswith(".t") and os.path.getsize(p) <= limit_bytes:
                    files.append(p)
        files.sort()
        if not files:
            continue
        step = max(1, len(files) // per_corpus)
        for p in files[::step][:per_corpus]:
            rel = os.path.relpath(p, CORPUS)
            with open(p, "rb") as f:
                out.append((safe(rel), f.read()))
    for n in sorted(os.listdir(CONVERSATIONS)):
        if n.endswith(".t"):
            with open(os.path.join(CONVERSATIONS, n), "rb") as f:
                out.append((safe("conversations/" + n), f.read()))
    for n, b in sorted(HANDWRITTEN.items()):
        out.append((safe("imdsguard/" + n), b))
    return out


def http_seeds():
    convs = small_conversations(limit_bytes=2048, per_corpus=8)
    # http_stream control byte: bit 0 small limits, 1 response closes first, 2 calls after
    # close, 3 responder TTL/MAC, 4 in-place detection feeding.
    controls = [0x00, 0x11, 0x08, 0x13, 0x04, 0x19, 0x02, 0x1D]
    for i, (name, data) in enumerate(convs):
        write("http_stream", name, bytes([controls[i % len(controls)]]) + data)
    # http_differential: u16 LE, bits 0-10 piece size - 1, bit 15 small limits.
    pieces = [1, 2, 3, 7, 13, 64, 5, 1460]
    for i, (name, data) in enumerate(convs):
        ctl = (pieces[i % len(pieces)] - 1) | (0x8000 if i % 3 == 1 else 0)
        write("http_differential", name, struct.pack("<H", ctl) + data)


# --------------------------------------------------------------------------------------------
# normalize, policy
# --------------------------------------------------------------------------------------------

NORMALIZE = [
    b"/latest/meta-data/",
    b"/latest/./meta-data/",
    b"/x/../latest/meta-data",
    b"//latest//meta-data",
    b"\\latest\\meta-data",
    b"/latest%2fmeta-data",
    b"/latest/meta%252Ddata",
    b"/latest/meta%25252Ddata",
    b"/%2e%2e/latest/meta-data",
    b"/latest/meta-data?x=1#f",
    b"/latest;x=1/meta-data",
    b"/x/..;/latest/meta-data",
    b"/latest/%c0%afmeta-data",
    b"/latest%e0%80%afmeta-data",
    b"/latest%u002fmeta-data",
    b"/latest%uff0fmeta-data",
    b"/latest/meta-data%00.html",
    b"/a%zz%4%u12%uD800",
    b"latest/../../meta-data",
    b"http://169.254.169.254/latest/meta-data/",
    b"HtTpS:///169.254.169.254/latest/api/token",
    b"http:\\\\a\\@169.254.169.254/x",
    b"http://evil.com@169.254.169.254:80/",
    b"http://[::ffff:a9fe:a9fe]:8080/latest?x#y",
    b"169.254.169.254:80",
    b"*",
    b"0xA9FEA9FE",
    b"0251.0376.0251.0376",
    b"169.254.43518",
    b"2852039166",
    b"[fd00:ec2::254%25eth0]:80",
    b"::ffff:169.254.169.254",
    b"64:ff9b::a9fe:a9fe",
    b"[2002:a9fe:a9fe::1]",
    b"%31%36%39.254.169.254",
    "\uff11\uff16\uff19\uff0e\uff12\uff15\uff14\u3002169.254".encode(),
    "\u2460\u2465\u2468.254.169.254".encode(),
    b" instance-data. ",
    b"169.254.169.254:99999",
    b"metadata.google.internal:80:80",
]

POLICY_DOC = b"""# /etc/imdsguard/policy.conf
# action   conditions                               # why

alert     src 10.20.5.0/24                          # lab subnet inside the VPC range: on-premises
suppress  src 10.20.0.0/16                          # cloud VPC reached over the VPN
suppress  src 192.0.2.0/24,2001:db8::/32            # second region, IPv4 and IPv6
suppress  vlan 300                                  # cloud hosts' VLAN, either tag
suppress  outer-vlan 100 inner-vlan 200             # one customer's QinQ pair
suppress  dst 169.254.170.2                         # ECS agent in the build lab
suppress  provider gcp,azure                        # we only care about AWS here
suppress  indicator resp_imds_server                # alerts whose only evidence is Server: EC2ws
"""

POLICY_LINES = [
    b"supress src 10.0.0.0/8",
    b"suppress sorce 10.0.0.0/8",
    b"suppress src",
    b"suppress",
    b"suppress src 10.0.0.0/33",
    b"suppress src 10.0.0/8",
    b"suppress src 10.20.1.0/16",
    b"suppress src 10.0.0.0/8, 10.1.0.0/16",
    b"suppress src 10.0.0.0/8,,10.1.0.0/16",
    b"suppress vlan 4096",
    b"suppress provider amazon",
    b"suppress indicator server",
    b"suppress src 10.0.0.0/8 src 192.0.2.0/24",
    b"\xef\xbb\xbfSUPPRESS Src ::ffff:10.20.0.0/112 Provider AWS,aws-ecs\r\nalert dst ::/0\r\n",
    b"suppress src 0.0.0.0/0,::/0 provider gcp\n\n# comment\nalert inner-vlan 0,4095 indicator dst_imds,host_imds,evasion\n",
    b"suppress indicator path_metadata,path_token,hdr_token,hdr_token_ttl,resp_token_granted,"
    b"resp_credentials,ecs_endpoint,eks_pod_identity,other_cloud,framing_anomaly,path_credentials",
    b"suppress provider aws-eks-pod-identity,alibaba,oci,digitalocean,openstack,hetzner\tdst 169.254.170.23",
]


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------

CLIENT_MAC = bytes([2, 0, 0, 0, 0, 1])
SERVER_MAC = bytes([2, 0, 0, 0, 0, 0xFE])
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
# Link indices of the tracker target (harness LINKS).
ETHERNET, RAW, SLL, SLL2, NULL, LOOP, IPV4, IPV6 = range(8)


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def ip6(s):
    import ipaddress

    return ipaddress.IPv6Address(s).packed


def ipv4_packet(src, dst, proto, body, ttl=64, ident=1, frag=0x4000):
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, frag, ttl, proto, 0, src, dst)
    return hdr + body


def ipv6_packet(src, dst, proto, body, hlim=64):
    return struct.pack(">IHBB16s16s", 0x60000000, len(body), proto, hlim, src, dst) + body


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def ethernet(ip, src_mac=CLIENT_MAC, dst_mac=SERVER_MAC, tags=()):
    et = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    f = dst_mac + src_mac
    for tpid, vid in tags:
        f += struct.pack(">HH", tpid, vid)
    return f + struct.pack(">H", et) + ip


def sll(ip, src_mac=CLIENT_MAC):
    et = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return struct.pack(">HHH", 0, 1, 6) + src_mac + b"\0\0" + struct.pack(">H", et) + ip


def sll2(ip, src_mac=CLIENT_MAC):
    et = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return struct.pack(">HHIHBB", et, 0, 2, 1, 0, 6) + src_mac + b"\0\0" + ip


def null_frame(ip):
    family = 30 if ip[0] >> 4 == 6 else 2
    return struct.pack("<I", family) + ip


def frame_record(link, frame, quarters=0):
    """The tracker target's frame format: u16 LE length, kind byte, frame."""
    return struct.pack("<HB", len(frame), link | (quarters << 3)) + frame


REQ_TOKEN = (
    b"PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
    b"X-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\n"
)
RESP_TOKEN = b"HTTP/1.1 200 OK\r\nServer: EC2ws\r\nContent-Length: 4\r\n\r\nAQAE"
REQ_CREDS = (
    b"GET /latest/meta-data/iam/security-credentials/web HTTP/1.1\r\nHost: 169.254.169.254\r\n"
    b"X-aws-ec2-metadata-token: AQAE\r\n\r\n"
)
CREDS = b'{"Code":"Success","AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"s","Token":"t"}'
RESP_CREDS = b"HTTP/1.1 200 OK\r\nServer: EC2ws\r\nContent-Length: %d\r\n\r\n%s" % (len(CREDS), CREDS)


def conversation(client, server, wrap_c, wrap_s, make_ip, sport=40000, dport=80, exchanges=(), seg=0, ttl=1):
    """IP packets of one TCP conversation: handshake, exchanges, FIN; wrapped into frames."""
    frames = []
    cseq, sseq = 1000, 5000

    def c(flags, payload=b""):
        nonlocal cseq
        frames.append(wrap_c(make_ip(client, server, 6, tcp(sport, dport, cseq, sseq, flags, payload), 64)))
        cseq += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def s(flags, payload=b""):
        nonlocal sseq
        frames.append(wrap_s(make_ip(server, client, 6, tcp(dport, sport, sseq, cseq, flags, payload), ttl)))
        sseq += len(payload) + (1 if flags & (SYN | FIN) else 0)

    c(SYN)
    s(SYN | ACK)
    c(ACK)
    for req, resp in exchanges:
        pieces = [req] if not seg else [req[i : i + seg] for i in range(0, len(req), seg)]
        for p in pieces:
            c(PSH | ACK, p)
        s(PSH | ACK, resp)
    c(FIN | ACK)
    s(FIN | ACK)
    c(ACK)
    return frames


def v4ip(src, dst, proto, body, ttl):
    return ipv4_packet(src, dst, proto, body, ttl=ttl)


def v6ip(src, dst, proto, body, hlim):
    return ipv6_packet(src, dst, proto, body, hlim=hlim)


def tracker_seeds():
    C4, S4 = ip4("10.0.0.5"), ip4("169.254.169.254")
    C6, S6 = ip6("2001:db8::5"), ip6("fd00:ec2::254")
    ex = [(REQ_TOKEN, RESP_TOKEN), (REQ_CREDS, RESP_CREDS)]
    seeds = {}

    def record(link, frames, quarters=0):
        return b"".join(frame_record(link, f, quarters) for f in frames)

    eth_c = lambda ip: ethernet(ip)
    eth_s = lambda ip: ethernet(ip, SERVER_MAC, CLIENT_MAC)
    seeds["ethernet-imdsv2-credentials"] = bytes([0]) + record(
        ETHERNET, conversation(C4, S4, eth_c, eth_s, v4ip, exchanges=ex)
    )
    qinq = [(0x88A8, 100), (0x8100, 200)]
    seeds["qinq-segmented-policy"] = bytes([8 | 3]) + record(
        ETHERNET,
        conversation(
            C4, S4, lambda ip: ethernet(ip, tags=qinq), lambda ip: ethernet(ip, SERVER_MAC, CLIENT_MAC, qinq),
            v4ip, exchanges=ex[:1], seg=7,
        ),
    )
    seeds["sll-ipv6"] = bytes([2]) + record(SLL, conversation(C6, S6, sll, lambda ip: sll(ip, SERVER_MAC), v6ip, exchanges=ex))
    seeds["sll2-ipv4"] = bytes([1]) + record(SLL2, conversation(C4, S4, sll2, lambda ip: sll2(ip, SERVER_MAC), v4ip, exchanges=ex[:1]))
    seeds["raw-ipv6"] = bytes([4]) + record(RAW, conversation(C6, S6, lambda ip: ip, lambda ip: ip, v6ip, exchanges=ex[1:]))
    seeds["null-loopback"] = bytes([0]) + record(NULL, conversation(C4, S4, null_frame, null_frame, v4ip, exchanges=ex[:1]))
    # Out of order and duplicated segments, then a RST.
    frames = conversation(C4, S4, eth_c, eth_s, v4ip, exchanges=ex[:1], seg=16)
    shuffled = frames[:3] + frames[5:7] + frames[3:5] + frames[4:6] + frames[7:]
    rst = ethernet(ipv4_packet(S4, C4, 6, tcp(80, 40000, 99999, 0, RST)))
    seeds["reordered-rst"] = bytes([5]) + record(ETHERNET, shuffled + [rst])
    # Many short flows to exercise max_flows and the memcap, with time passing.
    many = b""
    for i in range(12):
        c = ip4("10.0.1.%d" % (i + 1))
        syn = ethernet(ipv4_packet(c, S4 if i % 3 == 0 else ip4("10.0.0.2"), 6, tcp(41000 + i, 80, 1, 0, SYN)))
        data = ethernet(ipv4_packet(c, ip4("10.0.0.2"), 6, tcp(41000 + i, 80, 2, 1, PSH | ACK, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")))
        many += frame_record(ETHERNET, syn, i % 4) + frame_record(ETHERNET, data, 0)
    seeds["many-flows-evicted"] = bytes([0]) + many
    # IPv4 fragments of a UDP datagram to the IMDS, and ICMP.
    payload = udp(5353, 80, b"GET /latest/meta-data/ HTTP/1.0\r\n\r\n" * 2)
    f1 = ipv4_packet(C4, S4, 17, payload[:24], ident=77, frag=0x2000)
    f2 = ipv4_packet(C4, S4, 17, payload[24:], ident=77, frag=3)
    icmp = ipv4_packet(C4, S4, 1, bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b"ping")
    seeds["fragments-udp-icmp"] = bytes([6]) + record(IPV4, [f2, f1, icmp], 1)
    # IPv6 with a fragment header and hop-by-hop options.
    frag_body = tcp(40001, 80, 1, 0, SYN)
    ext = bytes([44, 0, 1, 4, 0, 0, 0, 0]) + bytes([6, 0, 0, 0, 0, 0, 0, 42]) + frag_body
    seeds["ipv6-extension-headers"] = bytes([7]) + record(IPV6, [ipv6_packet(C6, S6, 0, ext)])
    for name, data in seeds.items():
        write("tracker", name, data)
    return seeds


# --------------------------------------------------------------------------------------------
# ffi_sequence (the encoding of harness.rs `Handles::step`)
# --------------------------------------------------------------------------------------------


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


IMDS4, CLIENT4, IMDS6 = 0, 1, 2  # read_ip selectors


def key(src=CLIENT4, dst=IMDS4, sport=40000, dport=80, proto=6, vlans=()):
    return bytes([src, dst, len(vlans)]) + u16(sport) + u16(dport) + bytes([proto]) + u16(
        vlans[0] if vlans else 0
    ) + u16(vlans[1] if len(vlans) > 1 else 0)


def engine_new(slot, text, flags=0):
    return bytes([0, slot, flags]) + u16(len(text)) + text


def flow_new(slot, engine, k, flags=0):
    return bytes([2, slot, engine, flags]) + k


def feed(flow, direction, data, in_place=False, flags=0):
    return bytes([4, 1 if in_place else 0, flow, direction, flags]) + u16(len(data)) + data


def gap(flow, direction, n):
    return bytes([6, flow, direction, 1]) + u16(n)


def close_dir(flow, direction):
    return bytes([7, flow, direction])


def close(flow):
    return bytes([8, flow])


def set_time(flow, t):
    return bytes([9, flow, 0]) + u64(t)


def set_ttl(flow, ttl):
    return bytes([10, flow, ttl])


def set_mac(flow, mac, null=False):
    return bytes([11, flow, 1 if null else 0]) + mac


def next_event(flow, null=False):
    return bytes([12, flow, 1 if null else 0])


def event_eve(flow, cap, flags=0):
    return bytes([13, flow, flags]) + u16(cap)


def stats(flow):
    return bytes([14, flow, 0])


def flow_free(slot):
    return bytes([15, slot])


def decide(engine, k, indicators, provider, flags=0):
    return bytes([16, engine, flags]) + k + u32(indicators) + bytes([provider])


def metadata(sel, flags=0):
    return bytes([17, flags, sel])


def status_str(code):
    return bytes([18]) + u32(code)


def tracker_new(engine, max_flows=8, memcap=4096, idle=5000, new=2000, flags=0):
    return bytes([19, engine, flags, max_flows]) + u16(memcap) + u16(idle) + u16(new)


def tracker_packet(link_sel, frame, advance=1, flags=0):
    return bytes([20, flags, link_sel]) + u16(advance) + u16(len(frame)) + frame


def tracker_flush():
    return bytes([21, 2]) + u16(0)


def tracker_next_event():
    return bytes([22, 0])


def tracker_eve(cap):
    return bytes([22, 2, 0]) + u16(cap)


def tracker_stats():
    return bytes([22, 4])


def ffi_seeds():
    C, S = 0, 1
    seeds = {}
    seeds["imdsv2-token-credentials"] = b"".join(
        [
            engine_new(0, b""),
            flow_new(0, 0, key()),
            set_time(0, 1_764_470_400_000_000),
            set_ttl(0, 1),
            set_mac(0, SERVER_MAC),
            feed(0, C, REQ_TOKEN),
            feed(0, S, RESP_TOKEN),
            feed(0, C, REQ_CREDS),
            feed(0, S, RESP_CREDS),
            close(0),
            next_event(0),
            event_eve(0, 4095),
            next_event(0),
            event_eve(0, 16),
            next_event(0),
            next_event(0),
            stats(0),
            flow_free(0),
        ]
    )
    pieces = [REQ_CREDS[i : i + 9] for i in range(0, len(REQ_CREDS), 9)]
    seeds["in-place-pieces-vlan-policy"] = b"".join(
        [engine_new(1, POLICY_DOC), flow_new(2, 1, key(vlans=(100, 200)))]
        + [feed(2, C, p, in_place=True) for p in pieces]
        + [
            feed(2, S, RESP_CREDS[:20], in_place=True),
            gap(2, S, 10),
            feed(2, S, RESP_CREDS[30:], in_place=True),
            close_dir(2, C),
            close_dir(2, S),
            next_event(2),
            event_eve(2, 2000),
            decide(1, key(vlans=(300,)), 1 | 2 | 256, 0),
            decide(1, key(src=IMDS6, dst=IMDS6), 256, 3),
            metadata(IMDS4),
            metadata(IMDS6),
            metadata(CLIENT4),
            flow_free(2),
            bytes([1, 1]),
        ]
    )
    seeds["null-and-invalid-arguments"] = b"".join(
        [
            engine_new(0, b"suppress src 10.0.0.0/8\n", flags=4),  # out NULL
            engine_new(0, b"", flags=1),  # NULL policy, length 0
            engine_new(1, b"supress src 10.0.0.0/8\n"),  # policy error
            engine_new(1, b"\xff\xfe", flags=2),  # invalid UTF-8, err NULL
            engine_new(1, b"", flags=8),  # from a file that does not exist
            flow_new(0, 0, key(vlans=(0x8000 | 5000,))),  # invalid VLAN
            flow_new(1, 2, key()),  # NULL engine
            flow_new(1, 0, bytes([5, 7]) + bytes(16) + key()[1:]),  # family 7
            flow_new(1, 0, key(), flags=1),  # NULL key
            flow_new(1, 0, key()),
            feed(4, C, b"x"),  # NULL flow (selector 4 is NULL)
            feed(1, 0xF3, b"GET"),  # invalid direction
            bytes([4, 0, 1, C, 1]) + u16(5),  # NULL data, length 5
            feed(1, C, b"abc", in_place=True, flags=2),  # NULL result
            gap(1, 0xFF, 3),
            close_dir(4, C),
            set_mac(1, b"\0" * 6, null=True),
            next_event(1, null=True),
            event_eve(1, 10, flags=1),  # NULL buffer with a capacity
            event_eve(1, 0, flags=2),  # NULL needed
            event_eve(1, 100),  # no event yet
            decide(0, key(), 1, 42),  # unknown provider
            metadata(5, flags=0) + bytes([9]) + bytes(16),  # family 9
            status_str(0),
            status_str(106),
            status_str(0xFFFFFFFF),
            close(1),
            close(1),
            feed(1, C, b"GET / HTTP/1.1\r\n\r\n"),  # data after close
            bytes([1, 0]),  # engine freed while its flow lives
            feed(1, S, b"HTTP/1.1 200 OK\r\n\r\n"),
        ]
    )
    eth_frames = conversation(
        ip4("10.0.0.5"), ip4("169.254.169.254"), lambda ip: ethernet(ip),
        lambda ip: ethernet(ip, SERVER_MAC, CLIENT_MAC), v4ip, exchanges=[(REQ_TOKEN, RESP_TOKEN)],
    )
    seeds["tracker-ethernet"] = b"".join(
        [engine_new(0, b"alert src 10.0.0.5\n"), tracker_new(0)]
        + [tracker_packet(1, f) for f in eth_frames]
        + [tracker_packet(15, b"\0" * 20), tracker_flush(), tracker_stats(), tracker_next_event(), tracker_eve(3000), tracker_next_event(), bytes([23])]
    )
    for name, data in seeds.items():
        write("ffi_sequence", name, data)


def tree(root):
    """Relative path -> bytes of every file under root."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            full = os.path.join(dirpath, n)
            with open(full, "rb") as f:
                out[os.path.relpath(full, root)] = f.read()
    return out


def main():
    global SEEDS
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] and not check:
        sys.exit("usage: make-seeds.py [--check]")
    committed = SEEDS
    if check:
        # Build into a scratch directory and compare: the committed seeds are derived from
        # tests/data and this script, and must not drift from them.
        import tempfile
        scratch = tempfile.mkdtemp(prefix="imdsguard-seeds-")
        SEEDS = os.path.join(scratch, "seeds")
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)
    http_seeds()
    for i, s in enumerate(NORMALIZE):
        write("normalize", "%02d" % i, s)
    write("policy", "docs-policy.conf", POLICY_DOC)
    for i, s in enumerate(POLICY_LINES):
        write("policy", "line-%02d" % i, s)
    tracker_seeds()
    ffi_seeds()
    if check:
        made, have = tree(SEEDS), tree(committed)
        shutil.rmtree(scratch)
        stale = sorted(k for k in made.keys() | have.keys() if made.get(k) != have.get(k))
        if stale:
            sys.exit("fuzz/seeds is out of date (run python3 fuzz/make-seeds.py): "
                     + ", ".join(stale[:10]) + (" ..." if len(stale) > 10 else ""))
        print("fuzz/seeds is up to date (%d files)" % len(made), file=sys.stderr)
        return
    total = sum(len(v) for v in tree(SEEDS).values())
    print("seeds written to %s (%d bytes)" % (os.path.relpath(SEEDS, ROOT), total), file=sys.stderr)


if __name__ == "__main__":
    main()
