package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
	"golang.org/x/sys/unix"
)

// noNetwork is a test device that sees no packets: enough for scripts of
// system calls and commands only.
type noNetwork struct{}

func (noNetwork) Inject([]byte) error { return nil }
func (noNetwork) Next(time.Time) (runtime.Frame, error) {
	return runtime.Frame{}, runtime.ErrTimeout
}

// callsOnly makes only calls on a socket of its own and runs a command:
// it needs no TUN device and changes nothing outside the process.
const callsOnly = `
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0   getsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], [4]) = 0
+.01 ` + "`echo pid=$PACKETDRILL_PID`" + `
+0   close(3) = 0
`

// relaxed is a configuration whose timing a loaded machine cannot break:
// these tests are about what a run does, not when.
func relaxed(tolerance time.Duration) *runtime.Config {
	cfg := runtime.DefaultConfig(runtime.IPv4)
	cfg.ToleranceUsecs = tolerance.Microseconds()
	return cfg
}

func mustParse(t *testing.T, name, src string) *parser.Script {
	t.Helper()
	s, err := parser.Parse(name, []byte(src), parser.Options{})
	if err != nil {
		t.Fatal(parser.FormatError(err))
	}
	return s
}

// TestRunTwiceInOneProcess runs scripts one after the other and side by
// side in this process: Run keeps no process-wide state, and the
// commands' environment is the one its options give.
func TestRunTwiceInOneProcess(t *testing.T) {
	before, had := os.LookupEnv("PACKETDRILL_PID")
	run := func(pid string) (string, error) {
		var out bytes.Buffer
		err := runtime.Run(context.Background(), mustParse(t, "calls.pkt", callsOnly), runtime.Options{
			Config: relaxed(10 * time.Second), Net: noNetwork{}, Stdout: &out, Stderr: &out,
			Env: append(os.Environ(), "PACKETDRILL_PID="+pid),
		})
		return out.String(), err
	}
	for _, pid := range []string{"101", "102"} {
		out, err := run(pid)
		if err != nil || strings.TrimSpace(out) != "pid="+pid {
			t.Fatalf("run %s: %v, output %q", pid, err, out)
		}
	}
	var wg sync.WaitGroup
	for _, pid := range []string{"201", "202"} {
		wg.Go(func() {
			if out, err := run(pid); err != nil || strings.TrimSpace(out) != "pid="+pid {
				t.Errorf("parallel run %s: %v, output %q", pid, err, out)
			}
		})
	}
	wg.Wait()
	if after, has := os.LookupEnv("PACKETDRILL_PID"); has != had || after != before {
		t.Errorf("PACKETDRILL_PID changed in this process: %q -> %q", before, after)
	}
}

// panicky is an observer with a bug.
type panicky struct{ at int }

func (p panicky) Event(r *runtime.EventRecord) {
	if r.Index == p.at {
		panic("observer bug")
	}
}
func (panicky) Frame(runtime.Frame) {}

// TestBugIsInternalError: a panic in the run becomes an "internal error"
// failure at the event's line, and Run returns.
func TestBugIsInternalError(t *testing.T) {
	err := runtime.Run(context.Background(), mustParse(t, "calls.pkt", callsOnly), runtime.Options{
		Config: relaxed(10 * time.Second), Net: noNetwork{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		Observers: []runtime.Observer{panicky{at: 2}},
	})
	var f *runtime.Failure
	if !errors.As(err, &f) || f.Pos.Line != 4 || !strings.Contains(f.Msg, "internal error: observer bug") {
		t.Fatalf("got %v, want an internal error at calls.pkt:4", err)
	}
}

// panicWriter fails the way a bug does, when it writes about getsockopt.
type panicWriter struct{}

func (panicWriter) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("getsockopt")) {
		panic("writer bug")
	}
	return len(b), nil
}

