package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
	"github.com/godrill/godrill/tun"
)

// sandboxArg is argv[1] of the re-executed child that runs one script
// inside its own network namespace.
const sandboxArg = "__godrill_sandbox"

// SandboxMain must be called first thing in main (and in TestMain of a
// test binary that uses Run): in the re-executed child it runs the script
// and exits; elsewhere it returns at once.
func SandboxMain() {
	sandboxReady = true
	if len(os.Args) < 2 || os.Args[1] != sandboxArg {
		return
	}
	var v verdict
	code := childMain(os.Args[2:], os.Stdout, os.Stderr, v.announce)
	v.announce(code) // the early returns
	os.Exit(code)
}

// childMain runs inside the namespace: set up the device, run the script,
// report. Its exit code is the verdict.
func childMain(args []string, stdout, stderr io.Writer, announce func(code int)) int {
	if !tun.Isolated() {
		fmt.Fprintln(stderr, "godrill: refusing to run a script outside a private network namespace")
		return runtime.ExitSetup
	}
	inv, err := ParseArgs(args)
	if err != nil || len(inv.Files) != 1 {
		fmt.Fprintf(stderr, "godrill: bad sandbox arguments: %v\n", err)
		return runtime.ExitSetup
	}
	path := inv.Files[0]
	script, cfg, code := loadScript(path, inv, stderr)
	if code != 0 {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	tc := tunConfig(cfg)
	dev, err := tun.Setup(tc)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	defer dev.Close()
	sn, err := dev.Sniff()
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	defer sn.Close()
	for _, init := range cfg.InitScripts {
		if init == "" {
			continue
		}
		if err := runInitScript(ctx, init, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "%s: error executing init script %s: %v\n", path, init, err)
			return runtime.ExitKernel
		}
	}
	private, err := os.MkdirTemp("", "godrill-run-")
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	defer os.RemoveAll(private)
	obs, closeObs, err := inv.Extras.observers(path, cfg, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	opts := runtime.Options{
		Config:    cfg,
		Net:       &tunNetwork{dev: dev, sn: sn},
		Stdout:    stdout,
		Stderr:    stderr,
		Observers: obs,
		Env:       commandEnv(private),
		Device:    tc.Name,
		// This process runs one script: all its threads may go real-time.
		Realtime: true,
	}
	opts.Hold = inv.Extras.holdHook(path, script, cfg.CommandTimeout, stdout)
	if inv.Extras.wantsState() {
		opts.StateProbe = tcpStateProbe
	}
	noCollectionDuringRun()
	err = runtime.Run(ctx, script, opts)
	closeObs(err)
	code = report(err, script, stderr)
	// Tell the parent now: closing the TUN device (in the deferred
	// calls) waits for an RCU grace period, tens of milliseconds the
	// user need not wait for.
	announce(code)
	return code
}

// noCollectionDuringRun turns the garbage collector off for the run
// (the script is parsed by then), back on once the heap passes twice
// what is live now, and at least 512 MiB: a collection takes a P and CPU
// time from the event loop at the worst moment, and a run allocates little
// (a script of 1500 write/segment/ACK steps collected several times,
// measured with a CPU profile). GOGC, when set, has the last word.
func noCollectionDuringRun() {
	if os.Getenv("GOGC") != "" {
		return
	}
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	debug.SetMemoryLimit(max(512<<20, 2*int64(m.HeapAlloc)))
	debug.SetGCPercent(-1)
}

// commandEnv is the environment of the script's commands: this
// process's, with PACKETDRILL_PID as the reference exports it
// (packetdrill.c). The corpora's set_sysctls.py names its restore file
// after it and the cleanup command finds it as $PPID, the process that
// runs the commands, which is this one.
//
// nstat keeps the counters it last printed in a history file, by default
// /tmp/.nstat.u$UID, shared by every run on the machine: a parallel run in
// another namespace would change the deltas a script checks. Each run gets
// its own file in its private directory (unless the user chose one): the
// run's first nstat sees no history, as a run alone on the machine does.
func commandEnv(private string) []string {
	env := append(os.Environ(), "PACKETDRILL_PID="+strconv.Itoa(os.Getpid()))
	if _, ok := os.LookupEnv("NSTAT_HISTORY"); !ok {
		env = append(env, "NSTAT_HISTORY="+filepath.Join(private, "nstat.history"))
	}
	return env
}

// verdictFD is the pipe on which the child announces its exit code before
// it tears down (ExtraFiles[0] of the parent's command).
const verdictFD = 3

// verdict hands the child's exit code to the parent, once.
type verdict struct{ sent bool }

// announce hands the verdict to the parent, after closing stdout and
// stderr so the parent has all the output once it has the verdict.
func (v *verdict) announce(code int) {
	if v.sent {
		return
	}
	v.sent = true
	if devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		unix.Dup2(int(devnull.Fd()), 1)
		unix.Dup2(int(devnull.Fd()), 2)
		devnull.Close()
	}
	unix.Write(verdictFD, []byte{byte(code)})
	unix.Close(verdictFD)
}

