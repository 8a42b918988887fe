package parser

// Machine-written scripts repeat a few kinds of lines thousands of times
// with different numbers. What the grammar makes of an event depends only
// on its tokens' kinds, on the text of its words and punctuation, and on
// where its lines break: numbers, strings, addresses, commands and code
// blocks are taken whole, whatever they hold. So the parser keeps, per
// shape of the tokens from an event's start to the end of its window, the
// parse tree participle built for the first event of that shape, and
// gives a later event of the same shape a copy of that tree holding the
// later event's own tokens. Lowering (which checks the values) runs on
// every event as before.

import (
	"reflect"
	"strings"
	"unsafe"

	"github.com/alecthomas/participle/v2/lexer"
)

// maxShapes bounds the memo of one parser.
const maxShapes = 4096

// template is the tree of the first event of a shape.
type template struct {
	tree     *gEvent
	toks     []lexer.Token // the event's tokens, and those after it in its window
	consumed int           // how many of them the event is made of
	index    map[int]int   // token offset to index in toks
	scratch  *gEvent       // the tree of the last event of the shape
	patches  []patch       // of scratch
}

// shapeKey appends to buf the shape of the loaded tokens from the cursor
// to the end of the window.
func (p *parser) shapeKey(buf []byte) []byte {
	start := int(p.lex.RawCursor())
	prevLine := -1
	if start > 0 {
		prevLine = p.toks[start-1].Pos.Line
	}
	for _, t := range p.toks[start:] {
		k := kindOf(t.Type)
		flags := byte(0)
		if t.Pos.Line != prevLine {
			flags |= 1
		}
		prevLine = t.Pos.Line
		switch k {
		case tFloat:
			if strings.HasPrefix(t.Value, ".") {
				flags |= 2
			}
			buf = append(buf, byte(k), flags)
		case tInt, tHex, tString, tBacktick, tCode, tIPv4, tIPv6:
			buf = append(buf, byte(k), flags)
		default:
			buf = append(buf, byte(k), flags)
			buf = append(buf, t.Value...)
			buf = append(buf, 0)
		}
		if k == tEOF {
			break
		}
	}
	return buf
}

// memoEvent parses the event at the cursor with the grammar, or copies the
// tree of an earlier event of the same shape.
func (p *parser) memoEvent() (*gEvent, error) {
	if p.split.noMemo {
		return eventParser.ParseFromLexer(p.lex, parseOpts...)
	}
	p.keyBuf = p.shapeKey(p.keyBuf[:0])
	if tpl, ok := p.shapes[string(p.keyBuf)]; ok {
		start := int(p.lex.RawCursor())
		g := tpl.reuse(p.toks[start:])
		for range tpl.consumed {
			p.lex.Next()
		}
		return g, nil
	}
	start := int(p.lex.RawCursor())
	g, err := eventParser.ParseFromLexer(p.lex, parseOpts...)
	if err != nil || len(p.shapes) >= maxShapes || g.Syscall != nil && g.Syscall.Tail.NoNote != "" {
		return g, err
	}
	tpl := &template{toks: append([]lexer.Token(nil), p.toks[start:]...),
		consumed: int(p.lex.RawCursor()) - start, index: map[int]int{}}
	for i, t := range tpl.toks {
		tpl.index[t.Pos.Offset] = i
	}
	// participle's tree may point into the loaded tokens, which the next
	// window overwrites: the template keeps a copy over its own.
	tpl.tree = g
	func() {
		defer func() { recover() }()
		tpl.tree = tpl.instance(tpl.toks)
	}()
	if tpl.tree == g {
		return g, nil
	}
	if !tpl.sound(g) {
		return g, nil
	}
	if p.shapes == nil {
		p.shapes = map[string]*template{}
	}
	p.shapes[string(p.keyBuf)] = tpl
	return g, nil
}

// sound reports whether the template's tree is participle's, and copies
// of it made from its own tokens are too: a tree holding what the copy
// cannot map is not kept.
func (tpl *template) sound(parsed *gEvent) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return reflect.DeepEqual(tpl.tree, parsed) && reflect.DeepEqual(tpl.instance(tpl.toks), parsed)
}

// instance returns a copy of the template's tree holding toks in place of
// the template's tokens.
func (tpl *template) instance(toks []lexer.Token) *gEvent {
	g := new(gEvent)
	c := copier{tpl: tpl, toks: toks}
	c.copy(eventPlan, unsafe.Pointer(g), unsafe.Pointer(tpl.tree))
	return g
}

