package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unsafe"

	goruntime "runtime"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/internal/rawsys"
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
	// post runs after the result matched, with the live result; it checks
	// what the call wrote (optvals, revents) and records new fds.
	post func(ret int) error
	// postOnError: post runs after a failed call that matched too (the
	// reference checks getsockopt's optlen and value whatever it returned).
	postOnError bool
	// ahead holds what evalAhead evaluated before the event's time.
	ahead  [8]aheadValue
	nAhead int
	// prepared is what a preparer made for the call before its time.
	prepared any
}

// preparers make, before a call's time, what the call would otherwise
// allocate at it (see sockoptBuffers). What goes wrong there is left for
// the call, which evaluates its arguments again and fails at its own time.
var preparers = map[string]func(c *call) (any, error){
	"getsockopt": func(c *call) (any, error) { return c.getsockoptBuffers() },
	"setsockopt": func(c *call) (any, error) { return c.setsockoptBuffers() },
}

// syscallFunc decodes the script's arguments, makes the call and returns
// its raw result and errno; err is a failure before or instead of the call
// (arguments the script got wrong).
type syscallFunc func(c *call) (ret int, errno unix.Errno, err error)

// fail builds a "runtime error in X call" failure.
func (c *call) fail(format string, args ...any) *Failure {
	return &Failure{Pos: c.es.ev.Pos, Kind: FailSyscall,
		Msg: fmt.Sprintf("runtime error in %s call: %s", c.sc.Name, fmt.Sprintf(format, args...))}
}

func (r *runner) runSyscall(es *eventState, rec *EventRecord) error {
	sc := es.ev.Syscall
	rec.Kind = KindSyscall
	rec.Summary = formatCall(sc)
	fn, ok := syscallTable[sc.Name]
	if !ok {
		return &Failure{Pos: es.ev.Pos, Kind: FailScript, Msg: fmt.Sprintf("runtime error in %s call: unsupported system call: %s", sc.Name, sc.Name)}
	}
	c := &call{r: r, es: es, sc: sc}
	if sc.HasEnd {
		return r.startBlocking(c, fn, rec)
	}
	held := r.blocking != nil && !isClosed(r.blocking.done)
	r.awaitBlocking(time.Second)
	if err := r.checkBlockingFailure(); err != nil {
		return err
	}
	c.evalAhead()
	if prepare := preparers[sc.Name]; prepare != nil {
		if p, err := prepare(c); err == nil {
			c.prepared = p
		}
	}
	if fdFirst[sc.Name] {
		es.rehearse = c.rehearse
	}
	if err := r.waitFor(es, "system call start", held); err != nil {
		return err
	}
	rec.ActualTime = r.now()
	es.callStart = rec.ActualTime
	ret, errno, err := r.callWithTimeout(c, fn)
	if err != nil {
		return err
	}
	// The call happened when it returned: checking its result and
	// outputs is godrill's work, which the next relative time should not
	// inherit (as an injection's kernel processing, see injectAt).
	end := r.now()
	es.doneAt = end
	rec.Result, err = r.finishCall(c, ret, errno)
	if r.cfg.Verbose {
		r.later(func() { fmt.Fprintf(r.stdout, "%s syscall: %9.6f\n", sc.Name, secs(end)) })
	}
	return err
}

// fdFirst are the calls whose first argument is an fd, which rehearse uses.
var fdFirst = map[string]bool{
	"bind": true, "listen": true, "accept": true, "connect": true,
	"read": true, "readv": true, "recv": true, "recvfrom": true, "recvmsg": true,
	"write": true, "writev": true, "send": true, "sendto": true, "sendmsg": true,
	"fcntl": true, "ioctl": true, "close": true, "shutdown": true,
	"getsockopt": true, "setsockopt": true, "sendfile": true, "splice": true,
	"epoll_ctl": true, "epoll_wait": true,
}

// rehearse runs, just before the call's time, what the call will run that
// cannot change anything: the evaluation of its arguments, the lookup of
// its fd, and a getsockopt(SO_TYPE) on that fd, which goes through the
// same system call entry, fd lookup and socket layer as the call. While
// the loop slept, the CPU ran other work, and everything came back cold
// (the kernel's entry path too: a spin in user space does not bring it
// back): on bench/'s alternating schedule a getsockopt event took 22-27 µs
// from its time to its return, which every later relative time inherits;
// rehearsed, 9-10 µs. The same getsockopt in a bare loop takes 7-8 µs
// after a 5 ms wait and 1 µs warm. SO_TYPE only reads a constant of the
// socket (SO_ERROR would clear the pending error); on an fd that is not a
// socket it fails with ENOTSOCK, and nothing is kept either way.
func (c *call) rehearse() {
	c.evalAhead()
	fd, _, err := c.liveFD(0)
	if err != nil {
		return
	}
	unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if w := c.r.watchdog; w != nil {
		w.warm()
	}
}

