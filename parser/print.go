package parser

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sprint returns a compact, deterministic S-expression form of the script,
// one event per line, for golden tests and debugging. Positions are left
// out.
func Sprint(s *Script) string {
	var b strings.Builder
	for _, o := range s.Options {
		if o.HasValue {
			fmt.Fprintf(&b, "(option %s %q)\n", o.Name, o.Value)
		} else {
			fmt.Fprintf(&b, "(option %s)\n", o.Name)
		}
	}
	if s.Init != nil {
		fmt.Fprintf(&b, "(init %q)\n", s.Init.Text)
	}
	for _, e := range s.Events {
		b.WriteString(SprintEvent(e))
		b.WriteString("\n")
	}
	if s.Cleanup != nil {
		fmt.Fprintf(&b, "(cleanup %q)\n", s.Cleanup.Text)
	}
	return b.String()
}

// SprintEvent returns the S-expression form of one event.
func SprintEvent(e *Event) string {
	var b strings.Builder
	b.WriteString("(")
	b.WriteString(sprintTime(e.Time))
	b.WriteString(" ")
	switch {
	case e.Packet != nil:
		sprintPacket(&b, e.Packet)
	case e.Syscall != nil:
		sprintSyscall(&b, e.Syscall)
	case e.Command != nil:
		fmt.Fprintf(&b, "(command %q)", e.Command.Text)
	case e.Code != nil:
		fmt.Fprintf(&b, "(code %q)", e.Code.Text)
	}
	b.WriteString(")")
	return b.String()
}

func sprintTime(t EventTime) string {
	switch t.Kind {
	case TimeRelative:
		return "+" + secs(t.Start)
	case TimeAny:
		return "*"
	case TimeAbsoluteRange:
		return secs(t.Start) + "~" + secs(t.End)
	case TimeRelativeRange:
		return "+" + secs(t.Start) + "~+" + secs(t.End)
	}
	return secs(t.Start)
}

