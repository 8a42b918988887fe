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

func sysIoctl(c *call) (int, unix.Errno, error) {
	n := len(c.sc.Args)
	if n != 2 && n != 3 {
		return 0, 0, c.fail("ioctl expected 2-3 args but got %d", n)
	}
	fd, _, err := c.liveFD(0)
	if err != nil {
		return 0, 0, err
	}
	cmd, err := c.s32Arg(1)
	if err != nil {
		return 0, 0, err
	}
	if n == 2 {
		ret, errno := raw(unix.SYS_IOCTL, uintptr(fd), uintptr(uint32(cmd)))
		return ret, errno, nil
	}
	want, err := c.s32BracketedArg(2)
	if err != nil {
		return 0, 0, err
	}
	val := heap[int32]()
	ret, errno := raw(unix.SYS_IOCTL, uintptr(fd), uintptr(uint32(cmd)), uintptr(unsafe.Pointer(val)))
	goruntime.KeepAlive(val)
	c.post = func(int) error {
		if *val != want {
			return c.fail("Bad ioctl optval: expected: %d actual: %d", want, *val)
		}
		return nil
	}
	return ret, errno, nil
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

func sysPoll(c *call) (int, unix.Errno, error) {
	if err := c.argCount(3); err != nil {
		return 0, 0, err
	}
	e := c.sc.Args[0]
	if err := c.checkKind(e, "list"); err != nil {
		return 0, 0, err
	}
	elems := e.(*parser.ListExpr).Elems
	fds := make([]unix.PollFd, len(elems))
	want := make([]int16, len(elems))
	for i, el := range elems {
		if err := c.checkKind(el, "pollfd"); err != nil {
			return 0, 0, err
		}
		s := el.(*parser.StructExpr)
		fdE, _ := field(s, "fd")
		evE, _ := field(s, "events")
		fd, err := c.s32(fdE)
		if err != nil {
			return 0, 0, err
		}
		live, ok := c.r.fds[int(fd)]
		if !ok || live.closed {
			return 0, 0, c.fail("unable to find fd with script fd %d", fd)
		}
		fds[i].Fd = int32(live.liveFD)
		ev, err := c.s32(evE)
		if err != nil {
			return 0, 0, err
		}
		fds[i].Events = int16(ev)
		if rE, ok := field(s, "revents"); ok {
			rev, err := c.s32(rE)
			if err != nil {
				return 0, 0, err
			}
			want[i] = int16(rev)
		}
		fds[i].Revents = want[i]
	}
	nfds, err := c.s32Arg(1)
	if err != nil {
		return 0, 0, err
	}
	timeout, err := c.s32Arg(2)
	if err != nil {
		return 0, 0, err
	}
	if int(nfds) != len(fds) {
		return 0, 0, c.fail("nfds %d does not match %d-element pollfd array", nfds, len(fds))
	}
	var p uintptr
	if len(fds) > 0 {
		p = uintptr(unsafe.Pointer(&fds[0]))
	}
	ret, errno := raw(unix.SYS_POLL, p, uintptr(nfds), uintptr(timeout))
	goruntime.KeepAlive(fds)
	c.post = func(int) error {
		for i := range fds {
			if fds[i].Revents != want[i] {
				return c.fail("Expected revents of %s but got %s for pollfd %d", pollFlags(want[i]), pollFlags(fds[i].Revents), i)
			}
		}
		return nil
	}
	return ret, errno, nil
}

// sysCapSet changes one capability of this process, as libcap's
// cap_set_flag + cap_set_proc: cap_set(CAP_EFFECTIVE, CAP_NET_ADMIN, CAP_CLEAR).
// Capabilities belong to threads, so every thread of the process changes.
func sysCapSet(c *call) (int, unix.Errno, error) {
	if err := c.argCount(3); err != nil {
		return 0, 0, err
	}
	var v [3]int32
	for i := range v {
		var err error
		if v[i], err = c.s32Arg(i); err != nil {
			return 0, 0, err
		}
	}
	set, capv, op := v[0], v[1], v[2]
	c.checkFD = true
	hdr := heap[unix.CapUserHeader]()
	hdr.Version = unix.LINUX_CAPABILITY_VERSION_3
	data := heap[[2]unix.CapUserData]()
	if _, errno := raw(unix.SYS_CAPGET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data))); errno != 0 {
		return 0, 0, c.fail("Error in cap_get_proc()")
	}
	if capv < 0 || capv >= 64 || set < 0 || set > 2 {
		return 0, 0, c.fail("Error in cap_set_flag()")
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
		ret, errno := raw(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)))
		return ret, errno, nil
	}
	goruntime.KeepAlive(hdr)
	goruntime.KeepAlive(data)
	if errno != 0 {
		return -1, unix.Errno(errno), nil
	}
	return int(r1), 0, nil
}

