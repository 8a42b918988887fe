package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

func (r *runner) runPacket(es *eventState, rec *EventRecord) error {
	p := es.ev.Packet
	rec.Script = p
	switch {
	case p.UDP != nil:
		return r.runUDP(es, rec)
	case p.ICMP != nil:
		return r.runICMP(es, rec)
	case p.TCP == nil:
		return &Failure{Pos: es.ev.Pos, Kind: FailScript, Msg: "error handling packet: unsupported packet type"}
	}
	sock, err := r.socketForPacket(es)
	if err != nil {
		return err
	}
	if p.Direction == parser.Outbound {
		return r.runOutbound(es, sock, rec)
	}
	return r.runInbound(es, sock, rec)
}

// packetFail stops the run with an "error handling packet" failure.
func packetFail(es *eventState, format string, args ...any) *Failure {
	return &Failure{Pos: es.ev.Pos, Kind: FailPacket, Msg: "error handling packet: " + fmt.Sprintf(format, args...)}
}

// socketForPacket finds the socket a TCP packet line belongs to, creating
// the child socket when a scripted SYN reaches a listener.
func (r *runner) socketForPacket(es *eventState) (*socket, error) {
	p := es.ev.Packet
	t := p.TCP
	syn := t.Flags&parser.FlagSYN != 0
	ack := t.Flags&parser.FlagACK != 0
	r.wireServerSocket(p)
	sut := r.sut
	switch {
	case sut == nil:
		return nil, packetFail(es, "no matching socket for script packet")
	case p.Direction == parser.Inbound && syn && !ack && sut.state == sockListening:
		child := newSocket(sut.proto)
		child.listener = sut
		child.local = sut.local
		if child.local.Addr().IsUnspecified() || !child.local.IsValid() {
			child.local = netip.AddrPortFrom(r.cfg.LocalIP, sut.local.Port())
		}
		port, err := r.ephemeralPort()
		if err != nil {
			return nil, packetFail(es, "reserving a port for the scripted peer: %v", err)
		}
		child.remote = netip.AddrPortFrom(r.cfg.RemoteIP, port)
		child.state = sockPassiveSYNIn
		child.remoteISN = t.Seq.Start
		r.sockets = append(r.sockets, child)
		r.sut = child
		return child, nil
	case p.Direction == parser.Outbound && syn && !ack && sut.state == sockNew && sut.proto == unix.IPPROTO_TCP:
		// A SYN from a socket no connect() was seen for: sendto() or
		// sendmsg() with MSG_FASTOPEN connects too (TFO, RFC 7413).
		if !sut.remote.IsValid() {
			sut.remote = netip.AddrPortFrom(r.cfg.RemoteIP, r.cfg.ConnectPort)
		}
		if !sut.local.IsValid() {
			sut.local = netip.AddrPortFrom(r.cfg.LocalIP, 0)
		}
		sut.state = sockConnecting
		sut.scriptLocalISN = t.Seq.Start
	case p.Direction == parser.Outbound && syn && !ack && sut.state == sockConnecting:
		sut.scriptLocalISN = t.Seq.Start
	case p.Direction == parser.Outbound && syn && ack && sut.state == sockPassiveSYNIn:
		sut.scriptLocalISN = t.Seq.Start
	case p.Direction == parser.Inbound && syn && (sut.state == sockSYNSent || sut.state == sockConnecting):
		sut.remoteISN = t.Seq.Start
	}
	return sut, nil
}

// ephemeralPort reserves a port number for the scripted peer the way the
// reference does: whatever the kernel hands out for a bind to port 0.
func (r *runner) ephemeralPort() (uint16, error) {
	p, fd, err := kernelEphemeralPort(r.cfg)
	if err != nil {
		return 0, err
	}
	r.reservedPorts = append(r.reservedPorts, fd)
	return p, nil
}

// --- inbound ---------------------------------------------------------------

