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
	"strings"
	"syscall"
	"time"

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
}

// Result is the outcome of one script run.
type Result struct {
	Path      string
	IPVersion string
	Passed    bool
	ExitCode  int
	Duration  time.Duration
	Output    string // everything the run printed (stdout, then stderr)
	Stderr    string
	FirstErr  string // the first line of the failure report
	TimedOut  bool
	Kernel    string // the guest kernel's release for a run in a VM (vm.go); "host" in a kernel matrix
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
	return runOne(ctx, inv, path, opts.IPVersion, opts)
}

func runOne(ctx context.Context, inv *Invocation, path, ipVersion string, opts Options) (Result, error) {
	res := Result{Path: path, IPVersion: ipVersion}
	if res.IPVersion == "" {
		res.IPVersion = "ipv4"
		for _, f := range inv.Flags {
			if f.Name == "ip_version" {
				res.IPVersion = f.Value
			}
		}
	}
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
	cmd := tun.Command(ctx, append([]string{sandboxArg}, inv.childArgs(path, ipVersion)...))
	var out, errBuf bytes.Buffer
	start := time.Now()
	code, state, err := runChild(cmd, tee(&out, opts.Stdout), tee(&errBuf, opts.Stderr), opts.WaitExit)
	res.Duration = time.Since(start)
	if state != nil {
		if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
			res.MaxRSSKiB = ru.Maxrss
		}
	}
	res.Stderr = errBuf.String()
	res.Output = out.String() + errBuf.String()
	res.FirstErr = firstLine(errBuf.String())
	switch {
	case err != nil && ctx.Err() == nil:
		return res, err
	case code == 0 && ctx.Err() == nil:
		res.Passed = true
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.TimedOut = true
		res.ExitCode = runtime.ExitKernel
		res.FirstErr = fmt.Sprintf("%s: timed out after %v", path, timeout)
	case ctx.Err() != nil:
		res.ExitCode = runtime.ExitKernel
		res.FirstErr = fmt.Sprintf("%s: stopped before it finished (interrupted)", path)
	default:
		res.ExitCode = code
	}
	return res, nil
}

// runChild starts the sandboxed child and returns its exit code as soon as
// it has announced it and closed its output, without waiting for the
// child's teardown (unless waitExit, which also yields the child's
// resource usage). A child that dies without announcing is waited for.
func runChild(cmd *exec.Cmd, stdout, stderr io.Writer, waitExit bool) (int, *os.ProcessState, error) {
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
	err = cmd.Start()
	outW.Close()
	errW.Close()
	verdictW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		verdictR.Close()
		return 0, nil, err
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
