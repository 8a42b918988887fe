package runtime

import (
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

// syscallTable holds every system call a script can make.
var syscallTable = map[string]syscallFunc{
	"socket":     sysSocket,
	"bind":       sysBind,
	"listen":     sysListen,
	"accept":     sysAccept,
	"connect":    sysConnect,
	"read":       sysRead,
	"write":      sysWrite,
	"recv":       sysRecv,
	"send":       sysSend,
	"recvfrom":   sysRecv,
	"sendto":     sysSend,
	"close":      sysClose,
	"shutdown":   sysShutdown,
	"setsockopt": sysSetsockopt,
	"getsockopt": sysGetsockopt,
	"fcntl":      sysFcntl,
}

// raw runs a system call and splits its result the way libc does.
func raw(trap uintptr, a ...uintptr) (int, unix.Errno) {
	var args [6]uintptr
	copy(args[:], a)
	r1, _, e := unix.Syscall6(trap, args[0], args[1], args[2], args[3], args[4], args[5])
	if e != 0 {
		return -1, e
	}
	return int(r1), 0
}

func sysSocket(c *call) (int, unix.Errno) {
	c.argCount(3)
	domain := int64(c.r.family())
	if !c.isEllipsis(0) {
		domain = c.intArg(0)
	}
	typ, proto := c.intArg(1), c.intArg(2)
	c.checkFD = true
	ret, errno := raw(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), uintptr(proto))
	c.post = func(live int) {
		sfd, _ := c.r.evalInt(c.sc.Result)
		p := int(proto)
		if p == 0 {
			p = unix.IPPROTO_TCP
			if typ&0xf == unix.SOCK_DGRAM {
				p = unix.IPPROTO_UDP
			}
		}
		s := newSocket(p)
		c.r.sockets = append(c.r.sockets, s)
		c.r.addFD(c, int(sfd), live, s)
		c.r.sut = s
	}
	return ret, errno
}

func sysBind(c *call) (int, unix.Errno) {
	c.argCount(3)
	fd, st := c.liveFD(0)
	local := netip.AddrPortFrom(c.r.cfg.LocalIP, c.r.cfg.BindPort)
	local = c.sockaddrArg(1, local)
	sa := c.r.sockaddr(local)
	err := unix.Bind(fd, sa)
	if st.sock != nil && err == nil {
		st.sock.local = local
		if got, e := unix.Getsockname(fd); e == nil && local.Port() == 0 {
			st.sock.local = netip.AddrPortFrom(local.Addr(), addrPortOf(got).Port())
		}
	}
	return errResult(err)
}

func sysListen(c *call) (int, unix.Errno) {
	c.argCount(2)
	fd, st := c.liveFD(0)
	backlog := c.intArg(1)
	err := unix.Listen(fd, int(backlog))
	if err == nil && st.sock != nil {
		st.sock.state = sockListening
		if !st.sock.local.IsValid() {
			if got, e := unix.Getsockname(fd); e == nil {
				ap := addrPortOf(got)
				st.sock.local = netip.AddrPortFrom(c.r.cfg.LocalIP, ap.Port())
			}
		}
	}
	return errResult(err)
}

func sysAccept(c *call) (int, unix.Errno) {
	c.argCount(3)
	fd, st := c.liveFD(0)
	c.checkFD = true
	var rsa unix.RawSockaddrAny
	l := uint32(unix.SizeofSockaddrAny)
	ret, errno := raw(unix.SYS_ACCEPT, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)))
	c.post = func(live int) {
		sfd, _ := c.r.evalInt(c.sc.Result)
		var remote netip.AddrPort
		if sa, err := anyToSockaddr(&rsa); err == nil {
			remote = addrPortOf(sa)
		}
		var child *socket
		for _, s := range c.r.sockets {
			if s.listener == st.sock && s.scriptFD < 0 && (s.remote == remote || child == nil) {
				child = s
			}
		}
		if child == nil {
			child = newSocket(unix.IPPROTO_TCP)
			child.listener = st.sock
			child.remote = remote
			if st.sock != nil {
				child.local = st.sock.local
			}
			child.state = sockOpen
			c.r.sockets = append(c.r.sockets, child)
		}
		c.r.addFD(c, int(sfd), live, child)
		c.r.sut = child
	}
	return ret, errno
}

