package observe

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func sock(state uint8, src string, sport uint16, dst string, dport uint16) diagSocket {
	return diagSocket{
		state: state,
		src:   netip.AddrPortFrom(netip.MustParseAddr(src), sport),
		dst:   netip.AddrPortFrom(netip.MustParseAddr(dst), dport),
	}
}

func TestProbe(t *testing.T) {
	v4 := []diagSocket{
		sock(10, "0.0.0.0", 8080, "0.0.0.0", 0),
		sock(6, "192.168.0.1", 8080, "192.0.2.1", 40000),
		sock(11, "192.168.0.1", 8080, "192.0.2.1", 40001),
	}
	v6 := []diagSocket{
		sock(12, "::ffff:192.168.0.1", 9090, "::ffff:192.0.2.1", 40002),
		sock(4, "fd3d::1", 8080, "fd3d::2", 40003),
	}
	defer func(d, l any) {
		diagDump = d.(func(uint8, uint32) ([]diagSocket, error))
		diagLookup = l.(func(uint8, netip.AddrPort, netip.AddrPort) (diagSocket, bool, error))
	}(diagDump, diagLookup)
	dump := func(fam uint8) []diagSocket {
		if fam == syscall.AF_INET {
			return v4
		}
		return v6
	}
	diagDump = func(fam uint8, states uint32) ([]diagSocket, error) {
		var out []diagSocket
		for _, s := range dump(fam) {
			if states&(1<<s.state) != 0 {
				out = append(out, s)
			}
		}
		return out, nil
	}
	// The kernel's lookup, written here rather than with the probe's own
	// matcher: the exact connection (IPv4-mapped addresses equal to IPv4
	// ones), else a listener on the local port.
	unmap := func(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }
	diagLookup = func(fam uint8, l, r netip.AddrPort) (diagSocket, bool, error) {
		for _, s := range dump(fam) {
			if unmap(s.src) == unmap(l) && unmap(s.dst) == unmap(r) {
				return s, true, nil
			}
		}
		for _, s := range dump(fam) {
			if s.state == 10 && s.src.Port() == l.Port() {
				return s, true, nil
			}
		}
		return diagSocket{}, false, nil
	}
	for _, tc := range []struct{ local, remote, want string }{
		{"192.168.0.1:8080", "192.0.2.1:40000", "TIME_WAIT"},
		{"192.168.0.1:8080", "192.0.2.1:40001", "CLOSING"},
		{"192.168.0.1:0", "192.0.2.1:40001", "CLOSING"},     // port not known yet
		{"192.168.0.1:9090", "192.0.2.1:40002", "SYN_RECV"}, // IPv4-mapped, request socket
		{"192.168.0.1:0", "192.0.2.1:40002", "SYN_RECV"},    // the same through the dump and Probe's matcher
		{"[fd3d::1]:8080", "[fd3d::2]:40003", "FIN_WAIT1"},  // IPv6
		{"192.168.0.1:8080", "192.0.2.1:40009", "CLOSED"},   // no socket
		{"192.168.0.1:8080", "", "LISTEN"},                  // the listener
		{"bogus", "192.0.2.1:1", ""},
	} {
		if got := Probe(tc.local, tc.remote); got != tc.want {
			t.Errorf("Probe(%q, %q) = %q, want %q", tc.local, tc.remote, got, tc.want)
		}
	}
	diagDump = func(uint8, uint32) ([]diagSocket, error) { return nil, errors.New("no netlink") }
	diagLookup = func(uint8, netip.AddrPort, netip.AddrPort) (diagSocket, bool, error) {
		return diagSocket{}, false, errors.New("no netlink")
	}
	if got := Probe("192.168.0.1:8080", "192.0.2.1:40000"); got != "" {
		t.Errorf("Probe without netlink = %q, want \"\"", got)
	}
}

func TestStateName(t *testing.T) {
	for n, want := range map[uint8]string{1: "ESTABLISHED", 4: "FIN_WAIT1", 6: "TIME_WAIT", 11: "CLOSING", 12: "SYN_RECV", 99: "STATE(99)"} {
		if got := StateName(n); got != want {
			t.Errorf("StateName(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestProbeConn asks for the states of a real loopback connection from its
// descriptors and without them: the two must agree, and a socket whose
// connection went on to TIME_WAIT while its descriptor stayed open (it
// says CLOSE) must be asked with sock_diag.
func TestProbeConn(t *testing.T) {
	lfd := tcpSocket(t)
	lsa := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := unix.Bind(lfd, lsa); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(lfd, 1); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(lfd)
	cfd := tcpSocket(t)
	if err := unix.Connect(cfd, sa); err != nil {
		t.Fatal(err)
	}
	sfd, _, err := unix.Accept(lfd)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sfd)
	name := func(fd int, peer bool) string {
		s, _ := unix.Getsockname(fd)
		if peer {
			s, _ = unix.Getpeername(fd)
		}
		in := s.(*unix.SockaddrInet4)
		return netip.AddrPortFrom(netip.AddrFrom4(in.Addr), uint16(in.Port)).String()
	}
	local, remote := name(cfd, false), name(cfd, true)
	for _, tc := range []struct {
		fd            int
		local, remote string
		want          string
	}{
		{cfd, local, remote, "ESTABLISHED"},
		{-1, local, remote, "ESTABLISHED"},
		{lfd, name(lfd, false), "", "LISTEN"},
		{-1, name(lfd, false), "", "LISTEN"},
	} {
		if got := ProbeConn(tc.local, tc.remote, tc.fd); got != tc.want {
			t.Errorf("ProbeConn(%s, %q, fd %d) = %q, want %q", tc.local, tc.remote, tc.fd, got, tc.want)
		}
	}
	// The client sends its FIN first and keeps its descriptor; the
	// server's FIN then puts the connection in TIME_WAIT.
	if err := unix.Shutdown(cfd, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(sfd, make([]byte, 1)); n != 0 || err != nil {
		t.Fatalf("server read %d, %v; want the client's FIN", n, err)
	}
	unix.Close(sfd)
	for range 1000 {
		if info, err := unix.GetsockoptTCPInfo(cfd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil && info.State == tcpClose {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if got := ProbeConn(local, remote, cfd); got != "TIME_WAIT" {
		t.Errorf("after both FINs, ProbeConn from the open descriptor = %q, want TIME_WAIT", got)
	}
}

func tcpSocket(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}
