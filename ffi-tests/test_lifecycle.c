/*
 * Lifecycle: versions, engines from nothing / text / a file / a bad policy / a missing file,
 * an engine freed before its flows and trackers, imdsguard_flow_set_engine, _free(NULL).
 */
#include <unistd.h>

#include "common.h"

#ifndef IMDSGUARD_TMP_DIR
#define IMDSGUARD_TMP_DIR "/tmp"
#endif

/* Writes `text` to a fresh temporary file; its path goes to `path`. 0 on success. */
static int write_temp(char *path, size_t cap, const char *text) {
    int fd;
    size_t len = strlen(text);
    snprintf(path, cap, "%s/policy-XXXXXX", IMDSGUARD_TMP_DIR);
    fd = mkstemp(path);
    if (fd < 0) {
        snprintf(path, cap, "/tmp/imdsguard-policy-XXXXXX");
        fd = mkstemp(path);
    }
    if (fd < 0) {
        return -1;
    }
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    return close(fd);
}

static void test_versions(void) {
    char buf[64];
    SECTION("versions");
    CHECK(imdsguard_version() != NULL);
    CHECK_STR(imdsguard_version(), IMDSGUARD_VERSION);
    snprintf(buf, sizeof buf, "%d.%d.%d", IMDSGUARD_VERSION_MAJOR, IMDSGUARD_VERSION_MINOR,
             IMDSGUARD_VERSION_PATCH);
    CHECK_STR(buf, IMDSGUARD_VERSION);
    CHECK_INT(imdsguard_abi_version(), IMDSGUARD_ABI_VERSION);
    /* The same static string every time. */
    CHECK(imdsguard_version() == imdsguard_version());
}

static uint8_t decide(const imdsguard_engine *e, imdsguard_ip src) {
    imdsguard_flow_key k = ig_key(src, 40000, ig_ip4(169, 254, 169, 254), 80);
    uint8_t d = 99;
    if (imdsguard_engine_decide(e, &k, IMDSGUARD_IND_DST_IMDS, IMDSGUARD_PROVIDER_AWS, &d) !=
        IMDSGUARD_OK) {
        return 98;
    }
    return d;
}