func (r *runner) runInbound(es *eventState, s *socket, rec *EventRecord) error {
	t := es.ev.Packet.TCP
	pkt, err := r.buildInbound(es.ev.Packet, s)
	if err != nil {
		return packetFail(es, "%v", err)
	}
	if pkt, err = wrapEncap(es.ev.Packet.Encap, pkt); err != nil {
		return packetFail(es, "%v", err)
	}
	inject := r.net.Inject
	if g, ok := r.net.(GSOInjector); ok && r.cfg.MSS > 0 && len(es.ev.Packet.Encap) == 0 {
		inject = func(p []byte) error { return g.InjectGSO(p, r.cfg.MSS) }
	}
	rec.Summary = formatScriptTCP(t)
	return r.injectAt(es, rec, pkt, inject, t.ACE != nil)
}

// injectAt waits for an inbound packet's time, stamps the event and hands
// the packet to the kernel with inject.
func (r *runner) injectAt(es *eventState, rec *EventRecord, pkt []byte, inject func([]byte) error, ace bool) error {
	rec.Kind = KindInbound
	if err := r.waitFor(es, "inbound packet", false); err != nil {
		return err
	}
	rec.ActualTime = r.now()
	// The packet arrived when it was handed over: the kernel then runs its
	// whole receive path inside the write (tens of microseconds), which
	// the next relative time should not inherit.
	es.doneAt = rec.ActualTime
	if err := inject(pkt); err != nil {
		return packetFail(es, "injecting packet: %v", err)
	}
	rec.Live = pkt
	r.traceInjected(pkt, rec.ActualTime, ace)
	return nil
}

// buildInbound maps a scripted inbound segment to live values and encodes it.
func (r *runner) buildInbound(p *parser.Packet, s *socket) ([]byte, error) {
	t := p.TCP
	syn := t.Flags&parser.FlagSYN != 0
	ackOff := s.localScriptToLive(syn)
	seq := t.Seq.Start + s.remoteScriptToLive(syn)
	var ack uint32
	if t.Ack != nil {
		ack = *t.Ack
		if t.Flags&parser.FlagACK != 0 {
			ack += ackOff
		}
	}
	opts, err := r.inboundOptions(t, s, ackOff)
	if err != nil {
		return nil, err
	}
	src, dst := s.remote, s.local
	if t.SrcPort != nil {
		src = netip.AddrPortFrom(src.Addr(), *t.SrcPort)
	}
	if t.DstPort != nil {
		dst = netip.AddrPortFrom(dst.Addr(), *t.DstPort)
	}
	ipf := packet.IPFields{Src: src.Addr(), Dst: dst.Addr(), TTL: 255}
	applyIPInfo(&ipf, p.IP)
	tf := packet.TCPFields{
		SrcPort: src.Port(), DstPort: dst.Port(),
		Seq: seq, Ack: ack,
		Flags:   tcpFlags(t),
		Options: opts,
	}
	if t.Win != nil {
		tf.Window = uint16(*t.Win)
	}
	if t.Urg != nil {
		tf.Urgent = uint16(*t.Urg)
	}
	s.lastInSeq, s.lastInAck, s.lastInWin, s.injected = seq+t.Seq.Len, ack, tf.Window, true
	// SYN and FIN each take a sequence number (RFC 9293 section 3.4).
	if syn {
		s.lastInSeq++
	}
	if t.Flags&parser.FlagFIN != 0 {
		s.lastInSeq++
	}
	return packet.BuildTCP(ipf, tf, make([]byte, t.Seq.Len)), nil
}

func applyIPInfo(f *packet.IPFields, info *parser.IPInfo) {
	if info == nil {
		return
	}
	if info.TOS != nil {
		f.TOS = *info.TOS
	}
	switch info.ECN {
	case parser.ECNNotECT:
		f.TOS &^= 3
	case parser.ECNECT1:
		f.TOS = f.TOS&^3 | 1
	case parser.ECNECT0, parser.ECNECT01:
		f.TOS = f.TOS&^3 | 2
	case parser.ECNCE:
		f.TOS |= 3
	}
	if info.TTL != nil {
		f.TTL = *info.TTL
	}
	if info.FlowLabel != nil {
		f.FlowLabel = *info.FlowLabel
	}
}

