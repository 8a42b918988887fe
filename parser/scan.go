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
	r, n = match(rest)
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

// match returns the rule that matches at the start of s (not empty) and the
// length of its match.
func match(s string) (rule, int) {
	c := s[0]
	switch {
	case isSpace(c):
		n := 1
		for n < len(s) && isSpace(s[n]) {
			n++
		}
		return rSpace, n
	case c == '/' && len(s) > 1 && s[1] == '/':
		if n := strings.IndexByte(s, '\n'); n >= 0 {
			return rComment, n
		}
		return rComment, len(s)
	case c == '/' && len(s) > 1 && s[1] == '*':
		if n := strings.Index(s[2:], "*/"); n >= 0 {
			return rBlockComment, n + 4
		}
		return rBadComment, len(s)
	case c == '%' && len(s) > 1 && s[1] == '{':
		if n := strings.Index(s[2:], "}%"); n >= 0 {
			return rCode, n + 4
		}
		return rBadCode, len(s)
	case c == '`':
		if n := quoted(s, '`'); n > 0 {
			return rBacktick, n
		}
		return rBadBacktick, len(s)
	case c == '"':
		if n := quoted(s, '"'); n > 0 {
			return rString, n
		}
		return rBadString, len(s)
	case c == '.' && strings.HasPrefix(s, "..."):
		return rEllipsis, 3
	case c == '-' && len(s) > 2 && s[1] == '-' && isWordByte(s[2]):
		n := 3
		for n < len(s) && isWordByte(s[n]) {
			n++
		}
		return rOption, n
	}
	if n := scanAtom(s); n > 0 {
		return rAtom, n
	}
	if c < utf8.RuneSelf {
		return rPunct, 1
	}
	_, n := utf8.DecodeRuneInString(s)
	return rPunct, n
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
// 0. The forms are tried in order, the first that matches wins:
//
//	colon run  [0-9a-fA-F]*:[0-9a-fA-F:.]*   (an IPv6 address, or "1:1")
//	IPv4       [0-9]+.[0-9]+.[0-9]+.[0-9]+
//	float      -?[0-9]*.[0-9]+
//	negative   -[0-9]+
//	word       sequence# | [a-zA-Z0-9_]+
func scanAtom(s string) int {
	h := span(s, 0, isHexByte)
	if h < len(s) && s[h] == ':' {
		return span(s, h+1, func(c byte) bool { return isHexByte(c) || c == ':' || c == '.' })
	}
	if n := scanIPv4(s); n > 0 {
		return n
	}
	i := 0
	if s[0] == '-' {
		i = 1
	}
	if d := span(s, i, isDigit); d+1 < len(s) && s[d] == '.' && isDigit(s[d+1]) {
		return span(s, d+1, isDigit)
	}
	if i == 1 {
		if d := span(s, 1, isDigit); d > 1 {
			return d
		}
		return 0
	}
	if strings.HasPrefix(s, "sequence#") {
		return len("sequence#")
	}
	return span(s, 0, isWordByte)
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
		j := span(s, i, isDigit)
		if j == i {
			return 0
		}
		i = j
	}
	return i
}

// span returns the index of the first byte from i on that ok rejects.
func span(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}
