package runtime_test

import (
	"os/exec"
	goruntime "runtime"
	"testing"
)

// TestSchedulingPriorities: a run's commands run at SCHED_RR 1, below the
// event loop's 2 (runtime/sched.go), where godrill goes real-time.
func TestSchedulingPriorities(t *testing.T) {
	needKernel(t)
	if goruntime.NumCPU() < 2 {
		t.Skip("godrill stays at the normal policy on one CPU")
	}
	for _, tool := range []string{"chrt", "ps"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	if code, out := runScript(t, "testdata/sched/priorities.pkt", nil); code != 0 {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
