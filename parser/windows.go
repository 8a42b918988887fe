package parser

// A script is a list of lines, most of them one event each. Parse cuts the
// tokens into windows, each from a token that starts a line and can begin
// an event (where resynchronisation after an error would stop) up to the
// next such token, and gives the grammar one window at a time: the
// grammar's working set stays the size of a line whatever the size of the
// script, and windows can be parsed on all cores.
//
// The grammar sees the end of a window as the end of the file. An option
// or event that parses without error there ends there in the whole file
// too: nothing the grammar leaves optional at the end of an event starts
// with a token that can begin a line's event. Anything that produces an
// error (or the cleanup command, which must be the last token) is parsed
// again with more windows until the outcome stops changing, so its errors
// are those of the whole file. Windows parsed on other cores are merged in
// order; one whose event needed windows of another core's share is parsed
// again in order.

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2/lexer"
)

// window is one line that can begin an event and the lines after it up to
// the next one: where its tokens start and end in the source. The workers
// lex their windows themselves.
type window struct {
	idx     int      // in the file
	st      lexState // where the window's tokens start
	end     int      // where the next window starts, or the file's length
	final   bool     // the last window of the file
	prev    lexState // the last line of the window before: its last token is the one before this window
	hasPrev bool
}

// cutter finds the windows of a script. It looks at the first token of
// each line (whether it can begin an event) with the scanner, and skims
// the rest of the line for what the lexer state depends on: brackets (the
// nesting the lexer bounds) and strings, commands, code blocks and
// comments (which may hold line breaks).
type cutter struct {
	file     string
	src      string
	off      int
	line     int
	lastLine int // of the last token, as the token stream counts
	depth    int
	lastHead lexState // the last token that began a line
	hasHead  bool
	n        int // windows cut
	pool     []window
	done     bool
	subst    *substitution
}

type lexMatch struct {
	r              rule
	text           string
	off, line, col int
}

// col returns the column of offset off, in runes from 1.
func (c *cutter) col(off int) int {
	return runeCount(c.src[strings.LastIndexByte(c.src[:off], '\n')+1:off]) + 1
}

// skipBlank moves past blanks and comments; it reports false at the end
// of the file or at an unterminated comment (a token).
func (c *cutter) skipBlank() bool {
	for c.off < len(c.src) {
		ch := c.src[c.off]
		switch {
		case ch == '\n':
			c.line++
			c.off++
		case isSpace(ch):
			c.off++
		case ch == '/' && c.off+1 < len(c.src) && c.src[c.off+1] == '/':
			if n := strings.IndexByte(c.src[c.off:], '\n'); n >= 0 {
				c.off += n
			} else {
				c.off = len(c.src)
			}
		case ch == '/' && c.off+1 < len(c.src) && c.src[c.off+1] == '*':
			n := strings.Index(c.src[c.off+2:], "*/")
			if n < 0 {
				return true
			}
			c.line += strings.Count(c.src[c.off:c.off+n+4], "\n")
			c.off += n + 4
		default:
			return true
		}
	}
	return false
}

// head scans the token at c.off, which begins a line, as the lexer does.
func (c *cutter) head() lexMatch {
	sc := scanner{src: c.src, off: c.off, line: c.line, col: c.col(c.off)}
	r, text, off, line, col := sc.next()
	return lexMatch{r, text, off, line, col}
}

// firstKind returns the first token of m, before and after substitution.
func (c *cutter) firstKind(m lexMatch) (before, after token) {
	tk, _ := convertToken(c.file, m.r, m.text, m.line, m.col)
	if tk.kind == tColonRun {
		tk = splitColonRun(tk)[0]
	}
	before, after = tk, tk
	if c.subst != nil && m.off >= c.subst.from {
		substitute(&after, c.subst.defines)
	}
	return before, after
}