func sysConnect(c *call) (int, unix.Errno) {
	c.argCount(3)
	fd, st := c.liveFD(0)
	remote := c.sockaddrArg(1, netip.AddrPortFrom(c.r.cfg.RemoteIP, c.r.cfg.ConnectPort))
	if s := st.sock; s != nil {
		s.remote = remote
		if s.state == sockNew {
			s.state = sockConnecting
		}
		if !s.local.IsValid() {
			s.local = netip.AddrPortFrom(c.r.cfg.LocalIP, 0)
		}
		c.r.sut = s
	}
	err := unix.Connect(fd, c.r.sockaddr(remote))
	if s := st.sock; s != nil && s.local.Port() == 0 {
		if got, e := unix.Getsockname(fd); e == nil {
			s.local = netip.AddrPortFrom(s.local.Addr(), addrPortOf(got).Port())
		}
	}
	return errResult(err)
}

// bufLen is the length argument of a read or write.
func (c *call) bufLen(i int) int {
	n := c.intArg(i)
	if n < 0 || n > 64<<20 {
		panic(c.fail("buffer length %d out of range", n))
	}
	return int(n)
}

func sysRead(c *call) (int, unix.Errno) {
	c.argCount(3)
	fd, _ := c.liveFD(0)
	buf := make([]byte, c.bufLen(2))
	return raw(unix.SYS_READ, uintptr(fd), bufPtr(buf), uintptr(len(buf)))
}

func sysWrite(c *call) (int, unix.Errno) {
	c.argCount(3)
	fd, _ := c.liveFD(0)
	buf := c.writeBuffer(1, c.bufLen(2))
	return raw(unix.SYS_WRITE, uintptr(fd), bufPtr(buf), uintptr(len(buf)))
}

// writeBuffer is the data to send: zeros for "...", else the string given.
func (c *call) writeBuffer(i, n int) []byte {
	buf := make([]byte, n)
	if s, ok := c.arg(i).(*parser.StringLit); ok {
		copy(buf, s.Value)
	}
	return buf
}

func sysRecv(c *call) (int, unix.Errno) {
	if len(c.sc.Args) != 4 && len(c.sc.Args) != 6 {
		c.argCount(4)
	}
	fd, _ := c.liveFD(0)
	buf := make([]byte, c.bufLen(2))
	flags := c.intArg(3)
	return raw(unix.SYS_RECVFROM, uintptr(fd), bufPtr(buf), uintptr(len(buf)), uintptr(flags), 0, 0)
}

func sysSend(c *call) (int, unix.Errno) {
	if len(c.sc.Args) != 4 && len(c.sc.Args) != 6 {
		c.argCount(4)
	}
	fd, _ := c.liveFD(0)
	buf := c.writeBuffer(1, c.bufLen(2))
	flags := c.intArg(3)
	if len(c.sc.Args) == 6 && !c.isEllipsis(4) {
		ap := c.sockaddrArg(4, netip.AddrPortFrom(c.r.cfg.RemoteIP, c.r.cfg.ConnectPort))
		err := unix.Sendto(fd, buf, int(flags), c.r.sockaddr(ap))
		if err != nil {
			return errResult(err)
		}
		return len(buf), 0
	}
	return raw(unix.SYS_SENDTO, uintptr(fd), bufPtr(buf), uintptr(len(buf)), uintptr(flags), 0, 0)
}

func sysClose(c *call) (int, unix.Errno) {
	c.argCount(1)
	fd, st := c.liveFD(0)
	ret, errno := raw(unix.SYS_CLOSE, uintptr(fd))
	if ret == 0 {
		st.closed = true
	}
	return ret, errno
}

func sysShutdown(c *call) (int, unix.Errno) {
	c.argCount(2)
	fd, _ := c.liveFD(0)
	return raw(unix.SYS_SHUTDOWN, uintptr(fd), uintptr(c.intArg(1)))
}

func sysFcntl(c *call) (int, unix.Errno) {
	if len(c.sc.Args) != 2 && len(c.sc.Args) != 3 {
		c.argCount(3)
	}
	fd, _ := c.liveFD(0)
	cmd := c.intArg(1)
	var arg int64
	if len(c.sc.Args) == 3 {
		arg = c.intArg(2)
	}
	return raw(unix.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(arg))
}

// optval encodes a setsockopt value: [int], "string", {struct} or int.
func (c *call) optval(i int) []byte {
	switch x := c.arg(i).(type) {
	case *parser.StringLit:
		return []byte(x.Value)
	case *parser.StructExpr:
		return c.structOptval(x)
	case *parser.Ellipsis:
		return nil
	}
	v := c.intArg(i)
	b := make([]byte, 4)
	*(*int32)(unsafe.Pointer(&b[0])) = int32(v)
	return b
}

