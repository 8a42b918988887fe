package compat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJobsFollowRunnerConventions(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.pkt", "b-v4.pkt", "c-v6.pkt", "sub/d.pkt", "notes.txt"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	var got []string
	jobs, err := Jobs(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		got = append(got, j.Key())
	}
	want := "a.pkt ipv4,a.pkt ipv4-mapped-v6,a.pkt ipv6,b-v4.pkt ipv4,b-v4.pkt ipv4-mapped-v6,c-v6.pkt ipv6," +
		"sub/d.pkt ipv4,sub/d.pkt ipv4-mapped-v6,sub/d.pkt ipv6"
	if strings.Join(got, ",") != want {
		t.Errorf("gtests jobs:\n got %s\nwant %s", strings.Join(got, ","), want)
	}
	os.WriteFile(filepath.Join(dir, "ksft_runner.sh"), nil, 0o755)
	jobs, _ = Jobs(filepath.Join(dir, "sub"), "")
	if len(jobs) != 2 || jobs[0].Style != Ksft || jobs[1].Variant.Name != "ipv6" {
		t.Errorf("ksft jobs: %+v", jobs)
	}
	// The current ksft_runner.sh defines TFO_COOKIE and honours a script's
	// --ip_version= line.
	os.WriteFile(filepath.Join(dir, "ksft_runner.sh"), []byte("-D TFO_COOKIE=3021b9d889017eeb\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "e.pkt"), []byte("// x\n--ip_version=ipv6\n"), 0o644)
	jobs, _ = Jobs(filepath.Join(dir, "sub"), "")
	got = nil
	for _, j := range jobs {
		got = append(got, j.Key())
	}
	if strings.Join(got, ",") != "d.pkt ipv4,d.pkt ipv6,e.pkt ipv6" || jobs[0].Style != KsftTFO ||
		!strings.Contains(strings.Join(jobs[0].Variant.Args, " "), "TFO_COOKIE_ZERO=b7c12350a90dc8f5") {
		t.Errorf("current ksft jobs: %v %+v", got, jobs)
	}
}

// TestKsftMappedVariants: the current ksft_runner.sh runs a script without
// an --ip_version= line in ipv4, ipv6 and ipv4-mapped-ipv6, and one with
// such a line (any of the three) in that family only.
func TestKsftMappedVariants(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ksft_runner.sh"),
		[]byte("-D TFO_COOKIE=3021b9d889017eeb\n[ipv4-mapped-ipv6]=\"--ip_version=ipv4-mapped-ipv6\"\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "a.pkt"), []byte("// no family line\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.pkt"), []byte("--ip_version=ipv4-mapped-ipv6\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.pkt"), []byte("--ip_version=ipv6\n"), 0o644)
	jobs, err := Jobs(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.Key())
		if j.Style != KsftMapped {
			t.Errorf("%s: style %s, want %s", j.Key(), j.Style, KsftMapped)
		}
	}
	want := "a.pkt ipv4,a.pkt ipv6,a.pkt ipv4-mapped-ipv6,b.pkt ipv4-mapped-ipv6,c.pkt ipv6"
	if strings.Join(got, ",") != want {
		t.Errorf("jobs:\n got %s\nwant %s", strings.Join(got, ","), want)
	}
	for _, j := range jobs {
		args := strings.Join(j.Variant.Args, " ")
		if j.Variant.Name == "ipv4-mapped-ipv6" && (!strings.HasPrefix(args, "--ip_version=ipv4-mapped-ipv6 --local_ip=192.168.0.1") ||
			!strings.Contains(args, "CMSG_LEVEL_IP=SOL_IPV6") || strings.Contains(args, "--mtu")) {
			t.Errorf("mapped variant args: %s", args)
		}
	}
}

func TestAgree(t *testing.T) {
	r := Row{Godrill: Result{Verdict: Fail}, Reference: Result{Verdict: Timeout}}
	if !r.Agree() {
		t.Error("fail and timeout are both failures")
	}
	r.Godrill.Verdict = Pass
	if r.Agree() {
		t.Error("pass vs timeout agree")
	}
	r.Reference.Verdict = Missing
	if r.Agree() || r.Compared() {
		t.Error("a pass agrees with a reference that did not run")
	}
	r.Godrill.Verdict = Fail
	if r.Agree() {
		t.Error("a failure agrees with a reference that did not run")
	}
}

// TestReportCountsOnlyCompared: a run without a reference verdict is
// neither an agreement nor in the percentage.
func TestReportCountsOnlyCompared(t *testing.T) {
	rows := []Row{
		{Godrill: Result{Verdict: Pass}, Reference: Result{Verdict: Pass}},
		{Godrill: Result{Verdict: Pass}, Reference: Result{Verdict: Fail}},
		{Godrill: Result{Verdict: Pass}, Reference: Result{Verdict: Missing}},
	}
	var b strings.Builder
	got := Report(&b, rows)
	if got.Runs != 3 || got.Compared != 2 || got.Agree != 1 || got.Disagree() != 1 || got.Percent() != 50 {
		t.Errorf("tally %+v (%.1f%%), want 3 runs, 2 compared, 1 agreeing: 50%%\n%s", got, got.Percent(), b.String())
	}
	if !strings.Contains(b.String(), "1 disagreements") || !strings.Contains(b.String(), "1 runs not compared") {
		t.Errorf("report:\n%s", b.String())
	}
}

// TestSummaryPrefersScriptPosition: a script command's own stderr line
// (a refused sysctl before the run) does not hide the verdict line.
func TestSummaryPrefersScriptPosition(t *testing.T) {
	for _, tt := range []struct{ stderr, want string }{
		{"sysctl: setting key \"x\": Operation not permitted\na.pkt:20: error handling packet: timing error\ndetail\n", "a.pkt:20: error handling packet: timing error"},
		{"\n  only this\n", "only this"},
		{"", "(no output)"},
	} {
		if got := (Result{Verdict: Fail, Stderr: tt.stderr}).Summary(); got != tt.want {
			t.Errorf("Summary of %q = %q, want %q", tt.stderr, got, tt.want)
		}
	}
}
