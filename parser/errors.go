package parser

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// maxErrors is how many errors a parse collects before it gives up.
const maxErrors = 10

// Error is one problem found in a script.
type Error struct {
	Pos  Pos
	Msg  string
	Line string // the source line holding Pos, without its newline
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Detail returns the error followed by the offending source line and a caret
// under the column, as shown to users.
func (e *Error) Detail() string {
	var b strings.Builder
	b.WriteString(e.Error())
	if e.Line == "" && e.Pos.Col == 0 {
		return b.String()
	}
	b.WriteString("\n")
	b.WriteString(e.Line)
	if e.Pos.Col > 0 {
		b.WriteString("\n" + caretUnder(e.Line, e.Pos.Col))
	}
	return b.String()
}

// ErrorList is a list of parse errors; Parse returns one as its error.
type ErrorList []*Error

// Add appends an error at pos.
func (l *ErrorList) Add(pos Pos, msg string) {
	*l = append(*l, &Error{Pos: pos, Msg: msg})
}

// Sort orders the list by position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Err returns the list as an error, or nil when it is empty (never a typed
// nil).
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Detail returns every error in the long form of (*Error).Detail, one after
// another.
func (l ErrorList) Detail() string {
	var parts []string
	for _, e := range l {
		parts = append(parts, e.Detail())
	}
	return strings.Join(parts, "\n")
}

// FormatError returns the long form of err: for parse errors, each error
// with its source line and a caret; for any other error, err.Error().
func FormatError(err error) string {
	var list ErrorList
	if errors.As(err, &list) {
		return list.Detail()
	}
	var one *Error
	if errors.As(err, &one) {
		return one.Detail()
	}
	return err.Error()
}