// secs prints a duration in seconds with no trailing zeros ("0.1", "2").
func secs(d time.Duration) string {
	s := strconv.FormatFloat(d.Seconds(), 'f', 9, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func sprintPacket(b *strings.Builder, p *Packet) {
	dir := "<"
	if p.Direction == Outbound {
		dir = ">"
	}
	switch {
	case p.UDP != nil:
		b.WriteString("(udp " + dir)
	case p.ICMP != nil:
		b.WriteString("(icmp " + dir)
	default:
		b.WriteString("(tcp " + dir)
	}
	for _, e := range p.Encap {
		b.WriteString(" (" + e.Kind)
		if e.IP != nil {
			b.WriteString(" ")
			sprintIP(b, e.IP)
		}
		if e.Src != "" {
			fmt.Fprintf(b, " %s>%s", e.Src, e.Dst)
		}
		if g := e.GRE; g != nil {
			for _, f := range []struct {
				n string
				v *uint32
			}{{"flags", g.Flags}, {"proto", g.Proto}, {"sum", g.Sum}, {"off", g.Off}, {"key", g.Key}, {"seq", g.Seq}} {
				if f.v != nil {
					fmt.Fprintf(b, " %s=%#x", f.n, *f.v)
				}
			}
		}
		for _, m := range e.MPLS {
			fmt.Fprintf(b, " (label %d tc %d", m.Label, m.TC)
			if m.BottomOfStack {
				b.WriteString(" S")
			}
			fmt.Fprintf(b, " ttl %d)", m.TTL)
		}
		b.WriteString(")")
	}
	if p.IP != nil {
		b.WriteString(" ")
		sprintIP(b, p.IP)
	}
	if p.PSP != nil {
		fmt.Fprintf(b, " (psp spi %d)", p.PSP.SPI)
	}
	switch {
	case p.UDP != nil:
		sprintPorts(b, p.UDP.SrcPort, p.UDP.DstPort)
		fmt.Fprintf(b, " len %d", p.UDP.Len)
	case p.ICMP != nil:
		ic := p.ICMP
		fmt.Fprintf(b, " %s", ic.Type)
		if ic.Code != "" {
			fmt.Fprintf(b, " %s", ic.Code)
		}
		if ic.MTU != nil {
			fmt.Fprintf(b, " mtu %d", *ic.MTU)
		}
		if ic.ID != nil {
			fmt.Fprintf(b, " id %d", *ic.ID)
		}
		switch {
		case ic.EchoedSeq != nil:
			fmt.Fprintf(b, " [%s %d:%d(%d)]", ic.EchoedProto, ic.EchoedSeq.Start, ic.EchoedSeq.End, ic.EchoedSeq.Len)
		case ic.EchoedProto != "":
			fmt.Fprintf(b, " [%s %d]", ic.EchoedProto, ic.EchoedLen)
		}
	case p.TCP != nil:
		t := p.TCP
		sprintPorts(b, t.SrcPort, t.DstPort)
		fmt.Fprintf(b, " %q flags=%#x", t.FlagsText, t.Flags)
		if t.ACE != nil {
			fmt.Fprintf(b, " ace=%d", *t.ACE)
		}
		fmt.Fprintf(b, " %d:%d(%d)", t.Seq.Start, t.Seq.End, t.Seq.Len)
		if t.Ack != nil {
			fmt.Fprintf(b, " ack %d", *t.Ack)
		}
		if t.Win != nil {
			fmt.Fprintf(b, " win %d", *t.Win)
		}
		if t.Urg != nil {
			fmt.Fprintf(b, " urg %d", *t.Urg)
		}
		if t.AnyOptions {
			b.WriteString(" <...>")
		}
		if t.Options != nil {
			b.WriteString(" <")
			for i, o := range t.Options {
				if i > 0 {
					b.WriteString(" ")
				}
				sprintOption(b, o)
			}
			b.WriteString(">")
		}
	}
	b.WriteString(")")
}

func sprintPorts(b *strings.Builder, src, dst *uint16) {
	if src != nil && dst != nil {
		fmt.Fprintf(b, " %d>%d", *src, *dst)
	}
}

func sprintIP(b *strings.Builder, ip *IPInfo) {
	var parts []string
	if ip.ECN != ECNUnset {
		parts = append(parts, [...]string{"", "noecn", "ect1", "ect0", "ce", "ect01"}[ip.ECN])
	}
	if ip.TOS != nil {
		parts = append(parts, fmt.Sprintf("tos %#x", *ip.TOS))
	}
	if ip.FlowLabel != nil {
		parts = append(parts, fmt.Sprintf("flowlabel %#x", *ip.FlowLabel))
	}
	if ip.TTL != nil {
		parts = append(parts, fmt.Sprintf("ttl %d", *ip.TTL))
	}
	b.WriteString("[" + strings.Join(parts, " ") + "]")
}

func sprintOption(b *strings.Builder, o *TCPOption) {
	b.WriteString("(" + string(o.Kind))
	switch o.Kind {
	case OptMSS, OptWScale:
		fmt.Fprintf(b, " %d", o.Value)
	case OptSACK:
		for _, s := range o.Blocks {
			fmt.Fprintf(b, " %d:%d", s.Left, s.Right)
		}
	case OptTS:
		fmt.Fprintf(b, " %d %d", o.TSVal, o.TSEcr)
	case OptMD5, OptFO, OptFOEXP:
		if o.Cookie != nil {
			fmt.Fprintf(b, " %x", o.Cookie)
		}
	case OptAccECN:
		fmt.Fprintf(b, " order=%d", o.Order)
		for i, c := range o.Counters {
			fmt.Fprintf(b, " %s=%d", o.CounterNames[i], c)
		}
	}
	b.WriteString(")")
}

func sprintSyscall(b *strings.Builder, s *Syscall) {
	b.WriteString("(" + s.Name)
	for _, a := range s.Args {
		b.WriteString(" ")
		b.WriteString(SprintExpr(a))
	}
	b.WriteString(" = ")
	b.WriteString(SprintExpr(s.Result))
	if s.Errno != "" {
		b.WriteString(" " + s.Errno)
	}
	if s.Note != "" {
		fmt.Fprintf(b, " %q", s.Note)
	}
	if s.HasEnd {
		b.WriteString(" end " + secs(s.End))
	}
	b.WriteString(")")
}

// SprintExpr returns the S-expression form of an expression.
func SprintExpr(e Expr) string {
	switch e := e.(type) {
	case nil:
		return "<nil>"
	case *IntLit:
		return strconv.FormatInt(e.Value, 10)
	case *Word:
		return e.Name
	case *StringLit:
		if e.Ellipsis {
			return strconv.Quote(e.Value) + "..."
		}
		return strconv.Quote(e.Value)
	case *Ellipsis:
		return "..."
	case *ListExpr:
		parts := make([]string, len(e.Elems))
		for i, x := range e.Elems {
			parts[i] = SprintExpr(x)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *StructExpr:
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			if f.Key != nil {
				parts[i] = SprintExpr(f.Key) + "=" + SprintExpr(f.Value)
			} else {
				parts[i] = SprintExpr(f.Value)
			}
		}
		if e.Paren {
			return "(tuple " + strings.Join(parts, " ") + ")"
		}
		return "{" + strings.Join(parts, " ") + "}"
	case *BinaryExpr:
		op := e.Op
		if op == " " {
			op = "pair"
		}
		return "(" + op + " " + SprintExpr(e.X) + " " + SprintExpr(e.Y) + ")"
	case *CallExpr:
		parts := make([]string, len(e.Args))
		for i, x := range e.Args {
			parts[i] = SprintExpr(x)
		}
		return e.Func + "(" + strings.Join(parts, " ") + ")"
	}
	return fmt.Sprintf("<%T>", e)
}
