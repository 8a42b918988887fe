package packet

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The vectors were computed independently (Python, RFC 1071 by the book);
// the IPv4 header is the well-known example with checksum 0xb861.
func TestChecksumVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want uint16
	}{
		{"rfc1071 example", "0001 f203 f4f5 f6f7", 0x220d},
		{"odd length pads a zero byte", "0001 f203 f4f5 f6", 0x2304},
		{"ipv4 header, checksum zeroed", "4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7", 0xb861},
		{"empty", "", 0xffff},
		{"all ones folds to zero", "ffff ffff", 0x0000},
	} {
		if got := Checksum(mustHex(t, tc.in), 0); got != tc.want {
			t.Errorf("%s: Checksum = %#04x, want %#04x", tc.name, got, tc.want)
		}
	}
	// A header carrying its checksum verifies to zero.
	h := IPv4(mustHex(t, "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"))
	if !h.ChecksumValid() {
		t.Error("ChecksumValid = false for a correct header")
	}
	h[ipv4TTL]--
	if h.ChecksumValid() {
		t.Error("ChecksumValid = true after changing the TTL")
	}
}

// synOptions is <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>.
const synOptions = "020405b4 0402 080a0000006400000000 01 030307"

func TestTransportChecksumVectors(t *testing.T) {
	opts := mustHex(t, synOptions)
	for _, tc := range []struct {
		name     string
		src, dst string
		payload  string
		want     uint16
	}{
		{"ipv4 syn", "192.0.2.1", "192.168.0.1", "", 0x0921},
		{"ipv6 syn with payload", "fd3d:fa7b:d17d::1", "fd3d:a0b:17d6::1", "68656c6c6f", 0x5f9c},
	} {
		seg := AppendTCP(nil, TCPFields{SrcPort: 40000, DstPort: 8080, Flags: SYN, Window: 65535, Options: opts},
			mustHex(t, tc.payload))
		src, dst := netip.MustParseAddr(tc.src), netip.MustParseAddr(tc.dst)
		if got := TransportChecksum(src, dst, ProtoTCP, seg); got != tc.want {
			t.Errorf("%s: TransportChecksum = %#04x, want %#04x", tc.name, got, tc.want)
		}
		pkt := BuildTCP(IPFields{Src: src, Dst: dst}, TCPFields{SrcPort: 40000, DstPort: 8080, Flags: SYN,
			Window: 65535, Options: opts}, mustHex(t, tc.payload))
		d, err := Decode(pkt)
		if err != nil {
			t.Fatalf("%s: Decode: %v", tc.name, err)
		}
		if got := d.TCP.Checksum(); got != tc.want {
			t.Errorf("%s: BuildTCP stored checksum %#04x, want %#04x", tc.name, got, tc.want)
		}
	}
}

func TestPseudoHeaderSumLargeLength(t *testing.T) {
	// A jumbo length above 16 bits must be folded in, not truncated.
	a := netip.MustParseAddr("::")
	if got := PseudoHeaderSum(a, a, ProtoTCP, 0x10002); got != 6+1+2 {
		t.Errorf("PseudoHeaderSum = %#x, want %#x", got, 6+1+2)
	}
}

