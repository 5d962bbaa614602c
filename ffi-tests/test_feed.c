/*
 * Feeding: the botocore IMDSv2 conversation fed whole, byte by byte, in 7-byte pieces and
 * through imdsguard_flow_parse_in_place (the buffer managed as Suricata does) gives the same
 * events, field by field and in EVE-JSON. Also: EVE buffer sizes, NO_EVENT, suppression by
 * policy, the stateless decision and address rule, the per-flow setters.
 */
#include "common.h"

#define BOTOCORE "imdsv2-botocore-credentials.t"

/* Suricata's way of driving a parser that does not copy: per direction the engine keeps
 * the bytes not consumed yet, appends what the stream brings, and calls again only when it
 * holds at least `needed` bytes. Each call gets a fresh malloc'd copy, freed right after,
 * so that a parser that kept a pointer into it would be caught. At the end the tail goes to
 * imdsguard_flow_feed, then the flow is closed. */
typedef struct held {
    uint8_t *buf;
    size_t len, cap, need;
} held;

static int held_append(held *h, const uint8_t *p, size_t n) {
    if (h->len + n > h->cap) {
        size_t cap = (h->len + n) * 2;
        uint8_t *b = (uint8_t *)realloc(h->buf, cap);
        if (b == NULL) {
            return -1;
        }
        h->buf = b, h->cap = cap;
    }
    memcpy(h->buf + h->len, p, n);
    h->len += n;
    return 0;
}

/* Counters of what the in-place protocol did, to show that it was exercised. */
typedef struct in_place_stats {
    unsigned calls, partial, contract_broken, tail_feeds;
} in_place_stats;

static int in_place_call(imdsguard_flow *flow, uint8_t dir, held *h, ig_recs *out,
                         in_place_stats *st) {
    imdsguard_feed_result r;
    uint8_t *copy = (uint8_t *)malloc(h->len ? h->len : 1);
    uint32_t rc;
    if (copy == NULL) {
        return -1;
    }
    memcpy(copy, h->buf, h->len);
    memset(&r, 0xA5, sizeof r);
    rc = imdsguard_flow_parse_in_place(flow, dir, copy, h->len, &r);
    free(copy);
    st->calls++;
    if (rc != IMDSGUARD_OK || r.status != IMDSGUARD_OK || r.consumed > h->len) {
        st->contract_broken++;
        return -1;
    }
    /* needed is 0 exactly when everything was consumed; otherwise it asks for more than
     * what is held (else the engine would loop). */
    if ((r.consumed == h->len) != (r.needed == 0) ||
        (r.needed != 0 && r.needed <= h->len - r.consumed)) {
        st->contract_broken++;
    }
    if (r.consumed < h->len) {
        st->partial++;
    }
    memmove(h->buf, h->buf + r.consumed, h->len - r.consumed);
    h->len -= r.consumed;
    h->need = r.needed;
    if (ig_take_flow_events(flow, out) != r.pending_events) {
        st->contract_broken++;
    }
    return 0;
}

static int feed_in_place(const imdsguard_engine *engine, const imdsguard_flow_key *key,
                         const ig_conv *c, size_t piece, ig_recs *out, in_place_stats *st) {
    imdsguard_flow *flow = NULL;
    held h[2];
    size_t i;
    int bad = 0;
    memset(h, 0, sizeof h);
    if (imdsguard_flow_new(engine, key, &flow) != IMDSGUARD_OK) {
        return 1;
    }
    for (i = 0; i < c->n; i++) {
        const ig_chunk *ch = &c->chunks[i];
        held *d = &h[ch->dir];
        size_t off = 0;
        if (ch->gap) {
            bad += imdsguard_flow_gap(flow, ch->dir, ch->len) != IMDSGUARD_OK;
            continue;
        }
        while (off < ch->len) {
            size_t n = piece == 0 || ch->len - off < piece ? ch->len - off : piece;
            if (held_append(d, ch->bytes + off, n) != 0) {
                bad++;
                break;
            }
            off += n;
            if (d->len >= d->need && d->len > 0) {
                bad += in_place_call(flow, ch->dir, d, out, st) != 0;
            }
        }
    }
    for (i = 0; i < 2; i++) {
        if (h[i].len > 0) {
            imdsguard_feed_result r;
            st->tail_feeds++;
            bad += imdsguard_flow_feed(flow, (uint8_t)i, h[i].buf, h[i].len, &r) != IMDSGUARD_OK;
            ig_take_flow_events(flow, out);
        }
        free(h[i].buf);
    }
    bad += imdsguard_flow_close(flow) != IMDSGUARD_OK;
    ig_take_flow_events(flow, out);
    imdsguard_flow_free(flow);
    return bad + out->errors;
}

