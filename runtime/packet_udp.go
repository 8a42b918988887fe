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
func (r *runner) datagramSocket(es *eventState) (*socket, error) {
	r.wireServerSocket(es.ev.Packet)
	s := r.sut
	if s == nil {
		return nil, packetFail(es, "no socket for script packet")
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
	return s, nil
}

func (r *runner) runUDP(es *eventState, rec *EventRecord) error {
	p := es.ev.Packet
	u := p.UDP
	s, err := r.datagramSocket(es)
	if err != nil {
		return err
	}
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
			return packetFail(es, "%v", err)
		}
		return r.injectAt(es, rec, pkt, r.net.Inject, false)
	}
	rec.Kind = KindOutbound
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
			return packetFail(es, "Timed out waiting for packet")
		}
		return packetFail(es, "%v", err)
	}
	r.traceSniffed(live)
	rec.ActualTime = r.wallToScript(live.time)
	rec.Live = live.d.Raw
	d := live.d
	ud := packet.UDP(d.UDP)
	checks := ipHeaderChecks(d, packet.ProtoUDP, packet.UDPLen+int(u.Len))
	checks = append(checks, ipInfoChecks(p.IP, d)...)
	checks = append(checks, numCheck("udp_len", uint32(packet.UDPLen+u.Len), uint32(ud.Length())))
	return r.finishOutbound(es, s, live, checks, ud.Payload(), fmt.Sprintf("udp (%d)", u.Len))
}

// finishOutbound checks the layers, the fields, the payload (all zeros)
// and the time of a non-TCP outbound packet.
func (r *runner) finishOutbound(es *eventState, s *socket, live sniffed, fields []fieldCheck, payload []byte, script string) error {
	checks := layerChecks(es.ev.Packet, s, live)
	checks = append(checks, fields...)
	checks = append(checks, payloadCheck(len(payload), payload), r.timeCheck(es, live))
	return r.outboundVerdict(es, live, checks, func(f *Failure) {
		f.Script = fmt.Sprintf("script packet: %9.6f %s", secs(es.time), script)
		f.Actual = fmt.Sprintf("actual packet: %9.6f %s", secs(r.wallToScript(live.time)), dumpLive(live.layers, live.d, false))
	})
}
