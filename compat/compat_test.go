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
}
