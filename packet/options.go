package packet

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// TCP option kinds (IANA "TCP Option Kind Numbers").
const (
	OptEOL     uint8 = 0
	OptNOP     uint8 = 1
	OptMSS     uint8 = 2  // RFC 9293
	OptWScale  uint8 = 3  // RFC 7323
	OptSACKOK  uint8 = 4  // RFC 2018
	OptSACK    uint8 = 5  // RFC 2018
	OptTS      uint8 = 8  // RFC 7323
	OptMD5     uint8 = 19 // RFC 2385
	OptMPTCP   uint8 = 30 // RFC 8684
	OptFO      uint8 = 34 // RFC 7413
	OptAccECN0 uint8 = 172
	OptAccECN1 uint8 = 174
	OptExp     uint8 = 254 // RFC 6994 shared experimental
)

// FastOpenExpMagic is the RFC 6994 ExID that marks the pre-RFC fast open option.
const FastOpenExpMagic = 0xF989

// Option is one decoded TCP option: its kind and the bytes after kind and
// length (none for EOL and NOP).
type Option struct {
	Kind uint8
	Data []byte
}

// Len is the option's encoded length in bytes.
func (o Option) Len() int {
	if o.Kind == OptEOL || o.Kind == OptNOP {
		return 1
	}
	return 2 + len(o.Data)
}

// AppendOption appends the encoded option to buf.
func AppendOption(buf []byte, o Option) []byte {
	if o.Kind == OptEOL || o.Kind == OptNOP {
		return append(buf, o.Kind)
	}
	buf = append(buf, o.Kind, byte(2+len(o.Data)))
	return append(buf, o.Data...)
}

// EncodeOptions encodes opts back to back; it does not pad.
func EncodeOptions(opts []Option) []byte {
	var b []byte
	for _, o := range opts {
		b = AppendOption(b, o)
	}
	return b
}

// MSSOption, WScaleOption, ... build the common options.
func MSSOption(mss uint16) Option {
	return Option{Kind: OptMSS, Data: binary.BigEndian.AppendUint16(nil, mss)}
}
func WScaleOption(shift uint8) Option { return Option{Kind: OptWScale, Data: []byte{shift}} }
func SACKOKOption() Option            { return Option{Kind: OptSACKOK} }
func TSOption(val, ecr uint32) Option {
	d := binary.BigEndian.AppendUint32(nil, val)
	return Option{Kind: OptTS, Data: binary.BigEndian.AppendUint32(d, ecr)}
}

// SACKOption builds a SACK option from [left, right) pairs.
func SACKOption(blocks [][2]uint32) Option {
	var d []byte
	for _, bl := range blocks {
		d = binary.BigEndian.AppendUint32(d, bl[0])
		d = binary.BigEndian.AppendUint32(d, bl[1])
	}
	return Option{Kind: OptSACK, Data: d}
}

// ParseOptions decodes an options area. It is defensive: on a length that
// is impossible or runs past the end it returns what it decoded so far and
// an error. EOL ends the list (the rest is padding).
func ParseOptions(b []byte) ([]Option, error) {
	var opts []Option
	for len(b) > 0 {
		kind := b[0]
		switch kind {
		case OptEOL:
			return append(opts, Option{Kind: OptEOL}), nil
		case OptNOP:
			opts = append(opts, Option{Kind: OptNOP})
			b = b[1:]
			continue
		}
		if len(b) < 2 {
			return opts, fmt.Errorf("option kind %d truncated", kind)
		}
		n := int(b[1])
		if n < 2 || n > len(b) {
			return opts, fmt.Errorf("option kind %d has bad length %d", kind, n)
		}
		opts = append(opts, Option{Kind: kind, Data: b[2:n:n]})
		b = b[n:]
	}
	return opts, nil
}

// TSValues returns the val and ecr of a TS option.
func (o Option) TSValues() (val, ecr uint32, ok bool) {
	if o.Kind != OptTS || len(o.Data) != 8 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(o.Data), binary.BigEndian.Uint32(o.Data[4:]), true
}

// SACKBlocks returns the blocks of a SACK option.
func (o Option) SACKBlocks() [][2]uint32 {
	var bl [][2]uint32
	for d := o.Data; len(d) >= 8; d = d[8:] {
		bl = append(bl, [2]uint32{binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])})
	}
	return bl
}

// String writes the option as scripts do ("mss 1460", "TS val 1 ecr 0").
func (o Option) String() string {
	d := o.Data
	switch o.Kind {
	case OptEOL:
		return "eol"
	case OptNOP:
		return "nop"
	case OptMSS:
		if len(d) == 2 {
			return fmt.Sprintf("mss %d", binary.BigEndian.Uint16(d))
		}
	case OptWScale:
		if len(d) == 1 {
			return fmt.Sprintf("wscale %d", d[0])
		}
	case OptSACKOK:
		if len(d) == 0 {
			return "sackOK"
		}
	case OptSACK:
		var parts []string
		for _, bl := range o.SACKBlocks() {
			parts = append(parts, fmt.Sprintf("%d:%d", bl[0], bl[1]))
		}
		return "sack " + strings.Join(parts, " ")
	case OptTS:
		if v, e, ok := o.TSValues(); ok {
			return fmt.Sprintf("TS val %d ecr %d", v, e)
		}
	case OptMD5:
		return "md5"
	case OptFO:
		if len(d) == 0 {
			return "FO"
		}
		return "FO " + hex.EncodeToString(d)
	case OptExp:
		if len(d) >= 2 && binary.BigEndian.Uint16(d) == FastOpenExpMagic {
			if len(d) == 2 {
				return "FOEXP"
			}
			return "FOEXP " + hex.EncodeToString(d[2:])
		}
	case OptAccECN0, OptAccECN1:
		names := []string{"e0b", "ceb", "e1b"}
		if o.Kind == OptAccECN1 {
			names = []string{"e1b", "ceb", "e0b"}
		}
		var parts []string
		for i := 0; i+3 <= len(d) && i/3 < 3; i += 3 {
			v := uint32(d[i])<<16 | uint32(d[i+1])<<8 | uint32(d[i+2])
			parts = append(parts, fmt.Sprintf("%s %d", names[i/3], v))
		}
		s := "ECN"
		if len(parts) > 0 {
			s += " " + strings.Join(parts, " ")
		}
		return s
	}
	return fmt.Sprintf("opt %d len %d %s", o.Kind, o.Len(), hex.EncodeToString(d))
}

// FormatOptions writes an option list as "<mss 1460,nop,...>".
func FormatOptions(opts []Option) string {
	parts := make([]string, len(opts))
	for i, o := range opts {
		parts[i] = o.String()
	}
	return "<" + strings.Join(parts, ",") + ">"
}
