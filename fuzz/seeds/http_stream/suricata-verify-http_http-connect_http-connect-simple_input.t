>>>
CONNECT abc:443 HTTP/1.1
User-Agent: Victor/1.0



<<<
HTTP/1.1 200 OK
Server: VictorServer/1.0



>>>
GET / HTTP/1.1
User-Agent: Victor/1.0



<<<
HTTP/1.1 200 OK
Server: VictorServer/1.0

