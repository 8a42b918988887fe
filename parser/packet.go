package parser

import (
	"encoding/hex"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// lowerPacket lowers packet = ('<' | '>') encap* [ip_info] (udp | icmp | tcp) .
func (p *parser) lowerPacket(g *gPacket) *Packet {
	pk := &Packet{Pos: p.pos(g.Pos), Direction: Inbound}
	if g.Dir == ">" {
		pk.Direction = Outbound
	}
	for _, e := range g.Encaps {
		pk.Encap = append(pk.Encap, p.lowerEncap(e, pk.Direction))
	}
	if g.IP != nil {
		pk.IP = p.lowerIPInfo(g.IP, pk.Direction)
	}
	switch {
	case g.UDP != nil:
		pk.UDP = p.lowerUDP(g.UDP)
		if pk.IP != nil && pk.IP.ECN != ECNUnset {
			p.errorf(pk.IP.Pos, "ECN can only be used with TCP packets")
		}
	case g.ICMP != nil:
		pk.ICMP = p.lowerICMP(g.ICMP)
	case g.TCP != nil:
		if g.TCP.PSP != nil {
			pk.PSP = &PSP{SPI: uint32(p.number(g.TCP.PSP))}
		}
		pk.TCP = p.lowerTCP(g.TCP, pk)
	}
	return pk
}

// lowerEncap lowers
//
//	encap = ('ipv4' | 'ipv6') [ip_info] address '>' address ':'
//	      | ('gre' | 'GREv0') [','] [gre_header] ':'
//	      | 'mpls' mpls_entry* ':' .
func (p *parser) lowerEncap(g *gEncap, dir Direction) *Encap {
	e := &Encap{Pos: p.pos(g.Pos)}
	switch {
	case g.IPv != "":
		e.Kind = g.IPv
		if g.IP != nil {
			e.IP = p.lowerIPInfo(g.IP, dir)
		}
		want := tIPv4
		if g.IPv == "ipv6" {
			want = tIPv6
		}
		e.Src = p.address(g.Src, want)
		e.Dst = p.address(g.Dst, want)
	case g.GRE != "":
		e.Kind = "gre"
		if g.Hdr != nil {
			e.GRE = p.lowerGRE(g.Hdr)
		}
	default:
		e.Kind = "mpls"
		for _, m := range g.Ents {
			e.MPLS = append(e.MPLS, &MPLSEntry{
				Label:         uint32(p.number(m.Label)),
				TC:            uint32(p.number(m.TC)),
				BottomOfStack: m.Bottom,
				TTL:           uint32(p.number(m.TTL)),
			})
		}
	}
	return e
}

func (p *parser) address(t *lexer.Token, kind tokKind) string {
	if kindOf(t.Type) != kind {
		pos, msg := expectedMsg(p.prevOf(*t), *t, kindNames[kind], false)
		p.fail(p.pos(pos), "%s", msg)
	}
	return t.Value
}

// lowerGRE lowers gre_header = gre_field {[','] gre_field} .
func (p *parser) lowerGRE(h *gGREHeader) *GRE {
	g := &GRE{}
	for _, f := range h.Fields {
		switch {
		case f.Flags:
			var v uint32
			if f.FlagNum != nil {
				v = uint32(p.number(f.FlagNum))
			}
			for _, fl := range f.FlagList {
				switch fl.Name {
				case "checksum":
					v |= 0x8000
				case "key":
					v |= 0x2000
				case "sequence#":
					v |= 0x1000
				}
			}
			g.Flags = &v
		case f.Sum != nil:
			g.Sum = u32p(p.number(f.Sum))
		case f.Off != nil:
			g.Off = u32p(p.number(f.Off))
		case f.Key != nil:
			g.Key = u32p(p.number(f.Key))
		case f.Seq != nil:
			g.Seq = u32p(p.number(f.Seq))
		}
	}
	return g
}

// lowerIPInfo lowers ip_info; ip_item = 'noecn' | 'ect0' | 'ect1' | 'ce'
// | 'ect01' | 'tos' int | 'flowlabel' int | 'ttl' int .
func (p *parser) lowerIPInfo(g *gIPInfo, dir Direction) *IPInfo {
	ip := &IPInfo{Pos: p.pos(g.Pos)}
	items := g.Bracket
	if items == nil {
		items = g.Paren
	}
	for _, it := range items {
		switch {
		case it.TOS != nil:
			ip.TOS = u8p(p.number(it.TOS))
		case it.FlowLabel != nil:
			ip.FlowLabel = u32p(p.number(it.FlowLabel))
		case it.TTL != nil:
			ip.TTL = u8p(p.number(it.TTL))
		case it.Word != nil:
			switch it.Word.Value {
			case "noecn":
				ip.ECN = ECNNotECT
			case "ect0":
				ip.ECN = ECNECT0
			case "ect1":
				ip.ECN = ECNECT1
			case "ce":
				ip.ECN = ECNCE
			case "ect01":
				ip.ECN = ECNECT01
				if dir != Outbound {
					p.errorf(p.pos(it.Pos), "[ect01] can only be used with outbound packets")
				}
			default:
				p.errorf(p.pos(it.Pos), "unknown ip info %q", it.Word.Value)
			}
		}
	}
	return ip
}

func (p *parser) lowerPorts(g *gPorts) (src, dst *uint16) {
	if g == nil {
		return nil, nil
	}
	return u16p(p.number(g.Src)), u16p(p.number(g.Dst))
}

// lowerUDP lowers udp = 'udp' [ports] '(' int ')' .
func (p *parser) lowerUDP(g *gUDP) *UDP {
	u := &UDP{}
	u.SrcPort, u.DstPort = p.lowerPorts(g.Ports)
	u.Len = uint32(p.number(g.Len))
	return u
}

// lowerICMP lowers icmp.
func (p *parser) lowerICMP(g *gICMP) *ICMP {
	ic := &ICMP{Type: g.Type.Value}
	if g.Code != nil {
		ic.Code = g.Code.Tok.Value
	}
	if g.MTU != nil {
		ic.MTU = u32p(p.number(g.MTU))
	}
	if g.ID != nil {
		ic.ID = u32p(p.number(g.ID))
	}
	switch {
	case g.Echoed != "":
		ic.EchoedProto = g.Echoed
		ic.EchoedLen = uint32(p.number(g.EchoLen))
	case g.EchoSeq != nil:
		ic.EchoedProto = "tcp"
		seq := p.lowerSeq(g.EchoSeq)
		ic.EchoedSeq = &seq
	}
	return ic
}

// lowerTCP lowers tcp.
func (p *parser) lowerTCP(g *gTCP, pk *Packet) *TCP {
	tcp := &TCP{}
	tcp.SrcPort, tcp.DstPort = p.lowerPorts(g.Ports)
	p.lowerFlags(&g.Flags, tcp)
	tcp.Seq = p.lowerSeq(&g.Seq)
	if g.Ack != nil {
		tcp.Ack = u32p(p.number(g.Ack))
	}
	if g.Win != nil {
		tcp.Win = u32p(p.number(g.Win))
	}
	if g.Urg != nil {
		tcp.Urg = u32p(p.number(g.Urg))
	}
	if g.Options != nil {
		p.lowerTCPOptions(g.Options, tcp, pk.Direction)
	}
	if tcp.Win == nil && pk.Direction == Inbound {
		p.errorf(pk.Pos, "window must be specified for inbound packets")
	}
	return tcp
}

// lowerFlags checks the flags word and sets the flags it names.
func (p *parser) lowerFlags(g *gFlags, tcp *TCP) {
	text := g.Text
	tcp.FlagsText = text
	if text == "-" {
		return
	}
	pos := p.pos(g.Pos)
	const valid = ".FSRPEWAU01234567"
	hasECN, hasACE := false, false
	for _, c := range text {
		if !strings.ContainsRune(valid, c) {
			p.errorf(pos, "invalid TCP flag: '%c'", c)
			return
		}
		switch {
		case strings.ContainsRune("EWA", c):
			if hasACE {
				p.errorf(pos, "conflicting TCP flag: '%c'", c)
				return
			}
			hasECN = true
		case c >= '0' && c <= '7':
			if hasECN || hasACE {
				p.errorf(pos, "conflicting TCP flag: '%c'", c)
				return
			}
			hasACE = true
			ace := uint8(c - '0')
			tcp.ACE = &ace
			if ace&1 != 0 {
				tcp.Flags |= FlagECE
			}
			if ace&2 != 0 {
				tcp.Flags |= FlagCWR
			}
			if ace&4 != 0 {
				tcp.Flags |= FlagAE
			}
		}
		switch c {
		case 'F':
			tcp.Flags |= FlagFIN
		case 'S':
			tcp.Flags |= FlagSYN
		case 'R':
			tcp.Flags |= FlagRST
		case 'P':
			tcp.Flags |= FlagPSH
		case '.':
			tcp.Flags |= FlagACK
		case 'U':
			tcp.Flags |= FlagURG
		case 'E':
			tcp.Flags |= FlagECE
		case 'W':
			tcp.Flags |= FlagCWR
		case 'A':
			tcp.Flags |= FlagAE
		}
	}
}

// lowerSeq checks seq = int ':' int '(' int ')' .
func (p *parser) lowerSeq(g *gSeq) SeqRange {
	var s SeqRange
	nerr := len(p.errs)
	s.Start = uint32(p.checkUint(g.Start, "TCP start sequence number", 32))
	s.End = uint32(p.checkUint(g.End, "TCP end sequence number", 32))
	s.Len = uint32(p.checkUint(g.Len, "TCP payload size", 16))
	if len(p.errs) == nerr && s.Start+s.Len != s.End {
		p.errorf(p.pos(g.Pos), "inconsistent TCP sequence numbers and payload length: %d + %d != %d", s.Start, s.Len, s.End)
	}
	return s
}

// Maximum TCP option bytes (RFC 9293: data offset is at most 15 words).
const maxTCPOptionBytes = 40

// lowerTCPOptions checks tcp_options and their total length.
func (p *parser) lowerTCPOptions(g *gTCPOptions, tcp *TCP, dir Direction) {
	pos := p.pos(g.Pos)
	if g.Any {
		tcp.AnyOptions = true
		if dir != Outbound {
			p.errorf(pos, "<...> for TCP options can only be used with outbound packets")
		}
		return
	}
	tcp.Options = []*TCPOption{}
	total := 0
	for _, og := range g.List {
		o, n := p.lowerTCPOption(og)
		tcp.Options = append(tcp.Options, o)
		total += n
	}
	if total > maxTCPOptionBytes {
		p.errorf(pos, "TCP option list too long: %d bytes (at most %d)", total, maxTCPOptionBytes)
	} else if total%4 != 0 {
		p.errorf(pos, "TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: %d excess bytes", total%4)
	}
}

// lowerTCPOption returns the option and its encoded length in bytes.
func (p *parser) lowerTCPOption(g *gTCPOption) (*TCPOption, int) {
	o := &TCPOption{Pos: p.pos(g.Pos)}
	switch {
	case g.Simple != "":
		o.Kind = TCPOptionKind(g.Simple)
		if o.Kind == OptSACKOK {
			return o, 2
		}
		return o, 1
	case g.MSS != nil:
		o.Kind = OptMSS
		o.Value = uint32(p.number(g.MSS))
		return o, 4
	case g.WScale != nil:
		o.Kind = OptWScale
		o.Value = uint32(p.number(g.WScale))
		return o, 3
	case g.SACK != nil:
		o.Kind = OptSACK
		for _, b := range g.SACK {
			o.Blocks = append(o.Blocks, SACKBlock{Left: uint32(p.number(b.Left)), Right: uint32(p.number(b.Right))})
		}
		return o, 2 + 8*len(o.Blocks)
	case g.TSVal != nil:
		o.Kind = OptTS
		o.TSVal = uint32(p.number(g.TSVal))
		o.TSEcr = uint32(p.number(g.TSEcr))
		return o, 10
	case g.MD5 != nil:
		o.Kind = OptMD5
		h := g.MD5.Value
		if len(h)/2 > 16 {
			p.errorf(p.pos(g.MD5.Pos), "TCP MD5 digest longer than 16 bytes")
		} else if b, err := hex.DecodeString(h); err != nil {
			p.errorf(p.pos(g.MD5.Pos), "TCP MD5 digest is not a valid hex string")
		} else {
			o.Cookie = b
		}
		return o, 2 + len(h)/2
	case g.FO != "":
		o.Kind = TCPOptionKind(g.FO)
		base := 2
		if o.Kind == OptFOEXP {
			base = 4
		}
		maxCookie := maxTCPOptionBytes - base
		if g.Cookie == nil {
			return o, base
		}
		h, pos := g.Cookie.Value, p.pos(g.Cookie.Pos)
		switch b, err := hex.DecodeString(h); {
		case len(h)%2 != 0:
			p.errorf(pos, "TCP fast open cookie has an odd number of digits")
		case len(h)/2 > maxCookie:
			p.errorf(pos, "TCP fast open cookie of %d bytes exceeds maximum cookie length of %d bytes", len(h)/2, maxCookie)
		case err != nil:
			p.errorf(pos, "TCP fast open cookie '%s' is not a valid hex string", h)
		default:
			o.Cookie = b
		}
		return o, base + len(h)/2
	case g.AccECN != nil:
		o.Kind = OptAccECN
		p.lowerAccECN(g.AccECN, o)
		return o, 2 + 3*len(o.Counters)
	}
	panic("unreachable: unknown TCP option " + g.Unknown.Tok.Value)
}

// lowerAccECN lowers accecn = ('e0b' | 'e1b') int ['ceb' int [('e1b' | 'e0b') int]] .
func (p *parser) lowerAccECN(g *gAccECN, o *TCPOption) {
	if g.First == "e1b" {
		o.Order = 1
	}
	o.CounterNames = append(o.CounterNames, g.First)
	o.Counters = append(o.Counters, uint32(p.number(g.Counter)))
	if g.CEB == nil {
		return
	}
	o.CounterNames = append(o.CounterNames, "ceb")
	o.Counters = append(o.Counters, uint32(p.number(g.CEB)))
	if g.Third == nil {
		return
	}
	last := "e1b"
	if o.Order == 1 {
		last = "e0b"
	}
	if g.Third.Value != last {
		// The reference stops before a counter that repeats the first;
		// the option list must then end.
		p.failExpected(*g.Third, "'>'")
	}
	o.CounterNames = append(o.CounterNames, last)
	o.Counters = append(o.Counters, uint32(p.number(g.Last)))
}