static void check_botocore_events(const ig_recs *rs, const char *mode) {
    static const uint32_t sids[3] = {4210004, 4210002, 4210005};
    static const uint8_t stages[3] = {IMDSGUARD_STAGE_TOKEN, IMDSGUARD_STAGE_REQUEST,
                                      IMDSGUARD_STAGE_CREDENTIALS};
    static const char *urls[3] = {"/latest/api/token", "/latest/meta-data/iam/security-credentials/",
                                  "/latest/meta-data/iam/security-credentials/onprem-admin"};
    static const char *methods[3] = {"PUT", "GET", "GET"};
    size_t i;
    printf("   %s: %lu events\n", mode, (unsigned long)rs->n);
    CHECK_INT(rs->n, 3);
    CHECK_INT(rs->errors, 0);
    for (i = 0; i < rs->n && i < 3; i++) {
        const ig_rec *r = &rs->r[i];
        char sid[64];
        CHECK_INT(r->signature_id, sids[i]);
        CHECK_INT(r->signature_rev, 1);
        CHECK(r->signature[0] != '\0' && strncmp(r->signature, "IMDSGUARD ", 10) == 0);
        CHECK_INT(r->stage, stages[i]);
        CHECK_INT(r->provider, IMDSGUARD_PROVIDER_AWS);
        CHECK_STR(r->provider_name, "aws");
        CHECK_INT(r->decision, IMDSGUARD_DECISION_ALERT);
        CHECK_STR(r->suppressed_by, "");
        CHECK(r->has_tx);
        CHECK_INT(r->tx_id, i);
        CHECK(r->indicators & IMDSGUARD_IND_DST_IMDS);
        CHECK(r->indicators & IMDSGUARD_IND_HOST_IMDS);
        CHECK(r->indicators & IMDSGUARD_IND_RESP_IMDS_SERVER);
        CHECK(r->has_http);
        CHECK_STR(r->hostname, "169.254.169.254");
        CHECK_STR(r->url, urls[i]);
        CHECK_STR(r->method, methods[i]);
        CHECK_STR(r->protocol, "HTTP/1.1");
        CHECK_INT(r->http_status, 200);
        CHECK(strncmp(r->user_agent, "Botocore/1.35.0 ", 16) == 0);
        CHECK(r->eve != NULL && r->eve[0] == '{' && r->eve[strlen(r->eve) - 1] == '}');
        snprintf(sid, sizeof sid, "\"signature_id\":%lu", (unsigned long)sids[i]);
        CHECK_CONTAINS(r->eve, sid);
        CHECK_CONTAINS(r->eve, "\"dest_ip\":\"169.254.169.254\"");
        CHECK_CONTAINS(r->eve, "\"src_ip\":\"192.0.2.10\"");
    }
    if (rs->n == 3) {
        CHECK_STR(rs->r[0].stage_name, "token");
        CHECK(rs->r[0].indicators & IMDSGUARD_IND_PATH_TOKEN);
        CHECK(rs->r[0].indicators & IMDSGUARD_IND_HDR_TOKEN_TTL);
        CHECK(rs->r[0].indicators & IMDSGUARD_IND_RESP_TOKEN_GRANTED);
        CHECK_INT(rs->r[0].severity, 1);
        CHECK_STR(rs->r[1].stage_name, "request");
        CHECK(rs->r[1].indicators & IMDSGUARD_IND_HDR_TOKEN);
        CHECK_INT(rs->r[1].severity, 2);
        CHECK_STR(rs->r[2].stage_name, "credentials");
        CHECK(rs->r[2].indicators & IMDSGUARD_IND_RESP_CREDENTIALS);
        CHECK(rs->r[2].indicators & IMDSGUARD_IND_PATH_CREDENTIALS);
        CHECK_INT(rs->r[2].severity, 1);
    }
}

