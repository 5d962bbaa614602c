/* imdsguard from C: one flow to the IMDS, a token request, its alert as EVE-JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imdsguard.h"

int main(void) {
    static const char req[] = "PUT /latest/api/token HTTP/1.1\r\n"
                              "Host: 169.254.169.254\r\n"
                              "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n";
    imdsguard_flow_key key = {.src = {.family = 4, .addr = {192, 0, 2, 10}},
                              .dst = {.family = 4, .addr = {169, 254, 169, 254}},
                              .src_port = 49152, .dst_port = 80, .ip_proto = 6};
    imdsguard_engine *engine = NULL;
    imdsguard_flow *flow = NULL;
    imdsguard_event ev;
    imdsguard_status rc;

    if (imdsguard_abi_version() != IMDSGUARD_ABI_VERSION) return 1;
    rc = imdsguard_engine_new(NULL, 0, NULL, &engine); /* empty policy: alert on all */
    if (rc == IMDSGUARD_OK) rc = imdsguard_flow_new(engine, &key, &flow);
    imdsguard_engine_free(engine); /* the flow keeps what it needs */
    if (rc != IMDSGUARD_OK) {
        fprintf(stderr, "imdsguard: %s\n", imdsguard_status_str(rc));
        return 1;
    }
    imdsguard_flow_feed(flow, IMDSGUARD_DIR_TO_SERVER, (const uint8_t *)req, strlen(req), NULL);
    imdsguard_flow_close(flow); /* end of connection: pending verdicts are given */

    while ((rc = imdsguard_flow_next_event(flow, &ev)) == IMDSGUARD_OK) {
        size_t needed = 0;
        char *eve;
        printf("[1:%u:%u] %s (stage %s)\n", ev.signature_id, ev.signature_rev,
               ev.signature, ev.stage_name);
        if (ev.has_http) /* borrowed bytes, not NUL-terminated, valid until the next call */
            printf("  %.*s %.*s\n", (int)ev.http_method.len, (const char *)ev.http_method.ptr,
                   (int)ev.http_url.len, (const char *)ev.http_url.ptr);
        imdsguard_flow_event_eve(flow, NULL, 0, &needed); /* BUFFER_TOO_SMALL: size */
        if ((eve = malloc(needed)) != NULL &&
            imdsguard_flow_event_eve(flow, eve, needed, &needed) == IMDSGUARD_OK)
            printf("%s\n", eve);
        free(eve);
    }
    imdsguard_flow_free(flow);
    return rc == IMDSGUARD_NO_EVENT ? 0 : 1;
}
