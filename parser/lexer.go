package parser

import (
	"bytes"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// tokKind is the kind of a token as the parser sees it.
type tokKind int

const (
	tEOF      tokKind = iota
	tInt              // 42, -1
	tHex              // 0x1f
	tFloat            // 1.5, .1, -0.5
	tWord             // identifiers, keywords, flags words
	tString           // "..." (Text is between the quotes)
	tBacktick         // `...` (Text is between the backticks)
	tCode             // %{ ... }% (Text is between the marks)
	tOption           // --name (Text is the name)
	tEllipsis         // ...
	tIPv4             // 192.0.2.1
	tIPv6             // fd3d::1
	tPunct            // any other single character
	tBad              // an unterminated comment, string, command or code block
	tColonRun         // lexer-internal: a run like "1:1" or "fd00::1"; see splitColonRun
)

var kindNames = [...]string{
	tEOF: "EOF", tInt: "integer", tHex: "hex integer", tFloat: "number",
	tWord: "word", tString: "string", tBacktick: "command", tCode: "code block",
	tOption: "option", tEllipsis: "'...'", tIPv4: "IPv4 address",
	tIPv6: "IPv6 address", tPunct: "punctuation", tBad: "unterminated text",
	tColonRun: "text",
}

type token struct {
	kind tokKind
	text string // as written, or the unquoted/substituted value
	raw  string // the source text of the token
	pos  Pos
}

// The lexer (scan.go) matches the rules in order, longer forms before
// their prefixes ("..." before ".", an IPv4 address before a number), and
// turns unterminated constructs into tokens the parser reports with a
// position instead of failing the whole lex. Every word-like token is one
// Atom; convertToken tells them apart.
const (
	ipv4Pattern  = `[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`
	floatPattern = `-?[0-9]*\.[0-9]+`
)

var ipv4RE = regexp.MustCompile(`^(?:` + ipv4Pattern + `)$`)

// reserved are the words the reference lexer returns as keywords; -D
// definitions never replace them.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`sa_family sin_port sin_addr msg_name msg_iov
		msg_flags msg_control cmsg_data cmsg_level cmsg_type ee_errno ee_origin
		ee_type ee_code ee_info ee_data scm_sec scm_nsec fd u32 u64 ptr events
		revents onoff linger htons ipv4 ipv6 icmp udp GREv0 gre raw sum off key
		seq none checksum present encap psp spi mpls label tc ttl inet_addr
		inet6_addr ack eol ecr mss mtu nop sack sackOK md5 TS FO FOEXP ECN e0b
		e1b ceb tos flowlabel flags Flags val win urg wscale ect01 ect0 ect1
		noecn ce id`) {
		reserved[w] = true
	}
}

// convertToken turns a scanner match into the parser's token; skip is true
// for blanks and comments. Unterminated constructs come back as tBad
// tokens.
func convertToken(file string, r rule, text string, line, col int) (tk token, skip bool) {
	tk = token{raw: text, text: text, pos: Pos{file, line, col}}
	switch r {
	case rComment, rBlockComment, rSpace:
		return tk, true
	case rBadComment:
		tk.kind, tk.text = tBad, "unterminated comment"
	case rBadCode:
		tk.kind, tk.text = tBad, "unterminated code block (missing '}%')"
	case rBadBacktick:
		tk.kind, tk.text = tBad, "unterminated command (missing '`')"
	case rBadString:
		tk.kind, tk.text = tBad, "unterminated string"
	case rCode:
		tk.kind, tk.text = tCode, codeText(text)
	case rBacktick:
		tk.kind, tk.text = tBacktick, text[1:len(text)-1]
	case rString:
		tk.kind, tk.text = tString, text[1:len(text)-1]
	case rEllipsis:
		tk.kind = tEllipsis
	case rOption:
		tk.kind, tk.text = tOption, text[2:]
	case rAtom:
		tk.kind = classifyAtom(text)
	default:
		tk.kind = tPunct
	}
	return tk, false
}

