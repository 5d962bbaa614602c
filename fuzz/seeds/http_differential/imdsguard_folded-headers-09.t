?€>>>
GET /latest/meta-data

GET / HTTP/1.1
Host:
 169.254.169.254
X-aws-ec2-metadata-token:	a
	b


<<<
HTTP/1.1 100 Continue

HTTP/1.1 200 OK

body until close