package inlinecode

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies the tokens of the Python subset we translate.
type tokKind int

const (
	tName tokKind = iota
	tNumber
	tString
	tOp
	tNewline // end of a logical line
)

// token is one Python token. line is the 1-based physical line of the
// snippet where it starts; synthetic tokens made by the rewriter have line 0.
type token struct {
	kind tokKind
	text string
	line int
}

func (t token) is(kind tokKind, text string) bool { return t.kind == kind && t.text == text }

// syntaxError is a translation failure at a snippet line.
type syntaxError struct {
	line int
	msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// operators lists Python operators, longest first so that the first
// prefix match is the longest one.
var operators = []string{
	"**=", "//=", ">>=", "<<=", "...",
	"->", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "<>", ":=",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
	"+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">",
	"(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "@", "=",
}

// logicalLine is the tokens of one Python logical line and the width of
// the indentation of the physical line it starts on (tabs expanded to 8).
type logicalLine struct {
	indent int
	toks   []token
}

// scan splits Python source into logical lines. Comments are dropped, and
// backslash continuations and newlines inside brackets are joined, as the
// Python tokenizer does.
func scan(src string) ([]logicalLine, error) {
	var (
		lines   []logicalLine
		cur     *logicalLine
		depth   int
		line    = 1
		atStart = true // at the start of a physical line, outside brackets
		indent  int
	)
	i := 0
	for i < len(src) {
		c := src[i]
		if atStart {
			// Measure indentation of a new physical line.
			indent = 0
			for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\f') {
				if src[i] == '\t' {
					indent += 8 - indent%8
				} else {
					indent++
				}
				i++
			}
			atStart = false
			continue
		}
		switch {
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\\':
			j := i + 1
			if j < len(src) && src[j] == '\r' {
				j++
			}
			if j < len(src) && src[j] != '\n' {
				return nil, &syntaxError{line, "unexpected character after line continuation character"}
			}
			i = j + 1
			line++
		case c == '\n':
			i++
			line++
			if depth == 0 {
				if cur != nil {
					cur.toks = append(cur.toks, token{tNewline, "", line - 1})
					lines = append(lines, *cur)
					cur = nil
				}
				atStart = true
			}
		default:
			if cur == nil {
				cur = &logicalLine{indent: indent}
			}
			tok, n, err := scanToken(src[i:], line)
			if err != nil {
				return nil, err
			}
			switch tok.text {
			case "(", "[", "{":
				if tok.kind == tOp {
					depth++
				}
			case ")", "]", "}":
				if tok.kind == tOp && depth > 0 {
					depth--
				}
			}
			cur.toks = append(cur.toks, tok)
			line += strings.Count(src[i:i+n], "\n")
			i += n
		}
	}
	if depth > 0 {
		return nil, &syntaxError{line, "unexpected end of code: unclosed bracket"}
	}
	if cur != nil {
		cur.toks = append(cur.toks, token{tNewline, "", line})
		lines = append(lines, *cur)
	}
	return lines, nil
}

// scanToken scans one name, number, string or operator at the start of s.
func scanToken(s string, line int) (token, int, error) {
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case r == '_' || unicode.IsLetter(r):
		n := size
		for n < len(s) {
			r, size := utf8.DecodeRuneInString(s[n:])
			if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			n += size
		}
		// A string prefix such as r'', b"", rb''.
		if n < len(s) && n <= 2 && (s[n] == '\'' || s[n] == '"') && isStringPrefix(s[:n]) {
			m, err := scanString(s[n:], line)
			if err != nil {
				return token{}, 0, err
			}
			return token{tString, s[:n+m], line}, n + m, nil
		}
		return token{tName, s[:n], line}, n, nil
	case r >= '0' && r <= '9' || r == '.' && len(s) > 1 && s[1] >= '0' && s[1] <= '9':
		return scanNumber(s, line)
	case r == '\'' || r == '"':
		n, err := scanString(s, line)
		if err != nil {
			return token{}, 0, err
		}
		return token{tString, s[:n], line}, n, nil
	}
	for _, op := range operators {
		if strings.HasPrefix(s, op) {
			return token{tOp, op, line}, len(op), nil
		}
	}
	return token{}, 0, &syntaxError{line, fmt.Sprintf("invalid character %q in code", r)}
}

func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "b", "u", "rb", "br":
		return true
	}
	return false
}

// scanString returns the length of the string literal at the start of s.
func scanString(s string, line int) (int, error) {
	q := s[:1]
	if strings.HasPrefix(s, q+q+q) {
		q = q + q + q
	}
	i := len(q)
	for i < len(s) {
		switch {
		case s[i] == '\\':
			i += 2
		case strings.HasPrefix(s[i:], q):
			return i + len(q), nil
		case s[i] == '\n' && len(q) == 1:
			return 0, &syntaxError{line, "unterminated string literal"}
		default:
			i++
		}
	}
	return 0, &syntaxError{line, "unterminated string literal"}
}

// scanNumber scans a Python number. Underscores and a Python 2 long suffix
// (10L) are dropped from the token text, since Starlark accepts neither.
func scanNumber(s string, line int) (token, int, error) {
	n := 0
	for n < len(s) {
		c := s[n]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' {
			n++
			continue
		}
		// The sign of an exponent.
		if (c == '+' || c == '-') && n > 0 && (s[n-1] == 'e' || s[n-1] == 'E') && !isHexPrefixed(s[:n]) {
			n++
			continue
		}
		break
	}
	text := strings.ReplaceAll(s[:n], "_", "")
	if strings.HasSuffix(text, "L") || strings.HasSuffix(text, "l") {
		text = text[:len(text)-1]
	}
	if text == "" {
		return token{}, 0, &syntaxError{line, "invalid number"}
	}
	return token{tNumber, text, line}, n, nil
}

func isHexPrefixed(s string) bool {
	return len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
}
