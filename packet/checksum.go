package packet

import (
	"encoding/binary"
	"net/netip"
)

// Checksum folds the one's-complement sum (RFC 1071) of b onto initial and
// returns the complemented 16-bit result, ready to store in a header.
func Checksum(b []byte, initial uint32) uint16 {
	return ^fold(sum(b, initial))
}

func sum(b []byte, acc uint32) uint32 {
	for len(b) >= 2 {
		acc += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

func fold(acc uint32) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}

// PseudoHeaderSum is the unfolded sum of the IPv4 (RFC 793 section 3.1) or
// IPv6 (RFC 8200 section 8.1) pseudo-header for an upper-layer checksum.
func PseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var acc uint32
	s, d := src.AsSlice(), dst.AsSlice()
	acc = sum(s, acc)
	acc = sum(d, acc)
	acc += uint32(proto)
	acc += uint32(length)>>16 + uint32(length)&0xffff
	return acc
}

// TransportChecksum computes the TCP/UDP/ICMPv6 checksum of segment (whose
// checksum field must be zero) for the given addresses.
func TransportChecksum(src, dst netip.Addr, proto uint8, segment []byte) uint16 {
	return Checksum(segment, PseudoHeaderSum(src, dst, proto, len(segment)))
}
