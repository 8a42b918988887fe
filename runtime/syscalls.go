package runtime

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	goruntime "runtime"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

// fdKind is what a script fd stands for, as the reference tracks it.
type fdKind int

const (
	fdSocket fdKind = iota
	fdFile          // open()
	fdPipe          // either end of a pipe()
	fdEpoll         // epoll_create()
)

// fdState is one script fd and the live fd it stands for.
type fdState struct {
	scriptFD int
	liveFD   int
	kind     fdKind
	sock     *socket // nil for non-socket fds (pipes, epoll, files)
	closed   bool
}

// call is one system call being run.
type call struct {
	r  *runner
	es *eventState
	sc *parser.Syscall
	// checkFD: the result is an fd, so any non-negative value matches a
	// non-negative script value (which names the script fd).
	checkFD bool
	// post runs after the result matched, with the live result.
	post func(ret int)
	// fds touched, for the state probe.
	errnoOut unix.Errno
}

// syscallFunc makes the call and returns its raw result and errno.
type syscallFunc func(c *call) (int, unix.Errno)

// syscallFail stops the run with a "runtime error in X call" failure.
func (c *call) fail(format string, args ...any) *Failure {
	return &Failure{Pos: c.es.ev.Pos, Kind: FailSyscall,
		Msg: fmt.Sprintf("runtime error in %s call: %s", c.sc.Name, fmt.Sprintf(format, args...))}
}

func (r *runner) runSyscall(es *eventState, rec *EventRecord) {
	sc := es.ev.Syscall
	rec.Kind = "syscall"
	rec.Summary = formatCall(sc)
	fn, ok := syscallTable[sc.Name]
	if !ok {
		panic(&Failure{Pos: es.ev.Pos, Kind: FailScript, Msg: fmt.Sprintf("runtime error in %s call: unsupported system call: %s", sc.Name, sc.Name)})
	}
	c := &call{r: r, es: es, sc: sc}
	if sc.HasEnd {
		r.startBlocking(c, fn, rec)
		return
	}
	r.awaitBlocking(time.Second)
	r.checkBlockingFailure()
	r.waitFor(es, "system call start")
	rec.ActualTime = r.now()
	watchdog := time.AfterFunc(r.cfg.SyscallTimeout, func() {
		f := c.fail("did not return within %v (write `...` and an end time for a call that blocks)", r.cfg.SyscallTimeout)
		fmt.Fprintln(r.stderr, f.Report(r.script.Source))
		os.Exit(ExitKernel)
	})
	ret, errno := fn(c)
	watchdog.Stop()
	rec.Result = r.finishCall(c, ret, errno)
	if r.cfg.Verbose {
		fmt.Fprintf(r.stdout, "%s syscall: %9.6f\n", sc.Name, secs(r.now()))
	}
}

// Exit codes of godrill; ExitKernel is also the reference's failure code.
const (
	ExitPass   = 0
	ExitKernel = 1 // the kernel did not do what the script says
	ExitScript = 2 // the script is wrong (syntax, semantics)
	ExitSetup  = 3 // godrill could not run (not root, no TUN, bad flags)
)