// classifyAtom tells apart what the Atom rule matched, in the rule's order.
func classifyAtom(s string) tokKind {
	switch {
	case strings.Contains(s, ":"):
		return tColonRun
	case strings.Count(s, ".") == 3 && ipv4RE.MatchString(s):
		return tIPv4
	case strings.Contains(s, "."):
		return tFloat
	case s[0] == '-':
		return tInt
	case s == "sequence#":
		return tWord
	}
	if isDigits(s) {
		return tInt
	}
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") && isHex(s[2:]) {
		return tHex
	}
	return tWord
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// codeText strips the %{ }% marks and the blanks next to them, as the
// reference does.
func codeText(s string) string {
	s = s[2 : len(s)-2]
	return strings.Trim(s, " \t")
}

// substitute applies -D definitions to a word token, as the reference's
// lexer does: a value in double quotes becomes a string, one in backticks a
// command, one that reads as an integer (C strtol rules) an integer, and
// anything else a word.
func substitute(tk *token, defines map[string]string) {
	if tk.kind != tWord || reserved[tk.text] {
		return
	}
	v, ok := defines[tk.text]
	if !ok {
		return
	}
	switch {
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		tk.kind, tk.text = tString, v[1:len(v)-1]
	case len(v) >= 2 && v[0] == '`' && v[len(v)-1] == '`':
		tk.kind, tk.text = tBacktick, v[1:len(v)-1]
	default:
		if n, err := strconv.ParseInt(v, 0, 64); err == nil && !strings.Contains(v, "_") {
			tk.kind, tk.text = tInt, strconv.FormatInt(n, 10)
		} else {
			tk.kind, tk.text = tWord, v
		}
	}
}

