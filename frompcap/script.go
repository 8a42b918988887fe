package frompcap

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/godrill/godrill/packet"
)

// defaultMSS is what the kernel advertises on a 1500-byte link in IPv4,
// assumed when a SYN has no MSS option.
const defaultMSS = 1460

// defaultMTU is godrill's (and packetdrill's) device MTU in every family;
// maxMTU the largest a TUN device takes.
const (
	defaultMTU = 1500
	maxMTU     = 65535
)

// firstPacketAt is the script time of the connection's first packet: the
// socket is set up at 0, as in scripts written by hand.
const firstPacketAt = 100 * time.Millisecond

// maxSpan bounds a script's length in time: more than a day between
// packets of one connection is a clock jump, not a test.
const maxSpan = 100_000 * time.Second

// writer builds the script text.
type writer struct {
	b       strings.Builder
	opts    Options
	step    time.Duration
	t0      time.Time
	last    time.Duration
	prev    time.Duration // the time of the line before the packet at last
	decimal int
}

func (w *writer) comment(format string, args ...any) {
	fmt.Fprintf(&w.b, "// "+format+"\n", args...)
}

// at is the script time of a capture timestamp: from the connection's
// first packet, shifted to firstPacketAt, rounded to the step, and never
// earlier than the line before (captures merged from several interfaces
// may go back in time a little).
func (w *writer) at(t time.Time) time.Duration {
	w.prev = w.last
	d := t.Sub(w.t0)
	if d < 0 {
		d = 0
	}
	d = (d + w.step/2) / w.step * w.step
	d += firstPacketAt
	if d < w.last {
		d = w.last
	}
	w.last = d
	return d
}

func (w *writer) time(d time.Duration) string {
	return fmt.Sprintf("%.*f", w.decimal, d.Seconds())
}

func (w *writer) line(t time.Duration, text string) {
	fmt.Fprintf(&w.b, "%s %s\n", w.time(t), text)
}

// callAt is the time of a call inferred from a kernel segment at t: the
// line before's when the segment follows it within a quarter of the
// tolerance. The application made the call then (a close() right after
// the peer's FIN, say) and the kernel's segment came out late, as on a
// loaded machine; a call at the segment's rounded time would let the
// kernel act on its own first in a replay (a bare ACK of that FIN instead
// of the FIN+ACK the capture has). A quarter of the tolerance keeps the
// segment well inside it either way.
func (w *writer) callAt(t time.Duration) time.Duration {
	if t-w.prev <= time.Duration(w.opts.ToleranceUsecs)*time.Microsecond/4 {
		return w.prev
	}
	return t
}

// call writes an inferred system call with the reason for it.
func (w *writer) call(t time.Duration, text, why string) {
	fmt.Fprintf(&w.b, "%s %s // inferred: %s\n", w.time(t), text, why)
}