// takeHead consumes a token that begins a line.
func (c *cutter) takeHead(m lexMatch) {
	c.lastHead = lexState{m.off, m.line, m.col, c.lastLine, c.depth}
	c.hasHead = true
	c.lastLine = m.line
	if before, _ := c.firstKind(m); startsEvent(before) {
		c.depth = 0
	}
	c.bracket(m.r, m.text)
	c.off += len(m.text)
	c.line += strings.Count(m.text, "\n")
}

func (c *cutter) bracket(r rule, text string) {
	if r != rPunct || len(text) != 1 {
		return
	}
	switch text[0] {
	case '(', '[', '{':
		c.depth++
	case ')', ']', '}':
		if c.depth > 0 {
			c.depth--
		}
	}
}

// skimToken moves past one token that does not begin a line.
func (c *cutter) skimToken() {
	c.lastLine = c.line
	s := c.src[c.off:]
	switch ch := s[0]; {
	case ch == '"' || ch == '`' || ch == '%' && len(s) > 1 && s[1] == '{' || ch == '/' && len(s) > 1 && s[1] == '*':
		_, n, _ := match(s)
		c.line += strings.Count(s[:n], "\n")
		c.off += n
	case ch == '(' || ch == '[' || ch == '{' || ch == ')' || ch == ']' || ch == '}':
		c.bracket(rPunct, s[:1])
		c.off++
	default:
		// The rest of an ordinary token, or a run of them: nothing in it
		// matters to the cutter up to the next blank or special character.
		i := 1
		for i < len(s) && !isSkimStop(s[i]) {
			i++
		}
		c.off += i
	}
}

func isSkimStop(ch byte) bool {
	switch ch {
	case ' ', '\t', '\r', '\n', '\f', '\v', '"', '`', '%', '/', '(', '[', '{', ')', ']', '}':
		return true
	}
	return false
}

// window returns the next window, or nil after the last.
func (c *cutter) window() *window {
	if c.done {
		return nil
	}
	if len(c.pool) == 0 {
		c.pool = make([]window, 256)
	}
	w := &c.pool[0]
	c.pool = c.pool[1:]
	*w = window{idx: c.n, prev: c.lastHead, hasPrev: c.hasHead}
	c.n++
	if c.n == 1 {
		c.line = 1
		w.st = lexState{0, 1, 1, 0, 0}
	}
	first := true
	for {
		if !c.skipBlank() {
			w.end, w.final, c.done = len(c.src), true, true
			return w
		}
		if c.line == c.lastLine && !first {
			c.skimToken()
			continue
		}
		m := c.head()
		if !first {
			if _, after := c.firstKind(m); c.line != c.lastLine && startsEvent(after) {
				w.end = m.off
				return w
			}
		}
		if first && c.n > 1 {
			w.st = lexState{m.off, m.line, m.col, c.lastLine, c.depth}
		}
		if c.line == c.lastLine {
			c.skimToken()
		} else {
			c.takeHead(m)
		}
		first = false
	}
}

// lexWindow appends w's tokens and its EOF, after the token before it if
// withPrev.
func (p *parser) lexWindow(dst []lexer.Token, w *window, withPrev bool) []lexer.Token {
	ts := &p.ts
	ts.subst = p.subst
	if withPrev && w.hasPrev {
		if p.hasLast && p.lastWin == w.idx-1 {
			dst = append(dst, p.lastTok)
		} else {
			ts.reset(w.prev, w.st.off)
			n := len(dst)
			dst = ts.appendAll(dst)
			dst = append(dst[:n], dst[len(dst)-2])
		}
	}
	ts.reset(w.st, w.end)
	dst = ts.appendAll(dst)
	p.addRaw(ts.raw)
	ts.raw = nil
	return dst
}

// substituteToken applies -D definitions to a word token.
func substituteToken(t lexer.Token, defines map[string]string) (lexer.Token, bool) {
	if kindOf(t.Type) != tWord {
		return t, false
	}
	tk := token{kind: tWord, text: t.Value, pos: Pos{t.Pos.Filename, t.Pos.Line, t.Pos.Column}}
	substitute(&tk, defines)
	if tk.kind == tWord && tk.text == t.Value {
		return t, false
	}
	n := ptok(tk, t.Pos.Offset)
	n.Pos = t.Pos
	return n, true
}

