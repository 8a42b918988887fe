package parser

// The grammar of grammar.txt as participle struct tags. These types are the
// raw parse tree; the lowering pass (parser.go, packet.go, syscall.go)
// turns it into the AST of ast.go and does the checks the grammar leaves
// out (ranges of numbers, time order, option padding). The few hand-written Parseable nodes are where the grammar
// depends on line breaks (a newline is otherwise a blank), or where a
// message matters more than what participle would say.

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

var (
	buildOpts = []participle.Option{
		participle.Lexer(tokenDef{tokSymbols}),
		// Commit to a branch once it has taken a token, as a hand-written
		// LL(1) parser does: errors are then reported where they are, not
		// where backtracking gave up. Lookahead groups (?= ) look further.
		participle.UseLookahead(0),
	}
	optionParser = participle.MustBuild[gOption](buildOpts...)
	eventParser  = participle.MustBuild[gEvent](buildOpts...)
)

// option = OPTION ['=' value] .
type gOption struct {
	Pos   lexer.Position
	Name  lexer.Token `parser:"@Option"`
	Value *gOptValue  `parser:"( '=' @@ )?"`
}

// value = INT | HEX | FLOAT | STRING | IPV4 | IPV6
//
//	| WORD ['=' (WORD | INT | HEX | FLOAT | IPV4 | IPV6 | STRING | COMMAND)] .
type gOptValue struct {
	Lit  *lexer.Token `parser:"  @(Int | Hex | Float | String | IPv4 | IPv6)"`
	Word *lexer.Token `parser:"| @Word"`
	Def  *lexer.Token `parser:"  ( '=' @(Word | Int | Hex | Float | IPv4 | IPv6 | String | Command) )?"`
}

// event  = time action .
// action = packet | syscall | COMMAND | CODE .
type gEvent struct {
	Pos     lexer.Position
	Time    gTime        `parser:"@@"`
	Packet  *gPacket     `parser:"( @@"`
	Command *lexer.Token `parser:"| @Command"`
	Code    *lexer.Token `parser:"| @Code"`
	Syscall *gSyscall    `parser:"| @@"`
	None    *noAction    `parser:"| @@ )"`
}

// packet = ('<' | '>') encap* [ip_info] (udp | icmp | tcp) .
type gPacket struct {
	Pos    lexer.Position
	Dir    string    `parser:"@('<' | '>')"`
	Encaps []*gEncap `parser:"@@*"`
	IP     *gIPInfo  `parser:"@@?"`
	UDP    *gUDP     `parser:"( @@"`
	ICMP   *gICMP    `parser:"| @@"`
	TCP    *gTCP     `parser:"| @@ )"`
}

// encap = ('ipv4' | 'ipv6') [ip_info] address '>' address ':'
//
//	| ('gre' | 'GREv0') [','] [gre_header] ':'
//	| 'mpls' mpls_entry* ':' .
type gEncap struct {
	Pos  lexer.Position
	IPv  string       `parser:"(  @('ipv4' | 'ipv6')"`
	IP   *gIPInfo     `parser:"   @@?"`
	Src  *lexer.Token `parser:"   @(IPv4 | IPv6 | Word | Int | Float) '>'"`
	Dst  *lexer.Token `parser:"   @(IPv4 | IPv6 | Word | Int | Float) ':'"`
	GRE  string       `parser:"|  @('gre' | 'GREv0') ','?"`
	Hdr  *gGREHeader  `parser:"   @@? ','? ':'"`
	MPLS string       `parser:"|  @'mpls'"`
	Ents []*gMPLS     `parser:"   @@* ':' )"`
}

// gre_header = gre_field {[','] gre_field} .
// The reference requires all five fields, in order; godrill takes any.
type gGREHeader struct {
	Fields []*gGREField `parser:"@@ ( (?= ','? Word) ','? @@ )*"`
}

