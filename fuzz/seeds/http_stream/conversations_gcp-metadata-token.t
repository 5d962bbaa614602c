>>>
GET /computeMetadata/v1/instance/service-accounts/default/token HTTP/1.1
Host: metadata.google.internal
User-Agent: google-api-go-client/0.5
Metadata-Flavor: Google
Accept-Encoding: gzip


<<<
HTTP/1.1 200 OK
Metadata-Flavor: Google
Content-Type: application/json
Content-Length: 71
Server: Metadata Server for VM

{"access_token":"ya29.EXAMPLE","expires_in":3599,"token_type":"Bearer"}