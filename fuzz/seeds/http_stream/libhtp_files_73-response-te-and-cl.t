>>>
GET / HTTP/1.0


<<<
HTTP/1.0 200 OK
Date: Mon, 31 Aug 2009 20:25:50 GMT
Server: Apache
Connection: close
Content-Type: text/html
Content-Length: 10
Transfer-Encoding: chunked

9
012345678
1
9
0

