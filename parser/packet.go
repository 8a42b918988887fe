package parser

import (
	"encoding/hex"
	"strings"
)

// packet = ('<' | '>') encap* [ip_info] (udp | icmp | tcp) .
func (p *parser) parsePacket() *Packet {
	d := p.next()
	pk := &Packet{Pos: d.pos, Direction: Inbound}
	if d.text == ">" {
		pk.Direction = Outbound
	}
	p.parseEncaps(pk)
	if p.isPunct("[") || p.isPunct("(") {
		pk.IP = p.parseIPInfo(pk.Direction)
	}
	switch {
	case p.isWord("udp"):
		pk.UDP = p.parseUDP()
		if pk.IP != nil && pk.IP.ECN != ECNUnset {
			p.errorf(pk.IP.Pos, "ECN can only be used with TCP packets")
		}
	case p.isWord("icmp"):
		pk.ICMP = p.parseICMP()
	default:
		if p.isWord("encap") {
			p.next()
			p.expectWord("psp")
			p.expectWord("spi")
			pk.PSP = &PSP{SPI: uint32(p.number("psp spi", 32))}
		}
		pk.TCP = p.parseTCP(pk)
	}
	return pk
}

// encap = 'ipv4' [ip_info] IPV4 '>' IPV4 ':'
//
//	| 'ipv6' [ip_info] IPV6 '>' IPV6 ':'
//	| ('gre' | 'GREv0') [','] [gre_header] ':'
//	| 'mpls' mpls_entry* ':' .
func (p *parser) parseEncaps(pk *Packet) {
	for {
		t := p.cur()
		if t.kind != tWord {
			return
		}
		switch t.text {
		case "ipv4", "ipv6":
			p.next()
			e := &Encap{Pos: t.pos, Kind: t.text}
			if p.isPunct("[") || p.isPunct("(") {
				e.IP = p.parseIPInfo(pk.Direction)
			}
			want := tIPv4
			if t.text == "ipv6" {
				want = tIPv6
			}
			e.Src = p.address(want)
			p.expectPunct(">")
			e.Dst = p.address(want)
			p.expectPunct(":")
			pk.Encap = append(pk.Encap, e)
		case "gre", "GREv0":
			p.next()
			e := &Encap{Pos: t.pos, Kind: "gre"}
			p.acceptPunct(",")
			if !p.isPunct(":") {
				e.GRE = p.parseGREHeader()
			}
			p.expectPunct(":")
			pk.Encap = append(pk.Encap, e)
		case "mpls":
			p.next()
			e := &Encap{Pos: t.pos, Kind: "mpls"}
			for p.isPunct("(") {
				e.MPLS = append(e.MPLS, p.parseMPLSEntry())
			}
			p.expectPunct(":")
			pk.Encap = append(pk.Encap, e)
		default:
			return
		}
	}
}

func (p *parser) address(kind tokKind) string {
	t := p.cur()
	if t.kind != kind {
		p.syntaxError(kindNames[kind])
	}
	p.next()
	return t.text
}

// gre_header = 'flags' ('[' gre_flag {',' gre_flag} ']' | int) [',']
//
//	'sum' int [','] 'off' int [','] 'key' ['='] int [','] 'seq' int .
//
// Each part is optional here; the reference requires all five.
func (p *parser) parseGREHeader() *GRE {
	g := &GRE{}
	for {
		t := p.cur()
		if t.kind != tWord {
			break
		}
		switch t.text {
		case "flags", "Flags":
			p.next()
			var f uint32
			if p.acceptPunct("[") {
				for {
					w := p.cur()
					switch {
					case p.isWord("none"):
						p.next()
					case p.isWord("checksum"):
						p.next()
						p.expectWord("present")
						f |= 0x8000
					case p.isWord("key"):
						p.next()
						p.expectWord("present")
						f |= 0x2000
					case p.isWord("sequence#"):
						p.next()
						p.expectWord("present")
						f |= 0x1000
					default:
						_ = w
						p.syntaxError("GRE flag (none, checksum present, key present, sequence# present)")
					}
					if !p.acceptPunct(",") {
						break
					}
				}
				p.expectPunct("]")
			} else {
				f = uint32(p.number("GRE flags", 16))
			}
			g.Flags = &f
		case "sum":
			p.next()
			g.Sum = u32p(p.number("GRE checksum", 16))
		case "off":
			p.next()
			g.Off = u32p(p.number("GRE offset", 16))
		case "key":
			p.next()
			p.acceptPunct("=")
			g.Key = u32p(p.number("GRE key", 32))
		case "seq":
			p.next()
			g.Seq = u32p(p.number("GRE sequence number", 32))
		default:
			p.syntaxError("GRE header field (flags, sum, off, key, seq)")
		}
		if !p.acceptPunct(",") && !(p.cur().kind == tWord) {
			break
		}
	}
	return g
}

