package drill

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestLiveLine: the live line names the runs in progress.
func TestLiveLine(t *testing.T) {
	var buf bytes.Buffer
	inv := &Invocation{}
	s := &suite{
		jobs:    []job{{path: "a/x.pkt", ipVersion: "ipv6"}, {path: "b/y.pkt"}, {path: "c/z.pkt"}},
		results: make([]*Result, 3), start: time.Now(), progress: &buf, inv: inv,
		running: map[int]bool{0: true, 1: true},
	}
	s.done, s.failed = 1, 0
	s.drawLive()
	if got := buf.String(); !strings.Contains(got, "[1/3] 1 passed, 0 failed") || !strings.Contains(got, "running: x.pkt ipv6, y.pkt ipv4") {
		t.Errorf("live line %q", got)
	}
}

// TestResultLine: one line per run; a held run says so.
func TestResultLine(t *testing.T) {
	r := &Result{Path: "scripts/x.pkt", IPVersion: "ipv4", Passed: true, Duration: 160 * time.Millisecond}
	if got := resultLine(r); got != "ok   scripts/x.pkt  ipv4  0.16s" {
		t.Errorf("%q", got)
	}
	r.Passed, r.Held = false, true
	if got := resultLine(r); got != "FAIL scripts/x.pkt  ipv4  0.16s  (held open, then ended)" {
		t.Errorf("%q", got)
	}
}

// TestRerun: the command that reruns one failed job keeps the flags and
// names the job's family.
func TestRerun(t *testing.T) {
	s := &suite{inv: &Invocation{Flags: []Flag{{Name: "tolerance_usecs", Value: "10000"}, {Name: "ip_version", Value: "ipv4"}},
		Extras: Extras{Trace: true}}}
	got := s.rerun(&Result{Path: "my dir/x.pkt", IPVersion: "ipv6"})
	if want := "godrill run --tolerance_usecs=10000 --ip_version=ipv6 --trace 'my dir/x.pkt'"; got != want {
		t.Errorf("rerun %q, want %q", got, want)
	}
}
