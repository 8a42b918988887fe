package parser

import (
	"reflect"
	"unsafe"

	"github.com/alecthomas/participle/v2/lexer"
)

// participle's PeekingLexer copies the tokens it is given (lexer.Upgrade
// appends them one at a time). The parser loads a window per line, so it
// points one PeekingLexer at each window's tokens in place instead, through
// a struct of the same layout. peekLayoutOK checks the layout against the
// participle version built with; if it ever differs, resetLexer copies
// through lexer.Upgrade as participle intends.
type peekingLexerLayout struct {
	lexer.Checkpoint
	tokens []lexer.Token
	elide  map[lexer.TokenType]bool
}

var peekLayoutOK = sameLayout(reflect.TypeOf(lexer.PeekingLexer{}), reflect.TypeOf(peekingLexerLayout{}))

func sameLayout(a, b reflect.Type) bool {
	if a.Size() != b.Size() || a.NumField() != b.NumField() {
		return false
	}
	for i := 0; i < a.NumField(); i++ {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Type != fb.Type || fa.Offset != fb.Offset {
			return false
		}
	}
	return true
}

// resetLexer makes lx read toks from the start; toks ends with EOF.
func resetLexer(lx *lexer.PeekingLexer, toks []lexer.Token) {
	if !peekLayoutOK {
		n, _ := lexer.Upgrade(&sliceLexer{toks: toks})
		*lx = *n
		return
	}
	m := (*peekingLexerLayout)(unsafe.Pointer(lx))
	m.tokens, m.elide, m.Checkpoint = toks, nil, lexer.Checkpoint{}
}

// sliceLexer serves a slice of tokens to lexer.Upgrade.
type sliceLexer struct {
	toks []lexer.Token
	i    int
}

func (l *sliceLexer) Next() (lexer.Token, error) {
	t := l.toks[l.i]
	l.i++
	return t, nil
}
