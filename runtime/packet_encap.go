package runtime

import (
	"fmt"
	"net/netip"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

// wrapEncap puts the script's encapsulation headers ("ipv4 A > B:",
// "ipv6 A > B:", "gre ...:", "mpls ...:", outermost first) around an
// inbound IP packet. Their addresses are used as written.
func wrapEncap(encaps []*parser.Encap, inner []byte) ([]byte, error) {
	// What the layer below carries, for the protocol fields above it.
	kind := "ip"
	if len(inner) > 0 && inner[0]>>4 == 6 {
		kind = "ip6"
	}
	pkt := inner
	for i := len(encaps) - 1; i >= 0; i-- {
		e := encaps[i]
		switch e.Kind {
		case "mpls":
			var hdr []byte
			for j, m := range e.MPLS {
				hdr = packet.AppendMPLS(hdr, packet.MPLSEntry{Label: m.Label, TC: uint8(m.TC),
					Bottom: m.BottomOfStack || (j == len(e.MPLS)-1 && kind != "mpls"), TTL: uint8(m.TTL)})
			}
			pkt = append(hdr, pkt...)
			kind = "mpls"
		case "gre":
			f := packet.GREFields{Proto: map[string]uint16{"ip": packet.EtherTypeIPv4, "ip6": packet.EtherTypeIPv6, "mpls": packet.EtherTypeMPLS}[kind]}
			if g := e.GRE; g != nil {
				if g.Flags != nil {
					f.Flags = uint16(*g.Flags)
				}
				if g.Proto != nil {
					f.Proto = uint16(*g.Proto)
				}
				if g.Sum != nil {
					f.Sum, f.Flags = uint16(*g.Sum), f.Flags|packet.GREChecksumPresent
				}
				if g.Off != nil {
					f.Off, f.Flags = uint16(*g.Off), f.Flags|packet.GREChecksumPresent
				}
				if g.Key != nil {
					f.Key, f.Flags = *g.Key, f.Flags|packet.GREKeyPresent
				}
				if g.Seq != nil {
					f.Seq, f.Flags = *g.Seq, f.Flags|packet.GRESeqPresent
				}
			}
			pkt = append(packet.AppendGRE(nil, f), pkt...)
			kind = "gre"
		case "ipv4", "ipv6":
			src, err1 := netip.ParseAddr(e.Src)
			dst, err2 := netip.ParseAddr(e.Dst)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("bad %s encapsulation address %s > %s", e.Kind, e.Src, e.Dst)
			}
			proto := map[string]uint8{"ip": packet.ProtoIPIP, "ip6": packet.ProtoIPv6, "mpls": packet.ProtoMPLSInIP, "gre": packet.ProtoGRE}[kind]
			ipf := packet.IPFields{Src: src, Dst: dst, TTL: 255}
			applyIPInfo(&ipf, e.IP)
			pkt = append(packet.AppendIP(nil, ipf, proto, len(pkt)), pkt...)
			kind = "ip"
			if e.Kind == "ipv6" {
				kind = "ip6"
			}
		default:
			return nil, fmt.Errorf("unsupported encapsulation %q", e.Kind)
		}
	}
	if kind != "ip" && kind != "ip6" {
		return nil, fmt.Errorf("encapsulation must start with an ipv4 or ipv6 header")
	}
	return pkt, nil
}

// encapMismatch compares the encapsulation a script line gives with the
// live packet's: the same kinds of header in the same order, addresses of
// outer IP headers as written.
func encapMismatch(want []*parser.Encap, got []packet.Layer) string {
	if len(want) != len(got) {
		return fmt.Sprintf("live packet encapsulation: expected %d headers vs actual %d", len(want), len(got))
	}
	for i, e := range want {
		g := got[i]
		if e.Kind != g.Kind {
			return fmt.Sprintf("live packet encapsulation header %d: expected %s vs actual %s", i+1, e.Kind, g.Kind)
		}
		if e.Kind == "ipv4" || e.Kind == "ipv6" {
			src, _ := netip.ParseAddr(e.Src)
			dst, _ := netip.ParseAddr(e.Dst)
			if src != g.Src || dst != g.Dst {
				return fmt.Sprintf("live packet encapsulation %s: expected %s > %s vs actual %s > %s", e.Kind, e.Src, e.Dst, g.Src, g.Dst)
			}
		}
		if e.Kind == "mpls" && len(e.MPLS) > 0 {
			for j, m := range e.MPLS {
				if j >= len(g.MPLS) || g.MPLS[j].Label != m.Label {
					return fmt.Sprintf("live packet field mpls_label: expected: %d", m.Label)
				}
			}
		}
	}
	return ""
}

// checkFlowLabel is the reference's IPv6 flow label check: a label written
// on an outbound line stands for whatever live label the kernel chose, and
// lines that write the same label must see the same live one (and a
// different label a different one).
func (s *socket) checkFlowLabel(info *parser.IPInfo, d *packet.Decoded) string {
	if info == nil || info.FlowLabel == nil || *info.FlowLabel == 0 || d.Version != 6 {
		return ""
	}
	want, live := *info.FlowLabel, d.FlowLabel
	switch {
	case live == 0:
		return "flowlabel unmarked in the live packet"
	case s.flowScript == 0:
		s.flowScript, s.flowLive = want, live
	case want != s.flowScript:
		if live == s.flowLive {
			return "expected a different flowlabel but got the same"
		}
		s.flowScript, s.flowLive = want, live
	case live != s.flowLive:
		return fmt.Sprintf("inconsistent flowlabels for this packet: expected: 0x%x vs actual: 0x%x", s.flowLive, live)
	}
	return ""
}
