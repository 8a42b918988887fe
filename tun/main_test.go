package tun

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// envTestMode selects what a re-executed test binary does instead of
// running tests.
const envTestMode = "GODRILL_TUN_TEST_MODE"

// envTestSysctls names the sysctls modeSysctl prints.
const envTestSysctls = "GODRILL_TUN_TEST_SYSCTLS"

// Test modes.
const (
	modeReady  = "ready"  // print "ready <µs of Setup>" (0: no Setup) and exit
	modeSetup  = "setup"  // like modeReady, with Setup
	modeSleep  = "sleep"  // Setup, start `sleep`, print "ready", wait to be killed
	modeParent = "parent" // outside any sandbox: start a modeSleep sandbox, print its pid, wait
	modeSysctl = "sysctl" // Setup, print the sysctls envTestSysctls names, exit
)

func TestMain(m *testing.M) {
	mode := os.Getenv(envTestMode)
	if mode == "" {
		os.Exit(m.Run())
	}
	if err := runMode(mode); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", mode, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runMode(mode string) error {
	switch mode {
	case modeReady:
		fmt.Println("ready 0")
		return nil
	case modeSetup:
		start := time.Now()
		d, err := Setup(DefaultConfig(IPv4))
		if err != nil {
			return err
		}
		fmt.Println("ready", time.Since(start).Microseconds())
		return d.Close()
	case modeSleep:
		if _, err := Setup(DefaultConfig(IPv4)); err != nil {
			return err
		}
		// A process of the script's (a backtick command): it must die with
		// the sandbox too.
		if err := exec.Command("sleep", "600").Start(); err != nil {
			return err
		}
		fmt.Println("ready")
		select {}
	case modeSysctl:
		if _, err := Setup(DefaultConfig(IPv4)); err != nil {
			return err
		}
		kvs, err := readSysctls(strings.Fields(os.Getenv(envTestSysctls)))
		if err != nil {
			return err
		}
		fmt.Println(strings.Join(kvs, "\n"))
		return nil
	case modeParent:
		cmd := sandboxMode(context.Background(), modeSleep)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := Start(cmd); err != nil {
			return err
		}
		if _, err := fmt.Fscanln(out, new(string)); err != nil {
			return err
		}
		fmt.Println("ready", cmd.Process.Pid)
		select {}
	}
	return fmt.Errorf("unknown mode")
}

// sandboxMode returns a command running this test binary in a sandbox in
// the given mode.
func sandboxMode(ctx context.Context, mode string) *exec.Cmd {
	cmd := Command(ctx, []string{"-test.run=^$"})
	cmd.Env = append(cmd.Env, envTestMode+"="+mode)
	cmd.Stdin, cmd.Stdout = nil, nil
	return cmd
}

// requireRoot skips the test unless it can create namespaces and TUN
// devices.
func requireRoot(tb testing.TB) {
	tb.Helper()
	if err := Preflight(); err != nil {
		tb.Skipf("skipping: needs root and /dev/net/tun: %v", err)
	}
}

// sandboxed runs the calling test again in a sandbox and reports whether
// the caller is that sandboxed copy, which should then do the work:
//
//	if !sandboxed(t) {
//		return
//	}
func sandboxed(t *testing.T) bool {
	t.Helper()
	if Isolated() {
		return true
	}
	requireRoot(t)
	var pattern []string
	for part := range strings.SplitSeq(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := Command(ctx, []string{"-test.run=" + strings.Join(pattern, "/"), "-test.v", "-test.count=1"})
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	out, err := cmd.CombinedOutput()
	for line := range strings.Lines(strings.TrimRight(string(out), "\n")) {
		t.Log("sandbox: " + strings.TrimRight(line, "\n"))
	}
	if err != nil {
		t.Fatalf("sandboxed test failed: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("sandboxed test did not pass")
	}
	return false
}
