package parser

// The parser is a hand-written recursive descent over participle's lexer
// (lexer.go): the reference grammar is free-format (newlines are blanks),
// and hand-written productions give "expected X, found Y" messages and
// bounded work on any input. Each function carries the production it
// parses, in the notation of grammar.txt.

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
)

// Options tune a parse.
type Options struct {
	// Defines maps NAME to value, as packetdrill's -D NAME=value: each word
	// NAME of the script (keywords excepted) is replaced by value. They
	// override --define options written in the script.
	Defines map[string]string
}

// ParseFile reads and parses the script at path.
func ParseFile(path string, opts Options) (*Script, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src, opts)
}

// Parse parses the script src, naming it filename in positions. The error,
// if any, is an ErrorList.
func Parse(filename string, src []byte, opts Options) (s *Script, err error) {
	p := &parser{file: filename, src: src, opts: opts}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				p.errs = append(p.errs, &Error{Pos: p.cur().pos,
					Msg: fmt.Sprintf("internal error: %v\n%s", r, debug.Stack())})
			}
			s = nil
		}
		if len(p.errs) > 0 {
			p.finishErrors()
			s, err = nil, p.errs
		}
	}()
	return p.parseScript(), nil
}

// bailout is panicked to abandon a production (syntax error) or the whole
// parse (too many errors).
type bailout struct{ fatal bool }

type parser struct {
	file string
	src  []byte
	opts Options
	lx   lexer.Lexer
	buf  []token // lookahead
	// pending are tokens split off the last lexed one.
	pending []token
	prev    token // the last token consumed
	errs    ErrorList
	// defines is set once the option lines are read; words of later tokens
	// are substituted.
	defines map[string]string
	depth   int
}

// --- tokens ---

func (p *parser) fill(n int) {
	for len(p.buf) < n {
		if len(p.buf) > 0 && p.buf[len(p.buf)-1].kind == tEOF {
			p.buf = append(p.buf, p.buf[len(p.buf)-1])
			continue
		}
		p.buf = append(p.buf, p.nextToken())
	}
}

func (p *parser) nextToken() token {
	if len(p.pending) > 0 {
		tk := p.pending[0]
		p.pending = p.pending[1:]
		return tk
	}
	t, err := p.lx.Next()
	if err != nil {
		p.errorf(p.prev.pos, "%v", err)
		return token{kind: tEOF, pos: p.prev.pos, lineStart: true}
	}
	if t.EOF() {
		return token{kind: tEOF, pos: Pos{p.file, t.Pos.Line, t.Pos.Column}, lineStart: true}
	}
	tk, skip := convertToken(p.file, t)
	if skip {
		return p.nextToken()
	}
	if tk.kind == tColonRun {
		parts := splitColonRun(tk)
		tk = parts[0]
		p.pending = append(p.pending, parts[1:]...)
	}
	if tk.pos.Line != p.lastLine() {
		tk.lineStart = true
	}
	if p.defines != nil {
		substitute(&tk, p.defines)
	}
	return tk
}

func (p *parser) lastLine() int {
	if len(p.buf) > 0 {
		return p.buf[len(p.buf)-1].pos.Line
	}
	return p.prev.pos.Line
}

func (p *parser) cur() token { p.fill(1); return p.buf[0] }

func (p *parser) peek(n int) token { p.fill(n + 1); return p.buf[n] }

func (p *parser) next() token {
	t := p.cur()
	if t.kind != tEOF {
		p.buf = p.buf[1:]
	}
	p.prev = t
	if t.kind == tBad {
		p.errorf(t.pos, "%s", t.text)
		panic(bailout{fatal: true})
	}
	return t
}

func (p *parser) isPunct(c string) bool {
	t := p.cur()
	return t.kind == tPunct && t.text == c
}

func (p *parser) isWord(w string) bool {
	t := p.cur()
	return t.kind == tWord && t.text == w
}