static void test_chunkings(const imdsguard_engine *engine, const ig_conv *boto) {
    imdsguard_flow_key key = ig_key_to_imds();
    static const size_t pieces[] = {1, 2, 3, 7, 64, 1000};
    ig_recs whole, other;
    in_place_stats st;
    size_t i;
    memset(&whole, 0, sizeof whole);
    memset(&other, 0, sizeof other);
    SECTION("botocore conversation: whole, byte by byte, 7-byte pieces, in place");

    CHECK_INT(ig_run_conv(engine, &key, boto, 0, &whole), 0);
    check_botocore_events(&whole, "whole chunks");

    for (i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        char mode[64];
        snprintf(mode, sizeof mode, "copy mode, %lu-byte pieces", (unsigned long)pieces[i]);
        CHECK_INT(ig_run_conv(engine, &key, boto, pieces[i], &other), 0);
        if (pieces[i] == 1 || pieces[i] == 7) {
            check_botocore_events(&other, mode);
        }
        CHECK(ig_recs_equal(&whole, &other));
        ig_recs_free(&other);
    }

    /* In place, whole chunks then 1- and 7-byte arrivals: the held buffer grows until the
     * parser has what it asked for. */
    {
        static const size_t arrivals[] = {0, 1, 7, 100};
        for (i = 0; i < sizeof arrivals / sizeof arrivals[0]; i++) {
            char mode[64];
            memset(&st, 0, sizeof st);
            snprintf(mode, sizeof mode, "in place, %lu-byte arrivals", (unsigned long)arrivals[i]);
            CHECK_INT(feed_in_place(engine, &key, boto, arrivals[i], &other, &st), 0);
            check_botocore_events(&other, mode);
            printf("   %s: %u calls, %u left bytes held, %u tail feeds\n", mode, st.calls,
                   st.partial, st.tail_feeds);
            CHECK_INT(st.contract_broken, 0);
            CHECK(st.calls > 0);
            if (arrivals[i] == 1) {
                /* Byte by byte, lines are incomplete most of the time: the parser must have
                 * asked to hold bytes. */
                CHECK(st.partial > 0);
            }
            CHECK(ig_recs_equal(&whole, &other));
            ig_recs_free(&other);
        }
    }
    ig_recs_free(&whole);
}

