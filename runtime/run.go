package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
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

// Observer is told about each event as it completes; trace, capture and
// log writers implement it. Calls come from the event loop, in order.
type Observer interface {
	Event(r *EventRecord)
	Frame(f Frame)
}

// Options configure one run.
type Options struct {
	Config    *Config
	Net       Network
	Stdout    io.Writer // script output (print, -v trace)
	Stderr    io.Writer // error reports
	Observers []Observer
	// StateProbe, when set, returns the kernel's TCP state of the
	// connection under test (for --trace); it is called after each event.
	StateProbe func(local, remote string) string
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
// and another error when the run could not be carried out.
func Run(ctx context.Context, script *parser.Script, opts Options) (err error) {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	r := newRunner(ctx, script, opts)
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(*Failure)
			if !ok {
				f = &Failure{Pos: r.currentPos(), Msg: fmt.Sprintf("internal error: %v", p)}
			}
			err = f
			r.failEvent(f)
		}
	}()
	return r.run()
}

func (r *runner) currentPos() parser.Pos {
	if r.event != nil {
		return r.event.ev.Pos
	}
	return parser.Pos{File: r.script.File}
}

// failEvent tells observers about the failing event, and hands them the
// packets still queued, so traces and captures cover the run up to the
// failure.
func (r *runner) failEvent(f *Failure) {
	if len(r.obs) == 0 {
		return
	}
	rec := &EventRecord{Pos: f.Pos, Verdict: "fail", Error: f.Error()}
	if r.event != nil {
		rec.Index = r.numEvents
		rec.ScriptTime = r.event.time
		rec.ActualTime = r.now()
		rec.Kind, rec.Summary = eventSummary(r.event.ev)
	}
	rec.PrevState = r.lastState
	rec.State = r.kernelState()
	for _, o := range r.obs {
		o.Event(rec)
	}
	r.drainFrames()
}

// eventSummary describes an event in script syntax.
func eventSummary(ev *parser.Event) (kind, summary string) {
	switch {
	case ev.Packet != nil && ev.Packet.TCP != nil:
		kind = "inbound"
		if ev.Packet.Direction == parser.Outbound {
			kind = "outbound"
		}
		return kind, formatScriptTCP(ev.Packet.TCP)
	case ev.Packet != nil:
		return "packet", "packet"
	case ev.Syscall != nil:
		return "syscall", formatCall(ev.Syscall)
	case ev.Command != nil:
		return "command", "`" + ev.Command.Text + "`"
	}
	return "code", "%{ ... }%"
}

// runner is the state of one run.
type runner struct {
	ctx    context.Context
	script *parser.Script
	cfg    *Config
	net    Network
	stdout io.Writer
	stderr io.Writer
	obs    []Observer
	probe  func(local, remote string) string
	wire   WireLink
	hold   func()
	// passedBy: outgoing packets the matcher skipped while waiting for
	// the current outbound line (for the report when it never comes).
	passedBy []sniffed

	start     time.Time // live time of script time 0 (monotonic)
	startWall time.Time // the same instant on the wall clock, for kernel stamps

	event     *eventState // the event being run
	last      *eventState // the previous event
	numEvents int

	fds map[int]*fdState // by script fd
	// reservedPorts are listening sockets holding the scripted peers'
	// ephemeral ports until the end of the run.
	reservedPorts []int
	sockets       []*socket
	sut           *socket // socket under test
	blocking      *blockingCall
	// mu is held by the event loop while it runs an event, and by a
	// blocking call's thread while it checks its result.
	mu   sync.Mutex
	code CodeRunner

	lastState string // last kernel TCP state seen, for the trace
}

// eventState is an event with its times resolved to absolute script time.
type eventState struct {
	ev      *parser.Event
	time    time.Duration // script time of the event (start)
	timeEnd time.Duration // end of a range
	offset  time.Duration // base of a relative time
	endCall time.Duration // a blocking syscall's expected return time
	inbound bool
}

