package runtime

import (
	"fmt"
	"strings"
	"time"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

// An outbound check has packetimpact's shape: the header the script
// expects (built from the script line and the connection's mapping), the
// live header (the kernel's segment mapped into script space), and one
// field diff that every mismatch goes through, in the reference's order
// (run_packet.c, verify_outbound_live_packet), so its first failing field
// gives the reference's message and the table shows every field.

// fieldCheck is one compared field: the reference's message when the
// values differ, and how the table shows them. The table is made only for
// a failure: on the way to the next event's time base a check costs a
// comparison, not formatting.
type fieldCheck struct {
	name     string
	skip     bool   // not compared: the script does not care ("-")
	mismatch string // "" when the field matches
	show     func() (want, got string)
}

// numCheck compares a numeric field with the reference's message.
func numCheck(name string, want, got uint32) fieldCheck {
	c := fieldCheck{name: name, show: func() (string, string) { return fmt.Sprint(want), fmt.Sprint(got) }}
	if want != got {
		c.mismatch = fmt.Sprintf("live packet field %s: expected: %d (0x%x) vs actual: %d (0x%x)", name, want, want, got, got)
	}
	return c
}

// hexCheck is numCheck shown in hex (TOS, ECN bits).
func hexCheck(name string, want, got uint32) fieldCheck {
	c := numCheck(name, want, got)
	c.show = func() (string, string) { return fmt.Sprintf("0x%x", want), fmt.Sprintf("0x%x", got) }
	return c
}

// anyCheck shows a field the script does not care about.
func anyCheck(name string, got uint32) fieldCheck {
	return fieldCheck{name: name, skip: true, show: func() (string, string) { return "-", fmt.Sprint(got) }}
}

// textCheck is a field shown as text, compared by the caller.
func textCheck(name, mismatch string, show func() (string, string)) fieldCheck {
	return fieldCheck{name: name, mismatch: mismatch, show: show}
}

// diffFields is the field diff: the message of the first field that
// differs ("" when all match) and, then only, the table's rows.
func diffFields(checks []fieldCheck) (rows []FieldDiff, first string) {
	for _, c := range checks {
		if !c.skip && c.mismatch != "" {
			first = c.mismatch
			break
		}
	}
	if first == "" {
		return nil, ""
	}
	for _, c := range checks {
		want, got := c.show()
		rows = append(rows, FieldDiff{Field: c.name, Expected: want, Actual: got, Differs: !c.skip && c.mismatch != ""})
	}
	return rows, first
}

// tcpHeader is an outbound segment's compared fields in script space.
type tcpHeader struct {
	length     int    // of the segment, header included (what IP carries)
	dataOffset uint32 // TCP header length in 32-bit words
	flags      packet.TCPFlags
	reserved   uint32
	seq, ack   uint32
	window     *uint32 // nil: any window (expected header only)
	urgent     uint32
	opts       []packet.Option
	optErr     error // the live options did not parse
	anyOpts    bool  // "<...>": any options (expected header only)
	payload    []byte
}

// expectedTCP is the header script line t asks for. With "<...>" the
// options are not checked, so the lengths take the live options' size.
func expectedTCP(t *parser.TCP, liveOptLen int) tcpHeader {
	h := tcpHeader{flags: tcpFlags(t),
		seq: t.Seq.Start, window: t.Win, anyOpts: t.AnyOptions, payload: make([]byte, t.Seq.Len)}
	optLen := liveOptLen
	if !t.AnyOptions {
		h.opts = scriptOptions(t)
		optLen = len(packet.EncodeOptions(h.opts))
	}
	h.dataOffset = uint32(5 + optLen/4)
	h.length = packet.TCPMinLen + optLen + len(h.payload)
	if t.Ack != nil {
		h.ack = *t.Ack
	}
	if t.Urg != nil {
		h.urgent = *t.Urg
	}
	return h
}

// liveTCP is the kernel's segment d in script space, through s's mapping.
func liveTCP(s *socket, d *packet.Decoded) tcpHeader {
	tcp := d.TCP
	syn := tcp.Flags()&packet.SYN != 0
	win := uint32(tcp.WindowSize())
	h := tcpHeader{length: len(tcp), dataOffset: uint32(tcp.DataOffset() / 4), flags: tcp.Flags(), reserved: uint32(tcp.Reserved()),
		seq: s.scriptSeq(tcp.SequenceNumber(), syn), ack: tcp.AckNumber(), window: &win,
		urgent: uint32(tcp.UrgentPointer()), payload: tcp.Payload()}
	if tcp.Flags()&packet.ACK != 0 {
		h.ack = s.scriptAck(h.ack, syn)
	}
	h.opts, h.optErr = packet.ParseOptions(tcp.Options())
	for i, o := range h.opts {
		switch o.Kind {
		case packet.OptSACK:
			bl := o.SACKBlocks()
			for j := range bl {
				bl[j][0] = s.scriptAck(bl[j][0], syn)
				bl[j][1] = s.scriptAck(bl[j][1], syn)
			}
			h.opts[i] = packet.SACKOption(bl)
		case packet.OptTS:
			val, ecr, _ := o.TSValues()
			h.opts[i] = packet.TSOption(s.scriptTSVal(val), ecr)
		}
	}
	return h
}

// learnTS records the live TS val of the kernel's segment under the one
// its script line gives, before the segment is read in script space.
func learnTS(s *socket, t *parser.TCP, d *packet.Decoded) {
	scriptVal, ok := scriptTSVal(t)
	if !ok {
		return
	}
	opts, _ := packet.ParseOptions(d.TCP.Options())
	for _, o := range opts {
		if o.Kind == packet.OptTS {
			val, _, _ := o.TSValues()
			s.learnTSVal(scriptVal, val)
		}
	}
}

// ipHeaderChecks are the IP header fields the reference always checks:
// the protocol and the lengths (the version is what decoding went by).
func ipHeaderChecks(d *packet.Decoded, proto uint8, l4Len int) []fieldCheck {
	if d.Version == 4 {
		return []fieldCheck{
			numCheck("ipv4_protocol", uint32(proto), uint32(d.Proto)),
			numCheck("ipv4_header_length", 5, uint32(d.HeaderLen/4)),
			numCheck("ipv4_total_length", uint32(20+l4Len), uint32(d.TotalLen)),
		}
	}
	return []fieldCheck{
		numCheck("ipv6_payload_len", uint32(l4Len), uint32(d.TotalLen-d.HeaderLen)),
		numCheck("ipv6_next_header", uint32(proto), uint32(d.Proto)),
	}
}

// compareTCP are the TCP header's checks in the reference's order; ace
// compares AE, CWR and ECE as one counter.
func compareTCP(want, got tcpHeader, ace bool) []fieldCheck {
	bit := func(f, b packet.TCPFlags) uint32 {
		if f&b != 0 {
			return 1
		}
		return 0
	}
	flag := func(name string, b packet.TCPFlags) fieldCheck {
		return numCheck(name, bit(want.flags, b), bit(got.flags, b))
	}
	cs := []fieldCheck{
		numCheck("tcp_data_offset", want.dataOffset, got.dataOffset),
		flag("tcp_fin", packet.FIN), flag("tcp_syn", packet.SYN), flag("tcp_rst", packet.RST),
		flag("tcp_psh", packet.PSH), flag("tcp_ack", packet.ACK), flag("tcp_urg", packet.URG),
	}
	if ace {
		counter := func(f packet.TCPFlags) uint32 {
			return bit(f, packet.AE)<<2 | bit(f, packet.CWR)<<1 | bit(f, packet.ECE)
		}
		cs = append(cs, numCheck("tcp_ace", counter(want.flags), counter(got.flags)))
	} else {
		cs = append(cs, flag("tcp_ece", packet.ECE), flag("tcp_cwr", packet.CWR), flag("tcp_ae", packet.AE))
	}
	cs = append(cs,
		numCheck("tcp_reserved_bits", want.reserved, got.reserved),
		numCheck("tcp_seq", want.seq, got.seq),
		numCheck("tcp_ack_seq", want.ack, got.ack))
	if want.window == nil {
		cs = append(cs, anyCheck("tcp_window", *got.window))
	} else {
		cs = append(cs, numCheck("tcp_window", *want.window, *got.window))
	}
	return append(cs, numCheck("tcp_urg_ptr", want.urgent, got.urgent))
}

// optionsCheck compares options kind by kind (TS val only with
// --tcp_ts_tick_usecs), with the reference's messages.
func (r *runner) optionsCheck(es *eventState, want, got tcpHeader) fieldCheck {
	if want.anyOpts {
		return textCheck("tcp_options", "", func() (string, string) { return "<...>", packet.FormatOptions(got.opts) })
	}
	return textCheck("tcp_options", r.compareOptions(es, want.opts, got.opts, got.optErr), func() (string, string) {
		return packet.FormatOptions(want.opts), packet.FormatOptions(got.opts)
	})
}

// payloadCheck: the kernel's payload must be the script's zero bytes.
func payloadCheck(wantLen int, got []byte) fieldCheck {
	msg := ""
	if nonZero(got) {
		msg = "incorrect outbound data payload"
	}
	return textCheck("payload", msg, func() (string, string) {
		return fmt.Sprintf("%d zero bytes", wantLen), describePayload(got)
	})
}

// timeCheck compares when the packet was sent with the script's time.
func (r *runner) timeCheck(es *eventState, live sniffed) fieldCheck {
	actual := r.wallToScript(live.time)
	msg := r.verifyTime(es.ev.Time.Kind, es.time, es.timeEnd, actual, r.lastT(), "outbound packet")
	if msg != "" && r.sentDuringLastCall(es, actual) {
		msg = ""
	}
	return textCheck("time", msg,
		func() (string, string) { return scriptTimeText(es), fmt.Sprintf("%.6f", secs(actual)) })
}

// sentDuringLastCall: the packet of a "+0" line after a system call left
// while that call ran. Its time counts from the call's return, which
// godrill can only take once its thread runs again: a thread the machine
// held off for milliseconds at the end of a close() (states/fin-wait2.pkt:
// the FIN at 0.150051, the return seen at 0.156101, 1 suite run in 20)
// would make the kernel's packet, sent in the call as the script says,
// "early". The kernel did what the script says; the call's whole span
// stands for its return here.
func (r *runner) sentDuringLastCall(es *eventState, actual time.Duration) bool {
	last := r.last
	if last == nil || last.ev.Syscall == nil || last.ev.Syscall.HasEnd || es.ev.Time.Kind != parser.TimeRelative {
		return false
	}
	return es.time == es.offset && es.offset == last.doneAt && actual >= last.callStart && actual <= last.doneAt
}

// ipv4ChecksumCheck: the kernel's IPv4 header checksum must be right.
func ipv4ChecksumCheck(d *packet.Decoded) []fieldCheck {
	if d.Version != 4 {
		return nil
	}
	if !d.IPv4.ChecksumValid() {
		return []fieldCheck{textCheck("ipv4_checksum", "bad outbound IP checksum", func() (string, string) { return "valid", "bad" })}
	}
	return []fieldCheck{textCheck("ipv4_checksum", "", func() (string, string) { return "valid", "valid" })}
}

// layerChecks are the checks the reference makes before the header's
// fields: the encapsulation and the IPv6 flow label's consistency.
func layerChecks(p *parser.Packet, s *socket, live sniffed) []fieldCheck {
	var cs []fieldCheck
	if len(p.Encap) > 0 || len(live.layers) > 0 {
		cs = append(cs, textCheck("encapsulation", encapMismatch(p.Encap, live.layers), func() (string, string) {
			return fmt.Sprint(len(p.Encap)) + " layers", fmt.Sprint(len(live.layers)) + " layers"
		}))
	}
	if p.IP != nil && p.IP.FlowLabel != nil && live.d.Version == 6 {
		want, got := *p.IP.FlowLabel, live.d.FlowLabel
		cs = append(cs, textCheck("ipv6_flow_label", s.checkFlowLabel(p.IP, live.d), func() (string, string) {
			return fmt.Sprintf("0x%x", want), fmt.Sprintf("0x%x", got)
		}))
	}
	return cs
}

// ipInfoChecks are the checks of the IP fields a line sets (ecn, tos, ttl).
func ipInfoChecks(info *parser.IPInfo, d *packet.Decoded) []fieldCheck {
	if info == nil {
		return nil
	}
	var cs []fieldCheck
	switch info.ECN {
	case parser.ECNUnset:
	case parser.ECNECT01:
		got := uint32(d.TOS & 3)
		want := uint32(2)
		if got == 1 {
			want = 1
		}
		cs = append(cs, hexCheck("ip_ecn", want, got))
	default:
		want := map[parser.ECN]uint32{parser.ECNNotECT: 0, parser.ECNECT1: 1, parser.ECNECT0: 2, parser.ECNCE: 3}[info.ECN]
		cs = append(cs, hexCheck("ip_ecn", want, uint32(d.TOS&3)))
	}
	if info.TOS != nil {
		cs = append(cs, hexCheck("tos", uint32(*info.TOS), uint32(d.TOS)))
	}
	if info.TTL != nil && *info.TTL != 255 {
		cs = append(cs, numCheck("ttl", uint32(*info.TTL), uint32(d.TTL)))
	}
	return cs
}

// verifyOutbound checks the kernel's TCP segment against the script line.
func (r *runner) verifyOutbound(es *eventState, s *socket, live sniffed) error {
	p, d := es.ev.Packet, live.d
	t := p.TCP
	learnTS(s, t, d)
	want := expectedTCP(t, len(d.TCP.Options()))
	got := liveTCP(s, d)
	checks := layerChecks(p, s, live)
	checks = append(checks, ipHeaderChecks(d, packet.ProtoTCP, want.length)...)
	checks = append(checks, ipInfoChecks(p.IP, d)...)
	checks = append(checks, compareTCP(want, got, t.ACE != nil)...)
	checks = append(checks, ipv4ChecksumCheck(d)...)
	checks = append(checks, r.optionsCheck(es, want, got), payloadCheck(len(want.payload), got.payload), r.timeCheck(es, live))
	return r.outboundVerdict(es, live, checks, func(f *Failure) { r.addDumps(f, es, t, s, d, live.time) })
}

// outboundVerdict turns the checks into the event's outcome: nil, a
// warning under --non_fatal=packet, or the failure with the diff table.
func (r *runner) outboundVerdict(es *eventState, live sniffed, checks []fieldCheck, dumps func(*Failure)) error {
	rows, msg := diffFields(checks)
	if msg == "" {
		return nil
	}
	f := packetFail(es, "%s", msg)
	f.Diff = rows
	dumps(f)
	if r.cfg.NonFatalPacket {
		fmt.Fprintf(r.stderr, "%s:%d: warning handling packet: %s\n", f.Pos.File, f.Pos.Line, strings.TrimPrefix(f.Msg, "error handling packet: "))
		return nil
	}
	return f
}
