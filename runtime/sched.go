package runtime

import (
	"os"
	"os/exec"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// realtimePriority is the event loop's SCHED_RR priority: one above the
// reference's (the minimum). The reference spins at that priority for
// 100 ms before its time 0 (schedule_start_time_usecs), and a godrill run
// beside it at the same priority stalled for that spin's whole time slice
// (100-200 ms; Google's tcp/eor scripts failed so in 6 runs of 6 beside a
// SCHED_RR spinner, and passed in 6 of 6 at this priority). godrill itself
// spins at most spinWindow before an event.
const realtimePriority = 2

// useRealtimeScheduling moves every thread of this process to SCHED_RR,
// as the reference does on machines with more than one CPU: a busy
// machine then cannot delay a scripted event by whole scheduler slices.
// Threads started later inherit the policy. It is best effort: without
// CAP_SYS_NICE nothing changes, and it reports false.
func useRealtimeScheduling() bool { return setScheduling(unix.SCHED_RR, realtimePriority) }

// leaveRealtimeScheduling moves every thread back to the normal policy
// once the last event is done: what follows (resets, the cleanup
// command, the report, a garbage collection, the exit) has no deadline,
// and at a real-time priority it would hold a parallel run's event loop
// off its CPU for as long as it computes (see commandPriority).
func leaveRealtimeScheduling() { setScheduling(unix.SCHED_NORMAL, 0) }

// setScheduling sets every thread's policy, on machines with more than
// one CPU; it reports whether it set the loop's own.
func setScheduling(policy, priority uint32) bool {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil || set.Count() <= 1 {
		return false
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false
	}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			setThreadScheduling(tid, policy, priority)
		}
	}
	return setThreadScheduling(0, policy, priority) == nil
}

// setThreadScheduling sets one thread's policy (0: the calling thread).
func setThreadScheduling(tid int, policy, priority uint32) error {
	return unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: policy, Priority: priority}, 0)
}

// commandPriority is the real-time priority of the commands a script
// runs: below the event loops', so that a command computing (ss, a Python
// script) does not hold a parallel run's loop off its CPU (measured: loops
// 5-18 ms late in go test ./scripts, where runs go two at a time, while
// commands inherited the loops' priority), and above the machine's normal
// load, as the reference's commands run at its own priority.
const commandPriority = 1

// startCommand starts cmd from this (the event loop's) thread at
// commandPriority: a forked process inherits its thread's policy, so the
// thread drops to it for the fork only.
func (r *runner) startCommand(cmd *exec.Cmd) error {
	if !r.realtimeOn {
		return cmd.Start()
	}
	setThreadScheduling(0, unix.SCHED_RR, commandPriority)
	defer setThreadScheduling(0, unix.SCHED_RR, realtimePriority)
	return cmd.Start()
}

// initSettle is how long after the init command a run's time 0 comes at
// the earliest, as in the reference (it spins ten times(2) ticks, 100 ms,
// after its init command). The kernel needs that time: the commands'
// exits and the run's new namespace leave RCU work that keeps every CPU's
// tick going for 60-80 ms (RCU softirqs in /proc/softirqs after `unshare
// -n true`). While the ticks of both CPUs come at once, the CPU that holds
// a timer can take its tick before the CPU that advances jiffies has:
// the timer waits a jiffy more (traced with tracefs: tcp_delack_timer
// armed for the next jiffy on CPU 1, whose tick came 1 µs before CPU 0's,
// and fired one tick later). Google's close-remote-fin-then-close.pkt so
// failed its delayed-ACK line in 12 of 40 runs; with time 0 20, 40, 70
// and 100 ms later: 11, 4, 1 and 0 of 40 (bench/README.md). A script
// without an init command starts at once, so start-up stays short.
const initSettle = 100 * time.Millisecond

// settleAfterInit waits until initSettle has passed since the init
// command, if one ran.
func (r *runner) settleAfterInit() {
	if r.initEnd.IsZero() {
		return
	}
	if d := r.initEnd.Add(initSettle).Sub(r.clock()); d > 0 {
		time.Sleep(d)
	}
}

// jiffyOffset is how far into a kernel clock tick a run starts.
const jiffyOffset = 250 * time.Microsecond

