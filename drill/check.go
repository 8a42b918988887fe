package drill

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/godrill/godrill/inlinecode"
	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
)

// checkScript parses a script and checks what would make the run fail as
// the script's fault before the kernel is asked anything: system calls
// godrill does not know (a typo such as wrte) and %{ }% code that does not
// parse. The error is a parser.ErrorList, so it prints with line and caret.
func checkScript(path string, defines map[string]string) (*parser.Script, error) {
	s, err := parser.ParseFile(path, parser.Options{Defines: defines})
	if err != nil {
		return nil, err
	}
	var errs parser.ErrorList
	add := func(pos parser.Pos, msg string) {
		errs = append(errs, &parser.Error{Pos: pos, Msg: msg, Line: sourceLine(s.Source, pos.Line)})
	}
	known := runtime.SyscallNames()
	code := inlinecode.New()
	for _, ev := range s.Events {
		switch {
		case ev.Syscall != nil:
			sc := ev.Syscall
			if _, ok := slices.BinarySearch(known, sc.Name); ok || pspSyscalls[sc.Name] {
				continue
			}
			msg := fmt.Sprintf("unknown system call %s", sc.Name)
			if near := closest(sc.Name, known); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			add(sc.Pos, msg)
		case ev.Code != nil:
			err := code.Check(s.File, ev.Code.Pos.Line, ev.Code.Text, nil)
			var ce *inlinecode.Error
			// Names are bound only as the run goes (tcpi_* from the
			// kernel), so only syntax is checked here.
			if errors.As(err, &ce) && ce.Kind == inlinecode.SyntaxError {
				msg := "syntax error in %{ }% code"
				if ce.Msg != "" {
					msg += ": " + ce.Msg
				}
				add(parser.Pos{File: s.File, Line: ce.Line, Col: codeCol(s.Source, ce.Line, ce.Source)}, msg)
			}
		}
	}
	if len(errs) > 0 {
		return s, errs
	}
	return s, nil
}

// sourceLine is line n (from 1) of src, without its newline.
func sourceLine(src []byte, n int) string {
	i := 0
	for line := range strings.Lines(string(src)) {
		if i++; i == n {
			return strings.TrimRight(line, "\r\n")
		}
	}
	return ""
}

// codeCol is the column where the snippet's text starts on line n.
func codeCol(src []byte, n int, text string) int {
	line := sourceLine(src, n)
	if text != "" {
		if i := strings.Index(line, text); i >= 0 {
			return i + 1
		}
	}
	if i := strings.Index(line, "%{"); i >= 0 {
		return i + 1
	}
	return 0
}
