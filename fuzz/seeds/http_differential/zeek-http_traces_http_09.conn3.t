³…>>>
T /zeek.html

<<<
bad method