// gre_field = ('flags' | 'Flags') ('[' gre_flag {',' gre_flag} ']' | int)
//
//	| 'sum' int | 'off' int | 'key' ['='] int | 'seq' int .
type gGREField struct {
	Flags    bool         `parser:"(  @('flags' | 'Flags')"`
	FlagList []*gGREFlag  `parser:"   ( '[' @@ ( ',' @@ )* ']'"`
	FlagNum  *greFlagsNum `parser:"   | @@ )"`
	Sum      *greSum      `parser:"| 'sum' @@"`
	Off      *greOff      `parser:"| 'off' @@"`
	Key      *greKey      `parser:"| 'key' '='? @@"`
	Seq      *greSeq      `parser:"| 'seq' @@ )"`
}

// gre_flag = 'none' | ('checksum' | 'key' | 'sequence#') 'present' .
type gGREFlag struct {
	Name string `parser:"( @'none' | @('checksum' | 'key' | 'sequence#') 'present' )"`
}

// mpls_entry = '(' 'label' int ',' 'tc' int ',' ['[' 'S' ']' ','] 'ttl' int ')' .
type gMPLS struct {
	Label  *mplsLabel `parser:"'(' 'label' @@ ','"`
	TC     *mplsTC    `parser:"'tc' @@ ','"`
	Bottom bool       `parser:"( @'[' 'S' ']' ',' )?"`
	TTL    *mplsTTL   `parser:"'ttl' @@ ')'"`
}

// ip_info = '[' ip_item {',' ip_item} ']' | '(' ip_item {',' ip_item} ')' .
type gIPInfo struct {
	Pos     lexer.Position
	Bracket []*gIPItem `parser:"(  '[' @@ ( ',' @@ )* ']'"`
	Paren   []*gIPItem `parser:"|  '(' @@ ( ',' @@ )* ')' )"`
}

// ip_item = 'tos' int | 'flowlabel' int | 'ttl' int | WORD .
type gIPItem struct {
	Pos       lexer.Position
	TOS       *ipTOS       `parser:"(  'tos' @@"`
	FlowLabel *ipFlowLabel `parser:"|  'flowlabel' @@"`
	TTL       *ipTTL       `parser:"|  'ttl' @@"`
	Word      *lexer.Token `parser:"|  @Word"`
	None      *noIPInfo    `parser:"|  @@ )"`
}

// udp = 'udp' [ports] '(' int ')' .
type gUDP struct {
	Ports *gPorts     `parser:"'udp' @@?"`
	Len   *udpPayload `parser:"'(' @@ ')'"`
}

// ports = INT '>' INT .
type gPorts struct {
	Src *srcPort `parser:"(?= Int '>') @@ '>'"`
	Dst *dstPort `parser:"@@"`
}

// icmp = 'icmp' (WORD | INT) [icmp_code] ['mtu' int] ['id' int]
//
//	['[' ('udp' | 'raw') '(' int ')' ']' | '[' seq ']'] .
type gICMP struct {
	Type    *lexer.Token `parser:"'icmp' ( @(Word | Int)"`
	NoType  *noICMPType  `parser:"        | @@ )"`
	Code    *icmpCode    `parser:"@@?"`
	MTU     *icmpMTU     `parser:"( 'mtu' @@ )?"`
	ID      *icmpID      `parser:"( 'id' @@ )?"`
	Echoed  string       `parser:"( '[' ( @('udp' | 'raw')"`
	EchoLen *icmpPayload `parser:"        '(' @@ ')'"`
	EchoSeq *gSeq        `parser:"      | @@ ) ']' )?"`
}

