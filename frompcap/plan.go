package frompcap

import (
	"fmt"

	"github.com/godrill/godrill/packet"
)

// plan is what a first pass over the connection learns before any line is
// written: roles, initial sequence numbers, and the facts that decide which
// system calls to infer.
type plan struct {
	c              *Conn
	fromKernel     func(s *Segment) bool
	passive        bool
	isnK, isnP     uint32
	establish      int    // index of the inbound segment that completes the handshake, -1 if none
	maxAckP        uint32 // highest ack the kernel sent, relative to the peer's ISN
	haveAck        bool
	peerFinRel     uint32 // the peer's FIN, relative
	peerFin        bool
	shutdown       bool // the kernel's FIN came from shutdown(SHUT_WR): it went on receiving
	nodelay        bool // the kernel sent a small segment while another was unacknowledged
	nodelayWhy     int  // the packet number that shows it
	kernelMSS      int  // from the kernel's SYN or SYN-ACK
	kernelWScale   int  // from the kernel's SYN or SYN-ACK, -1 without the option
	kernelSynNum   int
	kernelECN      bool // the kernel's bare SYN asked for ECN
	kernelNoTS     bool // the kernel's SYN(-ACK) has no TS though the peer's SYN had
	kernelNoSACK   bool
	kernelNoWScale bool
	windows        string // which outbound windows are written: Options.Windows
	ecrUnmatched   int    // a peer's ACK whose TS ecr echoes no earlier TS val of the kernel (packet number)
	// writes maps the index of a kernel segment that starts a write to
	// the write's length. The kernel sets PSH on the last segment of each
	// write (tcp_push), so a write runs from new data to the next PSH.
	writes map[int]int
	// merged maps the index of a kernel segment to the run it stands for
	// (mergeRacedSegments); dropped are the run's other segments.
	merged  map[int]merge
	dropped map[int]bool
}

// merge is a run of the kernel's segments written as one.
type merge struct {
	len  int // the run's payload length
	last int // the packet number of its last segment
}

// analyse finds the side under test and the facts the script depends on.
func analyse(c *Conn, kernelIsA bool) (*plan, error) {
	kernel := c.B
	if kernelIsA {
		kernel = c.A
	}
	p := &plan{c: c, establish: -1}
	p.fromKernel = func(s *Segment) bool { return s.Src == kernel }
	first := &c.Segs[0]
	if first.Flags&packet.SYN == 0 {
		return nil, fmt.Errorf("packet %d: connection %s is seen only from the middle: its first packet is not a SYN (start the capture before the connection opens)", first.Num, c)
	}
	var kernelSyn, peerSyn *Segment
	for i := range c.Segs {
		s := &c.Segs[i]
		if s.Flags&packet.SYN == 0 {
			continue
		}
		if p.fromKernel(s) && kernelSyn == nil {
			kernelSyn = s
		}
		if !p.fromKernel(s) && peerSyn == nil {
			peerSyn = s
		}
	}
	if kernelSyn == nil {
		return nil, fmt.Errorf("packet %d: the side under test, %s, never sends a SYN in connection %s (a reset port or a capture that misses it); choose the other side with --side or --local", first.Num, kernel, c)
	}
	p.isnK = kernelSyn.Seq
	p.kernelSynNum = kernelSyn.Num
	p.kernelMSS = mssOption(kernelSyn.Options)
	p.kernelWScale = wscaleOption(kernelSyn.Options)
	p.passive = kernelSyn.Flags&packet.ACK != 0
	if !p.passive && kernelSyn.Flags&(packet.ECE|packet.CWR) == packet.ECE|packet.CWR {
		p.kernelECN = true
	}
	if peerSyn != nil {
		p.isnP = peerSyn.Seq
		has := func(s *Segment, kind uint8) bool { return hasOption(s.Options, kind) }
		p.kernelNoTS = has(peerSyn, packet.OptTS) && !has(kernelSyn, packet.OptTS)
		p.kernelNoSACK = has(peerSyn, packet.OptSACKOK) && !has(kernelSyn, packet.OptSACKOK)
		p.kernelNoWScale = has(peerSyn, packet.OptWScale) && !has(kernelSyn, packet.OptWScale)
	} else {
		// No SYN from the peer (its reset answered ours): its sequence
		// numbers are written as sent.
		for i := range c.Segs {
			if s := &c.Segs[i]; !p.fromKernel(s) {
				p.isnP = s.Seq
				break
			}
		}
	}
	if p.passive && peerSyn == nil {
		return nil, fmt.Errorf("packet %d: %s answers a SYN the capture does not show", kernelSyn.Num, kernel)
	}
	// The handshake completes with the first segment from the peer that
	// acknowledges the kernel's SYN.
	for i := range c.Segs {
		s := &c.Segs[i]
		if !p.fromKernel(s) && s.Flags&packet.ACK != 0 && s.Flags&packet.RST == 0 && s.Ack == p.isnK+1 {
			if p.passive && s.Flags&packet.SYN != 0 {
				continue
			}
			if s.Num > kernelSyn.Num || !p.passive {
				p.establish = i
				break
			}
		}
	}
	p.scanStream()
	p.findWrites()
	p.mergeRacedSegments()
	p.checkEcrs()
	return p, nil
}