// tcpFlags turns the script's flags (and an AccECN ACE digit) into header bits.
func tcpFlags(t *parser.TCP) packet.TCPFlags {
	f := packet.TCPFlags(t.Flags)
	if t.ACE != nil {
		f &^= packet.ECE | packet.CWR | packet.AE
		ace := *t.ACE
		if ace&1 != 0 {
			f |= packet.ECE
		}
		if ace&2 != 0 {
			f |= packet.CWR
		}
		if ace&4 != 0 {
			f |= packet.AE
		}
	}
	return f
}

// inboundOptions encodes the script's options with live SACK blocks and a
// live TS ecr.
func (r *runner) inboundOptions(t *parser.TCP, s *socket, ackOff uint32) ([]byte, error) {
	var out []byte
	for _, o := range t.Options {
		switch o.Kind {
		case parser.OptSACK:
			var bl [][2]uint32
			for _, b := range o.Blocks {
				bl = append(bl, [2]uint32{b.Left + ackOff, b.Right + ackOff})
			}
			out = packet.AppendOption(out, packet.SACKOption(bl))
		case parser.OptTS:
			ecr := o.TSEcr
			if t.Flags&parser.FlagACK != 0 {
				live, ok := s.tsVal[ecr]
				switch {
				case ok:
					ecr = live
				case r.cfg.TSEcrScaled && s.firstTS:
					ecr = ecr - s.firstScriptVal + s.firstLiveVal
				default:
					return nil, fmt.Errorf("unable to infer live TS ecr for script TS ecr %d;  no matching or preceding outbound TS val", o.TSEcr)
				}
			}
			out = packet.AppendOption(out, packet.TSOption(o.TSVal, ecr))
		default:
			opt, err := scriptOption(o)
			if err != nil {
				return nil, err
			}
			out = packet.AppendOption(out, opt)
		}
	}
	if len(out)%4 != 0 {
		return nil, fmt.Errorf("TCP options are %d bytes, not a multiple of 4", len(out))
	}
	return out, nil
}

// scriptOption encodes one option as written (no live mapping).
func scriptOption(o *parser.TCPOption) (packet.Option, error) {
	switch o.Kind {
	case parser.OptNOP:
		return packet.Option{Kind: packet.OptNOP}, nil
	case parser.OptEOL:
		return packet.Option{Kind: packet.OptEOL}, nil
	case parser.OptMSS:
		return packet.MSSOption(uint16(o.Value)), nil
	case parser.OptWScale:
		return packet.WScaleOption(uint8(o.Value)), nil
	case parser.OptSACKOK:
		return packet.SACKOKOption(), nil
	case parser.OptSACK:
		var bl [][2]uint32
		for _, b := range o.Blocks {
			bl = append(bl, [2]uint32{b.Left, b.Right})
		}
		return packet.SACKOption(bl), nil
	case parser.OptTS:
		return packet.TSOption(o.TSVal, o.TSEcr), nil
	case parser.OptMD5:
		d := o.Cookie
		if d == nil {
			d = make([]byte, 16)
		}
		return packet.Option{Kind: packet.OptMD5, Data: d}, nil
	case parser.OptFO:
		return packet.Option{Kind: packet.OptFO, Data: o.Cookie}, nil
	case parser.OptFOEXP:
		d := binary.BigEndian.AppendUint16(nil, packet.FastOpenExpMagic)
		return packet.Option{Kind: packet.OptExp, Data: append(d, o.Cookie...)}, nil
	case parser.OptAccECN:
		kind := packet.OptAccECN0
		if o.Order == 1 {
			kind = packet.OptAccECN1
		}
		var d []byte
		for _, c := range o.Counters {
			d = append(d, byte(c>>16), byte(c>>8), byte(c))
		}
		return packet.Option{Kind: kind, Data: d}, nil
	case parser.OptExp:
		return packet.Option{Kind: o.RawKind, Data: o.RawData}, nil
	}
	return packet.Option{}, fmt.Errorf("unsupported TCP option %q", o.Kind)
}

func scriptOptions(t *parser.TCP) []packet.Option {
	var opts []packet.Option
	for _, o := range t.Options {
		if opt, err := scriptOption(o); err == nil {
			opts = append(opts, opt)
		}
	}
	return opts
}

// --- outbound --------------------------------------------------------------

