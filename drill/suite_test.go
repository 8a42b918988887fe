package drill

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godrill/godrill/tun"
)

// envRunMain makes the re-executed test binary act as the godrill command,
// so the CLI can be driven as a real process (for signals).
const envRunMain = "GODRILL_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	SandboxMain()
	if os.Getenv(envRunMain) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func needRoot(t *testing.T) {
	t.Helper()
	if err := tun.Preflight(); err != nil {
		t.Skipf("needs root and /dev/net/tun to run scripts: %v", err)
	}
}

const (
	passScript = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n"
	failScript = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = -1 EBADF (Bad file descriptor)\n"
	hangScript = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `sleep 30`\n+0 close(3) = 0\n"
)

// writeScripts makes a directory of scripts, name -> text.
func writeScripts(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeSuite is a finished suite of four jobs: a pass, a failure, a
// timeout, and one never run.
func fakeSuite() *suite {
	s := &suite{
		jobs:  []job{{path: "a/pass.pkt"}, {path: "a/fail.pkt"}, {path: "b/hang.pkt"}, {path: "b/late.pkt"}},
		start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), elapsed: 1500 * time.Millisecond, interrupted: true,
	}
	s.results = []*Result{
		{Path: "a/pass.pkt", IPVersion: "ipv4", Passed: true, Duration: 200 * time.Millisecond},
		{Path: "a/fail.pkt", IPVersion: "ipv4", ExitCode: 1, Duration: 100 * time.Millisecond,
			FirstErr: `a/fail.pkt:3: error: "quoted" <tag> & # hash`, Output: "a/fail.pkt:3: error\n  3 | x\n\x1b[31mred\x1b[0m\n"},
		{Path: "b/hang.pkt", IPVersion: "ipv6", ExitCode: 1, TimedOut: true, Duration: time.Second,
			FirstErr: "b/hang.pkt: timed out after 1s"},
		nil,
	}
	return s
}

func TestJUnitParsesBack(t *testing.T) {
	s := fakeSuite()
	file := filepath.Join(t.TempDir(), "junit.xml")
	if err := s.writeJUnitFile(file); err != nil {
		t.Fatal(err)
	}
	checkJUnit(t, file, 4, 2, 1)
	b, _ := os.ReadFile(file)
	var got JUnitSuites
	xml.Unmarshal(b, &got)
	c := got.Suites[0].Cases
	if c[1].Failure.Message != s.results[1].FirstErr || c[2].Failure.Type != "timeout" || c[3].Skipped == nil {
		t.Errorf("cases don't round-trip: %+v", c)
	}
	if c[0].Name != "pass.pkt (ipv4)" || c[0].Classname != "a/pass" {
		t.Errorf("case 0 named %q class %q", c[0].Name, c[0].Classname)
	}
}

// checkJUnit parses a JUnit file with encoding/xml and checks its counts.
func checkJUnit(t *testing.T, file string, tests, failures, skipped int) JUnitSuites {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var got JUnitSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("JUnit report does not parse: %v\n%s", err, b)
	}
	if len(got.Suites) != 1 {
		t.Fatalf("got %d test suites, want 1", len(got.Suites))
	}
	ts := got.Suites[0]
	if ts.Tests != tests || ts.Failures != failures || ts.Skipped != skipped || len(ts.Cases) != tests ||
		got.Tests != tests || got.Failures != failures {
		t.Errorf("JUnit counts: tests %d failures %d skipped %d cases %d; want %d %d %d\n%s",
			ts.Tests, ts.Failures, ts.Skipped, len(ts.Cases), tests, failures, skipped, b)
	}
	n := 0
	for _, c := range ts.Cases {
		if c.Failure != nil {
			n++
			if c.Failure.Message == "" {
				t.Errorf("case %s: failure without a message", c.Name)
			}
		}
	}
	if n != failures {
		t.Errorf("%d cases carry <failure>, want %d", n, failures)
	}
	return got
}

var (
	tapTestLine = regexp.MustCompile(`^(ok|not ok) (\d+) - [^#]*( # (SKIP|TODO)\b.*)?$`)
	tapPlan     = regexp.MustCompile(`^1\.\.(\d+)$`)
)