// source gives a parser the windows after those it has loaded; nil when it
// has no more (at the end of the file, or of a worker's share).
type source interface{ next() *window }

// errIncomplete is panicked when a worker needs a window beyond its share.
type errIncomplete struct{}

// load makes w the tokens the grammar reads.
func (p *parser) load(w *window) {
	p.buf = p.lexWindow(p.buf[:0], w, true)
	p.setTokens(p.buf, w)
	if w.hasPrev {
		p.lex.Next()
	}
	p.nwin = 1
}

// grow appends the windows src gives (as many as are loaded, at least
// one) to the loaded tokens, keeping the cursor.
func (p *parser) grow(src source) {
	if p.final {
		return
	}
	n := p.nwin
	toks := append([]lexer.Token(nil), p.toks[:len(p.toks)-1]...)
	var last *window
	for i := 0; i < n && (last == nil || !last.final); i++ {
		w := src.next()
		if w == nil {
			if last == nil {
				panic(errIncomplete{})
			}
			break
		}
		if last != nil {
			toks = toks[:len(toks)-1] // the EOF of the window before
		}
		toks = p.lexWindow(toks, w, false)
		p.nwin++
		last = w
	}
	cp := p.lex.Checkpoint
	p.setTokens(toks, last)
	p.lex.Checkpoint = cp
}

func (p *parser) setTokens(toks []lexer.Token, w *window) {
	if p.lex == nil {
		p.lex = new(lexer.PeekingLexer)
	}
	resetLexer(p.lex, toks)
	p.toks = toks
	p.final = w.final
	if n := len(toks); n >= 2 {
		p.lastTok, p.hasLast, p.lastWin = toks[n-2], true, w.idx
	}
}

func (p *parser) addRaw(raw map[int]string) {
	if len(raw) == 0 {
		return
	}
	if p.raw == nil {
		p.raw = map[int]string{}
	}
	for k, v := range raw {
		p.raw[k] = v
	}
}

// unit parses one option or event at the cursor with f, as often as it
// takes for its errors to be those of the whole file.
func (p *parser) unit(src source, f func()) {
	start := p.lex.Checkpoint
	nerr := len(p.errs)
	var before ErrorList
	tried := false
	for {
		fatal := p.attempt(f)
		got := p.errs[nerr:]
		if len(got) == 0 || p.final || (tried && sameErrors(before, got)) {
			if fatal {
				panic(bailout{fatal: true})
			}
			return
		}
		before, tried = append(ErrorList(nil), got...), true
		p.errs = p.errs[:nerr]
		p.lex.Checkpoint = start
		p.grow(src)
		p.lex.Checkpoint = start
		p.pending = nil
	}
}

// attempt runs f as try does, and reports whether it gave up the parse.
func (p *parser) attempt(f func()) (fatal bool) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			fatal = b.fatal
		}
	}()
	p.pending = nil
	p.try(f)
	return false
}

func sameErrors(a, b ErrorList) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Pos != b[i].Pos || a[i].Msg != b[i].Msg {
			return false
		}
	}
	return true
}

// atWindowEnd reports whether the grammar has read the loaded tokens; at
// the end of the file it is false.
func (p *parser) atWindowEnd() bool { return p.lex.Peek().EOF() && !p.final }

