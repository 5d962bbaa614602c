/*
 * Two Rust staticlibs in one C program (`make link`; not part of `make test`, it needs the
 * second lib): imdsguard, packaged by scripts/package-staticlib (only imdsguard_* global),
 * and ffi-tests/second-rust-lib, each with its own copy of Rust's std. The program uses both
 * runtimes interleaved: allocation, formatting, and a panic caught inside each library
 * (each with its own unwinder data and personality routine).
 *
 * EXPECT_TEST_PANIC=1: linked against a package built with the test-panic feature, the
 * trigger panics (IMDSGUARD_PANIC, then POISONED). EXPECT_TEST_PANIC=0: the production
 * package (target/dist), where the same bytes are ordinary data (IMDSGUARD_OK).
 */
#include "common.h"

#ifndef EXPECT_TEST_PANIC
#define EXPECT_TEST_PANIC 0
#endif

/* ffi-tests/second-rust-lib/src/lib.rs: a + b through a String; UINT32_MAX on overflow
 * (a panic caught inside that library). */
uint32_t other_rust_add(uint32_t a, uint32_t b);

int main(void) {
    static const char req[] = "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";
    static const char trigger[] = "imdsguard:test-panic";
    imdsguard_engine *e = NULL;
    imdsguard_flow *f = NULL, *p = NULL;
    imdsguard_flow_key key = ig_key_to_imds();
    imdsguard_event ev;
    int i;

    CHECK_INT(other_rust_add(2, 3), 5);
    CHECK_INT(other_rust_add(0xffffffffu, 3), 0xffffffffu); /* its panic, caught by it */
    CHECK_STR(imdsguard_version(), IMDSGUARD_VERSION);
    CHECK_STATUS(imdsguard_engine_new((const uint8_t *)"suppress src 10.0.0.0/8", 23, NULL, &e),
                 IMDSGUARD_OK);
    for (i = 0; i < 100; i++) { /* the two allocators, interleaved */
        imdsguard_flow *g = NULL;
        CHECK_INT(other_rust_add((uint32_t)i, 1000), (uint32_t)i + 1000);
        CHECK_STATUS(imdsguard_flow_new(e, &key, &g), IMDSGUARD_OK);
        imdsguard_flow_free(g);
    }
    CHECK_STATUS(imdsguard_flow_new(e, &key, &f), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_feed(f, 0, (const uint8_t *)req, strlen(req), NULL), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_close(f), IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_next_event(f, &ev), IMDSGUARD_OK);
    CHECK_INT(ev.signature_id, 4210003);
    {
        char *eve = ig_flow_eve(f);
        CHECK(eve != NULL && strstr(eve, "\"signature_id\":4210003") != NULL);
        free(eve);
    }

    /* imdsguard's panic, caught at its boundary, with the other library linked in. */
    CHECK_STATUS(imdsguard_flow_new(e, &key, &p), IMDSGUARD_OK);
#if EXPECT_TEST_PANIC
    CHECK_STATUS(imdsguard_flow_feed(p, 0, (const uint8_t *)trigger, strlen(trigger), NULL),
                 IMDSGUARD_PANIC);
    CHECK_STATUS(imdsguard_flow_close(p), IMDSGUARD_POISONED);
#else
    CHECK_STATUS(imdsguard_flow_feed(p, 0, (const uint8_t *)trigger, strlen(trigger), NULL),
                 IMDSGUARD_OK);
    CHECK_STATUS(imdsguard_flow_close(p), IMDSGUARD_OK);
#endif
    imdsguard_flow_free(p);
    CHECK_INT(other_rust_add(0xfffffff0u, 0x100), 0xffffffffu); /* and theirs still works */
    CHECK_INT(other_rust_add(40, 2), 42);

    imdsguard_flow_free(f);
    imdsguard_engine_free(e);
    printf("imdsguard %s and second-rust-lib in one program (test-panic package: %s)\n",
           imdsguard_version(), EXPECT_TEST_PANIC ? "yes" : "no");
    return TEST_FINISH();
}
