package drill

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
)

const usage = `usage:
  godrill run [flags] SCRIPT.pkt|DIR...   run scripts against the kernel, each in its own namespace
  godrill parse [-D NAME=VALUE] SCRIPT.pkt|DIR...   check scripts without running them
  godrill from-pcap [flags] CAPTURE       turn a capture's TCP connections into scripts (docs/from-pcap.md)
  godrill ps                              list the runs under way (id, script, family, age)
  godrill exec ID [--] CMD [ARG...]       run a command inside a run's namespace (ss, tcpdump ...)
  godrill shell ID                        a shell inside a run's namespace
  godrill version                         print godrill's version
  godrill vm --kernel IMAGE [--include PATH]... -- CMD [ARG...]   run a command in a guest of IMAGE
  godrill [packetdrill flags] SCRIPT.pkt  drop-in for packetdrill (also when invoked as "packetdrill"):
                                          silent on success, as the reference

packetdrill flags: --ip_version=ipv4|ipv6|ipv4-mapped-ipv6 --local_ip --remote_ip --gateway_ip
  --netmask_ip --bind_port --connect_port --mtu --mss --tolerance_usecs --tolerance_percent
  --tcp_ts_tick_usecs --tcp_ts_ecr_scaled --strict_segments --non_fatal=packet --init_scripts
  --dry_run --send_omit_free -v/--verbose -D NAME=VALUE/--define=NAME=VALUE
  wire mode: --wire_client --wire_server_ip=ADDR --wire_client_dev=DEV SCRIPT.pkt,
  --wire_server --wire_server_dev=DEV, --wire_server_port (8081), --psp_udp_port
godrill flags: --trace --diagram [--ascii] --svg FILE --pcap FILE --json FILE --timeout DUR -j N
  --junit FILE --format text|tap|json, --ip_version=ipv4,ipv6 or all, -q (no result lines),
  --hold (keep the run open after its last event; see below),
  --syscall_timeout DUR (a call without "..." that blocks; default 10s),
  --command_timeout DUR (shell commands; default 60s), -h/--help, --version,
  --retries N (a suite reruns up to N times a run where godrill itself was late, exit 4)
  --kernel IMAGE[,IMAGE|host...] (run in a VM per kernel) --modules DIR --vm-accel auto|kvm|tcg
  --vm-time virtual|real --shard K/N
  (in a suite, --pcap/--json/--svg FILE.EXT becomes a directory FILE/ of SCRIPT.FAMILY.EXT files)
holding a run: a script whose last line only sleeps (+0 ` + "`sleep 1000000`" + `) is held open when run
  alone from a terminal, as with --hold: after its last event it keeps its namespace, sockets and peer
  until Ctrl-C, and "godrill exec ID -- ss -tan" looks into it from another terminal
exit codes: 0 pass, 1 the kernel differed from the script, 2 the script is invalid,
  3 godrill could not run (not root, no /dev/net/tun, bad flags), 130 interrupted (Ctrl-C),
  4 (godrill run only) godrill itself was late, the kernel was not tested at that line; rerun
`

// exitInterrupted is the shell's code for a command ended by SIGINT.
const exitInterrupted = 130

var subcommands = []string{"run", "parse", "from-pcap", "ps", "exec", "shell", "vm", "version", "help"}

// Main is the godrill command; it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	name := filepath.Base(os.Args[0])
	if name == "packetdrill" {
		return cmdRun(args, stdout, stderr, true)
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return runtime.ExitSetup
	}
	switch args[0] {
	case vmAgentArg:
		return vmAgentMain(args[1:], stderr)
	case "vm":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return cmdVM(ctx, args[1:], stdout, stderr)
	case "run":
		return cmdRun(args[1:], stdout, stderr, false)
	case "parse":
		return cmdParse(args[1:], stdout, stderr)
	case "from-pcap":
		return cmdFromPcap(args[1:], stdout, stderr)
	case "ps":
		return cmdPs(args[1:], stdout, stderr)
	case "exec":
		return cmdExec(args[1:], stdout, stderr)
	case "shell":
		return cmdShell(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	a := args[0]
	if !strings.HasPrefix(a, "-") && !strings.HasSuffix(a, ".pkt") {
		if _, err := os.Stat(a); err != nil {
			msg := fmt.Sprintf("godrill: unknown command %q", a)
			if s := closest(a, subcommands); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			fmt.Fprintf(stderr, "%s\nrun \"godrill help\" for usage\n", msg)
			return runtime.ExitSetup
		}
	}
	return cmdRun(args, stdout, stderr, true)
}

// version is godrill's module version and VCS revision, as built.
func version() string {
	v := "godrill (devel)"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v + " " + goruntime.Version()
	}
	if info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = "godrill " + info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			if s.Value == "true" {
				v += "+dirty"
			}
		}
	}
	return v + " " + info.GoVersion
}

