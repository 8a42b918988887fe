module github.com/godrill/godrill

go 1.26.8

require (
	github.com/alecthomas/participle/v2 v2.1.4
	github.com/cavaliergopher/cpio v1.0.1
	github.com/gopacket/gopacket v1.7.7
	github.com/rogpeppe/go-internal v1.16.0
	github.com/songgao/water v0.0.0-20200317203138-2b4b6d7c09d8
	github.com/ulikunitz/xz v0.5.17
	github.com/vishvananda/netlink v1.3.1
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
	golang.org/x/net v0.55.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.44.0
)

require (
	github.com/vishvananda/netns v0.0.5 // indirect
	golang.org/x/tools v0.26.0 // indirect
)
