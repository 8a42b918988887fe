package runtime

import (
	goruntime "runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHandOffHere: while a blocking call is handed over, its thread may
// run only on the loop's CPU; restore gives it back every CPU it had, so
// that the call's return is not held behind the loop.
func TestHandOffHere(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil || all.Count() < 2 {
		t.Skip("needs at least two CPUs")
	}
	tids := make(chan int)
	stop := make(chan struct{})
	go func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		tids <- unix.Gettid()
		<-stop
	}()
	tid := <-tids
	defer close(stop)

	if restore := handOffHere(tid, all, false); affinity(t, tid) != all {
		t.Errorf("without real-time scheduling the thread was pinned: %v", affinity(t, tid))
	} else {
		restore()
	}

	// This thread stands for the loop; kept on one CPU, so that the CPU
	// handOffHere reads is the one checked.
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	cpu := -1
	for i := 0; cpu < 0; i++ {
		if all.IsSet(i) {
			cpu = i
		}
	}
	var here unix.CPUSet
	here.Set(cpu)
	if err := unix.SchedSetaffinity(0, &here); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &all)
	restore := handOffHere(tid, all, true)
	pinned := affinity(t, tid)
	if pinned.Count() != 1 || !pinned.IsSet(cpu) {
		t.Errorf("during the hand-over the thread may run on %d CPUs (CPU %d set: %v), want only the loop's CPU %d",
			pinned.Count(), cpu, pinned.IsSet(int(cpu)), cpu)
	}
	restore()
	if got := affinity(t, tid); got != all {
		t.Errorf("after restore the thread may run on %d CPUs, want %d", got.Count(), all.Count())
	}
}

func affinity(t *testing.T, tid int) unix.CPUSet {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		t.Fatal(err)
	}
	return set
}
