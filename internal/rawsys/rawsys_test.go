package rawsys

import (
	"bytes"
	goruntime "runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Each call is checked with one P and with two, the two ways it is made.
func bothWays(t *testing.T, f func(t *testing.T)) {
	for _, procs := range []int{1, 2} {
		prev := goruntime.GOMAXPROCS(procs)
		t.Run(map[int]string{1: "ordinary", 2: "raw"}[procs], f)
		goruntime.GOMAXPROCS(prev)
	}
}

func TestWritevRecvmsgRead(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[0])
		defer unix.Close(fds[1])
		if n, err := Writev(fds[0], []byte("head"), nil, []byte("-tail")); err != nil || n != 9 {
			t.Fatalf("Writev = %d, %v; want 9, nil", n, err)
		}
		buf, oob := make([]byte, 64), make([]byte, 64)
		var from unix.RawSockaddrAny
		n, _, _, err := Recvmsg(fds[1], buf, oob, &from, unix.MSG_DONTWAIT)
		if err != nil || !bytes.Equal(buf[:n], []byte("head-tail")) {
			t.Fatalf("Recvmsg = %q, %v; want \"head-tail\"", buf[:n], err)
		}
		if _, _, _, err := Recvmsg(fds[1], buf, oob, &from, unix.MSG_DONTWAIT); err != unix.EAGAIN {
			t.Fatalf("Recvmsg of an empty socket: %v, want EAGAIN", err)
		}
		Writev(fds[0], []byte("x"))
		if n, err := Read(fds[1], buf); err != nil || string(buf[:n]) != "x" {
			t.Fatalf("Read = %q, %v; want \"x\"", buf[:n], err)
		}
	})
}

func TestPollInAndSleep(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		// Readable at once: PollIn returns without waiting for its
		// timeout (an hour), so this test ends.
		unix.Write(p[1], []byte("x"))
		PollIn(p[0], time.Hour)
		// Not readable: it returns after its timeout (or an interruption);
		// either way it returns.
		var buf [1]byte
		unix.Read(p[0], buf[:])
		PollIn(p[0], time.Millisecond)
		Sleep(time.Millisecond)
	})
}