func (p *parser) acceptPunct(c string) bool {
	if p.isPunct(c) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectPunct(c string) token {
	if !p.isPunct(c) {
		p.syntaxError("'" + c + "'")
	}
	return p.next()
}

func (p *parser) expectWord(w string) token {
	if !p.isWord(w) {
		p.syntaxError("'" + w + "'")
	}
	return p.next()
}

// describe names a token for "found X" in messages.
func (p *parser) describe(t token) string {
	switch {
	case t.kind == tEOF:
		return "EOF"
	case t.kind == tBad:
		return t.text
	case p.prev.pos.Line != 0 && t.pos.Line > p.prev.pos.Line:
		return "newline"
	case t.kind == tString:
		return "string " + strconv.Quote(t.text)
	case t.kind == tBacktick:
		return "command"
	case t.kind == tCode:
		return "code block"
	}
	s := t.raw
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return "'" + s + "'"
}

// syntaxError reports that what was expected is not at the current token
// and abandons the current production.
func (p *parser) syntaxError(what string) {
	p.syntaxErrorOpt(what, false)
}

// syntaxErrorOpt is syntaxError; atToken says the expected thing starts a
// line, so the message names the token rather than "newline".
func (p *parser) syntaxErrorOpt(what string, atToken bool) {
	t := p.cur()
	if t.kind == tBad {
		p.next() // reports it
	}
	found := p.describe(t)
	if atToken && found == "newline" {
		saved := p.prev
		p.prev = token{}
		found = p.describe(t)
		p.prev = saved
	}
	msg := fmt.Sprintf("expected %s, found %s", what, found)
	if t.kind == tPunct && t.text == "#" {
		msg += " ('#' is not a comment; use // or /* */)"
	}
	pos := t.pos
	if t.kind == tEOF || found == "newline" {
		// Point just after the last token, on its line.
		pos = p.prev.pos
		if pos.Line == 0 {
			pos = t.pos
		} else {
			pos.Col += len([]rune(p.prev.raw))
		}
	}
	p.errorf(pos, "%s", msg)
	panic(bailout{})
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	if len(p.errs) >= maxErrors {
		p.errs = append(p.errs, &Error{Pos: pos, Msg: "too many errors"})
		panic(bailout{fatal: true})
	}
}

// finishErrors sorts the errors, keeps one per line, and fills in the
// source lines.
func (p *parser) finishErrors() {
	p.errs.Sort()
	out := p.errs[:0]
	for i, e := range p.errs {
		if i > 0 && e.Pos.Line == p.errs[i-1].Pos.Line && e.Pos.Line != 0 && e.Msg != "too many errors" {
			continue
		}
		out = append(out, e)
	}
	p.errs = out
	for _, e := range p.errs {
		e.Line = sourceLine(p.src, e.Pos.Line)
	}
}

func sourceLine(src []byte, line int) string {
	if line <= 0 {
		return ""
	}
	for n := 1; n < line; n++ {
		i := indexByte(src, '\n')
		if i < 0 {
			return ""
		}
		src = src[i+1:]
	}
	if i := indexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return strings.TrimRight(string(src), "\r")
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// --- script ---

// script = option* [command] event+ [command] EOF .
func (p *parser) parseScript() *Script {
	s := &Script{File: p.file, Source: p.src}
	if off, msg := checkEncoding(p.src); off >= 0 {
		p.errorf(offsetPos(p.file, p.src, off), "%s", msg)
		return nil
	}
	lx, err := lexDef.LexString(p.file, string(p.src))
	if err != nil {
		p.errorf(Pos{File: p.file}, "%v", err)
		return nil
	}
	p.lx = lx

	defines := map[string]string{}
	for p.cur().kind == tOption {
		p.recover(func() {
			o := p.parseOption()
			s.Options = append(s.Options, o)
			if o.Name == "define" && o.HasValue {
				if name, val, ok := strings.Cut(o.Value, "="); ok && name != "" {
					defines[name] = val
				} else {
					p.errorf(o.Pos, "bad definition: %s", o.Value)
				}
			}
		})
	}
	for k, v := range p.opts.Defines {
		defines[k] = v
	}
	if len(defines) > 0 {
		p.defines = defines
		for i := range p.buf {
			substitute(&p.buf[i], defines)
		}
	}

	if t := p.cur(); t.kind == tBacktick {
		p.next()
		s.Init = &Command{Pos: t.pos, Text: t.text}
	}
	for p.cur().kind != tEOF {
		t := p.cur()
		if t.kind == tBacktick {
			p.next()
			s.Cleanup = &Command{Pos: t.pos, Text: t.text}
			if n := p.cur(); n.kind != tEOF {
				p.errorf(n.pos, "expected EOF after the cleanup command (or a time before the command), found %s", p.describe(n))
			}
			break
		}
		p.recover(func() {
			s.Events = append(s.Events, p.parseEvent())
		})
	}
	if len(s.Events) == 0 && len(p.errs) == 0 {
		pos := p.prev.pos
		if pos.Line == 0 {
			pos = Pos{p.file, 1, 1}
		}
		p.errorf(pos, "expected an event, found EOF (a script needs at least one event)")
	}
	p.checkTimes(s)
	return s
}

// recover runs f, and after a syntax error in it skips to the start of a
// line that can begin an event.
func (p *parser) recover(f func()) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok || b.fatal {
				panic(r)
			}
			p.sync()
		}
	}()
	f()
}

