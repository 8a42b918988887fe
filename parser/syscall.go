package parser

import (
	"strconv"
	"strings"
)

// maxDepth bounds expression nesting so hostile input cannot exhaust the
// stack.
const maxDepth = 100

// syscall = ['...' time] WORD '(' [expr {',' expr}] ')' '=' expr
//
//	[WORD note] [note] .
//
// note = '(' any-token* ')' .
func (p *parser) parseSyscall() *Syscall {
	sc := &Syscall{}
	if p.cur().kind == tEllipsis {
		p.next()
		sc.HasEnd = true
		sc.End = p.parseSeconds()
	}
	name := p.cur()
	if name.kind != tWord {
		p.syntaxError("system call name")
	}
	p.next()
	sc.Pos, sc.Name = name.pos, name.text
	p.expectPunct("(")
	sc.Args = []Expr{}
	if !p.isPunct(")") {
		for {
			sc.Args = append(sc.Args, p.parseExpr())
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	p.expectPunct(")")
	p.expectPunct("=")
	sc.Result = p.parseExpr()
	if t := p.cur(); t.kind == tWord && !t.lineStart {
		p.next()
		sc.Errno = t.text
		if !p.isPunct("(") {
			p.errorf(t.pos, "errno %s must be followed by a (note), found %s", t.text, p.describe(p.cur()))
			return sc
		}
	}
	if p.isPunct("(") {
		sc.Note = p.parseNote()
	}
	return sc
}

func (p *parser) parseNote() string {
	open := p.next()
	var words []string
	for !p.isPunct(")") {
		t := p.cur()
		if t.kind == tEOF || (t.lineStart && t.pos.Line > open.pos.Line && startsEvent(t)) {
			p.syntaxError("')' closing the note")
		}
		if t.kind == tPunct && t.text == "(" {
			p.syntaxError("')' closing the note")
		}
		p.next()
		words = append(words, t.raw)
	}
	p.next()
	return strings.Join(words, " ")
}

// expr = assign .
// assign = or ['=' assign] .   (only after a WORD)
// or = primary {'|' primary} .
func (p *parser) parseExpr() Expr {
	x := p.parseOr()
	if w, ok := x.(*Word); ok && p.isPunct("=") {
		op := p.next()
		return &BinaryExpr{Pos: op.pos, Op: "=", X: w, Y: p.parseExpr()}
	}
	return x
}

func (p *parser) parseOr() Expr {
	x := p.parsePrimary()
	for p.isPunct("|") {
		op := p.next()
		y := p.parsePrimary()
		x = &BinaryExpr{Pos: op.pos, Op: "|", X: x, Y: y}
	}
	return x
}

// primary = '...' | INT | HEX | STRING {STRING} ['...']
//
//	| '[' [elem {',' elem}] ']' | '{' [field {',' field}] '}'
//	| '(' [field {',' field}] ')' | WORD ['(' [expr {',' expr}] ')'] .
func (p *parser) parsePrimary() Expr {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		p.errorf(p.cur().pos, "expression nested too deeply")
		panic(bailout{})
	}
	t := p.cur()
	switch t.kind {
	case tEllipsis:
		p.next()
		return &Ellipsis{Pos: t.pos}
	case tInt, tHex:
		p.next()
		return p.intLit(t)
	case tString:
		p.next()
		s := &StringLit{Pos: t.pos, Value: t.text}
		for p.cur().kind == tString {
			s.Value += p.next().text
		}
		if p.cur().kind == tEllipsis {
			p.next()
			s.Ellipsis = true
		}
		return s
	case tWord:
		p.next()
		if p.isPunct("(") && p.cur().pos.Line == t.pos.Line {
			p.next()
			c := &CallExpr{Pos: t.pos, Func: t.text, Args: []Expr{}}
			if !p.isPunct(")") {
				for {
					c.Args = append(c.Args, p.parseExpr())
					if !p.acceptPunct(",") {
						break
					}
				}
			}
			p.expectPunct(")")
			return c
		}
		return &Word{Pos: t.pos, Name: t.text}
	case tPunct:
		switch t.text {
		case "[":
			p.next()
			l := &ListExpr{Pos: t.pos, Elems: []Expr{}}
			if !p.isPunct("]") {
				for {
					l.Elems = append(l.Elems, p.parseElem())
					if !p.acceptPunct(",") {
						break
					}
				}
			}
			p.expectPunct("]")
			return l
		case "{", "(":
			p.next()
			closer := "}"
			if t.text == "(" {
				closer = ")"
			}
			s := &StructExpr{Pos: t.pos, Fields: []*Field{}, Paren: t.text == "("}
			if !p.isPunct(closer) {
				for {
					s.Fields = append(s.Fields, p.parseField())
					if !p.acceptPunct(",") {
						break
					}
				}
			}
			p.expectPunct(closer)
			return s
		}
	}
	p.syntaxError("expression")
	return nil
}

// startsExpr reports whether t can begin an expression.
func startsExpr(t token) bool {
	switch t.kind {
	case tEllipsis, tInt, tHex, tString, tWord:
		return true
	case tPunct:
		return t.text == "[" || t.text == "{" || t.text == "("
	}
	return false
}

// field = (WORD | call) '=' expr | WORD expr | expr .
// The "WORD expr" form is the reference's GRE and MPLS fields ("sum 0",
// "label 1").
func (p *parser) parseField() *Field {
	pos := p.cur().pos
	x := p.parseOr()
	switch k := x.(type) {
	case *Word, *CallExpr:
		if p.acceptPunct("=") {
			return &Field{Pos: pos, Key: k, Value: p.parseExpr()}
		}
		if w, ok := k.(*Word); ok && startsExpr(p.cur()) {
			return &Field{Pos: pos, Key: w, Value: p.parseOr()}
		}
	}
	return &Field{Pos: pos, Value: x}
}

// elem = expr | WORD expr .
// The juxtaposed form ("checksum present" in GRE flags) becomes a
// BinaryExpr with Op " ".
func (p *parser) parseElem() Expr {
	x := p.parseExpr()
	if w, ok := x.(*Word); ok && startsExpr(p.cur()) {
		return &BinaryExpr{Pos: w.Pos, Op: " ", X: w, Y: p.parseOr()}
	}
	return x
}

func (p *parser) intLit(t token) *IntLit {
	lit := &IntLit{Pos: t.pos, Text: t.raw}
	var err error
	if t.kind == tHex {
		var u uint64
		u, err = strconv.ParseUint(t.text[2:], 16, 64)
		lit.Value = int64(u)
	} else {
		lit.Value, err = strconv.ParseInt(t.text, 10, 64)
	}
	if err != nil {
		p.errorf(t.pos, "integer %s too large", t.raw)
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
