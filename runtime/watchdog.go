package runtime

import (
	"sync"
	"time"
)

// callWatchdog ends a system call written without "..." that does not
// return within --syscall_timeout (the reference would hang forever): it
// shuts down the run's sockets, which wakes the call. One goroutine checks
// every call of the run, so that arming it costs a lock and two stores on
// the way to the next event's time base; a timer per call cost 10-15 µs
// there (its wake-up of another thread), measured with bench's
// alternating schedule.
type callWatchdog struct {
	timeout time.Duration
	stop    chan struct{}

	mu       sync.Mutex
	since    time.Time // start of the call in progress; zero when none
	fds      []int     // its run's live fds, taken when it started
	timedOut bool
}

// newCallWatchdog starts the checking goroutine; stopWatch ends it.
func newCallWatchdog(timeout time.Duration) *callWatchdog {
	w := &callWatchdog{timeout: timeout, stop: make(chan struct{})}
	go w.watch(min(max(timeout/20, 10*time.Millisecond), 500*time.Millisecond))
	return w
}

func (w *callWatchdog) watch(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			w.mu.Lock()
			if !w.since.IsZero() && !w.timedOut && now.Sub(w.since) >= w.timeout {
				w.timedOut = true
				shutdownAll(w.fds)
			}
			w.mu.Unlock()
		}
	}
}

// begin arms the watchdog for a call about to be made; fds are the live
// fds to shut down if it hangs (the watchdog must not read the runner's).
func (w *callWatchdog) begin(fds []int) {
	w.mu.Lock()
	w.since, w.fds, w.timedOut = time.Now(), fds, false
	w.mu.Unlock()
}

// end disarms it and reports whether the call timed out.
func (w *callWatchdog) end() (timedOut bool) {
	w.mu.Lock()
	timedOut = w.timedOut
	w.since, w.fds, w.timedOut = time.Time{}, nil, false
	w.mu.Unlock()
	return timedOut
}

// warm touches what begin and end will, so that arming the watchdog at
// a call's time finds it in the cache (see call.rehearse): 1.5 µs cold.
func (w *callWatchdog) warm() {
	w.mu.Lock()
	_ = w.since
	w.mu.Unlock()
}

func (w *callWatchdog) stopWatch() { close(w.stop) }
