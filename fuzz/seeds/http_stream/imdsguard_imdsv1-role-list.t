>>>
GET /latest/meta-data/iam/security-credentials/ HTTP/1.1
Host: 169.254.169.254
User-Agent: curl/8.5.0
Accept: */*


<<<
HTTP/1.1 200 OK
Server: EC2ws
Content-Length: 8

web-role