// sniffed is a live outbound segment of the socket under test.
type sniffed struct {
	d      *packet.Decoded // the innermost IP packet
	layers []packet.Layer  // encapsulation in front of it, outermost first
	time   time.Time
}

func (r *runner) runOutbound(es *eventState, s *socket, rec *EventRecord) error {
	t := es.ev.Packet.TCP
	rec.Kind = KindOutbound
	rec.Summary = formatScriptTCP(t)
	want := int(t.Seq.Len)
	var segs []sniffed
	got := 0
	deadline := r.outboundDeadline(es)
	r.passedBy = r.passedBy[:0]
	// The packet's time is the kernel's stamp, so the queued output may go
	// while the kernel's timer runs; not when the packet is due now: on
	// one CPU the output would hold up the kernel's sending it. (Measured
	// from the previous event's end, without reading the clock, which
	// costs microseconds in a guest.)
	if len(r.pending) > 0 && es.time-r.lastDone > outputSlack {
		r.flushOutput()
	}
	waitStart := time.Now()
	for {
		seg, err := r.sniffFor(s, deadline)
		if err != nil {
			if errors.Is(err, ErrTimeout) {
				f := packetFail(es, "Timed out waiting for packet")
				if len(segs) > 0 {
					f.Hint, f.Field = r.splitHint(s, t, segs, nil), "payload"
				} else {
					f.Hint = r.missingHint(s, t, time.Since(waitStart))
				}
				return f
			}
			return packetFail(es, "%v", err)
		}
		r.learnFromOutbound(s, seg.d, t)
		r.traceSniffed(seg)
		if len(segs) > 0 {
			if msg := fragmentMismatch(segs[len(segs)-1].d, seg.d); msg != "" {
				f := packetFail(es, "%s", msg)
				f.Script = fmt.Sprintf("script packet: %9.6f %s", secs(es.time), formatScriptTCP(t))
				f.Actual = fmt.Sprintf("actual packet: %9.6f %s", secs(r.wallToScript(seg.time)), r.formatLive(s, seg.d))
				f.Hint, f.Field = r.splitHint(s, t, segs, &seg), "tcp_seq"
				return f
			}
		}
		segs = append(segs, seg)
		got += len(seg.d.TCP.Payload())
		if got >= want || r.cfg.StrictSegments {
			break
		}
	}
	live := segs[len(segs)-1]
	d := live.d
	if len(segs) > 1 {
		d = aggregate(segs)
	}
	rec.ActualTime = r.wallToScript(live.time)
	rec.Live = d.Raw
	if got != want {
		f := packetFail(es, "live packet payload: expected %d bytes vs actual %d bytes", want, got)
		r.addDumps(f, es, t, s, d, live.time)
		return f
	}
	if err := r.verifyOutbound(es, s, sniffed{d: d, layers: live.layers, time: live.time}); err != nil {
		return err
	}
	if s.state == sockSYNSent || s.state == sockPassiveSYNACKOut {
		if packet.TCPFlags(d.TCP.Flags())&packet.SYN == 0 {
			s.state = sockOpen
		}
	}
	return nil
}

// outboundDeadline: the time the script allows plus two seconds, as the
// reference; a "*" packet may take a minute.
func (r *runner) outboundDeadline(es *eventState) time.Time {
	if es.ev.Time.Kind == parser.TimeAny {
		return time.Now().Add(time.Minute)
	}
	last, _ := r.lastTime()
	wait := max(es.time-last, es.timeEnd-last)
	secs := wait.Truncate(time.Second) + 2*time.Second
	return time.Now().Add(secs)
}

// sniffFor returns the next packet the kernel sent from socket s, the
// socket under test. Packets of every other socket (closed ones, a
// listener's other children) are skipped, as the reference does: it only
// ever matches sniffed packets against the socket under test.
func (r *runner) sniffFor(s *socket, deadline time.Time) (sniffed, error) {
	return r.sniffMatch(deadline, func(d *packet.Decoded) bool {
		if d.TCP == nil {
			return false
		}
		src := netip.AddrPortFrom(d.Src.Unmap(), d.TCP.SourcePort())
		dst := netip.AddrPortFrom(d.Dst.Unmap(), d.TCP.DestinationPort())
		// A socket that does not know its port yet (a fast-open sendto)
		// claims only a SYN, as the reference's connect matching does.
		fl := d.TCP.Flags()
		learning := s.local.Port() == 0
		if learning && (fl&packet.SYN == 0 || fl&packet.ACK != 0) {
			return false
		}
		if !s.matchesOutbound(src, dst) {
			return false
		}
		if learning {
			s.local = src
		}
		return true
	})
}

