package drill

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
	"github.com/godrill/godrill/tun"
)

// HoldsOpen reports whether a script ends in a shell command that only
// sleeps for at least the default --command_timeout: packetdrill's idiom
// for keeping a run where it is while someone looks (`+0 `+"`sleep 1000000`"+`).
// Run it with Options.Hold to hold it instead.
func HoldsOpen(path string) bool {
	s, err := parser.ParseFile(path, parser.Options{})
	return err == nil && finalSleep(s, runtime.DefaultConfig(runtime.IPv4).CommandTimeout) != nil
}

// sandboxReady records that SandboxMain ran in this process, so that the
// children Run re-executes from this binary will run scripts.
var sandboxReady bool

// TestScripts runs scripts as subtests of t, in parallel, each in its own
// namespace. pattern is a directory (walked for *.pkt), a script, or a
// glob such as "testdata/*.pkt". A subtest is named after the script's
// path relative to the pattern's directory, and fails with the script's
// failure report. A run where godrill itself was late (exit 4: the kernel
// was not tested at that line) runs again, Options.Retries times at most
// and at least once (`godrill run --retries N`), and the subtest logs it;
// a kernel's failure is never rerun.
// Without root or /dev/net/tun, t is skipped with the reason.
//
// The test binary must call SandboxMain first thing in TestMain:
//
//	func TestMain(m *testing.M) {
//		drill.SandboxMain()
//		os.Exit(m.Run())
//	}
func TestScripts(t *testing.T, pattern string, opts Options) {
	t.Helper()
	if !sandboxReady {
		t.Fatal("drill.TestScripts: call drill.SandboxMain() first thing in TestMain (scripts run in a re-executed test binary)")
	}
	paths, err := filepath.Glob(pattern)
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("no scripts match %q", pattern)
	}
	if err == nil {
		paths, err = scriptPaths(paths)
	}
	if err != nil {
		t.Fatalf("drill.TestScripts: %v", err)
	}
	if err := tun.Preflight(); err != nil {
		t.Skipf("drill.TestScripts: skipping %d scripts: %v", len(paths), err)
	}
	base := pattern
	if strings.ContainsAny(base, "*?[") || !isDir(base) {
		base = filepath.Dir(base)
	}
	for _, p := range paths {
		name, err := filepath.Rel(base, p)
		if err != nil {
			name = p
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			o := opts
			if HoldsOpen(p) {
				// A script that ends by holding itself open passes when
				// everything before the hold passed: end the hold at once.
				o.Hold, o.OnHold = true, func(string) { cancel() }
			}
			o.Retries = max(o.Retries, 1)
			o.OnRetry = func(late Result, try int) {
				t.Logf("%s (%s): godrill was late, not the kernel: running it again (retry %d of %d)\n%s",
					p, late.IPVersion, try, o.Retries, late.Output)
			}
			res, err := Run(ctx, p, o)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if !res.Passed {
				t.Errorf("%s (%s) failed (exit code %d):\n%s", p, res.IPVersion, res.Exit(), res.Output)
			}
		})
	}
}
