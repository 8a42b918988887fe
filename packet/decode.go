package packet

import (
	"errors"
	"fmt"
	"net/netip"
)

// Decoded is an IP packet split into its layers. Views alias the input.
type Decoded struct {
	Raw       []byte
	Version   int // 4 or 6
	Src, Dst  netip.Addr
	TOS       uint8 // IPv4 TOS or IPv6 traffic class
	TTL       uint8 // or hop limit
	FlowLabel uint32
	ID        uint16
	HeaderLen int // IP header length
	TotalLen  int // IP total length (header included)
	Proto     uint8
	IPv4      IPv4 // set for IPv4
	IPv6      IPv6 // set for IPv6
	Fragment  bool
	TCP       TCP    // set when Proto is TCP and the header is valid
	UDP       []byte // UDP header and payload when Proto is UDP
	L4        []byte // the transport bytes, whatever the protocol
}

// ErrTruncated is returned for packets shorter than their headers claim.
var ErrTruncated = errors.New("truncated packet")

// Decode parses an IPv4 or IPv6 packet carrying TCP, UDP or ICMP. IPv6
// extension headers are not walked: the transport must follow the fixed header.
func Decode(b []byte) (*Decoded, error) {
	if len(b) < 1 {
		return nil, ErrTruncated
	}
	d := &Decoded{Raw: b}
	switch b[0] >> 4 {
	case 4:
		h := IPv4(b)
		if !h.IsValid() {
			return nil, fmt.Errorf("bad IPv4 header: %w", ErrTruncated)
		}
		d.Version, d.IPv4 = 4, h
		d.Src, d.Dst = h.Src(), h.Dst()
		d.TOS, d.TTL, d.ID = h.TOS(), h.TTL(), h.ID()
		d.HeaderLen, d.TotalLen = h.HeaderLength(), int(h.TotalLength())
		d.Proto, d.Fragment = h.Protocol(), h.IsFragment()
		d.L4 = h.Payload()
	case 6:
		h := IPv6(b)
		if !h.IsValid() {
			return nil, fmt.Errorf("bad IPv6 header: %w", ErrTruncated)
		}
		d.Version, d.IPv6 = 6, h
		d.Src, d.Dst = h.Src(), h.Dst()
		d.TOS, d.TTL, d.FlowLabel = h.TrafficClass(), h.HopLimit(), h.FlowLabel()
		d.HeaderLen, d.TotalLen = IPv6HeaderLen, IPv6HeaderLen+int(h.PayloadLength())
		d.Proto = h.NextHeader()
		d.L4 = h.Payload()
	default:
		return nil, fmt.Errorf("unknown IP version %d", b[0]>>4)
	}
	if d.Fragment {
		return d, nil
	}
	switch d.Proto {
	case ProtoTCP:
		t := TCP(d.L4)
		if !t.IsValid() {
			return nil, fmt.Errorf("bad TCP header: %w", ErrTruncated)
		}
		d.TCP = t
	case ProtoUDP:
		if len(d.L4) < 8 {
			return nil, fmt.Errorf("bad UDP header: %w", ErrTruncated)
		}
		d.UDP = d.L4
	}
	return d, nil
}
