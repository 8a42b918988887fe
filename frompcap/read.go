package frompcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Frame is one captured packet with its link header removed.
type Frame struct {
	Num       int       // 1-based position in the capture, as Wireshark numbers it
	Time      time.Time // capture timestamp
	IP        []byte    // the start of the IP packet: its headers, at most headerKeep bytes
	Truncated bool      // the capture kept fewer bytes than the packet had (snaplen)
}

// headerKeep is how much of each IP packet is kept: the largest IPv4
// header (60) or the IPv6 header (40) plus the largest TCP header (60).
// Scripts carry payload lengths, not bytes, so the rest is never needed,
// and a 100,000-packet capture stays small in memory.
const headerKeep = 120

// Link types that carry the IP packet with no link header. DLT_RAW is 12
// on most systems and 14 on OpenBSD; pcap files should say 101.
const (
	linkRawDLT12 layers.LinkType = 12
	linkRawDLT14 layers.LinkType = 14
)

// pcapng and pcap magic numbers: pcapng starts with a Section Header
// Block; pcap with one of four byte orders of 0xa1b2c3d4 (µs) or
// 0xa1b23c4d (ns).
var pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}

type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// ReadFrames reads a pcap or pcapng capture and returns its packets with
// the link header stripped. Packets of other kinds (ARP, a non-IP
// EtherType) are returned with a nil IP so that numbering stays that of
// the capture.
func ReadFrames(r io.Reader) ([]Frame, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("not a capture: %v", shortRead(err))
	}
	var src packetSource
	linkOf := func(gopacket.CaptureInfo) layers.LinkType { return 0 }
	if string(magic) == string(pcapngMagic) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("pcapng: %v", err)
		}
		src = ng
		linkOf = func(ci gopacket.CaptureInfo) layers.LinkType {
			if i, err := ng.Interface(ci.InterfaceIndex); err == nil {
				return i.LinkType
			}
			return ng.LinkType()
		}
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("not a pcap or pcapng capture: %v", err)
		}
		src = pr
		lt := pr.LinkType()
		linkOf = func(gopacket.CaptureInfo) layers.LinkType { return lt }
	}
	var frames []Frame
	for n := 1; ; n++ {
		data, ci, err := src.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(frames) == 0 {
				return nil, fmt.Errorf("packet %d: %v", n, shortRead(err))
			}
			// A capture cut short (tcpdump killed mid-write) keeps the
			// packets before the cut.
			return frames, &CutError{Num: n, Err: shortRead(err)}
		}
		ip, err := stripLink(linkOf(ci), data)
		if err != nil {
			return nil, fmt.Errorf("packet %d: %v", n, err)
		}
		if len(ip) > headerKeep {
			ip = ip[:headerKeep]
		}
		frames = append(frames, Frame{Num: n, Time: ci.Timestamp, IP: append([]byte(nil), ip...),
			Truncated: ci.CaptureLength < ci.Length})
	}
	return frames, nil
}

// CutError says the capture ends inside a packet; the packets before it
// were read.
type CutError struct {
	Num int
	Err error
}

func (e *CutError) Error() string {
	return fmt.Sprintf("packet %d: capture cut short: %v", e.Num, e.Err)
}

func shortRead(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("file ends too early")
	}
	return err
}

// errUnsupportedLink is wrapped with the link type's number and name.
var errUnsupportedLink = errors.New("unsupported link type")

// stripLink returns the IP packet inside a frame of the given link type,
// or nil for a frame that carries something else.
func stripLink(lt layers.LinkType, b []byte) ([]byte, error) {
	switch lt {
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, linkRawDLT12, linkRawDLT14:
		return ipOrNil(b), nil
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return nil, nil
		}
		etype, rest := binary.BigEndian.Uint16(b[12:]), b[14:]
		// 802.1Q and 802.1ad tags, possibly stacked.
		for (etype == 0x8100 || etype == 0x88a8) && len(rest) >= 4 {
			etype, rest = binary.BigEndian.Uint16(rest[2:]), rest[4:]
		}
		return ipByEtherType(etype, rest), nil
	case layers.LinkTypeLinuxSLL:
		// Packet type (2), ARPHRD (2), address length (2), address (8), protocol (2).
		if len(b) < 16 {
			return nil, nil
		}
		return ipByEtherType(binary.BigEndian.Uint16(b[14:]), b[16:]), nil
	case layers.LinkTypeLinuxSLL2:
		// Protocol (2), reserved (2), ifindex (4), ARPHRD (2), packet type (1),
		// address length (1), address (8).
		if len(b) < 20 {
			return nil, nil
		}
		return ipByEtherType(binary.BigEndian.Uint16(b), b[20:]), nil
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		// A 4-byte address family: host order for NULL, network order for
		// LOOP. AF_INET is 2 everywhere; AF_INET6 differs by system, so
		// the version nibble decides.
		if len(b) < 4 {
			return nil, nil
		}
		return ipOrNil(b[4:]), nil
	}
	return nil, fmt.Errorf("%w %d (%s): godrill reads raw IP, Ethernet, Linux SLL/SLL2 and loopback captures", errUnsupportedLink, int(lt), lt)
}

func ipByEtherType(etype uint16, b []byte) []byte {
	if etype == 0x0800 || etype == 0x86dd {
		return ipOrNil(b)
	}
	return nil
}

func ipOrNil(b []byte) []byte {
	if len(b) > 0 && (b[0]>>4 == 4 || b[0]>>4 == 6) {
		return b
	}
	return nil
}
