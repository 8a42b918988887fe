package runtime

import (
	"fmt"
	"strings"
	"time"

	"github.com/godrill/godrill/packet"
)

// dumpLive writes a live packet the way the reference's -v trace does
// (packet_to_string, DUMP_SHORT): encapsulation headers, then the TCP
// segment with live sequence numbers, "udp (N)" or "icmpv4"/"icmpv6".
// A TCP dump ends in a space, as the reference's.
func dumpLive(layers []packet.Layer, d *packet.Decoded, ace bool) string {
	var b strings.Builder
	for _, l := range layers {
		switch l.Kind {
		case "ipv4", "ipv6":
			fmt.Fprintf(&b, "%s %s > %s: ", l.Kind, l.Src, l.Dst)
		case "gre":
			g := l.GRE
			fmt.Fprintf(&b, "gre flags 0x%x proto 0x%04x", g.Flags, g.Proto)
			if g.Flags&packet.GREChecksumPresent != 0 {
				fmt.Fprintf(&b, " sum 0x%x off 0x%x", g.Sum, g.Off)
			}
			if g.Flags&packet.GREKeyPresent != 0 {
				fmt.Fprintf(&b, " key 0x%x", g.Key)
			}
			if g.Flags&packet.GRESeqPresent != 0 {
				fmt.Fprintf(&b, " seq 0x%x", g.Seq)
			}
			b.WriteString(": ")
		case "mpls":
			b.WriteString("mpls")
			for _, e := range l.MPLS {
				s := ""
				if e.Bottom {
					s = " [S],"
				}
				fmt.Fprintf(&b, " (label %d, tc %d,%s ttl %d)", e.Label, e.TC, s, e.TTL)
			}
			b.WriteString(": ")
		}
	}
	switch {
	case d == nil:
		b.WriteString("[NO IP HEADER]")
	case d.TCP != nil:
		b.WriteString(dumpTCP(d.TCP, ace))
	case d.UDP != nil:
		fmt.Fprintf(&b, "udp (%d)", len(packet.UDP(d.UDP).Payload()))
	case d.Proto == packet.ProtoICMP:
		b.WriteString("icmpv4")
	case d.Proto == packet.ProtoICMPv6:
		b.WriteString("icmpv6")
	default:
		b.WriteString("[NO TCP, UDP OR ICMP HEADER]")
	}
	return b.String()
}

// dumpTCP prints flags in tcpdump 4.1.1's order (F S R P . U, then E W A
// or the AccECN ACE counter), live seq:end(len), ack, win and options.
func dumpTCP(t packet.TCP, ace bool) string {
	var b strings.Builder
	f := t.Flags()
	for _, x := range []struct {
		bit packet.TCPFlags
		c   byte
	}{{packet.FIN, 'F'}, {packet.SYN, 'S'}, {packet.RST, 'R'}, {packet.PSH, 'P'}, {packet.ACK, '.'}, {packet.URG, 'U'}} {
		if f&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	if ace {
		n := 0
		if f&packet.ECE != 0 {
			n |= 1
		}
		if f&packet.CWR != 0 {
			n |= 2
		}
		if f&packet.AE != 0 {
			n |= 4
		}
		b.WriteByte(byte('0' + n))
	} else {
		if f&packet.ECE != 0 {
			b.WriteByte('E')
		}
		if f&packet.CWR != 0 {
			b.WriteByte('W')
		}
		if f&packet.AE != 0 {
			b.WriteByte('A')
		}
	}
	n := uint32(len(t.Payload()))
	fmt.Fprintf(&b, " %d:%d(%d) ", t.SequenceNumber(), t.SequenceNumber()+n, n)
	if f&packet.ACK != 0 {
		fmt.Fprintf(&b, "ack %d ", t.AckNumber())
	}
	fmt.Fprintf(&b, "win %d ", t.WindowSize())
	if len(t.Options()) > 0 {
		if opts, err := packet.ParseOptions(t.Options()); err == nil {
			b.WriteString(packet.FormatOptions(opts))
		}
	}
	return b.String()
}

// traceInjected prints an "inbound injected packet" line for -v.
func (r *runner) traceInjected(pkt []byte, at time.Duration, ace bool) {
	if !r.cfg.Verbose {
		return
	}
	r.later(func() {
		layers, d, _ := packet.Decap(pkt)
		fmt.Fprintf(r.stdout, "inbound injected packet: %9.6f %s\n", secs(at), dumpLive(layers, d, ace))
	})
}

// traceSniffed prints an "outbound sniffed packet" line for -v.
func (r *runner) traceSniffed(s sniffed) {
	if !r.cfg.Verbose {
		return
	}
	r.later(func() {
		fmt.Fprintf(r.stdout, "outbound sniffed packet: %9.6f %s\n", secs(r.wallToScript(s.time)), dumpLive(s.layers, s.d, false))
	})
}

// later queues output (a -v line, the observers' record of an event) of
// the current event for the next gap in the schedule (see
// flushOutputBefore): formatting and writing it then costs no event's time
// base anything. r.mu is held.
func (r *runner) later(write func()) { r.laterFor(r.event.Load(), write) }

// laterFor queues output of event es (a blocking call's, from its thread).
func (r *runner) laterFor(es *eventState, write func()) {
	r.pending = append(r.pending, queuedOutput{es, write})
	if len(r.pending) >= maxQueuedOutput {
		r.flushOutput()
	}
}

// queuedOutput is output waiting for a gap, and the event it is about: a
// bug in writing it is an internal error at that event's line.
type queuedOutput struct {
	es    *eventState
	write func()
}

// maxQueuedOutput bounds the queue of a schedule with no gap: it is
// written then, late events or not.
const maxQueuedOutput = 256

// outputSlack is the gap before an event's time that the queued output
// may use: writing a few records and lines takes tens of microseconds,
// a slow terminal more.
const outputSlack = time.Millisecond

// flushOutputBefore writes the queued output if target leaves a gap for
// it.
func (r *runner) flushOutputBefore(target time.Time) {
	if len(r.pending) > 0 && target.Sub(r.clock()) > outputSlack {
		r.flushOutput()
	}
}

// flushOutput writes the queued output, in order. A panic (a bug) leaves
// writingFor naming the event whose output it was, for guard.
func (r *runner) flushOutput() {
	q := r.pending
	r.pending = nil
	for _, p := range q {
		r.writingFor = p.es
		p.write()
	}
	r.writingFor = nil
	clear(q)
	r.pending = q[:0]
}