static void test_engines(void) {
    static const char good[] = "# comment\r\nsuppress src 10.0.0.0/8   # CRLF and comments\r\n";
    static const char bad[] = "# first line\nsuppress src 10.20.1.0/16\n";
    imdsguard_engine *e = NULL;
    imdsguard_policy_error err;
    char path[512];
    SECTION("engines: NULL/0, text, file, bad policy, missing file");

    CHECK_STATUS(imdsguard_engine_new(NULL, 0, NULL, &e), IMDSGUARD_OK);
    CHECK(e != NULL);
    CHECK_INT(decide(e, ig_ip4(10, 1, 1, 1)), IMDSGUARD_DECISION_ALERT); /* empty policy */
    imdsguard_engine_free(e);

    /* A zero-length policy that is not NULL is the empty policy too. */
    e = NULL;
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)"", 0, NULL, &e), IMDSGUARD_OK);
    CHECK(e != NULL);
    imdsguard_engine_free(e);

    e = NULL;
    memset(&err, 0x55, sizeof err);
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)good, strlen(good), &err, &e), IMDSGUARD_OK);
    CHECK(e != NULL);
    CHECK_INT(decide(e, ig_ip4(10, 1, 1, 1)), IMDSGUARD_DECISION_SUPPRESSED);
    CHECK_INT(decide(e, ig_ip4(192, 0, 2, 1)), IMDSGUARD_DECISION_ALERT);
    imdsguard_engine_free(e);

    /* From a file. */
    e = NULL;
    CHECK(write_temp(path, sizeof path, good) == 0);
    CHECK_STATUS(imdsguard_engine_new_from_file(path, &err, &e), IMDSGUARD_OK);
    CHECK(e != NULL);
    CHECK_INT(decide(e, ig_ip4(10, 200, 0, 1)), IMDSGUARD_DECISION_SUPPRESSED);
    imdsguard_engine_free(e);
    unlink(path);

    /* A bad policy: host bits set after the prefix, on line 2, column of the CIDR. */
    e = NULL;
    memset(&err, 0x55, sizeof err);
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)bad, strlen(bad), &err, &e),
                 IMDSGUARD_POLICY_ERROR);
    CHECK(e == NULL);
    CHECK_INT(err.line, 2);
    CHECK_INT(err.column, 14); /* "suppress src " is 13 characters */
    CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
    CHECK_CONTAINS(err.message, "10.20.1.0/16");
    CHECK_CONTAINS(err.message, "10.20.0.0/16"); /* the network meant */
    printf("   policy error: line %u column %u: %s\n", err.line, err.column, err.message);

    /* err may be NULL: the status alone. */
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)bad, strlen(bad), NULL, &e),
                 IMDSGUARD_POLICY_ERROR);
    CHECK(e == NULL);

    /* The same from a file: the line is the file's. */
    CHECK(write_temp(path, sizeof path, bad) == 0);
    memset(&err, 0x55, sizeof err);
    CHECK_STATUS(imdsguard_engine_new_from_file(path, &err, &e), IMDSGUARD_POLICY_ERROR);
    CHECK(e == NULL);
    CHECK_INT(err.line, 2);
    CHECK_CONTAINS(err.message, "10.20.1.0/16");
    unlink(path);

    /* Missing file: IO_ERROR, line 0, a message naming the file. */
    memset(&err, 0x55, sizeof err);
    CHECK_STATUS(imdsguard_engine_new_from_file("/nonexistent/imdsguard/policy.conf", &err, &e),
                 IMDSGUARD_IO_ERROR);
    CHECK(e == NULL);
    CHECK_INT(err.line, 0);
    CHECK_INT(err.column, 0);
    CHECK(err.message[0] != '\0' && memchr(err.message, '\0', sizeof err.message) != NULL);
    CHECK_CONTAINS(err.message, "/nonexistent/imdsguard/policy.conf");
    printf("   io error: %s\n", err.message);
    CHECK_STATUS(imdsguard_engine_new_from_file("/nonexistent/x", NULL, &e), IMDSGUARD_IO_ERROR);

    /* A directory is not a readable policy either. */
    memset(&err, 0x55, sizeof err);
    CHECK_STATUS(imdsguard_engine_new_from_file("/", &err, &e), IMDSGUARD_IO_ERROR);
    CHECK_INT(err.line, 0);

    /* A path that is not UTF-8: INVALID_ARGUMENT (documented). */
    CHECK_STATUS(imdsguard_engine_new_from_file("/tmp/imdsguard-\xff.conf", &err, &e),
                 IMDSGUARD_INVALID_ARGUMENT);
    CHECK(e == NULL);

    /* Policy text that is not UTF-8 (a Latin-1 byte in a comment on line 3): a policy error
     * at the line of the bad byte, as imdsguard_engine_new_from_file reports for the same
     * bytes ("the policy is not valid UTF-8", line 3). */
    {
        static const char latin1[] = "suppress src 10.0.0.0/8\n# ok\n# caf\xe9\n";
        memset(&err, 0x55, sizeof err);
        CHECK_STATUS(imdsguard_engine_new((const uint8_t *)latin1, strlen(latin1), &err, &e),
                     IMDSGUARD_POLICY_ERROR);
        CHECK(e == NULL);
        CHECK_INT(err.line, 3);
        CHECK_CONTAINS(err.message, "not valid UTF-8");
        CHECK(write_temp(path, sizeof path, latin1) == 0);
        memset(&err, 0x55, sizeof err);
        CHECK_STATUS(imdsguard_engine_new_from_file(path, &err, &e), IMDSGUARD_POLICY_ERROR);
        CHECK_INT(err.line, 3);
        CHECK_CONTAINS(err.message, "not valid UTF-8");
        unlink(path);
    }

    /* A very long error message is truncated to fit, NUL-terminated. */
    {
        char longp[2048];
        memset(longp, 0, sizeof longp);
        strcpy(longp, "suppress src ");
        memset(longp + strlen(longp), 'x', 1500);
        memset(&err, 0x55, sizeof err);
        CHECK_STATUS(imdsguard_engine_new((const uint8_t *)longp, strlen(longp), &err, &e),
                     IMDSGUARD_POLICY_ERROR);
        CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
        CHECK_INT(err.line, 1);
    }
}

static void test_engine_freed_first(const ig_conv *boto) {
    imdsguard_engine *e = NULL;
    imdsguard_flow *f1 = NULL, *f2 = NULL;
    imdsguard_tracker *t = NULL;
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_tracker_stats ts;
    ig_recs rs;
    memset(&rs, 0, sizeof rs);
    SECTION("engine freed before its flows and tracker: they keep working");

    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)"suppress src 10.0.0.0/8", 23, NULL, &e),
                 IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_new(e, &key, &f1), IMDSGUARD_OK);
    key.src = ig_ip4(10, 0, 0, 5);
    CHECK_STATUS(imdsguard_flow_new(e, &key, &f2), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_tracker_new(e, NULL, &t), IMDSGUARD_OK);
    imdsguard_engine_free(e);
    e = NULL;

    CHECK_INT(ig_feed_conv(f1, boto, 0, &rs), 0);
    CHECK_INT(rs.n, 3);
    CHECK_INT(rs.r[0].decision, IMDSGUARD_DECISION_ALERT);
    ig_recs_free(&rs);
    imdsguard_flow_free(f1);

    /* The policy is still the freed engine's. */
    CHECK_INT(ig_feed_conv(f2, boto, 5, &rs), 0);
    CHECK_INT(rs.n, 3);
    CHECK_INT(rs.r[2].decision, IMDSGUARD_DECISION_SUPPRESSED);
    ig_recs_free(&rs);
    imdsguard_flow_free(f2);

    CHECK_STATUS(imdsguard_tracker_flush(t), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_tracker_get_stats(t, &ts), IMDSGUARD_OK);
    CHECK_INT(ts.packets, 0);
    imdsguard_tracker_free(t);
}