func (p *parser) sync() {
	line := p.cur().pos.Line
	if p.prev.pos.Line > line {
		line = p.prev.pos.Line
	}
	for {
		t := p.cur()
		if t.kind == tEOF {
			return
		}
		if t.lineStart && t.pos.Line > line && startsEvent(t) {
			return
		}
		p.next()
	}
}

func startsEvent(t token) bool {
	switch t.kind {
	case tInt, tFloat, tBacktick, tOption:
		return true
	case tPunct:
		return t.text == "+" || t.text == "*"
	}
	return false
}

func offsetPos(file string, src []byte, off int) Pos {
	line, col := 1, 1
	for i := 0; i < off && i < len(src); i++ {
		if src[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return Pos{file, line, col}
}

// option = OPTION ['=' value] .
// value  = INTEGER | HEX | FLOAT | WORD | STRING | IPV4 | IPV6
//
//	| WORD '=' (WORD | INTEGER | STRING | COMMAND) .
func (p *parser) parseOption() *Option {
	t := p.next()
	o := &Option{Pos: t.pos, Name: t.text}
	if !p.acceptPunct("=") {
		return o
	}
	o.HasValue = true
	v := p.cur()
	switch v.kind {
	case tInt, tHex, tFloat, tString, tIPv4, tIPv6:
		p.next()
		o.Value = v.text
	case tWord:
		p.next()
		o.Value = v.text
		if p.acceptPunct("=") {
			w := p.cur()
			switch w.kind {
			case tWord, tInt, tHex, tFloat, tIPv4, tIPv6:
				o.Value += "=" + w.text
			case tString:
				o.Value += "=\"" + w.text + "\""
			case tBacktick:
				o.Value += "=`" + w.text + "`"
			default:
				p.syntaxError("definition value")
			}
			p.next()
		}
	default:
		p.syntaxError("option value")
	}
	return o
}

// --- events ---

// event = time action .
// action = packet | syscall | COMMAND | CODE .
func (p *parser) parseEvent() *Event {
	tm := p.parseTime()
	e := &Event{Pos: tm.Pos, Time: tm}
	t := p.cur()
	switch {
	case t.kind == tPunct && (t.text == "<" || t.text == ">"):
		e.Packet = p.parsePacket()
	case t.kind == tBacktick:
		p.next()
		e.Command = &Command{Pos: t.pos, Text: t.text}
	case t.kind == tCode:
		p.next()
		e.Code = &Code{Pos: t.pos, Text: t.text}
	case t.kind == tWord || t.kind == tEllipsis:
		e.Syscall = p.parseSyscall()
	default:
		p.syntaxError("packet, system call, command or code block")
	}
	p.checkEventTime(e)
	return e
}

// time = '+' num ['~' '+' num] | '*' | num ['~' num] .
func (p *parser) parseTime() EventTime {
	t := p.cur()
	et := EventTime{Pos: t.pos}
	switch {
	case t.kind == tPunct && t.text == "*":
		p.next()
		et.Kind = TimeAny
	case t.kind == tPunct && t.text == "+":
		p.next()
		et.Kind = TimeRelative
		et.Start = p.parseSeconds()
		if p.acceptPunct("~") {
			et.Kind = TimeRelativeRange
			p.expectPunct("+")
			et.End = p.parseSeconds()
		}
	case t.kind == tInt || t.kind == tFloat:
		et.Kind = TimeAbsolute
		et.Start = p.parseSeconds()
		if p.acceptPunct("~") {
			et.Kind = TimeAbsoluteRange
			if p.isPunct("+") {
				p.syntaxError("absolute end time (both ends of a range are absolute or both relative)")
			}
			et.End = p.parseSeconds()
		}
	default:
		p.syntaxErrorOpt("event time", true)
	}
	if (et.Kind == TimeAbsoluteRange || et.Kind == TimeRelativeRange) && et.End < et.Start {
		p.errorf(et.Pos, "time range is backwards")
	}
	return et
}

// parseSeconds reads a time in seconds ("1", "1.5", ".001") exactly.
func (p *parser) parseSeconds() time.Duration {
	t := p.cur()
	if t.kind != tInt && t.kind != tFloat {
		p.syntaxError("time in seconds")
	}
	p.next()
	d, err := parseDuration(t.text)
	if err != nil {
		p.errorf(t.pos, "%v", err)
	}
	return d
}

func parseDuration(s string) (time.Duration, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("negative time %s", s)
	}
	ip, fp, _ := strings.Cut(s, ".")
	ip = strings.TrimLeft(ip, "0")
	if len(ip) > 9 {
		return 0, fmt.Errorf("time %s too large", s)
	}
	var secs int64
	if ip != "" {
		secs, _ = strconv.ParseInt(ip, 10, 64)
	}
	if len(fp) > 9 {
		fp = fp[:9]
	}
	frac := int64(0)
	if fp != "" {
		frac, _ = strconv.ParseInt(fp+strings.Repeat("0", 9-len(fp)), 10, 64)
	}
	return time.Duration(secs)*time.Second + time.Duration(frac), nil
}

// --- numbers ---

// number reads an integer (decimal or hex) that must fit in bits bits,
// naming it what in messages.
func (p *parser) number(what string, bits uint) uint64 {
	t := p.cur()
	if t.kind != tInt && t.kind != tHex {
		p.syntaxError(what)
	}
	p.next()
	return p.checkUint(t, what, bits)
}

func (p *parser) checkUint(t token, what string, bits uint) uint64 {
	var v uint64
	var err error
	if t.kind == tHex {
		v, err = strconv.ParseUint(t.text[2:], 16, 64)
	} else {
		if strings.HasPrefix(t.text, "-") {
			p.errorf(t.pos, "%s %s out of range (negative)", what, t.text)
			return 0
		}
		v, err = strconv.ParseUint(t.text, 10, 64)
	}
	if err != nil || (bits < 64 && v >= 1<<bits) {
		p.errorf(t.pos, "%s %s out of range for %d bits", what, t.text, bits)
		return 0
	}
	return v
}

func u16p(v uint64) *uint16 { x := uint16(v); return &x }
func u32p(v uint64) *uint32 { x := uint32(v); return &x }
func u8p(v uint64) *uint8   { x := uint8(v); return &x }