// closest returns the candidate within two edits of s, if any.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD && d < len(s) {
			best, bestD = c, d
		}
	}
	return best
}

// parseCommandLine reads a subcommand's flags; it handles -h/--help and
// --version itself (done is true, with the exit code).
func parseCommandLine(args []string, stdout, stderr io.Writer) (inv *Invocation, done bool, code int) {
	inv, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\nrun \"godrill help\" for usage\n", err)
		return nil, true, runtime.ExitSetup
	}
	switch {
	case inv.Help:
		fmt.Fprint(stdout, usage)
		return nil, true, 0
	case inv.Version:
		fmt.Fprintln(stdout, version())
		return nil, true, 0
	}
	return inv, false, 0
}

// cmdParse checks scripts without running them: syntax, then what the
// runtime would reject before running anything (unknown system calls,
// inline code that does not compile).
func cmdParse(args []string, stdout, stderr io.Writer) int {
	inv, done, code := parseCommandLine(args, stdout, stderr)
	if done {
		return code
	}
	if len(inv.Files) == 0 {
		fmt.Fprint(stderr, "godrill: no script given\nrun \"godrill help\" for usage\n")
		return runtime.ExitSetup
	}
	paths, err := scriptPaths(inv.Files)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	if len(paths) == 0 {
		fmt.Fprintf(stderr, "godrill: no scripts (*.pkt) in %s\n", strings.Join(inv.Files, " "))
		return runtime.ExitSetup
	}
	// A parse builds one tree that stays live to its end: collecting
	// while it grows only marks it again and again, and collecting less
	// often costs little memory (bench/README.md, parse figures). GOGC,
	// when set, has the last word.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	defines := definesOf(inv)
	for _, f := range paths {
		if _, err := checkScript(f, defines); err != nil {
			fmt.Fprint(stderr, withNewline(parser.FormatError(err)))
			code = runtime.ExitScript
		}
	}
	return code
}

func definesOf(inv *Invocation) map[string]string {
	d := map[string]string{}
	for _, f := range inv.Flags {
		if f.Name == "define" {
			k, v, _ := strings.Cut(f.Value, "=")
			d[k] = v
		}
	}
	return d
}

// withNewline makes sure a message ends its line.
func withNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

// cmdRun runs scripts; in the packetdrill form (dropIn) godrill's own
// lateness exits 1, as any failure does in the reference.
func cmdRun(args []string, stdout, stderr io.Writer, dropIn bool) int {
	code := runScripts(args, stdout, stderr, dropIn)
	if dropIn && code == runtime.ExitLate {
		return runtime.ExitKernel
	}
	return code
}