// mpls_entry = '(' 'label' INT ',' 'tc' INT ',' ['[' 'S' ']' ','] 'ttl' INT ')' .
func (p *parser) parseMPLSEntry() *MPLSEntry {
	p.expectPunct("(")
	m := &MPLSEntry{}
	p.expectWord("label")
	m.Label = uint32(p.number("MPLS label", 20))
	p.expectPunct(",")
	p.expectWord("tc")
	m.TC = uint32(p.number("MPLS traffic class", 3))
	p.expectPunct(",")
	if p.acceptPunct("[") {
		p.expectWord("S")
		p.expectPunct("]")
		p.expectPunct(",")
		m.BottomOfStack = true
	}
	p.expectWord("ttl")
	m.TTL = uint32(p.number("MPLS ttl", 8))
	p.expectPunct(")")
	return m
}

// ip_info = ('[' | '(') ip_item {',' ip_item} (']' | ')') .
// ip_item = 'noecn' | 'ect0' | 'ect1' | 'ce' | 'ect01' | 'tos' int
//
//	| 'flowlabel' int | 'ttl' int .
func (p *parser) parseIPInfo(dir Direction) *IPInfo {
	open := p.next()
	closer := "]"
	if open.text == "(" {
		closer = ")"
	}
	ip := &IPInfo{Pos: open.pos}
	for {
		t := p.cur()
		if t.kind != tWord {
			p.syntaxError("ip info (ect0, ect1, ce, noecn, ect01, tos, flowlabel, ttl)")
		}
		p.next()
		switch t.text {
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
				p.errorf(t.pos, "[ect01] can only be used with outbound packets")
			}
		case "tos":
			ip.TOS = u8p(p.number("tos", 8))
		case "flowlabel":
			ip.FlowLabel = u32p(p.number("flowlabel", 20))
		case "ttl":
			ip.TTL = u8p(p.number("ttl", 8))
		default:
			p.errorf(t.pos, "unknown ip info %q", t.text)
		}
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(closer)
	return ip
}

// ports = INT '>' INT .
func (p *parser) parsePorts() (src, dst *uint16) {
	if p.cur().kind == tInt && p.peek(1).kind == tPunct && p.peek(1).text == ">" {
		src = u16p(p.number("src port", 16))
		p.expectPunct(">")
		dst = u16p(p.number("dst port", 16))
	}
	return src, dst
}

// udp = 'udp' [ports] '(' INT ')' .
func (p *parser) parseUDP() *UDP {
	p.next()
	u := &UDP{}
	u.SrcPort, u.DstPort = p.parsePorts()
	p.expectPunct("(")
	u.Len = uint32(p.number("UDP payload size", 16))
	p.expectPunct(")")
	return u
}

// icmp = 'icmp' WORD [WORD] ['mtu' INT] ['id' INT]
//
//	['[' ('udp' '(' INT ')' | 'raw' '(' INT ')' | seq) ']'] .
func (p *parser) parseICMP() *ICMP {
	p.next()
	ic := &ICMP{}
	t := p.cur()
	if t.kind != tWord && t.kind != tInt {
		p.syntaxError("ICMP type")
	}
	p.next()
	ic.Type = t.text
	if t := p.cur(); (t.kind == tWord && t.text != "mtu" && t.text != "id") || (t.kind == tInt && !t.lineStart) {
		p.next()
		ic.Code = t.text
	}
	if p.isWord("mtu") {
		p.next()
		ic.MTU = u32p(p.number("ICMP mtu", 32))
	}
	if p.isWord("id") {
		p.next()
		ic.ID = u32p(p.number("ICMP echo id", 16))
	}
	if p.acceptPunct("[") {
		switch {
		case p.isWord("udp"), p.isWord("raw"):
			ic.EchoedProto = p.next().text
			p.expectPunct("(")
			ic.EchoedLen = uint32(p.number("payload size", 16))
			p.expectPunct(")")
		default:
			ic.EchoedProto = "tcp"
			seq := p.parseSeq()
			ic.EchoedSeq = &seq
		}
		p.expectPunct("]")
	}
	return ic
}

