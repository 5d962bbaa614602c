?€>>>
CONNECT 169.254.169.254:80 HTTP/1.1
Host: 169.254.169.254:80


<<<
HTTP/1.1 200 Connection established


>>>
GET /latest/meta-data/ HTTP/1.1
Host: 169.254.169.254


<<<
HTTP/1.1 200 OK
Content-Length: 3

ami