// mergeRacedSegments finds the kernel's data segments sent without PSH in
// the middle of a write whose rest follows after the peer's ACKs. Linux
// sends such a segment when the application is still copying the write
// into the socket (tcp_sendmsg pushes full segments as it goes): a race no
// system call can replay. Replayed, the write is queued whole, and if the
// congestion window allows, the kernel sends it in one segment with PSH.
// So the run becomes one segment, written where its first part was, when
// it fits in the window the kernel had shown it had (at least the initial
// window, RFC 6928: 10 segments); the peer's ACKs in between then follow
// it. A run that did not fit was limited by the window, which a replay
// reproduces, and stays as captured.
func (p *plan) mergeRacedSegments() {
	p.merged, p.dropped = map[int]merge{}, map[int]bool{}
	eff := orDefault(p.kernelMSS, defaultMSS)
	window := uint32(10 * eff)
	var sndUna, sndMax uint32 = 1, 1
	segs := p.c.Segs
	for i := 0; i < len(segs); i++ {
		s := &segs[i]
		if !p.fromKernel(s) {
			if s.Flags&packet.ACK != 0 && s.Flags&packet.RST == 0 {
				if a := s.Ack - p.isnK; seqLess(sndUna, a) {
					sndUna = a
				}
			}
			continue
		}
		if s.Flags&(packet.SYN|packet.RST) != 0 || s.Len == 0 {
			continue
		}
		start := s.Seq - p.isnK
		end := start + uint32(s.Len)
		if seqLess(start, sndMax) {
			if seqLess(sndMax, end) {
				sndMax = end
			}
			continue // all or part a retransmission
		}
		if inflight := end - sndUna; seqLess(window, inflight) {
			window = inflight
		}
		sndMax = end
		if s.Flags&(packet.PSH|packet.FIN) != 0 {
			continue
		}
		// The rest of the write: kernel segments continuing it up to one
		// with PSH, with only the peer's pure ACKs in between.
		runEnd, last, ok := end, -1, true
		for j := i + 1; j < len(segs) && ok; j++ {
			q := &segs[j]
			if !p.fromKernel(q) {
				ok = q.Len == 0 && q.Flags&(packet.SYN|packet.FIN|packet.RST) == 0
				continue
			}
			if q.Flags&(packet.SYN|packet.RST|packet.FIN) != 0 || q.Len == 0 || q.Seq-p.isnK != runEnd || q.Ack != s.Ack {
				ok = false
				break
			}
			runEnd += uint32(q.Len)
			if seqLess(window, runEnd-sndUna) {
				ok = false // too long to merge: stop looking (keeps this linear)
				break
			}
			if q.Flags&packet.PSH != 0 {
				last = j
				break
			}
		}
		if !ok || last < 0 || seqLess(window, runEnd-sndUna) {
			continue
		}
		p.merged[i] = merge{len: int(runEnd - start), last: segs[last].Num}
		for j := i + 1; j <= last; j++ {
			if p.fromKernel(&segs[j]) {
				p.dropped[j] = true
			}
		}
		sndMax = runEnd
		i = last
	}
}

// checkEcrs finds a peer's ACK whose TS ecr is none of the TS vals the
// kernel sent before it: the runtime cannot map such an ecr to a live
// value unless told to map every ecr by its offset from the first TS val
// (--tcp_ts_ecr_scaled).
func (p *plan) checkEcrs() {
	vals := map[uint32]bool{}
	for i := range p.c.Segs {
		s := &p.c.Segs[i]
		val, ecr, ok := tsOption(s.Options)
		if !ok {
			continue
		}
		if p.fromKernel(s) {
			if !p.dropped[i] {
				vals[val] = true
			}
		} else if s.Flags&packet.ACK != 0 && !vals[ecr] {
			p.ecrUnmatched = s.Num
			return
		}
	}
}

