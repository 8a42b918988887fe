package parser

import (
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// maxDepth bounds bracket nesting so hostile input cannot exhaust the
// stack (see lexTokens).
const maxDepth = 100

// lowerSyscall lowers syscall = ['...' seconds] WORD '(' [expr {',' expr}] ')' '=' expr tail .
func (p *parser) lowerSyscall(g *gSyscall) *Syscall {
	sc := p.slabs.syscalls.new()
	*sc = Syscall{Pos: p.pos(g.Name.Pos), Name: g.Name.Value}
	if g.End != nil {
		sc.HasEnd = true
		sc.End = p.seconds(g.End.Tok)
	}
	sc.Args = p.slabs.exprList(len(g.Args))
	for _, a := range g.Args {
		sc.Args = append(sc.Args, p.lowerExpr(a))
	}
	sc.Result = p.lowerExpr(g.Result)
	if t := g.Tail.Errno; t != nil {
		sc.Errno = t.Value
		if g.Tail.NoNote != "" {
			p.errorf(p.pos(t.Pos), "%s", g.Tail.NoNote)
		}
	}
	if g.Tail.HasNote {
		words := make([]string, len(g.Tail.Note))
		for i, t := range g.Tail.Note {
			words[i] = p.rawOf(t)
		}
		sc.Note = strings.Join(words, " ")
	}
	return sc
}

// lowerExpr lowers expr = WORD '=' expr | or .
func (p *parser) lowerExpr(g *gExpr) Expr {
	if g.Name != nil {
		w := p.word(g.Name.Pos, g.Name.Value)
		return &BinaryExpr{Pos: p.pos(p.nextTok(*g.Name).Pos), Op: "=", X: w, Y: p.lowerExpr(g.Value)}
	}
	return p.lowerOr(g.Or)
}

// nextTok returns the grammar token after t.
func (p *parser) nextTok(t lexer.Token) lexer.Token {
	i := p.index(t)
	if i+1 < len(p.toks) {
		return p.toks[i+1]
	}
	return t
}

// lowerOr lowers or = primary {'|' primary} .
func (p *parser) lowerOr(g *gOr) Expr {
	x := p.lowerPrimary(g.X)
	for _, op := range g.Rest {
		x = &BinaryExpr{Pos: p.pos(op.Pos), Op: "|", X: x, Y: p.lowerPrimary(op.Y)}
	}
	return x
}

// lowerPrimary lowers a primary expression.
func (p *parser) lowerPrimary(g *gPrimary) Expr {
	pos := p.pos(g.Pos)
	switch {
	case g.Ellipsis:
		return &Ellipsis{Pos: pos}
	case g.Int != nil:
		return p.intLit(*g.Int)
	case g.Strings != nil:
		s := &StringLit{Pos: pos, Ellipsis: g.StrDots}
		for _, t := range g.Strings {
			s.Value += unquote(t.Tok)
		}
		return s
	case g.List != nil:
		l := p.slabs.lists.new()
		*l = ListExpr{Pos: pos, Elems: p.slabs.exprList(len(g.List.Elems))}
		for _, e := range g.List.Elems {
			l.Elems = append(l.Elems, p.lowerElem(e))
		}
		return l
	case g.Struct != nil:
		return p.lowerStruct(g.Struct, pos)
	case g.Word != nil && g.Call != nil:
		c := &CallExpr{Pos: pos, Func: g.Word.Value, Args: p.slabs.exprList(len(g.Call.Args))}
		for _, a := range g.Call.Args {
			c.Args = append(c.Args, p.lowerExpr(a))
		}
		return c
	case g.Word != nil:
		w := p.slabs.words.new()
		*w = Word{Pos: pos, Name: g.Word.Value}
		return w
	}
	p.fail(pos, "expected expression")
	return nil
}

// lowerStruct lowers struct = ('{' | '(') [field {',' field}] ('}' | ')') .
func (p *parser) lowerStruct(g *gStruct, pos Pos) Expr {
	closer, fields := "}", g.BraceFields
	if !g.Brace {
		closer, fields = ")", g.ParenFields
	}
	s := &StructExpr{Pos: pos, Fields: make([]*Field, 0, len(fields)), Paren: !g.Brace}
	for _, f := range fields {
		s.Fields = append(s.Fields, p.lowerField(f, closer))
	}
	return s
}

// failExpected reports that what was expected where t was found, and
// abandons the event.
func (p *parser) failExpected(t lexer.Token, what string) {
	pos, msg := expectedMsg(p.prevOf(t), t, what, false)
	p.fail(p.pos(pos), "%s", msg)
}

// lowerField lowers field = (WORD | call) '=' expr | WORD expr | expr .
// The "WORD expr" form is the reference's GRE and MPLS fields ("sum 0",
// "label 1").
func (p *parser) lowerField(g *gField, closer string) *Field {
	pos := p.pos(g.Pos)
	x := p.lowerOr(g.X)
	switch {
	case g.Eq != nil:
		switch x.(type) {
		case *Word, *CallExpr:
			return &Field{Pos: pos, Key: x, Value: p.lowerExpr(g.Value)}
		}
		p.failExpected(*g.Eq, "'"+closer+"'")
	case g.Juxt != nil:
		if w, ok := x.(*Word); ok {
			return &Field{Pos: pos, Key: w, Value: p.lowerOr(g.Juxt)}
		}
		p.failExpected(p.firstTok(g.Juxt), "'"+closer+"'")
	}
	return &Field{Pos: pos, Value: x}
}

// firstTok returns the first token of an or expression.
func (p *parser) firstTok(g *gOr) lexer.Token {
	return p.toks[p.indexAt(g.X.Pos.Offset)]
}

// lowerElem lowers elem = WORD or | expr .
func (p *parser) lowerElem(g *gElem) Expr {
	if g.Key != nil {
		w := p.word(g.Key.Pos, g.Key.Value)
		return &BinaryExpr{Pos: w.Pos, Op: " ", X: w, Y: p.lowerOr(g.Val)}
	}
	return p.lowerExpr(g.Expr)
}

func (p *parser) intLit(t lexer.Token) *IntLit {
	lit := p.slabs.ints.new()
	*lit = IntLit{Pos: p.pos(t.Pos), Text: p.rawOf(t)}
	var err error
	if isKind(&t, tHex) {
		var u uint64
		u, err = strconv.ParseUint(t.Value[2:], 16, 64)
		lit.Value = int64(u)
	} else {
		lit.Value, err = strconv.ParseInt(t.Value, 10, 64)
	}
	if err != nil {
		p.errorf(lit.Pos, "integer %s too large", lit.Text)
	}
	return lit
}

// --- time checks ---

// checkEventTime checks what one event's time allows.
func (p *parser) checkEventTime(e *Event) {
	outbound := e.Packet != nil && e.Packet.Direction == Outbound
	switch e.Time.Kind {
	case TimeAny:
		if !outbound {
			p.errorf(e.Time.Pos, "event time <star> can only be used with outbound packets")
		}
	case TimeAbsoluteRange, TimeRelativeRange:
		if !outbound {
			p.errorf(e.Time.Pos, "event time range can only be used with outbound packets")
		}
	}
	if sc := e.Syscall; sc != nil && sc.HasEnd && sc.End < e.Time.Start {
		p.errorf(e.Time.Pos, "blocking call ends (%v) before it starts (%v)", sc.End, e.Time.Start)
	}
}

// checkTimes checks the order of event times across the script, as the
// reference does before running each event.
func (p *parser) checkTimes(s *Script) {
	for i, e := range s.Events {
		if i == 0 {
			if e.Time.Start != 0 {
				p.errorf(e.Time.Pos, "first event should be at time 0")
			}
			continue
		}
		prev := s.Events[i-1]
		if isAbsolute(prev.Time.Kind) && isAbsolute(e.Time.Kind) && e.Time.Start < prev.Time.Start {
			p.errorf(e.Time.Pos, "time goes backward in script from %v to %v", prev.Time.Start, e.Time.Start)
		}
	}
}

func isAbsolute(k TimeKind) bool { return k == TimeAbsolute || k == TimeAbsoluteRange }
