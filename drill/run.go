// Package drill runs packetdrill scripts, each in a private network
// namespace made for it: the Go API behind the godrill command.
package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
	"github.com/godrill/godrill/tun"
)

// Options configure Run.
type Options struct {
	// Args are packetdrill flags and godrill's own (--trace, --pcap ...),
	// as on the command line.
	Args []string
	// IPVersion overrides --ip_version ("" keeps the flags' choice).
	IPVersion string
	// Stdout and Stderr receive the script's output and the report as they
	// come; they are captured into Result either way.
	Stdout, Stderr io.Writer
	// WaitExit waits for the sandboxed child to finish tearing down (and
	// fills Result.MaxRSSKiB); otherwise Run returns once the child has
	// announced its verdict.
	WaitExit bool
	// Timeout bounds the whole script (0: none).
	Timeout time.Duration
	// Hold keeps the run open after its last event has passed, with its
	// namespace, sockets and peer as the script left them (a final
	// `sleep` that would outlast --command_timeout is dropped: the hold
	// takes its place). Cancelling ctx then ends the run, and it passes.
	Hold bool
	// OnHold, if set, is called with the run's id when the hold begins.
	OnHold func(id string)
	// RunDir is the registry of live runs that `godrill ps` and `godrill
	// exec` read ("": $GODRILL_RUN_DIR, else DefaultRunDir).
	RunDir string
	// Retries reruns a run where godrill itself was late (exit 4: the
	// kernel was not tested at that line) up to this many times, as
	// --retries N in Args does (the larger of the two counts). A kernel's
	// failure is never rerun.
	Retries int
	// OnRetry, if set, is told of each such run before its rerun (try
	// counts from 1).
	OnRetry func(late Result, try int)
}

// Result is the outcome of one script run.
type Result struct {
	Path      string
	IPVersion string
	Passed    bool
	ExitCode  int
	Duration  time.Duration
	Output    string // everything the run printed (stdout, then stderr)
	Stdout    string
	Stderr    string
	FirstErr  string // the first line of the failure report
	TimedOut  bool
	// Held: the run was held open after its last event (and then ended).
	Held bool
	// ID is the run's id in the registry of live runs ("" if it could not
	// be registered).
	ID string
	// Kernel is the guest kernel's release for a run in a VM (vm.go);
	// "host" in a kernel matrix.
	Kernel string
	// MaxRSSKiB is the peak resident memory of the sandboxed child (the
	// largest of it and the processes it waited for), from wait4.
	MaxRSSKiB int64
}

// Run runs one script in a fresh network namespace (a re-executed child of
// this process: the program must call SandboxMain first thing in main or
// TestMain) and returns its verdict. The error is for runs that could not
// be carried out at all; a failing script is a Result with Passed false.
func Run(ctx context.Context, path string, opts Options) (Result, error) {
	inv, err := ParseArgs(append(append([]string(nil), opts.Args...), "--", path))
	if err != nil {
		return Result{}, err
	}
	// A script that is wrong is reported as such without running it.
	if _, err := checkScript(path, definesOf(inv)); err != nil {
		msg := withNewline(parser.FormatError(err))
		if opts.Stderr != nil {
			io.WriteString(opts.Stderr, msg)
		}
		return Result{Path: path, IPVersion: familyName(inv, opts.IPVersion), ExitCode: runtime.ExitScript,
			Output: msg, Stderr: msg, FirstErr: firstLine(msg)}, nil
	}
	res, err := runOne(ctx, inv, path, opts.IPVersion, opts)
	return rerunWhileLate(ctx, max(opts.Retries, inv.Extras.Retries), res, err, opts.OnRetry, func() (Result, error) {
		return runOne(ctx, inv, path, opts.IPVersion, opts)
	})
}