// tcp = ['encap' 'psp' 'spi' int] [ports] flags seq
//
//	['ack' int] ['win' int] ['urg' int] [tcp_options] .
type gTCP struct {
	PSP     *pspSPI      `parser:"( 'encap' 'psp' 'spi' @@ )?"`
	Ports   *gPorts      `parser:"@@?"`
	Flags   gFlags       `parser:"@@"`
	Seq     gSeq         `parser:"@@"`
	Ack     *tcpAck      `parser:"( 'ack' @@ )?"`
	Win     *tcpWin      `parser:"( 'win' @@ )?"`
	Urg     *tcpUrg      `parser:"( 'urg' @@ )?"`
	Options *gTCPOptions `parser:"@@?"`
}

// tcp_options = '<' '...' '>' | '<' tcp_option {',' tcp_option} '>' .
type gTCPOptions struct {
	Pos  lexer.Position
	Any  bool          `parser:"'<' ( @'...'"`
	List []*gTCPOption `parser:"    | @@ ( ',' @@ )* ) '>'"`
}

// tcp_option = 'nop' | 'eol' | 'sackOK' | 'mss' int | 'wscale' int
//
//	| 'sack' (int ':' int)+ | 'TS' 'val' int 'ecr' int | 'md5' HEXBLOB
//	| ('FO' | 'FOEXP') [HEXBLOB] | 'ECN' accecn | WORD .
//
// HEXBLOB is a WORD or an INT: the lexer has no token of its own for it.
type gTCPOption struct {
	Pos     lexer.Position
	Simple  string         `parser:"(  @('nop' | 'eol' | 'sackOK')"`
	MSS     *mssValue      `parser:"|  'mss' @@"`
	WScale  *wscaleValue   `parser:"|  'wscale' @@"`
	SACK    []*gSACKBlock  `parser:"|  'sack' @@+"`
	TSVal   *tsVal         `parser:"|  'TS' 'val' @@"`
	TSEcr   *tsEcr         `parser:"   'ecr' @@"`
	MD5     *lexer.Token   `parser:"|  'md5' ( @(Word | Int)"`
	NoMD5   *noMD5         `parser:"          | @@ )"`
	FO      string         `parser:"|  @('FO' | 'FOEXP')"`
	Cookie  *lexer.Token   `parser:"   @(Word | Int)?"`
	AccECN  *gAccECN       `parser:"|  'ECN' @@"`
	Unknown *unknownOption `parser:"|  @@"`
	None    *noTCPOption   `parser:"|  @@ )"`
}

// sack_block = int ':' int .
type gSACKBlock struct {
	Left  *sackLeft  `parser:"@@ ':'"`
	Right *sackRight `parser:"@@"`
}

// accecn = ('e0b' | 'e1b') int ['ceb' int [('e1b' | 'e0b') int]] .
// The first counter names the option's order: e0b is order 0 (kind 172),
// e1b order 1 (kind 174); lowering checks the third names the other one.
type gAccECN struct {
	First   string       `parser:"(  @('e0b' | 'e1b')"`
	NoFirst *noAccECN    `parser:"|  @@ )"`
	Counter *accecnValue `parser:"@@"`
	CEB     *accecnValue `parser:"( 'ceb' @@"`
	Third   *lexer.Token `parser:"  ( (?= ('e0b' | 'e1b') (Int | Hex)) @('e0b' | 'e1b')"`
	Last    *accecnValue `parser:"    @@ )? )?"`
}

// syscall = ['...' seconds] WORD '(' [expr {',' expr}] ')' '=' expr tail .
type gSyscall struct {
	End    *gSeconds    `parser:"( '...' @@ )?"`
	Name   *lexer.Token `parser:"( @Word"`
	NoName *noSyscall   `parser:"| @@ )"`
	Args   []*gExpr     `parser:"'(' ( @@ ( ',' @@ )* )? ')'"`
	Result *gExpr       `parser:"'=' @@"`
	Tail   gTail        `parser:"@@"`
}

// expr = WORD '=' expr | or .
type gExpr struct {
	Pos   lexer.Position
	Name  *lexer.Token `parser:"(  (?= Word '=') @Word '='"`
	Value *gExpr       `parser:"   @@"`
	Or    *gOr         `parser:"|  @@ )"`
}

