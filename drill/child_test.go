package drill

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godrill/godrill/runtime"
)

// lateScript is always late: the command takes 500 ms, so godrill starts
// the call at 0.010 some 490 ms late, beyond the 200 ms tolerance these
// tests give (which a loaded machine does not exceed by itself).
const lateScript = "0 `sleep 0.5`\n0.010 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n"

var tolerant = Flag{Name: "tolerance_usecs", Value: "200000"}

// TestLateExitCodes: godrill's own lateness exits 4 in `godrill run` and
// 1 in the packetdrill form.
func TestLateExitCodes(t *testing.T) {
	needRoot(t)
	dir := writeScripts(t, map[string]string{"late.pkt": lateScript})
	p := filepath.Join(dir, "late.pkt")
	var out, errb bytes.Buffer
	if code := Main([]string{"run", "--tolerance_usecs=200000", p}, &out, &errb); code != runtime.ExitLate ||
		!strings.Contains(errb.String(), "late.pkt:2: godrill was scheduled") {
		t.Errorf("godrill run: exit %d, want %d with godrill's lateness at line 2:\n%s", code, runtime.ExitLate, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"--tolerance_usecs=200000", p}, &out, &errb); code != runtime.ExitKernel {
		t.Errorf("drop-in form: exit %d, want %d:\n%s", code, runtime.ExitKernel, errb.String())
	}
}

// TestRetriesSingleRun: --retries reruns a single script that ended in
// godrill's lateness, says so each time, and not one that passed.
func TestRetriesSingleRun(t *testing.T) {
	needRoot(t)
	dir := writeScripts(t, map[string]string{"late.pkt": lateScript, "pass.pkt": passScript})
	var out, errb bytes.Buffer
	code := Main([]string{"run", "--retries", "2", "--tolerance_usecs=200000", filepath.Join(dir, "late.pkt")}, &out, &errb)
	if code != runtime.ExitLate {
		t.Errorf("exit %d, want %d", code, runtime.ExitLate)
	}
	if n := strings.Count(errb.String(), "running it again (retry"); n != 2 {
		t.Errorf("%d retries announced, want 2:\n%s", n, errb.String())
	}
	if n := strings.Count(errb.String(), "late.pkt:2: godrill was scheduled"); n != 3 {
		t.Errorf("%d late runs, want 3 (the run and its two retries):\n%s", n, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"run", "--retries", "2", filepath.Join(dir, "pass.pkt")}, &out, &errb); code != 0 ||
		strings.Contains(errb.String(), "retry") {
		t.Errorf("a passing run: exit %d, want 0 and no retry:\n%s", code, errb.String())
	}
}

// TestRunRetries: Options.Retries reruns, through Run, a run where godrill
// was late and tells OnRetry of each; a kernel's failure and a pass are
// not rerun.
func TestRunRetries(t *testing.T) {
	needRoot(t)
	dir := writeScripts(t, map[string]string{"late.pkt": lateScript, "fail.pkt": failScript, "pass.pkt": passScript})
	for _, c := range []struct {
		script  string
		exit    int
		retries int
	}{{"late.pkt", runtime.ExitLate, 2}, {"fail.pkt", runtime.ExitKernel, 0}, {"pass.pkt", 0, 0}} {
		var tries []int
		res, err := Run(context.Background(), filepath.Join(dir, c.script), Options{
			Args: []string{"--tolerance_usecs=200000"}, Retries: 2,
			OnRetry: func(late Result, try int) {
				if late.ExitCode != runtime.ExitLate {
					t.Errorf("%s: retry %d of a run that exited %d", c.script, try, late.ExitCode)
				}
				tries = append(tries, try)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != c.exit || len(tries) != c.retries {
			t.Errorf("%s: exit %d after retries %v, want exit %d after %d retries", c.script, res.ExitCode, tries, c.exit, c.retries)
		}
	}
}

// TestRetriesRerunLateOnly: --retries reruns the runs where godrill was
// late, and only those; the summary lists every retry.
func TestRetriesRerunLateOnly(t *testing.T) {
	needRoot(t)
	dir := writeScripts(t, map[string]string{"late.pkt": lateScript, "fail.pkt": failScript, "pass.pkt": passScript})
	var out, errb bytes.Buffer
	code := runSuite(context.Background(), &Invocation{Files: []string{dir}, Flags: []Flag{tolerant}, Extras: Extras{Jobs: 1, Retries: 2}},
		[]job{{path: filepath.Join(dir, "fail.pkt")}, {path: filepath.Join(dir, "late.pkt")}, {path: filepath.Join(dir, "pass.pkt")}},
		&out, &errb)
	if code != runtime.ExitKernel {
		t.Errorf("exit %d, want %d (the kernel failure outranks the lateness)", code, runtime.ExitKernel)
	}
	retries := 0
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "RETRY ") {
			retries++
			if !strings.Contains(line, "late.pkt") || !strings.Contains(line, "godrill was scheduled") {
				t.Errorf("retry of the wrong run: %q", line)
			}
		}
	}
	if retries != 2 {
		t.Errorf("summary lists %d retries, want 2:\n%s", retries, out.String())
	}
}

// nstatScript sees no nstat history when it starts and leaves one after
// nstat ran: each run has its own history file.
const nstatScript = "0 `[ -n \"$NSTAT_HISTORY\" ] && [ ! -e \"$NSTAT_HISTORY\" ]`\n" +
	"+0 `nstat -n`\n" +
	"+0 `[ -e \"$NSTAT_HISTORY\" ]`\n"

// TestNstatHistoryPerRun: nstat's history, by default one file in /tmp for
// every run on the machine, is private to each run.
func TestNstatHistoryPerRun(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("nstat"); err != nil {
		t.Skip("needs nstat (iproute2)")
	}
	t.Setenv("NSTAT_HISTORY", "")
	os.Unsetenv("NSTAT_HISTORY")
	p := filepath.Join(writeScripts(t, map[string]string{"nstat.pkt": nstatScript}), "nstat.pkt")
	for i := range 2 {
		var out, errb bytes.Buffer
		if code := Main([]string{"run", "--tolerance_usecs=200000", p}, &out, &errb); code != 0 {
			t.Fatalf("run %d: exit %d:\n%s%s", i+1, code, out.String(), errb.String())
		}
	}
}
