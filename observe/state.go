package observe

import (
	"net/netip"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// TCP states as numbered by Linux (include/net/tcp_states.h), named as in
// RFC 9293 §3.3.2 with Linux's underscores. TCP_NEW_SYN_RECV is a request
// socket, which inet_diag already reports as SYN_RECV.
var stateNames = [...]string{
	1:  "ESTABLISHED",
	2:  "SYN_SENT",
	3:  "SYN_RECV",
	4:  "FIN_WAIT1",
	5:  "FIN_WAIT2",
	6:  "TIME_WAIT",
	7:  "CLOSED",
	8:  "CLOSE_WAIT",
	9:  "LAST_ACK",
	10: "LISTEN",
	11: "CLOSING",
	12: "SYN_RECV",
}

// StateName names a Linux TCP state number; unknown numbers print as
// "STATE(n)".
func StateName(n uint8) string {
	if int(n) < len(stateNames) && stateNames[n] != "" {
		return stateNames[n]
	}
	return "STATE(" + strconv.Itoa(int(n)) + ")"
}

// Probe returns the kernel's TCP state of the connection between local and
// remote ("ip:port", wire addresses, as the runtime's StateProbe gets
// them), asked with sock_diag (inet_diag). Unlike TCP_INFO on a file
// descriptor, sock_diag also sees request sockets (SYN_RECV) and
// time-wait sockets, which have no descriptor. An empty remote asks for
// the listener on local's port. The connection is "CLOSED" when the
// kernel has no socket for it, and "" when it cannot be asked.
//
// A known 4-tuple is one hash lookup in the kernel (microseconds); only a
// local port not yet known (a connect before its SYN was seen) needs a
// dump.
func Probe(local, remote string) string {
	l, err := netip.ParseAddrPort(local)
	if err != nil {
		return ""
	}
	var r netip.AddrPort
	if remote != "" {
		if r, err = netip.ParseAddrPort(remote); err != nil {
			return ""
		}
	}
	// An IPv4 connection may live in an AF_INET6 socket (IPv4-mapped
	// addresses), so an IPv4 miss looks in AF_INET6 too.
	families := []uint8{syscall.AF_INET6}
	if l.Addr().Unmap().Is4() {
		families = []uint8{syscall.AF_INET, syscall.AF_INET6}
	}
	asked := false
	for _, fam := range families {
		var s *diagSocket
		switch {
		case r.IsValid() && l.Port() != 0:
			got, found, err := diagLookup(fam, l, r)
			if err != nil {
				continue
			}
			asked = true
			// The lookup falls back to a listener, which is not this
			// connection.
			if found && got.state != tcpListen {
				s = &got
			}
		default:
			states := uint32(allStates)
			if !r.IsValid() {
				states = 1 << tcpListen
			}
			socks, err := diagDump(fam, states)
			if err != nil {
				continue
			}
			asked = true
			s = match(socks, l, r)
		}
		if s != nil {
			return StateName(s.state)
		}
	}
	if !asked {
		return ""
	}
	return "CLOSED"
}

const (
	tcpClose  = 7
	tcpListen = 10
)

// ProbeConn is Probe with a shortcut for a connection whose socket has a
// descriptor in this process (fd, else -1): TCP_INFO on it reads the same
// sk_state in one getsockopt, where a sock_diag round trip took 8-45 µs
// (and each probe's cost delays a +0 event after it). A socket that says
// CLOSE may have left a time-wait socket behind (a FIN after
// shutdown(SHUT_WR)), which only sock_diag sees.
func ProbeConn(local, remote string, fd int) string {
	if fd >= 0 {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err == nil && info.State != tcpClose {
			return StateName(info.State)
		}
	}
	return Probe(local, remote)
}

// match finds the socket of the connection l-r; port 0 in l matches any
// local port (a connect before its SYN was seen). With no remote, it finds
// the listener bound to l's port.
func match(socks []diagSocket, l, r netip.AddrPort) *diagSocket {
	for i := range socks {
		s := &socks[i]
		src, dst := s.src.Addr().Unmap(), s.dst.Addr().Unmap()
		if !r.IsValid() {
			if s.state == tcpListen && s.src.Port() == l.Port() && (src == l.Addr().Unmap() || src.IsUnspecified()) {
				return s
			}
			continue
		}
		if s.state == tcpListen {
			continue
		}
		if l.Port() != 0 && s.src.Port() != l.Port() {
			continue
		}
		if s.dst.Port() != r.Port() || dst != r.Addr().Unmap() {
			continue
		}
		if src == l.Addr().Unmap() || l.Addr().IsUnspecified() {
			return s
		}
	}
	return nil
}
