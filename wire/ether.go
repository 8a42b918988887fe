package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/runtime"
)

// Ether is the server's Ethernet device as the runtime sees it: it sends
// the scripted peer's packets to the client's MAC address and reads what
// the client's kernel sends, through one packet socket.
type Ether struct {
	fd        int
	ifindex   int
	clientMAC net.HardwareAddr
	serverMAC net.HardwareAddr
	clientIP  netip.Addr // only packets from the kernel under test are read
	buf, oob  []byte
}

// OpenEther opens a packet socket on the named device. Frames are sent
// from the device's own MAC address to clientMAC; only IP packets from
// clientIP are read back, as the reference's socket filter does.
func OpenEther(dev string, clientMAC net.HardwareAddr, clientIP netip.Addr) (*Ether, error) {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return nil, fmt.Errorf("wire server device: %w", err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("wire server device %s has no Ethernet address", dev)
	}
	// Protocol 0 queues nothing until bind names the device and ETH_P_ALL.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	e := &Ether{fd: fd, ifindex: ifi.Index, clientMAC: clientMAC, serverMAC: ifi.HardwareAddr,
		clientIP: clientIP.Unmap(), buf: make([]byte, 1<<17), oob: make([]byte, 256)}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		e.Close()
		return nil, fmt.Errorf("packet socket: SO_TIMESTAMPNS: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 2<<20); err != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 2<<20)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		e.Close()
		return nil, fmt.Errorf("packet socket: bind %s: %w", dev, err)
	}
	return e, nil
}

// Close closes the socket.
func (e *Ether) Close() error { return unix.Close(e.fd) }

// ServerMAC is the device's own address.
func (e *Ether) ServerMAC() net.HardwareAddr { return e.serverMAC }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Inject sends an IP packet to the client in an Ethernet frame.
func (e *Ether) Inject(pkt []byte) error {
	if len(pkt) == 0 {
		return errors.New("empty packet")
	}
	etype := uint16(unix.ETH_P_IP)
	if pkt[0]>>4 == 6 {
		etype = unix.ETH_P_IPV6
	}
	frame := make([]byte, 14, 14+len(pkt))
	copy(frame[0:6], e.clientMAC)
	copy(frame[6:12], e.serverMAC)
	binary.BigEndian.PutUint16(frame[12:], etype)
	frame = append(frame, pkt...)
	to := &unix.SockaddrLinklayer{Ifindex: e.ifindex, Protocol: htons(etype), Halen: 6}
	copy(to.Addr[:], e.clientMAC)
	return unix.Sendto(e.fd, frame, 0, to)
}

// Next returns the next IP packet the client's kernel sent (Outgoing, as
// the runtime calls what the kernel under test sends), or
// runtime.ErrTimeout at deadline.
func (e *Ether) Next(deadline time.Time) (runtime.Frame, error) {
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return runtime.Frame{}, runtime.ErrTimeout
		}
		ms := int(left / time.Millisecond)
		if ms == 0 {
			ms = 1
		}
		fds := []unix.PollFd{{Fd: int32(e.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) || n == 0 {
			continue
		}
		if err != nil {
			return runtime.Frame{}, err
		}
		nr, oobn, _, from, err := unix.Recvmsg(e.fd, e.buf, e.oob, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return runtime.Frame{}, err
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Pkttype == unix.PACKET_OUTGOING || nr < 14 {
			continue // our own injected frames, or junk
		}
		etype := binary.BigEndian.Uint16(e.buf[12:14])
		if etype != unix.ETH_P_IP && etype != unix.ETH_P_IPV6 {
			continue // ARP, neighbour discovery's link-layer side
		}
		ip := e.buf[14:nr]
		if src, ok := ipSource(ip); !ok || src != e.clientIP {
			continue
		}
		return runtime.Frame{
			Data:     append([]byte(nil), ip...),
			Time:     stamp(e.oob[:oobn]),
			Outgoing: true,
		}, nil
	}
}

// ipSource reads an IP packet's source address.
func ipSource(ip []byte) (netip.Addr, bool) {
	switch {
	case len(ip) >= 20 && ip[0]>>4 == 4:
		return netip.AddrFrom4([4]byte(ip[12:16])), true
	case len(ip) >= 40 && ip[0]>>4 == 6:
		return netip.AddrFrom16([16]byte(ip[8:24])).Unmap(), true
	}
	return netip.Addr{}, false
}

// stamp is the kernel's receive timestamp (SO_TIMESTAMPNS), or now.
func stamp(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
				ts := *(*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				return time.Unix(ts.Unix())
			}
		}
	}
	return time.Now()
}
