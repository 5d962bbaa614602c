>>>
GET /chunked/eicar.txt/chunked-semicolon HTTP/1.1
Host: evader.example.com


<<<
HTTP/1.1 200 ok
Content-type: application/octet-stream
Content-disposition: attachment; filename="eicar.txt"
Transfer-Encoding: chunked;
Connection: close

5
X5O!P
5
%@AP[
5
4\PZX
5
54(P^
5
)7CC)
5
7}$EI
5
CAR-S
5
TANDA
5
RD-AN
5
TIVIR
5
US-TE
5
ST-FI
5
LE!$H
3
+H*
0

