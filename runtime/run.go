package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godrill/godrill/internal/rawsys"
	"github.com/godrill/godrill/parser"
	"golang.org/x/sys/unix"
)

// Frame is one packet seen on the test device.
type Frame struct {
	Data     []byte    // the IP packet
	Time     time.Time // kernel timestamp (wall clock)
	Outgoing bool      // sent by the kernel (as opposed to injected by us)
}

// ErrTimeout is returned by Network.Next when the deadline passes.
var ErrTimeout = errors.New("timeout")

// Network is the test device as the runtime sees it.
type Network interface {
	// Inject hands an IP packet to the kernel as if it arrived from the wire.
	Inject(pkt []byte) error
	// Next returns the next packet seen on the device (in either
	// direction), or ErrTimeout at deadline.
	Next(deadline time.Time) (Frame, error)
}

// GSOInjector is a Network that can also inject a TCP packet as a GSO
// aggregate of mss-byte segments (virtio_net_hdr gso_type TCPV4/TCPV6), as
// the reference does for every inbound TCP packet under --mss; the
// aggregate's skb truesize, and so the advertised windows, depend on it.
type GSOInjector interface {
	InjectGSO(pkt []byte, mss int) error
}

// Observer is told about each event after it completes; trace, capture and
// log writers implement it. Calls come from the event loop, in order. An
// event's record comes in the next gap of the schedule (more than 1 ms
// before an event), before a command or code event, at the end, or when
// 256 are waiting, so that an observer's work delays no event; its State
// was asked right after the event. Frames come as they are read.
type Observer interface {
	Event(r *EventRecord)
	Frame(f Frame)
}

// Options configure one run. Everything a run needs from its process
// comes in here, so Run can run twice in one process (and in parallel).
type Options struct {
	Config    *Config
	Net       Network
	Stdout    io.Writer // script output (print, -v trace)
	Stderr    io.Writer // error reports
	Observers []Observer
	// StateProbe, when set, returns the kernel's TCP state of the
	// connection under test (for --trace); it is called after each event.
	// fd is the connection's own live descriptor while the script holds it
	// open, else -1.
	StateProbe func(local, remote string, fd int) string
	// Env is the environment of the script's shell commands; nil means
	// this process's. The sandbox adds PACKETDRILL_PID, as the reference
	// exports it (see drill/child.go).
	Env []string
	// Device names the test device. When set, its root qdisc goes back to
	// the kernel's default before a script's init command, as the
	// reference leaves it: the corpora's defaults.sh adds its own.
	Device string
	// Realtime moves every thread of this process to SCHED_RR at the
	// lowest real-time priority once the run's start is aligned (see
	// useRealtimeScheduling). It changes the whole process: for a process
	// that runs one script, as the sandbox's child does.
	Realtime bool
	// Clock is the runtime's clock for scheduling events (nil: time.Now);
	// tests move it to make godrill late. Kernel timestamps are not read
	// through it.
	Clock func() time.Time
	// Wire, in wire mode, links this half of the run to the other
	// (wire.go); Net is then the server's Ethernet device, or nil on the
	// client.
	Wire WireLink
	// Hold, when set, is called after the last event has passed, before
	// the run closes its sockets and resets the peer's connections: the
	// run's world stays as the script left it until Hold returns.
	Hold func()
}

// Run executes script. It returns nil when the kernel did everything the
// script says, a *Failure when it did not (or a syscall/command failed),
// and another error when the run could not be carried out. Whatever the
// outcome, the run's fds and reserved ports are closed, the connections
// it left open are reset, and observers have seen every packet up to
// the end; a bug becomes an "internal error" failure at its event.
func Run(ctx context.Context, script *parser.Script, opts Options) error {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	r := newRunner(ctx, script, opts)
	err := r.guard(nil, r.run)
	if r.realtimeOn {
		leaveRealtimeScheduling()
		r.realtimeOn = false
	}
	if e := r.guard(nil, func() error { return r.finish(err) }); err == nil {
		err = e
	}
	return err
}