static void test_eve_buffer(const imdsguard_engine *engine, const ig_conv *boto) {
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_flow *flow = NULL;
    imdsguard_event ev;
    size_t needed = 12345, needed2 = 0, i;
    char small[16];
    char *buf;
    SECTION("EVE rendering: NO_EVENT, BUFFER_TOO_SMALL and needed, then OK");

    CHECK_STATUS(imdsguard_flow_new(engine, &key, &flow), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_next_event(flow, &ev), IMDSGUARD_NO_EVENT);
    CHECK_STATUS(imdsguard_flow_event_eve(flow, NULL, 0, &needed), IMDSGUARD_NO_EVENT);
    CHECK_STATUS(imdsguard_flow_event_eve(flow, small, sizeof small, &needed), IMDSGUARD_NO_EVENT);

    for (i = 0; i < boto->n; i++) {
        CHECK_STATUS(imdsguard_flow_feed(flow, boto->chunks[i].dir, boto->chunks[i].bytes,
                                         boto->chunks[i].len, NULL),
                     IMDSGUARD_OK);
    }
    CHECK_STATUS(imdsguard_flow_close(flow), IMDSGUARD_OK);
    /* Events are there, but none was taken yet. */
    CHECK_STATUS(imdsguard_flow_event_eve(flow, NULL, 0, &needed), IMDSGUARD_NO_EVENT);
    CHECK_STATUS(imdsguard_flow_next_event(flow, &ev), IMDSGUARD_OK);
    CHECK_INT(ev.signature_id, 4210004);

    needed = 0;
    CHECK_STATUS(imdsguard_flow_event_eve(flow, NULL, 0, &needed), IMDSGUARD_BUFFER_TOO_SMALL);
    CHECK(needed > 100);
    memset(small, 'x', sizeof small);
    CHECK_STATUS(imdsguard_flow_event_eve(flow, small, sizeof small, &needed2),
                 IMDSGUARD_BUFFER_TOO_SMALL);
    CHECK_INT(needed2, needed);
    CHECK(small[0] == 'x' && small[sizeof small - 1] == 'x'); /* nothing written */

    /* One byte short (room for the text but not the NUL) is still too small. */
    buf = (char *)malloc(needed);
    CHECK(buf != NULL);
    if (buf == NULL) {
        imdsguard_flow_free(flow);
        return;
    }
    needed2 = 0;
    CHECK_STATUS(imdsguard_flow_event_eve(flow, buf, needed - 1, &needed2),
                 IMDSGUARD_BUFFER_TOO_SMALL);
    CHECK_INT(needed2, needed);
    needed2 = 0;
    CHECK_STATUS(imdsguard_flow_event_eve(flow, buf, needed, &needed2), IMDSGUARD_OK);
    CHECK_INT(needed2, needed);
    CHECK_INT(strlen(buf) + 1, needed);
    CHECK(buf[needed - 2] == '}'); /* no trailing newline */
    CHECK_CONTAINS(buf, "\"signature_id\":4210004");
    CHECK_CONTAINS(buf, "\"event_type\":\"alert\"");
    /* Rendering twice gives the same text. */
    {
        char *again = ig_flow_eve(flow);
        CHECK(again != NULL && strcmp(again, buf) == 0);
        free(again);
    }
    free(buf);

    /* The other two, then NO_EVENT again; the last event taken can still be rendered. */
    CHECK_STATUS(imdsguard_flow_next_event(flow, &ev), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_next_event(flow, &ev), IMDSGUARD_OK);
    CHECK_INT(ev.signature_id, 4210005);
    CHECK_STATUS(imdsguard_flow_next_event(flow, &ev), IMDSGUARD_NO_EVENT);
    buf = ig_flow_eve(flow);
    CHECK(buf != NULL);
    CHECK_CONTAINS(buf, "\"signature_id\":4210005");
    free(buf);
    imdsguard_flow_free(flow);
}