// or = primary {'|' primary} .
type gOr struct {
	X    *gPrimary `parser:"@@"`
	Rest []*gOrOp  `parser:"@@*"`
}

type gOrOp struct {
	Pos lexer.Position
	Y   *gPrimary `parser:"'|' @@"`
}

// primary = '...' | INT | HEX | STRING {STRING} ['...']
//
//	| '[' [elem {',' elem}] ']' | ('{' | '(') [field {',' field}] ('}' | ')')
//	| WORD [call_args] .
type gPrimary struct {
	Pos      lexer.Position
	Ellipsis bool         `parser:"(  @'...'"`
	Int      *lexer.Token `parser:"|  @(Int | Hex)"`
	Strings  []*gString   `parser:"|  @@+"`
	StrDots  bool         `parser:"   @'...'?"`
	List     *gList       `parser:"|  @@"`
	Struct   *gStruct     `parser:"|  @@"`
	Word     *lexer.Token `parser:"|  @Word"`
	Call     *gCallArgs   `parser:"   @@?"`
	None     *noExpr      `parser:"|  @@ )"`
}

type gString struct {
	Tok lexer.Token `parser:"@String"`
}

// call_args = '(' [expr {',' expr}] ')' .   ('(' on the line of the WORD)
type gCallArgs struct {
	Open gCallOpen `parser:"@@"`
	Args []*gExpr  `parser:"( @@ ( ',' @@ )* )? ')'"`
}

// list = '[' [elem {',' elem}] ']' .
type gList struct {
	Elems []*gElem `parser:"'[' ( @@ ( ',' @@ )* )? ']'"`
}

// elem = WORD or | expr .
// The juxtaposed form ("checksum present" in GRE flags) becomes a
// BinaryExpr with Op " ".
type gElem struct {
	Pos  lexer.Position
	Key  *lexer.Token `parser:"(  (?= Word ('...' | Int | Hex | String | Word | '[' | '{')) @Word"`
	Val  *gOr         `parser:"   @@"`
	Expr *gExpr       `parser:"|  @@ )"`
}

// struct = '{' [field {',' field}] '}' | '(' [field {',' field}] ')' .
type gStruct struct {
	Brace       bool      `parser:"(  @'{'"`
	BraceFields []*gField `parser:"   ( @@ ( ',' @@ )* )? '}'"`
	ParenFields []*gField `parser:"|  '(' ( @@ ( ',' @@ )* )? ')' )"`
}

// field = or ['=' expr | expr] .
// Lowering accepts "KEY = expr" with a WORD or call as KEY, and "WORD expr"
// (the reference's "sum 0", "label 1").
type gField struct {
	Pos   lexer.Position
	X     *gOr         `parser:"@@"`
	Eq    *lexer.Token `parser:"( @'='"`
	Value *gExpr       `parser:"  @@"`
	Juxt  *gOr         `parser:"| (?= ('...' | Int | Hex | String | Word | '[' | '{' | '(')) @@ )?"`
}

// --- hand-written nodes ---

// synErr is a syntax error a hand-written node reports: at is the token
// found where something else was expected.
type synErr struct {
	pos lexer.Position
	at  lexer.Token
	msg string
}

func (e *synErr) Error() string            { return e.msg }
func (e *synErr) Message() string          { return e.msg }
func (e *synErr) Position() lexer.Position { return e.pos }

var _ participle.Error = (*synErr)(nil)

// prevToken returns the token consumed last, or nil at the start.
func prevToken(lex *lexer.PeekingLexer) *lexer.Token {
	if c := lex.RawCursor(); c > 0 {
		return &lex.Range(c-1, c)[0]
	}
	return nil
}

// atLineStart reports whether the next token is the first of its line.
func atLineStart(lex *lexer.PeekingLexer) bool {
	prev := prevToken(lex)
	return prev == nil || lex.Peek().Pos.Line != prev.Pos.Line
}