// callWithTimeout makes a call written without "..." on this thread. One
// that does not return within --syscall_timeout is woken by the run's
// watchdog (see callWatchdog), and fails.
func (r *runner) callWithTimeout(c *call, fn syscallFunc) (int, unix.Errno, error) {
	if r.cfg.SyscallTimeout <= 0 {
		return fn(c)
	}
	if r.watchdog == nil {
		r.watchdog = newCallWatchdog(r.cfg.SyscallTimeout)
	}
	r.watchdog.begin(r.wakeFDs())
	ret, errno, err := fn(c)
	if r.watchdog.end() {
		return 0, 0, c.fail("did not return within %v (write `...` and an end time for a call that blocks)", r.cfg.SyscallTimeout)
	}
	return ret, errno, err
}

// liveFDs are the live fds of the script's open fds.
func (r *runner) liveFDs() []int {
	fds := make([]int, 0, len(r.fds))
	for _, fd := range r.fds {
		if !fd.closed {
			fds = append(fds, fd.liveFD)
		}
	}
	return fds
}

// wakeFDs is liveFDs for the watchdog, made again only after the fds
// changed (fdsChanged): a call's start costs no allocation. The slice is
// never changed once handed out.
func (r *runner) wakeFDs() []int {
	if r.wake == nil || r.wakeGen != r.fdsGen {
		r.wake, r.wakeGen = r.liveFDs(), r.fdsGen
	}
	return r.wake
}

// fdsChanged is called whenever an fd is added or closed.
func (r *runner) fdsChanged() { r.fdsGen++ }

// shutdownAll wakes a call blocked on any of fds: a socket call returns
// once its socket is shut down (poll and epoll_wait see the hangup). A
// read of a pipe or file cannot be woken this way.
func shutdownAll(fds []int) {
	for _, fd := range fds {
		unix.Shutdown(fd, unix.SHUT_RDWR)
	}
}

// wakeAll wakes a blocking call still in progress at the end of a run.
func (r *runner) wakeAll() { shutdownAll(r.liveFDs()) }

// Exit codes of godrill; ExitKernel is also the reference's failure code.
const (
	ExitPass   = 0
	ExitKernel = 1 // the kernel did not do what the script says
	ExitScript = 2 // the script is wrong (syntax, semantics)
	ExitSetup  = 3 // godrill could not run (not root, no TUN, bad flags)
	// ExitLate: godrill itself was late for an event (the machine was too
	// busy), so the kernel was not tested there; rerunning may pass. The
	// packetdrill drop-in form exits ExitKernel instead, as the reference.
	ExitLate = 4
)

// finishCall checks the result against the script and runs post-actions.
func (r *runner) finishCall(c *call, ret int, errno unix.Errno) (string, error) {
	sc := c.sc
	expected, err := c.evalInt(sc.Result)
	if err != nil {
		return "", c.evalFail(err)
	}
	// An errno the script names must exist whatever the call returns:
	// a misspelt errno is the script's fault, not a kernel mismatch.
	var wantErrno unix.Errno
	if sc.Errno != "" {
		var ok bool
		if wantErrno, ok = errnoByName(sc.Errno); !ok {
			f := c.fail("unknown errno %s", sc.Errno)
			f.Kind = FailScript
			return "", f
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
			return result, c.fail("Expected non-negative result but got %d with errno %d (%s)", ret, int(errno), strerror(errno))
		}
	} else if int64(ret) != expected {
		return result, c.fail("Expected result %d but got %d with errno %d (%s)", expected, ret, int(errno), strerror(errno))
	}
	if sc.Errno != "" && wantErrno != errno {
		return result, c.fail("Expected errno %d (%s) but got %d (%s)", int(wantErrno), strerror(wantErrno), int(errno), strerror(errno))
	}
	if c.post != nil && (ret >= 0 || c.postOnError) {
		if err := c.post(ret); err != nil {
			return result, err
		}
	}
	return result, nil
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
	c       *call
	started atomic.Bool   // the call's thread has taken the call up
	done    chan struct{} // closed when the call has returned and been checked
	err     error         // its failure; read after done is closed
}

func (r *runner) startBlocking(c *call, fn syscallFunc, rec *EventRecord) error {
	held := r.blocking != nil && !isClosed(r.blocking.done)
	if r.blocking != nil && !r.awaitBlocking(time.Second) {
		return c.fail("blocking system call while another blocking system call is already in progress")
	}
	if err := r.checkBlockingFailure(); err != nil {
		return err
	}
	c.evalAhead()
	if err := r.waitFor(c.es, "system call start", held); err != nil {
		return err
	}
	rec.ActualTime = r.now()
	t, err := r.callThread()
	if err != nil {
		return c.fail("%v", err)
	}
	b := &blockingCall{c: c, done: make(chan struct{})}
	r.blocking = b
	last := r.lastT()
	restore := handOffHere(t.tid, t.cpus, r.realtimeOn)
	t.send(func() {
		defer close(b.done)
		b.err = r.guard(c.es, func() error { return r.blockingCall(c, fn, last) })
	})
	// Go on once the call is asleep in the kernel, or done.
	err = waitAsleep(t.tid, &b.started, b.done)
	restore()
	return err
}

