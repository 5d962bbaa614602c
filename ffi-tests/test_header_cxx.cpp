// The header from C++ (-std=c++11 and -std=c++17, -Wall -Wextra -Wpedantic -Werror): the
// declarations are `extern "C"`, `imdsguard_status` is an enum with `uint32_t` underneath
// (so it has the C typedef's size), the macros are constant expressions. `make cxx` compiles
// it twice and also links the C++11 object against the staticlib and runs it.
#include "imdsguard.h"

#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_same<std::underlying_type<imdsguard_status>::type, uint32_t>::value,
              "imdsguard_status is a uint32_t in C and C++");
static_assert(sizeof(imdsguard_status) == sizeof(uint32_t), "status size");
static_assert(IMDSGUARD_OK == 0 && IMDSGUARD_PANIC == 106, "status values");
static_assert(IMDSGUARD_ABI_VERSION >= 1, "ABI version");
static_assert(std::is_standard_layout<imdsguard_event>::value, "C layout");
static_assert(std::is_trivially_copyable<imdsguard_flow_key>::value, "C layout");
static_assert(sizeof(imdsguard_ip) == 17, "imdsguard_ip: family + 16 bytes");
static_assert(sizeof(imdsguard_policy_error().message) == 256, "message buffer");

constexpr uint32_t kTokenEvidence = IMDSGUARD_IND_PATH_TOKEN | IMDSGUARD_IND_HDR_TOKEN_TTL;
static_assert(kTokenEvidence == 0x28, "indicator bits");

// The declarations have C linkage: their addresses fit C function pointer types.
extern "C" {
typedef imdsguard_status (*feed_fn)(imdsguard_flow *, uint8_t, const uint8_t *, size_t,
                                    imdsguard_feed_result *);
}
static const feed_fn feed = &imdsguard_flow_feed;

namespace {
unsigned passed = 0, failed = 0;

void check(bool ok, const char *what, int line) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::fprintf(stderr, "FAIL test_header_cxx.cpp:%d: %s\n", line, what);
    }
}
}  // namespace

#define CHECK(cond) check((cond), #cond, __LINE__)

int main() {
    imdsguard_engine *engine = nullptr;
    imdsguard_policy_error err = {};
    const char policy[] = "suppress src 10.0.0.0/8";
    imdsguard_status rc = imdsguard_engine_new(reinterpret_cast<const uint8_t *>(policy),
                                               std::strlen(policy), &err, &engine);
    CHECK(rc == IMDSGUARD_OK);
    CHECK(engine != nullptr);
    CHECK(std::strcmp(imdsguard_version(), IMDSGUARD_VERSION) == 0);
    CHECK(imdsguard_abi_version() == IMDSGUARD_ABI_VERSION);

    imdsguard_flow_key key = {};
    key.src.family = 4;
    key.src.addr[0] = 10, key.src.addr[3] = 1;
    key.dst.family = 4;
    const uint8_t imds[4] = {169, 254, 169, 254};
    std::memcpy(key.dst.addr, imds, 4);
    key.src_port = 40000, key.dst_port = 80, key.ip_proto = 6;

    uint8_t decision = 0;
    CHECK(imdsguard_engine_decide(engine, &key, IMDSGUARD_IND_DST_IMDS, IMDSGUARD_PROVIDER_AWS,
                                  &decision) == IMDSGUARD_OK);
    CHECK(decision == IMDSGUARD_DECISION_SUPPRESSED);

    imdsguard_flow *flow = nullptr;
    CHECK(imdsguard_flow_new(engine, &key, &flow) == IMDSGUARD_OK);
    const char req[] = "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n";
    imdsguard_feed_result r = {};
    CHECK(feed(flow, IMDSGUARD_DIR_TO_SERVER, reinterpret_cast<const uint8_t *>(req),
               std::strlen(req), &r) == IMDSGUARD_OK);
    CHECK(r.consumed == std::strlen(req));
    CHECK(imdsguard_flow_close(flow) == IMDSGUARD_OK);
    imdsguard_event ev = {};
    CHECK(imdsguard_flow_next_event(flow, &ev) == IMDSGUARD_OK);
    CHECK(ev.signature_id == 4210003);
    CHECK(ev.decision == IMDSGUARD_DECISION_SUPPRESSED);
    CHECK(imdsguard_flow_next_event(flow, &ev) == IMDSGUARD_NO_EVENT);
    // A status from C++ goes back into the C function that names it.
    CHECK(std::strcmp(imdsguard_status_str(IMDSGUARD_NO_EVENT), "no event") == 0);

    imdsguard_flow_free(flow);
    imdsguard_engine_free(engine);
    std::printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
