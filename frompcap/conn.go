package frompcap

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/godrill/godrill/packet"
)

// Segment is one TCP segment of the capture, its header fields as sent.
type Segment struct {
	Num      int // packet number in the capture
	Time     time.Time
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    packet.TCPFlags
	Window   uint16
	Options  []byte // the raw option bytes
	Len      int    // payload length, from the IP header's length
}

// Conn is one TCP connection of the capture: the segments of one 4-tuple
// from one SYN on (or from the first packet seen).
type Conn struct {
	Index int            // 1-based, in the order of first packets
	A, B  netip.AddrPort // A sent the connection's first packet
	Segs  []Segment
	v6    bool
}

func (c *Conn) String() string {
	return fmt.Sprintf("%s > %s", c.A, c.B)
}

// decodeSegment reads the TCP segment of a frame. ok is false for frames
// that are not TCP; err says why a TCP frame cannot be used.
func decodeSegment(f Frame) (s Segment, ok bool, err error) {
	b := f.IP
	if b == nil {
		return s, false, nil
	}
	var src, dst netip.Addr
	var l4 []byte
	var payloadEnd int // offset of the end of the IP packet, from its header
	switch b[0] >> 4 {
	case 4:
		if len(b) < packet.IPv4MinLen {
			return s, false, cutError(f, "IPv4 header")
		}
		h := packet.IPv4(b)
		hl := h.HeaderLength()
		if h.Protocol() != packet.ProtoTCP {
			return s, false, nil
		}
		if hl < packet.IPv4MinLen {
			return s, false, fmt.Errorf("packet %d: bad IPv4 header length %d", f.Num, hl)
		}
		if h.IsFragment() {
			return s, false, fmt.Errorf("packet %d: an IP fragment; from-pcap does not reassemble fragments", f.Num)
		}
		if len(b) < hl {
			return s, false, cutError(f, "IPv4 header")
		}
		src, dst = h.Src(), h.Dst()
		l4, payloadEnd = b[hl:], int(h.TotalLength())-hl
		if payloadEnd < 0 {
			return s, false, fmt.Errorf("packet %d: IPv4 total length %d shorter than its header", f.Num, h.TotalLength())
		}
	case 6:
		if len(b) < packet.IPv6HeaderLen {
			return s, false, cutError(f, "IPv6 header")
		}
		h := packet.IPv6(b)
		src, dst = h.Src(), h.Dst()
		next, rest := h.NextHeader(), b[packet.IPv6HeaderLen:]
		payloadEnd = int(h.PayloadLength())
		// Walk the extension headers a TCP segment may follow.
		for next == 0 || next == 43 || next == 60 {
			if len(rest) < 8 {
				return s, false, cutError(f, "IPv6 extension header")
			}
			n := (int(rest[1]) + 1) * 8
			if len(rest) < n {
				return s, false, cutError(f, "IPv6 extension header")
			}
			next, rest, payloadEnd = rest[0], rest[n:], payloadEnd-n
		}
		if next == 44 {
			return s, false, fmt.Errorf("packet %d: an IPv6 fragment; from-pcap does not reassemble fragments", f.Num)
		}
		if next != packet.ProtoTCP {
			return s, false, nil
		}
		l4 = rest
	default:
		return s, false, nil
	}
	if len(l4) < packet.TCPMinLen {
		return s, false, cutError(f, "TCP header")
	}
	t := packet.TCP(l4)
	off := t.DataOffset()
	if off < packet.TCPMinLen {
		return s, false, fmt.Errorf("packet %d: bad TCP data offset %d", f.Num, off)
	}
	if len(l4) < off {
		return s, false, cutError(f, "TCP options")
	}
	if payloadEnd < off {
		return s, false, fmt.Errorf("packet %d: IP length leaves %d bytes for a TCP header of %d", f.Num, payloadEnd, off)
	}
	s = Segment{
		Num: f.Num, Time: f.Time,
		Src:   netip.AddrPortFrom(src.Unmap(), t.SourcePort()),
		Dst:   netip.AddrPortFrom(dst.Unmap(), t.DestinationPort()),
		Seq:   t.SequenceNumber(),
		Ack:   t.AckNumber(),
		Flags: t.Flags(), Window: t.WindowSize(),
		Options: append([]byte(nil), l4[packet.TCPMinLen:off]...),
		Len:     payloadEnd - off,
	}
	return s, true, nil
}