// checkEncoding finds the first NUL byte or invalid UTF-8 sequence in src;
// such files are binary, not scripts.
func checkEncoding(src []byte) (off int, msg string) {
	if bytes.IndexByte(src, 0) < 0 && utf8.Valid(src) {
		return -1, ""
	}
	for i := 0; i < len(src); {
		c := src[i]
		if c == 0 {
			return i, "illegal NUL byte (binary file?)"
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 {
			return i, "invalid UTF-8 encoding (binary file?)"
		}
		i += n
	}
	return -1, ""
}

// splitColonRun turns a colon run into an IPv6 address (with the colon that
// may end "ipv6 A > B:" split off), or into its pieces and colons.
func splitColonRun(tk token) []token {
	text := tk.text
	if isIPv6(text) {
		tk.kind = tIPv6
		return []token{tk}
	}
	if strings.HasSuffix(text, ":") && isIPv6(text[:len(text)-1]) {
		addr := tk
		addr.kind, addr.text, addr.raw = tIPv6, text[:len(text)-1], text[:len(text)-1]
		colon := token{kind: tPunct, text: ":", raw: ":", pos: tk.pos}
		colon.pos.Col += len(addr.text)
		return []token{addr, colon}
	}
	var out []token
	col := tk.pos.Col
	for text != "" {
		n := strings.IndexByte(text, ':')
		piece := text
		if n == 0 {
			piece = ":"
		} else if n > 0 {
			piece = text[:n]
		}
		t := token{text: piece, raw: piece, pos: Pos{tk.pos.File, tk.pos.Line, col}}
		if piece == ":" {
			t.kind = tPunct
		} else {
			t.kind = classifyAtom(piece)
			if t.kind == tFloat && !floatRE.MatchString(piece) && !ipv4RE.MatchString(piece) {
				t.kind = tWord
			}
		}
		out = append(out, t)
		col += len(piece)
		text = text[len(piece):]
	}
	return out
}

var floatRE = regexp.MustCompile(`^(?:` + floatPattern + `)$`)

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

// The grammar (grammar.go) reads participle tokens of these types. Their
// values are what the grammar's literals match: the text of words, numbers,
// addresses and punctuation; the source form, with its quotes or marks, of
// strings, commands, code blocks and options (so that a string "udp" never
// matches the keyword udp); the message of a tBad token.
var tokSymbols = map[string]lexer.TokenType{
	"EOF": lexer.EOF, "Int": tokType(tInt), "Hex": tokType(tHex),
	"Float": tokType(tFloat), "Word": tokType(tWord), "String": tokType(tString),
	"Command": tokType(tBacktick), "Code": tokType(tCode), "Option": tokType(tOption),
	"Ellipsis": tokType(tEllipsis), "IPv4": tokType(tIPv4), "IPv6": tokType(tIPv6),
	"Punct": tokType(tPunct), "Bad": tokType(tBad),
}

func tokType(k tokKind) lexer.TokenType {
	if k == tEOF {
		return lexer.EOF
	}
	return lexer.TokenType(-2 - int(k))
}

func kindOf(t lexer.TokenType) tokKind {
	if t == lexer.EOF {
		return tEOF
	}
	return tokKind(-2 - int(t))
}

// tokenDef is the lexer.Definition the grammar is built with. Parse feeds
// the parser tokens it lexes itself (tokenStream), since -D definitions
// change tokens between the option lines and the events; Lex serves other
// uses of the grammar.
type tokenDef struct{ symbols map[string]lexer.TokenType }

func (d tokenDef) Symbols() map[string]lexer.TokenType { return d.symbols }

func (tokenDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return newTokenStream(filename, src)
}

// ptok makes the participle token of tk.
func ptok(tk token, offset int) lexer.Token {
	v := tk.text
	switch tk.kind {
	case tString:
		if !isQuoted(tk.raw, '"', tk.text) {
			v = `"` + tk.text + `"`
		} else {
			v = tk.raw
		}
	case tBacktick:
		if !isQuoted(tk.raw, '`', tk.text) {
			v = "`" + tk.text + "`"
		} else {
			v = tk.raw
		}
	case tCode, tOption:
		v = tk.raw
	}
	return lexer.Token{Type: tokType(tk.kind), Value: v,
		Pos: lexer.Position{Filename: tk.pos.File, Offset: offset, Line: tk.pos.Line, Column: tk.pos.Col}}
}

// isQuoted reports whether raw is text between two q marks.
func isQuoted(raw string, q byte, text string) bool {
	return len(raw) == len(text)+2 && raw[0] == q && raw[len(raw)-1] == q && raw[1:len(raw)-1] == text
}

// tokenStream lexes a script into the grammar's tokens, one at a time; the
// last is EOF. Blanks and comments are dropped here rather than elided by
// participle: a lexer.Token captured by the grammar would otherwise be the
// blank before the token. Colon runs are split, and a bracket nested more
// than maxDepth deep becomes a tBad token, so that the recursive grammar
// stays shallow on hostile input.
type tokenStream struct {
	file     string
	size     int
	sc       scanner
	end      int // stop at this offset (a token's start) with an EOF there
	pending  []lexer.Token
	head     int
	lastLine int
	depth    int
	n        int // tokens returned
	done     bool
	subst    *substitution
	raw      map[int]string // words subst replaced, by offset
}

// substitution is the -D definitions and where they start to apply: after
// the option lines.
type substitution struct {
	defines map[string]string
	from    int // offset
}

func newTokenStream(file string, src []byte) (*tokenStream, error) {
	return &tokenStream{file: file, size: len(src), sc: newScanner(string(src)), end: len(src)}, nil
}

// lexState is where a token stream starts: the scanner's position and the
// nesting state of the tokens before.
type lexState struct {
	off, line, col  int
	lastLine, depth int
}

func (s *tokenStream) reset(st lexState, end int) {
	s.sc.off, s.sc.line, s.sc.col = st.off, st.line, st.col
	s.lastLine, s.depth, s.end = st.lastLine, st.depth, end
	s.pending, s.head, s.done = s.pending[:0], 0, false
}

func (s *tokenStream) Next() (lexer.Token, error) {
	for s.head == len(s.pending) {
		if s.done {
			return lexer.Token{Type: lexer.EOF}, nil
		}
		s.pending, s.head = s.pending[:0], 0
		s.pending = s.fill(s.pending)
	}
	t := s.pending[s.head]
	s.head++
	s.n++
	return t, nil
}

// appendAll appends the tokens up to the stream's end, EOF included.
func (s *tokenStream) appendAll(dst []lexer.Token) []lexer.Token {
	for !s.done {
		dst = s.fill(dst)
	}
	return dst
}

func (s *tokenStream) fill(dst []lexer.Token) []lexer.Token {
	if s.sc.off >= s.end && s.end < s.size {
		s.done = true
		return append(dst, lexer.Token{Type: lexer.EOF,
			Pos: lexer.Position{Filename: s.file, Offset: s.end, Line: s.sc.line, Column: s.sc.col}})
	}
	r, text, off, line, col := s.sc.next()
	if r == rEOF {
		s.done = true
		tk := token{kind: tEOF, pos: Pos{s.file, line, col}}
		return append(dst, ptok(tk, s.size))
	}
	switch r {
	case rSpace, rComment, rBlockComment:
		return dst
	case rPunct, rAtom:
		// The common tokens, built directly; the same as convertToken and
		// add do.
		k := tPunct
		if r == rAtom {
			k = s.sc.kind
		}
		if k != tColonRun {
			lineStart := line != s.lastLine
			s.lastLine = line
			if lineStart && (k == tInt || k == tFloat || k == tPunct && (text == "+" || text == "*")) {
				s.depth = 0
			}
			v := text
			if k == tPunct && len(text) == 1 {
				switch text[0] {
				case '(', '[', '{':
					s.depth++
					if s.depth > maxDepth {
						k, v = tBad, tooDeep
					}
				case ')', ']', '}':
					if s.depth > 0 {
						s.depth--
					}
				}
			}
			t := lexer.Token{Type: tokType(k), Value: v, Pos: lexer.Position{Filename: s.file, Offset: off, Line: line, Column: col}}
			if k == tWord && s.subst != nil && off >= s.subst.from {
				t = s.substitute(t)
			}
			return append(dst, t)
		}
	}
	tk, skip := convertToken(s.file, r, text, line, col)
	if skip {
		return dst
	}
	if tk.kind != tColonRun {
		return s.add(dst, tk, off)
	}
	for _, piece := range splitColonRun(tk) {
		dst = s.add(dst, piece, off)
		off += len(piece.raw)
	}
	return dst
}

func (s *tokenStream) add(dst []lexer.Token, tk token, off int) []lexer.Token {
	lineStart := tk.pos.Line != s.lastLine
	s.lastLine = tk.pos.Line
	if lineStart && startsEvent(tk) {
		s.depth = 0
	}
	if tk.kind == tPunct {
		switch tk.text {
		case "(", "[", "{":
			s.depth++
			if s.depth > maxDepth {
				tk.kind, tk.text = tBad, tooDeep
			}
		case ")", "]", "}":
			if s.depth > 0 {
				s.depth--
			}
		}
	}
	t := ptok(tk, off)
	if s.subst != nil && off >= s.subst.from && tk.kind == tWord {
		t = s.substitute(t)
	}
	return append(dst, t)
}

// substitute applies the -D definitions to the word t.
func (s *tokenStream) substitute(t lexer.Token) lexer.Token {
	n, changed := substituteToken(t, s.subst.defines)
	if !changed {
		return t
	}
	if s.raw == nil {
		s.raw = map[int]string{}
	}
	s.raw[t.Pos.Offset] = t.Value
	return n
}

// tooDeep is the message of the tBad token that stands for a bracket nested
// too deeply; unlike the other tBad tokens it does not end the parse.
const tooDeep = "expression nested too deeply"