// rerunWhileLate is --retries: while the run just made (res, err) ended
// with godrill itself late (runtime.ExitLate: the kernel was not tested at
// that line), it tells onRetry (if set) and runs it again, at most retries
// times. A failure of the kernel's is never rerun, nor a cancelled run.
func rerunWhileLate(ctx context.Context, retries int, res Result, err error, onRetry func(Result, int), run func() (Result, error)) (Result, error) {
	for try := 1; err == nil && res.ExitCode == runtime.ExitLate && try <= retries && ctx.Err() == nil; try++ {
		if onRetry != nil {
			onRetry(res, try)
		}
		res, err = run()
	}
	return res, err
}

func runOne(ctx context.Context, inv *Invocation, path, ipVersion string, opts Options) (Result, error) {
	res := Result{Path: path, IPVersion: familyName(inv, ipVersion)}
	if err := tun.Preflight(); err != nil {
		return res, err
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = inv.Extras.Timeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	// The run's own copy: its id and hold are its own in a suite.
	run := *inv
	run.Extras.Hold = inv.Extras.Hold || opts.Hold
	reg, regErr := registerRun(runDir(opts.RunDir), path, res.IPVersion)
	defer reg.remove()
	if reg != nil {
		res.ID, run.Extras.RunID = reg.ID, reg.ID
	}
	if run.suite {
		for _, f := range []string{run.Extras.PcapFile, run.Extras.JSONFile, run.Extras.SVGFile} {
			if f != "" {
				os.MkdirAll(filepath.Dir(run.perRun(f, path, ipVersion)), 0o755)
			}
		}
	}
	// The child is killed when ctx ends, unless it is holding: then ctx
	// ending only ends the hold, and the child finishes as it would have.
	cmd := tun.Command(context.Background(), append([]string{sandboxArg}, run.childArgs(path, ipVersion)...))
	var out, errBuf bytes.Buffer
	start := time.Now()
	ch := &child{cmd: cmd, hold: run.Extras.Hold, reg: reg, onHold: opts.OnHold}
	if regErr != nil && run.Extras.Hold {
		fmt.Fprintf(tee(&errBuf, opts.Stderr), "godrill: cannot register the run for godrill exec: %v\n", regErr)
	}
	stopWatch := make(chan struct{})
	watched := make(chan bool, 1)
	go func() {
		select {
		case <-ctx.Done():
			watched <- ch.stop()
		case <-stopWatch:
			watched <- false
		}
	}()
	code, state, err := ch.run(tee(&out, opts.Stdout), tee(&errBuf, opts.Stderr), opts.WaitExit)
	close(stopWatch)
	endedHold := <-watched
	res.Duration = time.Since(start)
	res.Held = ch.held.Load()
	if state != nil {
		if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
			res.MaxRSSKiB = ru.Maxrss
		}
	}
	res.Stdout, res.Stderr = out.String(), errBuf.String()
	res.Output = out.String() + errBuf.String()
	res.FirstErr = firstLine(errBuf.String())
	interrupted := ctx.Err() != nil && !endedHold
	switch {
	case err != nil && !interrupted:
		return res, err
	case code == 0 && !interrupted:
		res.Passed = true
		res.FirstErr = ""
	case interrupted && errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.TimedOut = true
		res.ExitCode = runtime.ExitKernel
		res.FirstErr = fmt.Sprintf("%s: timed out after %v", path, timeout)
	case interrupted:
		res.ExitCode = runtime.ExitKernel
		res.FirstErr = fmt.Sprintf("%s: stopped before it finished (interrupted)", path)
	default:
		res.ExitCode = code
	}
	return res, nil
}

// child is one sandboxed child under way.
type child struct {
	cmd    *exec.Cmd
	hold   bool
	reg    *liveRun
	onHold func(id string)

	mu      sync.Mutex
	held    atomic.Bool
	holdEnd *os.File // parent's end of the hold pipe; closing it ends the hold
	started bool
	killed  bool
}