// handOffHere keeps the blocking-call thread on the loop's CPU while it
// takes up a call, until the call is asleep in the kernel (the caller then
// runs restore). Handed over so, the call is a wake-up on a busy CPU, which
// the loop's yields in waitAsleep give the CPU at once. Woken on the other
// CPU, it waited for that CPU to come out of its idle halt: on this
// machine (a VM without a cpuidle driver, whose idle vCPUs halt) that took
// 0.8-1.3 ms in a traced run of three scripts at a time, where a blocking
// sendto's SYN left 0.8 ms after the call's start and the loop saw the
// call asleep 1.7 ms after that, so every later relative time moved 2.5 ms.
// Afterwards the thread may run on any CPU again, so that the call's
// return is not held behind the loop's next events.
// all is the CPUs the thread may run on otherwise, read once when it
// started (callThread), not on the way to every hand-over.
func handOffHere(tid int, all unix.CPUSet, realtime bool) (restore func()) {
	noop := func() {}
	if !realtime || all.Count() <= 1 {
		return noop
	}
	var cpu uint32
	if _, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); errno != 0 || !all.IsSet(int(cpu)) {
		return noop
	}
	var here unix.CPUSet
	here.Set(int(cpu))
	if unix.SchedSetaffinity(tid, &here) != nil {
		return noop
	}
	return func() { unix.SchedSetaffinity(tid, &all) }
}

// startCallThread starts the blocking-call thread if the script has a
// blocking call. A call that never returns keeps its thread; the run goes
// on without it.
func (r *runner) startCallThread() error {
	for _, ev := range r.script.Events {
		if ev.Syscall != nil && ev.Syscall.HasEnd {
			_, err := r.callThread()
			return err
		}
	}
	return nil
}

// callThread is the OS thread that makes the run's blocking calls, one at
// a time. It is started before the first one is due (see startCallThread),
// so a call starts without waiting for a new thread.
//
// It waits for work in read(2) on an eventfd, not on a Go channel: a
// goroutine parked in Go's scheduler and locked to its thread is woken
// through another thread, which must first get a P and a CPU (two
// wake-ups, the first on the CPU Go picks). With the CPUs kept busy, a
// connect at time 0 so started 5 ms late (traced: the spare thread's
// CPU took its wake-up 5 ms later, while the loop's CPU was free). A
// thread blocked in the kernel is woken by the write itself.
type callThread struct {
	tid  int
	cpus unix.CPUSet // the CPUs it may run on (see handOffHere)
	efd  int
	mu   sync.Mutex
	work []func() // nil entry: stop
}

func (r *runner) callThread() (*callThread, error) {
	if r.calls != nil {
		return r.calls, nil
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_SEMAPHORE)
	if err != nil {
		return nil, fmt.Errorf("starting the blocking-call thread: eventfd: %w", err)
	}
	t := &callThread{efd: efd}
	tid := make(chan int)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread ends with the goroutine
		tid <- unix.Gettid()
		for f := t.next(); f != nil; f = t.next() {
			f()
		}
		unix.Close(t.efd)
	}()
	t.tid = <-tid
	unix.SchedGetaffinity(t.tid, &t.cpus) // on failure empty: no hand-over pinning
	r.calls = t
	return t, nil
}

// send hands f to the thread; nil stops it after the work before.
func (t *callThread) send(f func()) {
	t.mu.Lock()
	t.work = append(t.work, f)
	t.mu.Unlock()
	one := uint64(1)
	rawsys.Syscall6(unix.SYS_WRITE, uintptr(t.efd), uintptr(unsafe.Pointer(&one)), 8, 0, 0, 0)
}