// finishCall checks the result against the script and runs post-actions.
func (r *runner) finishCall(c *call, ret int, errno unix.Errno) string {
	sc := c.sc
	expected, err := c.r.evalInt(sc.Result)
	if err != nil {
		panic(c.evalFail(err))
	}
	// An errno the script names must exist whatever the call returns:
	// a misspelt errno is the script's fault, not a kernel mismatch.
	var wantErrno unix.Errno
	if sc.Errno != "" {
		var ok bool
		if wantErrno, ok = errnoByName(sc.Errno); !ok {
			f := c.fail("unknown errno %s", sc.Errno)
			f.Kind = FailScript
			panic(f)
		}
	}
	result := fmt.Sprint(ret)
	if c.checkFD && ret >= 0 && expected >= 0 {
		result = fmt.Sprint(expected) // the script's fd, not the live one
	}
	if ret < 0 {
		result = fmt.Sprintf("%d %s (%s)", ret, errnoName(errno), strerror(errno))
	}
	if c.checkFD && expected >= 0 {
		if ret < 0 {
			panic(c.fail("Expected non-negative result but got %d with errno %d (%s)", ret, int(errno), strerror(errno)))
		}
	} else if int64(ret) != expected {
		panic(c.fail("Expected result %d but got %d with errno %d (%s)", expected, ret, int(errno), strerror(errno)))
	}
	if sc.Errno != "" {
		if want := wantErrno; want != errno {
			panic(c.fail("Expected errno %d (%s) but got %d (%s)", int(want), strerror(want), int(errno), strerror(errno)))
		}
	}
	if c.post != nil && ret >= 0 {
		c.post(ret)
	}
	return result
}

// strerror is glibc's wording: Go's errno text with a capital letter.
func strerror(e unix.Errno) string {
	if e == 0 {
		return "Success"
	}
	s := e.Error()
	if s == "" {
		return s
	}
	rs := []rune(s)
	rs[0] = unicode.ToUpper(rs[0])
	return string(rs)
}

// --- blocking calls ---------------------------------------------------------

// blockingCall is a "start...end" call running on its own OS thread.
type blockingCall struct {
	c    *call
	tid  int
	in   chan struct{} // closed just before the call enters the kernel
	done chan struct{}
	err  error
	mu   sync.Mutex
}

func (r *runner) startBlocking(c *call, fn syscallFunc, rec *EventRecord) {
	if r.blocking != nil && !r.awaitBlocking(time.Second) {
		panic(c.fail("blocking system call while another blocking system call is already in progress"))
	}
	r.checkBlockingFailure()
	r.waitFor(c.es, "system call start")
	rec.ActualTime = r.now()
	b := &blockingCall{c: c, in: make(chan struct{}), done: make(chan struct{})}
	r.blocking = b
	tidCh := make(chan int, 1)
	go func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		defer close(b.done)
		defer func() {
			if p := recover(); p != nil {
				if f, ok := p.(*Failure); ok {
					b.mu.Lock()
					b.err = f
					b.mu.Unlock()
					return
				}
				panic(p)
			}
		}()
		tidCh <- unix.Gettid()
		ret, errno := fn(c)
		end := r.now()
		// The main loop holds r.mu while it runs an event; take it so the
		// post-actions (fd maps) do not race with it.
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.cfg.Verbose {
			fmt.Fprintf(r.stdout, "%s syscall: %9.6f\n", c.sc.Name, secs(end))
		}
		r.finishCall(c, ret, errno)
		if msg := r.verifyTime(c.es.ev.Time.Kind, c.es.endCall, 0, end, lastTimeT{c.es.time, true}, "system call return"); msg != "" {
			panic(&Failure{Pos: c.es.ev.Pos, Kind: FailTiming, Msg: msg})
		}
	}()
	b.tid = <-tidCh
	// Go on once the call is asleep in the kernel, or done.
	for {
		select {
		case <-b.done:
			return
		default:
		}
		if threadSleeping(b.tid) {
			return
		}
		goruntime.Gosched()
	}
}

// awaitBlocking waits up to limit for a pending blocking call to finish; it
// reports whether none is pending any more.
func (r *runner) awaitBlocking(limit time.Duration) bool {
	b := r.blocking
	if b == nil {
		return true
	}
	r.mu.Unlock()
	defer r.mu.Lock()
	select {
	case <-b.done:
		return true
	case <-time.After(limit):
		return false
	}
}

// checkBlockingFailure raises the failure of a finished blocking call.
func (r *runner) checkBlockingFailure() {
	b := r.blocking
	if b == nil {
		return
	}
	select {
	case <-b.done:
	default:
		return
	}
	r.blocking = nil
	b.mu.Lock()
	err := b.err
	b.mu.Unlock()
	if err != nil {
		panic(err)
	}
}

