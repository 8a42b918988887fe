// Package rawsys makes the event loop's own waits and device I/O without
// telling Go's scheduler, where it has more than one P.
//
// An ordinary system call (syscall.Syscall) hands its P to the scheduler
// for the call's length, and sysmon gives that P to another thread when
// goroutines are waiting; back from the call, the loop's thread, locked
// to its goroutine, must then wait for a P, and a goroutine parked in
// Go's network poller needs another thread to hand it one. A raw call
// keeps the P: the loop goes on the moment the kernel returns, and the
// other P serves every other goroutine. With one P (GOMAXPROCS=1) a raw
// call would stop every other goroutine, so the ordinary call is made
// there.
//
// Only calls that return soon, or whose callers loop on a deadline, go
// through here: Go's scheduler signals a goroutine it sees running for
// 10 ms, which ends a raw call that blocks that long with EINTR. The
// script's own system calls are ordinary calls for that reason.
package rawsys

import (
	goruntime "runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// keepP reports whether calls are made raw.
func keepP() bool { return goruntime.GOMAXPROCS(0) > 1 }

// Syscall6 is unix.Syscall6, made raw where that keeps the loop's P.
func Syscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, errno unix.Errno) {
	if keepP() {
		return unix.RawSyscall6(trap, a1, a2, a3, a4, a5, a6)
	}
	return unix.Syscall6(trap, a1, a2, a3, a4, a5, a6)
}

// Sleep blocks the calling thread in nanosleep(2) for d. An interrupted
// sleep returns early; callers loop on their deadline.
func Sleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	Syscall6(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0, 0, 0, 0)
}

// PollIn waits up to d for fd to be readable (or hung up).
func PollIn(fd int, d time.Duration) {
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	ts := unix.NsecToTimespec(int64(d))
	Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
}

// Writev writes the buffers to fd in one writev(2).
func Writev(fd int, bufs ...[]byte) (int, error) {
	iov := make([]unix.Iovec, 0, len(bufs))
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	var p unsafe.Pointer
	if len(iov) > 0 {
		p = unsafe.Pointer(&iov[0])
	}
	n, _, e := Syscall6(unix.SYS_WRITEV, uintptr(fd), uintptr(p), uintptr(len(iov)), 0, 0, 0)
	goruntime.KeepAlive(bufs)
	if e != 0 {
		return int(n), e
	}
	return int(n), nil
}

// Recvmsg is recvmsg(2) into p and oob, with the sender's address in from.
// It returns the lengths read and the message flags.
func Recvmsg(fd int, p, oob []byte, from *unix.RawSockaddrAny, flags int) (n, oobn, recvflags int, err error) {
	var msg unix.Msghdr
	msg.Name = (*byte)(unsafe.Pointer(from))
	msg.Namelen = uint32(unsafe.Sizeof(*from))
	var iov unix.Iovec
	if len(p) > 0 {
		iov.Base = &p[0]
		iov.SetLen(len(p))
	}
	msg.Iov = &iov
	msg.Iovlen = 1
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	r, _, e := Syscall6(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags), 0, 0, 0)
	goruntime.KeepAlive(p)
	goruntime.KeepAlive(oob)
	if e != 0 {
		return 0, 0, 0, e
	}
	return int(r), int(msg.Controllen), int(msg.Flags), nil
}

// Read is read(2) into p.
func Read(fd int, p []byte) (int, error) {
	var base unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	n, _, e := Syscall6(unix.SYS_READ, uintptr(fd), uintptr(base), uintptr(len(p)), 0, 0, 0)
	goruntime.KeepAlive(p)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
