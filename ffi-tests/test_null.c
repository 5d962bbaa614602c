/*
 * NULL for every pointer argument of every function (IMDSGUARD_NULL_ARGUMENT, or the
 * documented behaviour: NULL with length 0 is an empty input, optional outputs may be NULL),
 * out-of-range integers (IMDSGUARD_INVALID_ARGUMENT), and imdsguard_status_str for every code.
 * Out-parameters are pre-set to a sentinel: a failed call must leave them alone.
 */
#include "common.h"

#define SENTINEL_ENGINE ((imdsguard_engine *)(uintptr_t)0x5e17)
#define SENTINEL_FLOW ((imdsguard_flow *)(uintptr_t)0x5e17)
#define SENTINEL_TRACKER ((imdsguard_tracker *)(uintptr_t)0x5e17)

static const uint8_t REQ[] = "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
                             "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n";

static void test_engine_functions(imdsguard_engine *e) {
    static const char policy[] = "suppress src 10.0.0.0/8";
    imdsguard_engine *out = SENTINEL_ENGINE;
    imdsguard_policy_error err;
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_ip ip = ig_ip4(169, 254, 169, 254);
    uint8_t decision = 7, provider = 7;
    uint32_t ind = 7;
    bool is_md = false;
    SECTION("engine functions with NULL");

    /* imdsguard_engine_new(policy, len, err, out) */
    CHECK_STATUS(imdsguard_engine_new(NULL, 5, &err, &out), IMDSGUARD_NULL_ARGUMENT);
    CHECK(out == SENTINEL_ENGINE);
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)policy, strlen(policy), &err, NULL),
                 IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_new(NULL, 0, &err, NULL), IMDSGUARD_NULL_ARGUMENT);
    /* NULL with 0 is the empty policy; err may be NULL. */
    CHECK_STATUS(imdsguard_engine_new(NULL, 0, NULL, &out), IMDSGUARD_OK);
    CHECK(out != SENTINEL_ENGINE && out != NULL);
    imdsguard_engine_free(out);
    out = SENTINEL_ENGINE;
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)"bogus", 5, NULL, &out),
                 IMDSGUARD_POLICY_ERROR);
    CHECK(out == SENTINEL_ENGINE);

    /* imdsguard_engine_new_from_file(path, err, out) */
    CHECK_STATUS(imdsguard_engine_new_from_file(NULL, &err, &out), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_new_from_file("/nonexistent", &err, NULL),
                 IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_new_from_file(NULL, NULL, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_new_from_file("/nonexistent", NULL, &out), IMDSGUARD_IO_ERROR);
    CHECK(out == SENTINEL_ENGINE);

    /* imdsguard_engine_decide(engine, key, indicators, provider, decision) */
    CHECK_STATUS(imdsguard_engine_decide(NULL, &key, 1, 0, &decision), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_decide(e, NULL, 1, 0, &decision), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_decide(e, &key, 1, 0, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(decision, 7);
    CHECK_STATUS(imdsguard_engine_decide(e, &key, 1, 0, &decision), IMDSGUARD_OK);

    /* imdsguard_metadata_endpoint(ip, is_metadata, provider, indicators) */
    CHECK_STATUS(imdsguard_metadata_endpoint(NULL, &is_md, &provider, &ind),
                 IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, NULL, &provider, &ind), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(provider, 7);
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, NULL, &ind), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, &provider, NULL), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, NULL, NULL), IMDSGUARD_OK);
    CHECK(is_md);

    imdsguard_engine_free(NULL);
}