// threadSleeping reads the scheduler state of a thread of this process.
func threadSleeping(tid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] == 'S' || s[i+2] == 'D'
}

// --- fds ---------------------------------------------------------------------

func (c *call) liveFD(argIndex int) (int, *fdState) {
	sfd := int(c.intArg(argIndex))
	fd, ok := c.r.fds[sfd]
	if !ok || fd.closed {
		panic(c.fail("unable to find fd with script fd %d", sfd))
	}
	return fd.liveFD, fd
}

func (r *runner) addFD(c *call, scriptFD, liveFD int, s *socket) *fdState {
	if old, ok := r.fds[scriptFD]; ok && !old.closed {
		panic(c.fail("duplicate fd %d in script", scriptFD))
	}
	fd := &fdState{scriptFD: scriptFD, liveFD: liveFD, sock: s}
	if s == nil {
		fd.kind = fdFile
	}
	r.fds[scriptFD] = fd
	if s != nil {
		s.scriptFD, s.liveFD = scriptFD, liveFD
	}
	return fd
}

// closeAll closes every fd still open at the end and resets each TCP
// connection the script talked to, so nothing lingers.
func (r *runner) closeAll() {
	for _, fd := range r.fds {
		if !fd.closed {
			unix.Close(fd.liveFD)
			fd.closed = true
		}
	}
	for _, fd := range r.reservedPorts {
		unix.Close(fd)
	}
	r.reservedPorts = nil
	for _, s := range r.sockets {
		// A wire server leaves the connection alone: the client may still
		// be checking it (the reference's server resets it right after its
		// last packet event; docs/wire.md).
		if s.injected && s.proto == unix.IPPROTO_TCP && r.net != nil && r.wireRole() != WireServer {
			r.net.Inject(resetPacket(s))
		}
	}
}

// --- addresses ---------------------------------------------------------------

func (r *runner) family() int {
	if r.cfg.IPVersion == IPv4 {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// sockaddr builds the socket address for a wire address in this run's family.
func (r *runner) sockaddr(a netip.AddrPort) unix.Sockaddr {
	if r.cfg.IPVersion == IPv4 {
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().Unmap().As4()}
	}
	return &unix.SockaddrInet6{Port: int(a.Port()), Addr: r.cfg.sockaddrIP(a.Addr()).As16()}
}

func addrPortOf(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// kernelEphemeralPort asks the kernel for a free port by binding to port 0.
func kernelEphemeralPort(cfg *Config) (port uint16, fd int, err error) {
	fam := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{}
	if cfg.IPVersion != IPv4 {
		fam, sa = unix.AF_INET6, &unix.SockaddrInet6{}
	}
	fd, err = unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, -1, err
	}
	// Listening keeps the port ours for the whole run, as the reference
	// does (scripts' `ss` output shows this socket under both tools).
	if err = unix.Bind(fd, sa); err == nil {
		err = unix.Listen(fd, 100)
	}
	var got unix.Sockaddr
	if err == nil {
		got, err = unix.Getsockname(fd)
	}
	if err == nil {
		if port = addrPortOf(got).Port(); port == 0 {
			err = errors.New("no port")
		}
	}
	if err != nil {
		unix.Close(fd)
		return 0, -1, err
	}
	return port, fd, nil
}

// formatCall writes a call for logs: name(args).
func formatCall(sc *parser.Syscall) string {
	args := make([]string, len(sc.Args))
	for i, a := range sc.Args {
		args[i] = exprString(a)
	}
	return fmt.Sprintf("%s(%s)", sc.Name, strings.Join(args, ", "))
}

// SyscallNames lists the system calls a script may make, sorted, so that
// a script can be checked before it runs.
func SyscallNames() []string {
	names := make([]string, 0, len(syscallTable))
	for n := range syscallTable {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