// findWrites groups the kernel's new data into writes: from the first
// byte not yet sent to the end of the next segment with PSH or FIN (or
// the last data). Splitting a write at every segment instead would make
// the kernel push (PSH) each one.
func (p *plan) findWrites() {
	p.writes = map[int]int{}
	var sndMax uint32 = 1
	start := -1
	var startSeq uint32
	closeGroup := func(end uint32) {
		if start >= 0 {
			p.writes[start] = int(end - startSeq)
			start = -1
		}
	}
	for i := range p.c.Segs {
		s := &p.c.Segs[i]
		if !p.fromKernel(s) || s.Flags&(packet.SYN|packet.RST) != 0 {
			continue
		}
		seq := s.Seq - p.isnK
		end := seq + uint32(s.Len)
		if s.Len > 0 && seqLess(sndMax, end) {
			if start < 0 {
				start, startSeq = i, sndMax
			}
			sndMax = end
		}
		if start >= 0 && s.Flags&(packet.PSH|packet.FIN) != 0 && !seqLess(end, sndMax) {
			closeGroup(sndMax)
		}
	}
	closeGroup(sndMax)
}

// scanStream goes through the data once for the facts that decide calls
// placed earlier than the packets that reveal them.
func (p *plan) scanStream() {
	var kernelFinSeen bool
	// The peer's data sent after the kernel's FIN: the end of the one
	// ending first (the first a later ACK can cover).
	var afterFinEnd uint32
	afterFin := false
	peerMSS := 536 // RFC 9293 3.7.1: the default when no MSS option
	tsBoth := p.bothSYNsHave(packet.OptTS)
	var sndUna, smallEnd, sndMax uint32 = 1, 0, 1
	haveSmall := false
	for i := range p.c.Segs {
		s := &p.c.Segs[i]
		if p.fromKernel(s) {
			if s.Flags&packet.ACK != 0 && s.Flags&packet.RST == 0 {
				a := s.Ack - p.isnP
				if !p.haveAck || seqLess(p.maxAckP, a) {
					p.maxAckP, p.haveAck = a, true
				}
				if afterFin && seqLess(afterFinEnd-1, a) {
					p.shutdown = true
				}
			}
			if s.Flags&packet.FIN != 0 {
				kernelFinSeen = true
			}
			if s.Len > 0 && s.Flags&packet.SYN == 0 {
				start := s.Seq - p.isnK
				end := start + uint32(s.Len)
				if seqLess(sndMax, end) && !seqLess(start, sndMax) {
					eff := min(peerMSS, orDefault(p.kernelMSS, defaultMSS))
					if tsBoth {
						eff -= 12 // RFC 7323: the TS option takes 12 bytes of each segment
					}
					small := s.Len < eff
					if small && haveSmall && seqLess(sndUna, smallEnd) && !p.nodelay {
						p.nodelay, p.nodelayWhy = true, s.Num
					}
					if small {
						smallEnd, haveSmall = end, true
					}
				}
				if seqLess(sndMax, end) {
					sndMax = end
				}
			}
			continue
		}
		if s.Flags&packet.SYN != 0 {
			if m := mssOption(s.Options); m > 0 {
				peerMSS = m
			}
		}
		if s.Flags&packet.ACK != 0 {
			if a := s.Ack - p.isnK; seqLess(sndUna, a) {
				sndUna = a
			}
		}
		if s.Flags&packet.FIN != 0 && !p.peerFin {
			p.peerFin, p.peerFinRel = true, s.Seq-p.isnP+uint32(s.Len)
		}
		if kernelFinSeen && s.Len > 0 {
			if end := s.Seq - p.isnP + uint32(s.Len); !afterFin || seqLess(end, afterFinEnd) {
				afterFinEnd, afterFin = end, true
			}
		}
	}
}

// bothSYNsHave reports whether the first SYN from each side carries the option.
func (p *plan) bothSYNsHave(kind uint8) bool {
	var k, q *Segment
	for i := range p.c.Segs {
		s := &p.c.Segs[i]
		if s.Flags&packet.SYN == 0 {
			continue
		}
		if p.fromKernel(s) && k == nil {
			k = s
		} else if !p.fromKernel(s) && q == nil {
			q = s
		}
	}
	return k != nil && q != nil && hasOption(k.Options, kind) && hasOption(q.Options, kind)
}

// maxWScale is RFC 7323's largest shift (2.3).
const maxWScale = 14

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// seqLess compares sequence numbers modulo 2^32 (RFC 1982 style).
func seqLess(a, b uint32) bool { return int32(a-b) < 0 }

func hasOption(opts []byte, kind uint8) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case packet.OptEOL:
			return false
		case packet.OptNOP:
			i++
			continue
		}
		if opts[i] == kind {
			return true
		}
		if i+1 >= len(opts) || opts[i+1] < 2 {
			return false
		}
		i += int(opts[i+1])
	}
	return false
}
