>>>
GET /latest/meta-data/iam/security-credentials/role HTTP/1.1
Host: instance-data
X-aws-ec2-metadata-token: AQAE


<<<
HTTP/1.1 200 OK
Transfer-Encoding: chunked

1a;x=y
{"Code":"Success","AccessK

<><
xxxx
<<<
20
eyId":"AKIA","SecretAccessKey":"s
10
","Token":"t"}   
0
X-T: 1

