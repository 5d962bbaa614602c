/*
 * One engine shared by N=4 pthreads, each with its own flows (and a tracker of its own):
 * every thread feeds conversations in a loop with its own chunking, checks the events,
 * calls the engine's stateless functions concurrently; then, with flows still open in every
 * thread, the main thread frees the engine and the threads finish those flows.
 *
 * The runner's counters are not thread-safe: each thread keeps its own tally, and the main
 * thread checks the tallies after the join.
 *
 * IMDSGUARD_TEST_ITERATIONS (default 1000) sets the rounds per thread (fewer under valgrind).
 */
#include <pthread.h>

#include "common.h"

#define THREADS 4
#define HELD_FLOWS 3

typedef struct worker {
    int id;
    int iterations;
    const imdsguard_engine *engine; /* valid until the first barrier */
    const ig_conv *boto, *benign;
    pthread_barrier_t *created, *engine_freed;
    /* results */
    long rounds, inside_rounds, events, suppressed, failures;
    char first_failure[256];
} worker;

static void fail(worker *w, const char *what, long round) {
    if (w->failures++ == 0) {
        snprintf(w->first_failure, sizeof w->first_failure, "thread %d round %ld: %s", w->id,
                 round, what);
    }
}

/* The three botocore alerts, alerting or suppressed as the source asks. */
static void check_boto(worker *w, const ig_recs *rs, int suppressed, long round) {
    static const uint32_t sids[3] = {4210004, 4210002, 4210005};
    size_t i;
    if (rs->n != 3 || rs->errors != 0) {
        fail(w, "botocore: not 3 events", round);
        return;
    }
    for (i = 0; i < 3; i++) {
        if (rs->r[i].signature_id != sids[i]) {
            fail(w, "botocore: wrong signature", round);
        }
        if (rs->r[i].decision !=
            (suppressed ? IMDSGUARD_DECISION_SUPPRESSED : IMDSGUARD_DECISION_ALERT)) {
            fail(w, "botocore: wrong decision", round);
        }
        if (rs->r[i].tx_id != i || strstr(rs->r[i].eve, "\"dest_ip\":\"169.254.169.254\"") == NULL) {
            fail(w, "botocore: wrong tx or EVE", round);
        }
    }
    w->events += 3;
    w->suppressed += suppressed ? 3 : 0;
}

static void *work(void *arg) {
    worker *w = (worker *)arg;
    static const size_t chunkings[THREADS] = {0, 1, 7, 13};
    size_t piece = chunkings[w->id % THREADS];
    imdsguard_flow *held[HELD_FLOWS] = {NULL};
    imdsguard_tracker *tracker = NULL;
    long round;
    int i;

    if (imdsguard_tracker_new(w->engine, NULL, &tracker) != IMDSGUARD_OK) {
        fail(w, "tracker_new", -1);
    }
    for (round = 0; round < w->iterations; round++) {
        /* Alternate a source the policy suppresses (10/8) and one it does not. */
        int inside = (round + w->id) % 2;
        imdsguard_ip src = inside ? ig_ip4(10, (uint8_t)w->id, (uint8_t)(round >> 8), (uint8_t)round)
                                  : ig_ip4(192, 0, 2, (uint8_t)(10 + w->id));
        imdsguard_flow_key key = ig_key(src, (uint16_t)(1024 + round), ig_ip4(169, 254, 169, 254), 80);
        imdsguard_flow_key web = ig_key(src, (uint16_t)(1024 + round), ig_ip4(192, 0, 2, 20), 80);
        ig_recs rs;
        uint8_t decision = 9;
        bool is_md = false;
        memset(&rs, 0, sizeof rs);
        w->inside_rounds += inside;

        if (ig_run_conv(w->engine, &key, w->boto, piece, &rs) != 0) {
            fail(w, "feeding botocore", round);
        }
        check_boto(w, &rs, inside, round);
        ig_recs_free(&rs);

        if (ig_run_conv(w->engine, &web, w->benign, piece ? piece + 2 : 0, &rs) != 0 || rs.n != 0) {
            fail(w, "benign conversation raised events", round);
        }
        ig_recs_free(&rs);

        if (imdsguard_engine_decide(w->engine, &key, IMDSGUARD_IND_DST_IMDS, IMDSGUARD_PROVIDER_AWS,
                                    &decision) != IMDSGUARD_OK ||
            decision != (inside ? IMDSGUARD_DECISION_SUPPRESSED : IMDSGUARD_DECISION_ALERT)) {
            fail(w, "engine_decide", round);
        }
        if (imdsguard_metadata_endpoint(&key.dst, &is_md, NULL, NULL) != IMDSGUARD_OK || !is_md) {
            fail(w, "metadata_endpoint", round);
        }
        if (tracker != NULL) {
            /* A raw IPv4 SYN (linktype 228) to the IMDS: one more flow in this thread's table. */
            uint8_t syn[40];
            memset(syn, 0, sizeof syn);
            syn[0] = 0x45, syn[3] = 40, syn[8] = 64, syn[9] = 6;
            memcpy(syn + 12, key.src.addr, 4), memcpy(syn + 16, key.dst.addr, 4);
            syn[20] = (uint8_t)(key.src_port >> 8), syn[21] = (uint8_t)key.src_port;
            syn[23] = 80, syn[32] = 0x50, syn[33] = 0x02;
            if (imdsguard_tracker_packet(tracker, syn, sizeof syn, 228, (uint64_t)round, NULL) !=
                IMDSGUARD_OK) {
                fail(w, "tracker_packet", round);
            }
        }
        w->rounds++;
    }
    if (tracker != NULL) {
        /* One address-contact alert per SYN (every round used its own port). */
        imdsguard_event ev;
        long alerts = 0, sup = 0;
        uint32_t rc;
        if (imdsguard_tracker_flush(tracker) != IMDSGUARD_OK) {
            fail(w, "tracker_flush", -1);
        }
        while ((rc = imdsguard_tracker_next_event(tracker, &ev)) == IMDSGUARD_OK) {
            alerts++;
            sup += ev.decision == IMDSGUARD_DECISION_SUPPRESSED;
            if (ev.signature_id != 4210001) {
                fail(w, "tracker: not an address-contact alert", -1);
            }
        }
        if (rc != IMDSGUARD_NO_EVENT || alerts != w->iterations || sup != w->inside_rounds) {
            fail(w, "tracker events", -1);
        }
    }

    /* Flows open while the engine goes away. */
    for (i = 0; i < HELD_FLOWS; i++) {
        imdsguard_flow_key key = ig_key(ig_ip4(192, 0, 2, 100), (uint16_t)(60000 + w->id * 10 + i),
                                        ig_ip4(169, 254, 169, 254), 80);
        if (imdsguard_flow_new(w->engine, &key, &held[i]) != IMDSGUARD_OK) {
            fail(w, "held flow_new", -1);
        }
    }
    pthread_barrier_wait(w->created);
    pthread_barrier_wait(w->engine_freed); /* w->engine is dangling from here on */
    for (i = 0; i < HELD_FLOWS; i++) {
        ig_recs rs;
        memset(&rs, 0, sizeof rs);
        if (held[i] == NULL) {
            continue;
        }
        if (ig_feed_conv(held[i], w->boto, piece, &rs) != 0) {
            fail(w, "feeding a held flow", -1);
        }
        check_boto(w, &rs, 0, -1);
        ig_recs_free(&rs);
        imdsguard_flow_free(held[i]);
    }
    /* The tracker too outlives the engine. */
    if (tracker != NULL) {
        imdsguard_tracker_stats st;
        if (imdsguard_tracker_get_stats(tracker, &st) != IMDSGUARD_OK ||
            st.packets != (uint64_t)w->iterations) {
            fail(w, "tracker stats", -1);
        }
        imdsguard_tracker_free(tracker);
    }
    return NULL;
}

