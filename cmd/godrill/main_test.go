package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/godrill/godrill/drill"
	"github.com/godrill/godrill/tun"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"godrill": func() {
			drill.SandboxMain()
			os.Exit(drill.Main(os.Args[1:], os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script: the error formats
// and exit codes are a tested contract. $REPO is the repository root, so
// scripts can run the project's .pkt files. The [kernel] condition holds
// where godrill can run scripts (root and /dev/net/tun); scripts that
// need it skip elsewhere, with the reason in the log.
func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			// Each script's own registry of live runs: ids start at 1.
			env.Setenv("GODRILL_RUN_DIR", filepath.Join(env.WorkDir, "run"))
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "kernel" {
				if err := tun.Preflight(); err != nil {
					t.Logf("[kernel] is false: %v", err)
					return false, nil
				}
				return true, nil
			}
			return false, errors.New("unknown condition " + cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// waitrun held|running: wait until the registry lists a run
			// in that state (a background godrill has got there).
			"waitrun": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: waitrun held|running")
				}
				waitRun(ts, ts.Getenv("GODRILL_RUN_DIR"), args[0] == "held")
			},
			// exit N godrill-args...: run godrill and insist on exit code N.
			"exit": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: exit CODE args...")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("bad exit code %q", args[0])
				}
				err = ts.Exec("godrill", args[1:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("godrill: %v", err)
				}
				if (got == want) == neg {
					ts.Fatalf("godrill exited %d, want %d", got, want)
				}
			},
		},
	})
}

// waitRun polls the registry until a run is listed (and held, if held).
// The bound is there only so that a broken run fails the test instead of
// hanging it; nothing is asserted about how long it takes.
func waitRun(ts *testscript.TestScript, dir string, held bool) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			var r struct {
				PID  int  `json:"pid"`
				Held bool `json:"held"`
			}
			if json.Unmarshal(b, &r) == nil && r.PID != 0 && (r.Held || !held) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("no run reached that state within 2 minutes")
}
