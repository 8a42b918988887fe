package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ICMP header (RFC 792, RFC 4443): type, code, checksum, then four bytes
// whose meaning depends on the type (the next-hop MTU of a "fragmentation
// needed" in the low half for ICMPv4 (RFC 1191), the MTU of a "packet too
// big" for ICMPv6), then for error messages the start of the packet that
// caused the error.
const (
	icmpType     = 0
	icmpCode     = 1
	icmpChecksum = 2
	icmpRest     = 4
	// ICMPLen is the fixed part of an ICMP or ICMPv6 header.
	ICMPLen = 8
	// ICMPQuoteL4Len is how much of the quoted transport header an ICMP
	// error carries here (the ports and, for TCP, the sequence number).
	ICMPQuoteL4Len = 8
)

// ICMPv4 and ICMPv6 types and codes used by scripts.
const (
	ICMPv4EchoReply    = 0
	ICMPv4Unreachable  = 3
	ICMPv4FragNeeded   = 4 // code of ICMPv4Unreachable
	ICMPv4EchoRequest  = 8
	ICMPv4TimeExceeded = 11
	ICMPv6Unreachable  = 1
	ICMPv6PacketTooBig = 2
	ICMPv6TimeExceeded = 3
	ICMPv6ParamProblem = 4
	ICMPv6EchoRequest  = 128
	ICMPv6EchoReply    = 129
	ICMPv4PortUnreach  = 3
	ICMPv6PortUnreach  = 4

	icmpTypePrefix       = "type_"
	icmpCodePrefix       = "code_"
	icmpv4FragMTUOffset  = 6
	icmpv6PacketTooBigMT = 4
)

// ICMP is a view of an ICMP or ICMPv6 message.
type ICMP []byte

// IsValid reports whether b holds the fixed header.
func (b ICMP) IsValid() bool { return len(b) >= ICMPLen }

func (b ICMP) Type() uint8      { return b[icmpType] }
func (b ICMP) Code() uint8      { return b[icmpCode] }
func (b ICMP) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpChecksum:]) }

// Rest is the type-specific second word.
func (b ICMP) Rest() uint32 { return binary.BigEndian.Uint32(b[icmpRest:]) }

// Quoted is what follows the fixed header: for an error, the start of the
// packet that caused it.
func (b ICMP) Quoted() []byte { return b[ICMPLen:] }

// ICMPFields are the values used to build an ICMP message.
type ICMPFields struct {
	Type, Code uint8
	// MTU goes into the type-specific word of an ICMPv4 "fragmentation
	// needed" (16 bits) or an ICMPv6 "packet too big" (32 bits); -1: none.
	MTU int64
	// EchoID is the identifier of an echo request or reply; 0: none.
	EchoID uint16
}

// ICMPTypeCode resolves the script's ICMP type and code names (or the
// "type_N" / "code_N" notation, or plain numbers) for the given family.
// A missing code means 0.
func ICMPTypeCode(v6 bool, typ, code string) (uint8, uint8, error) {
	types, codes := icmpv4Types, icmpv4Codes
	if v6 {
		types, codes = icmpv6Types, icmpv6Codes
	}
	t, ok := types[typ]
	if !ok {
		n, err := icmpNumber(typ, icmpTypePrefix)
		if err != nil {
			return 0, 0, fmt.Errorf("bad ICMP type %s", typ)
		}
		t = n
	}
	if code == "" {
		return t, 0, nil
	}
	if c, ok := codes[t][code]; ok {
		return t, c, nil
	}
	n, err := icmpNumber(code, icmpCodePrefix)
	if err != nil {
		return 0, 0, fmt.Errorf("bad ICMP code %s", code)
	}
	return t, n, nil
}

func icmpNumber(s, prefix string) (uint8, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, prefix), 0, 8)
	return uint8(n), err
}

var (
	icmpv4Types = map[string]uint8{
		"echo_reply": 0, "unreachable": 3, "source_quench": 4, "redirect": 5, "echo_request": 8,
		"time_exceeded": 11, "parameter_problem": 12, "timestamp_request": 13, "timestamp_reply": 14,
		"information_request": 15, "information_reply": 16, "address_mask_request": 17,
		"address_mask_reply": 18,
	}
	icmpv4Codes = map[uint8]map[string]uint8{
		ICMPv4Unreachable: {
			"net_unreachable": 0, "host_unreachable": 1, "protocol_unreachable": 2,
			"port_unreachable": 3, "frag_needed": 4, "source_route_failed": 5, "net_unknown": 6,
			"host_unknown": 7, "source_host_isolated": 8, "net_prohibited": 9, "host_prohibited": 10,
			"net_unreachable_for_tos": 11, "host_unreachable_for_tos": 12, "packet_filtered": 13,
			"precedence_violation": 14, "precedence_cutoff": 15,
		},
	}
	icmpv6Types = map[string]uint8{
		"unreachable": 1, "packet_too_big": 2, "time_exceeded": 3, "parameter_problem": 4,
		"echo_request": 128, "echo_reply": 129,
	}
	icmpv6Codes = map[uint8]map[string]uint8{
		ICMPv6Unreachable: {
			"net_unreachable": 0, "no_route": 0, "admin_prohibited": 1, "not_neighbour": 2,
			"address_unreachable": 3, "port_unreachable": 4,
		},
		ICMPv6TimeExceeded: {"exceeded_hop_limit": 0, "exceeded_frag_time": 1},
		ICMPv6ParamProblem: {"header_field": 0, "unknown_next_header": 1, "unknown_option": 2},
	}
)