static void test_set_engine(const ig_conv *boto) {
    static const char suppress[] = "suppress src 10.0.0.0/8\n";
    imdsguard_engine *alert_all = NULL, *suppressing = NULL;
    imdsguard_flow *f = NULL;
    imdsguard_flow_key key = ig_key(ig_ip4(10, 1, 2, 3), 40000, ig_ip4(169, 254, 169, 254), 80);
    imdsguard_flow_stats st;
    ig_recs rs;
    ig_conv first, rest;
    size_t i;
    memset(&rs, 0, sizeof rs);
    SECTION("imdsguard_flow_set_engine: a new policy mid-flow, state kept");

    /* The first exchange (token PUT and its answer), then the rest. */
    first = *boto, first.n = 2;
    rest = *boto, rest.n = boto->n - 2;
    for (i = 0; i < rest.n; i++) {
        rest.chunks[i] = boto->chunks[i + 2];
    }

    CHECK_STATUS(imdsguard_engine_new(NULL, 0, NULL, &alert_all), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)suppress, strlen(suppress), NULL,
                                      &suppressing),
                 IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_new(alert_all, &key, &f), IMDSGUARD_OK);
    for (i = 0; i < first.n; i++) {
        CHECK_STATUS(imdsguard_flow_feed(f, first.chunks[i].dir, first.chunks[i].bytes,
                                         first.chunks[i].len, NULL),
                     IMDSGUARD_OK);
    }
    ig_take_flow_events(f, &rs);
    CHECK_INT(rs.n, 1);
    CHECK_INT(rs.r[0].signature_id, 4210004);
    CHECK_INT(rs.r[0].decision, IMDSGUARD_DECISION_ALERT);

    CHECK_STATUS(imdsguard_flow_set_engine(f, suppressing), IMDSGUARD_OK);
    /* Both engines may go: the flow holds the one it uses. */
    imdsguard_engine_free(alert_all);
    imdsguard_engine_free(suppressing);
    CHECK_INT(ig_feed_conv(f, &rest, 0, &rs), 0);
    CHECK_INT(rs.n, 3);
    if (rs.n == 3) {
        CHECK_INT(rs.r[1].signature_id, 4210002);
        CHECK_INT(rs.r[1].tx_id, 1); /* the transaction count went on */
        CHECK_INT(rs.r[1].decision, IMDSGUARD_DECISION_SUPPRESSED);
        CHECK_INT(rs.r[2].signature_id, 4210005);
        CHECK_INT(rs.r[2].tx_id, 2);
        CHECK_INT(rs.r[2].decision, IMDSGUARD_DECISION_SUPPRESSED);
        CHECK_CONTAINS(rs.r[2].suppressed_by, "10.0.0.0/8");
    }
    CHECK_STATUS(imdsguard_flow_get_stats(f, &st), IMDSGUARD_OK);
    CHECK_INT(st.transactions, 3);
    CHECK_INT(st.alerts, 3);
    CHECK_INT(st.suppressed, 2);
    ig_recs_free(&rs);
    imdsguard_flow_free(f);
}

static void test_free_null_and_churn(const ig_conv *boto) {
    imdsguard_engine *e = NULL;
    imdsguard_flow_key key = ig_key_to_imds();
    int i, bad = 0;
    SECTION("_free(NULL); many create/free cycles");
    imdsguard_engine_free(NULL);
    imdsguard_flow_free(NULL);
    imdsguard_tracker_free(NULL);
    CHECK(1); /* reached */

    for (i = 0; i < 200; i++) {
        imdsguard_flow *f = NULL;
        imdsguard_tracker *t = NULL;
        ig_recs rs;
        memset(&rs, 0, sizeof rs);
        bad += imdsguard_engine_new(NULL, 0, NULL, &e) != IMDSGUARD_OK;
        bad += imdsguard_flow_new(e, &key, &f) != IMDSGUARD_OK;
        bad += imdsguard_tracker_new(e, NULL, &t) != IMDSGUARD_OK;
        if (i % 2) {
            imdsguard_engine_free(e);
        }
        if (i % 3 == 0) {
            /* Events left untaken are dropped by the free. */
            size_t c;
            for (c = 0; c < boto->n; c++) {
                bad += imdsguard_flow_feed(f, boto->chunks[c].dir, boto->chunks[c].bytes,
                                           boto->chunks[c].len, NULL) != IMDSGUARD_OK;
            }
        }
        imdsguard_flow_free(f);
        imdsguard_tracker_free(t);
        if (i % 2 == 0) {
            imdsguard_engine_free(e);
        }
        e = NULL;
    }
    CHECK_INT(bad, 0);
}

int main(void) {
    ig_conv boto;
    test_versions();
    test_engines();
    if (ig_conv_load(&boto, "imdsv2-botocore-credentials.t") == 0) {
        test_engine_freed_first(&boto);
        test_set_engine(&boto);
        test_free_null_and_churn(&boto);
        ig_conv_free(&boto);
    } else {
        CHECK(0);
    }
    return TEST_FINISH();
}
