package packet

import (
	"encoding/binary"
	"strings"
)

// TCP header layout (RFC 9293 section 3.1).
//
//	|          Source Port          |       Destination Port        |
//	|                        Sequence Number                        |
//	|                    Acknowledgment Number                      |
//	|  Data |       |A|C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |E|W|C|R|C|S|S|Y|I|            Window             |
//	|           Checksum            |         Urgent Pointer        |
const (
	tcpSrcPort   = 0
	tcpDstPort   = 2
	tcpSeq       = 4
	tcpAck       = 8
	tcpDataOff   = 12
	tcpFlags     = 13
	tcpWindow    = 14
	tcpChecksum  = 16
	tcpUrgent    = 18
	TCPMinLen    = 20
	TCPMaxOptLen = 40
)

// TCPFlags are the nine flag bits of a TCP header. AE is the AccECN bit
// (RFC 9768), the former NS bit, the lowest bit of byte 12.
type TCPFlags uint16

const (
	FIN TCPFlags = 1 << 0
	SYN TCPFlags = 1 << 1
	RST TCPFlags = 1 << 2
	PSH TCPFlags = 1 << 3
	ACK TCPFlags = 1 << 4
	URG TCPFlags = 1 << 5
	ECE TCPFlags = 1 << 6
	CWR TCPFlags = 1 << 7
	AE  TCPFlags = 1 << 8
)

// String writes flags as packetdrill prints them, in tcpdump's order:
// F S R P . U E W A ("S.", "F.", "P."), and "-" for none.
func (f TCPFlags) String() string {
	var b strings.Builder
	for _, c := range []struct {
		bit TCPFlags
		ch  byte
	}{{FIN, 'F'}, {SYN, 'S'}, {RST, 'R'}, {PSH, 'P'}, {ACK, '.'}, {URG, 'U'}, {ECE, 'E'}, {CWR, 'W'}, {AE, 'A'}} {
		if f&c.bit != 0 {
			b.WriteByte(c.ch)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// TCP is a view of a TCP header and its payload.
type TCP []byte

// IsValid reports whether the fixed header and the declared options fit.
func (b TCP) IsValid() bool {
	return len(b) >= TCPMinLen && b.DataOffset() >= TCPMinLen && b.DataOffset() <= len(b)
}

func (b TCP) SourcePort() uint16         { return binary.BigEndian.Uint16(b[tcpSrcPort:]) }
func (b TCP) DestinationPort() uint16    { return binary.BigEndian.Uint16(b[tcpDstPort:]) }
func (b TCP) SequenceNumber() uint32     { return binary.BigEndian.Uint32(b[tcpSeq:]) }
func (b TCP) AckNumber() uint32          { return binary.BigEndian.Uint32(b[tcpAck:]) }
func (b TCP) DataOffset() int            { return int(b[tcpDataOff]>>4) * 4 }
func (b TCP) Flags() TCPFlags            { return TCPFlags(b[tcpFlags]) | TCPFlags(b[tcpDataOff]&1)<<8 }
func (b TCP) Reserved() uint8            { return b[tcpDataOff] >> 1 & 0x7 }
func (b TCP) WindowSize() uint16         { return binary.BigEndian.Uint16(b[tcpWindow:]) }
func (b TCP) Checksum() uint16           { return binary.BigEndian.Uint16(b[tcpChecksum:]) }
func (b TCP) UrgentPointer() uint16      { return binary.BigEndian.Uint16(b[tcpUrgent:]) }
func (b TCP) Options() []byte            { return b[TCPMinLen:b.DataOffset()] }
func (b TCP) Payload() []byte            { return b[b.DataOffset():] }
func (b TCP) SetSequenceNumber(v uint32) { binary.BigEndian.PutUint32(b[tcpSeq:], v) }
func (b TCP) SetAckNumber(v uint32)      { binary.BigEndian.PutUint32(b[tcpAck:], v) }
func (b TCP) SetChecksum(v uint16)       { binary.BigEndian.PutUint16(b[tcpChecksum:], v) }

// TCPFields are the values used to build a TCP segment.
type TCPFields struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            TCPFlags
	Reserved         uint8 // the three reserved bits, normally zero
	Window           uint16
	Urgent           uint16
	Options          []byte // encoded options, a multiple of 4 bytes long
}

// AppendTCP appends a TCP header with options and payload to buf, with a zero
// checksum; see BuildTCP for a complete packet.
func AppendTCP(buf []byte, f TCPFields, payload []byte) []byte {
	h := make([]byte, TCPMinLen+len(f.Options))
	binary.BigEndian.PutUint16(h[tcpSrcPort:], f.SrcPort)
	binary.BigEndian.PutUint16(h[tcpDstPort:], f.DstPort)
	binary.BigEndian.PutUint32(h[tcpSeq:], f.Seq)
	binary.BigEndian.PutUint32(h[tcpAck:], f.Ack)
	h[tcpDataOff] = byte(len(h)/4)<<4 | (f.Reserved&7)<<1 | byte(f.Flags>>8&1)
	h[tcpFlags] = byte(f.Flags)
	binary.BigEndian.PutUint16(h[tcpWindow:], f.Window)
	binary.BigEndian.PutUint16(h[tcpUrgent:], f.Urgent)
	copy(h[TCPMinLen:], f.Options)
	buf = append(buf, h...)
	return append(buf, payload...)
}

// BuildTCP returns a complete IP packet carrying a TCP segment, with the IP
// header checksum (IPv4) and the TCP checksum filled in.
func BuildTCP(ip IPFields, tcp TCPFields, payload []byte) []byte {
	segLen := TCPMinLen + len(tcp.Options) + len(payload)
	pkt := AppendIP(nil, ip, ProtoTCP, segLen)
	hl := len(pkt)
	pkt = AppendTCP(pkt, tcp, payload)
	seg := TCP(pkt[hl:])
	seg.SetChecksum(TransportChecksum(ip.Src.Unmap(), ip.Dst.Unmap(), ProtoTCP, seg))
	return pkt
}