// expected builds the "expected X, found Y" error at the next token; see
// describeFound.
func expected(lex *lexer.PeekingLexer, what string, atToken bool) error {
	t := *lex.Peek()
	pos, msg := expectedMsg(prevToken(lex), t, what, atToken)
	return &synErr{pos: pos, at: t, msg: msg}
}

// expectedMsg says that what was expected and t was found after prev. A
// newline or the end of file is reported just after prev, on its line;
// atToken says the expected thing starts a line, so the message names t
// rather than "newline".
func expectedMsg(prev *lexer.Token, t lexer.Token, what string, atToken bool) (lexer.Position, string) {
	found := describeTok(prev, t)
	if atToken && found == "newline" {
		found = describeTok(nil, t)
	}
	msg := "expected " + what + ", found " + found
	k := kindOf(t.Type)
	if k == tPunct && t.Value == "#" {
		msg += " ('#' is not a comment; use // or /* */)"
	}
	pos := t.Pos
	if k == tEOF || found == "newline" {
		if prev != nil && prev.Pos.Line != 0 {
			pos = prev.Pos
			pos.Column += len([]rune(prev.Value))
		}
	}
	return pos, msg
}

// describeTok names t, found after prev, for messages.
func describeTok(prev *lexer.Token, t lexer.Token) string {
	k := kindOf(t.Type)
	switch {
	case k == tEOF:
		return "EOF"
	case k == tBad:
		return t.Value
	case prev != nil && prev.Pos.Line != 0 && t.Pos.Line > prev.Pos.Line:
		return "newline"
	case k == tString:
		return "string " + strconv.Quote(t.Value[1:len(t.Value)-1])
	case k == tBacktick:
		return "command"
	case k == tCode:
		return "code block"
	}
	s := t.Value
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return "'" + s + "'"
}

func isKind(t *lexer.Token, k tokKind) bool { return kindOf(t.Type) == k }

func isPunctTok(t *lexer.Token, c string) bool { return isKind(t, tPunct) && t.Value == c }

// gTime is an event's time:
//
//	time = '+' seconds ['~' '+' seconds] | '*' | seconds ['~' seconds] .
type gTime struct {
	Pos        lexer.Position
	Kind       TimeKind
	Start, End lexer.Token
}

func (g *gTime) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	g.Pos = t.Pos
	switch {
	case isPunctTok(t, "*"):
		lex.Next()
		g.Kind = TimeAny
		return nil
	case isPunctTok(t, "+"):
		lex.Next()
		g.Kind = TimeRelative
		if err := seconds(lex, &g.Start); err != nil {
			return err
		}
		if isPunctTok(lex.Peek(), "~") {
			lex.Next()
			g.Kind = TimeRelativeRange
			if !isPunctTok(lex.Peek(), "+") {
				return expected(lex, "'+'", false)
			}
			lex.Next()
			return seconds(lex, &g.End)
		}
		return nil
	case isKind(t, tInt) || isKind(t, tFloat):
		g.Kind = TimeAbsolute
		g.Start = *lex.Next()
		if isPunctTok(lex.Peek(), "~") {
			lex.Next()
			g.Kind = TimeAbsoluteRange
			if isPunctTok(lex.Peek(), "+") {
				return expected(lex, "absolute end time (both ends of a range are absolute or both relative)", false)
			}
			return seconds(lex, &g.End)
		}
		return nil
	}
	return expected(lex, "event time", true)
}

// gSeconds is a time in seconds: seconds = INT | FLOAT .
type gSeconds struct{ Tok lexer.Token }

func (g *gSeconds) Parse(lex *lexer.PeekingLexer) error { return seconds(lex, &g.Tok) }

func seconds(lex *lexer.PeekingLexer, tok *lexer.Token) error {
	t := lex.Peek()
	if !isKind(t, tInt) && !isKind(t, tFloat) {
		return expected(lex, "time in seconds", false)
	}
	*tok = *lex.Next()
	return nil
}