// guard runs fn and turns a panic (a bug) into an internal-error
// failure at the current event, or at es when given.
func (r *runner) guard(es *eventState, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			pos := r.currentPos()
			if es != nil {
				pos = es.ev.Pos
			}
			fmt.Fprintf(r.stderr, "godrill: internal error: %v\n%s", p, debug.Stack())
			err = &Failure{Pos: pos, Msg: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	return fn()
}

func (r *runner) currentPos() parser.Pos {
	if es := r.writingFor; es != nil {
		r.writingFor = nil
		return es.ev.Pos
	}
	if ev := r.event.Load(); ev != nil {
		return ev.ev.Pos
	}
	return parser.Pos{File: r.script.File}
}

// finish ends a run whatever its outcome: observers learn about the
// failing event, a blocking call still in progress is woken, every fd and
// reserved port is closed and every connection left open reset, then the
// packets still queued reach the observers and the cleanup command runs.
//
// It returns a bug met in writing the queued output; the rest of the
// ending still happens.
func (r *runner) finish(err error) (outputErr error) {
	flush := func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if e := r.guard(nil, func() error { r.flushOutput(); return nil }); outputErr == nil {
			outputErr = e
		}
	}
	flush()
	var f *Failure
	if errors.As(err, &f) {
		r.failEvent(f)
	}
	func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.blocking != nil {
			r.wakeAll()
			r.awaitBlocking(time.Second)
		}
	}()
	flush() // what a blocking call's thread queued meanwhile
	func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.closeAll()
		r.stopCallThread()
		if r.watchdog != nil {
			r.watchdog.stopWatch()
		}
	}()
	r.drainFrames()
	r.runCleanupCommand()
	return outputErr
}

// failEvent tells observers about the failing event.
func (r *runner) failEvent(f *Failure) {
	if len(r.obs) == 0 {
		return
	}
	rec := &EventRecord{Pos: f.Pos, Verdict: VerdictFail, Error: f.Error()}
	if es := r.event.Load(); es != nil {
		rec.Index = r.numEvents
		rec.ScriptTime = es.time
		rec.ActualTime = r.now()
		rec.Kind, rec.Summary = eventSummary(es.ev)
		rec.Script = es.ev.Packet
	}
	if f.Kind == FailLate {
		rec.Verdict = VerdictLate
	}
	rec.PrevState = r.lastState
	rec.State = r.kernelState()
	for _, o := range r.obs {
		o.Event(rec)
	}
}

// eventSummary describes an event in script syntax.
func eventSummary(ev *parser.Event) (kind EventKind, summary string) {
	switch {
	case ev.Packet != nil && ev.Packet.TCP != nil:
		kind = KindInbound
		if ev.Packet.Direction == parser.Outbound {
			kind = KindOutbound
		}
		return kind, formatScriptTCP(ev.Packet.TCP)
	case ev.Packet != nil:
		kind = KindInbound
		if ev.Packet.Direction == parser.Outbound {
			kind = KindOutbound
		}
		return kind, "packet"
	case ev.Syscall != nil:
		return KindSyscall, formatCall(ev.Syscall)
	case ev.Command != nil:
		return KindCommand, "`" + ev.Command.Text + "`"
	}
	return KindCode, "%{ ... }%"
}

// runner is the state of one run.
type runner struct {
	ctx      context.Context
	script   *parser.Script
	cfg      *Config
	net      Network
	stdout   io.Writer
	stderr   io.Writer
	obs      []Observer
	probe    func(local, remote string, fd int) string
	env      []string
	device   string
	realtime bool
	// realtimeOn: the process's threads are at SCHED_RR now.
	realtimeOn bool
	clock      func() time.Time
	wire       WireLink
	hold       func()
	// passedBy: outgoing packets the matcher skipped while waiting for
	// the current outbound line (for the report when it never comes).
	passedBy []sniffed

	start     time.Time // live time of script time 0 (monotonic)
	startWall time.Time // the same instant on the wall clock, for kernel stamps

	// event is the event being run; atomic because the syscall watchdog
	// reads it from its own goroutine.
	event     atomic.Pointer[eventState]
	last      *eventState // the previous event
	numEvents int
	// lastYield is when the loop last yielded (see yieldIfDue).
	lastYield time.Time
	// lastDone is when the previous event was done, the base of a
	// relative time: taken before observers, the state probe and logging;
	// -1 when that is the moment the next event is taken up (wire mode).
	lastDone time.Duration
	initDone bool // the init command ran, so the cleanup command runs
	// initEnd is when the init command returned (zero: it did not run);
	// time 0 comes initSettle after it at the earliest.
	initEnd time.Time

	fds map[int]*fdState // by script fd
	// fdsGen counts changes of fds; wake, the live fds a hung call's
	// watchdog shuts down, was made at wakeGen.
	fdsGen, wakeGen int
	wake            []int
	// reservedPorts are listening sockets holding the scripted peers'
	// ephemeral ports until the end of the run.
	reservedPorts []int
	sockets       []*socket
	sut           *socket // socket under test
	blocking      *blockingCall
	calls         *callThread   // the thread of blocking calls, nil until needed
	watchdog      *callWatchdog // of the other calls, nil until the first
	// mu is held by the event loop while it runs an event, and by a
	// blocking call's thread while it checks its result.
	mu   sync.Mutex
	code CodeRunner

	lastState  string         // last kernel TCP state seen, for the trace
	pending    []queuedOutput // output waiting for a gap in the schedule (see later)
	writingFor *eventState    // whose queued output is being written (see flushOutput)
}

