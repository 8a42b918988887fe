package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// EtherType values carried in a GRE header's protocol field.
const (
	EtherTypeIPv4 uint16 = 0x0800
	EtherTypeIPv6 uint16 = 0x86dd
	EtherTypeMPLS uint16 = 0x8847
	// ProtoMPLSInIP is the IP protocol number of MPLS-in-IP (RFC 4023).
	ProtoMPLSInIP uint8 = 137
	ProtoIPIP     uint8 = 4
	ProtoIPv6     uint8 = 41
)

// GRE flag bits (RFC 2784, RFC 2890).
const (
	GREChecksumPresent uint16 = 0x8000
	GREKeyPresent      uint16 = 0x2000
	GRESeqPresent      uint16 = 0x1000
)

// GREFields are the values of a GRE header. The optional words are
// present when their flag bit is set.
type GREFields struct {
	Flags    uint16 // flags and version, as the first 16 bits
	Proto    uint16 // EtherType of the payload
	Sum, Off uint16
	Key, Seq uint32
}

// GRELen is the length of a GRE header with the given flags.
func GRELen(flags uint16) int {
	n := 4
	if flags&GREChecksumPresent != 0 {
		n += 4
	}
	if flags&GREKeyPresent != 0 {
		n += 4
	}
	if flags&GRESeqPresent != 0 {
		n += 4
	}
	return n
}

// AppendGRE appends a GRE header to buf.
func AppendGRE(buf []byte, f GREFields) []byte {
	buf = binary.BigEndian.AppendUint16(buf, f.Flags)
	buf = binary.BigEndian.AppendUint16(buf, f.Proto)
	if f.Flags&GREChecksumPresent != 0 {
		buf = binary.BigEndian.AppendUint16(buf, f.Sum)
		buf = binary.BigEndian.AppendUint16(buf, f.Off)
	}
	if f.Flags&GREKeyPresent != 0 {
		buf = binary.BigEndian.AppendUint32(buf, f.Key)
	}
	if f.Flags&GRESeqPresent != 0 {
		buf = binary.BigEndian.AppendUint32(buf, f.Seq)
	}
	return buf
}

// DecodeGRE reads a GRE header and returns it with its length.
func DecodeGRE(b []byte) (GREFields, int, error) {
	if len(b) < 4 {
		return GREFields{}, 0, ErrTruncated
	}
	f := GREFields{Flags: binary.BigEndian.Uint16(b), Proto: binary.BigEndian.Uint16(b[2:])}
	n := GRELen(f.Flags)
	if len(b) < n {
		return GREFields{}, 0, ErrTruncated
	}
	i := 4
	if f.Flags&GREChecksumPresent != 0 {
		f.Sum, f.Off = binary.BigEndian.Uint16(b[i:]), binary.BigEndian.Uint16(b[i+2:])
		i += 4
	}
	if f.Flags&GREKeyPresent != 0 {
		f.Key = binary.BigEndian.Uint32(b[i:])
		i += 4
	}
	if f.Flags&GRESeqPresent != 0 {
		f.Seq = binary.BigEndian.Uint32(b[i:])
	}
	return f, n, nil
}

// MPLSEntry is one label stack entry (RFC 3032):
//
//	| Label (20) | TC (3) | S (1) | TTL (8) |
type MPLSEntry struct {
	Label  uint32
	TC     uint8
	Bottom bool
	TTL    uint8
}

// AppendMPLS appends a label stack entry to buf.
func AppendMPLS(buf []byte, e MPLSEntry) []byte {
	v := e.Label<<12 | uint32(e.TC&7)<<9 | uint32(e.TTL)
	if e.Bottom {
		v |= 1 << 8
	}
	return binary.BigEndian.AppendUint32(buf, v)
}

// DecodeMPLS reads label stack entries up to the bottom of the stack and
// returns them with the number of bytes they take.
func DecodeMPLS(b []byte) ([]MPLSEntry, int, error) {
	var out []MPLSEntry
	for i := 0; ; i += 4 {
		if len(b) < i+4 {
			return nil, 0, ErrTruncated
		}
		v := binary.BigEndian.Uint32(b[i:])
		e := MPLSEntry{Label: v >> 12, TC: uint8(v >> 9 & 7), Bottom: v>>8&1 != 0, TTL: uint8(v)}
		out = append(out, e)
		if e.Bottom {
			return out, i + 4, nil
		}
	}
}

// Layer is one encapsulating header in front of the innermost IP packet.
type Layer struct {
	Kind     string // "ipv4", "ipv6", "gre", "mpls"
	Src, Dst netip.Addr
	TOS, TTL uint8
	GRE      GREFields
	MPLS     []MPLSEntry
}

// Decap peels encapsulation off an IP packet: IP-in-IP, GRE and MPLS
// layers, outermost first, down to the innermost IP packet, which it
// decodes. A packet without encapsulation has no layers.
func Decap(b []byte) ([]Layer, *Decoded, error) {
	var layers []Layer
	for depth := 0; depth < 8; depth++ {
		d, err := Decode(b)
		if err != nil {
			return nil, nil, err
		}
		var next []byte
		kind := "ipv4"
		if d.Version == 6 {
			kind = "ipv6"
		}
		outer := Layer{Kind: kind, Src: d.Src, Dst: d.Dst, TOS: d.TOS, TTL: d.TTL}
		switch d.Proto {
		case ProtoIPIP, ProtoIPv6:
			layers = append(layers, outer)
			next = d.L4
		case ProtoGRE:
			g, n, err := DecodeGRE(d.L4)
			if err != nil {
				return nil, nil, err
			}
			layers = append(layers, outer, Layer{Kind: "gre", GRE: g})
			next = d.L4[n:]
			if g.Proto == EtherTypeMPLS {
				m, n2, err := DecodeMPLS(next)
				if err != nil {
					return nil, nil, err
				}
				layers = append(layers, Layer{Kind: "mpls", MPLS: m})
				next = next[n2:]
			}
		case ProtoMPLSInIP:
			m, n, err := DecodeMPLS(d.L4)
			if err != nil {
				return nil, nil, err
			}
			layers = append(layers, outer, Layer{Kind: "mpls", MPLS: m})
			next = d.L4[n:]
		default:
			return layers, d, nil
		}
		if len(next) == 0 {
			return nil, nil, fmt.Errorf("empty encapsulated packet: %w", ErrTruncated)
		}
		b = next
	}
	return nil, nil, fmt.Errorf("too many encapsulation layers")
}
