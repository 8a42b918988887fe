package runtime

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

// System calls on fds that are not (only) sockets: ioctl, poll, epoll,
// pipes, files, and capabilities.

func sysIoctl(c *call) (int, unix.Errno) {
	n := len(c.sc.Args)
	if n != 2 && n != 3 {
		panic(c.fail("ioctl expected 2-3 args but got %d", n))
	}
	fd, _ := c.liveFD(0)
	cmd := uint32(c.s32Arg(1))
	if n == 2 {
		return raw(unix.SYS_IOCTL, uintptr(fd), uintptr(cmd))
	}
	want := c.s32BracketedArg(2)
	val := heap[int32]()
	ret, errno := raw(unix.SYS_IOCTL, uintptr(fd), uintptr(cmd), uintptr(unsafe.Pointer(val)))
	goruntime.KeepAlive(val)
	c.post = func(int) {
		if *val != want {
			panic(c.fail("Bad ioctl optval: expected: %d actual: %d", want, *val))
		}
	}
	return ret, errno
}

// pollFlagNames are the revents bits in the reference's order.
var pollFlagNames = []struct {
	bit  int16
	name string
}{
	{unix.POLLIN, "POLLIN"}, {unix.POLLPRI, "POLLPRI"}, {unix.POLLOUT, "POLLOUT"},
	{0x40, "POLLRDNORM"}, {0x80, "POLLRDBAND"}, {0x100, "POLLWRNORM"},
	{0x200, "POLLWRBAND"}, {0x400, "POLLMSG"}, {0x1000, "POLLREMOVE"}, {unix.POLLRDHUP, "POLLRDHUP"},
	{unix.POLLERR, "POLLERR"}, {unix.POLLHUP, "POLLHUP"}, {unix.POLLNVAL, "POLLNVAL"},
}

// pollFlags writes revents as "POLLIN|POLLOUT" ("" for none).
func pollFlags(v int16) string {
	var parts []string
	for bit := 0; bit < 16; bit++ {
		m := int16(1 << bit)
		if v&m == 0 {
			continue
		}
		name := fmt.Sprintf("%#x", uint16(m))
		for _, f := range pollFlagNames {
			if f.bit == m {
				name = f.name
			}
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, "|")
}

func sysPoll(c *call) (int, unix.Errno) {
	c.argCount(3)
	e := c.arg(0)
	c.checkKind(e, "list")
	elems := e.(*parser.ListExpr).Elems
	fds := make([]unix.PollFd, len(elems))
	want := make([]int16, len(elems))
	for i, el := range elems {
		c.checkKind(el, "pollfd")
		s := el.(*parser.StructExpr)
		fdE, _ := field(s, "fd")
		evE, _ := field(s, "events")
		fd := c.s32(fdE)
		live, ok := c.r.fds[int(fd)]
		if !ok || live.closed {
			panic(c.fail("unable to find fd with script fd %d", fd))
		}
		fds[i].Fd = int32(live.liveFD)
		fds[i].Events = int16(c.s32(evE))
		if rE, ok := field(s, "revents"); ok {
			want[i] = int16(c.s32(rE))
		}
		fds[i].Revents = want[i]
	}
	nfds := c.s32Arg(1)
	timeout := c.s32Arg(2)
	if int(nfds) != len(fds) {
		panic(c.fail("nfds %d does not match %d-element pollfd array", nfds, len(fds)))
	}
	var p uintptr
	if len(fds) > 0 {
		p = uintptr(unsafe.Pointer(&fds[0]))
	}
	ret, errno := raw(unix.SYS_POLL, p, uintptr(nfds), uintptr(timeout))
	goruntime.KeepAlive(fds)
	c.post = func(int) {
		for i := range fds {
			if fds[i].Revents != want[i] {
				panic(c.fail("Expected revents of %s but got %s for pollfd %d", pollFlags(want[i]), pollFlags(fds[i].Revents), i))
			}
		}
	}
	return ret, errno
}

// sysCapSet changes one capability of this process, as libcap's
// cap_set_flag + cap_set_proc: cap_set(CAP_EFFECTIVE, CAP_NET_ADMIN, CAP_CLEAR).
// Capabilities belong to threads, so every thread of the process changes.
func sysCapSet(c *call) (int, unix.Errno) {
	c.argCount(3)
	set := c.s32Arg(0)
	capv := c.s32Arg(1)
	op := c.s32Arg(2)
	c.checkFD = true
	hdr := heap[unix.CapUserHeader]()
	hdr.Version = unix.LINUX_CAPABILITY_VERSION_3
	data := heap[[2]unix.CapUserData]()
	if _, errno := raw(unix.SYS_CAPGET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data))); errno != 0 {
		panic(c.fail("Error in cap_get_proc()"))
	}
	if capv < 0 || capv >= 64 || set < 0 || set > 2 {
		panic(c.fail("Error in cap_set_flag()"))
	}
	d := &data[capv/32]
	bit := uint32(1) << (capv % 32)
	flag := []*uint32{&d.Effective, &d.Permitted, &d.Inheritable}[set]
	if op != 0 {
		*flag |= bit
	} else {
		*flag &^= bit
	}
	r1, _, errno := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)), 0)
	if errno == syscall.ENOTSUP { // cgo programs: this thread only
		return raw(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)))
	}
	goruntime.KeepAlive(hdr)
	goruntime.KeepAlive(data)
	if errno != 0 {
		return -1, unix.Errno(errno)
	}
	return int(r1), 0
}

