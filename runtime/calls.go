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

func sysSocket(c *call) (int, unix.Errno, error) {
	if err := c.argCount(3); err != nil {
		return 0, 0, err
	}
	domain := int64(c.r.family())
	if !c.isEllipsis(0) {
		d, err := c.intArg(0)
		if err != nil {
			return 0, 0, err
		}
		domain = d
	}
	typ, err := c.intArg(1)
	if err != nil {
		return 0, 0, err
	}
	proto, err := c.intArg(2)
	if err != nil {
		return 0, 0, err
	}
	c.checkFD = true
	ret, errno := raw(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), uintptr(proto))
	c.post = func(live int) error {
		sfd, _ := c.evalInt(c.sc.Result)
		p := int(proto)
		if p == 0 {
			p = unix.IPPROTO_TCP
			if typ&0xf == unix.SOCK_DGRAM {
				p = unix.IPPROTO_UDP
			}
		}
		s := newSocket(p)
		c.r.sockets = append(c.r.sockets, s)
		if _, err := c.r.addFD(c, int(sfd), live, s); err != nil {
			return err
		}
		c.r.sut = s
		return nil
	}
	return ret, errno, nil
}

func sysBind(c *call) (int, unix.Errno, error) {
	fd, st, err := c.fdArgs(3)
	if err != nil {
		return 0, 0, err
	}
	local, err := c.sockaddrArg(1, netip.AddrPortFrom(c.r.cfg.LocalIP, c.r.cfg.BindPort))
	if err != nil {
		return 0, 0, err
	}
	sa := c.r.sockaddr(local)
	err = unix.Bind(fd, sa)
	if st.sock != nil && err == nil {
		st.sock.local = local
		if got, e := unix.Getsockname(fd); e == nil && local.Port() == 0 {
			st.sock.local = netip.AddrPortFrom(local.Addr(), addrPortOf(got).Port())
		}
	}
	return errResult(err)
}

func sysListen(c *call) (int, unix.Errno, error) {
	fd, st, err := c.fdArgs(2)
	if err != nil {
		return 0, 0, err
	}
	backlog, err := c.intArg(1)
	if err != nil {
		return 0, 0, err
	}
	err = unix.Listen(fd, int(backlog))
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

func sysAccept(c *call) (int, unix.Errno, error) {
	fd, st, err := c.fdArgs(3)
	if err != nil {
		return 0, 0, err
	}
	c.checkFD = true
	rsa := heap[unix.RawSockaddrAny]()
	l := heap[uint32]()
	*l = unix.SizeofSockaddrAny
	ret, errno := raw(unix.SYS_ACCEPT, uintptr(fd), uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(l)))
	goruntime.KeepAlive(rsa)
	goruntime.KeepAlive(l)
	c.post = func(live int) error {
		sfd, _ := c.evalInt(c.sc.Result)
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
		if _, err := c.r.addFD(c, int(sfd), live, child); err != nil {
			return err
		}
		c.r.sut = child
		return nil
	}
	return ret, errno, nil
}

func sysConnect(c *call) (int, unix.Errno, error) {
	fd, st, err := c.fdArgs(3)
	if err != nil {
		return 0, 0, err
	}
	fam, isFamily, err := c.familyArg(1)
	if err != nil {
		return 0, 0, err
	}
	if isFamily {
		// connect(fd, AF_UNSPEC, ...) dissolves the association.
		if st.sock != nil && fam == unix.AF_UNSPEC {
			st.sock.state = sockNew
		}
		sa := familyAddr(fam)
		ret, errno := raw(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(sa)), unix.SizeofSockaddrAny)
		goruntime.KeepAlive(sa)
		return ret, errno, nil
	}
	remote, err := c.sockaddrArg(1, netip.AddrPortFrom(c.r.cfg.RemoteIP, c.r.cfg.ConnectPort))
	if err != nil {
		return 0, 0, err
	}
	c.noteConnect(st, remote)
	err = unix.Connect(fd, c.r.sockaddr(remote))
	c.noteLocalPort(st)
	return errResult(err)
}

// familyArg reads a connect/sendto address given as a bare family
// (AF_UNSPEC): the reference passes a sockaddr with only that set.
func (c *call) familyArg(i int) (fam int, ok bool, err error) {
	e, err := c.arg(i)
	if err != nil {
		return 0, false, err
	}
	switch e.(type) {
	case *parser.Ellipsis, *parser.StructExpr:
		return 0, false, nil
	}
	v, err := c.s32(e)
	return int(v), err == nil, err
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
func (c *call) bufLen(i int) (int, error) {
	n, err := c.intArg(i)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 64<<20 {
		return 0, c.fail("buffer length %d out of range", n)
	}
	return int(n), nil
}

func sysRead(c *call) (int, unix.Errno, error) {
	a, err := c.bufArgs(3)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := rawKeep(a.buf, unix.SYS_READ, uintptr(a.fd), bufPtr(a.buf), a.n)
	return ret, errno, nil
}

func sysWrite(c *call) (int, unix.Errno, error) {
	a, err := c.bufArgs(3)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := rawKeep(a.buf, unix.SYS_WRITE, uintptr(a.fd), bufPtr(a.buf), a.n)
	return ret, errno, nil
}

// buffer is the memory of buffer argument i (already checked by
// bufferArg): nil for NULL, else n bytes, zeros or the string the script
// gives.
func (c *call) buffer(i int, null bool, n int) ([]byte, error) {
	if null {
		return nil, nil
	}
	buf := make([]byte, n)
	if s, ok := c.sc.Args[i].(*parser.StringLit); ok {
		b, err := c.strBytes(s)
		if err != nil {
			return nil, err
		}
		copy(buf, b)
	}
	return buf, nil
}

// bufArgs are the shared first arguments of read, write, send, recv and
// their -to/-from forms: (fd, buffer, length[, flags]).
type bufArgs struct {
	fd    int
	st    *fdState
	buf   []byte
	n     uintptr
	flags int32
}

// bufArgs reads them; read and write (nargs 3) have no flags.
func (c *call) bufArgs(nargs int) (bufArgs, error) {
	var a bufArgs
	if err := c.argCount(nargs); err != nil {
		return a, err
	}
	var err error
	if a.fd, a.st, err = c.liveFD(0); err != nil {
		return a, err
	}
	null, err := c.bufferArg(1)
	if err != nil {
		return a, err
	}
	n, err := c.bufLen(2)
	if err != nil {
		return a, err
	}
	if a.buf, err = c.buffer(1, null, n); err != nil {
		return a, err
	}
	a.n = uintptr(n)
	if nargs > 3 {
		if a.flags, err = c.s32Arg(3); err != nil {
			return a, err
		}
	}
	return a, nil
}

func sysRecv(c *call) (int, unix.Errno, error) {
	a, err := c.bufArgs(4)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := rawKeep(a.buf, unix.SYS_RECVFROM, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags), 0, 0)
	return ret, errno, nil
}

