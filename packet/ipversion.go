package packet

import "fmt"

// IPVersion is the address family of a run (packetdrill's --ip_version):
// of the sockets under test and, through Wire, of the packets the device
// carries. The runtime, the sandbox (tun) and the command line share it.
type IPVersion int

// The values of --ip_version.
const (
	VersionIPv4           IPVersion = 4
	VersionIPv6           IPVersion = 6
	VersionIPv4MappedIPv6 IPVersion = 46 // AF_INET6 sockets, IPv4 on the wire
)

// String returns the --ip_version spelling of v.
func (v IPVersion) String() string {
	switch v {
	case VersionIPv4:
		return "ipv4"
	case VersionIPv6:
		return "ipv6"
	case VersionIPv4MappedIPv6:
		return "ipv4-mapped-ipv6"
	}
	return fmt.Sprintf("IPVersion(%d)", int(v))
}

// ParseIPVersion parses an --ip_version value.
func ParseIPVersion(s string) (IPVersion, error) {
	for _, v := range []IPVersion{VersionIPv4, VersionIPv4MappedIPv6, VersionIPv6} {
		if s == v.String() {
			return v, nil
		}
	}
	return 0, fmt.Errorf("bad --ip_version %q: want ipv4, ipv4-mapped-ipv6 or ipv6", s)
}

// Wire is the family of packets on the wire: IPv4 for both IPv4 and
// IPv4MappedIPv6.
func (v IPVersion) Wire() IPVersion {
	if v == VersionIPv4MappedIPv6 {
		return VersionIPv4
	}
	return v
}
