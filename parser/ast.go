// Package parser reads packetdrill scripts (.pkt) into a typed syntax tree.
//
// The grammar (grammar.txt) is written with participle as struct tags on
// the raw parse-tree types of grammar.go, over a hand-written lexer behind
// participle's lexer types (scan.go, lexer.go); a few hand-written
// participle.Parseable nodes handle what depends on line breaks and the
// messages that matter. The script is parsed window by window (a line
// that can start an event up to the next), on all cores, and participle's
// tree is reused for events of the same token shape (windows.go, memo.go).
// A second pass
// lowers the raw tree into the types of this file, checking what the
// grammar leaves permissive (number ranges, time order, sequence ranges,
// option padding). Errors are "file:line:col: expected X, found Y" in the
// style of go/parser, collected in an ErrorList; after a syntax error the
// parse resumes at the next line that can start an event. The parser never
// depends on how a script is run.
package parser

import (
	"fmt"
	"time"
)

// Pos is a position in a script. Line and Col count from 1; 0 means unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Script is a whole parsed .pkt file.
type Script struct {
	File    string
	Source  []byte    // the script text as read, for error excerpts (-D substitution works on tokens, so positions stay those of this text)
	Options []*Option // "--name=value" lines at the top, in order
	Init    *Command  // untimed shell command before the first event
	Events  []*Event
	Cleanup *Command // untimed shell command after the last event
}

// Option is one "--name=value" (or bare "--name") line.
type Option struct {
	Pos      Pos
	Name     string // without the leading dashes
	Value    string
	HasValue bool
}

// TimeKind says how an event's time is written.
type TimeKind int

const (
	TimeAbsolute      TimeKind = iota // 0.100
	TimeRelative                      // +0.100
	TimeAny                           // *
	TimeAbsoluteRange                 // 0.100~0.200
	TimeRelativeRange                 // +0.100~+0.200
)

// EventTime is the time column of an event. Start is the only value for
// absolute and relative times; ranges also set End.
type EventTime struct {
	Pos   Pos
	Kind  TimeKind
	Start time.Duration
	End   time.Duration
}

// Event is one timed line (or multi-line construct) of a script. Exactly one
// of Packet, Syscall, Command and Code is set.
type Event struct {
	Pos     Pos
	Time    EventTime
	Packet  *Packet
	Syscall *Syscall
	Command *Command
	Code    *Code
}

// Command is a backtick shell command; Text is what lies between the backticks.
type Command struct {
	Pos  Pos
	Text string
}

// Code is a %{ ... }% inline code block; Text is what lies between the marks.
type Code struct {
	Pos  Pos
	Text string
}

// Direction says who sends a scripted packet.
type Direction int

const (
	Inbound  Direction = iota // "<": the scripted peer sends it to the kernel
	Outbound                  // ">": the kernel must send it
)

// Packet is a packet line. Exactly one of TCP, UDP and ICMP is set.
type Packet struct {
	Pos       Pos
	Direction Direction
	Encap     []*Encap // outer headers, outermost first (gre, mpls, ipv4 A > B:, ipv6 A > B:)
	IP        *IPInfo  // nil when the line gives no [ip_info]
	PSP       *PSP     // "encap psp spi N" before a TCP segment, else nil
	TCP       *TCP
	UDP       *UDP
	ICMP      *ICMP
}

// Encap is one encapsulating header written before the packet proper.
type Encap struct {
	Pos  Pos
	Kind string // "ipv4", "ipv6", "gre", "mpls"
	Src  string // ipv4/ipv6: source address as written
	Dst  string // ipv4/ipv6: destination address as written
	// IP is the [ip_info] written after "ipv4"/"ipv6", nil when not written.
	IP *IPInfo
	// GRE fields, each nil when not written.
	GRE *GRE
	// MPLS label stack entries, outermost first.
	MPLS []*MPLSEntry
}

// GRE holds the fields of a "gre ..." header; nil pointers were not written.
type GRE struct {
	Flags *uint32
	Proto *uint32
	Sum   *uint32
	Off   *uint32
	Key   *uint32
	Seq   *uint32
}

