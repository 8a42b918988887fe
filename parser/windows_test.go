package parser

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// splits are the ways of cutting a script the parallel parser is checked
// with: each window its own batch, a few windows, and the default.
var splits = []split{{0, 1}, {0, 7}, {0, 64}, {0, defaultSplit.batchBytes}}

var sequential = split{parallelBytes: 1 << 62}

// compareSplits parses src in order and in parallel under each of splits:
// the trees (positions included) and the errors must be the same.
func compareSplits(t *testing.T, name string, src []byte, opts Options) {
	t.Helper()
	want, werr := parse(name, src, opts, sequential)
	for _, sp := range splits {
		got, gerr := parse(name, src, opts, sp)
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