func (r *runner) observeFrame(f Frame) {
	for _, o := range r.obs {
		o.Frame(f)
	}
}

// drainFrames hands observers what is still queued at the end of a run.
func (r *runner) drainFrames() {
	if len(r.obs) == 0 || r.net == nil {
		return
	}
	deadline := time.Now().Add(20 * time.Millisecond)
	for {
		f, err := r.net.Next(deadline)
		if err != nil {
			return
		}
		r.observeFrame(f)
	}
}

// learnFromOutbound records the kernel's ISN from its SYN or SYN-ACK.
func (r *runner) learnFromOutbound(s *socket, d *packet.Decoded, t *parser.TCP) {
	fl := d.TCP.Flags()
	if fl&packet.SYN == 0 || t.Flags&parser.FlagSYN == 0 {
		return
	}
	switch s.state {
	case sockConnecting:
		s.liveLocalISN, s.haveLocalISN = d.TCP.SequenceNumber(), true
		s.state = sockSYNSent
	case sockPassiveSYNIn:
		s.liveLocalISN, s.haveLocalISN = d.TCP.SequenceNumber(), true
		s.state = sockPassiveSYNACKOut
	}
}

// fragmentMismatch checks that a segment can be merged after prev.
func fragmentMismatch(prev, cur *packet.Decoded) string {
	p, c := prev.TCP, cur.TCP
	if want := p.SequenceNumber() + uint32(len(p.Payload())); c.SequenceNumber() != want {
		return fmt.Sprintf("live packet field tcp_seq: expected: %d (0x%x) vs actual: %d (0x%x)",
			want, want, c.SequenceNumber(), c.SequenceNumber())
	}
	if a, b := p.Flags()&^(packet.PSH|packet.FIN|packet.CWR), c.Flags()&^(packet.PSH|packet.FIN|packet.CWR); a != b {
		return fmt.Sprintf("live packet field tcp_flags: expected: %s vs actual: %s", a, b)
	}
	return ""
}

// aggregate merges consecutive segments into one, as TSO would have sent
// them: the last header (with its flags, ack and window) and the first seq.
func aggregate(segs []sniffed) *packet.Decoded {
	last := segs[len(segs)-1].d
	var payload []byte
	for _, s := range segs {
		payload = append(payload, s.d.TCP.Payload()...)
	}
	t := last.TCP
	tf := packet.TCPFields{
		SrcPort: t.SourcePort(), DstPort: t.DestinationPort(),
		Seq: segs[0].d.TCP.SequenceNumber(), Ack: t.AckNumber(),
		Flags: t.Flags(), Reserved: t.Reserved(), Window: t.WindowSize(), Urgent: t.UrgentPointer(),
		Options: append([]byte(nil), t.Options()...),
	}
	ipf := packet.IPFields{Src: last.Src, Dst: last.Dst, TOS: last.TOS, TTL: last.TTL, FlowLabel: last.FlowLabel, ID: last.ID}
	d, _ := packet.Decode(packet.BuildTCP(ipf, tf, payload))
	return d
}

func scriptTSVal(t *parser.TCP) (uint32, bool) {
	for _, o := range t.Options {
		if o.Kind == parser.OptTS {
			return o.TSVal, true
		}
	}
	return 0, false
}

func scriptTimeText(es *eventState) string {
	switch es.ev.Time.Kind {
	case parser.TimeAny:
		return "any"
	case parser.TimeAbsoluteRange, parser.TimeRelativeRange:
		return fmt.Sprintf("%.6f~%.6f", secs(es.time), secs(es.timeEnd))
	}
	return fmt.Sprintf("%.6f", secs(es.time))
}

