package runtime

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// useRealtimeScheduling moves every thread of this process to SCHED_RR at
// the lowest real-time priority, as the reference does on machines with
// more than one CPU: a busy machine then cannot delay a scripted event by
// whole scheduler slices. Threads started later inherit the policy. It is
// best effort: without CAP_SYS_NICE nothing changes.
func useRealtimeScheduling() {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil || set.Count() <= 1 {
		return
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	attr := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Priority: 1}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			unix.SchedSetAttr(tid, attr, 0)
		}
	}
}

// jiffyOffset is how far into a kernel clock tick a run starts.
const jiffyOffset = 250 * time.Microsecond

// alignStart waits for the edge of the kernel's 10 ms USER_HZ tick (a
// jiffy edge for any HZ) and returns a start time just past it. Scripts
// schedule events on millisecond boundaries from time 0; starting at a
// fixed offset into a jiffy keeps the kernel's jiffy-based RTT samples,
// RTO and delayed-ACK timers the same from run to run (the reference
// spins over ten such ticks; one edge is enough to find the phase).
func alignStart() time.Time {
	var tms unix.Tms
	first, err := unix.Times(&tms)
	if err != nil {
		return time.Now()
	}
	deadline := time.Now().Add(25 * time.Millisecond)
	for time.Now().Before(deadline) {
		t, err := unix.Times(&tms)
		if err != nil || t != first {
			break
		}
	}
	return time.Now().Add(jiffyOffset)
}
