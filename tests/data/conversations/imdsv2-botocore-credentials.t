>>>
PUT /latest/api/token HTTP/1.1
Host: 169.254.169.254
Accept-Encoding: identity
User-Agent: Botocore/1.35.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy
Content-Length: 0
x-aws-ec2-metadata-token-ttl-seconds: 21600


<<<
HTTP/1.1 200 OK
Content-Type: text/plain
Accept-Ranges: none
Last-Modified: Mon, 30 Nov 2026 02:00:00 GMT
Content-Length: 56
Date: Mon, 30 Nov 2026 02:40:00 GMT
Server: EC2ws
X-Aws-Ec2-Metadata-Token-Ttl-Seconds: 21600

AQAEAKqZ1yHb4ixbnAm-_V7lV3TEvnB0I2B8nWH2dD5l0U0WpGkN0w==
>>>
GET /latest/meta-data/iam/security-credentials/ HTTP/1.1
Host: 169.254.169.254
Accept-Encoding: identity
User-Agent: Botocore/1.35.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy
x-aws-ec2-metadata-token: AQAEAKqZ1yHb4ixbnAm-_V7lV3TEvnB0I2B8nWH2dD5l0U0WpGkN0w==


<<<
HTTP/1.1 200 OK
Content-Type: text/plain
Accept-Ranges: none
Last-Modified: Mon, 30 Nov 2026 02:00:00 GMT
Content-Length: 12
Date: Mon, 30 Nov 2026 02:40:00 GMT
Server: EC2ws

onprem-admin
>>>
GET /latest/meta-data/iam/security-credentials/onprem-admin HTTP/1.1
Host: 169.254.169.254
Accept-Encoding: identity
User-Agent: Botocore/1.35.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy
x-aws-ec2-metadata-token: AQAEAKqZ1yHb4ixbnAm-_V7lV3TEvnB0I2B8nWH2dD5l0U0WpGkN0w==


<<<
HTTP/1.1 200 OK
Content-Type: text/plain
Accept-Ranges: none
Last-Modified: Mon, 30 Nov 2026 02:00:00 GMT
Content-Length: 282
Date: Mon, 30 Nov 2026 02:40:00 GMT
Server: EC2ws

{
  "Code" : "Success",
  "LastUpdated" : "2026-11-30T02:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAEXAMPLEEXAMPLE00",
  "SecretAccessKey" : "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "Token" : "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
  "Expiration" : "2026-11-30T08:00:00Z"
}