/*
 * The per-packet entry point: Ethernet/IPv4/TCP frames built in C (correct lengths, zero
 * checksums: the tracker does not verify them) fed through imdsguard_tracker_packet.
 * A full IMDSv2 token exchange gives the token alert; a lone SYN to 169.254.169.254 gives
 * the address-contact alert (4210001) on flush or on timeout; a truncated frame is counted,
 * not an error; VLAN tags reach the policy; raw IPv6 to fd00:ec2::254 is seen too.
 */
#include "common.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define LINKTYPE_ETHERNET 1
#define LINKTYPE_IPV6 229

static const uint8_t CLIENT_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t SERVER_MAC[6] = {0x02, 0x00, 0x5e, 0xa9, 0xfe, 0xfe};
static const uint8_t CLIENT_IP[4] = {192, 0, 2, 10};
static const uint8_t IMDS_IP[4] = {169, 254, 169, 254};

typedef struct frame {
    uint8_t b[2048];
    size_t len;
} frame;

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Ethernet (optionally one 802.1Q tag) + IPv4 (20 bytes, DF) + TCP (20 bytes) + payload. */
static void eth_ipv4_tcp(frame *f, int vlan, const uint8_t smac[6], const uint8_t dmac[6],
                         const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
                         uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint8_t ttl,
                         const uint8_t *payload, size_t plen) {
    uint8_t *p = f->b;
    memset(f->b, 0, sizeof f->b);
    memcpy(p, dmac, 6), memcpy(p + 6, smac, 6);
    p += 12;
    if (vlan >= 0) {
        put16(p, 0x8100), put16(p + 2, (uint16_t)vlan);
        p += 4;
    }
    put16(p, 0x0800);
    p += 2;
    /* IPv4 */
    p[0] = 0x45;
    put16(p + 2, (uint16_t)(20 + 20 + plen));
    put16(p + 4, 0x1234);
    put16(p + 6, 0x4000);
    p[8] = ttl;
    p[9] = 6;
    memcpy(p + 12, src, 4), memcpy(p + 16, dst, 4);
    p += 20;
    /* TCP */
    put16(p, sport), put16(p + 2, dport);
    put32(p + 4, seq), put32(p + 8, ack);
    p[12] = 5 << 4;
    p[13] = flags;
    put16(p + 14, 0xffff);
    p += 20;
    if (plen > 0) {
        memcpy(p, payload, plen);
    }
    f->len = (size_t)(p - f->b) + plen;
}

/* One frame in, checked; events are taken into `rs` after every packet. */
static void send(imdsguard_tracker *t, const frame *f, uint64_t ts, ig_recs *rs) {
    imdsguard_packet_result r;
    uint8_t *copy = (uint8_t *)malloc(f->len); /* exact size: ASan sees any over-read */
    memset(&r, 0x5a, sizeof r);
    if (copy == NULL) {
        CHECK(0);
        return;
    }
    memcpy(copy, f->b, f->len);
    CHECK_STATUS(imdsguard_tracker_packet(t, copy, f->len, LINKTYPE_ETHERNET, ts, &r),
                 IMDSGUARD_OK);
    free(copy);
    CHECK_INT(r.status, IMDSGUARD_OK);
    CHECK(r.decoded);
    CHECK(r.tracked);
    CHECK_INT(ig_take_tracker_events(t, rs), r.pending_events);
}

/* A full connection: handshake, the token PUT (in `pieces` segments, optionally the first
 * two swapped), the response from a TTL-1 responder, FIN both ways when `fin`. */
