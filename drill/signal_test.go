package drill

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startCLI runs the godrill command (this test binary re-executed) with a
// registry of its own, and waits until the registry shows its run started
// (and held, if held).
func startCLI(t *testing.T, held bool, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	reg := t.TempDir()
	var out, errOut bytes.Buffer
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envRunMain+"=1", envRunDir+"="+reg)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	// Bounded only so that a broken run fails instead of hanging the test.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		runs, _ := liveRuns(reg)
		if len(runs) == 1 && runs[0].PID != 0 && (runs[0].Held || !held) {
			return cmd, &out, &errOut
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run never got there\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
	}
}

func waitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// TestSIGINTSingle: Ctrl-C stops a single run: exit 130, "interrupted".
func TestSIGINTSingle(t *testing.T) {
	needRoot(t)
	dir := writeScripts(t, map[string]string{"hang.pkt": hangScript})
	cmd, out, errOut := startCLI(t, false, "run", filepath.Join(dir, "hang.pkt"))
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitCode(t, cmd); code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s%s", code, exitInterrupted, out, errOut)
	}
	if !strings.Contains(errOut.String(), "hang.pkt: interrupted\n") {
		t.Errorf("no \"interrupted\":\n%s", errOut)
	}
}

// TestSIGINTHeld: Ctrl-C ends a held run whose events all passed: exit 0,
// and the run passed.
func TestSIGINTHeld(t *testing.T) {
	needRoot(t)
	dir := writeScripts(t, map[string]string{"pass.pkt": passScript})
	cmd, out, errOut := startCLI(t, true, "run", "--hold", filepath.Join(dir, "pass.pkt"))
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitCode(t, cmd); code != 0 {
		t.Errorf("exit %d, want 0\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out.String(), "all 2 events passed; holding the run open after the last event.") ||
		!strings.Contains(out.String(), "(held open, then ended)") {
		t.Errorf("stdout:\n%s", out)
	}
}
