#!/usr/bin/env python3
"""Builds a large mixed capture for scan-throughput measurements (not a test fixture).

Replays the shipped real-client captures (tests/data/captures): for every IMDS exchange, 99
copies of the benign look-alike capture, each copy with its own client address and port, so
that the tracker sees distinct flows. Checksums are not recomputed (imdsguard does not verify
them, as offloading NICs leave placeholders). Usage:

    benches/make-mixed-capture.py OUT.pcap [ROUNDS]      (default 100 rounds: ~85 MB)
"""
import struct
import sys
from pathlib import Path

CAPTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "captures"
IMDS = ["botocore-imdsv2-ipv4.pcap", "awscli-imdsv2-ipv4.pcap", "curl-imdsv1-ipv4.pcap",
        "curl-imdsv2-lowmss.pcap", "botocore-imdsv2-ipv6.pcap", "curl-imdsv2-ipv6.pcap"]
BENIGN = "benign-lookalikes.pcap"


def records(name):
    data = (CAPTURES / name).read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic == 0xA1B2C3D4, f"{name}: expected a little-endian microsecond pcap"
    linktype = struct.unpack("<I", data[20:24])[0]
    assert linktype == 1, f"{name}: expected Ethernet"
    off, out = 24, []
    while off + 16 <= len(data):
        sec, usec, caplen, origlen = struct.unpack("<IIII", data[off:off + 16])
        out.append((sec * 1_000_000 + usec, bytearray(data[off + 16:off + 16 + caplen])))
        off += 16 + caplen
    return out


def rewrite(frame, client_v4, client_v6, port_delta):
    """Moves the client (the side that is not a server address) to new addresses and ports."""
    ethertype = struct.unpack(">H", frame[12:14])[0]
    l3 = 14
    if ethertype == 0x8100:
        ethertype = struct.unpack(">H", frame[16:18])[0]
        l3 = 18
    if ethertype == 0x0800:
        ihl = (frame[l3] & 0x0F) * 4
        src, dst = frame[l3 + 12:l3 + 16], frame[l3 + 16:l3 + 20]
        client_is_src = src[:2] in (b"\xc6\x12", b"\xc6\x13") and src[3] == 10
        if client_is_src:
            frame[l3 + 12:l3 + 16] = client_v4
        elif dst[:2] in (b"\xc6\x12", b"\xc6\x13") and dst[3] == 10:
            frame[l3 + 16:l3 + 20] = client_v4
        else:
            return frame
        l4 = l3 + ihl
        proto = frame[l3 + 9]
    elif ethertype == 0x86DD:
        src, dst = frame[l3 + 8:l3 + 24], frame[l3 + 24:l3 + 40]
        if src[:4] == b"\x20\x01\x0d\xb8" and src[-1] == 0x10:
            frame[l3 + 8:l3 + 24] = client_v6
            client_is_src = True
        elif dst[:4] == b"\x20\x01\x0d\xb8" and dst[-1] == 0x10:
            frame[l3 + 24:l3 + 40] = client_v6
            client_is_src = False
        else:
            return frame
        l4 = l3 + 40
        proto = frame[l3 + 6]
    else:
        return frame
    if proto in (6, 17):
        at = l4 if client_is_src else l4 + 2
        port = struct.unpack(">H", frame[at:at + 2])[0]
        struct.pack_into(">H", frame, at, 1024 + (port + port_delta) % 64000)
    return frame


def main():
    out_path = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    benign = records(BENIGN)
    imds = [records(n) for n in IMDS]
    ts, flow = 1_800_000_000_000_000, 0
    with out_path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for r in range(rounds):
            batch = [benign] * 99 + [imds[r % len(imds)]]
            for recs in batch:
                flow += 1
                v4 = bytes([10, (flow >> 16) & 0xFF, (flow >> 8) & 0xFF, flow & 0xFF])
                v6 = bytes.fromhex("20010db8ffff0000") + flow.to_bytes(8, "big")
                base = recs[0][0]
                for t, frame in recs:
                    f = rewrite(bytearray(frame), v4, v6, flow)
                    stamp = ts + (t - base)
                    out.write(struct.pack("<IIII", stamp // 1_000_000, stamp % 1_000_000,
                                          len(f), len(f)))
                    out.write(f)
                ts += 2_000
    print(f"{out_path}: {rounds} rounds, {flow} flows, {out_path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