// tcp = [ports] flags seq ['ack' INT] ['win' INT] ['urg' INT] [options] .
func (p *parser) parseTCP(pk *Packet) *TCP {
	tcp := &TCP{}
	tcp.SrcPort, tcp.DstPort = p.parsePorts()
	p.parseFlags(tcp)
	tcp.Seq = p.parseSeq()
	if p.isWord("ack") {
		p.next()
		tcp.Ack = u32p(p.number("TCP ack sequence number", 32))
	}
	if p.isWord("win") {
		p.next()
		tcp.Win = u32p(p.number("TCP window", 16))
	}
	if p.isWord("urg") {
		p.next()
		tcp.Urg = u32p(p.number("urg_ptr", 16))
	}
	if p.isPunct("<") {
		p.parseTCPOptions(tcp, pk.Direction)
	}
	if tcp.Win == nil && pk.Direction == Inbound {
		p.errorf(pk.Pos, "window must be specified for inbound packets")
	}
	return tcp
}

// flags = WORD ['.'] | [WORD] FLOAT | '.' | '-' .
// FLOAT is the ".N" of an AccECN counter, as in "S.5".
func (p *parser) parseFlags(tcp *TCP) {
	t := p.cur()
	var text string
	switch {
	case t.kind == tPunct && t.text == "-":
		p.next()
		tcp.FlagsText = "-"
		return
	case t.kind == tPunct && t.text == ".":
		p.next()
		text = "."
	case t.kind == tFloat && strings.HasPrefix(t.text, "."):
		p.next()
		text = t.text
	case t.kind == tWord && !reserved[t.text]:
		p.next()
		text = t.text
		if n := p.cur(); n.kind == tFloat && strings.HasPrefix(n.text, ".") && n.pos.Line == t.pos.Line {
			p.next()
			text += n.text
		} else if p.isPunct(".") {
			p.next()
			text += "."
		}
	default:
		p.syntaxError("TCP flags")
	}
	tcp.FlagsText = text
	const valid = ".FSRPEWAU01234567"
	hasECN, hasACE := false, false
	for _, c := range text {
		if !strings.ContainsRune(valid, c) {
			p.errorf(t.pos, "invalid TCP flag: '%c'", c)
			return
		}
		switch {
		case strings.ContainsRune("EWA", c):
			if hasACE {
				p.errorf(t.pos, "conflicting TCP flag: '%c'", c)
				return
			}
			hasECN = true
		case c >= '0' && c <= '7':
			if hasECN || hasACE {
				p.errorf(t.pos, "conflicting TCP flag: '%c'", c)
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

// seq = INT ':' INT '(' INT ')' .
func (p *parser) parseSeq() SeqRange {
	t := p.cur()
	if t.kind != tInt && t.kind != tHex {
		p.syntaxError("sequence range start:end(length)")
	}
	var s SeqRange
	nerr := len(p.errs)
	s.Start = uint32(p.number("TCP start sequence number", 32))
	p.expectPunct(":")
	s.End = uint32(p.number("TCP end sequence number", 32))
	p.expectPunct("(")
	s.Len = uint32(p.number("TCP payload size", 16))
	p.expectPunct(")")
	if len(p.errs) == nerr && s.Start+s.Len != s.End {
		p.errorf(t.pos, "inconsistent TCP sequence numbers and payload length: %d + %d != %d", s.Start, s.Len, s.End)
	}
	return s
}

// Maximum TCP option bytes (RFC 9293: data offset is at most 15 words).
const maxTCPOptionBytes = 40

// options = '<' '...' '>' | '<' option {',' option} '>' .
func (p *parser) parseTCPOptions(tcp *TCP, dir Direction) {
	open := p.expectPunct("<")
	if p.cur().kind == tEllipsis {
		p.next()
		p.expectPunct(">")
		tcp.AnyOptions = true
		if dir != Outbound {
			p.errorf(open.pos, "<...> for TCP options can only be used with outbound packets")
		}
		return
	}
	tcp.Options = []*TCPOption{}
	total := 0
	for {
		o, n := p.parseTCPOption()
		tcp.Options = append(tcp.Options, o)
		total += n
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(">")
	if total > maxTCPOptionBytes {
		p.errorf(open.pos, "TCP option list too long: %d bytes (at most %d)", total, maxTCPOptionBytes)
	} else if total%4 != 0 {
		p.errorf(open.pos, "TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: %d excess bytes", total%4)
	}
}

// option = 'nop' | 'eol' | 'mss' INT | 'wscale' INT | 'sackOK'
//
//	| 'sack' (INT ':' INT)+ | 'md5' HEX | 'TS' 'val' INT 'ecr' INT
//	| 'FO' [HEX] | 'FOEXP' [HEX] | 'ECN' accecn_fields .
//
// It returns the option and its encoded length in bytes.
func (p *parser) parseTCPOption() (*TCPOption, int) {
	t := p.cur()
	if t.kind != tWord {
		p.syntaxError("TCP option")
	}
	p.next()
	o := &TCPOption{Pos: t.pos, Kind: TCPOptionKind(t.text)}
	switch o.Kind {
	case OptNOP, OptEOL:
		return o, 1
	case OptMSS:
		o.Value = uint32(p.number("mss value", 16))
		return o, 4
	case OptWScale:
		o.Value = uint32(p.number("window scale shift count", 8))
		return o, 3
	case OptSACKOK:
		return o, 2
	case OptSACK:
		for {
			var b SACKBlock
			b.Left = uint32(p.number("TCP SACK left sequence number", 32))
			p.expectPunct(":")
			b.Right = uint32(p.number("TCP SACK right sequence number", 32))
			o.Blocks = append(o.Blocks, b)
			if c := p.cur(); c.kind != tInt && c.kind != tHex {
				break
			}
		}
		return o, 2 + 8*len(o.Blocks)
	case OptTS:
		p.expectWord("val")
		o.TSVal = uint32(p.number("ts val", 32))
		p.expectWord("ecr")
		o.TSEcr = uint32(p.number("ecr val", 32))
		return o, 10
	case OptMD5:
		h := p.cur()
		if h.kind != tWord && h.kind != tInt {
			p.syntaxError("MD5 digest in hex")
		}
		p.next()
		if len(h.text)/2 > 16 {
			p.errorf(h.pos, "TCP MD5 digest longer than 16 bytes")
		} else if b, err := hex.DecodeString(h.text); err != nil {
			p.errorf(h.pos, "TCP MD5 digest is not a valid hex string")
		} else {
			o.Cookie = b
		}
		return o, 2 + len(h.text)/2
	case OptFO, OptFOEXP:
		base := 2
		if o.Kind == OptFOEXP {
			base = 4
		}
		maxCookie := maxTCPOptionBytes - base
		h := p.cur()
		if h.kind != tWord && h.kind != tInt {
			return o, base
		}
		p.next()
		switch b, err := hex.DecodeString(h.text); {
		case len(h.text)%2 != 0:
			p.errorf(h.pos, "TCP fast open cookie has an odd number of digits")
		case len(h.text)/2 > maxCookie:
			p.errorf(h.pos, "TCP fast open cookie of %d bytes exceeds maximum cookie length of %d bytes", len(h.text)/2, maxCookie)
		case err != nil:
			p.errorf(h.pos, "TCP fast open cookie '%s' is not a valid hex string", h.text)
		default:
			o.Cookie = b
		}
		return o, base + len(h.text)/2
	case OptAccECN:
		p.parseAccECN(o)
		return o, 2 + 3*len(o.Counters)
	}
	p.errorf(t.pos, "unknown TCP option %q", t.text)
	panic(bailout{})
}

// accecn_fields = ('e0b' | 'e1b') INT ['ceb' INT [('e1b' | 'e0b') INT]] .
// The first counter names the option's order: e0b is order 0 (kind 172),
// e1b order 1 (kind 174).
func (p *parser) parseAccECN(o *TCPOption) {
	first := p.cur()
	switch {
	case p.isWord("e0b"):
		o.Order = 0
	case p.isWord("e1b"):
		o.Order = 1
	default:
		p.syntaxError("'e0b' or 'e1b'")
	}
	p.next()
	o.CounterNames = append(o.CounterNames, first.text)
	o.Counters = append(o.Counters, uint32(p.number("TCP AccECN field value", 24)))
	if !p.isWord("ceb") {
		return
	}
	p.next()
	o.CounterNames = append(o.CounterNames, "ceb")
	o.Counters = append(o.Counters, uint32(p.number("TCP AccECN field value", 24)))
	last := "e1b"
	if o.Order == 1 {
		last = "e0b"
	}
	if !p.isWord(last) {
		return
	}
	p.next()
	o.CounterNames = append(o.CounterNames, last)
	o.Counters = append(o.Counters, uint32(p.number("TCP AccECN field value", 24)))
}
