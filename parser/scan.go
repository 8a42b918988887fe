package parser

import (
	"strings"
	"unicode/utf8"
)

// rule is what the scanner matched, one of the lexer's rules in their
// order of precedence (first match wins, as in a regular-expression lexer
// whose rules are tried in order).
type rule uint8

const (
	rEOF          rule = iota
	rSpace             // [ \t\r\n\f\v]+
	rComment           // // to the end of the line
	rBlockComment      // /* ... */
	rBadComment        // /* without */: the rest of the file
	rCode              // %{ ... }%
	rBadCode           // %{ without }%: the rest of the file
	rBacktick          // `...` with backslash escapes
	rBadBacktick       // ` without its end: the rest of the file
	rString            // "..." with backslash escapes
	rBadString         // " without its end: the rest of the file
	rEllipsis          // ...
	rOption            // --name
	rAtom              // a colon run, IPv4 address, number or word; see scanAtom
	rPunct             // any other single character
)

// scanner is the hand-written lexer: it cuts a script into the rules'
// matches without regular expressions and without allocating. Positions
// are those of participle's lexers: Line from 1, Column in runes from 1.
type scanner struct {
	src  string
	off  int
	line int
	col  int
	kind tokKind // of the last rAtom match
}

func newScanner(src string) scanner { return scanner{src: src, line: 1, col: 1} }

// next returns the next match: its rule, its text and where it starts.
func (s *scanner) next() (r rule, text string, off, line, col int) {
	off, line, col = s.off, s.line, s.col
	rest := s.src[s.off:]
	if rest == "" {
		return rEOF, "", off, line, col
	}
	var n int
	r, n, s.kind = match(rest)
	text = rest[:n]
	s.off += n
	s.advance(text)
	return r, text, off, line, col
}

// advance moves the line and column past text.
func (s *scanner) advance(text string) {
	nl := strings.LastIndexByte(text, '\n')
	if nl < 0 {
		s.col += runeCount(text)
		return
	}
	s.line += strings.Count(text, "\n")
	s.col = runeCount(text[nl:])
}

func runeCount(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return utf8.RuneCountInString(s)
		}
	}
	return len(s)
}

// match returns the rule that matches at the start of s (not empty), the
// length of its match, and for an Atom its kind.
func match(s string) (rule, int, tokKind) {
	c := s[0]
	switch {
	case isSpace(c):
		n := 1
		for n < len(s) && isSpace(s[n]) {
			n++
		}
		return rSpace, n, tEOF
	case c == '/' && len(s) > 1 && s[1] == '/':
		if n := strings.IndexByte(s, '\n'); n >= 0 {
			return rComment, n, tEOF
		}
		return rComment, len(s), tEOF
	case c == '/' && len(s) > 1 && s[1] == '*':
		if n := strings.Index(s[2:], "*/"); n >= 0 {
			return rBlockComment, n + 4, tEOF
		}
		return rBadComment, len(s), tEOF
	case c == '%' && len(s) > 1 && s[1] == '{':
		if n := strings.Index(s[2:], "}%"); n >= 0 {
			return rCode, n + 4, tEOF
		}
		return rBadCode, len(s), tEOF
	case c == '`':
		if n := quoted(s, '`'); n > 0 {
			return rBacktick, n, tEOF
		}
		return rBadBacktick, len(s), tEOF
	case c == '"':
		if n := quoted(s, '"'); n > 0 {
			return rString, n, tEOF
		}
		return rBadString, len(s), tEOF
	case c == '.' && strings.HasPrefix(s, "..."):
		return rEllipsis, 3, tEOF
	case c == '-' && len(s) > 2 && s[1] == '-' && isWordByte(s[2]):
		n := 3
		for n < len(s) && isWordByte(s[n]) {
			n++
		}
		return rOption, n, tEOF
	}
	if n, k := scanAtom(s); n > 0 {
		return rAtom, n, k
	}
	if c < utf8.RuneSelf {
		return rPunct, 1, tEOF
	}
	_, n := utf8.DecodeRuneInString(s)
	return rPunct, n, tEOF
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// quoted returns the length of the quoted text at the start of s, quote
// marks included, or 0 when it does not end. A backslash escapes the
// character after it.
func quoted(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i + 1
		}
	}
	return 0
}

// scanAtom returns the length of the word-like token at the start of s, or
// 0, and its kind. The forms are tried in order, the first that matches
// wins:
//
//	colon run  [0-9a-fA-F]*:[0-9a-fA-F:.]*   (an IPv6 address, or "1:1")
//	IPv4       [0-9]+.[0-9]+.[0-9]+.[0-9]+
//	float      -?[0-9]*.[0-9]+
//	negative   -[0-9]+
//	word       sequence# | [a-zA-Z0-9_]+
//
// The kind is classifyAtom's: tColonRun, tIPv4, tFloat, tInt, tHex or
// tWord.
func scanAtom(s string) (int, tokKind) {
	c := s[0]
	if !isHexByte(c) && c != ':' && c != '-' && c != '.' {
		// Only a word can start so.
		if c == 's' && strings.HasPrefix(s, "sequence#") {
			return len("sequence#"), tWord
		}
		return wordSpan(s), tWord
	}
	h := 0
	for h < len(s) && isHexByte(s[h]) {
		h++
	}
	if h < len(s) && s[h] == ':' {
		i := h + 1
		for i < len(s) && (isHexByte(s[i]) || s[i] == ':' || s[i] == '.') {
			i++
		}
		return i, tColonRun
	}
	if n := scanIPv4(s); n > 0 {
		return n, tIPv4
	}
	i := 0
	if c == '-' {
		i = 1
	}
	d := digitSpan(s, i)
	if d+1 < len(s) && s[d] == '.' && isDigit(s[d+1]) {
		return digitSpan(s, d+1), tFloat
	}
	if i == 1 {
		if d > 1 {
			return d, tInt
		}
		return 0, tEOF
	}
	if c == 's' && strings.HasPrefix(s, "sequence#") {
		return len("sequence#"), tWord
	}
	n := wordSpan(s)
	switch {
	case n == 0:
		return 0, tEOF
	case d == n:
		return n, tInt
	case n > 2 && c == '0' && (s[1] == 'x' || s[1] == 'X') && hexSpan(s, 2) == n:
		return n, tHex
	}
	return n, tWord
}

func wordSpan(s string) int {
	i := 0
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	return i
}

func digitSpan(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func hexSpan(s string, i int) int {
	for i < len(s) && isHexByte(s[i]) {
		i++
	}
	return i
}

// scanIPv4 returns the length of a dotted quad of digit runs at the start
// of s, or 0.
func scanIPv4(s string) int {
	i := 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(s) || s[i] != '.' {
				return 0
			}
			i++
		}
		j := digitSpan(s, i)
		if j == i {
			return 0
		}
		i = j
	}
	return i
}
