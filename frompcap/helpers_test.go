package frompcap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/godrill/godrill/packet"
)

// seg is one segment of a made-up conversation between a client C
// (opener) and a server S; seq and ack are relative to the ISNs below and
// the builder makes them absolute.
type seg struct {
	at    time.Duration
	fromS bool
	flags packet.TCPFlags
	seq   uint32
	ack   uint32
	win   uint16
	opts  []packet.Option
	n     int
}

const (
	isnC = 3_000_000_000 // near the wrap, so relative arithmetic is exercised
	isnS = 1_000
)

type convo struct {
	c, s netip.AddrPort
	segs []seg
}

func v4convo(segs ...seg) convo {
	return convo{netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("10.0.0.1:80"), segs}
}

func v6convo(segs ...seg) convo {
	return convo{netip.MustParseAddrPort("[fd00::2]:40000"), netip.MustParseAddrPort("[fd00::1]:80"), segs}
}

var epoch = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// ipPackets builds the IP packets of a conversation.
func (cv convo) ipPackets() [][]byte {
	var out [][]byte
	for _, s := range cv.segs {
		src, dst, sisn, aisn := cv.c, cv.s, uint32(isnC), uint32(isnS)
		if s.fromS {
			src, dst, sisn, aisn = cv.s, cv.c, isnS, isnC
		}
		ack := uint32(0)
		if s.flags&packet.ACK != 0 {
			ack = s.ack + aisn
		}
		var opts []byte
		for _, o := range s.opts {
			if o.Kind == packet.OptSACK {
				// Relative blocks, made absolute like ack.
				var bl [][2]uint32
				for _, b := range o.SACKBlocks() {
					bl = append(bl, [2]uint32{b[0] + aisn, b[1] + aisn})
				}
				o = packet.SACKOption(bl)
			}
			opts = packet.AppendOption(opts, o)
		}
		out = append(out, packet.BuildTCP(packet.IPFields{Src: src.Addr(), Dst: dst.Addr(), TTL: 64},
			packet.TCPFields{SrcPort: src.Port(), DstPort: dst.Port(), Seq: s.seq + sisn, Ack: ack,
				Flags: s.flags, Window: s.win, Options: opts}, make([]byte, s.n)))
	}
	return out
}

// link wraps IP packets in a link header.
func link(lt layers.LinkType, ip []byte) []byte {
	v6 := ip[0]>>4 == 6
	etype := uint16(0x0800)
	if v6 {
		etype = 0x86dd
	}
	var h []byte
	switch lt {
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
	case layers.LinkTypeEthernet:
		h = make([]byte, 14)
		copy(h, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2})
		binary.BigEndian.PutUint16(h[12:], etype)
	case layers.LinkTypeLinuxSLL:
		h = make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 1)
		binary.BigEndian.PutUint16(h[4:], 6)
		binary.BigEndian.PutUint16(h[14:], etype)
	case layers.LinkTypeLinuxSLL2:
		h = make([]byte, 20)
		binary.BigEndian.PutUint16(h, etype)
		binary.BigEndian.PutUint32(h[4:], 2)
		binary.BigEndian.PutUint16(h[8:], 1)
		h[11] = 6
	case layers.LinkTypeNull:
		h = make([]byte, 4)
		binary.NativeEndian.PutUint32(h, 2)
		if v6 {
			binary.NativeEndian.PutUint32(h, 10)
		}
	case layers.LinkTypeLoop:
		h = make([]byte, 4)
		binary.BigEndian.PutUint32(h, 2)
		if v6 {
			binary.BigEndian.PutUint32(h, 10)
		}
	}
	return append(h, ip...)
}

// pcapOf writes a pcap capture of the conversation; snaplen 0 keeps all.
func pcapOf(t testing.TB, cv convo, lt layers.LinkType, snaplen int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	sl := uint32(snaplen)
	if sl == 0 {
		sl = 262144
	}
	if err := w.WriteFileHeader(sl, lt); err != nil {
		t.Fatal(err)
	}
	for i, ip := range cv.ipPackets() {
		frame := link(lt, ip)
		ci := gopacket.CaptureInfo{Timestamp: epoch.Add(cv.segs[i].at), CaptureLength: len(frame), Length: len(frame)}
		if snaplen > 0 && len(frame) > snaplen {
			frame, ci.CaptureLength = frame[:snaplen], snaplen
		}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapngOf writes the conversation as pcapng.
func pcapngOf(t testing.TB, cv convo, lt layers.LinkType) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, lt)
	if err != nil {
		t.Fatal(err)
	}
	for i, ip := range cv.ipPackets() {
		frame := link(lt, ip)
		ci := gopacket.CaptureInfo{Timestamp: epoch.Add(cv.segs[i].at), CaptureLength: len(frame), Length: len(frame)}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	S  = packet.SYN
	A  = packet.ACK
	F  = packet.FIN
	R  = packet.RST
	P  = packet.PSH
	SA = packet.SYN | packet.ACK
	PA = packet.PSH | packet.ACK
	FA = packet.FIN | packet.ACK
	RA = packet.RST | packet.ACK
)

var ms = time.Millisecond

func synOpts(tsval, tsecr uint32) []packet.Option {
	return []packet.Option{packet.MSSOption(1460), packet.SACKOKOption(), packet.TSOption(tsval, tsecr), {Kind: packet.OptNOP}, packet.WScaleOption(7)}
}

func ts(val, ecr uint32) []packet.Option {
	return []packet.Option{{Kind: packet.OptNOP}, {Kind: packet.OptNOP}, packet.TSOption(val, ecr)}
}

// httpLike is a passive open with a request, a two-write response, and
// a four-way close started by the server, with timestamps throughout.
func httpLike() []seg {
	return []seg{
		{at: 0, flags: S, seq: 0, win: 64240, opts: synOpts(100, 0)},
		{at: 0, fromS: true, flags: SA, seq: 0, ack: 1, win: 65160, opts: synOpts(500, 100)},
		{at: 1 * ms, flags: A, seq: 1, ack: 1, win: 502, opts: ts(101, 500)},
		{at: 2 * ms, flags: PA, seq: 1, ack: 1, win: 502, opts: ts(102, 500), n: 80},
		{at: 2 * ms, fromS: true, flags: A, seq: 1, ack: 81, win: 509, opts: ts(502, 102)},
		{at: 10 * ms, fromS: true, flags: PA, seq: 1, ack: 81, win: 509, opts: ts(510, 102), n: 200},
		{at: 11 * ms, flags: A, seq: 81, ack: 201, win: 501, opts: ts(111, 510)},
		{at: 11 * ms, fromS: true, flags: PA, seq: 201, ack: 81, win: 509, opts: ts(511, 111), n: 30},
		{at: 12 * ms, flags: A, seq: 81, ack: 231, win: 501, opts: ts(112, 511)},
		{at: 12 * ms, fromS: true, flags: FA, seq: 231, ack: 81, win: 509, opts: ts(512, 112)},
		{at: 13 * ms, flags: FA, seq: 81, ack: 232, win: 501, opts: ts(113, 512)},
		{at: 13 * ms, fromS: true, flags: A, seq: 232, ack: 82, win: 509, opts: ts(513, 113)},
	}
}

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }
