/*
 * Every status code reachable from C: OK, NO_EVENT, NULL_ARGUMENT, INVALID_ARGUMENT,
 * POLICY_ERROR, IO_ERROR, BUFFER_TOO_SMALL, PANIC and POISONED. The panic comes from the
 * test-only trigger (cargo feature `test-panic`, which the Makefile builds with): feeding the
 * bytes "imdsguard:test-panic" panics inside the boundary; the panic is caught, the flow is
 * poisoned (every later call: POISONED), other flows go on, and freeing it works.
 *
 * The default panic hook prints one "panicked at" line on stderr: expected.
 */
#include "common.h"

static const char TRIGGER[] = "imdsguard:test-panic";

static void test_plain_statuses(imdsguard_engine *e) {
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_engine *out = NULL;
    imdsguard_policy_error err;
    imdsguard_flow *f = NULL;
    imdsguard_event ev;
    imdsguard_feed_result r;
    size_t needed = 0;
    char tiny[4];
    static const char req[] = "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";
    SECTION("OK, NO_EVENT, NULL_ARGUMENT, INVALID_ARGUMENT, POLICY_ERROR, IO_ERROR, BUFFER_TOO_SMALL");

    CHECK_STATUS(imdsguard_flow_new(e, &key, &f), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_next_event(f, &ev), IMDSGUARD_NO_EVENT);
    CHECK_STATUS(imdsguard_flow_feed(NULL, 0, NULL, 0, NULL), IMDSGUARD_NULL_ARGUMENT);
    CHECK_STATUS(imdsguard_flow_feed(f, 2, NULL, 0, NULL), IMDSGUARD_INVALID_ARGUMENT);
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)"suppress src 300.0.0.0/8", 24, &err, &out),
                 IMDSGUARD_POLICY_ERROR);
    CHECK_INT(err.line, 1);
    CHECK_STATUS(imdsguard_engine_new_from_file("/nonexistent/policy", &err, &out),
                 IMDSGUARD_IO_ERROR);
    CHECK_INT(err.line, 0);
    CHECK_STATUS(imdsguard_flow_feed(f, 0, (const uint8_t *)req, strlen(req), &r), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_close(f), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_next_event(f, &ev), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_event_eve(f, tiny, sizeof tiny, &needed),
                 IMDSGUARD_BUFFER_TOO_SMALL);
    CHECK(needed > sizeof tiny);
    imdsguard_flow_free(f);
    /* The codes have their documented values (part of the ABI). */
    CHECK_INT(IMDSGUARD_OK, 0);
    CHECK_INT(IMDSGUARD_NO_EVENT, 1);
    CHECK_INT(IMDSGUARD_NULL_ARGUMENT, 100);
    CHECK_INT(IMDSGUARD_INVALID_ARGUMENT, 101);
    CHECK_INT(IMDSGUARD_POLICY_ERROR, 102);
    CHECK_INT(IMDSGUARD_IO_ERROR, 103);
    CHECK_INT(IMDSGUARD_BUFFER_TOO_SMALL, 104);
    CHECK_INT(IMDSGUARD_POISONED, 105);
    CHECK_INT(IMDSGUARD_PANIC, 106);
}

/* Every call that takes the flow answers POISONED (argument checks that come first aside). */
static void check_poisoned(imdsguard_flow *f, imdsguard_engine *e) {
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    imdsguard_feed_result r;
    imdsguard_event ev;
    imdsguard_flow_stats st;
    size_t needed = 0;
    char buf[64];
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_flow_feed(f, 0, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &r),
                 IMDSGUARD_POISONED);
    CHECK_INT(r.status, IMDSGUARD_POISONED);
    CHECK_INT(r.consumed, 0);
    CHECK_STATUS(imdsguard_flow_feed(f, 0, (const uint8_t *)TRIGGER, strlen(TRIGGER), NULL),
                 IMDSGUARD_POISONED); /* no second panic */
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_flow_parse_in_place(f, 1, (const uint8_t *)"HTTP/1.1", 8, &r),
                 IMDSGUARD_POISONED);
    CHECK_INT(r.status, IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_set_engine(f, e), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_gap(f, 0, 5), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_close_direction(f, 1), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_close(f), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_set_time(f, 1), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_set_responder_ttl(f, 1), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_set_responder_mac(f, mac), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_next_event(f, &ev), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_event_eve(f, buf, sizeof buf, &needed), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_event_eve(f, NULL, 0, &needed), IMDSGUARD_POISONED);
    CHECK_STATUS(imdsguard_flow_get_stats(f, &st), IMDSGUARD_POISONED);
    /* Invalid arguments are still caught as such? The flow is checked first: POISONED. */
    CHECK_STATUS(imdsguard_flow_gap(f, 9, 5), IMDSGUARD_POISONED);
}