// runEvents parses events from the cursor up to the end of the loaded
// tokens (and of the windows the events need). It reports whether the
// parse is over: the end of the file, or the cleanup command.
func (p *parser) runEvents(src source) (over bool) {
	for {
		t := p.lex.Peek()
		if t.EOF() {
			return p.final
		}
		if isKind(t, tBacktick) {
			p.lex.Next()
			p.cleanup = &Command{Pos: p.pos(t.Pos), Text: unquote(*t)}
			for p.atWindowEnd() {
				p.grow(src)
			}
			if n := p.lex.Peek(); !n.EOF() {
				p.errorf(p.pos(n.Pos), "expected EOF after the cleanup command (or a time before the command), found %s", describeTok(prevToken(p.lex), *n))
			}
			return true
		}
		p.lastPos = p.pos(t.Pos)
		p.unit(src, func() {
			g, err := p.memoEvent()
			if err != nil {
				p.syntax(err)
			}
			p.pending = append(p.pending, p.lowerEvent(g))
		})
		p.events = append(p.events, p.pending...)
		p.pending = nil
	}
}

// cutterSource is the windows of the whole file, in order.
type cutterSource struct {
	c *cutter
	n int // windows handed out
}

func (s *cutterSource) next() *window {
	w := s.c.window()
	if w != nil {
		s.n++
	}
	return w
}

// Parallel parsing: a batch is a share of consecutive windows for one
// worker; a group is the result of one loaded window (and the windows its
// events needed).
type split struct {
	parallelBytes int  // scripts this long or longer are parsed in parallel
	batchBytes    int  // of source per batch
	noMemo        bool // parse every event with the grammar (memo.go)
}

var defaultSplit = split{parallelBytes: 1 << 16, batchBytes: 1 << 14}

type batch struct {
	first   int // index of its first window in the file
	windows []*window
	groups  []group
	done    chan struct{}
}

type group struct {
	first, n   int // windows
	events     []*Event
	errs       ErrorList
	cleanup    *Command
	over       bool         // the end of the file or the cleanup command
	fatal      bool         // the parse gives up here
	incomplete bool         // needed windows beyond its batch
	last       *lexer.Token // the last token loaded, kept by the groups that end a batch
}

// batchSource serves a worker the windows of its batch after index *i.
type batchSource struct {
	b *batch
	i *int
}

func (s batchSource) next() *window {
	if *s.i+1 >= len(s.b.windows) {
		return nil
	}
	*s.i++
	return s.b.windows[*s.i]
}

// parseBatch parses each window of b in turn.
func (p *parser) parseBatch(b *batch) {
	defer close(b.done)
	// The batch's events share one array; each group has its part.
	p.events = make([]*Event, 0, len(b.windows))
	b.groups = make([]group, 0, len(b.windows))
	for i := 0; i < len(b.windows); i++ {
		g := p.parseGroup(b, &i)
		end := g.over || g.fatal || g.incomplete || i == len(b.windows)-1
		if end && p.hasLast {
			last := p.lastTok
			g.last = &last
		}
		b.groups = append(b.groups, g)
		if g.over || g.fatal || g.incomplete {
			return
		}
	}
}

func (p *parser) parseGroup(b *batch, i *int) (g group) {
	g.first = b.first + *i
	start := *i
	p.errs, p.cleanup = nil, nil
	from := len(p.events)
	defer func() {
		g.n = *i - start + 1
		g.events, g.errs, g.cleanup = p.events[from:len(p.events):len(p.events)], p.errs, p.cleanup
		if r := recover(); r != nil {
			switch r := r.(type) {
			case errIncomplete:
				g.incomplete = true
			case bailout:
				g.fatal = true
			default:
				g.errs = append(g.errs, &Error{Pos: p.lastPos,
					Msg: fmt.Sprintf("internal error: %v\n%s", r, debug.Stack())})
				g.fatal = true
			}
		}
	}()
	p.load(b.windows[*i])
	g.over = p.runEvents(batchSource{b, i})
	return g
}

