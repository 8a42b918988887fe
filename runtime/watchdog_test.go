package runtime

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCallWatchdog: a call that blocks past the timeout is woken by the
// shutdown of its run's sockets and reported; a call that returns in
// time is not, and a later call starts with a clean slate.
func TestCallWatchdog(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	// Should the watchdog never fire, the read ends after 5 s anyway.
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fds[0], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	w := newCallWatchdog(30 * time.Millisecond)
	defer w.stopWatch()

	w.begin([]int{fds[0]})
	if w.end() {
		t.Fatal("a call that returned at once was reported as timed out")
	}

	w.begin([]int{fds[0]})
	var buf [1]byte
	n, _ := unix.Read(fds[0], buf[:]) // blocks until the watchdog shuts the socket down
	if !w.end() {
		t.Fatalf("read returned %d without the watchdog reporting a timeout", n)
	}
	w.begin(nil)
	if w.end() {
		t.Fatal("the timeout of the previous call carried over")
	}
}
