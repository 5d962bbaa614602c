>>>
GET / HTTP/1.1
Host: localhost:8080
User-Agent: python-requests/2.31.0
Accept-Encoding: gzip, deflate
Accept: */*
Connection: keep-alive


<<<
HTTP/1.1 200 OK

<<<
Content-Type: text/html

<<<
Content-Length: 19


<<<
<html>root
</html>
HTTP/1.1 200 OK
Content-Type: text/html
Content-Length: 19

<html>root
</html>
HTTP/1.1 200 OK
Content-Type: text/html
Content-Length: 19

<html>root
</html>

>>>
GET / HTTP/1.1
Host: localhost:8080
User-Agent: python-requests/2.31.0
Accept-Encoding: gzip, deflate
Accept: */*
Connection: keep-alive


<<<
HTTP/1.1 200 OK

<<<
Content-Type: text/html

<<<
Content-Length: 19


<<<
<html>root
</html>

>>>
GET / HTTP/1.1
Host: localhost:8080
User-Agent: python-requests/2.31.0
Accept-Encoding: gzip, deflate
Accept: */*
Connection: keep-alive


<<<
HTTP/1.1 200 OK

<<<
Content-Type: text/html

<<<
Content-Length: 19


<<<
<html>root
</html>

>>>
GET / HTTP/1.1
Host: localhost:8080
User-Agent: python-requests/2.31.0
Accept-Encoding: gzip, deflate
Accept: */*
Connection: keep-alive


<<<
HTTP/1.1 200 OK

<<<
Content-Type: text/html

<<<
Content-Length: 19

<html>root
</html>

>>>
GET / HTTP/1.1
Host: localhost:8080
User-Agent: python-requests/2.31.0
Accept-Encoding: gzip, deflate
Accept: */*
Connection: keep-alive


<<<
HTTP/1.1 200 OK

<<<
Content-Type: text/html
Content-Length: 19

<html>root
</html>