func newRunner(ctx context.Context, script *parser.Script, opts Options) *runner {
	r := &runner{
		ctx:    ctx,
		script: script,
		cfg:    opts.Config,
		net:    opts.Net,
		stdout: opts.Stdout,
		stderr: opts.Stderr,
		obs:    opts.Observers,
		probe:  opts.StateProbe,
		wire:   opts.Wire,
		hold:   opts.Hold,
		fds:    map[int]*fdState{},
	}
	if r.cfg == nil {
		r.cfg = DefaultConfig(IPv4)
	}
	if r.stdout == nil {
		r.stdout = os.Stdout
	}
	if r.stderr == nil {
		r.stderr = os.Stderr
	}
	return r
}

func (r *runner) run() error {
	if len(r.script.Events) > 0 && r.script.Events[0].Time.Start != 0 {
		ev := r.script.Events[0]
		return r.failf(ev.Pos, "first event should be at time 0")
	}
	setPacketdrillPID()
	if r.script.Init != nil && r.wireRole() != WireServer {
		restoreDefaultQdisc()
		if err := r.shell(r.script.Init.Text, r.cfg.CommandTimeout); err != nil {
			return &Failure{Pos: r.script.Init.Pos, Msg: fmt.Sprintf("error executing init command: %v", err), Kind: FailCommand, noLine: true}
		}
	}
	defer r.runCleanupCommand()

	// Find the jiffy edge at normal priority: busy-waiting for it under
	// SCHED_RR would starve a parallel run on a two-core machine.
	if err := r.startClock(); err != nil {
		return &Failure{Pos: parser.Pos{File: r.script.File}, Msg: err.Error(), noLine: true}
	}
	useRealtimeScheduling()
	r.startWall = r.start.Round(0)
	for i, ev := range r.script.Events {
		if err := r.ctx.Err(); err != nil {
			return r.failf(ev.Pos, "run stopped: %v", err)
		}
		r.checkBlockingFailure()
		r.wireNext(ev)
		es := r.resolveTimes(ev)
		if r.last != nil && isAbsolute(ev.Time.Kind) && isAbsolute(r.last.ev.Time.Kind) && es.time < r.last.time {
			return r.failf(ev.Pos, "time goes backward in script from %d usec to %d usec",
				r.last.time.Microseconds(), es.time.Microseconds())
		}
		r.event = es
		r.mu.Lock()
		rec := &EventRecord{Index: i, Pos: ev.Pos, ScriptTime: es.time}
		switch {
		case !r.runsHere(ev): // wire mode: the other half runs it
		case ev.Packet != nil:
			r.runPacket(es, rec)
		case ev.Syscall != nil:
			r.runSyscall(es, rec)
		case ev.Command != nil:
			r.runCommand(es, rec)
		case ev.Code != nil:
			r.runCode(es, rec)
		}
		r.finishEvent(rec)
		r.last = es
		r.numEvents++
		r.mu.Unlock()
	}
	r.wireNext(nil)
	if r.hold != nil {
		r.hold()
	}
	r.mu.Lock()
	if !r.awaitBlocking(time.Second) {
		return &Failure{Pos: r.blocking.c.es.ev.Pos, Kind: FailSyscall, Msg: "runtime error: exiting while a blocking system call is in progress"}
	}
	r.checkBlockingFailure()
	r.closeAll()
	r.mu.Unlock()
	r.drainFrames()
	return nil
}

func isAbsolute(k parser.TimeKind) bool {
	return k == parser.TimeAbsolute || k == parser.TimeAbsoluteRange
}

