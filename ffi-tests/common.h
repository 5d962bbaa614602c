/*
 * A tiny framework-free test runner for the imdsguard C ABI, plus helpers shared by the
 * test programs: conversation (.t) files, flow keys, events copied out of the library.
 *
 * Every CHECK counts one assertion; a failure prints where and why and the program goes on.
 * TEST_FINISH() prints the last line exactly as "N passed, N failed" and gives the exit
 * status (non-zero on any failure). The counters are not thread-safe: worker threads keep
 * their own tallies and the main thread checks them (see test_threads.c).
 *
 * Everything is `static` (functions `static inline`, so that a test that does not use one
 * gets no -Wunused-function error); include it once per program.
 */
#ifndef IMDSGUARD_FFI_TESTS_COMMON_H
#define IMDSGUARD_FFI_TESTS_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imdsguard.h"

#ifndef IMDSGUARD_CONV_DIR
#define IMDSGUARD_CONV_DIR "conversations"
#endif

/* ---------------------------------------------------------------- the runner */

static unsigned long t_passed;
static unsigned long t_failed;

static inline void t_record(int ok, const char *file, int line, const char *what) {
    if (ok) {
        t_passed++;
    } else {
        t_failed++;
        fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
    }
}

/* CHECK(cond): the condition holds. */
#define CHECK(cond) t_record((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* CHECK_INT(actual, expected): integers, both printed on failure. */
#define CHECK_INT(actual, expected)                                                          \
    do {                                                                                     \
        long long t_a_ = (long long)(actual), t_e_ = (long long)(expected);                  \
        if (t_a_ == t_e_) {                                                                  \
            t_record(1, __FILE__, __LINE__, #actual);                                        \
        } else {                                                                             \
            char t_m_[512];                                                                  \
            snprintf(t_m_, sizeof t_m_, "%s == %lld, expected %s == %lld", #actual, t_a_,    \
                     #expected, t_e_);                                                       \
            t_record(0, __FILE__, __LINE__, t_m_);                                           \
        }                                                                                    \
    } while (0)

/* CHECK_STATUS(call, expected): a call returns the expected status (names printed). */
#define CHECK_STATUS(call, expected)                                                         \
    do {                                                                                     \
        uint32_t t_s_ = (uint32_t)(call), t_x_ = (uint32_t)(expected);                       \
        if (t_s_ == t_x_) {                                                                  \
            t_record(1, __FILE__, __LINE__, #call);                                          \
        } else {                                                                             \
            char t_m_[768];                                                                  \
            snprintf(t_m_, sizeof t_m_, "%s returned %u (%s), expected %s (%s)", #call,      \
                     (unsigned)t_s_, imdsguard_status_str(t_s_), #expected,                  \
                     imdsguard_status_str(t_x_));                                            \
            t_record(0, __FILE__, __LINE__, t_m_);                                           \
        }                                                                                    \
    } while (0)

/* CHECK_STR(actual, expected): NUL-terminated strings (NULL compares unequal). */
#define CHECK_STR(actual, expected)                                                          \
    do {                                                                                     \
        const char *t_a_ = (actual), *t_e_ = (expected);                                     \
        int t_ok_ = t_a_ != NULL && t_e_ != NULL && strcmp(t_a_, t_e_) == 0;                 \
        if (t_ok_) {                                                                         \
            t_record(1, __FILE__, __LINE__, #actual);                                        \
        } else {                                                                             \
            char t_m_[768];                                                                  \
            snprintf(t_m_, sizeof t_m_, "%s == \"%.300s\", expected \"%.300s\"", #actual,    \
                     t_a_ ? t_a_ : "(null)", t_e_ ? t_e_ : "(null)");                        \
            t_record(0, __FILE__, __LINE__, t_m_);                                           \
        }                                                                                    \
    } while (0)

/* CHECK_CONTAINS(haystack, needle): a NUL-terminated string contains another. */
#define CHECK_CONTAINS(haystack, needle)                                                     \
    do {                                                                                     \
        const char *t_h_ = (haystack), *t_n_ = (needle);                                     \
        if (t_h_ != NULL && strstr(t_h_, t_n_) != NULL) {                                    \
            t_record(1, __FILE__, __LINE__, #haystack);                                      \
        } else {                                                                             \
            char t_m_[768];                                                                  \
            snprintf(t_m_, sizeof t_m_, "%s == \"%.400s\" does not contain \"%.200s\"",      \
                     #haystack, t_h_ ? t_h_ : "(null)", t_n_);                               \
            t_record(0, __FILE__, __LINE__, t_m_);                                           \
        }                                                                                    \
    } while (0)

/* A section header, so that a failure can be placed. */
#define SECTION(name) printf("-- %s\n", (name))

/* The last line, "N passed, N failed", and the exit status. */
#define TEST_FINISH()                                                                        \
    (printf("%lu passed, %lu failed\n", t_passed, t_failed), fflush(stdout),                \
     t_failed == 0 ? 0 : 1)

/* ---------------------------------------------------------------- strings and files */

/* Compares library bytes (imdsguard_str) with a C string. */
static inline int ig_str_eq(imdsguard_str s, const char *c) {
    size_t n = strlen(c);
    if (s.len != n) {
        return 0;
    }
    return n == 0 || (s.ptr != NULL && memcmp(s.ptr, c, n) == 0);
}

/* Copies library bytes into a NUL-terminated buffer (truncating). */
static inline void ig_str_copy(char *dst, size_t cap, imdsguard_str s) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n > 0) {
        memcpy(dst, s.ptr, n);
    }
    dst[n] = '\0';
}

/* Reads a whole file; NULL on error. Free with free(). */
static inline uint8_t *ig_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL) {
        return NULL;
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            uint8_t *bigger;
            cap = cap ? cap * 2 : 4096;
            bigger = (uint8_t *)realloc(buf, cap);
            if (bigger == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* ---------------------------------------------------------------- conversation files */

/* One chunk of a conversation; `bytes` points into the file's buffer. */
typedef struct ig_chunk {
    uint8_t dir;   /* IMDSGUARD_DIR_* */
    int gap;       /* 1: a gap of `len` bytes */
    const uint8_t *bytes;
    size_t len;
} ig_chunk;

#define IG_MAX_CHUNKS 64

typedef struct ig_conv {
    uint8_t *data; /* the file */
    size_t len;
    ig_chunk chunks[IG_MAX_CHUNKS];
    size_t n;
} ig_conv;

/* A marker line at `at`: returns 1 and sets dir/gap/payload start, else 0. */
static inline int ig_marker_at(const uint8_t *d, size_t len, size_t at, uint8_t *dir, int *gap,
                               size_t *start) {
    if (at + 3 > len) {
        return 0;
    }
    if (memcmp(d + at, ">>>", 3) == 0) {
        *dir = IMDSGUARD_DIR_TO_SERVER, *gap = 0;
    } else if (memcmp(d + at, "<<<", 3) == 0) {
        *dir = IMDSGUARD_DIR_TO_CLIENT, *gap = 0;
    } else if (memcmp(d + at, "><>", 3) == 0) {
        *dir = IMDSGUARD_DIR_TO_SERVER, *gap = 1;
    } else if (memcmp(d + at, "<><", 3) == 0) {
        *dir = IMDSGUARD_DIR_TO_CLIENT, *gap = 1;
    } else {
        return 0;
    }
    if (at + 3 < len && d[at + 3] == '\n') {
        *start = at + 4;
        return 1;
    }
    if (at + 4 < len && d[at + 3] == '\r' && d[at + 4] == '\n') {
        *start = at + 5;
        return 1;
    }
    return 0;
}

/*
 * Splits libhtp's .t format as src/conversation.rs does: a marker line (`>>>`, `<<<`, `><>`,
 * `<><`) at the start of the file or after an LF; the payload runs to the next marker line
 * minus one LF and then at most one CR; the last chunk is verbatim. Returns 0 on success.
 */
static inline int ig_conv_parse(ig_conv *c) {
    size_t pos[IG_MAX_CHUNKS], start[IG_MAX_CHUNKS];
    uint8_t dir[IG_MAX_CHUNKS];
    int gap[IG_MAX_CHUNKS];
    size_t n = 0, i;
    for (i = 0; i < c->len; i++) {
        if (i == 0 || c->data[i - 1] == '\n') {
            if (n < IG_MAX_CHUNKS &&
                ig_marker_at(c->data, c->len, i, &dir[n], &gap[n], &start[n])) {
                pos[n++] = i;
            }
        }
    }
    if (n == 0 || pos[0] != 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        size_t end = c->len;
        if (i + 1 < n) {
            end = pos[i + 1] > start[i] ? pos[i + 1] : start[i];
            if (end > start[i] && c->data[end - 1] == '\n') {
                end--;
                if (end > start[i] && c->data[end - 1] == '\r') {
                    end--;
                }
            }
        }
        c->chunks[i].dir = dir[i];
        c->chunks[i].gap = gap[i];
        c->chunks[i].bytes = c->data + start[i];
        c->chunks[i].len = end - start[i];
    }
    c->n = n;
    return 0;
}

/* Loads and splits conversations/<name>; 0 on success. Free with ig_conv_free. */
static inline int ig_conv_load(ig_conv *c, const char *name) {
    char path[1024];
    memset(c, 0, sizeof *c);
    snprintf(path, sizeof path, "%s/%s", IMDSGUARD_CONV_DIR, name);
    c->data = ig_read_file(path, &c->len);
    if (c->data == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    if (ig_conv_parse(c) != 0) {
        fprintf(stderr, "%s is not a conversation file\n", path);
        free(c->data);
        c->data = NULL;
        return -1;
    }
    return 0;
}

static inline void ig_conv_free(ig_conv *c) {
    free(c->data);
    c->data = NULL;
    c->n = 0;
}

/* ---------------------------------------------------------------- flow keys */

static inline imdsguard_ip ig_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    imdsguard_ip ip;
    memset(&ip, 0, sizeof ip);
    ip.family = 4;
    ip.addr[0] = a, ip.addr[1] = b, ip.addr[2] = c, ip.addr[3] = d;
    return ip;
}

/* An IPv6 address from 16 bytes. */
static inline imdsguard_ip ig_ip6(const uint8_t bytes[16]) {
    imdsguard_ip ip;
    ip.family = 6;
    memcpy(ip.addr, bytes, 16);
    return ip;
}

/* A TCP key: src:sport -> dst:dport, untagged. */
static inline imdsguard_flow_key ig_key(imdsguard_ip src, uint16_t sport, imdsguard_ip dst,
                                        uint16_t dport) {
    imdsguard_flow_key k;
    memset(&k, 0, sizeof k);
    k.src = src;
    k.dst = dst;
    k.src_port = sport;
    k.dst_port = dport;
    k.ip_proto = 6;
    k.vlan_count = 0;
    return k;
}

/* 192.0.2.10:49152 -> 169.254.169.254:80, the usual test flow. */
static inline imdsguard_flow_key ig_key_to_imds(void) {
    return ig_key(ig_ip4(192, 0, 2, 10), 49152, ig_ip4(169, 254, 169, 254), 80);
}

/* ---------------------------------------------------------------- events copied out */

/* Everything an event carries, copied out of the library (the borrowed strings are only
 * valid until the next call on the flow), plus its EVE-JSON rendering. */
typedef struct ig_rec {
    uint64_t timestamp_us, tx_id, http_anomalies;
    int has_tx, has_http, has_responder_ttl;
    uint32_t signature_id, signature_rev, indicators;
    uint8_t severity, stage, provider, decision, responder_ttl;
    uint16_t http_status;
    char signature[128], stage_name[32], provider_name[32];
    char suppressed_by[256];
    char hostname[128], url[256], method[32], user_agent[256], protocol[32];
    char *eve; /* malloc'd, exactly as large as the library said */
} ig_rec;

#define IG_MAX_RECS 32

typedef struct ig_recs {
    ig_rec r[IG_MAX_RECS];
    size_t n;
    int errors; /* statuses that were not what the protocol promises */
} ig_recs;

static inline void ig_rec_from_event(ig_rec *r, const imdsguard_event *e) {
    memset(r, 0, sizeof *r);
    r->timestamp_us = e->timestamp_us;
    r->tx_id = e->tx_id;
    r->has_tx = e->has_tx;
    r->signature_id = e->signature_id;
    r->signature_rev = e->signature_rev;
    snprintf(r->signature, sizeof r->signature, "%s", e->signature ? e->signature : "(null)");
    r->severity = e->severity;
    r->stage = e->stage;
    snprintf(r->stage_name, sizeof r->stage_name, "%s", e->stage_name ? e->stage_name : "(null)");
    r->provider = e->provider;
    snprintf(r->provider_name, sizeof r->provider_name, "%s",
             e->provider_name ? e->provider_name : "(null)");
    r->indicators = e->indicators;
    r->http_anomalies = e->http_anomalies;
    r->decision = e->decision;
    ig_str_copy(r->suppressed_by, sizeof r->suppressed_by, e->suppressed_by);
    r->has_http = e->has_http;
    ig_str_copy(r->hostname, sizeof r->hostname, e->http_hostname);
    ig_str_copy(r->url, sizeof r->url, e->http_url);
    ig_str_copy(r->method, sizeof r->method, e->http_method);
    ig_str_copy(r->user_agent, sizeof r->user_agent, e->http_user_agent);
    ig_str_copy(r->protocol, sizeof r->protocol, e->http_protocol);
    r->http_status = e->http_status;
    r->has_responder_ttl = e->has_responder_ttl;
    r->responder_ttl = e->responder_ttl;
}

/* Asks the size, then renders into a buffer of exactly that size (ASan and valgrind see any
 * write past it). NULL on a protocol error. */
static inline char *ig_flow_eve(imdsguard_flow *flow) {
    size_t needed = 0, again = 0;
    char *buf;
    if (imdsguard_flow_event_eve(flow, NULL, 0, &needed) != IMDSGUARD_BUFFER_TOO_SMALL ||
        needed < 2) {
        return NULL;
    }
    buf = (char *)malloc(needed);
    if (buf == NULL) {
        return NULL;
    }
    if (imdsguard_flow_event_eve(flow, buf, needed, &again) != IMDSGUARD_OK || again != needed ||
        strlen(buf) + 1 != needed) {
        free(buf);
        return NULL;
    }
    return buf;
}

static inline char *ig_tracker_eve(imdsguard_tracker *t) {
    size_t needed = 0, again = 0;
    char *buf;
    if (imdsguard_tracker_event_eve(t, NULL, 0, &needed) != IMDSGUARD_BUFFER_TOO_SMALL ||
        needed < 2) {
        return NULL;
    }
    buf = (char *)malloc(needed);
    if (buf == NULL) {
        return NULL;
    }
    if (imdsguard_tracker_event_eve(t, buf, needed, &again) != IMDSGUARD_OK || again != needed ||
        strlen(buf) + 1 != needed) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Takes every pending event of a flow into `out`. Returns how many were taken. */
static inline size_t ig_take_flow_events(imdsguard_flow *flow, ig_recs *out) {
    size_t taken = 0;
    for (;;) {
        imdsguard_event e;
        uint32_t rc = imdsguard_flow_next_event(flow, &e);
        if (rc == IMDSGUARD_NO_EVENT) {
            break;
        }
        if (rc != IMDSGUARD_OK || out->n == IG_MAX_RECS) {
            out->errors++;
            break;
        }
        ig_rec_from_event(&out->r[out->n], &e);
        out->r[out->n].eve = ig_flow_eve(flow);
        if (out->r[out->n].eve == NULL) {
            out->errors++;
        }
        out->n++;
        taken++;
    }
    return taken;
}

static inline size_t ig_take_tracker_events(imdsguard_tracker *t, ig_recs *out) {
    size_t taken = 0;
    for (;;) {
        imdsguard_event e;
        uint32_t rc = imdsguard_tracker_next_event(t, &e);
        if (rc == IMDSGUARD_NO_EVENT) {
            break;
        }
        if (rc != IMDSGUARD_OK || out->n == IG_MAX_RECS) {
            out->errors++;
            break;
        }
        ig_rec_from_event(&out->r[out->n], &e);
        out->r[out->n].eve = ig_tracker_eve(t);
        if (out->r[out->n].eve == NULL) {
            out->errors++;
        }
        out->n++;
        taken++;
    }
    return taken;
}

static inline void ig_recs_free(ig_recs *rs) {
    size_t i;
    for (i = 0; i < rs->n; i++) {
        free(rs->r[i].eve);
        rs->r[i].eve = NULL;
    }
    rs->n = 0;
    rs->errors = 0;
}

/* 1 when two events are the same in every field and in their EVE rendering. */
static inline int ig_rec_equal(const ig_rec *a, const ig_rec *b) {
    return a->timestamp_us == b->timestamp_us && a->tx_id == b->tx_id &&
           a->has_tx == b->has_tx && a->signature_id == b->signature_id &&
           a->signature_rev == b->signature_rev && strcmp(a->signature, b->signature) == 0 &&
           a->severity == b->severity && a->stage == b->stage &&
           strcmp(a->stage_name, b->stage_name) == 0 && a->provider == b->provider &&
           strcmp(a->provider_name, b->provider_name) == 0 && a->indicators == b->indicators &&
           a->http_anomalies == b->http_anomalies && a->decision == b->decision &&
           strcmp(a->suppressed_by, b->suppressed_by) == 0 && a->has_http == b->has_http &&
           strcmp(a->hostname, b->hostname) == 0 && strcmp(a->url, b->url) == 0 &&
           strcmp(a->method, b->method) == 0 && strcmp(a->user_agent, b->user_agent) == 0 &&
           strcmp(a->protocol, b->protocol) == 0 && a->http_status == b->http_status &&
           a->has_responder_ttl == b->has_responder_ttl &&
           a->responder_ttl == b->responder_ttl && a->eve != NULL && b->eve != NULL &&
           strcmp(a->eve, b->eve) == 0;
}

/* 1 when two event sequences are equal (same length, pairwise equal, no errors). */
static inline int ig_recs_equal(const ig_recs *a, const ig_recs *b) {
    size_t i;
    if (a->n != b->n || a->errors != 0 || b->errors != 0) {
        return 0;
    }
    for (i = 0; i < a->n; i++) {
        if (!ig_rec_equal(&a->r[i], &b->r[i])) {
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- feeding */

/*
 * Feeds a conversation into a flow with imdsguard_flow_feed, each chunk in pieces of at most
 * `piece` bytes (0: whole chunks), every piece in its own malloc'd buffer freed right after
 * the call (so that a library that kept a pointer to it would be caught by ASan/valgrind);
 * gaps go to imdsguard_flow_gap. Then closes the flow. Events are taken after every call.
 * Returns the number of calls that did not return IMDSGUARD_OK or broke the result contract.
 */
static inline int ig_feed_conv(imdsguard_flow *flow, const ig_conv *c, size_t piece,
                               ig_recs *out) {
    int bad = 0;
    size_t i;
    for (i = 0; i < c->n; i++) {
        const ig_chunk *ch = &c->chunks[i];
        size_t off = 0;
        if (ch->gap) {
            bad += imdsguard_flow_gap(flow, ch->dir, (uint64_t)ch->len) != IMDSGUARD_OK;
            ig_take_flow_events(flow, out);
            continue;
        }
        while (off < ch->len) {
            size_t n = piece == 0 || ch->len - off < piece ? ch->len - off : piece;
            imdsguard_feed_result r;
            uint8_t *copy = (uint8_t *)malloc(n);
            uint32_t rc;
            if (copy == NULL) {
                return bad + 1;
            }
            memcpy(copy, ch->bytes + off, n);
            memset(&r, 0xA5, sizeof r);
            rc = imdsguard_flow_feed(flow, ch->dir, copy, n, &r);
            free(copy);
            if (rc != IMDSGUARD_OK || r.status != IMDSGUARD_OK || r.consumed != n ||
                r.needed != 0) {
                bad++;
            }
            if (ig_take_flow_events(flow, out) != r.pending_events) {
                bad++;
            }
            off += n;
        }
    }
    bad += imdsguard_flow_close(flow) != IMDSGUARD_OK;
    ig_take_flow_events(flow, out);
    return bad + out->errors;
}

/* Creates a flow for `key` on `engine`, feeds `c` in pieces, frees the flow. */
static inline int ig_run_conv(const imdsguard_engine *engine, const imdsguard_flow_key *key,
                              const ig_conv *c, size_t piece, ig_recs *out) {
    imdsguard_flow *flow = NULL;
    int bad;
    if (imdsguard_flow_new(engine, key, &flow) != IMDSGUARD_OK || flow == NULL) {
        return 1;
    }
    bad = ig_feed_conv(flow, c, piece, out);
    imdsguard_flow_free(flow);
    return bad;
}

#endif /* IMDSGUARD_FFI_TESTS_COMMON_H */