// TestBugInBlockingCallThread: a panic on a blocking call's own thread
// (here -v's line, written when the call returns) is an internal error at
// the call's line, not a crash of the process.
func TestBugInBlockingCallThread(t *testing.T) {
	const script = `
0      socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0     fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)
0...0  getsockopt(3, SOL_SOCKET, SO_REUSEADDR, [0], [4]) = 0
+.05   close(3) = 0
`
	cfg := relaxed(10 * time.Second)
	cfg.Verbose = true
	err := runtime.Run(context.Background(), mustParse(t, "blocking.pkt", script), runtime.Options{
		Config: cfg, Net: noNetwork{}, Stdout: panicWriter{}, Stderr: &bytes.Buffer{},
	})
	var f *runtime.Failure
	if !errors.As(err, &f) || f.Pos.Line != 4 || !strings.Contains(f.Msg, "internal error: writer bug") {
		t.Fatalf("got %v, want an internal error at blocking.pkt:4", err)
	}
}

// skewAfter is a clock that jumps 10 s ahead once the observer has seen
// event n: godrill is then late for what comes next, as on a busy machine.
// Observers see an event in the next gap of the schedule, or before a
// command at the latest: in callsOnly, before the command at line 5.
type skewAfter struct {
	n    int
	skew atomic.Int64
}

func (s *skewAfter) now() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) }
func (s *skewAfter) Event(r *runtime.EventRecord) {
	if r.Index == s.n {
		s.skew.Store(int64(10 * time.Second))
	}
}
func (*skewAfter) Frame(runtime.Frame) {}

// slowObserver takes half a second of the run's clock over its first
// record, as a slow terminal or disk would (the clock jumps; no real time
// passes), and remembers the order of the records it got.
type slowObserver struct {
	skew  atomic.Int64
	lines []int
}

func (s *slowObserver) now() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) }
func (s *slowObserver) Event(r *runtime.EventRecord) {
	if len(s.lines) == 0 {
		s.skew.Store(int64(500 * time.Millisecond))
	}
	s.lines = append(s.lines, r.Pos.Line)
}
func (*slowObserver) Frame(runtime.Frame) {}

