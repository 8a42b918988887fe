package tun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/internal/rawsys"
)

// ErrTimeout is returned by Sniffer.Next when its deadline passes.
var ErrTimeout = errors.New("timed out waiting for packet")

// sniffRcvBuf is the sniffer's receive buffer, packetdrill's size: enough
// for bursts the script has not read yet.
const sniffRcvBuf = 2 << 20

// Frame is one packet seen on the device.
type Frame struct {
	// Data is the IP packet. Outgoing TSO packets are whole (longer than
	// the MTU), as the kernel handed them to the device.
	Data []byte
	// Time is when the kernel saw the packet (CLOCK_REALTIME).
	Time time.Time
	// Outgoing is true for packets the kernel sent, false for packets
	// written into the device (and any other arriving packet).
	Outgoing bool
	// PartialChecksum is true when the kernel left the TCP/UDP checksum to
	// the device (checksum offload): the checksum field then holds only the
	// pseudo-header sum and must not be checked.
	PartialChecksum bool
}

// Sniffer reads the packets crossing the device from a packet socket, with
// kernel timestamps. Its methods may be called from different goroutines;
// Close interrupts a blocked Next.
type Sniffer struct {
	index  int
	fd     int // the packet socket (non-blocking), also held by file
	file   *os.File
	closed atomic.Bool
	buf    []byte
	oob    []byte
}

// Sniff opens a sniffer on the device. It sees only packets that cross the
// device after Sniff returns, so open it before traffic starts.
func (d *Device) Sniff() (*Sniffer, error) {
	s, err := openSniffer(d.index)
	if err != nil {
		return nil, fmt.Errorf("tun: sniff %s: %w", d.cfg.Name, err)
	}
	return s, nil
}

func openSniffer(index int) (*Sniffer, error) {
	// Protocol 0 queues nothing until bind, which names both the device and
	// ETH_P_ALL: no packet from another device can slip in between.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	opts := []struct {
		what         string
		level, name  int
		value        int
		fallbackName int
	}{
		{"SO_TIMESTAMPNS", unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1, 0},
		{"PACKET_AUXDATA", unix.SOL_PACKET, unix.PACKET_AUXDATA, 1, 0},
		{"SO_RCVBUFFORCE", unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sniffRcvBuf, unix.SO_RCVBUF},
	}
	for _, o := range opts {
		err := unix.SetsockoptInt(fd, o.level, o.name, o.value)
		if err != nil && o.fallbackName != 0 {
			err = unix.SetsockoptInt(fd, o.level, o.fallbackName, o.value)
		}
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("%s: %w", o.what, err)
		}
	}
	sll := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}
	if err := unix.Bind(fd, sll); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind packet socket: %w", err)
	}
	s := &Sniffer{
		index: index,
		fd:    fd,
		file:  os.NewFile(uintptr(fd), "packet socket"),
		buf:   make([]byte, maxFrame),
		oob:   make([]byte, 256),
	}
	return s, nil
}

// timestampSocket returns a packet socket that receives nothing but asks
// for timestamps, which turns on kernel packet timestamping.
func timestampSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Next returns the next packet on the device, waiting until deadline (the
// zero time: forever). It returns ErrTimeout at the deadline and an error
// matching os.ErrClosed once the sniffer is closed.
//
// It waits in ppoll(2) on the calling thread, not in Go's network poller:
// a goroutine the poller wakes runs 0.1-0.5 ms after the packet came, and
// the next event's relative time would count from then. With more than
// one P the wait is a raw system call that keeps this thread's P, so the
// runtime locked thread goes on at once (package rawsys).
func (s *Sniffer) Next(deadline time.Time) (Frame, error) {
	for {
		if s.closed.Load() {
			return Frame{}, fmt.Errorf("tun: sniff: %w", os.ErrClosed)
		}
		var from unix.RawSockaddrAny
		n, oobn, flags, err := rawsys.Recvmsg(s.fd, s.buf, s.oob, &from, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN:
			wait := pollSlice
			if !deadline.IsZero() {
				left := time.Until(deadline)
				if left <= 0 {
					return Frame{}, ErrTimeout
				}
				wait = min(wait, left)
			}
			rawsys.PollIn(s.fd, wait)
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			return Frame{}, fmt.Errorf("tun: sniff: %w", err)
		}
		sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&from))
		if from.Addr.Family != unix.AF_PACKET || int(sll.Ifindex) != s.index {
			continue
		}
		if flags&unix.MSG_TRUNC != 0 {
			return Frame{}, fmt.Errorf("tun: sniff: packet longer than %d bytes", len(s.buf))
		}
		f := Frame{
			Data:     append([]byte(nil), s.buf[:n]...),
			Outgoing: sll.Pkttype == unix.PACKET_OUTGOING,
		}
		if err := parseControl(s.oob[:oobn], &f); err != nil {
			return Frame{}, fmt.Errorf("tun: sniff: %w", err)
		}
		return f, nil
	}
}

// parseControl fills in the frame's timestamp and checksum state from the
// control messages of recvmsg.
func parseControl(oob []byte, f *Frame) error {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS &&
			len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})):
			var ts unix.Timespec
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)), m.Data)
			f.Time = time.Unix(ts.Unix())
		case m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA &&
			len(m.Data) >= 4:
			// struct tpacket_auxdata starts with tp_status.
			status := binary.NativeEndian.Uint32(m.Data[0:])
			f.PartialChecksum = status&unix.TP_STATUS_CSUMNOTREADY != 0
		}
	}
	if f.Time.IsZero() {
		return errors.New("packet without a kernel timestamp")
	}
	return nil
}

// Close closes the sniffer, ending any Next in progress.
func (s *Sniffer) Close() error {
	s.closed.Store(true)
	return s.file.Close()
}

// pollSlice bounds one wait, so that Close ends a blocked Next soon.
const pollSlice = 50 * time.Millisecond