// PSP is the "encap psp spi N" header info of a TCP packet line.
type PSP struct {
	SPI uint32
}

// MPLSEntry is one "(label N, tc N, [S], ttl N)" entry.
type MPLSEntry struct {
	Label         uint32
	TC            uint32
	BottomOfStack bool
	TTL           uint32
}

// ECN codepoints of the IP header, as ip_info words.
type ECN int

const (
	ECNUnset  ECN = iota // not written: don't check
	ECNNotECT            // noecn
	ECNECT1              // ect1
	ECNECT0              // ect0
	ECNCE                // ce
	ECNECT01             // ect01: either ECT(0) or ECT(1)
)

// IPInfo is the bracketed [ip_info] of a packet line; nil pointers were not written.
type IPInfo struct {
	Pos       Pos
	ECN       ECN
	TOS       *uint8
	FlowLabel *uint32
	TTL       *uint8
}

// TCP flag bits as they sit in the 9-bit flags field (AE is RFC 9768's
// former NS bit).
const (
	FlagFIN uint16 = 1 << 0
	FlagSYN uint16 = 1 << 1
	FlagRST uint16 = 1 << 2
	FlagPSH uint16 = 1 << 3
	FlagACK uint16 = 1 << 4
	FlagURG uint16 = 1 << 5
	FlagECE uint16 = 1 << 6
	FlagCWR uint16 = 1 << 7
	FlagAE  uint16 = 1 << 8
)

// SeqRange is "start:end(len)". The parser checks that End == Start+Len
// (mod 2^32).
type SeqRange struct {
	Start uint32
	End   uint32
	Len   uint32
}

// TCP is a TCP packet line.
type TCP struct {
	SrcPort *uint16 // explicit "S>D" ports, else nil
	DstPort *uint16
	// FlagsText is the flags word as written ("S.", "F.", "P.", ".", "-", "S.5").
	FlagsText string
	Flags     uint16 // Flag* bits
	// ACE is the AccECN counter written as a digit after the flags ("S.5"),
	// nil when not written.
	ACE *uint8
	Seq SeqRange
	Ack *uint32
	Win *uint32
	Urg *uint32
	// Options is nil when the line has no <...> at all (the packet carries no
	// options); AnyOptions is true for the literal "<...>" (don't check).
	Options    []*TCPOption
	AnyOptions bool
}

// TCPOptionKind names a TCP option as written in scripts.
type TCPOptionKind string

const (
	OptNOP    TCPOptionKind = "nop"
	OptEOL    TCPOptionKind = "eol"
	OptMSS    TCPOptionKind = "mss"
	OptWScale TCPOptionKind = "wscale"
	OptSACKOK TCPOptionKind = "sackOK"
	OptSACK   TCPOptionKind = "sack"
	OptTS     TCPOptionKind = "TS"
	OptMD5    TCPOptionKind = "md5"
	OptFO     TCPOptionKind = "FO"    // RFC 7413 fast open, kind 34
	OptFOEXP  TCPOptionKind = "FOEXP" // experimental fast open, kind 254 magic 0xF989
	OptAccECN TCPOptionKind = "ECN"   // AccECN option (order 0 or 1)
	OptExp    TCPOptionKind = "exp"   // other experimental / raw option
)

// SACKBlock is one "left:right" SACK block.
type SACKBlock struct {
	Left  uint32
	Right uint32
}

// TCPOption is one option in a <...> list.
type TCPOption struct {
	Pos  Pos
	Kind TCPOptionKind
	// Value is the MSS, or the window scale shift.
	Value uint32
	// Blocks are the SACK blocks of a sack option.
	Blocks []SACKBlock
	// TSVal and TSEcr of a TS option.
	TSVal uint32
	TSEcr uint32
	// Cookie is the fast-open cookie (FO, FOEXP) or MD5 digest bytes; nil
	// when the option is written without one.
	Cookie []byte
	// AccECN: Order is 0 or 1 (kind 172 or 174); Counters the byte counters
	// in the order written (e0b/ceb/e1b names are kept in CounterNames).
	Order        int
	Counters     []uint32
	CounterNames []string
	// Raw option kind and data, for OptExp and any option written by number.
	RawKind uint8
	RawData []byte
}