static void test_suppression(const ig_conv *boto) {
    static const char policy[] = "# lab VPC reached over the VPN\nsuppress src 10.0.0.0/8\n";
    imdsguard_engine *engine = NULL;
    imdsguard_policy_error err;
    imdsguard_flow_key inside = ig_key(ig_ip4(10, 1, 2, 3), 40000, ig_ip4(169, 254, 169, 254), 80);
    imdsguard_flow_key outside = ig_key_to_imds();
    imdsguard_flow *flow = NULL;
    imdsguard_flow_stats stats;
    ig_recs rs;
    size_t i;
    memset(&rs, 0, sizeof rs);
    SECTION("suppression by policy: decision SUPPRESSED with suppressed_by");

    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)policy, strlen(policy), &err, &engine),
                 IMDSGUARD_OK);
    if (engine == NULL) {
        return;
    }
    CHECK_STATUS(imdsguard_flow_new(engine, &inside, &flow), IMDSGUARD_OK);
    CHECK_INT(ig_feed_conv(flow, boto, 0, &rs), 0);
    CHECK_INT(rs.n, 3);
    for (i = 0; i < rs.n; i++) {
        CHECK_INT(rs.r[i].decision, IMDSGUARD_DECISION_SUPPRESSED);
        CHECK_CONTAINS(rs.r[i].suppressed_by, "suppress src 10.0.0.0/8");
        CHECK_CONTAINS(rs.r[i].suppressed_by, ":2");  /* the rule's line */
        CHECK_CONTAINS(rs.r[i].eve, "\"decision\":\"suppressed\"");
        CHECK_CONTAINS(rs.r[i].eve, "10.0.0.0/8");
    }
    CHECK_STATUS(imdsguard_flow_get_stats(flow, &stats), IMDSGUARD_OK);
    CHECK_INT(stats.transactions, 3);
    CHECK_INT(stats.alerts, 3);
    CHECK_INT(stats.suppressed, 3);
    imdsguard_flow_free(flow);
    ig_recs_free(&rs);

    /* The same engine alerts for a source outside the network. */
    CHECK_INT(ig_run_conv(engine, &outside, boto, 0, &rs), 0);
    CHECK_INT(rs.n, 3);
    for (i = 0; i < rs.n; i++) {
        CHECK_INT(rs.r[i].decision, IMDSGUARD_DECISION_ALERT);
        CHECK_INT(strlen(rs.r[i].suppressed_by), 0);
    }
    ig_recs_free(&rs);
    imdsguard_engine_free(engine);
}