// TestSlowObserverDelaysNoEvent: observers get an event's record in the
// next gap of the schedule, so their cost does not make the +0 events
// after it late (a tolerance of 0.4 s against the observer's 0.5 s), and
// they still get every record, in order.
func TestSlowObserverDelaysNoEvent(t *testing.T) {
	const script = `
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0   getsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], [4]) = 0
+1   close(3) = 0
`
	obs := &slowObserver{}
	err := runtime.Run(context.Background(), mustParse(t, "slow.pkt", script), runtime.Options{
		Config: relaxed(400 * time.Millisecond), Net: noNetwork{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		Observers: []runtime.Observer{obs}, Clock: obs.now,
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := fmt.Sprint(obs.lines); got != "[2 3 4 5]" {
		t.Errorf("observer got the records of lines %s, want [2 3 4 5]", got)
	}
}

// recorder remembers the lines of the records it gets.
type recorder struct{ lines []int }

func (r *recorder) Event(e *runtime.EventRecord) { r.lines = append(r.lines, e.Pos.Line) }
func (*recorder) Frame(runtime.Frame)            {}

// TestHoldSeesEveryRecord: when a held run's hold begins (after the last
// event, with nothing after it to leave a gap), observers have every
// record, so that a trace is complete while the run is held.
func TestHoldSeesEveryRecord(t *testing.T) {
	obs := &recorder{}
	var atHold string
	err := runtime.Run(context.Background(), mustParse(t, "calls.pkt", callsOnly), runtime.Options{
		Config: relaxed(10 * time.Second), Net: noNetwork{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		Observers: []runtime.Observer{obs}, Hold: func() { atHold = fmt.Sprint(obs.lines) },
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if atHold != "[2 3 4 5 6]" {
		t.Errorf("at the hold the observer had the records of lines %s, want [2 3 4 5 6]", atHold)
	}
}

// TestLateIsGodrillsFault: an event godrill starts later than its
// tolerance is reported as godrill's lateness, not as the kernel's
// timing error.
func TestLateIsGodrillsFault(t *testing.T) {
	clock := &skewAfter{n: 1}
	err := runtime.Run(context.Background(), mustParse(t, "calls.pkt", callsOnly), runtime.Options{
		Config: relaxed(time.Second), Net: noNetwork{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		Observers: []runtime.Observer{clock}, Clock: clock.now,
	})
	var f *runtime.Failure
	if !errors.As(err, &f) || f.Kind != runtime.FailLate || f.Pos.Line != 5 {
		t.Fatalf("got %v, want godrill's lateness at calls.pkt:5", err)
	}
	if !strings.Contains(f.Msg, "godrill was scheduled") || !strings.Contains(f.Msg, "the kernel was not tested at this line") ||
		f.Late < 9*time.Second {
		t.Errorf("message %q (late %v), want godrill's lateness of about 10 s", f.Msg, f.Late)
	}
}

// TestHeldByBlockingCallIsTiming: an event that waits for a blocking call
// to return (the reference waits too) and so starts late is the
// reference's timing error, not godrill's lateness.
func TestHeldByBlockingCallIsTiming(t *testing.T) {
	const script = `
0      pipe([3, 4]) = 0
+0...5 read(3, ..., 10) = 0
+.01   close(4) = 0
`
	err := runtime.Run(context.Background(), mustParse(t, "held.pkt", script), runtime.Options{
		Net: noNetwork{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
	})
	var f *runtime.Failure
	if !errors.As(err, &f) || f.Kind != runtime.FailTiming || f.Pos.Line != 4 || !strings.HasPrefix(f.Msg, "timing error") {
		t.Fatalf("got %v, want the reference's timing error at held.pkt:4", err)
	}
}

// skewOffThread is a clock 10 s ahead for every thread but the first that
// reads it (the event loop's): the blocking-call thread is then late, as
// when its CPU is held.
type skewOffThread struct{ loop atomic.Int64 }

func (s *skewOffThread) now() time.Time {
	tid := int64(unix.Gettid())
	s.loop.CompareAndSwap(0, tid)
	if s.loop.Load() != tid {
		return time.Now().Add(10 * time.Second)
	}
	return time.Now()
}

// TestLateBlockingCallIsGodrillsFault: a blocking call that its thread
// starts later than its tolerance is godrill's lateness at the call's
// line, as a late start on the loop is, and the call is not made.
func TestLateBlockingCallIsGodrillsFault(t *testing.T) {
	const script = `
0       pipe([3, 4]) = 0
+0...1  read(3, ..., 10) = 0
+.0005  close(4) = 0
`
	clock := &skewOffThread{}
	err := runtime.Run(context.Background(), mustParse(t, "late-call.pkt", script), runtime.Options{
		Config: relaxed(4 * time.Millisecond), Net: noNetwork{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		Clock: clock.now,
	})
	var f *runtime.Failure
	if !errors.As(err, &f) || f.Kind != runtime.FailLate || f.Pos.Line != 3 {
		t.Fatalf("got %v, want godrill's lateness at late-call.pkt:3", err)
	}
	if !strings.Contains(f.Msg, "the call's thread started it") || f.Late < 9*time.Second {
		t.Errorf("message %q (late %v), want the call thread's lateness of about 10 s", f.Msg, f.Late)
	}
}

// TestTimeZeroWaitsAfterInitCommand: a run's time 0 comes at least 100 ms
// after its init command returned, as the reference's does, so that the
// kernel work the command left (process exits, the new namespace) is
// done before the first event (see initSettle).
func TestTimeZeroWaitsAfterInitCommand(t *testing.T) {
	dir := t.TempDir()
	script := "`date +%s%N > " + dir + "/init`\n" +
		"0 `date +%s%N > " + dir + "/zero`\n"
	err := runtime.Run(context.Background(), mustParse(t, "init.pkt", script), runtime.Options{
		Config: relaxed(10 * time.Second), Net: noNetwork{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) int64 {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var ns int64
		if _, err := fmt.Sscan(string(b), &ns); err != nil {
			t.Fatalf("%s: %q: %v", name, b, err)
		}
		return ns
	}
	if gap := time.Duration(read("zero") - read("init")); gap < 100*time.Millisecond {
		t.Errorf("time 0 came %v after the init command, want at least 100 ms", gap)
	}
}
