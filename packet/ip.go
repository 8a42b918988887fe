package packet

import (
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers (IANA).
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoGRE    uint8 = 47
	ProtoICMPv6 uint8 = 58
)

// IPv4 header layout (RFC 791 section 3.1).
//
//	 0                   1                   2                   3
//	|Version|  IHL  |Type of Service|          Total Length         |
//	|         Identification        |Flags|      Fragment Offset    |
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	|                       Source Address                          |
//	|                    Destination Address                        |
const (
	ipv4VersIHL   = 0
	ipv4TOS       = 1
	ipv4TotalLen  = 2
	ipv4ID        = 4
	ipv4FragOff   = 6
	ipv4TTL       = 8
	ipv4Protocol  = 9
	ipv4Checksum  = 10
	ipv4SrcAddr   = 12
	ipv4DstAddr   = 16
	IPv4MinLen    = 20
	ipv4FlagDF    = 0x4000
	ipv4FlagMF    = 0x2000
	ipv4OffsetMsk = 0x1fff
)

// IPv4 is a view of an IPv4 header at the start of a packet.
type IPv4 []byte

// IsValid reports whether the header and its declared lengths fit in b.
func (b IPv4) IsValid() bool {
	if len(b) < IPv4MinLen || b[ipv4VersIHL]>>4 != 4 {
		return false
	}
	hl := b.HeaderLength()
	tl := int(b.TotalLength())
	return hl >= IPv4MinLen && hl <= tl && tl <= len(b)
}

func (b IPv4) HeaderLength() int      { return int(b[ipv4VersIHL]&0xf) * 4 }
func (b IPv4) TOS() uint8             { return b[ipv4TOS] }
func (b IPv4) TotalLength() uint16    { return binary.BigEndian.Uint16(b[ipv4TotalLen:]) }
func (b IPv4) ID() uint16             { return binary.BigEndian.Uint16(b[ipv4ID:]) }
func (b IPv4) TTL() uint8             { return b[ipv4TTL] }
func (b IPv4) Protocol() uint8        { return b[ipv4Protocol] }
func (b IPv4) HeaderChecksum() uint16 { return binary.BigEndian.Uint16(b[ipv4Checksum:]) }
func (b IPv4) Src() netip.Addr        { return netip.AddrFrom4([4]byte(b[ipv4SrcAddr : ipv4SrcAddr+4])) }
func (b IPv4) Dst() netip.Addr        { return netip.AddrFrom4([4]byte(b[ipv4DstAddr : ipv4DstAddr+4])) }

// IsFragment reports whether the packet is a fragment (MF set or non-zero offset).
func (b IPv4) IsFragment() bool {
	f := binary.BigEndian.Uint16(b[ipv4FragOff:])
	return f&ipv4FlagMF != 0 || f&ipv4OffsetMsk != 0
}

// ChecksumValid reports whether the header checksum verifies.
func (b IPv4) ChecksumValid() bool { return Checksum(b[:b.HeaderLength()], 0) == 0 }

// Payload returns the bytes after the header, up to the total length.
func (b IPv4) Payload() []byte { return b[b.HeaderLength():b.TotalLength()] }

// IPv6 header layout (RFC 8200 section 3).
//
//	|Version| Traffic Class |           Flow Label                  |
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	|                         Source Address (128)                  |
//	|                      Destination Address (128)                |
const (
	ipv6VersTCFlow = 0
	ipv6PayloadLen = 4
	ipv6NextHeader = 6
	ipv6HopLimit   = 7
	ipv6SrcAddr    = 8
	ipv6DstAddr    = 24
	IPv6HeaderLen  = 40
)

// IPv6 is a view of an IPv6 fixed header at the start of a packet.
type IPv6 []byte

// IsValid reports whether the fixed header and payload fit in b.
func (b IPv6) IsValid() bool {
	return len(b) >= IPv6HeaderLen && b[0]>>4 == 6 && IPv6HeaderLen+int(b.PayloadLength()) <= len(b)
}

func (b IPv6) TrafficClass() uint8 {
	return uint8(binary.BigEndian.Uint16(b[ipv6VersTCFlow:]) >> 4)
}
func (b IPv6) FlowLabel() uint32 {
	return binary.BigEndian.Uint32(b[ipv6VersTCFlow:]) & 0xfffff
}
func (b IPv6) PayloadLength() uint16 { return binary.BigEndian.Uint16(b[ipv6PayloadLen:]) }
func (b IPv6) NextHeader() uint8     { return b[ipv6NextHeader] }
func (b IPv6) HopLimit() uint8       { return b[ipv6HopLimit] }
func (b IPv6) Src() netip.Addr       { return netip.AddrFrom16([16]byte(b[ipv6SrcAddr : ipv6SrcAddr+16])) }
func (b IPv6) Dst() netip.Addr       { return netip.AddrFrom16([16]byte(b[ipv6DstAddr : ipv6DstAddr+16])) }
func (b IPv6) Payload() []byte       { return b[IPv6HeaderLen : IPv6HeaderLen+int(b.PayloadLength())] }

// IPFields are the IP-layer values used to build a packet.
type IPFields struct {
	Src, Dst  netip.Addr
	TOS       uint8 // IPv4 TOS or IPv6 traffic class, ECN bits included
	TTL       uint8 // hop limit for IPv6; 0 means 255
	FlowLabel uint32
	ID        uint16
}

func (f IPFields) ttl() uint8 {
	if f.TTL == 0 {
		return 255
	}
	return f.TTL
}

// AppendIP appends an IP header for a payload of payloadLen bytes of the
// given protocol to buf. The family follows Src; an IPv4 header gets its
// checksum filled in.
func AppendIP(buf []byte, f IPFields, proto uint8, payloadLen int) []byte {
	if f.Src.Unmap().Is4() {
		h := make([]byte, IPv4MinLen)
		h[ipv4VersIHL] = 0x45
		h[ipv4TOS] = f.TOS
		binary.BigEndian.PutUint16(h[ipv4TotalLen:], uint16(IPv4MinLen+payloadLen))
		binary.BigEndian.PutUint16(h[ipv4ID:], f.ID)
		h[ipv4TTL] = f.ttl()
		h[ipv4Protocol] = proto
		s, d := f.Src.Unmap().As4(), f.Dst.Unmap().As4()
		copy(h[ipv4SrcAddr:], s[:])
		copy(h[ipv4DstAddr:], d[:])
		binary.BigEndian.PutUint16(h[ipv4Checksum:], Checksum(h, 0))
		return append(buf, h...)
	}
	h := make([]byte, IPv6HeaderLen)
	binary.BigEndian.PutUint32(h[ipv6VersTCFlow:], 6<<28|uint32(f.TOS)<<20|f.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(h[ipv6PayloadLen:], uint16(payloadLen))
	h[ipv6NextHeader] = proto
	h[ipv6HopLimit] = f.ttl()
	s, d := f.Src.As16(), f.Dst.As16()
	copy(h[ipv6SrcAddr:], s[:])
	copy(h[ipv6DstAddr:], d[:])
	return append(buf, h...)
}
