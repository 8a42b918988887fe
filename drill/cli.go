package drill

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
)

const usage = `usage:
  godrill run [flags] SCRIPT.pkt|DIR...   run scripts against the kernel, each in its own namespace
  godrill parse [-D NAME=VALUE] FILE...    check scripts' syntax only
  godrill vm --kernel IMAGE [--include PATH]... -- COMMAND...   run a command in a guest of IMAGE
  godrill [packetdrill flags] SCRIPT.pkt   drop-in for packetdrill (also when invoked as "packetdrill")

packetdrill flags: --ip_version=ipv4|ipv6|ipv4-mapped-ipv6 --local_ip --remote_ip --gateway_ip
  --netmask_ip --bind_port --connect_port --mtu --mss --tolerance_usecs --tolerance_percent
  --tcp_ts_tick_usecs --tcp_ts_ecr_scaled --strict_segments --non_fatal=packet --init_scripts
  --dry_run --send_omit_free -v/--verbose -D NAME=VALUE/--define=NAME=VALUE
godrill flags: --trace --diagram [--ascii] --svg FILE --pcap FILE --json FILE --timeout DUR -j N
  --junit FILE --format text|tap|json, --ip_version=ipv4,ipv6 or all,
  --syscall_timeout DUR (a call without "..." that blocks; default 10s),
  --command_timeout DUR (shell commands; default 60s),
  --kernel IMAGE[,IMAGE|host...] (run in a VM per kernel) --modules DIR --vm-accel auto|kvm|tcg
  --vm-time virtual|real --shard K/N
  (in a suite, --pcap/--json/--svg files are named per run: FILE.SCRIPT.FAMILY.EXT)
exit codes: 0 pass, 1 the kernel differed from the script, 2 the script is invalid,
  3 godrill could not run (not root, no /dev/net/tun, bad flags)
`

// Main is the godrill command; it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	name := filepath.Base(os.Args[0])
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return runtime.ExitSetup
	}
	switch {
	case name == "packetdrill":
		return cmdRun(args, stdout, stderr)
	case args[0] == vmAgentArg:
		return vmAgentMain(stderr)
	case args[0] == "vm":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return cmdVM(ctx, args[1:], stdout, stderr)
	case args[0] == "run":
		return cmdRun(args[1:], stdout, stderr)
	case args[0] == "parse":
		return cmdParse(args[1:], stdout, stderr)
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	return cmdRun(args, stdout, stderr)
}

func cmdParse(args []string, stdout, stderr io.Writer) int {
	inv, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	code := 0
	defines := definesOf(inv)
	for _, f := range inv.Files {
		if _, err := parser.ParseFile(f, parser.Options{Defines: defines}); err != nil {
			fmt.Fprint(stderr, parser.FormatError(err))
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

func cmdRun(args []string, stdout, stderr io.Writer) int {
	inv, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n%s", err, usage)
		return runtime.ExitSetup
	}
	if len(inv.Files) == 0 {
		fmt.Fprint(stderr, "godrill: no script given\n"+usage)
		return runtime.ExitSetup
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	jobs, err := expandJobs(inv)
	inv.suite = len(jobs) > 1
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	// One file without a report format runs like packetdrill: its output
	// straight on the terminal, its exit code the script's.
	if len(jobs) == 1 && len(inv.Files) == 1 && !isDir(inv.Files[0]) &&
		inv.Extras.Format == "" && inv.Extras.JUnit == "" {
		if jobs[0].kernel != "" {
			return runSingleVM(ctx, inv, jobs[0], stdout, stderr)
		}
		return runSingle(ctx, inv, jobs[0], stdout, stderr)
	}
	return runSuite(ctx, inv, jobs, stdout, stderr)
}

// runSingle runs one script with its output straight on the terminal.
func runSingle(ctx context.Context, inv *Invocation, j job, stdout, stderr io.Writer) int {
	// A script that does not parse is the script's fault: say so without
	// needing root or a namespace.
	cfg := runtime.DefaultConfig(runtime.IPv4)
	for _, f := range inv.Flags {
		cfg.Set(f.Name, f.Value, true)
	}
	if _, err := parser.ParseFile(j.path, parser.Options{Defines: cfg.Defines}); err != nil {
		fmt.Fprint(stderr, parser.FormatError(err))
		return runtime.ExitScript
	}
	if cfg.DryRun {
		return 0
	}
	res, err := runOne(ctx, inv, j.path, j.ipVersion, Options{Stdout: stdout, Stderr: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	if res.TimedOut || (ctx.Err() != nil && !res.Passed) {
		fmt.Fprintln(stderr, res.FirstErr)
	}
	return res.Exit()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