static void token_exchange(imdsguard_tracker *t, const ig_conv *boto, int vlan, size_t pieces,
                           int swap, int fin, uint64_t ts0, ig_recs *rs) {
    const ig_chunk *req = &boto->chunks[0], *resp = &boto->chunks[1];
    uint32_t cseq = 1000, sseq = 5000;
    uint64_t ts = ts0;
    frame f, g;
    size_t i, off, step = (req->len + pieces - 1) / pieces;

    eth_ipv4_tcp(&f, vlan, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 49152, 80, cseq, 0,
                 TCP_SYN, 64, NULL, 0);
    send(t, &f, ts++, rs);
    eth_ipv4_tcp(&f, vlan, SERVER_MAC, CLIENT_MAC, IMDS_IP, CLIENT_IP, 80, 49152, sseq,
                 cseq + 1, TCP_SYN | TCP_ACK, 1, NULL, 0);
    send(t, &f, ts++, rs);
    cseq++, sseq++;
    eth_ipv4_tcp(&f, vlan, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 49152, 80, cseq, sseq,
                 TCP_ACK, 64, NULL, 0);
    send(t, &f, ts++, rs);

    for (i = 0, off = 0; off < req->len; i++, off += step) {
        size_t n = req->len - off < step ? req->len - off : step;
        eth_ipv4_tcp(&f, vlan, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 49152, 80,
                     cseq + (uint32_t)off, sseq, TCP_PSH | TCP_ACK, 64, req->bytes + off, n);
        if (swap && i == 0) {
            g = f; /* hold the first segment back */
            continue;
        }
        send(t, &f, ts++, rs);
        if (swap && i == 1) {
            send(t, &g, ts++, rs);
        }
    }
    cseq += (uint32_t)req->len;
    eth_ipv4_tcp(&f, vlan, SERVER_MAC, CLIENT_MAC, IMDS_IP, CLIENT_IP, 80, 49152, sseq, cseq,
                 TCP_ACK, 1, NULL, 0);
    send(t, &f, ts++, rs);
    eth_ipv4_tcp(&f, vlan, SERVER_MAC, CLIENT_MAC, IMDS_IP, CLIENT_IP, 80, 49152, sseq, cseq,
                 TCP_PSH | TCP_ACK, 1, resp->bytes, resp->len);
    send(t, &f, ts++, rs);
    sseq += (uint32_t)resp->len;
    eth_ipv4_tcp(&f, vlan, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 49152, 80, cseq, sseq,
                 TCP_ACK, 64, NULL, 0);
    send(t, &f, ts++, rs);
    if (fin) {
        eth_ipv4_tcp(&f, vlan, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 49152, 80, cseq, sseq,
                     TCP_FIN | TCP_ACK, 64, NULL, 0);
        send(t, &f, ts++, rs);
        eth_ipv4_tcp(&f, vlan, SERVER_MAC, CLIENT_MAC, IMDS_IP, CLIENT_IP, 80, 49152, sseq,
                     cseq + 1, TCP_FIN | TCP_ACK, 1, NULL, 0);
        send(t, &f, ts++, rs);
        eth_ipv4_tcp(&f, vlan, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 49152, 80, cseq + 1,
                     sseq + 1, TCP_ACK, 64, NULL, 0);
        send(t, &f, ts++, rs);
    }
}

static void check_token_alert(const ig_recs *rs, uint64_t ts0) {
    CHECK_INT(rs->n, 1);
    CHECK_INT(rs->errors, 0);
    if (rs->n < 1) {
        return;
    }
    CHECK_INT(rs->r[0].signature_id, 4210004);
    CHECK_INT(rs->r[0].stage, IMDSGUARD_STAGE_TOKEN);
    CHECK(rs->r[0].has_http);
    CHECK_STR(rs->r[0].method, "PUT");
    CHECK_STR(rs->r[0].url, "/latest/api/token");
    CHECK_INT(rs->r[0].http_status, 200);
    CHECK(rs->r[0].indicators & IMDSGUARD_IND_DST_IMDS);
    CHECK(rs->r[0].indicators & IMDSGUARD_IND_RESP_TOKEN_GRANTED);
    CHECK(rs->r[0].has_responder_ttl);
    CHECK_INT(rs->r[0].responder_ttl, 1);
    CHECK(rs->r[0].timestamp_us >= ts0 && rs->r[0].timestamp_us < ts0 + 100);
    CHECK_CONTAINS(rs->r[0].eve, "\"src_ip\":\"192.0.2.10\"");
    CHECK_CONTAINS(rs->r[0].eve, "\"dest_ip\":\"169.254.169.254\"");
    CHECK_CONTAINS(rs->r[0].eve, "\"dest_port\":80");
    CHECK_CONTAINS(rs->r[0].eve, "\"signature_id\":4210004");
}