func sysOpen(c *call) (int, unix.Errno, error) {
	if err := c.argCount(2); err != nil {
		return 0, 0, err
	}
	name := c.sc.Args[0]
	if err := c.checkKind(name, "string"); err != nil {
		return 0, 0, err
	}
	flags, err := c.s32Arg(1)
	if err != nil {
		return 0, 0, err
	}
	c.checkFD = true
	b, err := c.strBytes(name.(*parser.StringLit))
	if err != nil {
		return 0, 0, err
	}
	p, err := unix.BytePtrFromString(string(b))
	if err != nil {
		return -1, unix.EINVAL, nil
	}
	ret, errno := raw(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(p)), uintptr(flags), 0)
	goruntime.KeepAlive(p)
	c.post = func(live int) error { return c.addFD(live, fdFile) }
	return ret, errno, nil
}

// addFD records the fd a call returned under the script's result value.
func (c *call) addFD(live int, kind fdKind) error {
	sfd, err := c.s32(c.sc.Result)
	if err != nil {
		return err
	}
	fd, err := c.r.addFD(c, int(sfd), live, nil)
	if err != nil {
		return err
	}
	fd.kind = kind
	return nil
}

func sysSendfile(c *call) (int, unix.Errno, error) {
	out, _, err := c.fdArgs(4)
	if err != nil {
		return 0, 0, err
	}
	in, _, err := c.liveFD(1)
	if err != nil {
		return 0, 0, err
	}
	off := heap[int64]()
	if *off, err = c.s64BracketedArg(2); err != nil {
		return 0, 0, err
	}
	count, err := c.s32Arg(3)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := raw(unix.SYS_SENDFILE, uintptr(out), uintptr(in), uintptr(unsafe.Pointer(off)), uintptr(count))
	goruntime.KeepAlive(off)
	return ret, errno, nil
}

func sysEpollCreate(c *call) (int, unix.Errno, error) {
	if err := c.argCount(1); err != nil {
		return 0, 0, err
	}
	size, err := c.s32Arg(0)
	if err != nil {
		return 0, 0, err
	}
	c.checkFD = true
	if size <= 0 { // epoll_create(2) checks size; epoll_create1 has none
		return -1, unix.EINVAL, nil
	}
	ret, errno := raw(unix.SYS_EPOLL_CREATE1, 0)
	c.post = func(live int) error { return c.addFD(live, fdEpoll) }
	return ret, errno, nil
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
func (c *call) epollEvent(e parser.Expr, scriptFD, liveFD int) (*unix.EpollEvent, epollData, error) {
	if err := c.checkKind(e, "epollev"); err != nil {
		return nil, 0, err
	}
	s := e.(*parser.StructExpr)
	ev := heap[unix.EpollEvent]()
	evE, _ := field(s, "events")
	events, err := c.s32(evE)
	if err != nil {
		return nil, 0, err
	}
	ev.Events = uint32(events)
	setU64 := func(v uint64) { ev.Fd, ev.Pad = int32(uint32(v)), int32(uint32(v>>32)) }
	if v, ok := field(s, "ptr"); ok {
		n, err := c.int64Of(v)
		setU64(uint64(n))
		return ev, epollPtr, err
	}
	if v, ok := field(s, "fd"); ok {
		fd32, err := c.s32(v)
		if err != nil {
			return nil, 0, err
		}
		fd := int(fd32)
		if scriptFD == -1 {
			st, ok := c.r.fds[fd]
			if !ok || st.closed {
				return nil, 0, c.fail("unable to find fd with script fd %d", fd)
			}
			liveFD = st.liveFD
		} else if fd != scriptFD {
			return nil, 0, c.fail("wrong fd specified in epoll_event")
		}
		ev.Fd = int32(liveFD)
		return ev, epollFD, nil
	}
	if v, ok := field(s, "u32"); ok {
		n, err := c.int64Of(v)
		ev.Fd = int32(uint32(n))
		return ev, epollU32, err
	}
	if v, ok := field(s, "u64"); ok {
		n, err := c.int64Of(v)
		setU64(uint64(n))
		return ev, epollU64, err
	}
	return nil, 0, c.fail("epoll_event specified incorrectly")
}

func sysEpollCtl(c *call) (int, unix.Errno, error) {
	ep, _, err := c.fdArgs(4)
	if err != nil {
		return 0, 0, err
	}
	op, err := c.s32Arg(1)
	if err != nil {
		return 0, 0, err
	}
	sfd, err := c.s32Arg(2)
	if err != nil {
		return 0, 0, err
	}
	fd, _, err := c.liveFD(2)
	if err != nil {
		return 0, 0, err
	}
	ev, _, err := c.epollEvent(c.sc.Args[3], int(sfd), fd)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := raw(unix.SYS_EPOLL_CTL, uintptr(ep), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)))
	goruntime.KeepAlive(ev)
	return ret, errno, nil
}