// gFlags is the TCP flags word, written without blanks:
//
//	flags = WORD ['.'] | [WORD] FLOAT | '.' | '-' .
//
// FLOAT is the ".N" of an AccECN counter, as in "S.5". The lexer cuts
// "S." and "S.5" in two tokens; this node joins them again.
type gFlags struct {
	Pos  lexer.Position
	Text string
}

func (g *gFlags) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	g.Pos = t.Pos
	switch {
	case isPunctTok(t, "-"), isPunctTok(t, "."):
		g.Text = lex.Next().Value
	case isKind(t, tFloat) && strings.HasPrefix(t.Value, "."):
		g.Text = lex.Next().Value
	case isKind(t, tWord) && !reserved[t.Value]:
		g.Text = lex.Next().Value
		if n := lex.Peek(); isKind(n, tFloat) && strings.HasPrefix(n.Value, ".") && n.Pos.Line == t.Pos.Line {
			g.Text += lex.Next().Value
		} else if isPunctTok(n, ".") {
			g.Text += lex.Next().Value
		}
	default:
		return expected(lex, "TCP flags", false)
	}
	return nil
}

// gSeq is a sequence range: seq = int ':' int '(' int ')' .
type gSeq struct {
	Pos             lexer.Position
	Start, End, Len lexer.Token
}

func (g *gSeq) Parse(lex *lexer.PeekingLexer) error {
	g.Pos = lex.Peek().Pos
	if !isNumber(lex.Peek()) {
		return expected(lex, "sequence range start:end(length)", false)
	}
	g.Start = *lex.Next()
	for _, step := range []struct {
		punct, what string
		tok         *lexer.Token
	}{
		{":", "TCP end sequence number", &g.End},
		{"(", "TCP payload size", &g.Len},
	} {
		if !isPunctTok(lex.Peek(), step.punct) {
			return expected(lex, "'"+step.punct+"'", false)
		}
		lex.Next()
		if !isNumber(lex.Peek()) {
			return expected(lex, step.what, false)
		}
		*step.tok = *lex.Next()
	}
	if !isPunctTok(lex.Peek(), ")") {
		return expected(lex, "')'", false)
	}
	lex.Next()
	return nil
}

func isNumber(t *lexer.Token) bool { return isKind(t, tInt) || isKind(t, tHex) }

// icmpCode is the optional code after an ICMP type: a WORD other than
// 'mtu' and 'id', or an INT on the same line (an INT that starts a line is
// the next event's time).
type icmpCode struct{ Tok lexer.Token }

func (c *icmpCode) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if (isKind(t, tWord) && t.Value != "mtu" && t.Value != "id") || (isKind(t, tInt) && !atLineStart(lex)) {
		c.Tok = *lex.Next()
		return nil
	}
	return participle.NextMatch
}

// gCallOpen is the '(' of a call, which must be on the line of its name.
type gCallOpen struct{}

func (*gCallOpen) Parse(lex *lexer.PeekingLexer) error {
	if isPunctTok(lex.Peek(), "(") && !atLineStart(lex) {
		lex.Next()
		return nil
	}
	return participle.NextMatch
}

// gTail is what may follow a system call's result on its line:
//
//	tail = [WORD note] [note] .
//	note = '(' any-token* ')' .
//
// An errno without a note is reported by lowering (NoNote), after which the
// parse goes on.
type gTail struct {
	Errno   *lexer.Token
	NoNote  string
	HasNote bool
	Note    []lexer.Token // the tokens between the parentheses
}