// next waits for the next piece of work, in the kernel.
func (t *callThread) next() func() {
	var buf [8]byte
	for {
		if _, err := unix.Read(t.efd, buf[:]); err == nil {
			break
		} else if err != unix.EINTR {
			return nil
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.work[0]
	t.work = t.work[1:]
	return f
}

// stopCallThread ends the blocking-call thread once its call (if one
// still runs) returns.
func (r *runner) stopCallThread() {
	if r.calls != nil {
		r.calls.send(nil)
		r.calls = nil
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// blockingCall makes the call on this (the call's own) thread and checks
// its result and return time. A call this thread starts later than its
// tolerance is godrill's lateness, as a late start on the loop's thread
// is (waitFor): the kernel was not tested at this line. last is the
// previous event's time, when the loop handed the call over.
func (r *runner) blockingCall(c *call, fn syscallFunc, last lastTimeT) error {
	if now := r.now(); now > c.es.time {
		if msg := r.verifyTime(c.es.ev.Time.Kind, c.es.time, c.es.timeEnd, now, last, "system call start"); msg != "" {
			return &Failure{Pos: c.es.ev.Pos, Kind: FailLate, Late: now - c.es.time,
				Msg: fmt.Sprintf("godrill was scheduled %.3f ms late; the kernel was not tested at this line (%s; the call's thread started it)",
					float64(now-c.es.time)/float64(time.Millisecond), msg)}
		}
	}
	r.blocking.started.Store(true)
	ret, errno, err := fn(c)
	end := r.now()
	// The main loop holds r.mu while it runs an event; take it so the
	// post-actions (fd maps) do not race with it.
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		return err
	}
	if r.cfg.Verbose {
		r.laterFor(c.es, func() { fmt.Fprintf(r.stdout, "%s syscall: %9.6f\n", c.sc.Name, secs(end)) })
	}
	if _, err := r.finishCall(c, ret, errno); err != nil {
		return err
	}
	if msg := r.verifyTime(c.es.ev.Time.Kind, c.es.endCall, 0, end, lastTimeT{c.es.time, true}, "system call return"); msg != "" {
		return &Failure{Pos: c.es.ev.Pos, Kind: FailTiming, Msg: msg}
	}
	return nil
}

// waitAsleep returns once thread tid, having started the call, sleeps in
// the kernel (state S or D in its stat file), or done is closed: the
// reference's is_thread_sleeping loop, which runs once its thread has
// dequeued the call. Without started, the thread still parked in the Go
// scheduler before it takes the call up would look asleep. It polls
// without the Go scheduler: preads of the files it keeps open, then
// sched_yield(2), which lets the call's thread run on this CPU; the sleep
// is seen within microseconds of happening. Past yieldWindow it polls
// every pollSleep instead: a real-time thread that only yields would
// starve the other runs on its CPU.
func waitAsleep(tid int, started *atomic.Bool, done <-chan struct{}) error {
	stat, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/stat", tid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		<-done // no way to tell: wait for the call
		return nil
	}
	defer unix.Close(stat)
	var buf [512]byte
	start := time.Now()
	for {
		select {
		case <-done:
			return nil
		default:
		}
		if started.Load() {
			if n, err := unix.Pread(stat, buf[:], 0); err == nil && statSleeping(buf[:n]) {
				return nil
			}
		}
		if time.Since(start) < yieldWindow {
			unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		} else {
			sleepThread(pollSleep)
		}
	}
}

const (
	yieldWindow = 500 * time.Microsecond
	pollSleep   = 20 * time.Microsecond
)

// statSleeping reads the state field of a /proc/.../stat line.
func statSleeping(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	return stat[i+2] == 'S' || stat[i+2] == 'D'
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
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-b.done:
		return true
	case <-t.C:
		return false
	}
}

// checkBlockingFailure returns the failure of a finished blocking call.
func (r *runner) checkBlockingFailure() error {
	b := r.blocking
	if b == nil {
		return nil
	}
	select {
	case <-b.done:
	default:
		return nil
	}
	r.blocking = nil
	return b.err
}

// --- fds ---------------------------------------------------------------------

// fdArgs checks a call's argument count and reads its first argument, the
// script fd, as most calls begin.
func (c *call) fdArgs(nargs int) (int, *fdState, error) {
	if err := c.argCount(nargs); err != nil {
		return -1, nil, err
	}
	return c.liveFD(0)
}

func (c *call) liveFD(argIndex int) (int, *fdState, error) {
	v, err := c.intArg(argIndex)
	if err != nil {
		return -1, nil, err
	}
	sfd := int(v)
	fd, ok := c.r.fds[sfd]
	if !ok || fd.closed {
		return -1, nil, c.fail("unable to find fd with script fd %d", sfd)
	}
	return fd.liveFD, fd, nil
}

func (r *runner) addFD(c *call, scriptFD, liveFD int, s *socket) (*fdState, error) {
	if old, ok := r.fds[scriptFD]; ok && !old.closed {
		return nil, c.fail("duplicate fd %d in script", scriptFD)
	}
	fd := &fdState{scriptFD: scriptFD, liveFD: liveFD, sock: s}
	if s == nil {
		fd.kind = fdFile
	}
	r.fds[scriptFD] = fd
	r.fdsChanged()
	if s != nil {
		s.scriptFD, s.liveFD = scriptFD, liveFD
	}
	return fd, nil
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
	r.sockets = nil
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