func TestIPv4View(t *testing.T) {
	b := mustHex(t, "4510 0028 abcd 4000 4006 0000 c000 0201 c0a8 0001"+
		"9c40 1f90 00000001 00000002 5012 ffff 0000 0000")
	b[ipv4Checksum], b[ipv4Checksum+1] = 0, 0
	cs := Checksum(b[:20], 0)
	b[ipv4Checksum], b[ipv4Checksum+1] = byte(cs>>8), byte(cs)
	h := IPv4(b)
	if !h.IsValid() || !h.ChecksumValid() {
		t.Fatal("header not valid")
	}
	if h.HeaderLength() != 20 || h.TotalLength() != 40 || h.TOS() != 0x10 || h.ID() != 0xabcd ||
		h.TTL() != 64 || h.Protocol() != ProtoTCP || h.IsFragment() ||
		h.Src() != netip.MustParseAddr("192.0.2.1") || h.Dst() != netip.MustParseAddr("192.168.0.1") {
		t.Errorf("accessors wrong: hl %d tl %d tos %#x id %#x ttl %d proto %d frag %v %v>%v",
			h.HeaderLength(), h.TotalLength(), h.TOS(), h.ID(), h.TTL(), h.Protocol(), h.IsFragment(), h.Src(), h.Dst())
	}
	if len(h.Payload()) != 20 {
		t.Errorf("payload %d bytes, want 20", len(h.Payload()))
	}
	for _, tc := range []struct {
		name string
		mod  func(b []byte)
		frag bool
	}{
		{"MF", func(b []byte) { b[ipv4FragOff] = 0x20 }, true},
		{"offset", func(b []byte) { b[ipv4FragOff+1] = 1 }, true},
		{"DF only", func(b []byte) { b[ipv4FragOff] = 0x40 }, false},
	} {
		c := append([]byte(nil), b...)
		c[ipv4FragOff], c[ipv4FragOff+1] = 0, 0
		tc.mod(c)
		if got := IPv4(c).IsFragment(); got != tc.frag {
			t.Errorf("%s: IsFragment = %v", tc.name, got)
		}
	}
	invalid := map[string]func(b []byte) []byte{
		"short":                 func(b []byte) []byte { return b[:19] },
		"version 6":             func(b []byte) []byte { b[0] = 0x65; return b },
		"ihl below 5":           func(b []byte) []byte { b[0] = 0x44; return b },
		"ihl past total length": func(b []byte) []byte { b[0] = 0x4f; return b },
		"total length past end": func(b []byte) []byte { b[3] = 41; return b },
		"total length below ihl": func(b []byte) []byte {
			b[2], b[3] = 0, 19
			return b
		},
	}
	for name, mod := range invalid {
		if IPv4(mod(append([]byte(nil), b...))).IsValid() {
			t.Errorf("%s: IsValid = true", name)
		}
	}
}

func TestIPv6View(t *testing.T) {
	src, dst := netip.MustParseAddr("fd3d:fa7b:d17d::1"), netip.MustParseAddr("fd3d:a0b:17d6::1")
	b := AppendIP(nil, IPFields{Src: src, Dst: dst, TOS: 0xb8, TTL: 64, FlowLabel: 0xabcde}, ProtoTCP, 4)
	b = append(b, 1, 2, 3, 4)
	h := IPv6(b)
	if !h.IsValid() {
		t.Fatal("not valid")
	}
	if h.TrafficClass() != 0xb8 || h.FlowLabel() != 0xabcde || h.HopLimit() != 64 ||
		h.NextHeader() != ProtoTCP || h.PayloadLength() != 4 || h.Src() != src || h.Dst() != dst {
		t.Errorf("accessors wrong: tc %#x fl %#x hl %d nh %d pl %d %v>%v",
			h.TrafficClass(), h.FlowLabel(), h.HopLimit(), h.NextHeader(), h.PayloadLength(), h.Src(), h.Dst())
	}
	if !bytes.Equal(h.Payload(), []byte{1, 2, 3, 4}) {
		t.Errorf("payload %x", h.Payload())
	}
	if IPv6(b[:len(b)-1]).IsValid() {
		t.Error("payload length past end: IsValid = true")
	}
	if IPv6(b[:39]).IsValid() {
		t.Error("short header: IsValid = true")
	}
}

