package wire

import (
	"errors"
	"fmt"
	"io"
	"net"

	"golang.org/x/sys/unix"
)

// FDConn is a control connection read and written with blocking system
// calls on the calling thread. The runtime's event loop runs on a locked
// thread at real-time priority; a read through Go's network poller would
// wait for the poller's thread, an ordinary one, to be scheduled, tens of
// milliseconds on a loaded machine, and every batch of packet events
// waits for such a read.
type FDConn struct{ fd int }

// NewFDConn takes over a TCP connection's socket (the connection itself
// may be closed afterwards; Close closes this one).
func NewFDConn(c net.Conn) (*FDConn, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil, fmt.Errorf("control connection is a %T, not TCP", c)
	}
	f, err := tc.File() // a duplicate of the socket
	if err != nil {
		return nil, err
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, err
	}
	unix.CloseOnExec(fd)
	return &FDConn{fd: fd}, nil
}

func (c *FDConn) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(c.fd, p)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (c *FDConn) Write(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		n, err := unix.Write(c.fd, p[total:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Shutdown ends the connection in both directions, so that a read blocked
// in another goroutine returns.
func (c *FDConn) Shutdown() error { return unix.Shutdown(c.fd, unix.SHUT_RDWR) }

// Close closes the socket.
func (c *FDConn) Close() error { return unix.Close(c.fd) }