// checkTAP verifies TAP version 13: version line, plan, one line per test
// numbered 1..N with no gaps, YAML blocks indented and closed, comments.
// It returns how many tests passed and failed.
func checkTAP(out string) (passed, failed int, err error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 2 || lines[0] != "TAP version 13" {
		return 0, 0, fmt.Errorf("first line is not \"TAP version 13\"")
	}
	m := tapPlan.FindStringSubmatch(lines[1])
	if m == nil {
		return 0, 0, fmt.Errorf("second line %q is not a plan", lines[1])
	}
	plan, _ := strconv.Atoi(m[1])
	next := 1
	inYAML := false
	for i, l := range lines[2:] {
		switch {
		case inYAML:
			if l == "  ..." {
				inYAML = false
			} else if !strings.HasPrefix(l, "  ") {
				return 0, 0, fmt.Errorf("line %d: YAML block not indented: %q", i+3, l)
			}
		case l == "  ---":
			if next == 1 {
				return 0, 0, fmt.Errorf("line %d: YAML block before any test", i+3)
			}
			inYAML = true
		case strings.HasPrefix(l, "#"):
		default:
			m := tapTestLine.FindStringSubmatch(l)
			if m == nil {
				return 0, 0, fmt.Errorf("line %d: not a TAP line: %q", i+3, l)
			}
			if n, _ := strconv.Atoi(m[2]); n != next {
				return 0, 0, fmt.Errorf("line %d: test %d, want %d", i+3, n, next)
			}
			next++
			if m[1] == "ok" && m[3] == "" {
				passed++
			} else if m[1] == "not ok" {
				failed++
			}
		}
	}
	if inYAML {
		return 0, 0, fmt.Errorf("YAML block not closed")
	}
	if next-1 != plan {
		return 0, 0, fmt.Errorf("plan says %d tests, saw %d", plan, next-1)
	}
	return passed, failed, nil
}

