package packet

import "encoding/binary"

// UDP header (RFC 768):
//
//	 0      7 8     15 16    23 24    31
//	+--------+--------+--------+--------+
//	|     Source      |   Destination   |
//	|      Port       |      Port       |
//	+--------+--------+--------+--------+
//	|     Length      |    Checksum     |
//	+--------+--------+--------+--------+
const (
	udpSrcPort  = 0
	udpDstPort  = 2
	udpLength   = 4
	udpChecksum = 6
	// UDPLen is the length of the UDP header.
	UDPLen = 8
)

// UDP is a view of a UDP header followed by its payload.
type UDP []byte

// IsValid reports whether b holds a whole UDP header.
func (b UDP) IsValid() bool { return len(b) >= UDPLen }

func (b UDP) SourcePort() uint16      { return binary.BigEndian.Uint16(b[udpSrcPort:]) }
func (b UDP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[udpDstPort:]) }
func (b UDP) Length() uint16          { return binary.BigEndian.Uint16(b[udpLength:]) }
func (b UDP) Checksum() uint16        { return binary.BigEndian.Uint16(b[udpChecksum:]) }
func (b UDP) Payload() []byte         { return b[UDPLen:] }

// UDPFields are the values used to build a UDP datagram.
type UDPFields struct {
	SrcPort, DstPort uint16
}

// AppendUDP appends a UDP header and payload to buf with a zero checksum.
func AppendUDP(buf []byte, f UDPFields, payload []byte) []byte {
	h := make([]byte, UDPLen)
	binary.BigEndian.PutUint16(h[udpSrcPort:], f.SrcPort)
	binary.BigEndian.PutUint16(h[udpDstPort:], f.DstPort)
	binary.BigEndian.PutUint16(h[udpLength:], uint16(UDPLen+len(payload)))
	return append(append(buf, h...), payload...)
}

// BuildUDP returns a complete IP packet carrying a UDP datagram, with its
// checksum filled in (0 is sent as 0xffff, RFC 768).
func BuildUDP(ip IPFields, u UDPFields, payload []byte) []byte {
	pkt := AppendIP(nil, ip, ProtoUDP, UDPLen+len(payload))
	hl := len(pkt)
	pkt = AppendUDP(pkt, u, payload)
	seg := pkt[hl:]
	c := TransportChecksum(ip.Src.Unmap(), ip.Dst.Unmap(), ProtoUDP, seg)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(seg[udpChecksum:], c)
	return pkt
}