// AppendICMP appends an ICMP message (header, then body) to buf with a
// zero checksum. It checks that an MTU is only given where it has a field.
func AppendICMP(buf []byte, v6 bool, f ICMPFields, body []byte) ([]byte, error) {
	h := make([]byte, ICMPLen)
	h[icmpType], h[icmpCode] = f.Type, f.Code
	if f.MTU >= 0 {
		switch {
		case !v6 && f.Type == ICMPv4Unreachable && f.Code == ICMPv4FragNeeded:
			if f.MTU > 0xffff {
				return nil, fmt.Errorf("ICMPv4 MTU out of 16-bit range")
			}
			binary.BigEndian.PutUint16(h[icmpv4FragMTUOffset:], uint16(f.MTU))
		case v6 && f.Type == ICMPv6PacketTooBig && f.Code == 0:
			if f.MTU > 0xffffffff {
				return nil, fmt.Errorf("ICMPv6 MTU out of 32-bit range")
			}
			binary.BigEndian.PutUint32(h[icmpv6PacketTooBigMT:], uint32(f.MTU))
		case v6:
			return nil, fmt.Errorf("ICMPv6 MTU is only valid for packet_too_big-0")
		default:
			return nil, fmt.Errorf("ICMPv4 MTU is only valid for unreachable-frag_needed")
		}
	}
	if f.EchoID != 0 {
		binary.BigEndian.PutUint16(h[icmpRest:], f.EchoID)
	}
	return append(append(buf, h...), body...), nil
}

// BuildICMP returns a complete IP packet carrying an ICMP (IPv4) or
// ICMPv6 (IPv6, checksum over the pseudo-header, RFC 4443 2.3) message.
func BuildICMP(ip IPFields, f ICMPFields, body []byte) ([]byte, error) {
	v6 := !ip.Src.Unmap().Is4()
	proto := ProtoICMP
	if v6 {
		proto = ProtoICMPv6
	}
	pkt := AppendIP(nil, ip, proto, ICMPLen+len(body))
	hl := len(pkt)
	pkt, err := AppendICMP(pkt, v6, f, body)
	if err != nil {
		return nil, err
	}
	msg := pkt[hl:]
	var c uint16
	if v6 {
		c = TransportChecksum(ip.Src, ip.Dst, ProtoICMPv6, msg)
	} else {
		c = Checksum(msg, 0)
	}
	binary.BigEndian.PutUint16(msg[icmpChecksum:], c)
	return pkt, nil
}

// Quote builds what an ICMP error carries: the IP header of the packet that
// caused it (from src to dst, of the given protocol and total transport
// length) and the first eight bytes of its transport header.
func Quote(src, dst netip.Addr, proto uint8, l4Len int, l4 [ICMPQuoteL4Len]byte) []byte {
	h := AppendIP(nil, IPFields{Src: src, Dst: dst, TTL: 0}, proto, l4Len)
	// AppendIP writes TTL 0 as 255; a quoted header keeps the zero the
	// reference writes.
	if src.Unmap().Is4() {
		h[ipv4TTL] = 0
		binary.BigEndian.PutUint16(h[ipv4Checksum:], 0)
		binary.BigEndian.PutUint16(h[ipv4Checksum:], Checksum(h, 0))
	} else {
		h[ipv6HopLimit] = 0
	}
	return append(h, l4[:]...)
}

// QuotedPacket decodes the IP header and transport start an ICMP error
// quotes: addresses, protocol and the first eight transport bytes.
type QuotedPacket struct {
	Src, Dst netip.Addr
	Proto    uint8
	L4       []byte
}

// DecodeQuote reads the quoted packet of an ICMP error.
func DecodeQuote(b []byte) (QuotedPacket, error) {
	if len(b) < 1 {
		return QuotedPacket{}, ErrTruncated
	}
	switch b[0] >> 4 {
	case 4:
		h := IPv4(b)
		if len(b) < IPv4MinLen || len(b) < h.HeaderLength() {
			return QuotedPacket{}, ErrTruncated
		}
		return QuotedPacket{Src: h.Src(), Dst: h.Dst(), Proto: h.Protocol(), L4: b[h.HeaderLength():]}, nil
	case 6:
		h := IPv6(b)
		if len(b) < IPv6HeaderLen {
			return QuotedPacket{}, ErrTruncated
		}
		return QuotedPacket{Src: h.Src(), Dst: h.Dst(), Proto: h.NextHeader(), L4: b[IPv6HeaderLen:]}, nil
	}
	return QuotedPacket{}, fmt.Errorf("unknown quoted IP version %d", b[0]>>4)
}
