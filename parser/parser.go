package parser

// Parse drives the grammar of grammar.go: the option lines first, then,
// with -D definitions applied to the tokens that follow, one event at a
// time, so that after a syntax error it can resume at the next line that
// starts an event and report up to maxErrors errors. The lowering pass
// (the lower* functions of this file, packet.go and syscall.go) turns each raw
// node into the AST and does the semantic checks.

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/alecthomas/participle/v2"
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
	// The buffer is the script's alone: its text need not be copied.
	return parse(path, src, opts, defaultSplit, true)
}

// Parse parses the script src, naming it filename in positions. The error,
// if any, is an ErrorList.
func Parse(filename string, src []byte, opts Options) (s *Script, err error) {
	return parse(filename, src, opts, defaultSplit, false)
}

// parse parses src; owned says nothing else holds src, so that the
// strings of the tree may share its memory.
func parse(filename string, src []byte, opts Options, split split, owned bool) (s *Script, err error) {
	p := &parser{file: filename, src: src, opts: opts, split: split, owned: owned}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				p.errs = append(p.errs, &Error{Pos: p.lastPos,
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

// bailout is panicked to abandon an event (syntax error) or the whole
// parse (too many errors, unterminated text).
type bailout struct{ fatal bool }

type parser struct {
	file    string
	src     []byte
	opts    Options
	toks    []lexer.Token  // the grammar's tokens, as p.lex holds them
	raw     map[int]string // by offset: words -D replaced, as written
	lex     *lexer.PeekingLexer
	errs    ErrorList
	lastPos Pos // of the event being parsed, for internal errors
	// syncLine is the line after which sync looks for an event.
	syncLine int

	final   bool        // the loaded tokens end the file
	nwin    int         // windows loaded
	lastTok lexer.Token // the last token loaded
	hasLast bool
	lastWin int // the window lastTok is in
	split   split
	owned   bool     // src is the parser's: see parse
	local   bool     // a worker's: the merger counts errors
	pending []*Event // of the unit being parsed
	events  []*Event
	cleanup *Command
	ts      tokenStream
	buf     []lexer.Token // the loaded window's tokens
	subst   *substitution
	shapes  map[string]*template // see memo.go
	slabs   slabs
	keyBuf  []byte
}

// script = option* [COMMAND] event+ [COMMAND] EOF .
func (p *parser) parseScript() *Script {
	s := &Script{File: p.file, Source: p.src}
	if off, msg := checkEncoding(p.src); off >= 0 {
		p.errorf(offsetPos(p.file, p.src, off), "%s", msg)
		return nil
	}
	text := string(p.src)
	if p.owned && len(p.src) > 0 {
		text = unsafe.String(&p.src[0], len(p.src))
	}
	p.ts = tokenStream{file: p.file, size: len(p.src), sc: newScanner(text)}
	c := &cutter{file: p.file, src: text}
	src := &cutterSource{c: c}
	p.load(src.next())

	defines := map[string]string{}
	for {
		if p.atWindowEnd() {
			p.load(src.next())
			continue
		}
		if kindOf(p.lex.Peek().Type) != tOption {
			break
		}
		var opt *Option
		p.unit(src, func() {
			opt = nil
			g, err := optionParser.ParseFromLexer(p.lex, parseOpts...)
			if err != nil {
				p.syntax(err)
			}
			o := p.lowerOption(g)
			opt = o
			if o.Name == "define" && o.HasValue {
				if name, _, ok := strings.Cut(o.Value, "="); !ok || name == "" {
					p.errorf(o.Pos, "bad definition: %s", o.Value)
				}
			}
		})
		if o := opt; o != nil {
			s.Options = append(s.Options, o)
			if o.Name == "define" && o.HasValue {
				if name, val, ok := strings.Cut(o.Value, "="); ok && name != "" {
					defines[name] = val
				}
			}
		}
	}
	for k, v := range p.opts.Defines {
		defines[k] = v
	}
	if len(defines) > 0 {
		p.subst = &substitution{defines: defines, from: p.lex.Peek().Pos.Offset}
		c.subst = p.subst
		p.substitute(defines)
	}

	for p.atWindowEnd() {
		p.load(src.next())
	}
	if t := p.lex.Peek(); isKind(t, tBacktick) {
		p.lex.Next()
		s.Init = &Command{Pos: p.pos(t.Pos), Text: unquote(*t)}
	}
	over := p.runEvents(src)
	for !over {
		if len(p.src) >= p.split.parallelBytes {
			p.parseRest(s, c, src.n)
			break
		}
		p.load(src.next())
		over = p.runEvents(src)
	}
	s.Events, s.Cleanup = p.events, p.cleanup
	if len(s.Events) == 0 && len(p.errs) == 0 {
		pos := Pos{p.file, 1, 1}
		if p.hasLast {
			pos = p.pos(p.lastTok.Pos)
		}
		p.errorf(pos, "expected an event, found EOF (a script needs at least one event)")
	}
	p.checkTimes(s)
	return s
}

var parseOpts = []participle.ParseOption{participle.AllowTrailing(true)}

// substitute applies -D definitions to the words after the option lines.
// It rewrites the tokens in the lexer's own slice (p.toks), which the
// parser has not looked at yet.
func (p *parser) substitute(defines map[string]string) {
	for i := int(p.lex.RawCursor()); i < len(p.toks); i++ {
		t := p.toks[i]
		if kindOf(t.Type) != tWord {
			continue
		}
		tk := token{kind: tWord, text: t.Value, pos: p.pos(t.Pos)}
		substitute(&tk, defines)
		if tk.kind != tWord || tk.text != t.Value {
			if p.raw == nil {
				p.raw = map[int]string{}
			}
			p.raw[t.Pos.Offset] = t.Value
			p.toks[i] = ptok(tk, t.Pos.Offset)
		}
	}
}

// try runs f, and after a syntax error in it skips to the start of a line
// that can begin an event.
func (p *parser) try(f func()) {
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

// sync skips to the first token after syncLine that starts a line and can
// begin an event.
func (p *parser) sync() {
	line := p.syncLine
	p.syncLine = 0
	for {
		t := p.lex.Peek()
		if t.EOF() {
			return
		}
		if t.Pos.Line > line && startsEventTok(t) && atLineStart(p.lex) {
			return
		}
		if isKind(t, tBad) && t.Value != tooDeep {
			// Unterminated text runs to the end of the file.
			p.errorf(p.pos(t.Pos), "%s", t.Value)
			panic(bailout{fatal: true})
		}
		p.lex.Next()
	}
}

// indexAt returns the index in p.toks of the first token at offset off or
// after it.
func (p *parser) indexAt(off int) int {
	return sort.Search(len(p.toks), func(i int) bool { return p.toks[i].Pos.Offset >= off })
}

// index returns the index in p.toks of the grammar token t.
func (p *parser) index(t lexer.Token) int {
	i := p.indexAt(t.Pos.Offset)
	for j := i; j < len(p.toks) && p.toks[j].Pos.Offset == t.Pos.Offset; j++ {
		if p.toks[j].Type == t.Type {
			return j
		}
	}
	return i
}

// rawOf returns a token as written: for a word -D replaced, the word.
func (p *parser) rawOf(t lexer.Token) string {
	if r, ok := p.raw[t.Pos.Offset]; ok {
		return r
	}
	return t.Value
}

// prevOf returns the grammar token before t, if any.
func (p *parser) prevOf(t lexer.Token) *lexer.Token {
	if i := p.index(t); i > 0 {
		return &p.toks[i-1]
	}
	return nil
}

func (p *parser) pos(lp lexer.Position) Pos { return Pos{p.file, lp.Line, lp.Column} }

// syntax reports a syntax error of the grammar and abandons the event.
// Participle's "unexpected token" errors are put in the words of the
// hand-written nodes: "expected X, found Y".
func (p *parser) syntax(err error) {
	var (
		at  lexer.Token
		pos lexer.Position
		msg string
	)
	var se *synErr
	var ue *participle.UnexpectedTokenError
	var pe participle.Error
	switch {
	case errors.As(err, &se):
		at, pos, msg = se.at, se.pos, se.msg
	case errors.As(err, &ue):
		at = ue.Unexpected
		pos, msg = expectedMsg(p.prevOf(at), at, expectedWhat(ue), false)
	case errors.As(err, &pe):
		at, pos, msg = lexer.Token{Type: tokType(tPunct), Pos: pe.Position()}, pe.Position(), pe.Message()
	default:
		panic(err)
	}
	if isKind(&at, tBad) {
		p.errorf(p.pos(at.Pos), "%s", at.Value)
		if at.Value != tooDeep {
			panic(bailout{fatal: true})
		}
	} else {
		p.errorf(p.pos(pos), "%s", msg)
	}
	p.syncLine = at.Pos.Line
	if prev := p.prevOf(at); prev != nil && prev.Pos.Line > p.syncLine {
		p.syncLine = prev.Pos.Line
	}
	panic(bailout{})
}

var expectRE = regexp.MustCompile(`\(expected (.*)\)$`)

// expectedWhat puts what participle expected in the words of messages:
// the first term of the rest of a sequence, each alternative of it named.
func expectedWhat(ue *participle.UnexpectedTokenError) string {
	m := expectRE.FindStringSubmatch(ue.Message())
	if m == nil {
		return "something else"
	}
	term := firstTerm(m[1])
	if strings.HasPrefix(term, "(") {
		term = strings.TrimRight(term, "?*+")
		term = strings.TrimSuffix(strings.TrimPrefix(term, "("), ")")
	}
	term = strings.TrimRight(term, "?*+")
	var out []string
	seen := map[string]bool{}
	for _, alt := range splitTop(term, '|') {
		alt = firstTerm(strings.TrimSpace(alt))
		alt = strings.TrimRight(alt, "?*+")
		if s, err := strconv.Unquote(alt); err == nil {
			alt = "'" + s + "'"
		} else if l, ok := numLabels[alt]; ok {
			alt = l
		} else if l, ok := nodeLabels[alt]; ok {
			alt = l
		} else if strings.HasPrefix(alt, "<") {
			alt = symbolName(strings.Trim(alt, "<>"))
		}
		if !seen[alt] {
			seen[alt] = true
			out = append(out, alt)
		}
	}
	return strings.Join(out, " or ")
}

// firstTerm returns the first term of a sequence in participle's EBNF.
func firstTerm(s string) string {
	parts := splitTop(s, ' ')
	if len(parts) == 0 {
		return s
	}
	return parts[0]
}

// splitTop splits s at sep outside quotes and parentheses.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, quote, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote:
			if c == '\\' {
				i++
			} else if c == '"' {
				quote = false
			}
		case c == '"':
			quote = true
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == sep && depth == 0:
			if t := strings.TrimSpace(s[start:i]); t != "" {
				out = append(out, t)
			}
			start = i + 1
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// nodeLabels names the grammar's nodes in messages.
var nodeLabels = map[string]string{
	"GExpr": "expression", "GOr": "expression", "GPrimary": "expression",
	"GElem": "expression", "GField": "expression", "GList": "expression",
	"GStruct": "expression", "GTCPOption": "TCP option", "GIPItem": "ip info",
	"GSACKBlock": "TCP SACK left sequence number", "GMPLS": "'('",
	"GGREField": "GRE header field (flags, sum, off, key, seq)",
	"GGREFlag":  "GRE flag (none, checksum present, key present, sequence# present)",
	"GSeq":      "sequence range start:end(length)", "GPorts": "ports",
}

func symbolName(s string) string {
	for name, k := range tokSymbols {
		if strings.EqualFold(name, s) {
			return kindNames[kindOf(k)]
		}
	}
	return s
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	if len(p.errs) >= maxErrors {
		if p.local {
			panic(bailout{fatal: true})
		}
		p.errs = append(p.errs, &Error{Pos: pos, Msg: "too many errors"})
		panic(bailout{fatal: true})
	}
}

// fail reports an error and abandons the event, as a syntax error does.
func (p *parser) fail(pos Pos, format string, args ...any) {
	p.errorf(pos, format, args...)
	panic(bailout{})
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

// unquote returns the text of a string or command token, without its
// quotes.
func unquote(t lexer.Token) string { return t.Value[1 : len(t.Value)-1] }

// --- lowering: options and events ---

// lowerOption lowers option = OPTION ['=' value] .
func (p *parser) lowerOption(g *gOption) *Option {
	o := &Option{Pos: p.pos(g.Name.Pos), Name: g.Name.Value[2:]}
	v := g.Value
	if v == nil {
		return o
	}
	o.HasValue = true
	switch {
	case v.Lit != nil:
		o.Value = v.Lit.Value
		if isKind(v.Lit, tString) {
			o.Value = unquote(*v.Lit)
		}
	case v.Word != nil:
		o.Value = v.Word.Value
		if w := v.Def; w != nil {
			switch kindOf(w.Type) {
			case tString:
				o.Value += "=\"" + unquote(*w) + "\""
			case tBacktick:
				o.Value += "=`" + unquote(*w) + "`"
			default:
				o.Value += "=" + w.Value
			}
		}
	}
	return o
}

// lowerEvent lowers event = time action .
func (p *parser) lowerEvent(g *gEvent) *Event {
	tm := p.lowerTime(&g.Time)
	e := p.slabs.events.new()
	*e = Event{Pos: tm.Pos, Time: tm}
	switch {
	case g.Packet != nil:
		e.Packet = p.lowerPacket(g.Packet)
	case g.Command != nil:
		e.Command = &Command{Pos: p.pos(g.Command.Pos), Text: unquote(*g.Command)}
	case g.Code != nil:
		e.Code = &Code{Pos: p.pos(g.Code.Pos), Text: codeText(g.Code.Value)}
	case g.Syscall != nil:
		e.Syscall = p.lowerSyscall(g.Syscall)
	}
	p.checkEventTime(e)
	return e
}

func (p *parser) lowerTime(g *gTime) EventTime {
	et := EventTime{Pos: p.pos(g.Pos), Kind: g.Kind}
	if g.Kind != TimeAny {
		et.Start = p.seconds(g.Start)
	}
	if g.Kind == TimeAbsoluteRange || g.Kind == TimeRelativeRange {
		et.End = p.seconds(g.End)
		if et.End < et.Start {
			p.errorf(et.Pos, "time range is backwards")
		}
	}
	return et
}

// seconds reads a time in seconds ("1", "1.5", ".001") exactly.
func (p *parser) seconds(t lexer.Token) time.Duration {
	d, err := parseDuration(t.Value)
	if err != nil {
		p.errorf(p.pos(t.Pos), "%v", err)
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

// number checks that a number of the grammar fits in its bits.
func (p *parser) number(n number) uint64 {
	what, bits := n.label()
	return p.checkUint(n.token(), what, bits)
}

func (p *parser) checkUint(t lexer.Token, what string, bits uint) uint64 {
	var v uint64
	var err error
	pos := p.pos(t.Pos)
	if isKind(&t, tHex) {
		v, err = strconv.ParseUint(t.Value[2:], 16, 64)
	} else {
		if strings.HasPrefix(t.Value, "-") {
			p.errorf(pos, "%s %s out of range (negative)", what, t.Value)
			return 0
		}
		v, err = strconv.ParseUint(t.Value, 10, 64)
	}
	if err != nil || (bits < 64 && v >= 1<<bits) {
		p.errorf(pos, "%s %s out of range for %d bits", what, t.Value, bits)
		return 0
	}
	return v
}

func u16p(v uint64) *uint16 { x := uint16(v); return &x }
func u32p(v uint64) *uint32 { x := uint32(v); return &x }
func u8p(v uint64) *uint8   { x := uint8(v); return &x }