static void test_flow_functions(imdsguard_engine *e) {
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_flow *f = SENTINEL_FLOW, *g = NULL;
    imdsguard_feed_result r;
    imdsguard_event ev;
    imdsguard_flow_stats st;
    size_t needed = 3;
    char buf[16];
    SECTION("flow functions with NULL");

    /* imdsguard_flow_new(engine, key, out) */
    CHECK_STATUS(imdsguard_flow_new(NULL, &key, &f), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_new(e, NULL, &f), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_new(e, &key, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK(f == SENTINEL_FLOW);
    CHECK_STATUS(imdsguard_flow_new(e, &key, &g), IMDSGUARD_OK);
    if (g == NULL) {
        return;
    }

    /* imdsguard_flow_set_engine(flow, engine) */
    CHECK_STATUS(imdsguard_flow_set_engine(NULL, e), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_set_engine(g, NULL), IMDSGUARD_NULL_ARGUMENT);

    /* imdsguard_flow_feed(flow, dir, data, len, result): result mirrors the status */
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_flow_feed(NULL, 0, REQ, sizeof REQ - 1, &r), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(r.status, IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(r.consumed, 0);
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_flow_feed(g, 0, NULL, 10, &r), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(r.status, IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(r.consumed, 0);
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_flow_feed(g, 0, NULL, 0, &r), IMDSGUARD_OK); /* empty feed */
    CHECK_INT(r.status, IMDSGUARD_OK);
    CHECK_INT(r.consumed, 0);
    CHECK_INT(r.needed, 0);
    CHECK_INT(r.pending_events, 0);
    CHECK_STATUS(imdsguard_flow_feed(g, 1, NULL, 0, NULL), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_feed(g, 0, REQ, 10, NULL), IMDSGUARD_OK); /* result optional */

    /* imdsguard_flow_parse_in_place(flow, dir, data, len, result): result required */
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_flow_parse_in_place(NULL, 0, REQ, 4, &r), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(r.status, IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_parse_in_place(g, 0, NULL, 4, &r), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(r.status, IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_parse_in_place(g, 0, REQ, 4, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_parse_in_place(g, 1, NULL, 0, &r), IMDSGUARD_OK);
    CHECK_INT(r.consumed, 0);

    /* gap, close_direction, close, set_time, set_responder_ttl, set_responder_mac */
    CHECK_STATUS(imdsguard_flow_gap(NULL, 0, 10), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_close_direction(NULL, 0), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_close(NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_set_time(NULL, 1), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_compact(NULL, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_set_responder_ttl(NULL, 1), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_set_responder_mac(NULL, mac), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_set_responder_mac(g, NULL), IMDSGUARD_NULL_ARGUMENT);

    /* next_event(flow, out), event_eve(flow, buf, cap, needed), get_stats(flow, out) */
    CHECK_STATUS(imdsguard_flow_next_event(NULL, &ev), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_next_event(g, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_event_eve(NULL, buf, sizeof buf, &needed),
                 IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_event_eve(g, NULL, 10, &needed), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_event_eve(g, buf, sizeof buf, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_event_eve(g, NULL, 0, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(needed, 3);
    /* NULL with 0 asks for the size: no event taken yet here. */
    CHECK_STATUS(imdsguard_flow_event_eve(g, NULL, 0, &needed), IMDSGUARD_NO_EVENT);
    CHECK_STATUS(imdsguard_flow_get_stats(NULL, &st), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_get_stats(g, NULL), IMDSGUARD_NULL_ARGUMENT);

    /* After all these the flow is intact: finish the request, close, one token alert. */
    CHECK_STATUS(imdsguard_flow_feed(g, 0, REQ + 10, sizeof REQ - 1 - 10, &r), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_close(g), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_next_event(g, &ev), IMDSGUARD_OK);
    CHECK_INT(ev.signature_id, 4210003);
    /* Now with an event: NULL with 0 gives the size. */
    CHECK_STATUS(imdsguard_flow_event_eve(g, NULL, 0, &needed), IMDSGUARD_BUFFER_TOO_SMALL);
    CHECK(needed > 10);
    CHECK_STATUS(imdsguard_flow_get_stats(g, &st), IMDSGUARD_OK);
    CHECK_INT(st.transactions, 1);

    imdsguard_flow_free(g);
    imdsguard_flow_free(NULL);
}

static void test_tracker_functions(imdsguard_engine *e) {
    static const uint8_t junk[8] = {0};
    imdsguard_tracker *t = SENTINEL_TRACKER, *u = NULL;
    imdsguard_tracker_config cfg;
    imdsguard_packet_result r;
    imdsguard_tracker_stats st;
    imdsguard_event ev;
    size_t needed = 3;
    char buf[16];
    SECTION("tracker functions with NULL");
    memset(&cfg, 0, sizeof cfg);

    CHECK_STATUS(imdsguard_tracker_new(NULL, &cfg, &t), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_new(e, &cfg, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK(t == SENTINEL_TRACKER);
    CHECK_STATUS(imdsguard_tracker_new(e, NULL, &u), IMDSGUARD_OK); /* NULL config: defaults */
    imdsguard_tracker_free(u);
    u = NULL;
    CHECK_STATUS(imdsguard_tracker_new(e, &cfg, &u), IMDSGUARD_OK); /* zeros: defaults */
    if (u == NULL) {
        return;
    }

    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_tracker_packet(NULL, junk, sizeof junk, 1, 0, &r),
                 IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(r.status, IMDSGUARD_NULL_ARGUMENT);
    CHECK(!r.decoded && !r.tracked);
    CHECK_STATUS(imdsguard_tracker_packet(u, NULL, 60, 1, 0, &r), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(r.status, IMDSGUARD_NULL_ARGUMENT);
    /* NULL with 0: an empty frame, which cannot be decoded (counted, not an error). */
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_tracker_packet(u, NULL, 0, 1, 0, &r), IMDSGUARD_OK);
    CHECK_INT(r.status, IMDSGUARD_OK);
    CHECK(!r.decoded);
    CHECK_STATUS(imdsguard_tracker_packet(u, junk, sizeof junk, 1, 0, NULL), IMDSGUARD_OK);

    CHECK_STATUS(imdsguard_tracker_expire(NULL, 0), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_flush(NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_next_event(NULL, &ev), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_next_event(u, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_event_eve(NULL, buf, sizeof buf, &needed),
                 IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_event_eve(u, NULL, 10, &needed), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_event_eve(u, buf, sizeof buf, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_INT(needed, 3);
    CHECK_STATUS(imdsguard_tracker_event_eve(u, NULL, 0, &needed), IMDSGUARD_NO_EVENT);
    CHECK_STATUS(imdsguard_tracker_get_stats(NULL, &st), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_get_stats(u, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_tracker_get_stats(u, &st), IMDSGUARD_OK);
    CHECK_INT(st.packets, 2);
    CHECK_INT(st.decode_errors, 2);

    imdsguard_tracker_free(u);
    imdsguard_tracker_free(NULL);
}

static void test_out_of_range(imdsguard_engine *e) {
    imdsguard_flow_key key = ig_key_to_imds(), bad;
    imdsguard_flow *f = NULL, *g = SENTINEL_FLOW;
    imdsguard_tracker *t = NULL;
    imdsguard_feed_result r;
    imdsguard_packet_result pr;
    imdsguard_ip ip;
    uint8_t decision = 7;
    bool is_md = true;
    static const uint8_t dirs[] = {2, 3, 127, 128, 255};
    size_t i;
    SECTION("out-of-range integers: IMDSGUARD_INVALID_ARGUMENT");

    CHECK_STATUS(imdsguard_flow_new(e, &key, &f), IMDSGUARD_OK);
    if (f == NULL) {
        return;
    }
    for (i = 0; i < sizeof dirs; i++) {
        memset(&r, 0x5a, sizeof r);
        CHECK_STATUS(imdsguard_flow_feed(f, dirs[i], REQ, 4, &r), IMDSGUARD_INVALID_ARGUMENT);
        CHECK_INT(r.status, IMDSGUARD_INVALID_ARGUMENT);
        CHECK_INT(r.consumed, 0);
        CHECK_STATUS(imdsguard_flow_feed(f, dirs[i], NULL, 0, NULL), IMDSGUARD_INVALID_ARGUMENT);
        CHECK_STATUS(imdsguard_flow_parse_in_place(f, dirs[i], REQ, 4, &r),
                     IMDSGUARD_INVALID_ARGUMENT);
        CHECK_INT(r.status, IMDSGUARD_INVALID_ARGUMENT);
        CHECK_STATUS(imdsguard_flow_gap(f, dirs[i], 10), IMDSGUARD_INVALID_ARGUMENT);
        CHECK_STATUS(imdsguard_flow_close_direction(f, dirs[i]), IMDSGUARD_INVALID_ARGUMENT);
    }
    /* The flow took no damage. */
    CHECK_STATUS(imdsguard_flow_feed(f, IMDSGUARD_DIR_TO_SERVER, REQ, sizeof REQ - 1, NULL),
                 IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_close_direction(f, IMDSGUARD_DIR_TO_SERVER), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_close_direction(f, IMDSGUARD_DIR_TO_CLIENT), IMDSGUARD_OK);
    {
        imdsguard_event ev;
        CHECK_STATUS(imdsguard_flow_next_event(f, &ev), IMDSGUARD_OK);
        CHECK_INT(ev.signature_id, 4210003);
    }
    imdsguard_flow_free(f);

    /* Address family 5 (and 0) in either address of a key, and for the address rule. */
    bad = key, bad.src.family = 5;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_INVALID_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_decide(e, &bad, 1, 0, &decision), IMDSGUARD_INVALID_ARGUMENT);
    bad = key, bad.dst.family = 0;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_INVALID_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_decide(e, &bad, 1, 0, &decision), IMDSGUARD_INVALID_ARGUMENT);
    ip = ig_ip4(169, 254, 169, 254), ip.family = 5;
    CHECK_STATUS(imdsguard_metadata_endpoint(&ip, &is_md, NULL, NULL), IMDSGUARD_INVALID_ARGUMENT);
    CHECK(is_md); /* untouched */

    /* VLANs: three tags; an id of 4096 in a valid slot; an invalid id in an unused slot is
     * ignored (vlan_count says which are valid). */
    bad = key, bad.vlan_count = 3;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_INVALID_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_decide(e, &bad, 1, 0, &decision), IMDSGUARD_INVALID_ARGUMENT);
    bad = key, bad.vlan_count = 255;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_INVALID_ARGUMENT);
    bad = key, bad.vlan_count = 1, bad.vlan_outer = 4096;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_INVALID_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_decide(e, &bad, 1, 0, &decision), IMDSGUARD_INVALID_ARGUMENT);
    bad = key, bad.vlan_count = 2, bad.vlan_outer = 100, bad.vlan_inner = 4096;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_INVALID_ARGUMENT);
    bad = key, bad.vlan_count = 2, bad.vlan_outer = 0xffff, bad.vlan_inner = 1;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_INVALID_ARGUMENT);
    CHECK(g == SENTINEL_FLOW);
    CHECK_INT(decision, 7);
    bad = key, bad.vlan_count = 1, bad.vlan_outer = 4095, bad.vlan_inner = 4096;
    g = NULL;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_OK);
    imdsguard_flow_free(g);
    g = NULL;
    bad = key, bad.vlan_count = 0, bad.vlan_outer = 9999;
    CHECK_STATUS(imdsguard_flow_new(e, &bad, &g), IMDSGUARD_OK);
    imdsguard_flow_free(g);

    /* Providers: 10 kinds (0-9); 10, 200, 255 are out of range. */
    CHECK_STATUS(imdsguard_engine_decide(e, &key, 1, IMDSGUARD_PROVIDER_HETZNER, &decision),
                 IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_engine_decide(e, &key, 1, 10, &decision), IMDSGUARD_INVALID_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_decide(e, &key, 1, 200, &decision), IMDSGUARD_INVALID_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_decide(e, &key, 1, 255, &decision), IMDSGUARD_INVALID_ARGUMENT);

    /* Link types: 9999 and 2 are unknown; the documented ones are accepted. */
    CHECK_STATUS(imdsguard_tracker_new(e, NULL, &t), IMDSGUARD_OK);
    if (t != NULL) {
        static const uint32_t known[] = {0, 1, 101, 108, 113, 228, 229, 276};
        static const uint8_t frame[20] = {0x45};
        memset(&pr, 0x5a, sizeof pr);
        CHECK_STATUS(imdsguard_tracker_packet(t, frame, sizeof frame, 9999, 0, &pr),
                     IMDSGUARD_INVALID_ARGUMENT);
        CHECK_INT(pr.status, IMDSGUARD_INVALID_ARGUMENT);
        CHECK(!pr.decoded);
        CHECK_STATUS(imdsguard_tracker_packet(t, frame, sizeof frame, 2, 0, NULL),
                     IMDSGUARD_INVALID_ARGUMENT);
        CHECK_STATUS(imdsguard_tracker_packet(t, frame, sizeof frame, 0xffffffffu, 0, NULL),
                     IMDSGUARD_INVALID_ARGUMENT);
        for (i = 0; i < sizeof known / sizeof known[0]; i++) {
            CHECK_STATUS(imdsguard_tracker_packet(t, frame, sizeof frame, known[i], 0, NULL),
                         IMDSGUARD_OK);
        }
        imdsguard_tracker_free(t);
    }
}

static void test_status_strings(void) {
    static const uint32_t codes[] = {IMDSGUARD_OK,
                                     IMDSGUARD_NO_EVENT,
                                     IMDSGUARD_NULL_ARGUMENT,
                                     IMDSGUARD_INVALID_ARGUMENT,
                                     IMDSGUARD_POLICY_ERROR,
                                     IMDSGUARD_IO_ERROR,
                                     IMDSGUARD_BUFFER_TOO_SMALL,
                                     IMDSGUARD_POISONED,
                                     IMDSGUARD_PANIC};
    static const uint32_t unknown[] = {2, 99, 107, 1000, 0xffffffffu};
    const char *unknown_text = imdsguard_status_str(12345);
    size_t i, j;
    SECTION("imdsguard_status_str");
    CHECK(unknown_text != NULL);
    CHECK_STR(unknown_text, "unknown status");
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = imdsguard_status_str(codes[i]);
        CHECK(s != NULL && s[0] != '\0');
        CHECK(s != NULL && strcmp(s, "unknown status") != 0);
        for (j = 0; j < i; j++) {
            CHECK(strcmp(s, imdsguard_status_str(codes[j])) != 0); /* all distinct */
        }
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK(imdsguard_status_str(unknown[i]) != NULL);
        CHECK_STR(imdsguard_status_str(unknown[i]), "unknown status");
    }
    CHECK(imdsguard_version() != NULL);
}

int main(void) {
    imdsguard_engine *e = NULL;
    CHECK_STATUS(imdsguard_engine_new(NULL, 0, NULL, &e), IMDSGUARD_OK);
    if (e != NULL) {
        test_engine_functions(e);
        test_flow_functions(e);
        test_tracker_functions(e);
        test_out_of_range(e);
    }
    test_status_strings();
    imdsguard_engine_free(e);
    return TEST_FINISH();
}
