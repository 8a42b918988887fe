package drill

import (
	"os"
	"testing"
)

// TestRegistry: ids are the smallest free ones, entries go when removed,
// and an entry whose godrill process is gone is stale: skipped by ps and
// its id reused.
func TestRegistry(t *testing.T) {
	dir := t.TempDir()
	a, err := registerRun(dir, "a.pkt", "ipv4")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := registerRun(dir, "b.pkt", "ipv6")
	if a.ID != "1" || b.ID != "2" {
		t.Fatalf("ids %q, %q; want 1, 2", a.ID, b.ID)
	}
	runs, _ := liveRuns(dir)
	if len(runs) != 2 || runs[0].Script != "a.pkt" || runs[1].Family != "ipv6" {
		t.Fatalf("live runs %+v", runs)
	}
	a.remove()
	c, _ := registerRun(dir, "c.pkt", "ipv4")
	if c.ID != "1" {
		t.Errorf("freed id not reused: %q", c.ID)
	}

	// A godrill that was SIGKILLed left its entry: a pid that is not
	// running (the highest pid plus one never is).
	stale := &liveRun{ID: "3", Parent: maxPID(t) + 1, Script: "old.pkt", dir: dir}
	if err := stale.update(); err != nil {
		t.Fatal(err)
	}
	runs, _ = liveRuns(dir)
	for _, r := range runs {
		if r.ID == "3" {
			t.Errorf("stale entry listed: %+v", r)
		}
	}
	d, _ := registerRun(dir, "d.pkt", "ipv4")
	if d.ID != "3" {
		t.Errorf("stale id not reclaimed: got %q", d.ID)
	}
	if _, err := findRun(dir, "9"); err == nil {
		t.Error("found a run that does not exist")
	}
	// A registered run whose child has not started cannot be entered.
	if _, err := findRun(dir, "2"); err == nil {
		t.Error("found a run with no child yet")
	}
}

func maxPID(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Skip(err)
	}
	n := 0
	for _, c := range string(b) {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}