func sysRecvfrom(c *call) (int, unix.Errno, error) {
	a, err := c.bufArgs(6)
	if err != nil {
		return 0, 0, err
	}
	if err := c.ellipsisArg(4); err != nil {
		return 0, 0, err
	}
	if err := c.ellipsisArg(5); err != nil {
		return 0, 0, err
	}
	rsa := heap[unix.RawSockaddrAny]()
	l := heap[uint32]()
	*l = unix.SizeofSockaddrAny
	ret, errno := raw(unix.SYS_RECVFROM, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags),
		uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(l)))
	goruntime.KeepAlive(rsa)
	goruntime.KeepAlive(l)
	goruntime.KeepAlive(a.buf)
	return ret, errno, nil
}

func sysSend(c *call) (int, unix.Errno, error) {
	a, err := c.bufArgs(4)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := rawKeep(a.buf, unix.SYS_SENDTO, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags), 0, 0)
	return ret, errno, nil
}

// sysSendto always passes an address, as the reference does: the connect
// address for "...", a bare family (AF_UNSPEC), or a sockaddr (godrill).
// On a new socket it is a (fast-open) connect.
func sysSendto(c *call) (int, unix.Errno, error) {
	a, err := c.bufArgs(6)
	if err != nil {
		return 0, 0, err
	}
	if err := c.ellipsisArg(5); err != nil {
		return 0, 0, err
	}
	fam, isFamily, err := c.familyArg(4)
	if err != nil {
		return 0, 0, err
	}
	if isFamily {
		if a.st.sock != nil && fam == unix.AF_UNSPEC {
			a.st.sock.state = sockNew
		}
		sa := familyAddr(fam)
		ret, errno := raw(unix.SYS_SENDTO, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags), uintptr(unsafe.Pointer(sa)), unix.SizeofSockaddrAny)
		goruntime.KeepAlive(sa)
		goruntime.KeepAlive(a.buf)
		return ret, errno, nil
	}
	remote, err := c.sockaddrArg(4, netip.AddrPortFrom(c.r.cfg.RemoteIP, c.r.cfg.ConnectPort))
	if err != nil {
		return 0, 0, err
	}
	c.noteConnect(a.st, remote)
	sa := c.r.rawSockaddr(remote)
	ret, errno := raw(unix.SYS_SENDTO, uintptr(a.fd), bufPtr(a.buf), a.n, uintptr(a.flags), bufPtr(sa), uintptr(len(sa)))
	goruntime.KeepAlive(sa)
	goruntime.KeepAlive(a.buf)
	c.noteLocalPort(a.st)
	return ret, errno, nil
}

func sysClose(c *call) (int, unix.Errno, error) {
	fd, st, err := c.fdArgs(1)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := raw(unix.SYS_CLOSE, uintptr(fd))
	if ret == 0 {
		st.closed = true
		c.r.fdsChanged()
	}
	return ret, errno, nil
}

func sysShutdown(c *call) (int, unix.Errno, error) {
	fd, _, err := c.fdArgs(2)
	if err != nil {
		return 0, 0, err
	}
	how, err := c.intArg(1)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := raw(unix.SYS_SHUTDOWN, uintptr(fd), uintptr(how))
	return ret, errno, nil
}

func sysFcntl(c *call) (int, unix.Errno, error) {
	if n := len(c.sc.Args); n != 2 && n != 3 {
		return 0, 0, c.fail("fcntl expected 2-3 args but got %d", n)
	}
	fd, _, err := c.liveFD(0)
	if err != nil {
		return 0, 0, err
	}
	cmd, err := c.s32Arg(1)
	if err != nil {
		return 0, 0, err
	}
	var arg int32
	if len(c.sc.Args) == 3 {
		if arg, err = c.s32Arg(2); err != nil {
			return 0, 0, err
		}
	}
	ret, errno := raw(unix.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(arg))
	return ret, errno, nil
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

// errResult is a x/sys/unix wrapper's error as a raw result.
func errResult(err error) (int, unix.Errno, error) {
	if err == nil {
		return 0, 0, nil
	}
	if e, ok := err.(unix.Errno); ok {
		return -1, e, nil
	}
	return -1, unix.EINVAL, nil
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
