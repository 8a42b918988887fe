package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// refLexer is the regular-expression lexer the scanner replaced, kept as
// the specification the scanner must agree with: the same rules, in the
// same order, with first-match semantics.
var refLexer = lexer.MustStateful(lexer.Rules{
	"Root": {
		{Name: "Space", Pattern: `[ \t\r\n\f\v]+`},
		{Name: "Comment", Pattern: `//[^\n]*`},
		{Name: "BlockComment", Pattern: `/\*(?:[^*]|\*+[^*/])*\*+/`},
		{Name: "BadComment", Pattern: `/\*[\s\S]*`},
		{Name: "Code", Pattern: `%\{[\s\S]*?\}%`},
		{Name: "BadCode", Pattern: `%\{[\s\S]*`},
		{Name: "Backtick", Pattern: "`(?:\\\\[\\s\\S]|[^`\\\\])*`"},
		{Name: "BadBacktick", Pattern: "`[\\s\\S]*"},
		{Name: "String", Pattern: `"(?:\\[\s\S]|[^"\\])*"`},
		{Name: "BadString", Pattern: `"[\s\S]*`},
		{Name: "Ellipsis", Pattern: `\.\.\.`},
		{Name: "Option", Pattern: `--[a-zA-Z0-9_]+`},
		{Name: "Atom", Pattern: `[0-9a-fA-F]*:[0-9a-fA-F:.]*|` + ipv4Pattern + `|` + floatPattern + `|-[0-9]+|sequence#|[a-zA-Z0-9_]+`},
		{Name: "Punct", Pattern: `[^ \t\r\n\f\v]`},
	},
})

var ruleNames = map[string]rule{
	"Space": rSpace, "Comment": rComment, "BlockComment": rBlockComment,
	"BadComment": rBadComment, "Code": rCode, "BadCode": rBadCode,
	"Backtick": rBacktick, "BadBacktick": rBadBacktick, "String": rString,
	"BadString": rBadString, "Ellipsis": rEllipsis, "Option": rOption,
	"Atom": rAtom, "Punct": rPunct,
}

// compareLexers lexes src with the scanner and with refLexer and reports
// the first difference in rule, text or position.
func compareLexers(t *testing.T, name, src string) {
	t.Helper()
	lx, err := refLexer.LexString(name, src)
	if err != nil {
		t.Fatal(err)
	}
	syms := lexer.SymbolsByRune(refLexer)
	sc := newScanner(src)
	for i := 0; ; i++ {
		want, err := lx.Next()
		if err != nil {
			t.Fatalf("%s: reference lexer: %v", name, err)
		}
		r, text, off, line, col := sc.next()
		wr := rEOF
		if !want.EOF() {
			wr = ruleNames[syms[want.Type]]
		}
		if r != wr || text != want.Value || off != want.Pos.Offset || line != want.Pos.Line || col != want.Pos.Column {
			t.Fatalf("%s: token %d: scanner %d %q at %d:%d (offset %d), reference %s %q at %d:%d (offset %d)",
				name, i, r, text, line, col, off, syms[want.Type], want.Value, want.Pos.Line, want.Pos.Column, want.Pos.Offset)
		}
		if r == rAtom && sc.kind != classifyAtom(text) {
			t.Fatalf("%s: token %d %q: scanner kind %d, classifyAtom %d", name, i, text, sc.kind, classifyAtom(text))
		}
		if r == rEOF {
			return
		}
	}
}

// TestScannerMatchesReference compares the two lexers on every script of
// the repository and on hand-picked corner cases.
func TestScannerMatchesReference(t *testing.T) {
	for _, s := range scannerCases {
		compareLexers(t, strings.ReplaceAll(s, "\n", `\n`), s)
	}
	var files []string
	for _, pat := range []string{"testdata/*.txt", "../testdata/*/*.pkt", "../scripts/*.pkt", "../scripts/*/*.pkt"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 50 {
		t.Fatalf("only %d scripts found", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if off, _ := checkEncoding(data); off >= 0 {
			continue // never lexed: Parse rejects it first
		}
		compareLexers(t, f, string(data))
	}
}

var scannerCases = []string{
	"", " ", "\v\f\r\n\t x", "// c", "// c\nx", "/**/", "/*/", "/* a */ b */", "/* a **/x", "/* \n * \n */",
	"/* open", "%{}%", "%{ a }% }%", "%{ open", "`a\\`b`", "`a\\", "`open", "\"a\\\"b\"", "\"a\\",
	"\"open", "...", "....", "..", "--a", "--", "--=", "---a", "-1", "-1.5", "-.5", "-", "--1", "-a",
	"1.2.3.4", "1.2.3", "1.2.3.4.5", "1.", ".5", "1.5.", "0x1f", "0X1F", "1:1(0)", "fd3d::1", "::",
	":", "::1:", "a:b:c", "abg:1", "sequence#", "sequence", "sequence#present", "S.", "S.5", "P.",
	"<...>", "1:2:3.4.5.6", "é", "aé", "\"é\"\né x", "x\n\n  y", "1e5", "_a", "[S]", "0...0.2",
}

// FuzzScanner checks that the scanner and refLexer agree on any text
// Parse would lex (valid UTF-8 without NUL bytes).
func FuzzScanner(f *testing.F) {
	for _, s := range scannerCases {
		f.Add(s)
	}
	f.Add("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) win 10 <mss 1460,nop,nop,sackOK>\n")
	f.Add("--define=X=1\n`init`\n0 f({a=1, b=[1, 2]}, \"s\"...) = -1 EAGAIN (x)\n%{ x }%\n")
	f.Add("0 < ipv4 1.2.3.4 > 5.6.7.8: gre: mpls (label 1, tc 0, [S], ttl 2): [ect0] udp (10)\n")
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) || strings.IndexByte(src, 0) >= 0 {
			return
		}
		compareLexers(t, "fuzz", src)
	})
}
