package observe

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"syscall"
)

// diagSocket is what Probe needs of one inet_diag_msg.
type diagSocket struct {
	state    uint8
	src, dst netip.AddrPort
}

// Constants of the sock_diag netlink protocol (linux/sock_diag.h,
// linux/inet_diag.h).
const (
	netlinkInetDiag  = 4  // NETLINK_INET_DIAG, alias NETLINK_SOCK_DIAG
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	inetDiagReqLen   = 56 // struct inet_diag_req_v2
	inetDiagMsgLen   = 72 // struct inet_diag_msg
	allStates        = 0xffffffff
)

// diagConn is one netlink socket, opened on first use and kept: opening
// one per probe would cost more than the dump itself. The process is the
// sandboxed child, already in the run's namespace.
var diagConn struct {
	sync.Mutex
	open bool
	fd   int
	seq  uint32
	buf  []byte
}

// diagDump lists the TCP sockets of one address family in the given
// states (a bit per state) in the current network namespace. Dumping
// established states walks the kernel's whole established hash table,
// some hundred microseconds; a listener dump does not. A variable so tests
// can fake the kernel.
var diagDump = func(family uint8, states uint32) ([]diagSocket, error) {
	return diagRequest(family, states, nil, nil)
}

// diagLookup asks for the one socket of the connection l-r, as the
// kernel's receive path would find it: a hash lookup that also finds
// request and time-wait sockets, and falls back to a listener. found is
// false when there is none. A variable so tests can fake the kernel.
var diagLookup = func(family uint8, l, r netip.AddrPort) (s diagSocket, found bool, err error) {
	socks, err := diagRequest(family, allStates, &l, &r)
	if errors.Is(err, syscall.ENOENT) {
		return s, false, nil
	}
	if err != nil || len(socks) == 0 {
		return s, false, err
	}
	return socks[0], true, nil
}

// diagRequest sends one inet_diag_req_v2: a dump, or with l and r the
// lookup of one connection.
func diagRequest(family uint8, states uint32, l, r *netip.AddrPort) ([]diagSocket, error) {
	c := &diagConn
	c.Lock()
	defer c.Unlock()
	if !c.open {
		fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, netlinkInetDiag)
		if err != nil {
			return nil, err
		}
		// A reply never takes long; a run must not hang on a missing one.
		tv := syscall.Timeval{Sec: 1}
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
			syscall.Close(fd)
			return nil, err
		}
		c.fd, c.buf, c.open = fd, make([]byte, 1<<16), true
	}
	c.seq++
	req := make([]byte, syscall.NLMSG_HDRLEN+inetDiagReqLen)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], sockDiagByFamily)
	flags := uint16(syscall.NLM_F_REQUEST)
	if l == nil {
		flags |= syscall.NLM_F_DUMP
	}
	binary.NativeEndian.PutUint16(req[6:], flags)
	binary.NativeEndian.PutUint32(req[8:], c.seq)
	b := req[syscall.NLMSG_HDRLEN:]
	b[0], b[1] = family, syscall.IPPROTO_TCP
	binary.NativeEndian.PutUint32(b[4:], states)
	if l != nil {
		id := b[8:] // struct inet_diag_sockid
		binary.BigEndian.PutUint16(id[0:], l.Port())
		binary.BigEndian.PutUint16(id[2:], r.Port())
		putDiagAddr(id[4:20], family, l.Addr())
		putDiagAddr(id[20:36], family, r.Addr())
		// INET_DIAG_NOCOOKIE: match any socket of the tuple.
		binary.NativeEndian.PutUint64(id[40:], ^uint64(0))
	}
	if err := syscall.Sendto(c.fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, err
	}
	var out []diagSocket
	for {
		n, _, err := syscall.Recvfrom(c.fd, c.buf, 0)
		if err != nil {
			return nil, err
		}
		msgs, err := syscall.ParseNetlinkMessage(c.buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Seq != c.seq {
				continue // a reply to an earlier, abandoned request
			}
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return out, nil
			case syscall.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
						return nil, syscall.Errno(-e)
					}
				}
				return nil, errors.New("sock_diag: error reply")
			case sockDiagByFamily:
				if s, ok := parseDiagMsg(m.Data); ok {
					out = append(out, s)
				}
				if l != nil {
					return out, nil // a lookup has one reply and no DONE
				}
			}
		}
	}
}

// putDiagAddr writes an address as inet_diag_sockid holds it: IPv4 in the
// first word for AF_INET, an IPv4-mapped address for AF_INET6.
func putDiagAddr(b []byte, family uint8, a netip.Addr) {
	if family == syscall.AF_INET {
		a4 := a.Unmap().As4()
		copy(b, a4[:])
		return
	}
	a16 := a.As16()
	copy(b, a16[:])
}

// parseDiagMsg reads a struct inet_diag_msg: family, state, timer,
// retrans, then struct inet_diag_sockid (ports big-endian, addresses in
// four 32-bit words, IPv4 in the first).
func parseDiagMsg(b []byte) (diagSocket, bool) {
	if len(b) < inetDiagMsgLen {
		return diagSocket{}, false
	}
	s := diagSocket{state: b[1]}
	sport := binary.BigEndian.Uint16(b[4:])
	dport := binary.BigEndian.Uint16(b[6:])
	var src, dst netip.Addr
	if b[0] == syscall.AF_INET {
		src = netip.AddrFrom4([4]byte(b[8:12]))
		dst = netip.AddrFrom4([4]byte(b[24:28]))
	} else {
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
	}
	s.src, s.dst = netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
	return s, true
}