func sysOpen(c *call) (int, unix.Errno) {
	c.argCount(2)
	name := c.arg(0)
	c.checkKind(name, "string")
	flags := c.s32Arg(1)
	c.checkFD = true
	p, err := unix.BytePtrFromString(string(c.strBytes(name.(*parser.StringLit))))
	if err != nil {
		return -1, unix.EINVAL
	}
	ret, errno := raw(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(p)), uintptr(flags), 0)
	goruntime.KeepAlive(p)
	c.post = func(live int) { c.addFD(live, fdFile) }
	return ret, errno
}

// addFD records the fd a call returned under the script's result value.
func (c *call) addFD(live int, kind fdKind) {
	sfd := int(c.s32(c.sc.Result))
	c.r.addFD(c, sfd, live, nil).kind = kind
}

func sysSendfile(c *call) (int, unix.Errno) {
	c.argCount(4)
	out, _ := c.liveFD(0)
	in, _ := c.liveFD(1)
	off := heap[int64]()
	*off = c.s64BracketedArg(2)
	count := c.s32Arg(3)
	ret, errno := raw(unix.SYS_SENDFILE, uintptr(out), uintptr(in), uintptr(unsafe.Pointer(off)), uintptr(count))
	goruntime.KeepAlive(off)
	return ret, errno
}

func sysEpollCreate(c *call) (int, unix.Errno) {
	c.argCount(1)
	size := c.s32Arg(0)
	c.checkFD = true
	if size <= 0 { // epoll_create(2) checks size; epoll_create1 has none
		return -1, unix.EINVAL
	}
	ret, errno := raw(unix.SYS_EPOLL_CREATE1, 0)
	c.post = func(live int) { c.addFD(live, fdEpoll) }
	return ret, errno
}

// epollData says which member of epoll_data the script named.
type epollData int

const (
	epollPtr epollData = iota
	epollFD
	epollU32
	epollU64
)

// epollEvent reads "{events=..., fd=N}" (or ptr=, u32=, u64=). fd is the
// script fd the call names (epoll_ctl), or -1 to take it from the event.
func (c *call) epollEvent(e parser.Expr, scriptFD, liveFD int) (*unix.EpollEvent, epollData) {
	c.checkKind(e, "epollev")
	s := e.(*parser.StructExpr)
	ev := heap[unix.EpollEvent]()
	evE, _ := field(s, "events")
	ev.Events = uint32(c.s32(evE))
	setU64 := func(v uint64) { ev.Fd, ev.Pad = int32(uint32(v)), int32(uint32(v>>32)) }
	if v, ok := field(s, "ptr"); ok {
		setU64(uint64(c.int64Of(v)))
		return ev, epollPtr
	}
	if v, ok := field(s, "fd"); ok {
		fd := int(c.s32(v))
		if scriptFD == -1 {
			st, ok := c.r.fds[fd]
			if !ok || st.closed {
				panic(c.fail("unable to find fd with script fd %d", fd))
			}
			liveFD = st.liveFD
		} else if fd != scriptFD {
			panic(c.fail("wrong fd specified in epoll_event"))
		}
		ev.Fd = int32(liveFD)
		return ev, epollFD
	}
	if v, ok := field(s, "u32"); ok {
		ev.Fd = int32(uint32(c.int64Of(v)))
		return ev, epollU32
	}
	if v, ok := field(s, "u64"); ok {
		setU64(uint64(c.int64Of(v)))
		return ev, epollU64
	}
	panic(c.fail("epoll_event specified incorrectly"))
}