static void test_decide_and_endpoint(void) {
    static const char policy[] = "suppress src 10.0.0.0/8\nsuppress vlan 300 provider gcp\n";
    static const uint8_t aws6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 169, 254, 169, 254};
    imdsguard_engine *engine = NULL;
    imdsguard_flow_key k;
    imdsguard_ip ip;
    uint8_t decision = 77, provider = 77;
    uint32_t ind = 0;
    bool is_md = false;
    SECTION("imdsguard_engine_decide and imdsguard_metadata_endpoint");

    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)policy, strlen(policy), NULL, &engine),
                 IMDSGUARD_OK);
    k = ig_key(ig_ip4(10, 9, 8, 7), 1234, ig_ip4(169, 254, 169, 254), 80);
    CHECK_STATUS(imdsguard_engine_decide(engine, &k, IMDSGUARD_IND_DST_IMDS | IMDSGUARD_IND_PATH_TOKEN,
                                         IMDSGUARD_PROVIDER_AWS, &decision),
                 IMDSGUARD_OK);
    CHECK_INT(decision, IMDSGUARD_DECISION_SUPPRESSED);
    k.src = ig_ip4(192, 0, 2, 10);
    CHECK_STATUS(imdsguard_engine_decide(engine, &k, IMDSGUARD_IND_DST_IMDS,
                                         IMDSGUARD_PROVIDER_AWS, &decision),
                 IMDSGUARD_OK);
    CHECK_INT(decision, IMDSGUARD_DECISION_ALERT);
    /* Unknown indicator bits are ignored. */
    CHECK_STATUS(imdsguard_engine_decide(engine, &k, 0x80000000u | IMDSGUARD_IND_DST_IMDS,
                                         IMDSGUARD_PROVIDER_AWS, &decision),
                 IMDSGUARD_OK);
    CHECK_INT(decision, IMDSGUARD_DECISION_ALERT);
    /* VLAN 300 and GCP: the second rule; VLAN 300 and AWS: no rule. */
    k.vlan_count = 2, k.vlan_outer = 10, k.vlan_inner = 300;
    CHECK_STATUS(imdsguard_engine_decide(engine, &k, IMDSGUARD_IND_OTHER_CLOUD,
                                         IMDSGUARD_PROVIDER_GCP, &decision),
                 IMDSGUARD_OK);
    CHECK_INT(decision, IMDSGUARD_DECISION_SUPPRESSED);
    CHECK_STATUS(imdsguard_engine_decide(engine, &k, IMDSGUARD_IND_DST_IMDS,
                                         IMDSGUARD_PROVIDER_AWS, &decision),
                 IMDSGUARD_OK);
    CHECK_INT(decision, IMDSGUARD_DECISION_ALERT);
    imdsguard_engine_free(engine);

    ip = ig_ip4(169, 254, 169, 254);
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, &provider, &ind), IMDSGUARD_OK);
    CHECK(is_md);
    CHECK_INT(provider, IMDSGUARD_PROVIDER_AWS);
    CHECK(ind & IMDSGUARD_IND_DST_IMDS);

    ip = ig_ip6(aws6); /* fd00:ec2::254, the IMDS over IPv6 (Nitro) */
    is_md = false, provider = 77, ind = 0;
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, &provider, &ind), IMDSGUARD_OK);
    CHECK(is_md);
    CHECK_INT(provider, IMDSGUARD_PROVIDER_AWS);
    CHECK(ind & IMDSGUARD_IND_DST_IMDS);

    ip = ig_ip6(mapped); /* ::ffff:169.254.169.254 */
    is_md = false, provider = 77, ind = 0;
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, &provider, &ind), IMDSGUARD_OK);
    CHECK(is_md);
    CHECK_INT(provider, IMDSGUARD_PROVIDER_AWS);
    CHECK(ind & IMDSGUARD_IND_DST_IMDS);

    /* provider and indicators may be NULL. */
    is_md = false;
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, NULL, NULL), IMDSGUARD_OK);
    CHECK(is_md);

    ip = ig_ip4(10, 0, 0, 1);
    is_md = true, provider = 77, ind = 0x1234;
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, &provider, &ind), IMDSGUARD_OK);
    CHECK(!is_md);
    CHECK_INT(provider, 77); /* left alone when it is not one */
    CHECK_INT(ind, 0x1234);
}

static void test_setters(const imdsguard_engine *engine, const ig_conv *boto) {
    static const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_flow *flow = NULL;
    const uint64_t ts = 1796006400123456ull; /* 2026-11-30T02:40:00.123456Z */
    ig_recs rs;
    size_t i;
    memset(&rs, 0, sizeof rs);
    SECTION("set_time, set_responder_ttl, set_responder_mac");

    CHECK_STATUS(imdsguard_flow_new(engine, &key, &flow), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_set_time(flow, ts), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_set_responder_ttl(flow, 1), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_set_responder_mac(flow, mac), IMDSGUARD_OK);
    CHECK_INT(ig_feed_conv(flow, boto, 0, &rs), 0);
    CHECK_INT(rs.n, 3);
    for (i = 0; i < rs.n; i++) {
        CHECK_INT(rs.r[i].timestamp_us, ts);
        CHECK(rs.r[i].has_responder_ttl);
        CHECK_INT(rs.r[i].responder_ttl, 1);
        CHECK_CONTAINS(rs.r[i].eve, "2026-11-30T02:40:00.123456");
    }
    ig_recs_free(&rs);
    imdsguard_flow_free(flow);
}

