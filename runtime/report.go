package runtime

import (
	"fmt"
	"strings"
	"time"

	"github.com/godrill/godrill/parser"
)

// FailKind classifies a failure.
type FailKind int

const (
	FailOther   FailKind = iota
	FailPacket           // an outbound packet differed or never came
	FailTiming           // an event happened outside its tolerance
	FailSyscall          // a system call returned something else
	FailCommand          // a shell command failed
	FailCode             // inline code failed
	FailScript           // the script itself is wrong in a way only running shows
)

// FieldDiff is one row of a field-by-field comparison.
type FieldDiff struct {
	Field    string
	Expected string
	Actual   string
	Differs  bool
}

// Failure is a script step the kernel (or the system) did not do as
// scripted. Error() is the reference's one-line form.
type Failure struct {
	Pos    parser.Pos
	Kind   FailKind
	Msg    string // without the "file:line: " prefix
	Script string // "script packet:  0.200622 . 1:1(0) ack 3"
	Actual string // "actual packet:  0.203782 . 1:1(0) ack 2 win 63"
	Diff   []FieldDiff
	// Hint lines follow the caret: what probably happened, in the
	// script's terms.
	Hint []string
	// Field names the field the caret points at when there is no Diff.
	Field string
	// noLine drops the line number (the reference does so for init commands).
	noLine bool
}

func (f *Failure) Error() string {
	var b strings.Builder
	if f.noLine {
		fmt.Fprintf(&b, "%s: %s", f.Pos.File, f.Msg)
	} else {
		fmt.Fprintf(&b, "%s:%d: %s", f.Pos.File, f.Pos.Line, f.Msg)
	}
	if f.Script != "" {
		b.WriteString("\n" + f.Script)
	}
	if f.Actual != "" {
		b.WriteString("\n" + f.Actual)
	}
	return b.String()
}

// Report is the full report: the reference's lines, then the script line
// with a caret and, for packets, a table of every field compared.
func (f *Failure) Report(src []byte) string {
	var b strings.Builder
	b.WriteString(f.Error())
	b.WriteString("\n")
	if line := sourceLine(src, f.Pos.Line); line != "" && !f.noLine {
		col := f.Pos.Col
		if c := fieldCol(line, f.Field); f.Field != "" && c > 0 {
			col = c
		}
		for _, d := range f.Diff {
			if d.Differs {
				// Point at the first field that differs.
				if c := fieldCol(line, d.Field); c > 0 {
					col = c
				}
				break
			}
		}
		if col < 1 {
			col = 1
		}
		fmt.Fprintf(&b, "\n%s:%d:%d:\n    %s\n", f.Pos.File, f.Pos.Line, col, line)
		b.WriteString("    " + caretPad(line, col-1) + "^\n")
		for _, h := range append(f.Hint, diffHints(line, f.Diff)...) {
			b.WriteString(h + "\n")
		}
	} else if len(f.Hint) > 0 {
		b.WriteString("\n" + strings.Join(f.Hint, "\n") + "\n")
	}
	if len(f.Diff) > 0 {
		b.WriteString("\n" + FormatDiff(f.Diff))
	}
	return b.String()
}

// FormatDiff aligns field, script and kernel values in columns and marks
// the rows that differ.
func FormatDiff(rows []FieldDiff) string {
	w := [3]int{len("field"), len("script expected"), len("kernel sent")}
	for _, r := range rows {
		w[0] = max(w[0], len(r.Field))
		w[1] = max(w[1], len(r.Expected))
		w[2] = max(w[2], len(r.Actual))
	}
	var b strings.Builder
	line := func(mark, a, c, d string) {
		fmt.Fprintf(&b, "  %s %-*s  %-*s  %s\n", mark, w[0], a, w[1], c, d)
	}
	line(" ", "field", "script expected", "kernel sent")
	line(" ", strings.Repeat("-", w[0]), strings.Repeat("-", w[1]), strings.Repeat("-", w[2]))
	for _, r := range rows {
		mark := " "
		if r.Differs {
			mark = "✗"
		}
		line(mark, r.Field, r.Expected, r.Actual)
	}
	return b.String()
}

func sourceLine(src []byte, n int) string {
	if n < 1 {
		return ""
	}
	lines := strings.Split(string(src), "\n")
	if n > len(lines) {
		return ""
	}
	return strings.TrimRight(lines[n-1], "\r")
}

// caretPad keeps tabs so the caret lines up under the column.
func caretPad(line string, n int) string {
	var b strings.Builder
	for i := 0; i < n && i < len(line); i++ {
		if line[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// EventRecord is what observers learn about one event.
type EventRecord struct {
	Index      int
	Pos        parser.Pos
	Kind       string // "inbound", "outbound", "syscall", "command", "code"
	ScriptTime time.Duration
	ActualTime time.Duration
	Summary    string // packet in script syntax, or the call
	Result     string // syscall result
	PrevState  string
	State      string // kernel TCP state after the event, "" when unknown
	Verdict    string // "ok" or "fail"
	Error      string
}