func sysEpollCtl(c *call) (int, unix.Errno) {
	c.argCount(4)
	ep, _ := c.liveFD(0)
	op := c.s32Arg(1)
	sfd := int(c.s32Arg(2))
	fd, _ := c.liveFD(2)
	ev, _ := c.epollEvent(c.arg(3), sfd, fd)
	ret, errno := raw(unix.SYS_EPOLL_CTL, uintptr(ep), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)))
	goruntime.KeepAlive(ev)
	return ret, errno
}

func sysEpollWait(c *call) (int, unix.Errno) {
	c.argCount(4)
	ep, _ := c.liveFD(0)
	want, kind := c.epollEvent(c.arg(1), -1, -1)
	maxev := c.s32Arg(2)
	timeout := c.s32Arg(3)
	if maxev <= 0 || maxev > 1<<16 {
		return raw(unix.SYS_EPOLL_WAIT, uintptr(ep), 0, uintptr(maxev), uintptr(timeout))
	}
	got := make([]unix.EpollEvent, maxev)
	ret, errno := raw(unix.SYS_EPOLL_WAIT, uintptr(ep), uintptr(unsafe.Pointer(&got[0])), uintptr(maxev), uintptr(timeout))
	goruntime.KeepAlive(got)
	c.post = func(int) {
		g := got[0]
		if g.Events != want.Events {
			panic(c.fail("epoll_event->events does not match script: expected: %#x actual: %#x", want.Events, g.Events))
		}
		u64 := func(e unix.EpollEvent) uint64 { return uint64(uint32(e.Fd)) | uint64(uint32(e.Pad))<<32 }
		var ok bool
		var exp, act string
		switch kind {
		case epollPtr:
			ok, exp, act = u64(g) == u64(*want), fmt.Sprintf("%#x", u64(*want)), fmt.Sprintf("%#x", u64(g))
		case epollFD:
			ok, exp, act = g.Fd == want.Fd, fmt.Sprint(want.Fd), fmt.Sprint(g.Fd)
		case epollU32:
			ok, exp, act = uint32(g.Fd) == uint32(want.Fd), fmt.Sprint(uint32(want.Fd)), fmt.Sprint(uint32(g.Fd))
		case epollU64:
			ok, exp, act = u64(g) == u64(*want), fmt.Sprint(u64(*want)), fmt.Sprint(u64(g))
		}
		if !ok {
			panic(c.fail("epoll_event->data does not match script: expected: %s actual: %s", exp, act))
		}
	}
	return ret, errno
}

func sysPipe(c *call) (int, unix.Errno) {
	c.argCount(1)
	e := c.arg(0)
	c.checkKind(e, "list")
	l := e.(*parser.ListExpr)
	if len(l.Elems) != 2 {
		panic(c.fail("%d pipe file descriptors instead of 2", len(l.Elems)))
	}
	var script [2]int
	for i, el := range l.Elems {
		c.checkKind(el, "integer")
		script[i] = int(c.s32(el))
	}
	live := heap[[2]int32]()
	ret, errno := raw(unix.SYS_PIPE2, uintptr(unsafe.Pointer(live)), 0)
	goruntime.KeepAlive(live)
	c.post = func(int) {
		for i := range script {
			c.r.addFD(c, script[i], int(live[i]), nil).kind = fdPipe
		}
	}
	return ret, errno
}

// sysSplice passes the offsets as the pointers they are: NULL (0) is
// the only useful value, as in the reference.
func sysSplice(c *call) (int, unix.Errno) {
	c.argCount(6)
	in, _ := c.liveFD(0)
	offIn := c.int64Of(c.arg(1))
	out, _ := c.liveFD(2)
	offOut := c.int64Of(c.arg(3))
	n := c.s32Arg(4)
	flags := c.s32Arg(5)
	return raw(unix.SYS_SPLICE, uintptr(in), uintptr(offIn), uintptr(out), uintptr(offOut), uintptr(n), uintptr(flags))
}

// atFDCWD is AT_FDCWD (-100) as a system call argument.
var atFDCWD = func() uintptr { v := int64(unix.AT_FDCWD); return uintptr(v) }()
