package drill

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// openPTY opens a pseudo-terminal pair: the master, where a test types,
// and the slave, the terminal a process gets as its stdin.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestHoldOnTerminal: run alone from a terminal, a script ending in the
// sleep idiom is held open; Ctrl-C typed on that terminal (the line
// discipline's SIGINT to the foreground process group, as for a person)
// ends it, with exit 0.
func TestHoldOnTerminal(t *testing.T) {
	needRoot(t)
	master, slave := openPTY(t)
	dir := writeScripts(t, map[string]string{"idiom.pkt": passScript + "+0 `sleep 1000000`\n"})
	reg := t.TempDir()
	var out, errOut bytes.Buffer
	cmd := exec.Command(os.Args[0], "run", filepath.Join(dir, "idiom.pkt"))
	cmd.Env = append(os.Environ(), envRunMain+"=1", envRunDir+"="+reg)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &out, &errOut
	// Its own session with the terminal as controlling terminal: it is
	// the terminal's foreground process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	go io.Copy(io.Discard, master) // the echo of what is typed
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		runs, _ := liveRuns(reg)
		if len(runs) == 1 && runs[0].Held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run was not held\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
	}
	master.Write([]byte{0x03}) // Ctrl-C
	if code := waitCode(t, cmd); code != 0 {
		t.Errorf("exit %d, want 0\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "holding the run open at line 3 (`sleep 1000000`)") {
		t.Errorf("stdout:\n%s", out.String())
	}
}