func (g *gTail) Parse(lex *lexer.PeekingLexer) error {
	if t := lex.Peek(); isKind(t, tWord) && !atLineStart(lex) {
		g.Errno = lex.Next()
		if !isPunctTok(lex.Peek(), "(") {
			g.NoNote = "errno " + g.Errno.Value + " must be followed by a (note), found " + describeTok(prevToken(lex), *lex.Peek())
			return nil
		}
	}
	if !isPunctTok(lex.Peek(), "(") {
		return nil
	}
	open := lex.Next()
	for !isPunctTok(lex.Peek(), ")") {
		t := lex.Peek()
		if isKind(t, tEOF) || isPunctTok(t, "(") || (atLineStart(lex) && t.Pos.Line > open.Pos.Line && startsEventTok(t)) {
			return expected(lex, "')' closing the note", false)
		}
		if isKind(t, tBad) {
			return expected(lex, "')' closing the note", false)
		}
		g.Note = append(g.Note, *lex.Next())
	}
	lex.Next()
	g.HasNote = true
	return nil
}

// startsEventTok reports whether t can begin an event.
func startsEventTok(t *lexer.Token) bool {
	switch kindOf(t.Type) {
	case tInt, tFloat, tBacktick, tOption:
		return true
	case tPunct:
		return t.Value == "+" || t.Value == "*"
	}
	return false
}

// unknownOption is a TCP option of a name godrill does not know.
type unknownOption struct{ Tok lexer.Token }

var knownOptions = map[string]bool{"nop": true, "eol": true, "sackOK": true, "mss": true,
	"wscale": true, "sack": true, "TS": true, "md5": true, "FO": true, "FOEXP": true, "ECN": true}

func (u *unknownOption) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if !isKind(t, tWord) || knownOptions[t.Value] {
		return participle.NextMatch
	}
	u.Tok = *lex.Next()
	return &synErr{pos: t.Pos, at: *t, msg: "unknown TCP option " + strconv.Quote(t.Value)}
}

// Catch-all alternatives: each fails with the message naming what was
// expected, so that the message does not list the grammar's alternatives.
type (
	noAction    struct{}
	noIPInfo    struct{}
	noICMPType  struct{}
	noMD5       struct{}
	noTCPOption struct{}
	noAccECN    struct{}
	noSyscall   struct{}
	noExpr      struct{}
)

func (*noAction) Parse(lex *lexer.PeekingLexer) error {
	return expected(lex, "packet, system call, command or code block", false)
}
func (*noIPInfo) Parse(lex *lexer.PeekingLexer) error {
	return expected(lex, "ip info (ect0, ect1, ce, noecn, ect01, tos, flowlabel, ttl)", false)
}
func (*noICMPType) Parse(lex *lexer.PeekingLexer) error  { return expected(lex, "ICMP type", false) }
func (*noMD5) Parse(lex *lexer.PeekingLexer) error       { return expected(lex, "MD5 digest in hex", false) }
func (*noTCPOption) Parse(lex *lexer.PeekingLexer) error { return expected(lex, "TCP option", false) }
func (*noAccECN) Parse(lex *lexer.PeekingLexer) error    { return expected(lex, "'e0b' or 'e1b'", false) }
func (*noSyscall) Parse(lex *lexer.PeekingLexer) error {
	return expected(lex, "system call name", false)
}
func (*noExpr) Parse(lex *lexer.PeekingLexer) error { return expected(lex, "expression", false) }

// num is an INT or HEX token. The named types below embed it: each names
// the number in messages and gives the bits it must fit in.
type num struct{ Tok lexer.Token }

func (n *num) Parse(lex *lexer.PeekingLexer) error {
	if !isNumber(lex.Peek()) {
		return participle.NextMatch
	}
	n.Tok = *lex.Next()
	return nil
}

func (n num) token() lexer.Token { return n.Tok }

// number is a num of a named type.
type number interface {
	token() lexer.Token
	label() (what string, bits uint)
}