func TestTAPWellFormed(t *testing.T) {
	s := fakeSuite()
	var b bytes.Buffer
	fmt.Fprintf(&b, "TAP version 13\n1..%d\n", len(s.jobs))
	for _, r := range s.results {
		if r != nil {
			s.tapNum++
			writeTAPResult(&b, s.tapNum, r)
		}
	}
	s.writeTAPTail(&b)
	passed, failed, err := checkTAP(b.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if passed != 1 || failed != 2 {
		t.Errorf("TAP: %d passed %d failed, want 1 and 2\n%s", passed, failed, b.String())
	}
	if !strings.Contains(b.String(), "# Totals: pass:1 fail:2 xfail:0 xpass:0 skip:1 error:0") {
		t.Errorf("no totals line:\n%s", b.String())
	}
}

func TestCheckTAPRejects(t *testing.T) {
	for _, bad := range []string{
		"1..1\nok 1 - x\n",
		"TAP version 13\n1..2\nok 1 - x\n",
		"TAP version 13\n1..2\nok 1 - x\nok 3 - y\n",
		"TAP version 13\n1..1\nnot ok 1 - x\n  ---\n  message: m\n",
		"TAP version 13\n1..1\nfine 1 - x\n",
	} {
		if _, _, err := checkTAP(bad); err == nil {
			t.Errorf("checkTAP accepted %q", bad)
		}
	}
}

func TestJSONReport(t *testing.T) {
	var b bytes.Buffer
	if err := fakeSuite().writeJSON(&b); err != nil {
		t.Fatal(err)
	}
	var rep jsonReport
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	var st []string
	for _, r := range rep.Results {
		st = append(st, r.Status)
	}
	if rep.Passed != 1 || rep.Failed != 2 || rep.NotRun != 1 || rep.ExitCode != 1 ||
		strings.Join(st, " ") != "pass fail timeout not_run" {
		t.Errorf("JSON report: %+v", rep)
	}
}

// TestSuiteExitCodeAndReports runs real scripts: the exit code is non-zero
// exactly when a script fails, and the reports agree.
func TestSuiteExitCodeAndReports(t *testing.T) {
	needRoot(t)
	good := writeScripts(t, map[string]string{"a.pkt": passScript, "b.pkt": passScript})
	var out, errOut bytes.Buffer
	junit := filepath.Join(t.TempDir(), "junit.xml")
	if code := Main([]string{"run", "-j2", "--junit", junit, good}, &out, &errOut); code != 0 {
		t.Errorf("all passing: exit code %d, want 0\n%s%s", code, out.String(), errOut.String())
	}
	checkJUnit(t, junit, 2, 0, 0)
	if !strings.Contains(out.String(), "2 passed, 0 failed") {
		t.Errorf("summary:\n%s", out.String())
	}

	mixed := writeScripts(t, map[string]string{"a.pkt": passScript, "b.pkt": failScript,
		"c.pkt": hangScript})
	out.Reset()
	errOut.Reset()
	start := time.Now()
	code := Main([]string{"run", "-j2", "--timeout", "2s", "--format", "tap", "--junit", junit, mixed}, &out, &errOut)
	if code == 0 {
		t.Errorf("with failures: exit code 0\n%s", out.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hung script held the suite for %v", d)
	}
	passed, failed, err := checkTAP(out.String())
	if err != nil || passed != 1 || failed != 2 {
		t.Errorf("TAP: %d passed, %d failed, %v\n%s", passed, failed, err, out.String())
	}
	got := checkJUnit(t, junit, 3, 2, 0)
	for _, c := range got.Suites[0].Cases {
		if c.Name == "c.pkt (ipv4)" && (c.Failure == nil || c.Failure.Type != "timeout") {
			t.Errorf("hung script: %+v", c)
		}
	}
}

// TestSIGINT interrupts a suite of sleeping scripts: every child and what
// it started must be gone, no namespace or TUN device may remain in the
// host, and the summary must cover what finished.
func TestSIGINT(t *testing.T) {
	needRoot(t)
	dir := writeScripts(t, map[string]string{"a-quick.pkt": passScript,
		"b-sleep.pkt": hangScript, "c-sleep.pkt": hangScript, "d-sleep.pkt": hangScript})
	netnsBefore, tunBefore := hostNetState(t)

	var out, errOut bytes.Buffer
	cmd := exec.Command(os.Args[0], "run", "-j2", dir)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the quick script is done and two sleepers (and their
	// shell commands) run.
	var procs map[int]string
	deadline := time.Now().Add(10 * time.Second)
	for {
		procs = descendants(cmd.Process.Pid)
		if len(procs) >= 6 || time.Now().After(deadline) { // 2 children + sh + sleep each
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(procs) < 4 {
		t.Errorf("only %d descendants before SIGINT", len(procs))
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("godrill did not exit within 15s of SIGINT\n%s", out.String())
	}
	t.Logf("interrupted with %d descendants running; output:\n%s", len(procs), out.String())
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("interrupted suite exited %d, want %d", code, exitInterrupted)
	}
	if !regexp.MustCompile(`(?m)^interrupted$`).MatchString(out.String()) {
		t.Errorf("no \"interrupted\" line:\n%s", out.String())
	}
	if !regexp.MustCompile(`1 passed, 2 failed, 1 not run in [0-9.]+s \(interrupted\)`).MatchString(out.String()) {
		t.Errorf("summary missing or wrong:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "FAIL "+filepath.Join(dir, "b-sleep.pkt")) {
		t.Errorf("summary does not list the stopped script:\n%s", out.String())
	}
	time.Sleep(100 * time.Millisecond)
	for pid, start := range procs {
		if procStart(pid) == start {
			t.Errorf("process %d (%s) survived", pid, procComm(pid))
		}
	}
	netnsAfter, tunAfter := hostNetState(t)
	if netnsAfter != netnsBefore || tunAfter != tunBefore {
		t.Errorf("host changed:\nnetns before %q after %q\ntun before %q after %q", netnsBefore, netnsAfter, tunBefore, tunAfter)
	}
}

func hostNetState(t *testing.T) (netns, tuns string) {
	t.Helper()
	a, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Skipf("no ip command: %v", err)
	}
	b, _ := exec.Command("ip", "-o", "link", "show", "type", "tun").Output()
	return string(a), string(b)
}

// descendants returns every process below pid (by parent links in /proc),
// with its start time to tell it from a later process with the same id.
func descendants(pid int) map[int]string {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(p); len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			parent[p] = pp
		}
	}
	out := map[int]string{}
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out[p] = procStart(p)
				break
			}
		}
	}
	return out
}

// statFields are /proc/PID/stat's fields after the command name: state,
// ppid, ... (field 3 onwards in proc(5)).
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

func procStart(pid int) string {
	f := statFields(pid)
	if len(f) < 20 || f[0] == "Z" {
		return ""
	}
	return f[19] // starttime, field 22
}

func procComm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}
