package inlinecode

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// extractSnippets finds the %{ ... }% blocks of a script the simple way, as
// the reference's lexer does: from "%{" to the next "}%". Snippets inside
// // and /* */ comments are skipped. Each comes with its script line.
func extractSnippets(src string) []snippet {
	var out []snippet
	line := 1
	for i := 0; i < len(src); i++ {
		switch {
		case src[i] == '\n':
			line++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return out
			}
			line += strings.Count(src[i:i+2+end+2], "\n")
			i += 2 + end + 1
		case strings.HasPrefix(src[i:], "%{"):
			end := strings.Index(src[i+2:], "}%")
			if end < 0 {
				return out
			}
			code := src[i+2 : i+2+end]
			out = append(out, snippet{line, code})
			line += strings.Count(code, "\n")
			i += 2 + end + 1
		}
	}
	return out
}

// plausibleVars is a snapshot of an established connection in recovery,
// as a dry run's stand-in for the socket under test.
func plausibleVars() Vars {
	info := unix.TCPInfo{
		State: 1, Ca_state: 3, Options: 0x27, Rto: 200000, Ato: 40000,
		Snd_mss: 1000, Rcv_mss: 1000, Unacked: 2, Sacked: 1, Lost: 1,
		Pmtu: 1500, Rcv_ssthresh: 64000, Rtt: 10000, Rttvar: 5000, Snd_ssthresh: 7,
		Snd_cwnd: 10, Advmss: 1460, Reordering: 3, Rcv_space: 14600,
		Pacing_rate: 1e6, Max_pacing_rate: ^uint64(0), Delivered: 3, Min_rtt: 10000,
	}
	return Vars{}.Merge(TCPInfoVars(&info), CCInfoVars(make([]byte, 20)), MemInfoVars(make([]uint32, unix.SK_MEMINFO_VARS)))
}

// TestCorpus checks every snippet of the *.pkt files under the directories
// of $GODRILL_CORPUS_DIRS (colon-separated): statically, each file's
// snippets in order must compile with all names resolved; dynamically, run
// in one Evaluator per file against plausibleVars, they must fail, if at
// all, only on asserts.
func TestCorpus(t *testing.T) {
	dirs := os.Getenv("GODRILL_CORPUS_DIRS")
	if dirs == "" {
		t.Skip("set GODRILL_CORPUS_DIRS to colon-separated directories of .pkt scripts to check their %{ }% snippets")
	}
	var files, total, checked, ran, asserts int
	for _, dir := range strings.Split(dirs, ":") {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pkt") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			snippets := extractSnippets(string(src))
			if len(snippets) == 0 {
				return nil
			}
			files++
			vars := plausibleVars()
			static, dynamic := New(), New()
			dynamic.Stdout = io.Discard
			for _, s := range snippets {
				total++
				if err := static.Check(path, s.line, s.code, vars); err != nil {
					t.Errorf("check: %v\n\t%q", err, s.code)
				} else {
					checked++
				}
				err := dynamic.Exec(path, s.line, s.code, vars)
				var ce *Error
				switch {
				case err == nil:
					ran++
				case errors.As(err, &ce) && ce.Kind == AssertionError:
					ran++
					asserts++
				default:
					t.Errorf("run: %v\n\t%q", err, s.code)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d files: %d of %d snippets compile with all names resolved; %d of %d run (%d of them stop on a failed assert with dry-run values)",
		files, checked, total, ran, total, asserts)
}

func TestExtractSnippets(t *testing.T) {
	src := "0 socket(...) = 3\n// %{ not this }%\n/* nor\n%{ this }% */\n+0 %{ assert a == 1\n}%\n+0 %{ b }%\n"
	got := extractSnippets(src)
	want := []snippet{{5, " assert a == 1\n"}, {7, " b "}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("extractSnippets = %+v, want %+v", got, want)
	}
}