// now is the live time since script time 0.
func (r *runner) now() time.Duration { return time.Since(r.start) }

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
	if r.last != nil && r.last.inbound && es.inbound {
		es.offset = r.last.time
	} else {
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

// sleepThread blocks this (locked) thread in nanosleep(2) for d. Where
// there are other Ps it keeps its P (a raw syscall, invisible to the Go
// scheduler): after an ordinary syscall the thread may find its P taken
// and wait in the run queue for milliseconds. An interrupted sleep
// returns early; the caller loops.
func sleepThread(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	if goruntime.GOMAXPROCS(0) > 1 {
		unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
		return
	}
	unix.Nanosleep(&ts, nil)
}

// waitFor sleeps, then spins, until the event's script time, then checks
// that the event is not late.
//
// The sleep is nanosleep(2) on this locked thread, not time.Sleep: the Go
// scheduler wakes a parked goroutine 0.4-0.6 ms late (p99 over 1 ms),
// while a thread blocked in the kernel is woken by an hrtimer, on time
// to a few microseconds at SCHED_RR (see bench/README.md).
func (r *runner) waitFor(es *eventState, what string) {
	target := r.start.Add(es.time)
	// A blocking call that returns meanwhile must be able to take r.mu and
	// record its result (an accepted fd, say) before this event runs.
	r.mu.Unlock()
	for {
		left := time.Until(target)
		if left <= 0 {
			break
		}
		if r.numEvents > 0 && left > spinWindow {
			sleepThread(left - spinWindow)
		}
	}
	r.mu.Lock()
	if r.numEvents > 0 {
		if msg := r.verifyTime(es.ev.Time.Kind, es.time, es.timeEnd, r.now(), r.lastT(), what); msg != "" {
			panic(&Failure{Pos: es.ev.Pos, Msg: msg, Kind: FailTiming})
		}
	}
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
		off := r.event.offset
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

func (r *runner) runCommand(es *eventState, rec *EventRecord) {
	r.waitFor(es, "command")
	rec.ActualTime = r.now()
	rec.Kind = "command"
	rec.Summary = "`" + es.ev.Command.Text + "`"
	if err := r.shell(es.ev.Command.Text, r.cfg.CommandTimeout); err != nil {
		panic(&Failure{Pos: es.ev.Pos, Kind: FailCommand,
			Msg:  fmt.Sprintf("error executing `%s` command: %v", es.ev.Command.Text, err),
			Hint: commandHint(es.ev.Command.Text)})
	}
}

func (r *runner) runCode(es *eventState, rec *EventRecord) {
	r.waitFor(es, "data collection for code")
	rec.ActualTime = r.now()
	rec.Kind = "code"
	rec.Summary = "%{ ... }%"
	if r.code == nil {
		r.code = newCodeRunner(r.stdout)
	}
	info := r.tcpInfo()
	if cr, ok := r.code.(*codeRunner); ok {
		cr.mem = r.memInfo()
	}
	if err := r.code.Exec(r.script.File, es.ev.Code.Pos.Line, es.ev.Code.Text, info); err != nil {
		panic(&Failure{Pos: es.ev.Pos, Kind: FailCode, Msg: fmt.Sprintf("error executing code: %v", err)})
	}
}

func (r *runner) runCleanupCommand() {
	if r.script.Cleanup == nil || r.script.Init == nil || r.wireRole() == WireServer {
		return
	}
	if err := r.shell(r.script.Cleanup.Text, r.cfg.CommandTimeout); err != nil {
		fmt.Fprintf(r.stderr, "%s: error executing cleanup command: %v\n", r.script.File, err)
	}
}

// finishEvent records the event's outcome for observers.
func (r *runner) finishEvent(rec *EventRecord) {
	rec.State = r.kernelState()
	rec.PrevState = r.lastState
	if rec.State != "" {
		r.lastState = rec.State
	}
	rec.Verdict = "ok"
	for _, o := range r.obs {
		o.Event(rec)
	}
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
		return r.probe(r.sut.local.String(), "") // the listener itself
	}
	return r.probe(r.sut.local.String(), r.sut.remote.String())
}

// failf builds a failure at pos.
func (r *runner) failf(pos parser.Pos, format string, args ...any) *Failure {
	return &Failure{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// setPacketdrillPID exports PACKETDRILL_PID to the script's commands, as
// the reference does (packetdrill.c): the corpora's set_sysctls.py names its
// restore file after it and the cleanup command finds it as $PPID, the
// process that runs the commands, which is this one.
func setPacketdrillPID() {
	os.Setenv("PACKETDRILL_PID", strconv.Itoa(os.Getpid()))
}

// restoreDefaultQdisc puts tun0 back on the kernel's default root qdisc
// before a script's init command runs. The reference leaves the device's
// qdisc alone, and the corpora's defaults.sh then does "tc qdisc add dev
// tun0 root pfifo" itself, which fails (exit 2) on the pfifo our sandbox
// installs for scripts without setup commands.
func restoreDefaultQdisc() {
	_ = exec.Command("tc", "qdisc", "del", "dev", "tun0", "root").Run()
}
