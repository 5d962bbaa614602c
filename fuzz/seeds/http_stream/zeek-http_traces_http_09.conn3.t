>>>
T /zeek.html

<<<
bad method
