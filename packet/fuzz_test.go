package packet

import (
	"bytes"
	"net/netip"
	"testing"
)

// Seeds beyond these live in testdata/fuzz/<Target>/; findings are added
// there (and as named cases in packet_test.go) so they run with plain go test.

func decodeSeeds() [][]byte {
	v4 := BuildTCP(IPFields{Src: netip.MustParseAddr("192.168.0.1"), Dst: netip.MustParseAddr("192.0.2.1")},
		TCPFields{SrcPort: 8080, DstPort: 40000, Seq: 1, Ack: 2, Flags: SYN | ACK, Window: 65535,
			Options: EncodeOptions([]Option{MSSOption(1460), SACKOKOption(), TSOption(1, 2), {Kind: OptNOP}, WScaleOption(7)})}, nil)
	v6 := BuildTCP(IPFields{Src: netip.MustParseAddr("fd3d:a0b:17d6::1"), Dst: netip.MustParseAddr("fd3d:fa7b:d17d::1")},
		TCPFields{SrcPort: 8080, DstPort: 40000, Flags: PSH | ACK | AE, Window: 502}, []byte("payload"))
	udp := AppendIP(nil, IPFields{Src: netip.MustParseAddr("192.168.0.1"), Dst: netip.MustParseAddr("192.0.2.1")}, ProtoUDP, 8)
	udp = append(udp, 0, 53, 0, 53, 0, 8, 0, 0)
	return [][]byte{v4, v6, udp, v4[:20], {0x45}, {0x60}, nil}
}

// FuzzDecode feeds arbitrary bytes to Decode, the parser of every packet the
// kernel sends: it must never panic, and what it accepts must be consistent.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			if d != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if d.Version != 4 && d.Version != 6 {
			t.Fatalf("version %d", d.Version)
		}
		if d.HeaderLen > d.TotalLen || d.TotalLen > len(b) || len(d.L4) != d.TotalLen-d.HeaderLen {
			t.Fatalf("lengths: header %d total %d l4 %d input %d", d.HeaderLen, d.TotalLen, len(d.L4), len(b))
		}
		if d.Version == 4 {
			_ = d.IPv4.ChecksumValid()
		}
		if d.TCP != nil {
			if !d.TCP.IsValid() {
				t.Fatal("invalid TCP view returned")
			}
			_ = d.TCP.Flags().String()
			_, _, _, _ = d.TCP.SourcePort(), d.TCP.DestinationPort(), d.TCP.WindowSize(), d.TCP.UrgentPointer()
			if len(d.TCP.Options())+len(d.TCP.Payload())+TCPMinLen != len(d.TCP) {
				t.Fatal("options and payload do not add up")
			}
			opts, _ := ParseOptions(d.TCP.Options())
			_ = FormatOptions(opts)
			_ = TransportChecksum(d.Src, d.Dst, ProtoTCP, d.TCP)
		}
	})
}

// FuzzParseOptions checks that the option parser never panics or loops, that
// what it decodes re-encodes to the bytes it came from, and that every
// option prints.
func FuzzParseOptions(f *testing.F) {
	for _, s := range [][]byte{
		EncodeOptions([]Option{MSSOption(1460), SACKOKOption(), TSOption(1, 2), {Kind: OptNOP}, WScaleOption(7)}),
		EncodeOptions([]Option{{Kind: OptNOP}, {Kind: OptNOP}, SACKOption([][2]uint32{{1, 2}, {3, 4}})}),
		{OptFO, 10, 1, 2, 3, 4, 5, 6, 7, 8},
		{OptExp, 4, 0xf9, 0x89},
		{OptAccECN0, 11, 0, 0, 1, 0, 0, 2, 0, 0, 3},
		{OptAccECN1, 5, 0, 0, 1},
		{OptMD5, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{OptMSS, 0},
		{OptMSS, 1},
		{OptMSS, 255},
		{OptEOL, 1, 2, 3},
		{99},
		nil,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		opts, err := ParseOptions(b)
		n := 0
		for _, o := range opts {
			n += o.Len()
			_ = o.String()
			_ = o.SACKBlocks()
			_, _, _ = o.TSValues()
		}
		if n > len(b) {
			t.Fatalf("decoded %d bytes of %d", n, len(b))
		}
		enc := EncodeOptions(opts)
		if !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoded %x, input starts %x", enc, b[:n])
		}
		if err == nil && n != len(b) && (len(opts) == 0 || opts[len(opts)-1].Kind != OptEOL) {
			t.Fatalf("no error but only %d of %d bytes decoded", n, len(b))
		}
		_ = FormatOptions(opts)
	})
}