static void test_panic_and_poison(imdsguard_engine *e, const ig_conv *boto) {
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_flow *victim = NULL, *bystander = NULL, *after = NULL;
    imdsguard_feed_result r;
    imdsguard_event ev;
    ig_recs rs;
    size_t i;
    memset(&rs, 0, sizeof rs);
    SECTION("PANIC caught at the boundary, then POISONED; other flows unaffected");

    CHECK_STATUS(imdsguard_flow_new(e, &key, &victim), IMDSGUARD_OK);
    key.src_port++;
    CHECK_STATUS(imdsguard_flow_new(e, &key, &bystander), IMDSGUARD_OK);
    if (victim == NULL || bystander == NULL) {
        return;
    }
    /* Half of the conversation into both, so that the victim holds state (a pending
     * transaction and a taken event) when it panics. */
    for (i = 0; i < 2; i++) {
        CHECK_STATUS(imdsguard_flow_feed(victim, boto->chunks[i].dir, boto->chunks[i].bytes,
                                         boto->chunks[i].len, NULL),
                     IMDSGUARD_OK);
        CHECK_STATUS(imdsguard_flow_feed(bystander, boto->chunks[i].dir, boto->chunks[i].bytes,
                                         boto->chunks[i].len, NULL),
                     IMDSGUARD_OK);
    }
    CHECK_STATUS(imdsguard_flow_next_event(victim, &ev), IMDSGUARD_OK);
    CHECK_INT(ev.signature_id, 4210004);

    /* Something that looks like the trigger but is not: no panic. */
    CHECK_STATUS(imdsguard_flow_feed(victim, 0, (const uint8_t *)TRIGGER, strlen(TRIGGER) - 1, NULL),
                 IMDSGUARD_OK);

    fprintf(stderr, "(test_errors: the next 'panicked at' message is expected)\n");
    memset(&r, 0x5a, sizeof r);
    CHECK_STATUS(imdsguard_flow_feed(victim, 0, (const uint8_t *)TRIGGER, strlen(TRIGGER), &r),
                 IMDSGUARD_PANIC);
    CHECK_INT(r.status, IMDSGUARD_PANIC);
    CHECK_INT(r.consumed, 0);
    CHECK_INT(r.pending_events, 0);
    check_poisoned(victim, e);
    check_poisoned(victim, e); /* stays poisoned */

    /* The other flow on the same engine is untouched. */
    for (i = 2; i < boto->n; i++) {
        CHECK_STATUS(imdsguard_flow_feed(bystander, boto->chunks[i].dir, boto->chunks[i].bytes,
                                         boto->chunks[i].len, NULL),
                     IMDSGUARD_OK);
    }
    CHECK_STATUS(imdsguard_flow_close(bystander), IMDSGUARD_OK);
    ig_take_flow_events(bystander, &rs);
    CHECK_INT(rs.n, 3);
    CHECK_INT(rs.errors, 0);
    ig_recs_free(&rs);

    /* And a new flow on the same engine works from the start. */
    key.src_port++;
    CHECK_STATUS(imdsguard_flow_new(e, &key, &after), IMDSGUARD_OK);
    CHECK_INT(ig_feed_conv(after, boto, 11, &rs), 0);
    CHECK_INT(rs.n, 3);
    ig_recs_free(&rs);

    /* Freeing a poisoned flow works (valgrind and LeakSanitizer check that it frees all). */
    imdsguard_flow_free(victim);
    imdsguard_flow_free(bystander);
    imdsguard_flow_free(after);
}

static void test_panic_in_every_state(imdsguard_engine *e) {
    imdsguard_flow_key key = ig_key_to_imds();
    int round, bad = 0;
    SECTION("a panic in a fresh flow, mid-message, and in the server direction");
    for (round = 0; round < 3; round++) {
        imdsguard_flow *f = NULL;
        uint8_t dir = round == 2 ? IMDSGUARD_DIR_TO_CLIENT : IMDSGUARD_DIR_TO_SERVER;
        bad += imdsguard_flow_new(e, &key, &f) != IMDSGUARD_OK;
        if (round == 1) {
            bad += imdsguard_flow_feed(f, 0, (const uint8_t *)"GET /latest/meta", 16, NULL) !=
                   IMDSGUARD_OK;
        }
        CHECK_STATUS(imdsguard_flow_feed(f, dir, (const uint8_t *)TRIGGER, strlen(TRIGGER), NULL),
                     IMDSGUARD_PANIC);
        CHECK_STATUS(imdsguard_flow_close(f), IMDSGUARD_POISONED);
        imdsguard_flow_free(f);
    }
    CHECK_INT(bad, 0);
}

int main(void) {
    imdsguard_engine *e = NULL;
    ig_conv boto;
    CHECK_STATUS(imdsguard_engine_new(NULL, 0, NULL, &e), IMDSGUARD_OK);
    if (e == NULL || ig_conv_load(&boto, "imdsv2-botocore-credentials.t") != 0) {
        CHECK(0);
        return TEST_FINISH();
    }
    test_plain_statuses(e);
    test_panic_and_poison(e, &boto);
    test_panic_in_every_state(e);
    imdsguard_engine_free(e);
    ig_conv_free(&boto);
    return TEST_FINISH();
}
