package observe

import (
	"github.com/godrill/godrill/parser"
)

// segment is what the peer model needs of a script's TCP packet: flags
// and relative sequence space.
type segment struct {
	syn, fin, rst, ack bool
	start, end         int64 // start:end of the payload
	ackNum             int64
}

// segmentOf reads a script's packet; ok is false for anything that is not
// a TCP segment.
func segmentOf(p *parser.Packet) (seg segment, ok bool) {
	if p == nil || p.TCP == nil {
		return seg, false
	}
	t := p.TCP
	seg.syn = t.Flags&parser.FlagSYN != 0
	seg.fin = t.Flags&parser.FlagFIN != 0
	seg.rst = t.Flags&parser.FlagRST != 0
	seg.ack = t.Flags&parser.FlagACK != 0
	seg.start = int64(t.Seq.Start)
	seg.end = seg.start + int64(t.Seq.Len)
	if t.Ack != nil {
		seg.ackNum = int64(*t.Ack)
	}
	return seg, true
}

// next is the sequence number after the segment: SYN and FIN each take
// one (RFC 9293 §3.4).
func (s segment) next() int64 {
	n := s.end
	if s.syn {
		n++
	}
	if s.fin {
		n++
	}
	return n
}

// peerModel infers the scripted peer's TCP state from the script's
// packets; the kernel never sees the peer's state, and the script has
// none. The peer is taken to have received a kernel segment only once
// something it sends acknowledges it (or at the end of the run): in the
// simultaneous close the peer's FIN with "ack 1" shows it had not yet seen
// the kernel's FIN, so the two crossed. Segments are delivered in order.
type peerModel struct {
	state    string
	started  bool
	synNext  int64 // ack that covers the peer's SYN
	finSent  bool
	finNext  int64 // ack that covers the peer's FIN
	inFlight []segment
}

// send applies a segment the peer sent (an inbound event). It returns the
// states the peer went through before sending it (its initial state, and
// what the kernel segments this one acknowledges did), and the state
// sending it took the peer to ("" when unchanged).
func (p *peerModel) send(seg segment) (before []string, own string) {
	var out []string
	if !p.started {
		out = p.start(true, seg)
	}
	if seg.ack {
		for len(p.inFlight) > 0 && p.inFlight[0].next() <= seg.ackNum {
			out = p.recv(p.inFlight[0], out)
			p.inFlight = p.inFlight[1:]
		}
	}
	prev := p.state
	switch {
	case seg.rst:
		p.state = "CLOSED"
	case seg.syn && !seg.ack && (p.state == "CLOSED" || p.state == "LISTEN"):
		p.state = "SYN_SENT"
	case seg.fin && (p.state == "ESTABLISHED" || p.state == "SYN_RECV"):
		p.state = "FIN_WAIT1"
	case seg.fin && p.state == "CLOSE_WAIT":
		p.state = "LAST_ACK"
	}
	if seg.syn {
		p.synNext = seg.next()
	}
	if seg.fin {
		p.finSent, p.finNext = true, seg.next()
	}
	if p.state != prev {
		own = p.state
	}
	return out, own
}

// sent queues a segment the kernel sent (an outbound event) until the
// peer shows it arrived; the first one may give the peer its initial
// state.
func (p *peerModel) sent(seg segment) []string {
	var out []string
	if !p.started {
		out = p.start(false, seg)
	}
	p.inFlight = append(p.inFlight, seg)
	return out
}

// flush delivers everything still in flight, at the end of the run.
func (p *peerModel) flush() []string {
	var out []string
	for _, seg := range p.inFlight {
		out = p.recv(seg, out)
	}
	p.inFlight = nil
	return out
}

// start picks the peer's state before the first packet: a peer that
// sends the first SYN was CLOSED, one that receives it was LISTENing, and
// one whose script starts mid-connection is ESTABLISHED.
func (p *peerModel) start(peerFirst bool, seg segment) []string {
	p.started = true
	switch {
	case seg.syn && !seg.ack && peerFirst:
		p.state = "CLOSED"
	case seg.syn && !seg.ack:
		p.state = "LISTEN"
	default:
		p.state = "ESTABLISHED"
	}
	return []string{p.state}
}

// recv applies a kernel segment arriving at the peer (RFC 9293 §3.10.7).
func (p *peerModel) recv(seg segment, out []string) []string {
	step := func(s string) {
		if s != p.state {
			p.state = s
			out = append(out, s)
		}
	}
	finAcked := seg.ack && p.finSent && seg.ackNum >= p.finNext
	switch {
	case seg.rst:
		step("CLOSED")
		return out
	case seg.syn && seg.ack && p.state == "SYN_SENT":
		step("ESTABLISHED")
	case seg.syn && (p.state == "LISTEN" || p.state == "SYN_SENT"):
		step("SYN_RECV")
	case seg.ack && p.state == "SYN_RECV" && seg.ackNum >= p.synNext:
		step("ESTABLISHED")
	}
	switch p.state {
	case "FIN_WAIT1":
		switch {
		case finAcked && seg.fin:
			step("TIME_WAIT")
		case finAcked:
			step("FIN_WAIT2")
		case seg.fin:
			step("CLOSING")
		}
	case "FIN_WAIT2":
		if seg.fin {
			step("TIME_WAIT")
		}
	case "CLOSING":
		if finAcked {
			step("TIME_WAIT")
		}
	case "LAST_ACK":
		if finAcked {
			step("CLOSED")
		}
	case "ESTABLISHED":
		if seg.fin {
			step("CLOSE_WAIT")
		}
	}
	return out
}