// FuzzRoundTrip builds a packet from arbitrary fields with BuildTCP, decodes
// it, and checks that every field comes back and both checksums verify.
func FuzzRoundTrip(f *testing.F) {
	f.Add(false, uint8(0), uint8(64), uint32(0), uint16(1), uint16(40000), uint16(8080), uint32(0xfffffffe), uint32(1),
		uint16(SYN|ACK), uint8(0), uint16(65535), uint16(0), EncodeOptions([]Option{MSSOption(1460)}), []byte("x"))
	f.Add(true, uint8(0xb8), uint8(0), uint32(0xfffff), uint16(0), uint16(0), uint16(65535), uint32(0), uint32(0xffffffff),
		uint16(0x1ff), uint8(7), uint16(0), uint16(0xffff), []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []byte{})
	f.Fuzz(func(t *testing.T, v6 bool, tos, ttl uint8, flow uint32, id uint16, sport, dport uint16, seq, ack uint32,
		flags uint16, reserved uint8, win, urg uint16, opts, payload []byte) {
		// Options are a multiple of 4 bytes and at most 40 (RFC 9293 3.1).
		if len(opts) > TCPMaxOptLen {
			opts = opts[:TCPMaxOptLen]
		}
		opts = opts[:len(opts)/4*4]
		if len(payload) > 1500 {
			payload = payload[:1500]
		}
		ipf := IPFields{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.168.0.1"), TOS: tos, TTL: ttl, ID: id}
		if v6 {
			ipf.Src, ipf.Dst = netip.MustParseAddr("fd3d:fa7b:d17d::1"), netip.MustParseAddr("fd3d:a0b:17d6::1")
			ipf.FlowLabel = flow
		}
		tf := TCPFields{SrcPort: sport, DstPort: dport, Seq: seq, Ack: ack, Flags: TCPFlags(flags & 0x1ff),
			Reserved: reserved, Window: win, Urgent: urg, Options: opts}
		pkt := BuildTCP(ipf, tf, payload)
		d, err := Decode(pkt)
		if err != nil {
			t.Fatalf("Decode(BuildTCP(...)): %v", err)
		}
		wantTTL := ttl
		if wantTTL == 0 {
			wantTTL = 255
		}
		if d.Src != ipf.Src || d.Dst != ipf.Dst || d.TOS != tos || d.TTL != wantTTL || d.Proto != ProtoTCP || d.Fragment {
			t.Fatalf("IP fields: %+v", d)
		}
		if v6 && d.FlowLabel != flow&0xfffff || !v6 && (d.ID != id || !d.IPv4.ChecksumValid()) {
			t.Fatalf("family fields: flow %#x id %d", d.FlowLabel, d.ID)
		}
		h := d.TCP
		if h.SourcePort() != sport || h.DestinationPort() != dport || h.SequenceNumber() != seq || h.AckNumber() != ack ||
			h.Flags() != tf.Flags || h.Reserved() != reserved&7 || h.WindowSize() != win || h.UrgentPointer() != urg ||
			!bytes.Equal(h.Options(), opts) || !bytes.Equal(h.Payload(), payload) {
			t.Fatalf("TCP fields differ: built %+v, decoded %x", tf, []byte(h))
		}
		if Checksum(h, PseudoHeaderSum(d.Src, d.Dst, ProtoTCP, len(h))) != 0 {
			t.Fatal("TCP checksum does not verify")
		}
	})
}