// stop ends the run early: a holding child is let go (and finishes, so
// the run keeps its verdict); any other is killed. It reports whether it
// ended a hold.
func (c *child) stop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held.Load() && c.holdEnd != nil {
		c.holdEnd.Close()
		c.holdEnd = nil
		return true
	}
	c.killed = true
	if c.started {
		unix.Kill(-c.cmd.Process.Pid, unix.SIGKILL)
	}
	return false
}

// runChild starts the sandboxed child and returns its exit code as soon as
// it has announced it and closed its output, without waiting for the
// child's teardown (unless waitExit, which also yields the child's
// resource usage). A child that dies without announcing is waited for.
func (c *child) run(stdout, stderr io.Writer, waitExit bool) (int, *os.ProcessState, error) {
	cmd := c.cmd
	outR, outW, err := os.Pipe()
	if err != nil {
		return 0, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return 0, nil, err
	}
	verdictR, verdictW, err := os.Pipe()
	if err != nil {
		return 0, nil, err
	}
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{verdictW}
	var heldR, holdR *os.File
	if c.hold {
		var heldW, holdW *os.File
		if holdR, holdW, err = os.Pipe(); err != nil {
			return 0, nil, err
		}
		if heldR, heldW, err = os.Pipe(); err != nil {
			return 0, nil, err
		}
		c.holdEnd = holdW
		cmd.ExtraFiles = append(cmd.ExtraFiles, holdR, heldW) // holdFD, heldFD
	}
	c.mu.Lock()
	if c.killed {
		err = errors.New("interrupted before it started")
	} else {
		err = tun.Start(cmd)
		c.started = err == nil
	}
	c.mu.Unlock()
	outW.Close()
	errW.Close()
	verdictW.Close()
	if holdR != nil {
		holdR.Close()
		cmd.ExtraFiles[2].Close()
	}
	if err != nil {
		outR.Close()
		errR.Close()
		verdictR.Close()
		if heldR != nil {
			heldR.Close()
			c.holdEnd.Close()
		}
		return 0, nil, err
	}
	if c.reg != nil {
		c.reg.PID = cmd.Process.Pid
		c.reg.update()
	}
	if heldR != nil {
		go c.watchHold(heldR)
		defer func() {
			c.mu.Lock()
			if c.holdEnd != nil {
				c.holdEnd.Close()
				c.holdEnd = nil
			}
			c.mu.Unlock()
		}()
	}
	copied := make(chan struct{}, 2)
	drain := func(w io.Writer, r *os.File) {
		io.Copy(w, r)
		r.Close()
		copied <- struct{}{}
	}
	go drain(stdout, outR)
	go drain(stderr, errR)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var b [1]byte
	n, _ := verdictR.Read(b[:])
	verdictR.Close()
	if n == 1 && !waitExit {
		<-copied
		<-copied
		return int(b[0]), nil, nil
	}
	werr := <-exited
	<-copied
	<-copied
	if n == 1 {
		return int(b[0]), cmd.ProcessState, nil
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			code = runtime.ExitKernel
		}
		return code, cmd.ProcessState, nil
	}
	if werr != nil {
		return 0, cmd.ProcessState, werr
	}
	return cmd.ProcessState.ExitCode(), cmd.ProcessState, nil
}

// watchHold waits for the child's word that the hold has begun.
func (c *child) watchHold(heldR *os.File) {
	defer heldR.Close()
	var b [1]byte
	if n, _ := heldR.Read(b[:]); n != 1 {
		return
	}
	c.held.Store(true)
	id := ""
	if c.reg != nil {
		c.reg.Held = true
		c.reg.update()
		id = c.reg.ID
	}
	if c.onHold != nil {
		c.onHold(id)
	}
}

func tee(buf *bytes.Buffer, w io.Writer) io.Writer {
	if w == nil {
		return buf
	}
	return io.MultiWriter(buf, w)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Exit turns a result into a process exit code.
func (r Result) Exit() int {
	if r.Passed {
		return 0
	}
	if r.ExitCode == 0 {
		return runtime.ExitKernel
	}
	return r.ExitCode
}