// UDP is a "udp (len)" packet line.
type UDP struct {
	SrcPort *uint16
	DstPort *uint16
	Len     uint32
}

// ICMP is an icmp packet line, which quotes (echoes) a TCP or UDP segment.
type ICMP struct {
	Type string // e.g. "unreachable", "time_exceeded", "packet_too_big", or a number
	Code string // e.g. "frag_needed", "port_unreachable"; "" when not written
	MTU  *uint32
	ID   *uint32 // "id N" (echo identifier), nil when not written
	// The quoted segment: Proto "tcp" (EchoedSeq set), "udp" or "raw"
	// (EchoedLen set), "" when not written.
	EchoedProto string
	EchoedSeq   *SeqRange
	EchoedLen   uint32
}

// Syscall is a system call line: name(args) = result [ERRNO (note)].
type Syscall struct {
	Pos  Pos
	Name string
	Args []Expr
	// HasEnd is true for a blocking call written "start...end"; End is the
	// end time, read on the same base as the event's start time.
	HasEnd bool
	End    time.Duration
	Result Expr   // the expression after '='
	Errno  string // "" when not written
	Note   string // the text of the "(note)" after the errno
}

// Expr is an argument or result expression of a system call.
type Expr interface {
	Position() Pos
	exprNode()
}

// IntLit is an integer literal ("42", "-1", "0x1f").
type IntLit struct {
	Pos   Pos
	Value int64
	Text  string
}

// Word is a bare identifier: a symbol (AF_INET, SO_LINGER, EINPROGRESS) or a
// name (-D defined words are replaced before parsing).
type Word struct {
	Pos  Pos
	Name string
}

// StringLit is a quoted string ("abc"); adjacent strings are concatenated.
// Ellipsis is true for "abc"... (the rest of the buffer is don't-care).
type StringLit struct {
	Pos      Pos
	Value    string
	Ellipsis bool
}

// Ellipsis is "...": the configured/default value, or don't care.
type Ellipsis struct {
	Pos Pos
}

// ListExpr is "[a, b, ...]", also the one-element "[int]" pointer form.
type ListExpr struct {
	Pos   Pos
	Elems []Expr
}

// StructExpr is "{a=1, b=2}" (fields may also be positional: "{1, 2}").
type StructExpr struct {
	Pos    Pos
	Fields []*Field
	// Paren is true for the parenthesized form "(label 1, tc 0, [S], ttl 255)"
	// (MPLS stack entries).
	Paren bool
}

// Field is one member of a StructExpr. Key is nil for a positional field; it
// is a Word ("sin_port") or a CallExpr ("msg_iov(1)") otherwise.
type Field struct {
	Pos   Pos
	Key   Expr
	Value Expr
}

// BinaryExpr is "X | Y". Op is also "=" for a "WORD = expr" written outside
// braces, and " " for a word juxtaposed with a value inside a list
// ("[checksum present]" of GRE flags).
type BinaryExpr struct {
	Pos  Pos
	Op   string
	X, Y Expr
}

// CallExpr is a function-like form: htons(8080), inet_addr("1.2.3.4"),
// msg_iov(1), sockaddr forms and so on.
type CallExpr struct {
	Pos  Pos
	Func string
	Args []Expr
}

func (e *IntLit) Position() Pos     { return e.Pos }
func (e *Word) Position() Pos       { return e.Pos }
func (e *StringLit) Position() Pos  { return e.Pos }
func (e *Ellipsis) Position() Pos   { return e.Pos }
func (e *ListExpr) Position() Pos   { return e.Pos }
func (e *StructExpr) Position() Pos { return e.Pos }
func (e *BinaryExpr) Position() Pos { return e.Pos }
func (e *CallExpr) Position() Pos   { return e.Pos }

func (*IntLit) exprNode()     {}
func (*Word) exprNode()       {}
func (*StringLit) exprNode()  {}
func (*Ellipsis) exprNode()   {}
func (*ListExpr) exprNode()   {}
func (*StructExpr) exprNode() {}
func (*BinaryExpr) exprNode() {}
func (*CallExpr) exprNode()   {}