// script writes the connection's script.
func (p *plan) script(w *writer, header string) (string, error) {
	c := p.c
	w.t0 = c.Segs[0].Time
	w.b.WriteString(header)
	fmt.Fprintf(&w.b, "--tolerance_usecs=%d\n", w.opts.ToleranceUsecs)
	// The kernel advertises the device MTU less the headers (40 bytes in
	// IPv4, 60 in IPv6), no more than TCP_MAXSEG. An MTU with room for the
	// captured MSS in IPv6, and TCP_MAXSEG to bring IPv4 down to it, give
	// the captured MSS in either family.
	mssLine := ""
	if p.kernelMSS > 0 {
		if mtu := min(p.kernelMSS+60, maxMTU); mtu != defaultMTU {
			fmt.Fprintf(&w.b, "--mtu=%d // inferred: room for the kernel's mss %d (packet %d) in IPv6 too\n", mtu, p.kernelMSS, p.kernelSynNum)
		}
		mssLine = fmt.Sprintf("setsockopt(3, IPPROTO_TCP, TCP_MAXSEG, [%d], 4) = 0", p.kernelMSS)
	}
	if p.ecrUnmatched > 0 {
		fmt.Fprintf(&w.b, "--tcp_ts_ecr_scaled // inferred: packet %d echoes a TS val the kernel did not send before it\n", p.ecrUnmatched)
	}
	w.b.WriteString("\n")

	type setting struct{ value, why string }
	var sysctls []setting
	if p.kernelECN {
		sysctls = append(sysctls, setting{"net.ipv4.tcp_ecn=1", "it asks for ECN"})
	}
	if p.kernelNoTS {
		sysctls = append(sysctls, setting{"net.ipv4.tcp_timestamps=0", "no TS, though the peer offered it"})
	}
	if p.kernelNoSACK {
		sysctls = append(sysctls, setting{"net.ipv4.tcp_sack=0", "no sackOK, though the peer offered it"})
	}
	if p.kernelNoWScale {
		sysctls = append(sysctls, setting{"net.ipv4.tcp_window_scaling=0", "no wscale, though the peer offered it"})
	}
	if p.kernelWScale >= 0 && p.kernelWScale <= maxWScale {
		// Linux (tcp_select_initial_window) picks wscale = ilog2(space) - 15,
		// space the largest of tcp_rmem[2] and net.core.rmem_max: this
		// tcp_rmem[2] gives the captured shift wherever rmem_max is not
		// larger. The first two values are Linux's defaults.
		sysctls = append(sysctls, setting{fmt.Sprintf(`net.ipv4.tcp_rmem="4096 131072 %d"`, 1<<(p.kernelWScale+15)),
			fmt.Sprintf("wscale %d (Linux: ilog2 of the largest receive buffer, minus 15)", p.kernelWScale)})
	}
	if len(sysctls) > 0 {
		// An untimed command before the first event: it runs before time 0,
		// so its fork and exec do not delay the schedule.
		w.comment("inferred from the kernel's SYN (packet %d); godrill's namespace has its own sysctls:", p.kernelSynNum)
		var values []string
		for _, s := range sysctls {
			w.comment("  %s: %s", s.why, s.value)
			values = append(values, s.value)
		}
		fmt.Fprintf(&w.b, "`sysctl -q %s`\n\n", strings.Join(values, " "))
	}

	fd := 3
	if p.passive {
		w.comment("Passive open: %s listens and accepts.", "the kernel")
		w.call(0, "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3", "the kernel answers a SYN")
		w.call(0, "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0", "as every passive open in scripts")
		if mssLine != "" {
			w.call(0, mssLine, fmt.Sprintf("the SYN-ACK's mss %d (packet %d)", p.kernelMSS, p.kernelSynNum))
		}
		w.call(0, "bind(3, ..., ...) = 0", "the kernel answers a SYN")
		w.call(0, "listen(3, 1) = 0", "the kernel answers a SYN")
	} else {
		w.comment("Active open: the kernel connects.")
		w.call(0, "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3", "the kernel sends the first SYN")
		if mssLine != "" {
			w.call(0, mssLine, fmt.Sprintf("the SYN's mss %d (packet %d)", p.kernelMSS, p.kernelSynNum))
		}
		if p.establish < 0 {
			w.call(0, "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0", "the connection is never established, so connect() must not block")
		}
	}
	w.b.WriteString("\n")

	st := &stream{rcvNxt: 1, sndMax: 1, delivered: 1}
	nodelayDone := false
	setNodelay := func(t time.Duration) {
		if p.nodelay && !nodelayDone {
			w.call(t, fmt.Sprintf("setsockopt(%d, IPPROTO_TCP, TCP_NODELAY, [1], 4) = 0", fd),
				fmt.Sprintf("packet %d is a small segment sent while another was unacknowledged (no Nagle)", p.nodelayWhy))
			nodelayDone = true
		}
	}
	for i := range c.Segs {
		s := &c.Segs[i]
		if d := s.Time.Sub(w.t0); d > maxSpan {
			return "", fmt.Errorf("packet %d comes %.0f s after the connection's first packet; from-pcap writes scripts of at most %.0f s", s.Num, d.Seconds(), maxSpan.Seconds())
		}
		t := w.at(s.Time)
		if p.fromKernel(s) {
			if p.dropped[i] {
				continue
			}
			note := ""
			if m, ok := p.merged[i]; ok {
				run := *s
				run.Len, run.Flags = m.len, s.Flags|packet.PSH
				s = &run
				note = fmt.Sprintf(" // packets %d to %d: one write the application was still copying; replayed, it is sent at once", c.Segs[i].Num, m.last)
			}
			if err := p.outbound(w, st, i, s, t, &fd, setNodelay, note); err != nil {
				return "", err
			}
			continue
		}
		line, err := p.packetLine(s, false)
		if err != nil {
			return "", err
		}
		w.line(t, line)
		if i == p.establish {
			if p.passive {
				w.call(t, "accept(3, ..., ...) = 4", fmt.Sprintf("packet %d completes the handshake", s.Num))
				fd, st.fdOpen = 4, true
				setNodelay(t)
			}
		}
		if s.Flags&packet.RST != 0 {
			st.reset = true
		}
		st.receive(s.Seq-p.isnP, s.Len, s.Flags&packet.SYN != 0)
		if !st.fdOpen || st.closed || st.reset {
			continue
		}
		if n := p.deliverable(st); n > 0 {
			w.call(t, fmt.Sprintf("read(%d, ..., %d) = %d", fd, n, n), fmt.Sprintf("the peer's data up to packet %d", s.Num))
		}
	}
	return w.b.String(), nil
}