func cutError(f Frame, what string) error {
	if f.Truncated {
		return fmt.Errorf("packet %d: the capture's snaplen cut it inside its %s (capture with a larger snaplen, e.g. tcpdump -s 0)", f.Num, what)
	}
	return fmt.Errorf("packet %d: too short for its %s", f.Num, what)
}

type tupleKey struct{ lo, hi netip.AddrPort }

func keyOf(a, b netip.AddrPort) tupleKey {
	if a.Addr().Less(b.Addr()) || (a.Addr() == b.Addr() && a.Port() < b.Port()) {
		return tupleKey{a, b}
	}
	return tupleKey{b, a}
}

// connTrack follows one connection while the capture is split.
type connTrack struct {
	c        *Conn
	synSeq   map[netip.AddrPort]uint32 // a bare SYN's sequence number, per sender
	finished bool                      // RST seen, or a FIN from each side
	fins     map[netip.AddrPort]bool
}

// Connections splits a capture's frames into TCP connections. A bare SYN
// with a new sequence number on a 4-tuple already in use starts a new
// connection (the port was reused). It fails only for frames whose TCP
// header cannot be read; whether a connection can become a script is
// decided later.
func Connections(frames []Frame) ([]*Conn, error) {
	var conns []*Conn
	cur := map[tupleKey]*connTrack{}
	for _, f := range frames {
		s, ok, err := decodeSegment(f)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		k := keyOf(s.Src, s.Dst)
		tr := cur[k]
		bareSYN := s.Flags&packet.SYN != 0 && s.Flags&packet.ACK == 0
		if tr != nil && bareSYN {
			old, had := tr.synSeq[s.Src]
			if (had && old != s.Seq) || tr.finished {
				tr = nil
			}
		}
		if tr == nil {
			c := &Conn{Index: len(conns) + 1, A: s.Src, B: s.Dst, v6: s.Src.Addr().Is6()}
			conns = append(conns, c)
			tr = &connTrack{c: c, synSeq: map[netip.AddrPort]uint32{}, fins: map[netip.AddrPort]bool{}}
			cur[k] = tr
		}
		if bareSYN {
			if _, had := tr.synSeq[s.Src]; !had {
				tr.synSeq[s.Src] = s.Seq
			}
		}
		if s.Flags&packet.FIN != 0 {
			tr.fins[s.Src] = true
		}
		if s.Flags&packet.RST != 0 || len(tr.fins) == 2 {
			tr.finished = true
		}
		tr.c.Segs = append(tr.c.Segs, s)
	}
	return conns, nil
}

// tsOption returns a TS option's val and ecr from raw option bytes.
func tsOption(opts []byte) (val, ecr uint32, ok bool) {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case packet.OptEOL:
			return 0, 0, false
		case packet.OptNOP:
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			return 0, 0, false
		}
		if opts[i] == packet.OptTS && opts[i+1] == 10 {
			return binary.BigEndian.Uint32(opts[i+2:]), binary.BigEndian.Uint32(opts[i+6:]), true
		}
		i += int(opts[i+1])
	}
	return 0, 0, false
}

// mssOption returns the MSS option's value, or 0.
func mssOption(opts []byte) int {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case packet.OptEOL:
			return 0
		case packet.OptNOP:
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			return 0
		}
		if opts[i] == packet.OptMSS && opts[i+1] == 4 {
			return int(binary.BigEndian.Uint16(opts[i+2:]))
		}
		i += int(opts[i+1])
	}
	return 0
}

// wscaleOption returns the window scale option's shift, or -1.
func wscaleOption(opts []byte) int {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case packet.OptEOL:
			return -1
		case packet.OptNOP:
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			return -1
		}
		if opts[i] == packet.OptWScale && opts[i+1] == 3 {
			return int(opts[i+2])
		}
		i += int(opts[i+1])
	}
	return -1
}
