package docs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godrill/godrill/drill"
	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/tun"
)

func TestMain(m *testing.M) {
	drill.SandboxMain()
	os.Exit(m.Run())
}

// block is one fenced block of a Markdown file.
type block struct {
	file string
	line int    // line of the opening fence
	info string // the fence's info string ("pkt exit=0")
	text string
}

// fences reads the fenced blocks of a Markdown file.
func fences(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []block
		cur    *block
		body   strings.Builder
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &block{file: path, line: n, info: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
			body.Reset()
		case cur != nil && trimmed == "```":
			cur.text = body.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: fence never closed", path, cur.line)
	}
	return blocks
}

var exitRE = regexp.MustCompile(`^exit=(\d)$`)

// verdict reads "pkt exit=N" (and optional flags such as
// --ip_version=ipv6) from a fence.
func verdict(info string) (exit int, args []string, err error) {
	f := strings.Fields(info)
	exit = -1
	for _, w := range f[1:] {
		switch m := exitRE.FindStringSubmatch(w); {
		case m != nil:
			exit, _ = strconv.Atoi(m[1])
		case strings.HasPrefix(w, "--"):
			args = append(args, w)
		default:
			return 0, nil, fmt.Errorf("unknown word %q in the fence (want exit=N or --flag=value)", w)
		}
	}
	if exit < 0 {
		return 0, nil, fmt.Errorf("fence %q gives no verdict (add exit=0, exit=1 or exit=2)", info)
	}
	return exit, args, nil
}

// docFiles are README.md and every docs/*.md.
func docFiles(t *testing.T) []string {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join("..", "README.md")}, files...)
}

// TestDocScripts runs every ```pkt block with the verdict its fence
// gives. Blocks with no info string that parse as a script are errors:
// a script in the docs must say what it does. Parsing needs no root; the
// runs skip without root and /dev/net/tun.
func TestDocScripts(t *testing.T) {
	preflight := tun.Preflight()
	n := 0
	for _, file := range docFiles(t) {
		for _, b := range fences(t, file) {
			name := fmt.Sprintf("%s:%d", filepath.Base(b.file), b.line)
			if !strings.HasPrefix(b.info, "pkt") {
				if b.info == "" && looksLikeScript(b.text) {
					t.Errorf("%s: this block parses as a script: fence it ```pkt exit=N so the doc test runs it", name)
				}
				continue
			}
			n++
			want, args, err := verdict(b.info)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			path := filepath.Join(t.TempDir(), strings.ReplaceAll(name, ":", "-")+".pkt")
			if err := os.WriteFile(path, []byte(b.text), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Run(name, func(t *testing.T) {
				_, perr := parser.ParseFile(path, parser.Options{})
				if perr != nil {
					if want != 2 {
						t.Fatalf("does not parse (the fence says exit=%d):\n%s", want, parser.FormatError(perr))
					}
					return
				}
				if preflight != nil {
					t.Skipf("parsed; cannot run it against the kernel here: %v", preflight)
				}
				res, err := drill.Run(context.Background(), path, drill.Options{Args: args, Timeout: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Exit(); got != want {
					t.Errorf("exit %d, the fence says exit=%d:\n%s", got, want, res.Output)
				}
			})
		}
	}
	if n == 0 {
		t.Fatal("no ```pkt blocks found in README.md and docs/")
	}
}

// looksLikeScript reports whether a block is a script that parses (with at
// least one event); command lines, output and diagrams do not.
func looksLikeScript(text string) bool {
	dir, err := os.MkdirTemp("", "doccheck")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "b.pkt")
	os.WriteFile(p, []byte(text), 0o644)
	s, err := parser.ParseFile(p, parser.Options{})
	return err == nil && len(s.Events) > 0
}