/* A quiet flow gives its state back, and goes on exactly where it was. */
static void test_compact(const imdsguard_engine *engine) {
    static const char req[] = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    static const char imds[] =
        "GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_flow *flow = NULL;
    bool compacted = true;
    imdsguard_flow_stats st;
    ig_recs rs;
    memset(&rs, 0, sizeof rs);
    SECTION("compact");

    CHECK_STATUS(imdsguard_flow_new(engine, &key, &flow), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_feed(flow, IMDSGUARD_DIR_TO_SERVER, (const uint8_t *)req,
                                     sizeof req - 1, NULL),
                 IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_compact(flow, &compacted), IMDSGUARD_OK);
    CHECK(!compacted); /* the request waits for its answer */
    CHECK_STATUS(imdsguard_flow_feed(flow, IMDSGUARD_DIR_TO_CLIENT, (const uint8_t *)resp,
                                     sizeof resp - 1, NULL),
                 IMDSGUARD_OK);
    /* The transaction to the metadata address alerted: compaction waits for it to be taken. */
    CHECK_STATUS(imdsguard_flow_compact(flow, &compacted), IMDSGUARD_OK);
    CHECK(!compacted);
    CHECK_INT(ig_take_flow_events(flow, &rs), 1);
    CHECK_STATUS(imdsguard_flow_get_stats(flow, &st), IMDSGUARD_OK);
    CHECK(st.heap_bytes > 0);
    CHECK_STATUS(imdsguard_flow_compact(flow, &compacted), IMDSGUARD_OK);
    CHECK(compacted);
    CHECK_STATUS(imdsguard_flow_get_stats(flow, &st), IMDSGUARD_OK);
    CHECK_INT(st.heap_bytes, 0);
    CHECK_INT(st.transactions, 1);
    CHECK_STATUS(imdsguard_flow_compact(flow, NULL), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_feed(flow, IMDSGUARD_DIR_TO_SERVER, (const uint8_t *)imds,
                                     sizeof imds - 1, NULL),
                 IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_close(flow), IMDSGUARD_OK);
    CHECK_INT(ig_take_flow_events(flow, &rs), 1);
    CHECK(rs.n == 2 && rs.r[1].has_tx && rs.r[1].tx_id == 1);
    ig_recs_free(&rs);
    imdsguard_flow_free(flow);
}

static void test_other_conversations(const imdsguard_engine *engine) {
    imdsguard_flow_key web = ig_key(ig_ip4(192, 0, 2, 10), 49153, ig_ip4(192, 0, 2, 20), 80);
    imdsguard_flow_key imds = ig_key_to_imds();
    ig_conv c;
    ig_recs a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    SECTION("other conversations: IMDSv1, GCP, benign web traffic");

    if (ig_conv_load(&c, "imdsv1-curl-role-list.t") == 0) {
        CHECK_INT(ig_run_conv(engine, &imds, &c, 0, &a), 0);
        CHECK_INT(a.n, 1);
        CHECK_INT(a.r[0].signature_id, 4210002);
        CHECK_STR(a.r[0].user_agent, "curl/7.88.1");
        CHECK(!(a.r[0].indicators & IMDSGUARD_IND_HDR_TOKEN)); /* IMDSv1: no token */
        CHECK_INT(ig_run_conv(engine, &imds, &c, 1, &b), 0);
        CHECK(ig_recs_equal(&a, &b));
        ig_recs_free(&a), ig_recs_free(&b);
        ig_conv_free(&c);
    } else {
        CHECK(0);
    }
    if (ig_conv_load(&c, "gcp-metadata-token.t") == 0) {
        CHECK_INT(ig_run_conv(engine, &web, &c, 0, &a), 0);
        CHECK_INT(a.n, 1);
        CHECK_INT(a.r[0].signature_id, 4210020);
        CHECK_INT(a.r[0].provider, IMDSGUARD_PROVIDER_GCP);
        CHECK_STR(a.r[0].provider_name, "gcp");
        CHECK(a.r[0].indicators & IMDSGUARD_IND_OTHER_CLOUD);
        CHECK_STR(a.r[0].hostname, "metadata.google.internal");
        CHECK_INT(ig_run_conv(engine, &web, &c, 7, &b), 0);
        CHECK(ig_recs_equal(&a, &b));
        ig_recs_free(&a), ig_recs_free(&b);
        ig_conv_free(&c);
    } else {
        CHECK(0);
    }
    if (ig_conv_load(&c, "benign-web.t") == 0) {
        imdsguard_flow *flow = NULL;
        imdsguard_flow_stats st;
        CHECK_STATUS(imdsguard_flow_new(engine, &web, &flow), IMDSGUARD_OK);
        CHECK_INT(ig_feed_conv(flow, &c, 3, &a), 0);
        CHECK_INT(a.n, 0);
        CHECK_STATUS(imdsguard_flow_get_stats(flow, &st), IMDSGUARD_OK);
        CHECK_INT(st.transactions, 2);
        CHECK_INT(st.alerts, 0);
        imdsguard_flow_free(flow);
        ig_recs_free(&a);
        ig_conv_free(&c);
    } else {
        CHECK(0);
    }
}

