package parser

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// splits are the ways of cutting a script the parallel parser is checked
// with: each window its own batch, a few windows, and the default.
var splits = []split{{batchBytes: 1}, {batchBytes: 7}, {batchBytes: 64}, {batchBytes: defaultSplit.batchBytes}}

var sequential = split{parallelBytes: 1 << 62}

// compareSplits parses src in order with every event parsed by the
// grammar, then in order and in parallel under each of splits with reused
// trees: the trees (positions included) and the errors must be the same.
func compareSplits(t *testing.T, name string, src []byte, opts Options) {
	t.Helper()
	want, werr := parse(name, src, opts, split{parallelBytes: 1 << 62, noMemo: true}, false)
	for _, sp := range append([]split{sequential}, splits...) {
		got, gerr := parse(name, src, opts, sp, false)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: split %v: tree differs:\n%s\nin order:\n%s", name, sp, sprintOrNil(got), sprintOrNil(want))
		}
		if errText(gerr) != errText(werr) {
			t.Fatalf("%s: split %v: errors differ:\n%s\nin order:\n%s", name, sp, errText(gerr), errText(werr))
		}
	}
}

func sprintOrNil(s *Script) string {
	if s == nil {
		return "(nil)"
	}
	return Sprint(s)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return FormatError(err)
}

// TestParallelMatchesSequential checks the parallel parse against the
// parse in order on every script of the repository, every chunk of the
// testdata, the corpora of $GODRILL_CORPUS_DIRS, and scripts made to
// cross batch boundaries with multi-line events and errors.
func TestParallelMatchesSequential(t *testing.T) {
	var files []string
	for _, pat := range []string{"../testdata/*/*.pkt", "../scripts/*.pkt", "../scripts/*/*.pkt"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, dir := range strings.Split(os.Getenv("GODRILL_CORPUS_DIRS"), ":") {
		if dir != "" {
			filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(path, ".pkt") {
					files = append(files, path)
				}
				return nil
			})
		}
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		compareSplits(t, f, src, Options{Defines: corpusDefines})
		// ParseFile shares its buffer with the tree's strings.
		want, werr := Parse(f, src, Options{Defines: corpusDefines})
		got, gerr := ParseFile(f, Options{Defines: corpusDefines})
		if !reflect.DeepEqual(got, want) || errText(gerr) != errText(werr) {
			t.Fatalf("%s: ParseFile and Parse differ", f)
		}
	}
	chunks, _ := filepath.Glob("testdata/*.txt")
	for _, f := range chunks {
		for _, c := range readChunks(t, f) {
			compareSplits(t, f, []byte(c.src), Options{Defines: c.defines})
		}
	}
	for _, src := range crossingScripts {
		compareSplits(t, "crossing.pkt", []byte(src), Options{Defines: map[string]string{"X": "5", "S": "\"s\""}})
	}
}

// crossingScripts have events that span lines beginning with what could
// begin an event, errors at the ends of windows, and a cleanup command.
var crossingScripts = []string{
	"0 f([1,\n2,\n3]) = 0\n+0 g(\n1) = 0\n",
	"0 < S 0:0(0) win 1 <ECN e0b 1 ceb 2 e1b\n3,nop>\n+0 close(3) = 0\n",
	"0 f(1) = -1 EAGAIN\n+0 f(2) = 0\n+0 f(3) = -1 EAGAIN\n(note)\n",
	"0 f(1) = 0\n+0 f(2\n+0 f(3) = 0\n+0 f(4)\n`cleanup`\n",
	"0 f(1) = 0\n`cleanup`\n+0 f(2) = 0\n",
	"0 f(1) = 0\n+0 f(2) = 0 `cleanup`",
	"--define=Y=1\n--tolerance_usecs=\n1\n0 f(X, Y, S) = 0\nX f(1) = 0\n",
	"0 f(1) = 0\n+0 f(\"open\n+0 f(2) = 0\n",
	"0 f(1) = 0\n" + strings.Repeat("+0 > S 0:0(0)\n", 30),
	"0 f(1) = 0\n" + strings.Repeat("+0 f([[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[) = 0\n", 3),
	"0 f(1) = 0\n1 f(1) = 0\n0.5 f(1) = 0\n+0 %{ x\n1\n}%\n+0 `a\n2\n`\n* > . 1:1(0) ack 1\n",
	"--a\n--b=1 --c\n`init`\n`cleanup`\n",
	"// only a comment\n",
	"",
	"0 f(1) = 0 +0 f(2) = 0\n+0 f(3) = 0 ) +0 f(4) = 0\n",
	"0 f(1) = 0\n" + strings.Repeat("+0 < S 0:0(0) win 70000\n", 12),
}

// refWindows cuts src as the token stream sees it: a window starts at each
// token on a later line than the token before that can begin an event. It
// returns each window's start and the stream's state there.
func refWindows(src string, subst *substitution) []lexState {
	ts := &tokenStream{file: "w.pkt", size: len(src), sc: newScanner(src), end: len(src), subst: subst}
	out := []lexState{{0, 1, 1, 0, 0}}
	var toks []lexer.Token
	states := []lexState{}
	for !ts.done {
		before := lexState{ts.sc.off, ts.sc.line, ts.sc.col, ts.lastLine, ts.depth}
		n := len(toks)
		toks = ts.fill(toks)
		for range toks[n:] {
			states = append(states, before)
		}
	}
	for i := 1; i < len(toks)-1; i++ {
		t := toks[i]
		if t.Pos.Line > toks[i-1].Pos.Line && startsEventTok(&t) {
			st := states[i]
			// the state at the token itself, past the blanks before it
			st.off, st.line, st.col = t.Pos.Offset, t.Pos.Line, t.Pos.Column
			out = append(out, st)
		}
	}
	return out
}

func compareCutter(t *testing.T, name, src string, subst *substitution) {
	t.Helper()
	want := refWindows(src, subst)
	c := &cutter{file: "w.pkt", src: src, subst: subst}
	var got []lexState
	for w := c.window(); w != nil; w = c.window() {
		got = append(got, w.st)
		if w.final != (w.end == len(src)) {
			t.Fatalf("%s: window %d final %v ends at %d of %d", name, w.idx, w.final, w.end, len(src))
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: cutter windows\n%v\ntoken stream\n%v", name, got, want)
	}
}

// TestCutter compares the cutter's windows with the token stream's on the
// repository's scripts and the corner cases of the scanner.
func TestCutter(t *testing.T) {
	subst := &substitution{defines: map[string]string{"X": "5", "Y": "+"}, from: 0}
	for _, s := range append(append([]string{}, scannerCases...), crossingScripts...) {
		compareCutter(t, s, s, nil)
		compareCutter(t, s, s, subst)
	}
	var files []string
	for _, pat := range []string{"testdata/*.txt", "../testdata/*/*.pkt", "../scripts/*.pkt", "../scripts/*/*.pkt"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		compareCutter(t, f, string(data), nil)
	}
}

// FuzzCutter checks the cutter against the token stream on any text.
func FuzzCutter(f *testing.F) {
	for _, s := range append(append([]string{}, scannerCases...), crossingScripts...) {
		f.Add(s)
	}
	subst := &substitution{defines: map[string]string{"X": "5"}, from: 0}
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) || strings.IndexByte(src, 0) >= 0 {
			return
		}
		compareCutter(t, "fuzz", src, nil)
		compareCutter(t, "fuzz", src, subst)
	})
}