static void test_token_exchange(const imdsguard_engine *e, const ig_conv *boto) {
    static const struct {
        size_t pieces;
        int swap, fin;
        const char *what;
    } cases[] = {{1, 0, 0, "one segment, no FIN, flush"},
                 {1, 0, 1, "one segment, FIN both ways"},
                 {5, 0, 0, "five segments"},
                 {4, 1, 1, "four segments, first two out of order"}};
    const uint64_t ts0 = 1796006400000000ull;
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imdsguard_tracker *t = NULL;
        imdsguard_tracker_stats st;
        ig_recs rs;
        memset(&rs, 0, sizeof rs);
        SECTION(cases[i].what);
        CHECK_STATUS(imdsguard_tracker_new(e, NULL, &t), IMDSGUARD_OK);
        if (t == NULL) {
            return;
        }
        token_exchange(t, boto, -1, cases[i].pieces, cases[i].swap, cases[i].fin, ts0, &rs);
        CHECK_STATUS(imdsguard_tracker_flush(t), IMDSGUARD_OK);
        ig_take_tracker_events(t, &rs);
        check_token_alert(&rs, ts0);
        CHECK_STATUS(imdsguard_tracker_get_stats(t, &st), IMDSGUARD_OK);
        CHECK_INT(st.flows_created, 1);
        CHECK_INT(st.alerts, 1);
        CHECK_INT(st.decode_errors, 0);
        CHECK_INT(st.packets, 6 + cases[i].pieces + (cases[i].fin ? 3 : 0));
        CHECK_INT(st.active_flows, 0);
        printf("   %lu packets, %lu flows, %lu alerts, memory %lu bytes after flush\n",
               (unsigned long)st.packets, (unsigned long)st.flows_created,
               (unsigned long)st.alerts, (unsigned long)st.memory_bytes);
        ig_recs_free(&rs);
        imdsguard_tracker_free(t);
    }
}

static void test_lone_syn(const imdsguard_engine *e) {
    imdsguard_tracker *t = NULL;
    imdsguard_tracker_stats st;
    frame f;
    ig_recs rs;
    memset(&rs, 0, sizeof rs);
    SECTION("lone SYN to 169.254.169.254: 4210001 after flush");
    CHECK_STATUS(imdsguard_tracker_new(e, NULL, &t), IMDSGUARD_OK);
    if (t == NULL) {
        return;
    }
    eth_ipv4_tcp(&f, -1, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 50000, 80, 77, 0, TCP_SYN,
                 64, NULL, 0);
    send(t, &f, 1000, &rs);
    CHECK_INT(rs.n, 0);
    CHECK_STATUS(imdsguard_tracker_flush(t), IMDSGUARD_OK);
    ig_take_tracker_events(t, &rs);
    CHECK_INT(rs.n, 1);
    if (rs.n == 1) {
        CHECK_INT(rs.r[0].signature_id, 4210001);
        CHECK_INT(rs.r[0].stage, IMDSGUARD_STAGE_PROBE);
        CHECK_STR(rs.r[0].stage_name, "probe");
        CHECK(!rs.r[0].has_tx);
        CHECK(!rs.r[0].has_http);
        CHECK_INT(rs.r[0].http_status, 0);
        CHECK_STR(rs.r[0].url, "");
        CHECK(rs.r[0].indicators & IMDSGUARD_IND_DST_IMDS);
        CHECK_CONTAINS(rs.r[0].eve, "\"signature_id\":4210001");
    }
    CHECK_STATUS(imdsguard_tracker_get_stats(t, &st), IMDSGUARD_OK);
    CHECK_INT(st.packets, 1);
    CHECK_INT(st.flows_created, 1);
    CHECK_INT(st.alerts, 1);
    /* A second flush has nothing left to give. */
    CHECK_STATUS(imdsguard_tracker_flush(t), IMDSGUARD_OK);
    CHECK_INT(ig_take_tracker_events(t, &rs), 0);
    ig_recs_free(&rs);
    imdsguard_tracker_free(t);
}

