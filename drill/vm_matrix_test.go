package drill

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestShardsDisjointCoveringStable(t *testing.T) {
	var jobs []job
	for i := range 40 {
		for _, v := range []string{"ipv4", "ipv6"} {
			jobs = append(jobs, job{path: fmt.Sprintf("scripts/s%02d.pkt", i), ipVersion: v})
		}
	}
	inv := &Invocation{}
	inv.Extras.VM.Kernels = []string{"host", "/k/vmlinuz-a"}
	all := planJobs(inv, jobs)
	if len(all) != 160 {
		t.Fatalf("%d jobs for two kernels, want 160", len(all))
	}
	seen := map[job]int{}
	for k := 1; k <= 3; k++ {
		inv.Extras.VM.Shard, inv.Extras.VM.Shards = k, 3
		part := planJobs(inv, jobs)
		if len(part) == 0 {
			t.Errorf("shard %d/3 is empty", k)
		}
		for _, j := range part {
			seen[j]++
		}
		// The same shard again, and with other scripts around: the same
		// jobs.
		again := planJobs(inv, append(jobs[:10:10], jobs[10:]...))
		if fmt.Sprint(again) != fmt.Sprint(part) {
			t.Errorf("shard %d/3 not stable", k)
		}
		fewer := planJobs(inv, jobs[:20])
		for _, j := range fewer {
			if shardOf(j, 3) != k {
				t.Errorf("job %v moved shards when others were removed", j)
			}
		}
	}
	for _, j := range all {
		if seen[j] != 1 {
			t.Errorf("job %v in %d shards", j, seen[j])
		}
	}
	var o VMOptions
	for _, bad := range []string{"0/3", "4/3", "1/0", "x", "1/"} {
		if err := o.set("shard", bad); err == nil {
			t.Errorf("--shard %s accepted", bad)
		}
	}
}

func TestMatrixTableAndDiff(t *testing.T) {
	ka, kb := "/k/a/boot/vmlinuz-a", "/k/b/boot/vmlinuz-b"
	s := &suite{kernels: []string{"host", ka, kb}}
	add := func(path, fam, kernel string, r *Result) {
		s.jobs = append(s.jobs, job{path: path, ipVersion: fam, kernel: kernel})
		s.results = append(s.results, r)
	}
	ok := &Result{Passed: true}
	add("x.pkt", "ipv4", "", ok)
	add("x.pkt", "ipv4", ka, ok)
	add("x.pkt", "ipv4", kb, ok)
	add("y.pkt", "ipv6", "", ok)
	add("y.pkt", "ipv6", ka, &Result{ExitCode: 1, FirstErr: "y.pkt:12: error handling packet: tcp_window 0 vs 512"})
	add("y.pkt", "ipv6", kb, nil)
	var b bytes.Buffer
	s.writeMatrix(&b)
	out := b.String()
	for _, want := range []string{
		"script  family  host  vmlinuz-a  vmlinuz-b",
		"x.pkt   ipv4    ok    ok         ok",
		"y.pkt   ipv6    ok    FAIL       -",
		"1 of 2 rows differ between the kernels:",
		"y.pkt (ipv6)\n  host:       ok\n  vmlinuz-a:  y.pkt:12: error handling packet: tcp_window 0 vs 512\n  vmlinuz-b:  -\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("matrix lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "x.pkt (ipv4)") {
		t.Errorf("a row without differences is in the diff:\n%s", out)
	}
}