func runScripts(args []string, stdout, stderr io.Writer, dropIn bool) int {
	inv, done, code := parseCommandLine(args, stdout, stderr)
	if done {
		return code
	}
	switch w := wireMode(inv); {
	case w.Server:
		return wireServerMain(inv, stdout, stderr)
	case w.Client:
		return wireClientMain(inv, stdout, stderr)
	}
	if len(inv.Files) == 0 {
		fmt.Fprint(stderr, "godrill: no script given\nrun \"godrill help\" for usage\n")
		return runtime.ExitSetup
	}
	if dropIn {
		inv.Extras.Quiet = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	jobs, err := expandJobs(inv)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	if len(jobs) == 0 {
		fmt.Fprintf(stderr, "godrill: no scripts (*.pkt) in %s\n", strings.Join(inv.Files, " "))
		return runtime.ExitSetup
	}
	inv.suite = len(jobs) > 1
	// One file without a report format runs like packetdrill: its output
	// straight on the terminal, its exit code the script's.
	if len(jobs) == 1 && len(inv.Files) == 1 && !isDir(inv.Files[0]) &&
		inv.Extras.Format == "" && inv.Extras.JUnit == "" {
		if jobs[0].kernel != "" {
			return runSingleVM(ctx, inv, jobs[0], stdout, stderr)
		}
		return runSingle(ctx, inv, jobs[0], stdout, stderr)
	}
	if inv.Extras.Hold {
		fmt.Fprint(stderr, "godrill: --hold holds a single run (one script, one family), not a suite\n")
		return runtime.ExitSetup
	}
	return runSuite(ctx, inv, jobs, stdout, stderr)
}

// runSingle runs one script with its output straight on the terminal.
func runSingle(ctx context.Context, inv *Invocation, j job, stdout, stderr io.Writer) int {
	// A script that is wrong is the script's fault: say so without needing
	// root or a namespace.
	cfg := runtime.DefaultConfig(runtime.IPv4)
	for _, f := range inv.Flags {
		cfg.Set(f.Name, f.Value, true)
	}
	script, err := checkScript(j.path, cfg.Defines)
	if err != nil {
		fmt.Fprint(stderr, withNewline(parser.FormatError(err)))
		return runtime.ExitScript
	}
	if cfg.DryRun {
		return dryRunPSP(script, cfg, stderr)
	}
	commandTimeout := scriptCommandTimeout(script, cfg)
	hold, note := holdDecision(inv, script, commandTimeout, stdinIsTerminal())
	fmt.Fprint(stderr, note)
	inv.Extras.Hold = hold
	opts := Options{Stdout: stdout, Stderr: stderr}
	res, err := runOne(ctx, inv, j.path, j.ipVersion, opts)
	// The output above stays, so say why the run comes again.
	announce := func(_ Result, try int) {
		fmt.Fprintf(stderr, "%s: godrill was late, not the kernel: running it again (retry %d of %d)\n", j.path, try, inv.Extras.Retries)
	}
	res, err = rerunWhileLate(ctx, inv.Extras.Retries, res, err, announce, func() (Result, error) {
		return runOne(ctx, inv, j.path, j.ipVersion, opts)
	})
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	interrupted := ctx.Err() != nil && !res.Passed && !res.TimedOut
	if res.TimedOut {
		fmt.Fprintln(stderr, res.FirstErr)
	}
	if !inv.Extras.Quiet {
		fmt.Fprintln(stdout, resultLine(&res))
	}
	if interrupted {
		fmt.Fprintf(stderr, "%s: interrupted\n", j.path)
		return exitInterrupted
	}
	return res.Exit()
}

// scriptCommandTimeout is --command_timeout as the run will see it: the
// script's option line, unless the command line gave one.
func scriptCommandTimeout(s *parser.Script, cfg *runtime.Config) time.Duration {
	c := *cfg
	for _, o := range s.Options {
		if o.Name == "command_timeout" {
			c.Set(o.Name, o.Value, false)
		}
	}
	return c.CommandTimeout
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// cmdPs lists the runs under way.
func cmdPs(args []string, stdout, stderr io.Writer) int {
	inv, done, code := parseCommandLine(args, stdout, stderr)
	if done {
		return code
	}
	if len(inv.Files) > 0 {
		fmt.Fprintf(stderr, "godrill: ps takes no arguments (got %q)\n", inv.Files[0])
		return runtime.ExitSetup
	}
	runs, err := liveRuns(runDir(""))
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	if len(runs) == 0 {
		fmt.Fprintln(stdout, "no runs under way")
		return 0
	}
	fmt.Fprintf(stdout, "%-4s %-8s %-7s %-16s %s\n", "ID", "STATE", "AGE", "FAMILY", "SCRIPT")
	for _, r := range runs {
		state := "running"
		if r.Held {
			state = "held"
		}
		age := time.Since(r.Start).Round(time.Second)
		fmt.Fprintf(stdout, "%-4s %-8s %-7s %-16s %s\n", r.ID, state, age, r.Family, r.Script)
	}
	return 0
}

// cmdExec runs a command in a live run's namespaces.
func cmdExec(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(args) < 2 || (args[1] == "--" && len(args) < 3) {
		fmt.Fprint(stderr, "godrill: usage: godrill exec ID [--] CMD [ARG...] (godrill ps lists the ids)\n")
		return runtime.ExitSetup
	}
	id, argv := args[0], args[1:]
	if argv[0] == "--" {
		argv = argv[1:]
	}
	return enter(id, argv, stdout, stderr)
}

// cmdShell starts an interactive shell in a live run's namespaces.
func cmdShell(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(args) != 1 {
		fmt.Fprint(stderr, "godrill: usage: godrill shell ID (godrill ps lists the ids)\n")
		return runtime.ExitSetup
	}
	sh := os.Getenv("SHELL")
	if sh == "" {
		sh = "/bin/sh"
	}
	fmt.Fprintf(stderr, "godrill: a shell in run %s's namespace (exit or Ctrl-D leaves it; the run stays)\n", args[0])
	return enter(args[0], []string{sh}, stdout, stderr)
}

func enter(id string, argv []string, stdout, stderr io.Writer) int {
	r, err := findRun(runDir(""), id)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	// Ctrl-C is for the command (tcpdump prints its summary on it):
	// catch it here so godrill stays to hand back the command's exit code.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	code, err := enterRun(r, argv, os.Stdin, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: run %s: %v\n", id, err)
		return runtime.ExitSetup
	}
	return code
}