static void test_timeout(const imdsguard_engine *e) {
    imdsguard_tracker *t = NULL;
    imdsguard_tracker_config cfg;
    imdsguard_tracker_stats st;
    frame f;
    ig_recs rs;
    memset(&rs, 0, sizeof rs);
    memset(&cfg, 0, sizeof cfg);
    cfg.new_timeout_us = 1000000; /* 1 s for a flow without payload */
    SECTION("lone SYN: 4210001 on timeout (imdsguard_tracker_expire)");
    CHECK_STATUS(imdsguard_tracker_new(e, &cfg, &t), IMDSGUARD_OK);
    if (t == NULL) {
        return;
    }
    eth_ipv4_tcp(&f, -1, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 50001, 80, 1, 0, TCP_SYN, 64,
                 NULL, 0);
    send(t, &f, 10000000, &rs);
    CHECK_STATUS(imdsguard_tracker_expire(t, 10500000), IMDSGUARD_OK);
    CHECK_INT(ig_take_tracker_events(t, &rs), 0);
    CHECK_STATUS(imdsguard_tracker_get_stats(t, &st), IMDSGUARD_OK);
    CHECK_INT(st.active_flows, 1);
    CHECK(st.memory_bytes > 0);
    CHECK_STATUS(imdsguard_tracker_expire(t, 12000000), IMDSGUARD_OK);
    CHECK_INT(ig_take_tracker_events(t, &rs), 1);
    CHECK(rs.n == 1 && rs.r[0].signature_id == 4210001);
    CHECK_STATUS(imdsguard_tracker_get_stats(t, &st), IMDSGUARD_OK);
    CHECK_INT(st.flows_timed_out, 1);
    CHECK_INT(st.active_flows, 0);
    ig_recs_free(&rs);
    imdsguard_tracker_free(t);
}

static void test_truncated(const imdsguard_engine *e) {
    imdsguard_tracker *t = NULL;
    imdsguard_packet_result r;
    imdsguard_tracker_stats st;
    frame f;
    uint8_t *copy;
    size_t cut;
    int bad = 0;
    SECTION("truncated frames: decoded=false, status OK, counted");
    CHECK_STATUS(imdsguard_tracker_new(e, NULL, &t), IMDSGUARD_OK);
    if (t == NULL) {
        return;
    }
    eth_ipv4_tcp(&f, -1, CLIENT_MAC, SERVER_MAC, CLIENT_IP, IMDS_IP, 50002, 80, 1, 0, TCP_SYN, 64,
                 NULL, 0);
    /* Every prefix that stops inside the Ethernet, IPv4 or TCP header. */
    for (cut = 0; cut < f.len; cut++) {
        copy = (uint8_t *)malloc(cut ? cut : 1);
        memcpy(copy, f.b, cut);
        memset(&r, 0x5a, sizeof r);
        bad += imdsguard_tracker_packet(t, copy, cut, LINKTYPE_ETHERNET, 5, &r) != IMDSGUARD_OK;
        bad += r.status != IMDSGUARD_OK || r.decoded || r.pending_events != 0;
        free(copy);
    }
    CHECK_INT(bad, 0);
    /* An IPv4 total length larger than the frame. */
    f.b[14 + 2] = 0x05, f.b[14 + 3] = 0xdc; /* 1500 */
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_tracker_packet(t, f.b, f.len, LINKTYPE_ETHERNET, 6, &r), IMDSGUARD_OK);
    CHECK(!r.decoded);
    CHECK_STATUS(imdsguard_tracker_get_stats(t, &st), IMDSGUARD_OK);
    CHECK_INT(st.packets, f.len + 1);
    CHECK_INT(st.decode_errors, f.len + 1);
    CHECK_INT(st.flows_created, 0);
    CHECK_STATUS(imdsguard_tracker_flush(t), IMDSGUARD_OK);
    {
        imdsguard_event ev;
        CHECK_STATUS(imdsguard_tracker_next_event(t, &ev), IMDSGUARD_NO_EVENT);
    }
    imdsguard_tracker_free(t);
}

