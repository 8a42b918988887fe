// Package scripts holds the article's experiments as packetdrill scripts;
// this test runs every one of them against the kernel.
package scripts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godrill/godrill/drill"
	"github.com/godrill/godrill/tun"
)

func TestMain(m *testing.M) {
	drill.SandboxMain()
	os.Exit(m.Run())
}

// TestScriptsPass runs each script in ipv4, ipv6 and ipv4-mapped-ipv6: none
// of them depends on the address family.
func TestScriptsPass(t *testing.T) {
	if err := tun.Preflight(); err != nil {
		t.Skipf("cannot run scripts against the kernel here: %v", err)
	}
	var files []string
	filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".pkt") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 15 {
		t.Fatalf("found only %d scripts", len(files))
	}
	for _, f := range files {
		for _, v := range []string{"ipv4", "ipv6", "ipv4-mapped-ipv6"} {
			t.Run(f+"/"+v, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				// A run where godrill was late, the kernel not tested, runs
				// again (the host steals this VM's CPUs in bursts that can
				// span two runs).
				opts := drill.Options{IPVersion: v, Timeout: time.Minute, Retries: 2,
					OnRetry: func(late drill.Result, _ int) { t.Logf("retrying, godrill was late:\n%s", late.Output) }}
				if drill.HoldsOpen(f) {
					// Ends in the sleep that holds it open: it passes when
					// everything before passed, so end the hold at once.
					opts.Hold, opts.OnHold = true, func(string) { cancel() }
				}
				res, err := drill.Run(ctx, f, opts)
				if err != nil {
					t.Fatal(err)
				}
				if drill.HoldsOpen(f) && !res.Held {
					t.Errorf("%s was not held open", f)
				}
				if !res.Passed {
					t.Fatalf("exit %d:\n%s", res.ExitCode, res.Output)
				}
			})
		}
	}
}
