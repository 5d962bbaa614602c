>>>
GET /clen/eicar.txt/close,clen50-folding100,content HTTP/1.1
Host: evader.example.com


<<<
HTTP/1.1 200 ok
Content-type: application/octet-stream
Content-disposition: attachment; filename="eicar.txt"
Connection: close
Content-length: 34
 68

X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*