// outbound writes the calls a kernel segment implies, then the segment.
func (p *plan) outbound(w *writer, st *stream, idx int, s *Segment, t time.Duration, fd *int, setNodelay func(time.Duration), note string) error {
	switch {
	case s.Flags&packet.SYN != 0 && s.Flags&packet.ACK == 0:
		if st.synSent {
			note = " // retransmission"
			break
		}
		st.synSent = true
		if p.passive {
			break // a bare SYN from a listener: simultaneous open of a second kind; sent by the kernel
		}
		setNodelay(t)
		if p.establish >= 0 {
			end := w.at(p.c.Segs[p.establish].Time)
			w.last = t // at() moved the clock: the connect line is written now
			fmt.Fprintf(&w.b, "%s...%s connect(3, ..., ...) = 0 // inferred: the kernel's SYN; connect returns at packet %d, which completes the handshake\n",
				w.time(t), w.time(end), p.c.Segs[p.establish].Num)
		} else {
			w.call(t, "connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)", "the kernel's SYN")
		}
		st.fdOpen = true
	case s.Flags&packet.SYN != 0:
		if st.synAckSent {
			note = " // retransmission"
		}
		st.synAckSent = true
	}
	if s.Flags&packet.SYN == 0 {
		start := s.Seq - p.isnK
		end := start + uint32(s.Len)
		switch {
		case s.Len > 0 && seqLess(st.sndMax, end):
			if seqLess(start, st.sndMax) {
				note = " // partly a retransmission"
			}
			if n, ok := p.writes[idx]; ok && st.fdOpen && !st.closed && !st.shut {
				why := fmt.Sprintf("the kernel sends new data in packet %d", s.Num)
				if n > int(end-st.sndMax) {
					why = fmt.Sprintf("the kernel sends new data from packet %d on, to the next segment with PSH", s.Num)
				}
				w.call(w.callAt(t), fmt.Sprintf("write(%d, ..., %d) = %d", *fd, n, n), why)
			}
			st.sndMax = end
		case s.Len > 0:
			note = " // retransmission"
		}
		if s.Flags&packet.FIN != 0 {
			if st.finSent {
				if s.Len == 0 {
					note = " // retransmission"
				}
			} else {
				st.finSent = true
				if st.fdOpen && !st.closed && !st.shut {
					if p.shutdown {
						w.call(w.callAt(t), fmt.Sprintf("shutdown(%d, SHUT_WR) = 0", *fd), fmt.Sprintf("the kernel's FIN in packet %d; it goes on receiving after it", s.Num))
						st.shut = true
					} else {
						w.call(w.callAt(t), fmt.Sprintf("close(%d) = 0", *fd), fmt.Sprintf("the kernel's FIN in packet %d", s.Num))
						st.closed = true
					}
				}
			}
		}
		if s.Flags&packet.RST != 0 && st.fdOpen && !st.closed && !st.reset {
			w.call(w.callAt(t), fmt.Sprintf("setsockopt(%d, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0", *fd), fmt.Sprintf("the kernel resets the open connection in packet %d", s.Num))
			w.call(w.callAt(t), fmt.Sprintf("close(%d) = 0", *fd), fmt.Sprintf("the kernel's RST in packet %d", s.Num))
			st.closed = true
		}
	}
	line, err := p.packetLine(s, true)
	if err != nil {
		return err
	}
	w.line(t, line+note)
	return nil
}