// parseRest parses the windows c has left on all cores and merges the
// results into s in order; first is the index of c's next window.
func (p *parser) parseRest(s *Script, c *cutter, first int) {
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *batch, workers)
	ordered := make(chan *batch, 4*workers)
	quit := make(chan struct{}) // the merger is done: the rest is not needed
	// The cutter.
	go func() {
		defer close(work)
		defer close(ordered)
		idx := first
		for {
			select {
			case <-quit:
				return
			default:
			}
			b := &batch{first: idx, done: make(chan struct{})}
			size := 0
			for size < p.split.batchBytes {
				w := c.window()
				if w == nil {
					break
				}
				b.windows = append(b.windows, w)
				size += w.end - w.st.off + 1
				if w.final {
					break
				}
			}
			if len(b.windows) == 0 {
				return
			}
			idx += len(b.windows)
			ordered <- b
			work <- b
			if b.windows[len(b.windows)-1].final {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wp := p.worker()
			for b := range work {
				select {
				case <-quit:
					close(b.done)
				default:
					wp.parseBatch(b)
				}
			}
		}()
	}
	m := &merger{p: p, s: s, ordered: ordered, next: first}
	defer func() {
		// Stop the cutter and the workers, and let them finish before
		// returning, even after a fatal error.
		close(quit)
		for b := range ordered {
			<-b.done
		}
		wg.Wait()
	}()
	m.run()
}

// worker returns a parser for a worker goroutine.
func (p *parser) worker() *parser {
	w := &parser{file: p.file, src: p.src, local: true, subst: p.subst, split: p.split}
	w.ts = tokenStream{file: p.file, size: len(p.src), sc: newScanner(p.ts.sc.src)}
	return w
}

// merger takes the batches' groups in order of windows.
type merger struct {
	p       *parser
	s       *Script
	ordered chan *batch
	queue   []*batch // received, not yet merged
	next    int      // the first window not merged
}

func (m *merger) batch(k int) *batch {
	for len(m.queue) <= k {
		b, ok := <-m.ordered
		if !ok {
			return nil
		}
		m.queue = append(m.queue, b)
	}
	return m.queue[k]
}

// window returns window i of the file, or nil after the last.
func (m *merger) window(i int) *window {
	for k := 0; ; k++ {
		b := m.batch(k)
		if b == nil {
			return nil
		}
		if i < b.first+len(b.windows) {
			return b.windows[i-b.first]
		}
	}
}

type mergerSource struct {
	m *merger
	i *int
}

func (s mergerSource) next() *window {
	w := s.m.window(*s.i + 1)
	if w != nil {
		*s.i++
	}
	return w
}

func (m *merger) run() {
	for {
		b := m.batch(0)
		if b == nil {
			return
		}
		<-b.done
		for _, g := range b.groups {
			for m.next < g.first {
				if m.redo() {
					return
				}
			}
			switch {
			case g.first+g.n <= m.next:
				// parsed again in order already
			case g.first == m.next && !g.incomplete:
				if m.take(g) {
					return
				}
				m.next = g.first + g.n
			default:
				if m.redo() {
					return
				}
			}
		}
		for m.next < b.first+len(b.windows) {
			if m.redo() {
				return
			}
		}
		m.queue = m.queue[1:]
	}
}

// take adds a worker's group to the script; it reports whether the parse
// is over.
func (m *merger) take(g group) bool {
	p := m.p
	p.events = append(p.events, g.events...)
	p.lastWin = -1 // lastTok is no longer the last token of a window load knows
	if g.last != nil {
		p.lastTok, p.hasLast, p.lastWin = *g.last, true, g.first+g.n-1
	}
	for _, e := range g.errs {
		p.errorf(e.Pos, "%s", e.Msg)
	}
	if g.fatal {
		panic(bailout{fatal: true})
	}
	if g.cleanup != nil {
		p.cleanup = g.cleanup
	}
	return g.over
}

// redo parses the window m.next (and those its events need) in order.
func (m *merger) redo() bool {
	p := m.p
	i := m.next
	w := m.window(i)
	if w == nil {
		return true
	}
	p.load(w)
	over := p.runEvents(mergerSource{m, &i})
	m.next = i + 1
	return over
}