int main(void) {
    static const char policy[] = "suppress src 10.0.0.0/8\n";
    const char *env = getenv("IMDSGUARD_TEST_ITERATIONS");
    int iterations = env != NULL && atoi(env) > 0 ? atoi(env) : 1000;
    imdsguard_engine *engine = NULL;
    pthread_barrier_t created, engine_freed;
    pthread_t tids[THREADS];
    worker ws[THREADS];
    ig_conv boto, benign;
    long events = 0, suppressed = 0;
    int i;

    if (ig_conv_load(&boto, "imdsv2-botocore-credentials.t") != 0 ||
        ig_conv_load(&benign, "benign-web.t") != 0) {
        CHECK(0);
        return TEST_FINISH();
    }
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)policy, strlen(policy), NULL, &engine),
                 IMDSGUARD_OK);
    if (engine == NULL) {
        return TEST_FINISH();
    }
    SECTION("4 threads, one engine, own flows; engine freed while flows are open");
    printf("   %d threads x %d rounds\n", THREADS, iterations);
    CHECK_INT(pthread_barrier_init(&created, NULL, THREADS + 1), 0);
    CHECK_INT(pthread_barrier_init(&engine_freed, NULL, THREADS + 1), 0);
    memset(ws, 0, sizeof ws);
    for (i = 0; i < THREADS; i++) {
        ws[i].id = i;
        ws[i].iterations = iterations;
        ws[i].engine = engine;
        ws[i].boto = &boto;
        ws[i].benign = &benign;
        ws[i].created = &created;
        ws[i].engine_freed = &engine_freed;
        CHECK_INT(pthread_create(&tids[i], NULL, work, &ws[i]), 0);
    }
    pthread_barrier_wait(&created);
    imdsguard_engine_free(engine); /* every thread still holds flows and a tracker */
    engine = NULL;
    pthread_barrier_wait(&engine_freed);
    for (i = 0; i < THREADS; i++) {
        CHECK_INT(pthread_join(tids[i], NULL), 0);
        CHECK_INT(ws[i].failures, 0);
        if (ws[i].failures) {
            printf("   %s (%ld failures)\n", ws[i].first_failure, ws[i].failures);
        }
        CHECK_INT(ws[i].rounds, iterations);
        CHECK_INT(ws[i].events, 3 * iterations + 3 * HELD_FLOWS);
        events += ws[i].events;
        suppressed += ws[i].suppressed;
    }
    printf("   %ld events checked, %ld of them suppressed\n", events, suppressed);
    CHECK(suppressed > 0 && suppressed < events);
    pthread_barrier_destroy(&created);
    pthread_barrier_destroy(&engine_freed);
    ig_conv_free(&boto);
    ig_conv_free(&benign);
    return TEST_FINISH();
}
