>>>
GET /1 HTTP/1.0
User-Agent: Mozilla


<<<
HTTP/1.0 200 OK
Date: Mon, 31 Aug 2009 20:25:50 GMT
Server: Apache
Connection: close
Content-Type: text/html
Content-Length: 12


<<<
Hello World!

>>>
GET /2 HTTP/1.0
User-Agent: Mozilla


<<<
HTTP/1.0 200 OK
Server: Apache
Connection: close
Content-Type: text/html
Content-Length: 70


<<<
AAAAAAAAAAAAAA
<><
GGGGGGGGGGGGGG
<<<
AAAAAAAAAAAAAA
<<<
AAAAAAAAAAAAAA
<<<
AAAAAAAAAAAAAA
>>>
GET /3 HTTP/1.0
User-Agent: Mozilla


<<<
HTTP/1.0 200 OK
Server: Apache
Connection: close
Content-Type: text/html
Content-Length: 12

Hello People