// stream is the script's view of the byte streams while lines are written.
type stream struct {
	fdOpen              bool // accept or connect has given the connection's fd
	closed, shut, reset bool // close, shutdown(SHUT_WR), or the peer's RST
	synSent, synAckSent bool
	finSent             bool
	sndMax              uint32      // one past the kernel's highest data sent, relative
	rcvNxt              uint32      // one past the peer's contiguous data received, relative
	ooo                 [][2]uint32 // the peer's data beyond rcvNxt
	delivered           uint32      // one past the peer data handed to read()
}

// receive records peer data [start, start+n).
func (st *stream) receive(start uint32, n int, syn bool) {
	if syn {
		start++
	}
	if n == 0 {
		return
	}
	end := start + uint32(n)
	// Data after a hole usually arrives in order: extend the last range
	// rather than add one, so a hole never filled (a capture that lost a
	// packet) keeps this linear.
	if k := len(st.ooo) - 1; k >= 0 && !seqLess(start, st.ooo[k][0]) && !seqLess(st.ooo[k][1], start) {
		if seqLess(st.ooo[k][1], end) {
			st.ooo[k][1] = end
		}
	} else {
		st.ooo = append(st.ooo, [2]uint32{start, end})
	}
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(st.ooo); i++ {
			r := st.ooo[i]
			if !seqLess(st.rcvNxt, r[0]) { // r starts at or before rcvNxt
				if seqLess(st.rcvNxt, r[1]) {
					st.rcvNxt = r[1]
				}
				st.ooo = append(st.ooo[:i], st.ooo[i+1:]...)
				i--
				changed = true
			}
		}
	}
}

// deliverable is how many new bytes read() returns now: the contiguous
// data, but only what the kernel acknowledges at some point (data it
// dropped is never readable), and never the peer's FIN.
func (p *plan) deliverable(st *stream) int {
	limit := st.rcvNxt
	if p.haveAck && seqLess(p.maxAckP, limit) {
		limit = p.maxAckP
	}
	if !p.haveAck {
		return 0
	}
	if p.peerFin && seqLess(p.peerFinRel, limit) {
		limit = p.peerFinRel
	}
	if !seqLess(st.delivered, limit) {
		return 0
	}
	n := int(limit - st.delivered)
	st.delivered = limit
	return n
}

