package runtime

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// useRealtimeScheduling moves every thread of this process to SCHED_RR,
// as the reference does on machines with more than one CPU: a busy
// machine then cannot delay a scripted event by whole scheduler slices.
// Threads started later inherit the policy. It is best effort: without
// CAP_SYS_NICE nothing changes.
//
// The priority is one above the reference's (the minimum): the
// reference spins at that priority for 100 ms before its time 0
// (schedule_start_time_usecs), and a godrill run beside it at the same
// priority stalled for that spin's whole time slice (100-200 ms; Google's
// tcp/eor scripts failed so in 6 runs of 6 beside a SCHED_RR spinner, and
// passed in 6 of 6 at this priority; bench/README.md). godrill itself
// spins at most spinWindow before an event.
const realtimePriority = 2

func useRealtimeScheduling() {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil || set.Count() <= 1 {
		return
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	attr := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Priority: realtimePriority}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			unix.SchedSetAttr(tid, attr, 0)
		}
	}
}

// jiffyOffset is how far into a kernel clock tick a run starts.
const jiffyOffset = 250 * time.Microsecond

// alignStart waits for the next kernel clock tick and returns a start time
// jiffyOffset past it. Scripts schedule events on millisecond boundaries
// from time 0; starting at a fixed offset into a jiffy keeps the kernel's
// jiffy-based RTT samples, RTO and delayed-ACK timers the same from run to
// run, as the reference does (it watches times(2) over ten 10 ms ticks).
// CLOCK_MONOTONIC_COARSE advances exactly on the tick, so one edge of it
// costs at most one jiffy (4 ms at HZ=250) instead of 100 ms.
func alignStart(clock func() time.Time) time.Time {
	var first, now unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC_COARSE, &first) != nil {
		return clock()
	}
	deadline := time.Now().Add(25 * time.Millisecond)
	for time.Now().Before(deadline) {
		if unix.ClockGettime(unix.CLOCK_MONOTONIC_COARSE, &now) != nil || now != first {
			break
		}
	}
	return clock().Add(jiffyOffset)
}