type (
	srcPort     struct{ num }
	dstPort     struct{ num }
	udpPayload  struct{ num }
	icmpMTU     struct{ num }
	icmpID      struct{ num }
	icmpPayload struct{ num }
	pspSPI      struct{ num }
	tcpAck      struct{ num }
	tcpWin      struct{ num }
	tcpUrg      struct{ num }
	greFlagsNum struct{ num }
	greSum      struct{ num }
	greOff      struct{ num }
	greKey      struct{ num }
	greSeq      struct{ num }
	mplsLabel   struct{ num }
	mplsTC      struct{ num }
	mplsTTL     struct{ num }
	ipTOS       struct{ num }
	ipFlowLabel struct{ num }
	ipTTL       struct{ num }
	mssValue    struct{ num }
	wscaleValue struct{ num }
	sackLeft    struct{ num }
	sackRight   struct{ num }
	tsVal       struct{ num }
	tsEcr       struct{ num }
	accecnValue struct{ num }
)

func (srcPort) label() (string, uint)     { return "src port", 16 }
func (dstPort) label() (string, uint)     { return "dst port", 16 }
func (udpPayload) label() (string, uint)  { return "UDP payload size", 16 }
func (icmpMTU) label() (string, uint)     { return "ICMP mtu", 32 }
func (icmpID) label() (string, uint)      { return "ICMP echo id", 16 }
func (icmpPayload) label() (string, uint) { return "payload size", 16 }
func (pspSPI) label() (string, uint)      { return "psp spi", 32 }
func (tcpAck) label() (string, uint)      { return "TCP ack sequence number", 32 }
func (tcpWin) label() (string, uint)      { return "TCP window", 16 }
func (tcpUrg) label() (string, uint)      { return "urg_ptr", 16 }
func (greFlagsNum) label() (string, uint) { return "GRE flags", 16 }
func (greSum) label() (string, uint)      { return "GRE checksum", 16 }
func (greOff) label() (string, uint)      { return "GRE offset", 16 }
func (greKey) label() (string, uint)      { return "GRE key", 32 }
func (greSeq) label() (string, uint)      { return "GRE sequence number", 32 }
func (mplsLabel) label() (string, uint)   { return "MPLS label", 20 }
func (mplsTC) label() (string, uint)      { return "MPLS traffic class", 3 }
func (mplsTTL) label() (string, uint)     { return "MPLS ttl", 8 }
func (ipTOS) label() (string, uint)       { return "tos", 8 }
func (ipFlowLabel) label() (string, uint) { return "flowlabel", 20 }
func (ipTTL) label() (string, uint)       { return "ttl", 8 }
func (mssValue) label() (string, uint)    { return "mss value", 16 }
func (wscaleValue) label() (string, uint) { return "window scale shift count", 8 }
func (sackLeft) label() (string, uint)    { return "TCP SACK left sequence number", 32 }
func (sackRight) label() (string, uint)   { return "TCP SACK right sequence number", 32 }
func (tsVal) label() (string, uint)       { return "ts val", 32 }
func (tsEcr) label() (string, uint)       { return "ecr val", 32 }
func (accecnValue) label() (string, uint) { return "TCP AccECN field value", 24 }

// numLabels maps the names of the number types, as participle's messages
// spell them, to what the number is.
var numLabels = map[string]string{}

func init() {
	for _, n := range []number{srcPort{}, dstPort{}, udpPayload{}, icmpMTU{}, icmpID{},
		icmpPayload{}, pspSPI{}, tcpAck{}, tcpWin{}, tcpUrg{}, greFlagsNum{}, greSum{},
		greOff{}, greKey{}, greSeq{}, mplsLabel{}, mplsTC{}, mplsTTL{}, ipTOS{},
		ipFlowLabel{}, ipTTL{}, mssValue{}, wscaleValue{}, sackLeft{}, sackRight{},
		tsVal{}, tsEcr{}, accecnValue{}} {
		what, _ := n.label()
		numLabels[reflectName(n)] = what
	}
}

func reflectName(v any) string { return reflect.TypeOf(v).Name() }