static void test_vlan_policy(const ig_conv *boto) {
    static const char policy[] = "suppress vlan 300\n";
    imdsguard_engine *e = NULL;
    imdsguard_tracker *t = NULL;
    ig_recs rs;
    memset(&rs, 0, sizeof rs);
    SECTION("802.1Q VLAN 300 reaches the policy: suppressed");
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)policy, strlen(policy), NULL, &e),
                 IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_tracker_new(e, NULL, &t), IMDSGUARD_OK);
    imdsguard_engine_free(e); /* the tracker keeps it */
    if (t == NULL) {
        return;
    }
    token_exchange(t, boto, 300, 1, 0, 1, 1, &rs);
    token_exchange(t, boto, 301, 1, 0, 1, 1000, &rs);
    CHECK_STATUS(imdsguard_tracker_flush(t), IMDSGUARD_OK);
    ig_take_tracker_events(t, &rs);
    CHECK_INT(rs.n, 2);
    if (rs.n == 2) {
        CHECK_INT(rs.r[0].decision, IMDSGUARD_DECISION_SUPPRESSED);
        CHECK_CONTAINS(rs.r[0].suppressed_by, "suppress vlan 300");
        CHECK_CONTAINS(rs.r[0].eve, "300");
        CHECK_INT(rs.r[1].decision, IMDSGUARD_DECISION_ALERT);
    }
    ig_recs_free(&rs);
    imdsguard_tracker_free(t);
}

static void test_ipv6(const imdsguard_engine *e) {
    static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};
    static const uint8_t imds6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
    imdsguard_tracker *t = NULL;
    imdsguard_packet_result r;
    uint8_t pkt[60];
    ig_recs rs;
    memset(&rs, 0, sizeof rs);
    memset(pkt, 0, sizeof pkt);
    SECTION("raw IPv6 (linktype 229) SYN to fd00:ec2::254");
    pkt[0] = 0x60;
    put16(pkt + 4, 20);
    pkt[6] = 6, pkt[7] = 64;
    memcpy(pkt + 8, src6, 16), memcpy(pkt + 24, imds6, 16);
    put16(pkt + 40, 50003), put16(pkt + 42, 80);
    put32(pkt + 44, 1);
    pkt[52] = 5 << 4, pkt[53] = TCP_SYN;
    put16(pkt + 54, 0xffff);
    CHECK_STATUS(imdsguard_tracker_new(e, NULL, &t), IMDSGUARD_OK);
    if (t == NULL) {
        return;
    }
    CHECK_STATUS(imdsguard_tracker_packet(t, pkt, sizeof pkt, LINKTYPE_IPV6, 7, &r), IMDSGUARD_OK);
    CHECK(r.decoded && r.tracked);
    CHECK_STATUS(imdsguard_tracker_flush(t), IMDSGUARD_OK);
    ig_take_tracker_events(t, &rs);
    CHECK_INT(rs.n, 1);
    if (rs.n == 1) {
        CHECK_INT(rs.r[0].signature_id, 4210001);
        /* EVE writes IPv6 as Suricata does: eight groups, no :: (docs/output.md). */
        CHECK_CONTAINS(rs.r[0].eve, "\"dest_ip\":\"fd00:0ec2:0000:0000:0000:0000:0000:0254\"");
    }
    ig_recs_free(&rs);
    imdsguard_tracker_free(t);
}

int main(void) {
    imdsguard_engine *e = NULL;
    ig_conv boto;
    CHECK_STATUS(imdsguard_engine_new(NULL, 0, NULL, &e), IMDSGUARD_OK);
    if (e == NULL || ig_conv_load(&boto, "imdsv2-botocore-credentials.t") != 0) {
        CHECK(0);
        return TEST_FINISH();
    }
    test_token_exchange(e, &boto);
    test_lone_syn(e);
    test_timeout(e);
    test_truncated(e);
    test_vlan_policy(&boto);
    test_ipv6(e);
    imdsguard_engine_free(e);
    ig_conv_free(&boto);
    return TEST_FINISH();
}
