>>>
GET /