// alignStart waits for kernel clock ticks and returns a start time
// jiffyOffset past one. Scripts schedule events on millisecond boundaries
// from time 0; starting at a fixed offset into a jiffy keeps the kernel's
// jiffy-based RTT samples, RTO and delayed-ACK timers the same from run to
// run, as the reference does (it watches times(2) over ten 10 ms ticks).
// CLOCK_MONOTONIC_COARSE moves on the tick, so a few of its edges cost a
// few jiffies (4 ms each at HZ=250) instead of 100 ms.
func alignStart(clock func() time.Time) time.Time {
	return alignTo(coarseClock, clock, kernelTick(), 25*time.Millisecond)
}

// coarseClock reads CLOCK_MONOTONIC_COARSE.
func coarseClock() (unix.Timespec, bool) {
	var ts unix.Timespec
	return ts, unix.ClockGettime(unix.CLOCK_MONOTONIC_COARSE, &ts) == nil
}

// tickEdges is how many edges of the coarse clock alignStart watches.
const tickEdges = 3

// alignTo is alignStart's search: coarse is the tick clock, clock the
// run's, tick the jiffy (0: unknown), and limit bounds the search.
//
// The moment an edge is seen does not place the tick: on this 2-core VM a
// tick on the search's own CPU holds it 25-200 µs in the interrupt before
// it sees the new value (the search runs at the normal policy, where it
// can also lose its CPU for longer). The last read that still saw the old
// value does: the tick came after it. The coarse clock's value lags its
// tick by a fixed amount (about 3 ms here: timekeeping keeps the part of
// a jiffy it has not accumulated), so each edge bounds that lag from
// below, and the largest of a few bounds is the lag to within a read; a
// read that lost its CPU only lowers its own bound. The start is the first
// moment jiffyOffset past a tick that is still ahead.
func alignTo(coarse func() (unix.Timespec, bool), clock func() time.Time, tick, limit time.Duration) time.Time {
	seenOld := clock()
	last, ok := coarse()
	if !ok {
		return clock()
	}
	deadline := seenOld.Add(limit)
	// zero is where on the run's clock the coarse value 0 would have its
	// tick: each edge's tick is zero plus its value.
	var zero time.Time
	var value time.Duration
	edges := 0
	for edges < tickEdges {
		t := clock()
		ts, ok := coarse()
		if !ok {
			break
		}
		if ts != last {
			value = time.Duration(ts.Nano())
			if z := seenOld.Add(-value); edges == 0 || z.After(zero) {
				zero = z
			}
			edges++
			last = ts
		}
		seenOld = t
		if t.After(deadline) {
			break
		}
	}
	if edges == 0 {
		return clock().Add(jiffyOffset)
	}
	start := zero.Add(value + jiffyOffset)
	for now := clock(); tick > 0 && !start.After(now); {
		start = start.Add(tick)
	}
	return start
}

// startMargin is how much of the start's lead a run must still have once
// it is real-time; less, and the start moves on by ticks (restartAfter).
const startMargin = 100 * time.Microsecond

// restartAfter returns start, or, when less than startMargin of it is
// left at now, the first start that many whole ticks later that leaves
// it. The tick is found at the normal policy, and a thread there can be
// held off its CPU for a whole slice before it goes real-time: with both
// CPUs kept busy, a blocking connect at time 0 started 4 ms late in two of
// five traced runs of bench/'s client script, so the run had begun before
// its first event could. Whole ticks keep the start's place in the
// jiffy. A tick of 0 (unknown) restarts from now.
func restartAfter(start, now time.Time, tick time.Duration) time.Time {
	if start.Sub(now) >= startMargin {
		return start
	}
	if tick <= 0 {
		return now.Add(startMargin)
	}
	late := now.Add(startMargin).Sub(start)
	return start.Add((late + tick - 1) / tick * tick)
}

// kernelTick is the length of a jiffy, CLOCK_MONOTONIC_COARSE's
// resolution (0 when it cannot be read).
func kernelTick() time.Duration {
	var ts unix.Timespec
	if unix.ClockGetres(unix.CLOCK_MONOTONIC_COARSE, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
