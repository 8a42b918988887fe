package runtime

import (
	"fmt"
	"net/netip"
	goruntime "runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

// syscallTable holds every system call a script can make: the reference's
// table (run_system_call.c) without its psp_* calls.
var syscallTable = map[string]syscallFunc{
	"socket":       sysSocket,
	"bind":         sysBind,
	"listen":       sysListen,
	"accept":       sysAccept,
	"connect":      sysConnect,
	"read":         sysRead,
	"readv":        sysReadv,
	"recv":         sysRecv,
	"recvfrom":     sysRecvfrom,
	"recvmsg":      sysRecvmsg,
	"write":        sysWrite,
	"writev":       sysWritev,
	"send":         sysSend,
	"sendto":       sysSendto,
	"sendmsg":      sysSendmsg,
	"fcntl":        sysFcntl,
	"ioctl":        sysIoctl,
	"close":        sysClose,
	"shutdown":     sysShutdown,
	"getsockopt":   sysGetsockopt,
	"setsockopt":   sysSetsockopt,
	"poll":         sysPoll,
	"cap_set":      sysCapSet,
	"open":         sysOpen,
	"sendfile":     sysSendfile,
	"epoll_create": sysEpollCreate,
	"epoll_ctl":    sysEpollCtl,
	"epoll_wait":   sysEpollWait,
	"pipe":         sysPipe,
	"splice":       sysSplice,
}

// rawKeep is raw, keeping the memory the arguments point into alive
// until the call returns.
func rawKeep(keep any, trap uintptr, a ...uintptr) (int, unix.Errno) {
	ret, errno := raw(trap, a...)
	goruntime.KeepAlive(keep)
	return ret, errno
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
	rsa := heap[unix.RawSockaddrAny]()
	l := heap[uint32]()
	*l = unix.SizeofSockaddrAny
	ret, errno := raw(unix.SYS_ACCEPT, uintptr(fd), uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(l)))
	goruntime.KeepAlive(rsa)
	goruntime.KeepAlive(l)
	c.post = func(live int) {
		sfd, _ := c.r.evalInt(c.sc.Result)
		var remote netip.AddrPort
		if sa, err := anyToSockaddr(rsa); err == nil {
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
		// The reference does not check accept()ed fds for duplicates: a
		// script may accept a second connection under a still-open fd number.
		// The first stays open (unreachable from the script), as there.
		if old, ok := c.r.fds[int(sfd)]; ok && !old.closed {
			old.closed = true
		}
		c.r.addFD(c, int(sfd), live, child)
		c.r.sut = child
	}
	return ret, errno
}

func sysConnect(c *call) (int, unix.Errno) {
	c.argCount(3)
	fd, st := c.liveFD(0)
	def := netip.AddrPortFrom(c.r.cfg.RemoteIP, c.r.cfg.ConnectPort)
	if fam, ok := c.familyArg(1); ok {
		// connect(fd, AF_UNSPEC, ...) dissolves the association.
		if st.sock != nil && fam == unix.AF_UNSPEC {
			st.sock.state = sockNew
		}
		sa := familyAddr(fam)
		ret, errno := raw(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(sa)), unix.SizeofSockaddrAny)
		goruntime.KeepAlive(sa)
		return ret, errno
	}
	remote := c.sockaddrArg(1, def)
	c.noteConnect(st, remote)
	err := unix.Connect(fd, c.r.sockaddr(remote))
	c.noteLocalPort(st)
	return errResult(err)
}

// familyArg reads a connect/sendto address given as a bare family
// (AF_UNSPEC): the reference passes a sockaddr with only that set.
func (c *call) familyArg(i int) (int, bool) {
	switch c.arg(i).(type) {
	case *parser.Ellipsis, *parser.StructExpr:
		return 0, false
	}
	return int(c.s32Arg(i)), true
}

// familyAddr is a zeroed sockaddr_storage with only the family set.
func familyAddr(fam int) *unix.RawSockaddrAny {
	rsa := heap[unix.RawSockaddrAny]()
	rsa.Addr.Family = uint16(fam)
	return rsa
}

// noteConnect records that the script connects s to remote (connect, or
// sendto/sendmsg with an address, which may be a fast-open connect).
func (c *call) noteConnect(st *fdState, remote netip.AddrPort) {
	s := st.sock
	if s == nil {
		return
	}
	if s.state != sockNew {
		return
	}
	s.remote = remote
	s.state = sockConnecting
	if !s.local.IsValid() {
		s.local = netip.AddrPortFrom(c.r.cfg.LocalIP, 0)
	}
	c.r.sut = s
}

