>>>
GET /gen.php?generate=191636955/-394717567&hwid=-53127817
Host: 5.8.88.25
Connection:keep-alive
Upgrade-Insecure-Requests:1
User-Agent:Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.87 Safari/537.36
Accept:text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8
Accept-Language:en-US;q=0.6,en;q=0.4
Accept-Encoding:gzip, deflate



<<<
xzscxc#$#AzMTax4wGxA5DSBkODw8e3d3PCsADwwXfXdienNreXM=$#$vxxd