func (r *runner) addDumps(f *Failure, es *eventState, t *parser.TCP, s *socket, d *packet.Decoded, when time.Time) {
	f.Script = fmt.Sprintf("script packet: %9.6f %s", secs(es.time), formatScriptTCP(t))
	f.Actual = fmt.Sprintf("actual packet: %9.6f %s", secs(r.wallToScript(when)), r.formatLive(s, d))
}

// compareOptions compares option lists kind by kind, as the reference.
func (r *runner) compareOptions(es *eventState, want, got []packet.Option, parseErr error) string {
	if parseErr != nil {
		return "bad outbound TCP options"
	}
	if len(want) != len(got) {
		return "bad outbound TCP options"
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Kind != g.Kind {
			return "bad outbound TCP options"
		}
		switch w.Kind {
		case packet.OptEOL, packet.OptNOP:
		case packet.OptTS:
			if r.cfg.TSTickUsecs == 0 {
				continue
			}
			wv, _, _ := w.TSValues()
			gv, _, _ := g.TSValues()
			tol := r.cfg.ToleranceUsecs
			dyn := int64(r.cfg.TolerancePercent / 100 * float64(es.time.Microseconds()))
			tol = max(tol, dyn)
			diff := int64(int32(gv - wv))
			if diff < 0 {
				diff = -diff
			}
			if diff*r.cfg.TSTickUsecs > tol {
				return fmt.Sprintf("bad outbound TCP timestamp value, tolerance %d", tol)
			}
		default:
			errType := ""
			if w.Len() != g.Len() {
				errType = "bad length"
			} else if string(w.Data) != string(g.Data) {
				errType = "bad value"
			}
			if errType != "" {
				return fmt.Sprintf("%s in outbound TCP option (kind=%d): expected: %s actual: %s", errType, w.Kind, w, g)
			}
		}
	}
	return ""
}

func nonZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return true
		}
	}
	return false
}

func describePayload(b []byte) string {
	if !nonZero(b) {
		return fmt.Sprintf("%d zero bytes", len(b))
	}
	return fmt.Sprintf("%d bytes, not all zero", len(b))
}

// formatScriptTCP writes a script TCP line the way the reference prints
// packets: flags seq:end(len) [ack N] [win N] [<options>].
func formatScriptTCP(t *parser.TCP) string {
	var b strings.Builder
	b.WriteString(tcpFlagsText(tcpFlags(t), t.ACE))
	fmt.Fprintf(&b, " %d:%d(%d)", t.Seq.Start, t.Seq.Start+t.Seq.Len, t.Seq.Len)
	if t.Flags&parser.FlagACK != 0 && t.Ack != nil {
		fmt.Fprintf(&b, " ack %d", *t.Ack)
	}
	if t.Win != nil {
		fmt.Fprintf(&b, " win %d", *t.Win)
	}
	if t.AnyOptions {
		b.WriteString(" <...>")
	} else if len(t.Options) > 0 {
		b.WriteString(" " + packet.FormatOptions(scriptOptions(t)))
	}
	return b.String()
}

func tcpFlagsText(f packet.TCPFlags, ace *uint8) string {
	if ace == nil {
		return f.String()
	}
	s := (f &^ (packet.ECE | packet.CWR | packet.AE)).String()
	if s == "-" {
		s = ""
	}
	return fmt.Sprintf("%s%d", s, *ace)
}

// formatLive writes a live segment in script space.
func (r *runner) formatLive(s *socket, d *packet.Decoded) string {
	tcp := d.TCP
	syn := tcp.Flags()&packet.SYN != 0
	seq := tcp.SequenceNumber() - s.localScriptToLive(syn)
	var b strings.Builder
	b.WriteString(tcp.Flags().String())
	n := uint32(len(tcp.Payload()))
	fmt.Fprintf(&b, " %d:%d(%d)", seq, seq+n, n)
	if tcp.Flags()&packet.ACK != 0 {
		fmt.Fprintf(&b, " ack %d", tcp.AckNumber()-s.remoteScriptToLive(syn))
	}
	fmt.Fprintf(&b, " win %d", tcp.WindowSize())
	if opts, err := packet.ParseOptions(tcp.Options()); err == nil && len(opts) > 0 {
		b.WriteString(" " + packet.FormatOptions(opts))
	}
	return b.String()
}
