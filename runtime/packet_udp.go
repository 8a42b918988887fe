package runtime

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

// sniffMatch returns the next outbound packet that match accepts.
func (r *runner) sniffMatch(deadline time.Time, match func(d *packet.Decoded) bool) (sniffed, error) {
	for {
		f, err := r.net.Next(deadline)
		if err != nil {
			return sniffed{}, err
		}
		r.observeFrame(f)
		if !f.Outgoing {
			continue
		}
		layers, d, err := packet.Decap(f.Data)
		if err != nil || !match(d) {
			if err == nil {
				r.notePassedBy(layers, d, f.Time)
			}
			continue
		}
		return sniffed{d: d, layers: layers, time: f.Time}, nil
	}
}

// datagramSocket is the socket under test for a UDP or ICMP line, with its
// live endpoints filled in from the configuration where no call set them
// (bind() sets the local one, connect() the remote one).
func (r *runner) datagramSocket(es *eventState) *socket {
	r.wireServerSocket(es.ev.Packet)
	s := r.sut
	if s == nil {
		panic(packetFail(es, "no socket for script packet"))
	}
	if !s.local.IsValid() || s.local.Addr().IsUnspecified() {
		port := r.cfg.BindPort
		if s.local.IsValid() {
			port = s.local.Port()
		}
		s.local = netip.AddrPortFrom(r.cfg.LocalIP, port)
	}
	if !s.remote.IsValid() {
		s.remote = netip.AddrPortFrom(r.cfg.RemoteIP, r.cfg.ConnectPort)
	}
	return s
}

func (r *runner) runUDP(es *eventState, rec *EventRecord) {
	p := es.ev.Packet
	u := p.UDP
	s := r.datagramSocket(es)
	rec.Summary = fmt.Sprintf("udp (%d)", u.Len)
	src, dst := s.remote, s.local
	if p.Direction == parser.Outbound {
		src, dst = s.local, s.remote
	}
	if u.SrcPort != nil {
		src = netip.AddrPortFrom(src.Addr(), *u.SrcPort)
	}
	if u.DstPort != nil {
		dst = netip.AddrPortFrom(dst.Addr(), *u.DstPort)
	}
	if p.Direction == parser.Inbound {
		ipf := packet.IPFields{Src: src.Addr(), Dst: dst.Addr(), TTL: 255}
		applyIPInfo(&ipf, p.IP)
		pkt := packet.BuildUDP(ipf, packet.UDPFields{SrcPort: src.Port(), DstPort: dst.Port()}, make([]byte, u.Len))
		pkt, err := wrapEncap(p.Encap, pkt)
		if err != nil {
			panic(packetFail(es, "%v", err))
		}
		r.injectAt(es, rec, pkt, r.net.Inject, false)
		return
	}
	rec.Kind = "outbound"
	live, err := r.sniffMatch(r.outboundDeadline(es), func(d *packet.Decoded) bool {
		if d.UDP == nil {
			return false
		}
		ud := packet.UDP(d.UDP)
		from := netip.AddrPortFrom(d.Src.Unmap(), ud.SourcePort())
		to := netip.AddrPortFrom(d.Dst.Unmap(), ud.DestinationPort())
		return to == dst && (from == src || src.Port() == 0 && from.Addr() == src.Addr())
	})
	if err != nil {
		if errors.Is(err, ErrTimeout) {
			panic(packetFail(es, "Timed out waiting for packet"))
		}
		panic(packetFail(es, "%v", err))
	}
	r.traceSniffed(live)
	rec.ActualTime = r.wallToScript(live.time)
	d := live.d
	ud := packet.UDP(d.UDP)
	checks := r.ipChecks(d, packet.ProtoUDP, packet.UDPLen+int(u.Len))
	checks = append(checks, ipInfoChecks(p.IP, d)...)
	checks = append(checks, check{name: "udp_len", want: uint32(packet.UDPLen + u.Len), got: uint32(ud.Length())})
	r.finishOutbound(es, s, live, checks, ud.Payload(), fmt.Sprintf("udp (%d)", u.Len))
}

// ipChecks are the IP header fields the reference always checks.
func (r *runner) ipChecks(d *packet.Decoded, proto uint8, l4Len int) []check {
	if d.Version == 4 {
		return []check{
			{name: "ipv4_version", want: 4, got: 4},
			{name: "ipv4_protocol", want: uint32(proto), got: uint32(d.Proto)},
			{name: "ipv4_header_length", want: 5, got: uint32(d.HeaderLen / 4)},
			{name: "ipv4_total_length", want: uint32(20 + l4Len), got: uint32(d.TotalLen)},
		}
	}
	return []check{
		{name: "ipv6_version", want: 6, got: 6},
		{name: "ipv6_payload_len", want: uint32(l4Len), got: uint32(d.TotalLen - d.HeaderLen)},
		{name: "ipv6_next_header", want: uint32(proto), got: uint32(d.Proto)},
	}
}

// finishOutbound checks the fields, the encapsulation, the payload (all
// zeros) and the time of a non-TCP outbound packet.
func (r *runner) finishOutbound(es *eventState, s *socket, live sniffed, checks []check, payload []byte, script string) {
	p := es.ev.Packet
	msg := encapMismatch(p.Encap, live.layers)
	if msg == "" {
		msg = s.checkFlowLabel(p.IP, live.d)
	}
	for _, c := range checks {
		if msg == "" && !c.skip && c.want != c.got {
			msg = fmt.Sprintf("live packet field %s: expected: %d (0x%x) vs actual: %d (0x%x)", c.name, c.want, c.want, c.got, c.got)
		}
	}
	if msg == "" && nonZero(payload) {
		msg = "incorrect outbound data payload"
	}
	actual := r.wallToScript(live.time)
	if msg == "" {
		msg = r.verifyTime(es.ev.Time.Kind, es.time, es.timeEnd, actual, r.lastT(), "outbound packet")
	}
	if msg == "" {
		return
	}
	f := packetFail(es, "%s", msg)
	f.Script = fmt.Sprintf("script packet: %9.6f %s", secs(es.time), script)
	f.Actual = fmt.Sprintf("actual packet: %9.6f %s", secs(actual), dumpLive(live.layers, live.d, false))
	if r.cfg.NonFatalPacket {
		fmt.Fprintf(r.stderr, "%s:%d: warning handling packet: %s\n", f.Pos.File, f.Pos.Line, msg)
		return
	}
	panic(f)
}