// structOptval encodes the struct forms scripts pass to setsockopt.
func (c *call) structOptval(s *parser.StructExpr) []byte {
	get := func(names ...string) int64 {
		v, ok := field(s, names...)
		if !ok {
			return 0
		}
		n, err := c.r.evalInt(v)
		if err != nil {
			panic(c.evalFail(err))
		}
		return n
	}
	if _, ok := field(s, "onoff", "l_onoff"); ok {
		l := unix.Linger{Onoff: int32(get("onoff", "l_onoff")), Linger: int32(get("linger", "l_linger"))}
		return unsafe.Slice((*byte)(unsafe.Pointer(&l)), unsafe.Sizeof(l))
	}
	if _, ok := field(s, "tv_sec", "tv_usec"); ok {
		tv := unix.Timeval{Sec: get("tv_sec"), Usec: get("tv_usec")}
		return unsafe.Slice((*byte)(unsafe.Pointer(&tv)), unsafe.Sizeof(tv))
	}
	panic(c.fail("unsupported struct value %s", exprString(s)))
}

func sysSetsockopt(c *call) (int, unix.Errno) {
	c.argCount(5)
	fd, _ := c.liveFD(0)
	level, name := c.intArg(1), c.intArg(2)
	val := c.optval(3)
	n := len(val)
	if !c.isEllipsis(4) {
		n = int(c.intArg(4))
		if n > len(val) {
			val = append(val, make([]byte, n-len(val))...)
		}
	}
	return raw(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), bufPtr(val), uintptr(n))
}

func sysGetsockopt(c *call) (int, unix.Errno) {
	c.argCount(5)
	fd, _ := c.liveFD(0)
	level, name := c.intArg(1), c.intArg(2)
	want := c.arg(3)
	size := 256
	if !c.isEllipsis(4) {
		size = int(c.intArg(4))
	}
	if size < 0 || size > 1<<16 {
		panic(c.fail("bad optlen %d", size))
	}
	buf := make([]byte, max(size, 4))
	l := uint32(size)
	ret, errno := raw(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), bufPtr(buf), uintptr(unsafe.Pointer(&l)))
	if ret < 0 {
		return ret, errno
	}
	if !c.isEllipsis(4) {
		if wantLen := c.intArg(4); int64(l) != wantLen {
			panic(c.fail("Bad getsockopt optlen: expected: %d actual: %d", wantLen, l))
		}
	}
	switch w := want.(type) {
	case *parser.Ellipsis:
	case *parser.StringLit:
		got := string(buf[:l])
		if i := indexByte(got, 0); i >= 0 {
			got = got[:i]
		}
		if got != w.Value {
			panic(c.fail("Bad getsockopt optval: expected: '%s' actual: '%s'", w.Value, got))
		}
	case *parser.StructExpr:
		if _, ok := field(w, "onoff", "l_onoff"); ok {
			lg := (*unix.Linger)(unsafe.Pointer(&buf[0]))
			exp := c.structOptval(w)
			el := (*unix.Linger)(unsafe.Pointer(&exp[0]))
			if lg.Onoff != el.Onoff || lg.Linger != el.Linger {
				panic(c.fail("Bad getsockopt optval: expected: {onoff=%d, linger=%d} actual: {onoff=%d, linger=%d}", el.Onoff, el.Linger, lg.Onoff, lg.Linger))
			}
		}
	default:
		exp := c.intArg(3)
		got := int64(*(*int32)(unsafe.Pointer(&buf[0])))
		if got != exp {
			panic(c.fail("Bad getsockopt optval: expected: %d actual: %d", exp, got))
		}
	}
	return ret, errno
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

func bufPtr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

func errResult(err error) (int, unix.Errno) {
	if err == nil {
		return 0, 0
	}
	if e, ok := err.(unix.Errno); ok {
		return -1, e
	}
	return -1, unix.EINVAL
}

// anyToSockaddr decodes an accept() address.
func anyToSockaddr(rsa *unix.RawSockaddrAny) (unix.Sockaddr, error) {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		port := int(p.Port>>8 | p.Port<<8)
		return &unix.SockaddrInet4{Port: port, Addr: p.Addr}, nil
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		port := int(p.Port>>8 | p.Port<<8)
		return &unix.SockaddrInet6{Port: port, Addr: p.Addr}, nil
	}
	return nil, fmt.Errorf("unknown family %d", rsa.Addr.Family)
}
