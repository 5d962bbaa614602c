#!/usr/bin/env python3
"""A fake AWS instance-metadata service (IMDS) for imdsguard's test captures.

It plays the third party of AWS security bulletin AWS-2025-021: something on an on-premises
network that answers the requests AWS tools send to 169.254.169.254 when they run outside EC2.
Only the Python standard library is used. It is meant to run inside a network namespace made by
scripts/make-captures, never on a real network.

Implemented, as the real IMDS does it:
  PUT /latest/api/token                  needs X-aws-ec2-metadata-token-ttl-seconds (1..21600),
                                         answers the token and echoes the TTL header; a request
                                         carrying X-Forwarded-For is refused (403)
  GET /latest/meta-data/                 the category listing
  GET /latest/meta-data/instance-id
  GET /latest/meta-data/placement/availability-zone[/]
  GET /latest/meta-data/iam/security-credentials/          the role name
  GET /latest/meta-data/iam/security-credentials/<role>    the credential document
IMDSv1 (no token) and IMDSv2 (X-aws-ec2-metadata-token) are both accepted; a wrong token gets
401. Every answer has `Server: EC2ws` and `Content-Type: text/plain`. Connections are HTTP/1.1
keep-alive. The listening sockets use IP TTL 1 / IPv6 hop limit 1 like the real service.

All credential values are obviously fake and fixed, so that captures are reproducible.

Usage: fake-imds.py [--port 80] [--log FILE] ADDRESS...
"""

import argparse
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = "imdsguard-test-role"
TOKEN = "AQAEAIMDSGUARD-FAKE-TOKEN-for-test-captures-only-0000000000=="
INSTANCE_ID = "i-0123456789abcdef0"
AZ = "us-east-1a"
CREDENTIALS = (
    "{\n"
    '  "Code" : "Success",\n'
    '  "LastUpdated" : "2025-01-01T00:00:00Z",\n'
    '  "Type" : "AWS-HMAC",\n'
    '  "AccessKeyId" : "ASIAIMDSGUARDEXAMPLE",\n'
    '  "SecretAccessKey" : "FAKEfakeFAKEfakeIMDSGUARDtestONLYnotAkey0",\n'
    '  "Token" : "FAKE-SESSION-TOKEN/imdsguard-test-capture/not-a-real-credential/'
    + "x" * 160
    + '==",\n'
    '  "Expiration" : "2099-12-31T23:59:59Z"\n'
    "}"
)
META_DATA_LISTING = "\n".join(
    [
        "ami-id",
        "hostname",
        "iam/",
        "instance-id",
        "instance-type",
        "local-ipv4",
        "placement/",
    ]
)
MAX_TTL = 21600


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"
    sys_version = ""

    def version_string(self):
        return "EC2ws"

    def log_message(self, fmt, *args):
        log = self.server.log
        if log is not None:
            log.write("%s %s\n" % (self.client_address[0], fmt % args))
            log.flush()

    def answer(self, status, body, extra=()):
        data = body.encode()
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Accept-Ranges", "none")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0") or "0")
        if length:
            self.rfile.read(min(length, 65536))
        if self.path != "/latest/api/token":
            self.answer(404, not_found())
            return
        if self.headers.get("X-Forwarded-For") is not None:
            self.answer(403, "Forbidden")
            return
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        try:
            seconds = int(ttl)
        except (TypeError, ValueError):
            seconds = 0
        if not 1 <= seconds <= MAX_TTL:
            self.answer(400, "Bad Request")
            return
        self.answer(
            200,
            TOKEN,
            [("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", str(seconds))],
        )

    def do_GET(self):
        token = self.headers.get("X-aws-ec2-metadata-token")
        if token is not None and token != TOKEN:
            self.answer(401, "Unauthorized")
            return
        path = self.path.split("?", 1)[0]
        body = route(path)
        if body is None:
            self.answer(404, not_found())
        else:
            self.answer(200, body)

    do_HEAD = do_GET


def route(path):
    if path in ("/latest/meta-data", "/latest/meta-data/"):
        return META_DATA_LISTING
    if path in ("/latest/meta-data/instance-id", "/latest/meta-data/instance-id/"):
        return INSTANCE_ID
    if path in (
        "/latest/meta-data/placement/availability-zone",
        "/latest/meta-data/placement/availability-zone/",
    ):
        return AZ
    if path in (
        "/latest/meta-data/iam/security-credentials",
        "/latest/meta-data/iam/security-credentials/",
    ):
        return ROLE
    if path in (
        "/latest/meta-data/iam/security-credentials/" + ROLE,
        "/latest/meta-data/iam/security-credentials/" + ROLE + "/",
    ):
        return CREDENTIALS
    return None


def not_found():
    return (
        '<?xml version="1.0" encoding="iso-8859-1"?>\n'
        "<html><head><title>404 - Not Found</title></head>"
        "<body><h1>404 - Not Found</h1></body></html>\n"
    )


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    log = None

    def server_bind(self):
        # The real IMDS answers with TTL / hop limit 1 so that its answers cannot be routed
        # further than the instance. The accepted sockets inherit the listener's value.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
        else:
            self.socket.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
        super().server_bind()


def serve(address, port, log):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    cls = type("Server%d" % family, (Server,), {"address_family": family})
    httpd = cls((address, port), Handler)
    httpd.log = log
    httpd.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("addresses", nargs="+")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--log")
    args = parser.parse_args()
    log = open(args.log, "a", buffering=1) if args.log else None
    threads = []
    for address in args.addresses:
        t = threading.Thread(target=serve, args=(address, args.port, log), daemon=True)
        t.start()
        threads.append(t)
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