func TestTCPView(t *testing.T) {
	b := mustHex(t, "9c40 1f90 fffffffe 00000002 6"+"1d2 7210 1234 0005 020405b4 6869")
	h := TCP(b)
	if !h.IsValid() {
		t.Fatal("not valid")
	}
	if h.SourcePort() != 40000 || h.DestinationPort() != 8080 || h.SequenceNumber() != 0xfffffffe ||
		h.AckNumber() != 2 || h.DataOffset() != 24 || h.WindowSize() != 0x7210 || h.Checksum() != 0x1234 ||
		h.UrgentPointer() != 5 {
		t.Errorf("accessors wrong: %d>%d seq %#x ack %d off %d win %#x cs %#x urg %d", h.SourcePort(),
			h.DestinationPort(), h.SequenceNumber(), h.AckNumber(), h.DataOffset(), h.WindowSize(), h.Checksum(), h.UrgentPointer())
	}
	// Byte 12 = 0x61: offset 6, reserved 0, AE set; byte 13 = 0xd2: CWR ECE ACK SYN.
	if got, want := h.Flags(), AE|CWR|ECE|ACK|SYN; got != want {
		t.Errorf("Flags = %v, want %v", got, want)
	}
	if h.Reserved() != 0 {
		t.Errorf("Reserved = %d", h.Reserved())
	}
	if !bytes.Equal(h.Options(), mustHex(t, "020405b4")) || string(h.Payload()) != "hi" {
		t.Errorf("options %x payload %q", h.Options(), h.Payload())
	}
	h.SetSequenceNumber(7)
	h.SetAckNumber(8)
	h.SetChecksum(9)
	if h.SequenceNumber() != 7 || h.AckNumber() != 8 || h.Checksum() != 9 {
		t.Error("setters did not stick")
	}
	for name, c := range map[string][]byte{
		"short":               b[:19],
		"offset below 5":      append([]byte{}, append(b[:12:12], 0x40)...),
		"offset past the end": append(append([]byte{}, b[:12]...), 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	} {
		if TCP(c).IsValid() {
			t.Errorf("%s: IsValid = true", name)
		}
	}
}

func TestTCPFlagsString(t *testing.T) {
	for f, want := range map[TCPFlags]string{
		0:         "-",
		SYN:       "S",
		SYN | ACK: "S.",
		FIN | ACK: "F.",
		PSH | ACK: "P.",
		RST:       "R",
		FIN | SYN | RST | PSH | ACK | URG | ECE | CWR | AE: "FSRP.UEWA",
		SYN | ECE | CWR: "SEW",
	} {
		if got := f.String(); got != want {
			t.Errorf("%#x.String() = %q, want %q", uint16(f), got, want)
		}
	}
}

func TestAppendTCPReservedAndAE(t *testing.T) {
	seg := TCP(AppendTCP(nil, TCPFields{Flags: AE | ACK, Reserved: 0xff}, nil))
	if seg.Reserved() != 7 || seg.Flags() != AE|ACK || seg.DataOffset() != 20 {
		t.Errorf("reserved %d flags %v offset %d", seg.Reserved(), seg.Flags(), seg.DataOffset())
	}
}

func TestDecode(t *testing.T) {
	v4 := BuildTCP(IPFields{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.168.0.1"), ID: 7},
		TCPFields{SrcPort: 1, DstPort: 2, Seq: 3, Ack: 4, Flags: ACK, Window: 5}, []byte("data"))
	d, err := Decode(v4)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 4 || d.TTL != 255 || d.ID != 7 || d.Proto != ProtoTCP || d.HeaderLen != 20 ||
		d.TotalLen != 44 || string(d.TCP.Payload()) != "data" || d.TCP.SequenceNumber() != 3 {
		t.Errorf("decoded %+v", d)
	}
	if !d.IPv4.ChecksumValid() {
		t.Error("IPv4 checksum invalid")
	}
	// Trailing bytes past the total length (link padding) are not payload.
	d, err = Decode(append(append([]byte(nil), v4...), 0, 0))
	if err != nil || string(d.TCP.Payload()) != "data" {
		t.Errorf("padded packet: %v, payload %q", err, d.TCP.Payload())
	}

	frag := append([]byte(nil), v4...)
	frag[ipv4FragOff+1] = 1 // non-zero offset: the TCP header is elsewhere
	if d, err := Decode(frag[:24]); err == nil {
		t.Errorf("truncated fragment decoded: %+v", d)
	}
	frag[2], frag[3] = 0, 24
	if d, err := Decode(frag[:24]); err != nil || !d.Fragment || d.TCP != nil {
		t.Errorf("fragment: err %v, %+v", err, d)
	}

	udp := AppendIP(nil, IPFields{Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2")}, ProtoUDP, 8)
	udp = append(udp, make([]byte, 8)...)
	if d, err := Decode(udp); err != nil || d.Version != 6 || len(d.UDP) != 8 {
		t.Errorf("udp: %v %+v", err, d)
	}

	for name, b := range map[string][]byte{
		"empty":      nil,
		"version 5":  {0x50},
		"short v4":   v4[:19],
		"short v6":   udp[:39],
		"v4 tcp cut": func() []byte { c := append([]byte(nil), v4[:30]...); c[3] = 30; return c }(),
		"v6 udp too short": func() []byte {
			c := append([]byte(nil), udp[:44]...)
			c[5] = 4
			return c
		}(),
	} {
		if d, err := Decode(b); err == nil {
			t.Errorf("%s: decoded %+v", name, d)
		}
	}
}

func TestOptionsCodec(t *testing.T) {
	opts := []Option{MSSOption(1460), SACKOKOption(), TSOption(100, 0), {Kind: OptNOP}, WScaleOption(7)}
	enc := EncodeOptions(opts)
	if want := mustHex(t, synOptions); !bytes.Equal(enc, want) {
		t.Fatalf("EncodeOptions = %x, want %x", enc, want)
	}
	got, err := ParseOptions(enc)
	if err != nil {
		t.Fatal(err)
	}
	if s := FormatOptions(got); s != "<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>" {
		t.Errorf("FormatOptions = %s", s)
	}
	if v, e, ok := got[2].TSValues(); !ok || v != 100 || e != 0 {
		t.Errorf("TSValues = %d %d %v", v, e, ok)
	}
	if _, _, ok := got[0].TSValues(); ok {
		t.Error("TSValues ok on an MSS option")
	}
	sack := SACKOption([][2]uint32{{1, 2}, {0xfffffff0, 5}})
	if sack.Len() != 18 || sack.String() != "sack 1:2 4294967280:5" {
		t.Errorf("sack: len %d %q", sack.Len(), sack)
	}
	for _, tc := range []struct {
		o    Option
		want string
	}{
		{Option{Kind: OptEOL}, "eol"},
		{Option{Kind: OptMD5, Data: make([]byte, 16)}, "md5"},
		{Option{Kind: OptFO}, "FO"},
		{Option{Kind: OptFO, Data: []byte{0xab, 0xcd}}, "FO abcd"},
		{Option{Kind: OptExp, Data: []byte{0xf9, 0x89}}, "FOEXP"},
		{Option{Kind: OptExp, Data: []byte{0xf9, 0x89, 1}}, "FOEXP 01"},
		{Option{Kind: OptExp, Data: []byte{0x12, 0x34}}, "opt 254 len 4 1234"},
		{Option{Kind: OptAccECN0, Data: []byte{0, 0, 1, 0, 0, 2, 0, 0, 3}}, "ECN e0b 1 ceb 2 e1b 3"},
		{Option{Kind: OptAccECN1, Data: []byte{0, 0, 1}}, "ECN e1b 1"},
		{Option{Kind: OptAccECN0}, "ECN"},
		{Option{Kind: OptMSS, Data: []byte{1}}, "opt 2 len 3 01"},
		{Option{Kind: 99, Data: []byte{}}, "opt 99 len 2 "},
	} {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("%d %x: String = %q, want %q", tc.o.Kind, tc.o.Data, got, tc.want)
		}
	}
}

func TestParseOptionsDefensive(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // FormatOptions of what was decoded
		wantErr bool
	}{
		{"", "<>", false},
		{"01 01 00 ff ff", "<nop,nop,eol>", false},         // EOL ends the list; the rest is padding
		{"02", "<>", true},                                 // kind without a length
		{"01 02 01", "<nop>", true},                        // length 1 is impossible
		{"0200", "<>", true},                               // length 0 would loop forever
		{"020405b4 0306 07", "<mss 1460>", true},           // runs past the end
		{"6302ab 01", "", true},                            // unknown kind, length 2: kept, then ab is bad
		{"630301 0402", "<opt 99 len 3 01,sackOK>", false}, // unknown kinds are skipped over, not fatal
	} {
		got, err := ParseOptions(mustHex(t, tc.in))
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v, want error %v", tc.in, err, tc.wantErr)
		}
		if tc.want != "" && FormatOptions(got) != tc.want {
			t.Errorf("%q: decoded %s, want %s", tc.in, FormatOptions(got), tc.want)
		}
	}
	// Decoded data must not let an append scribble over the next option.
	b := mustHex(t, "020405b4 0402")
	opts, _ := ParseOptions(b)
	_ = append(opts[0].Data, 0xee)
	if b[4] != 0x04 {
		t.Error("appending to an option's Data overwrote the next option")
	}
}

func TestParseIPVersion(t *testing.T) {
	for _, v := range []IPVersion{VersionIPv4, VersionIPv6, VersionIPv4MappedIPv6} {
		got, err := ParseIPVersion(v.String())
		if err != nil || got != v {
			t.Errorf("ParseIPVersion(%q) = %v, %v", v.String(), got, err)
		}
	}
	if VersionIPv4MappedIPv6.Wire() != VersionIPv4 || VersionIPv6.Wire() != VersionIPv6 {
		t.Error("Wire: ipv4-mapped-ipv6 is IPv4 on the wire, ipv6 IPv6")
	}
	if _, err := ParseIPVersion("ipv5"); err == nil {
		t.Error("ParseIPVersion(ipv5) succeeded")
	}
}
