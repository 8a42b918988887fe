package runtime

import (
	"net/netip"
	"testing"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

func TestBuildUDPChecksum(t *testing.T) {
	for _, fam := range []struct{ src, dst string }{{"192.0.2.1", "192.168.0.1"}, {"fd3d:fa7b:d17d::1", "fd3d:a0b:17d6::1"}} {
		ipf := packet.IPFields{Src: netip.MustParseAddr(fam.src), Dst: netip.MustParseAddr(fam.dst)}
		pkt := packet.BuildUDP(ipf, packet.UDPFields{SrcPort: 40000, DstPort: 8080}, make([]byte, 20))
		d, err := packet.Decode(pkt)
		if err != nil || d.UDP == nil {
			t.Fatalf("%s: decode: %v", fam.src, err)
		}
		u := packet.UDP(d.UDP)
		if u.SourcePort() != 40000 || u.DestinationPort() != 8080 || u.Length() != 28 || len(u.Payload()) != 20 {
			t.Errorf("%s: got ports %d>%d len %d", fam.src, u.SourcePort(), u.DestinationPort(), u.Length())
		}
		if c := packet.TransportChecksum(d.Src, d.Dst, packet.ProtoUDP, d.UDP); c != 0 {
			t.Errorf("%s: checksum does not verify: %#x", fam.src, c)
		}
		if got := dumpLive(nil, d, false); got != "udp (20)" {
			t.Errorf("dump = %q", got)
		}
	}
}

// An ICMP error quotes the kernel's own segment: local -> remote, live
// ports, and the script's sequence number plus the kernel's live ISN.
func TestInboundICMPQuotesLiveSegment(t *testing.T) {
	for _, v := range []IPVersion{IPv4, IPv6} {
		cfg := DefaultConfig(v)
		r := &runner{cfg: cfg}
		s := newSocket(6)
		s.local = netip.AddrPortFrom(cfg.LocalIP, 8080)
		s.remote = netip.AddrPortFrom(cfg.RemoteIP, 45678)
		s.scriptLocalISN, s.liveLocalISN = 0, 1000000
		typ, code := "unreachable", "frag_needed"
		mtu := uint32(1200)
		if v == IPv6 {
			typ, code = "packet_too_big", ""
		}
		p := &parser.Packet{Direction: parser.Inbound, ICMP: &parser.ICMP{Type: typ, Code: code, MTU: &mtu,
			EchoedProto: "tcp", EchoedSeq: &parser.SeqRange{Start: 1, Len: 1460}}}
		ty, co, err := packet.ICMPTypeCode(v == IPv6, typ, code)
		if err != nil {
			t.Fatal(err)
		}
		pkt, err := r.buildInboundICMP(p, s, ty, co)
		if err != nil {
			t.Fatal(err)
		}
		d, err := packet.Decode(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if d.Src != cfg.RemoteIP || d.Dst != cfg.LocalIP {
			t.Errorf("%v: outer %v > %v", v, d.Src, d.Dst)
		}
		m := packet.ICMP(d.L4)
		if m.Type() != ty || m.Code() != co {
			t.Errorf("%v: type/code %d/%d", v, m.Type(), m.Code())
		}
		// ICMPv4 carries the MTU in the low half of the second word
		// (RFC 1191), ICMPv6 in all of it (RFC 4443): 1200 either way.
		if m.Rest() != 1200 {
			t.Errorf("%v: mtu word %#x", v, m.Rest())
		}
		var c uint16
		if v == IPv6 {
			c = packet.TransportChecksum(d.Src, d.Dst, packet.ProtoICMPv6, d.L4)
		} else {
			c = packet.Checksum(d.L4, 0)
		}
		if c != 0 {
			t.Errorf("%v: ICMP checksum does not verify", v)
		}
		q, err := packet.DecodeQuote(m.Quoted())
		if err != nil {
			t.Fatal(err)
		}
		if q.Src != cfg.LocalIP || q.Dst != cfg.RemoteIP || q.Proto != packet.ProtoTCP {
			t.Errorf("%v: quoted %v > %v proto %d", v, q.Src, q.Dst, q.Proto)
		}
		tcp := packet.TCP(append(append([]byte{}, q.L4...), make([]byte, 12)...))
		if tcp.SourcePort() != 8080 || tcp.DestinationPort() != 45678 {
			t.Errorf("%v: quoted ports %d>%d", v, tcp.SourcePort(), tcp.DestinationPort())
		}
		if got := tcp.SequenceNumber(); got != 1000001 {
			t.Errorf("%v: quoted seq %d, want live 1000001", v, got)
		}
		if got := dumpLive(nil, d, false); got != map[IPVersion]string{IPv4: "icmpv4", IPv6: "icmpv6"}[v] {
			t.Errorf("dump = %q", got)
		}
	}
}

func TestICMPMTUOnlyWhereItFits(t *testing.T) {
	ipf := packet.IPFields{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.168.0.1")}
	if _, err := packet.BuildICMP(ipf, packet.ICMPFields{Type: 3, Code: 1, MTU: 1000}, nil); err == nil {
		t.Error("MTU on host_unreachable accepted")
	}
	if _, _, err := packet.ICMPTypeCode(false, "nonsense", ""); err == nil {
		t.Error("unknown type accepted")
	}
	if ty, co, err := packet.ICMPTypeCode(true, "type_7", "code_3"); err != nil || ty != 7 || co != 3 {
		t.Errorf("type_7 code_3 = %d %d %v", ty, co, err)
	}
}

func TestEncapRoundTrip(t *testing.T) {
	inner := packet.BuildTCP(packet.IPFields{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.168.0.1")},
		packet.TCPFields{SrcPort: 1, DstPort: 2, Seq: 7, Flags: packet.ACK, Window: 100}, nil)
	key := uint32(0x1234)
	encaps := []*parser.Encap{
		{Kind: "ipv4", Src: "10.0.0.1", Dst: "10.0.0.2"},
		{Kind: "gre", GRE: &parser.GRE{Key: &key}},
		{Kind: "mpls", MPLS: []*parser.MPLSEntry{{Label: 100, TC: 1, TTL: 64}, {Label: 200, BottomOfStack: true, TTL: 63}}},
	}
	pkt, err := wrapEncap(encaps, inner)
	if err != nil {
		t.Fatal(err)
	}
	layers, d, err := packet.Decap(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if msg := encapMismatch(encaps, layers); msg != "" {
		t.Error(msg)
	}
	if d.TCP == nil || d.TCP.SequenceNumber() != 7 {
		t.Fatalf("inner packet not recovered")
	}
	want := "ipv4 10.0.0.1 > 10.0.0.2: gre flags 0x2000 proto 0x8847 key 0x1234: mpls (label 100, tc 1, ttl 64) (label 200, tc 0, [S], ttl 63): . 7:7(0) ack 0 win 100 "
	if got := dumpLive(layers, d, false); got != want {
		t.Errorf("dump:\n got %q\nwant %q", got, want)
	}
	if _, err := wrapEncap([]*parser.Encap{{Kind: "gre"}}, inner); err == nil {
		t.Error("GRE without an outer IP header accepted")
	}
}

func TestFlowLabelConsistency(t *testing.T) {
	s := newSocket(6)
	d := func(fl uint32) *packet.Decoded { return &packet.Decoded{Version: 6, FlowLabel: fl} }
	info := func(fl uint32) *parser.IPInfo { return &parser.IPInfo{FlowLabel: &fl} }
	steps := []struct {
		script, live uint32
		fail         bool
	}{
		{1, 0xabc, false}, // first: learn 1 -> 0xabc
		{1, 0xabc, false}, // same label, same live
		{1, 0xdef, true},  // same label, different live
		{2, 0xabc, true},  // different label, same live
		{2, 0x123, false}, // different label, different live: relearn
		{0, 0x999, false}, // 0: not checked
	}
	for i, st := range steps {
		msg := s.checkFlowLabel(info(st.script), d(st.live))
		if (msg != "") != st.fail {
			t.Errorf("step %d: got %q, want failure %v", i, msg, st.fail)
		}
	}
	if msg := newSocket(6).checkFlowLabel(info(1), d(0)); msg != "flowlabel unmarked in the live packet" {
		t.Errorf("unmarked: %q", msg)
	}
}