// report prints a run's outcome and returns the exit code.
func report(err error, script *parser.Script, stderr io.Writer) int {
	if err == nil {
		return runtime.ExitPass
	}
	var f *runtime.Failure
	if errors.As(err, &f) {
		fmt.Fprint(stderr, f.Report(script.Source))
		switch f.Kind {
		case runtime.FailScript:
			return runtime.ExitScript
		case runtime.FailLate:
			return runtime.ExitLate
		}
		return runtime.ExitKernel
	}
	fmt.Fprintf(stderr, "godrill: %v\n", err)
	return runtime.ExitSetup
}

// loadScript parses a script and builds its configuration: script option
// lines first, the command line winning over them.
func loadScript(path string, inv *Invocation, stderr io.Writer) (*parser.Script, *runtime.Config, int) {
	cfg := runtime.DefaultConfig(runtime.IPv4)
	for _, fl := range inv.Flags {
		if err := cfg.Set(fl.Name, fl.Value, true); err != nil {
			fmt.Fprintf(stderr, "godrill: %v\n", err)
			return nil, nil, runtime.ExitSetup
		}
	}
	script, err := parser.ParseFile(path, parser.Options{Defines: cfg.Defines})
	if err != nil {
		fmt.Fprint(stderr, parser.FormatError(err))
		return nil, nil, runtime.ExitScript
	}
	for _, o := range script.Options {
		if err := cfg.Set(o.Name, o.Value, false); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", o.Pos, err)
			return nil, nil, runtime.ExitScript
		}
	}
	if code := refusePSP(script, cfg, stderr); code != 0 {
		return nil, nil, code
	}
	if err := cfg.Check(); err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return nil, nil, runtime.ExitSetup
	}
	return script, cfg, 0
}

func tunConfig(cfg *runtime.Config) tun.Config {
	tc := tun.DefaultConfig(cfg.IPVersion)
	tc.LocalIP, tc.RemoteIP, tc.GatewayIP = cfg.LocalIP, cfg.RemoteIP, cfg.GatewayIP
	tc.PrefixLen, tc.MTU = cfg.PrefixLen, cfg.MTU
	tc.ManualDrain = true
	return tc
}

// tunNetwork adapts the TUN device and its sniffer to the runtime.
type tunNetwork struct {
	dev *tun.Device
	sn  *tun.Sniffer
}

func (n *tunNetwork) Inject(pkt []byte) error { return n.dev.WritePacket(pkt) }

// InjectGSO injects a TCP packet as a GSO aggregate of mss-byte segments
// (packetdrill's --mss).
func (n *tunNetwork) InjectGSO(pkt []byte, mss int) error { return n.dev.WriteGSO(pkt, mss) }

// Next returns the next frame. Like the reference, it takes one packet off
// the device's transmit queue for each outgoing packet it reports, so the
// kernel sees unsniffed packets as still queued in the host.
func (n *tunNetwork) Next(deadline time.Time) (runtime.Frame, error) {
	f, err := n.sn.Next(deadline)
	if err != nil {
		if errors.Is(err, tun.ErrTimeout) {
			return runtime.Frame{}, runtime.ErrTimeout
		}
		return runtime.Frame{}, err
	}
	if f.Outgoing {
		n.dev.Discard(1)
	}
	return runtime.Frame{Data: f.Data, Time: f.Time, Outgoing: f.Outgoing}, nil
}
