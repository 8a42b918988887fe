package tun

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// A minimal TCP/IP packet builder and parser for these tests only; the
// real one lives in package packet.

const (
	tcpFIN = 1 << 0
	tcpSYN = 1 << 1
	tcpRST = 1 << 2
	tcpPSH = 1 << 3
	tcpACK = 1 << 4
)

type segment struct {
	src, dst     netip.AddrPort
	seq, ack     uint32
	flags        uint8
	window       uint16
	options      []byte // padded to 4 bytes by the caller
	payload      []byte
	dataOffWords int // set by parse
}

// checksum folds the one's complement sum of b into sum (RFC 1071).
func checksum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// marshal returns the segment as an IP packet with valid checksums, TTL
// 255, IP ID 0 and no DF, as packetdrill injects them.
func (s segment) marshal() []byte {
	tcp := make([]byte, 20+len(s.options)+len(s.payload))
	binary.BigEndian.PutUint16(tcp[0:], s.src.Port())
	binary.BigEndian.PutUint16(tcp[2:], s.dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], s.seq)
	binary.BigEndian.PutUint32(tcp[8:], s.ack)
	tcp[12] = byte((20+len(s.options))/4) << 4
	tcp[13] = s.flags
	binary.BigEndian.PutUint16(tcp[14:], s.window)
	copy(tcp[20:], s.options)
	copy(tcp[20+len(s.options):], s.payload)

	src, dst := s.src.Addr().AsSlice(), s.dst.Addr().AsSlice()
	// Pseudo-header (RFC 793 section 3.1, RFC 8200 section 8.1).
	sum := checksum(0, src)
	sum = checksum(sum, dst)
	sum += 6 + uint32(len(tcp))
	sum = checksum(sum, tcp)
	binary.BigEndian.PutUint16(tcp[16:], fold(sum))

	var ip []byte
	if s.src.Addr().Is4() {
		ip = make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		ip[8] = 255 // TTL
		ip[9] = 6   // TCP
		copy(ip[12:], src)
		copy(ip[16:], dst)
		binary.BigEndian.PutUint16(ip[10:], fold(checksum(0, ip)))
	} else {
		ip = make([]byte, 40)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(len(tcp)))
		ip[6] = 6   // next header: TCP
		ip[7] = 255 // hop limit
		copy(ip[8:], src)
		copy(ip[24:], dst)
	}
	return append(ip, tcp...)
}

// parseSegment parses an IP packet carrying TCP (no IPv6 extension
// headers).
func parseSegment(b []byte) (segment, error) {
	var s segment
	if len(b) < 1 {
		return s, fmt.Errorf("empty packet")
	}
	var src, dst netip.Addr
	var tcp []byte
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0xf) * 4
		if len(b) < ihl+20 || b[9] != 6 {
			return s, fmt.Errorf("not IPv4/TCP")
		}
		src, _ = netip.AddrFromSlice(b[12:16])
		dst, _ = netip.AddrFromSlice(b[16:20])
		tcp = b[ihl:]
	case 6:
		if len(b) < 60 || b[6] != 6 {
			return s, fmt.Errorf("not IPv6/TCP (next header %d)", b[6])
		}
		src, _ = netip.AddrFromSlice(b[8:24])
		dst, _ = netip.AddrFromSlice(b[24:40])
		tcp = b[40:]
	default:
		return s, fmt.Errorf("IP version %d", b[0]>>4)
	}
	s.src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(tcp[0:]))
	s.dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(tcp[2:]))
	s.seq = binary.BigEndian.Uint32(tcp[4:])
	s.ack = binary.BigEndian.Uint32(tcp[8:])
	s.dataOffWords = int(tcp[12] >> 4)
	s.flags = tcp[13]
	s.window = binary.BigEndian.Uint16(tcp[14:])
	if off := s.dataOffWords * 4; off >= 20 && off <= len(tcp) {
		s.options = tcp[20:off]
		s.payload = tcp[off:]
	}
	return s, nil
}

func (s segment) String() string {
	f := ""
	for i, c := range "FSRPA" {
		if s.flags&(1<<i) != 0 {
			f += string(c)
		}
	}
	return fmt.Sprintf("%v > %v %s seq %d ack %d win %d len %d", s.src, s.dst, f, s.seq, s.ack, s.window, len(s.payload))
}