func sysEpollWait(c *call) (int, unix.Errno, error) {
	ep, _, err := c.fdArgs(4)
	if err != nil {
		return 0, 0, err
	}
	want, kind, err := c.epollEvent(c.sc.Args[1], -1, -1)
	if err != nil {
		return 0, 0, err
	}
	maxev, err := c.s32Arg(2)
	if err != nil {
		return 0, 0, err
	}
	timeout, err := c.s32Arg(3)
	if err != nil {
		return 0, 0, err
	}
	if maxev <= 0 || maxev > 1<<16 {
		ret, errno := raw(unix.SYS_EPOLL_WAIT, uintptr(ep), 0, uintptr(maxev), uintptr(timeout))
		return ret, errno, nil
	}
	got := make([]unix.EpollEvent, maxev)
	ret, errno := raw(unix.SYS_EPOLL_WAIT, uintptr(ep), uintptr(unsafe.Pointer(&got[0])), uintptr(maxev), uintptr(timeout))
	goruntime.KeepAlive(got)
	c.post = func(int) error {
		g := got[0]
		if g.Events != want.Events {
			return c.fail("epoll_event->events does not match script: expected: %#x actual: %#x", want.Events, g.Events)
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
			return c.fail("epoll_event->data does not match script: expected: %s actual: %s", exp, act)
		}
		return nil
	}
	return ret, errno, nil
}

func sysPipe(c *call) (int, unix.Errno, error) {
	if err := c.argCount(1); err != nil {
		return 0, 0, err
	}
	e := c.sc.Args[0]
	if err := c.checkKind(e, "list"); err != nil {
		return 0, 0, err
	}
	l := e.(*parser.ListExpr)
	if len(l.Elems) != 2 {
		return 0, 0, c.fail("%d pipe file descriptors instead of 2", len(l.Elems))
	}
	var script [2]int
	for i, el := range l.Elems {
		if err := c.checkKind(el, "integer"); err != nil {
			return 0, 0, err
		}
		v, err := c.s32(el)
		if err != nil {
			return 0, 0, err
		}
		script[i] = int(v)
	}
	live := heap[[2]int32]()
	ret, errno := raw(unix.SYS_PIPE2, uintptr(unsafe.Pointer(live)), 0)
	goruntime.KeepAlive(live)
	c.post = func(int) error {
		for i := range script {
			fd, err := c.r.addFD(c, script[i], int(live[i]), nil)
			if err != nil {
				return err
			}
			fd.kind = fdPipe
		}
		return nil
	}
	return ret, errno, nil
}

// sysSplice passes the offsets as the pointers they are: NULL (0) is
// the only useful value, as in the reference.
func sysSplice(c *call) (int, unix.Errno, error) {
	in, _, err := c.fdArgs(6)
	if err != nil {
		return 0, 0, err
	}
	offIn, err := c.int64Of(c.sc.Args[1])
	if err != nil {
		return 0, 0, err
	}
	out, _, err := c.liveFD(2)
	if err != nil {
		return 0, 0, err
	}
	offOut, err := c.int64Of(c.sc.Args[3])
	if err != nil {
		return 0, 0, err
	}
	n, err := c.s32Arg(4)
	if err != nil {
		return 0, 0, err
	}
	flags, err := c.s32Arg(5)
	if err != nil {
		return 0, 0, err
	}
	ret, errno := raw(unix.SYS_SPLICE, uintptr(in), uintptr(offIn), uintptr(out), uintptr(offOut), uintptr(n), uintptr(flags))
	return ret, errno, nil
}

// atFDCWD is AT_FDCWD (-100) as a system call argument.
var atFDCWD = func() uintptr { v := int64(unix.AT_FDCWD); return uintptr(v) }()