// reuse returns the template's tree holding toks, rewriting the tree it
// returned last time: the lowering of an event keeps nothing of its tree,
// so one tree per shape serves all its events. The fields to rewrite are
// listed once, when the tree is made.
func (tpl *template) reuse(toks []lexer.Token) *gEvent {
	if tpl.scratch == nil {
		tpl.scratch = tpl.instance(toks)
		c := copier{tpl: tpl}
		c.listPatches(eventPlan, unsafe.Pointer(tpl.scratch), unsafe.Pointer(tpl.tree))
		tpl.patches = c.patches
		return tpl.scratch
	}
	for _, pt := range tpl.patches {
		t := toks[pt.idx]
		// The file name is the template's already: only the rest is
		// written, which spares the write barriers of a pointer.
		switch pt.kind {
		case fToken:
			d := (*lexer.Token)(pt.dst)
			d.Type, d.Pos.Offset, d.Pos.Line, d.Pos.Column = t.Type, t.Pos.Offset, t.Pos.Line, t.Pos.Column
			if d.Value != t.Value {
				d.Value = t.Value
			}
		case fPosition:
			d := (*lexer.Position)(pt.dst)
			d.Offset, d.Line, d.Column = t.Pos.Offset, t.Pos.Line, t.Pos.Column
		case fFlags:
			text := t.Value
			if pt.two {
				text += toks[pt.idx+1].Value
			}
			*(*gFlags)(pt.dst) = gFlags{Pos: t.Pos, Text: text}
		}
	}
	return tpl.scratch
}

// patch is a field of a reused tree and the token it takes.
type patch struct {
	dst  unsafe.Pointer
	kind fieldKind // fToken, fPosition or fFlags
	idx  int
	two  bool // flags of two tokens
}

// listPatches lists the fields of dst, a copy of src, that hold tokens,
// positions and flags.
func (c *copier) listPatches(pl *plan, dst, src unsafe.Pointer) {
	if pl.typ == tokenType {
		c.patchToken(dst, *(*lexer.Token)(src))
		return
	}
	for _, f := range pl.fields {
		d, s := unsafe.Add(dst, f.off), unsafe.Add(src, f.off)
		switch f.kind {
		case fToken:
			c.patchToken(d, *(*lexer.Token)(s))
		case fPosition:
			if p := (*lexer.Position)(s); p.Line != 0 {
				c.patches = append(c.patches, patch{dst: d, kind: fPosition, idx: c.index(p.Offset)})
			}
		case fFlags:
			g := (*gFlags)(s)
			i := c.index(g.Pos.Offset)
			c.patches = append(c.patches, patch{dst: d, kind: fFlags, idx: i, two: len(g.Text) > len(c.tpl.toks[i].Value)})
		case fPointer:
			if sp := *(*unsafe.Pointer)(s); sp != nil {
				c.listPatches(f.sub, *(*unsafe.Pointer)(d), sp)
			}
		case fSliceTok:
			old, n := *(*[]lexer.Token)(s), *(*[]lexer.Token)(d)
			for i, t := range old {
				c.patchToken(unsafe.Pointer(&n[i]), t)
			}
		case fSlicePtr:
			old, n := *(*[]unsafe.Pointer)(s), *(*[]unsafe.Pointer)(d)
			for i, sp := range old {
				if sp != nil {
					c.listPatches(f.sub, n[i], sp)
				}
			}
		case fStruct:
			c.listPatches(f.sub, d, s)
		}
	}
}

func (c *copier) patchToken(dst unsafe.Pointer, t lexer.Token) {
	if t.Type != 0 {
		c.patches = append(c.patches, patch{dst: dst, kind: fToken, idx: c.index(t.Pos.Offset)})
	}
}

func (c *copier) index(off int) int {
	i, ok := c.tpl.index[off]
	if !ok {
		panic("memo: token not in the template")
	}
	return i
}

type copier struct {
	tpl     *template
	toks    []lexer.Token
	patches []patch
}

func (c *copier) tok(off int) lexer.Token {
	i, ok := c.tpl.index[off]
	if !ok {
		panic("memo: token not in the template")
	}
	return c.toks[i]
}

// token maps a token of the template to the instance's; a field the
// grammar did not set stays unset.
func (c *copier) token(t lexer.Token) lexer.Token {
	if t.Type == 0 {
		return t
	}
	return c.tok(t.Pos.Offset)
}

// plan says how to copy a value of one type: a shallow copy, then the
// fields that hold tokens, positions or pointers redone.
type plan struct {
	typ    reflect.Type
	fields []fieldPlan
}

type fieldKind uint8

