>>>
PUT /latest/api/token HTTP/1.1
Host: 169.254.169.254
Expect: 100-continue
Content-Length: 10


<<<
HTTP/1.1 417 Expectation Failed
Content-Length: 0


>>>
GET /computeMetadata/v1/ HTTP/1.1
Host: metadata.google.internal
Metadata-Flavor: Google