// packetLine writes a segment in script syntax, its sequence numbers
// relative to each side's ISN.
func (p *plan) packetLine(s *Segment, outbound bool) (string, error) {
	var b strings.Builder
	if outbound {
		b.WriteString("> ")
	} else {
		b.WriteString("< ")
	}
	b.WriteString(flagString(s.Flags))
	seqBase, ackBase := p.isnP, p.isnK
	if outbound {
		seqBase, ackBase = p.isnK, p.isnP
	}
	start := s.Seq - seqBase
	fmt.Fprintf(&b, " %d:%d(%d)", start, start+uint32(s.Len), s.Len)
	if s.Flags&packet.ACK != 0 {
		fmt.Fprintf(&b, " ack %d", s.Ack-ackBase)
	}
	if !outbound || p.writesWindow(s) {
		fmt.Fprintf(&b, " win %d", s.Window)
	}
	if len(s.Options) > 0 {
		o, err := formatOptions(s.Options, ackBase, outbound)
		if err != nil {
			return "", fmt.Errorf("packet %d: %v", s.Num, err)
		}
		b.WriteString(" " + o)
	}
	return b.String(), nil
}

// writesWindow reports whether an outbound segment's window is written.
func (p *plan) writesWindow(s *Segment) bool {
	switch p.windows {
	case "all":
		return true
	case "none":
		return false
	}
	return s.Flags&packet.SYN != 0
}

// flagString writes flags in script order: F S R P U E W A, then "." for ACK.
func flagString(f packet.TCPFlags) string {
	var b strings.Builder
	for _, c := range []struct {
		bit packet.TCPFlags
		ch  byte
	}{{packet.FIN, 'F'}, {packet.SYN, 'S'}, {packet.RST, 'R'}, {packet.PSH, 'P'}, {packet.URG, 'U'}, {packet.ECE, 'E'}, {packet.CWR, 'W'}, {packet.AE, 'A'}} {
		if f&c.bit != 0 {
			b.WriteByte(c.ch)
		}
	}
	if f&packet.ACK != 0 {
		b.WriteByte('.')
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// formatOptions writes raw options as a script option list, byte for byte:
// nop and eol padding kept, SACK blocks relative to the acknowledged
// side's ISN, TS values as sent (the runtime maps an inbound ecr to the
// live value of the outbound val it echoes). An option the language
// cannot write is, outbound, not checked (<...>); inbound, replaced by as
// many nops so the header keeps its length.
func formatOptions(opts []byte, sackBase uint32, outbound bool) (string, error) {
	var parts []string
	for i := 0; i < len(opts); {
		kind := opts[i]
		switch kind {
		case packet.OptEOL:
			// The rest is padding: each byte an EOL.
			for ; i < len(opts); i++ {
				parts = append(parts, "eol")
			}
			continue
		case packet.OptNOP:
			parts = append(parts, "nop")
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			return "", fmt.Errorf("TCP option kind %d has a bad length", kind)
		}
		n := int(opts[i+1])
		d := opts[i+2 : i+n]
		var s string
		switch {
		case kind == packet.OptMSS && n == 4:
			s = fmt.Sprintf("mss %d", binary.BigEndian.Uint16(d))
		case kind == packet.OptWScale && n == 3:
			s = fmt.Sprintf("wscale %d", d[0])
		case kind == packet.OptSACKOK && n == 2:
			s = "sackOK"
		case kind == packet.OptTS && n == 10:
			s = fmt.Sprintf("TS val %d ecr %d", binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:]))
		case kind == packet.OptSACK && n >= 10 && (n-2)%8 == 0:
			var bl []string
			for ; len(d) >= 8; d = d[8:] {
				bl = append(bl, fmt.Sprintf("%d:%d", binary.BigEndian.Uint32(d)-sackBase, binary.BigEndian.Uint32(d[4:])-sackBase))
			}
			s = "sack " + strings.Join(bl, " ")
		default:
			if outbound {
				return "<...>", nil
			}
			for range n {
				parts = append(parts, "nop")
			}
			i += n
			continue
		}
		parts = append(parts, s)
		i += n
	}
	return "<" + strings.Join(parts, ",") + ">", nil
}
