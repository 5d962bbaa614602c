€>>>
GET /latest/meta-data/iam/security-credentials/ HTTP/1.1
Host: 169.254.169.254
User-Agent: curl/7.88.1
Accept: */*


<<<
HTTP/1.1 200 OK
Content-Type: text/plain
Content-Length: 12
Server: EC2ws

onprem-admin