// eventState is an event with its times resolved to absolute script time.
type eventState struct {
	ev      *parser.Event
	time    time.Duration // script time of the event (start)
	timeEnd time.Duration // end of a range
	offset  time.Duration // base of a relative time
	endCall time.Duration // a blocking syscall's expected return time
	inbound bool
	// doneAt, when set, is when the event counts as done for the next
	// relative time, instead of when its handler returned.
	doneAt time.Duration
	// callStart is when a system call (not a blocking one) was made.
	callStart time.Duration
	// rehearse, when set, is run in the spin window before the event's
	// time, with r.mu held (see call.rehearse).
	rehearse func()
}

func newRunner(ctx context.Context, script *parser.Script, opts Options) *runner {
	r := &runner{
		ctx:      ctx,
		script:   script,
		cfg:      opts.Config,
		net:      opts.Net,
		stdout:   opts.Stdout,
		stderr:   opts.Stderr,
		obs:      opts.Observers,
		probe:    opts.StateProbe,
		env:      opts.Env,
		device:   opts.Device,
		realtime: opts.Realtime,
		clock:    opts.Clock,
		wire:     opts.Wire,
		hold:     opts.Hold,
		fds:      map[int]*fdState{},
	}
	if r.cfg == nil {
		r.cfg = DefaultConfig(IPv4)
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	if r.stdout == nil {
		r.stdout = os.Stdout
	}
	if r.stderr == nil {
		r.stderr = os.Stderr
	}
	return r
}

// run runs the script's events. Their order in time (the first at 0,
// absolute times never going backward) is the parser's to check.
func (r *runner) run() error {
	if r.script.Init != nil && r.wireRole() != WireServer {
		r.restoreDefaultQdisc()
		if err := r.shell(r.script.Init.Text, r.cfg.CommandTimeout); err != nil {
			return &Failure{Pos: r.script.Init.Pos, Msg: fmt.Sprintf("error executing init command: %v", err), Kind: FailCommand, noLine: true}
		}
		r.initDone = true
		r.initEnd = r.clock()
	}

	if err := r.startCallThread(); err != nil {
		return &Failure{Pos: parser.Pos{File: r.script.File}, Msg: err.Error(), noLine: true}
	}
	if err := r.startClock(); err != nil {
		return &Failure{Pos: parser.Pos{File: r.script.File}, Msg: err.Error(), noLine: true}
	}
	r.startWall = r.start.Round(0)
	for _, ev := range r.script.Events {
		if err := r.runEvent(ev); err != nil {
			return err
		}
	}
	if err := r.wireNext(nil); err != nil {
		return err
	}
	if r.hold != nil {
		// What is queued comes before the hold's own message, and while
		// the run is held, not after.
		r.mu.Lock()
		r.flushOutput()
		r.mu.Unlock()
		r.hold()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.awaitBlocking(time.Second) {
		return &Failure{Pos: r.blocking.c.es.ev.Pos, Kind: FailSyscall, Msg: "runtime error: exiting while a blocking system call is in progress"}
	}
	return r.checkBlockingFailure()
}

// runEvent runs one event: it waits for the event's time, does it, checks
// the outcome, and tells observers. r.mu is held throughout, except while
// waiting.
func (r *runner) runEvent(ev *parser.Event) error {
	if err := r.ctx.Err(); err != nil {
		return r.failf(ev.Pos, "run stopped: %v", err)
	}
	if err := r.checkBlockingFailure(); err != nil {
		return err
	}
	if err := r.wireNext(ev); err != nil {
		return err
	}
	es := r.resolveTimes(ev)
	r.event.Store(es)
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := &EventRecord{Index: r.numEvents, Pos: ev.Pos, ScriptTime: es.time}
	var err error
	switch {
	case !r.runsHere(ev): // wire mode: the other half runs it
	case ev.Packet != nil:
		err = r.runPacket(es, rec)
	case ev.Syscall != nil:
		err = r.runSyscall(es, rec)
	case ev.Command != nil:
		err = r.runCommand(es, rec)
	case ev.Code != nil:
		err = r.runCode(es, rec)
	}
	if err != nil {
		r.flushOutput()
		return err
	}
	r.lastDone = r.now()
	switch {
	case es.doneAt > 0:
		r.lastDone = es.doneAt
	case !r.runsHere(ev):
		// The other half of a wire-mode run does it: it is done when the
		// link says so, which the next event's wireNext waits for.
		r.lastDone = -1
	}
	r.finishEvent(rec)
	r.last = es
	r.numEvents++
	return nil
}

// now is the live time since script time 0.
func (r *runner) now() time.Duration { return r.clock().Sub(r.start) }

// wallToScript converts a kernel timestamp to script time.
func (r *runner) wallToScript(t time.Time) time.Duration { return t.Sub(r.startWall) }

// resolveTimes turns an event's relative or wildcard times into absolute
// script times, as the reference does: relative to the previous event's
// actual time, except an inbound packet after an inbound packet, which is
// anchored to the previous packet's script time so that processing costs
// do not accumulate.
func (r *runner) resolveTimes(ev *parser.Event) *eventState {
	es := &eventState{ev: ev, time: ev.Time.Start, timeEnd: ev.Time.End}
	es.inbound = ev.Packet != nil && ev.Packet.Direction == parser.Inbound
	if ev.Syscall != nil && ev.Syscall.HasEnd {
		es.endCall = ev.Syscall.End
	}
	switch ev.Time.Kind {
	case parser.TimeAny, parser.TimeRelative, parser.TimeRelativeRange:
	default:
		return es
	}
	switch {
	case r.last != nil && r.last.inbound && es.inbound:
		es.offset = r.last.time
	case r.last != nil && r.lastDone >= 0:
		es.offset = r.lastDone
	default:
		es.offset = r.now()
	}
	es.time += es.offset
	if ev.Time.Kind == parser.TimeRelativeRange {
		es.timeEnd += es.offset
	}
	if ev.Time.Kind == parser.TimeRelative && ev.Syscall != nil && ev.Syscall.HasEnd {
		es.endCall += es.offset
	}
	return es
}

// spinWindow is how long before an event we stop sleeping and spin, since
// the scheduler may wake a sleeper late.
const spinWindow = 200 * time.Microsecond

// rehearsalsAt are how long before an event its rehearsal runs, once each:
// the first warms what the sleep let go cold, the second what the first
// rehearsal's own misses left (two gave 9-10 µs a getsockopt, one 10 µs,
// against 22-27 µs without, on bench/'s alternating schedule).
var rehearsalsAt = [...]time.Duration{100 * time.Microsecond, 25 * time.Microsecond}

// Go's scheduler preempts a goroutine it sees running for 10 ms, and the
// loop's never stops on its own: it sleeps and polls without the
// scheduler (package rawsys). Preempted, a goroutine locked to its thread
// waits for another thread to hand its P back: 30-130 µs here, and up to
// milliseconds when that thread's CPU had halted; in a spin window it
// made the event that much late. A bare loop of 600 waits of 5 ms at
// SCHED_RR had 6 and 90 waits (two runs) end more than 10 µs late, and 1
// each when it yielded after every wait. So the loop yields itself, when
// the next event is at least yieldMargin away, so that the hand-back
// cannot make it late, and at least every yieldEvery while it waits, so
// that the scheduler never has to preempt it while it waits.
const (
	yieldMargin = 2 * time.Millisecond
	yieldEvery  = 4 * time.Millisecond
)

// yieldIfDue yields the loop's goroutine (see yieldMargin) when the
// event at target is far enough away and the last yield long enough ago.
// It is called with r.mu unlocked.
func (r *runner) yieldIfDue(now, target time.Time) {
	if target.Sub(now) < yieldMargin || now.Sub(r.lastYield) < yieldEvery {
		return
	}
	goruntime.Gosched()
	r.lastYield = r.clock()
}

// sleepThread blocks this (locked) thread in nanosleep(2) for d, keeping
// its P (see package rawsys). An interrupted sleep returns early; the
// caller loops.
func sleepThread(d time.Duration) { rawsys.Sleep(d) }

// waitFor sleeps, then spins, until the event's script time, then checks
// that godrill is not late for it: what happens at this time (an
// injection, a call's or a command's start) is godrill's own doing;
// unless held, when the event had to wait for a blocking call to return,
// as the reference does: then lateness is the reference's timing error.
//
// The sleep is nanosleep(2) on this locked thread, not time.Sleep: the Go
// scheduler wakes a parked goroutine 0.4-0.6 ms late (p99 over 1 ms),
// while a thread blocked in the kernel is woken by an hrtimer, on time
// to a few microseconds at SCHED_RR (see bench/README.md).
func (r *runner) waitFor(es *eventState, what string, held bool) error {
	target := r.start.Add(es.time)
	r.flushOutputBefore(target)
	// A blocking call that returns meanwhile must be able to take r.mu and
	// record its result (an accepted fd, say) before this event runs. The
	// lock is taken back by a defer, so that a panic leaves it held for
	// runEvent's unlock.
	func() {
		r.mu.Unlock()
		defer r.mu.Lock()
		rehearsed := 0
		for {
			now := r.clock()
			left := target.Sub(now)
			if left <= 0 {
				return
			}
			if left > spinWindow {
				r.yieldIfDue(now, target)
				sleepThread(min(left-spinWindow, yieldEvery))
				continue
			}
			if es.rehearse != nil && rehearsed < len(rehearsalsAt) && left < rehearsalsAt[rehearsed] {
				rehearsed++
				// Skipped while a blocking call's thread records its
				// result: the event must not wait for a rehearsal.
				if r.mu.TryLock() {
					es.rehearse()
					r.mu.Unlock()
				}
			}
		}
	}()
	if r.numEvents == 0 {
		return nil
	}
	now := r.now()
	msg := r.verifyTime(es.ev.Time.Kind, es.time, es.timeEnd, now, r.lastT(), what)
	if msg == "" {
		return nil
	}
	if held {
		return &Failure{Pos: es.ev.Pos, Kind: FailTiming, Msg: msg}
	}
	return &Failure{Pos: es.ev.Pos, Kind: FailLate, Late: now - es.time,
		Msg: fmt.Sprintf("godrill was scheduled %.3f ms late; the kernel was not tested at this line (%s)",
			float64(now-es.time)/float64(time.Millisecond), msg)}
}

func (r *runner) lastTime() (time.Duration, bool) {
	if r.last == nil {
		return 0, false
	}
	return r.last.time, true
}

// tolerance is the larger of --tolerance_usecs and --tolerance_percent of
// the script time since the previous event.
func (r *runner) tolerance(scriptTime time.Duration, last time.Duration, haveLast bool) time.Duration {
	tol := time.Duration(r.cfg.ToleranceUsecs) * time.Microsecond
	if haveLast {
		dyn := time.Duration(r.cfg.TolerancePercent / 100 * float64(scriptTime-last))
		dyn = dyn.Truncate(time.Microsecond)
		if dyn > tol {
			tol = dyn
		}
	}
	return tol
}

// verifyTime checks an actual time against the script; it returns the
// reference's message on failure and "" when in tolerance.
func (r *runner) verifyTime(kind parser.TimeKind, script, scriptEnd, actual time.Duration, last lastTimeT, what string) string {
	if kind == parser.TimeAny {
		return ""
	}
	lt, have := last.t, last.ok
	tol := r.tolerance(script, lt, have)
	switch kind {
	case parser.TimeAbsoluteRange, parser.TimeRelativeRange:
		if actual >= script-tol && actual <= scriptEnd+tol {
			return ""
		}
		if kind == parser.TimeAbsoluteRange {
			return fmt.Sprintf("timing error: expected %s in time range %.6f~%.6f sec but happened at %.6f sec",
				what, secs(script), secs(scriptEnd), secs(actual))
		}
		off := r.event.Load().offset
		return fmt.Sprintf("timing error: expected %s in relative time range +%.6f~+%.6f sec but happened at %+.6f sec",
			what, secs(script-off), secs(scriptEnd-off), secs(actual-off))
	}
	if actual >= script-tol && actual <= script+tol {
		return ""
	}
	return fmt.Sprintf("timing error: expected %s at %.6f sec but happened at %.6f sec; tolerance %.6f sec",
		what, secs(script), secs(actual), secs(tol))
}

// lastTimeT is an optional previous-event time.
type lastTimeT struct {
	t  time.Duration
	ok bool
}

func (r *runner) lastT() lastTimeT {
	t, ok := r.lastTime()
	return lastTimeT{t, ok}
}

func secs(d time.Duration) float64 { return d.Seconds() }

func (r *runner) runCommand(es *eventState, rec *EventRecord) error {
	r.flushOutput() // the command's own output comes after it
	if err := r.waitFor(es, "command", false); err != nil {
		return err
	}
	rec.ActualTime = r.now()
	rec.Kind = KindCommand
	rec.Summary = "`" + es.ev.Command.Text + "`"
	if err := r.shell(es.ev.Command.Text, r.cfg.CommandTimeout); err != nil {
		return &Failure{Pos: es.ev.Pos, Kind: FailCommand,
			Msg:  fmt.Sprintf("error executing `%s` command: %v", es.ev.Command.Text, err),
			Hint: commandHint(es.ev.Command.Text)}
	}
	return nil
}

func (r *runner) runCode(es *eventState, rec *EventRecord) error {
	r.flushOutput() // the code's own output comes after it
	if err := r.waitFor(es, "data collection for code", false); err != nil {
		return err
	}
	rec.ActualTime = r.now()
	rec.Kind = KindCode
	rec.Summary = "%{ ... }%"
	if r.code == nil {
		r.code = newCodeRunner(r.stdout)
	}
	info := r.tcpInfo()
	if cr, ok := r.code.(*codeRunner); ok {
		cr.mem = r.memInfo()
		cr.cc = r.ccInfo()
	}
	if err := r.code.Exec(r.script.File, es.ev.Code.Pos.Line, es.ev.Code.Text, info); err != nil {
		return &Failure{Pos: es.ev.Pos, Kind: FailCode, Msg: fmt.Sprintf("error executing code: %v", err)}
	}
	return nil
}

func (r *runner) runCleanupCommand() {
	if r.script.Cleanup == nil || !r.initDone || r.wireRole() == WireServer {
		return
	}
	if err := r.shell(r.script.Cleanup.Text, r.cfg.CommandTimeout); err != nil {
		fmt.Fprintf(r.stderr, "%s: error executing cleanup command: %v\n", r.script.File, err)
	}
}

// finishEvent records the event's outcome for observers. The kernel's
// state is asked now, right after the event; the observers get the record
// in the next gap of the schedule (later): a JSON record, a trace line or
// a diagram's note cost 10-250 µs, which a +0 event after this one would
// otherwise start late by.
func (r *runner) finishEvent(rec *EventRecord) {
	if len(r.obs) == 0 {
		return
	}
	rec.State = r.kernelState()
	rec.PrevState = r.lastState
	if rec.State != "" {
		r.lastState = rec.State
	}
	rec.Verdict = VerdictOK
	r.later(func() {
		for _, o := range r.obs {
			o.Event(rec)
		}
	})
}

// kernelState asks the probe for the state of the connection under test.
func (r *runner) kernelState() string {
	if r.probe == nil || r.sut == nil || !r.sut.local.IsValid() {
		return ""
	}
	if !r.sut.remote.IsValid() {
		if r.sut.state != sockListening {
			return ""
		}
		return r.probe(r.sut.local.String(), "", r.sutFD()) // the listener itself
	}
	return r.probe(r.sut.local.String(), r.sut.remote.String(), r.sutFD())
}

// sutFD is the live descriptor of the TCP socket under test while the
// script holds it open, or -1 (a passive child before accept, a closed fd,
// whose number may be another socket's by now).
func (r *runner) sutFD() int {
	s := r.sut
	if s.proto != unix.IPPROTO_TCP || s.scriptFD < 0 || s.liveFD < 0 {
		return -1
	}
	if st, ok := r.fds[s.scriptFD]; !ok || st.closed || st.sock != s || st.liveFD != s.liveFD {
		return -1
	}
	return s.liveFD
}

// failf builds a failure at pos.
func (r *runner) failf(pos parser.Pos, format string, args ...any) *Failure {
	return &Failure{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// restoreDefaultQdisc puts the test device back on the kernel's default
// root qdisc before a script's init command runs. The reference leaves the
// device's qdisc alone, and the corpora's defaults.sh then does "tc qdisc
// add dev tun0 root pfifo" itself, which fails (exit 2) on the pfifo our
// sandbox installs for scripts without setup commands.
func (r *runner) restoreDefaultQdisc() {
	if r.device == "" {
		return
	}
	_ = exec.Command("tc", "qdisc", "del", "dev", r.device, "root").Run()
}
