>>>
GET /index.html HTTP/1.0
Host: www.google.org
User-Agent: Mozilla/5.0

<<<
HTTP/1.0 200 message
Content-Type: text/htmlContent-Length: 7

