>>>
GET /non_printable_literal_%5Cx07 HTTP/1.1
Accept-Encoding: identity
Host: 172.24.0.3
User-Agent: Python-urllib/3.12
Connection: close


<<<
HTTP/1.0 404 File not found
Server: SimpleHTTP/0.6 Python/3.12.3
Date: Wed, 31 Jul 2024 16:22:59 GMT
Connection: close
Content-Type: text/html;charset=utf-8
Content-Length: 335


<<<
<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: 404</p>
        <p>Message: File not found.</p>
        <p>Error code explanation: 404 - Nothing matches the given URI.</p>
    </body>
</html>
