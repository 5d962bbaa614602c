>>>
GET /index.html HTTP/1.1
Host: www.example.com
User-Agent: curl/7.88.1
Accept: */*


<<<
HTTP/1.1 200 OK
Content-Type: text/html
Content-Length: 51
Server: nginx

<!doctype html><title>Example</title><p>Hello.</p>

>>>
GET /favicon.ico HTTP/1.1
Host: www.example.com
User-Agent: curl/7.88.1
Accept: */*


<<<
HTTP/1.1 404 Not Found
Content-Length: 0
Server: nginx