const (
	fToken fieldKind = iota
	fPosition
	fFlags
	fPointer  // to a struct of plan sub
	fSlicePtr // []*T, T of plan sub
	fSliceTok // []lexer.Token
	fStruct   // an embedded struct of plan sub
)

type fieldPlan struct {
	off  uintptr
	kind fieldKind
	sub  *plan
}

var (
	tokenType    = reflect.TypeOf(lexer.Token{})
	positionType = reflect.TypeOf(lexer.Position{})
	flagsType    = reflect.TypeOf(gFlags{})
	plans        = map[reflect.Type]*plan{}
	eventPlan    = planOf(reflect.TypeOf(gEvent{}))
)

func planOf(t reflect.Type) *plan {
	if pl, ok := plans[t]; ok {
		return pl
	}
	pl := &plan{typ: t}
	plans[t] = pl
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fp := fieldPlan{off: f.Offset}
		switch ft := f.Type; {
		case ft == tokenType:
			fp.kind = fToken
		case ft == positionType:
			fp.kind = fPosition
		case ft == flagsType:
			fp.kind = fFlags
		case ft.Kind() == reflect.Pointer && ft.Elem() == tokenType:
			fp.kind, fp.sub = fPointer, planOf(tokenType)
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			fp.kind, fp.sub = fPointer, planOf(ft.Elem())
		case ft.Kind() == reflect.Slice && ft.Elem() == tokenType:
			fp.kind = fSliceTok
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Pointer && ft.Elem().Elem().Kind() == reflect.Struct:
			fp.kind, fp.sub = fSlicePtr, planOf(ft.Elem().Elem())
		case ft.Kind() == reflect.Struct:
			fp.kind, fp.sub = fStruct, planOf(ft)
		case ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map || ft.Kind() == reflect.Interface:
			panic("memo: cannot copy field " + t.Name() + "." + f.Name)
		default:
			continue // copied by the shallow copy
		}
		pl.fields = append(pl.fields, fp)
	}
	return pl
}

// copy copies the value of plan pl at src to dst.
func (c *copier) copy(pl *plan, dst, src unsafe.Pointer) {
	if pl.typ == tokenType {
		*(*lexer.Token)(dst) = c.token(*(*lexer.Token)(src))
		return
	}
	reflect.NewAt(pl.typ, dst).Elem().Set(reflect.NewAt(pl.typ, src).Elem())
	for _, f := range pl.fields {
		d, s := unsafe.Add(dst, f.off), unsafe.Add(src, f.off)
		switch f.kind {
		case fToken:
			*(*lexer.Token)(d) = c.token(*(*lexer.Token)(s))
		case fPosition:
			if p := (*lexer.Position)(s); p.Line != 0 {
				*(*lexer.Position)(d) = c.tok(p.Offset).Pos
			}
		case fFlags:
			c.flags((*gFlags)(d), (*gFlags)(s))
		case fPointer:
			sp := *(*unsafe.Pointer)(s)
			if sp == nil {
				continue
			}
			np := reflect.New(f.sub.typ).UnsafePointer()
			c.copy(f.sub, np, sp)
			*(*unsafe.Pointer)(d) = np
		case fSliceTok:
			old := *(*[]lexer.Token)(s)
			if old == nil {
				continue
			}
			n := make([]lexer.Token, len(old))
			for i, t := range old {
				n[i] = c.token(t)
			}
			*(*[]lexer.Token)(d) = n
		case fSlicePtr:
			old := *(*[]unsafe.Pointer)(s)
			if old == nil {
				continue
			}
			sl := reflect.MakeSlice(reflect.SliceOf(reflect.PointerTo(f.sub.typ)), len(old), len(old))
			n := unsafe.Slice((*unsafe.Pointer)(sl.UnsafePointer()), len(old))
			for i, sp := range old {
				if sp == nil {
					continue
				}
				np := reflect.New(f.sub.typ).UnsafePointer()
				c.copy(f.sub, np, sp)
				n[i] = np
			}
			reflect.NewAt(sl.Type(), d).Elem().Set(sl)
		case fStruct:
			c.copy(f.sub, d, s)
		}
	}
}

// flags copies TCP flags, which join the text of one or two tokens.
func (c *copier) flags(dst, src *gFlags) {
	i, ok := c.tpl.index[src.Pos.Offset]
	if !ok {
		panic("memo: flags not in the template")
	}
	t := c.toks[i]
	text := t.Value
	if len(src.Text) > len(c.tpl.toks[i].Value) {
		text += c.toks[i+1].Value
	}
	*dst = gFlags{Pos: t.Pos, Text: text}
}