// noteLocalPort learns the port the kernel picked for a connecting socket
// (also a new one: a socket dissolved by connect(AF_UNSPEC) gives up the
// port of its former connection unless it was bound).
func (c *call) noteLocalPort(st *fdState) {
	if s := st.sock; s != nil && s.local.IsValid() && (s.local.Port() == 0 || s.state == sockConnecting) {
		if got, e := unix.Getsockname(st.liveFD); e == nil {
			s.local = netip.AddrPortFrom(s.local.Addr(), addrPortOf(got).Port())
		}
	}
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
	null := c.bufferArg(1)
	buf := c.buffer(1, null, c.bufLen(2))
	return rawKeep(buf, unix.SYS_READ, uintptr(fd), bufPtr(buf), uintptr(c.intArg(2)))
}

func sysWrite(c *call) (int, unix.Errno) {
	c.argCount(3)
	fd, _ := c.liveFD(0)
	null := c.bufferArg(1)
	buf := c.buffer(1, null, c.bufLen(2))
	return rawKeep(buf, unix.SYS_WRITE, uintptr(fd), bufPtr(buf), uintptr(c.intArg(2)))
}

// buffer is the memory of a buffer argument: nil for NULL, else n bytes,
// zeros or the string the script gives.
func (c *call) buffer(i int, null bool, n int) []byte {
	if null {
		return nil
	}
	buf := make([]byte, n)
	if s, ok := c.arg(i).(*parser.StringLit); ok {
		copy(buf, c.strBytes(s))
	}
	return buf
}

// bufArgs are the shared first arguments of send, recv and their -to/-from
// forms: (fd, buffer, length, flags).
type bufArgs struct {
	fd    int
	st    *fdState
	buf   []byte
	n     uintptr
	flags int32
}

func (c *call) bufArgs(nargs int) bufArgs {
	c.argCount(nargs)
	fd, st := c.liveFD(0)
	null := c.bufferArg(1)
	buf := c.buffer(1, null, c.bufLen(2))
	flags := c.s32Arg(3)
	return bufArgs{fd: fd, st: st, buf: buf, n: uintptr(c.intArg(2)), flags: flags}
}

func sysRecv(c *call) (int, unix.Errno) {
	a := c.bufArgs(4)
	return rawKeep(a.buf, unix.SYS_RECVFROM, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags), 0, 0)
}

func sysRecvfrom(c *call) (int, unix.Errno) {
	a := c.bufArgs(6)
	c.ellipsisArg(4)
	c.ellipsisArg(5)
	rsa := heap[unix.RawSockaddrAny]()
	l := heap[uint32]()
	*l = unix.SizeofSockaddrAny
	ret, errno := raw(unix.SYS_RECVFROM, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags),
		uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(l)))
	goruntime.KeepAlive(rsa)
	goruntime.KeepAlive(l)
	goruntime.KeepAlive(a.buf)
	return ret, errno
}

func sysSend(c *call) (int, unix.Errno) {
	a := c.bufArgs(4)
	return rawKeep(a.buf, unix.SYS_SENDTO, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags), 0, 0)
}

// sysSendto always passes an address, as the reference does: the connect
// address for "...", a bare family (AF_UNSPEC), or a sockaddr (godrill).
// On a new socket it is a (fast-open) connect.
func sysSendto(c *call) (int, unix.Errno) {
	a := c.bufArgs(6)
	c.ellipsisArg(5)
	if fam, ok := c.familyArg(4); ok {
		if a.st.sock != nil && fam == unix.AF_UNSPEC {
			a.st.sock.state = sockNew
		}
		sa := familyAddr(fam)
		ret, errno := raw(unix.SYS_SENDTO, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags), uintptr(unsafe.Pointer(sa)), unix.SizeofSockaddrAny)
		goruntime.KeepAlive(sa)
		goruntime.KeepAlive(a.buf)
		return ret, errno
	}
	remote := c.sockaddrArg(4, netip.AddrPortFrom(c.r.cfg.RemoteIP, c.r.cfg.ConnectPort))
	c.noteConnect(a.st, remote)
	sa := c.r.rawSockaddr(remote)
	ret, errno := raw(unix.SYS_SENDTO, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags), bufPtr(sa), uintptr(len(sa)))
	goruntime.KeepAlive(sa)
	goruntime.KeepAlive(a.buf)
	c.noteLocalPort(a.st)
	return ret, errno
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
	if n := len(c.sc.Args); n != 2 && n != 3 {
		panic(c.fail("fcntl expected 2-3 args but got %d", n))
	}
	fd, _ := c.liveFD(0)
	cmd := c.s32Arg(1)
	var arg int32
	if len(c.sc.Args) == 3 {
		arg = c.s32Arg(2)
	}
	return raw(unix.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(arg))
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
