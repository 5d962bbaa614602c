?€>>>
POST abcd12345

<<<
HTTP/1.1 400 Bad Request
Server: nginx/1.1.9
Connection: close


>>>
USER abab1212 "zz" "yy" :f6e1 l6e13