/* A stream cut mid-message: in place consumes what is complete, the tail goes to
 * imdsguard_flow_feed at the end (as the header says), then close: the same events as
 * feeding everything in copy mode. */
static void test_in_place_tail(const imdsguard_engine *engine) {
    static const char *cut[] = {
        "GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Ag",
        "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nContent-Length: 10\r\n\r\nabc",
        "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\nGET /late",
    };
    imdsguard_flow_key key = ig_key_to_imds();
    size_t i;
    SECTION("in place on a cut stream: the tail to imdsguard_flow_feed, then close");
    for (i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        imdsguard_flow *a = NULL, *b = NULL;
        imdsguard_feed_result r;
        size_t len = strlen(cut[i]);
        ig_recs ra, rb;
        memset(&ra, 0, sizeof ra);
        memset(&rb, 0, sizeof rb);
        CHECK_STATUS(imdsguard_flow_new(engine, &key, &a), IMDSGUARD_OK);
        CHECK_STATUS(imdsguard_flow_new(engine, &key, &b), IMDSGUARD_OK);
        CHECK_STATUS(imdsguard_flow_parse_in_place(a, 0, (const uint8_t *)cut[i], len, &r),
                     IMDSGUARD_OK);
        CHECK(r.consumed <= len);
        CHECK((r.consumed == len) == (r.needed == 0));
        CHECK_STATUS(imdsguard_flow_feed(a, 0, (const uint8_t *)cut[i] + r.consumed,
                                         len - r.consumed, NULL),
                     IMDSGUARD_OK);
        CHECK_STATUS(imdsguard_flow_close(a), IMDSGUARD_OK);
        ig_take_flow_events(a, &ra);
        CHECK_STATUS(imdsguard_flow_feed(b, 0, (const uint8_t *)cut[i], len, NULL), IMDSGUARD_OK);
        CHECK_STATUS(imdsguard_flow_close(b), IMDSGUARD_OK);
        ig_take_flow_events(b, &rb);
        CHECK(ra.n >= 1);
        CHECK(ig_recs_equal(&ra, &rb));
        ig_recs_free(&ra), ig_recs_free(&rb);
        imdsguard_flow_free(a), imdsguard_flow_free(b);
    }
}

int main(void) {
    imdsguard_engine *engine = NULL;
    ig_conv boto;
    if (ig_conv_load(&boto, BOTOCORE) != 0) {
        CHECK(0);
        return TEST_FINISH();
    }
    CHECK_INT(boto.n, 6);
    CHECK_STATUS(imdsguard_engine_new(NULL, 0, NULL, &engine), IMDSGUARD_OK);
    if (engine != NULL) {
        test_chunkings(engine, &boto);
        test_eve_buffer(engine, &boto);
        test_setters(engine, &boto);
        test_other_conversations(engine);
        test_in_place_tail(engine);
        test_compact(engine);
    }
    test_suppression(&boto);
    test_decide_and_endpoint();
    imdsguard_engine_free(engine);
    ig_conv_free(&boto);
    return TEST_FINISH();
}
