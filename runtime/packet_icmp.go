package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

func icmpSummary(ic *parser.ICMP) string {
	s := "icmp " + ic.Type
	if ic.Code != "" {
		s += " " + ic.Code
	}
	if ic.MTU != nil {
		s += fmt.Sprintf(" mtu %d", *ic.MTU)
	}
	return s
}

func (r *runner) runICMP(es *eventState, rec *EventRecord) error {
	p := es.ev.Packet
	ic := p.ICMP
	s, err := r.datagramSocket(es)
	if err != nil {
		return err
	}
	v6 := r.cfg.IPVersion == IPv6
	typ, code, err := packet.ICMPTypeCode(v6, ic.Type, ic.Code)
	if err != nil {
		return &Failure{Pos: es.ev.Pos, Kind: FailScript, Msg: "error handling packet: " + err.Error()}
	}
	rec.Summary = icmpSummary(ic)
	if p.Direction == parser.Outbound {
		return r.runOutboundICMP(es, rec, s, typ, code)
	}
	pkt, err := r.buildInboundICMP(p, s, typ, code)
	if err != nil {
		return packetFail(es, "%v", err)
	}
	return r.injectAt(es, rec, pkt, r.net.Inject, false)
}

// buildInboundICMP builds an ICMP error from the scripted peer's address
// to the kernel's, quoting the kernel's own packet: its IP header (local to
// remote) and the first eight transport bytes, with the live ports and, for
// TCP, the script's sequence number mapped to the live one (Linux ignores
// an ICMP error whose quoted sequence is out of window).
func (r *runner) buildInboundICMP(p *parser.Packet, s *socket, typ, code uint8) ([]byte, error) {
	ic := p.ICMP
	f := packet.ICMPFields{Type: typ, Code: code, MTU: -1}
	if ic.MTU != nil {
		f.MTU = int64(*ic.MTU)
	}
	if ic.ID != nil {
		if *ic.ID > 0xffff {
			return nil, fmt.Errorf("invalid echo_id, must be between 0 and 65535")
		}
		f.EchoID = uint16(*ic.ID)
	}
	var body []byte
	switch ic.EchoedProto {
	case "raw":
		if ic.EchoedLen < packet.ICMPLen {
			return nil, fmt.Errorf("icmp_bytes %d smaller than icmp header length %d", ic.EchoedLen, packet.ICMPLen)
		}
		body = make([]byte, ic.EchoedLen-packet.ICMPLen)
	case "udp":
		var l4 [packet.ICMPQuoteL4Len]byte
		binary.BigEndian.PutUint16(l4[0:], s.local.Port())
		binary.BigEndian.PutUint16(l4[2:], s.remote.Port())
		binary.BigEndian.PutUint16(l4[4:], uint16(packet.UDPLen+ic.EchoedLen))
		body = packet.Quote(s.local.Addr(), s.remote.Addr(), packet.ProtoUDP, packet.UDPLen+int(ic.EchoedLen), l4)
	default: // "tcp", or nothing written: a TCP segment 0:0(0)
		var seq, n uint32
		if ic.EchoedSeq != nil {
			seq, n = ic.EchoedSeq.Start, ic.EchoedSeq.Len
		}
		var l4 [packet.ICMPQuoteL4Len]byte
		binary.BigEndian.PutUint16(l4[0:], s.local.Port())
		binary.BigEndian.PutUint16(l4[2:], s.remote.Port())
		binary.BigEndian.PutUint32(l4[4:], icmpQuotedSeq(s, seq))
		body = packet.Quote(s.local.Addr(), s.remote.Addr(), packet.ProtoTCP, packet.TCPMinLen+int(n), l4)
	}
	ipf := packet.IPFields{Src: s.remote.Addr(), Dst: s.local.Addr(), TTL: 255}
	applyIPInfo(&ipf, p.IP)
	pkt, err := packet.BuildICMP(ipf, f, body)
	if err != nil {
		return nil, err
	}
	return wrapEncap(p.Encap, pkt)
}

// icmpQuotedSeq maps the sequence number an ICMP line quotes to live
// space: it is the kernel's own (local) sequence, never a SYN's offset.
func icmpQuotedSeq(s *socket, scriptSeq uint32) uint32 {
	return scriptSeq + s.localScriptToLive(false)
}

func (r *runner) runOutboundICMP(es *eventState, rec *EventRecord, s *socket, typ, code uint8) error {
	p := es.ev.Packet
	rec.Kind = KindOutbound
	live, err := r.sniffMatch(r.outboundDeadline(es), func(d *packet.Decoded) bool {
		return (d.Proto == packet.ProtoICMP || d.Proto == packet.ProtoICMPv6) &&
			d.Src.Unmap() == s.local.Addr() && d.Dst.Unmap() == s.remote.Addr()
	})
	if err != nil {
		if errors.Is(err, ErrTimeout) {
			return packetFail(es, "Timed out waiting for packet")
		}
		return packetFail(es, "%v", err)
	}
	r.traceSniffed(live)
	rec.ActualTime = r.wallToScript(live.time)
	rec.Live = live.d.Raw
	m := packet.ICMP(live.d.L4)
	if !m.IsValid() {
		return packetFail(es, "truncated ICMP message")
	}
	checks := []fieldCheck{numCheck("icmp_type", uint32(typ), uint32(m.Type())), numCheck("icmp_code", uint32(code), uint32(m.Code()))}
	checks = append(checks, ipInfoChecks(p.IP, live.d)...)
	return r.finishOutbound(es, s, live, checks, nil, icmpSummary(p.ICMP))
}
