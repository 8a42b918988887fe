package inlinecode

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.starlark.net/lib/math"
	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Kind classifies an Error the way Python names its exceptions.
type Kind string

const (
	SyntaxError    Kind = "SyntaxError"    // the snippet does not parse
	NameError      Kind = "NameError"      // a name is not defined
	AssertionError Kind = "AssertionError" // an assert statement failed
	RuntimeError   Kind = "RuntimeError"   // any other failure while running
)

// Error is a failure of a snippet, positioned at a line of the script.
type Error struct {
	File   string
	Line   int    // script line of the failing statement
	Kind   Kind   // what went wrong
	Msg    string // the assertion message, or the error text; may be empty
	Source string // the script line at Line, blanks trimmed; "" if unknown
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Kind)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// fileOptions are the Starlark dialect options closest to Python: top-level
// if/for/while, rebinding globals, sets and recursion.
var fileOptions = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
	Recursion:       true,
}

// maxSteps bounds the work of one snippet, so that a runaway loop fails
// instead of hanging the test.
const maxSteps = 1 << 28

// Evaluator runs the %{ }% snippets of one script. Each snippet runs when
// called, as its event happens, not all at the end as in the reference; the
// variables a snippet assigns persist into later snippets, as they do in the
// reference's single Python program.
type Evaluator struct {
	// Stdout receives what print writes; nil means os.Stdout.
	Stdout io.Writer

	globals  starlark.StringDict
	declared map[string]bool // names bound by snippets seen by Check
}

// New returns an Evaluator whose globals hold Constants and the helpers
// translated code uses.
func New() *Evaluator {
	e := &Evaluator{globals: starlark.StringDict{}, declared: map[string]bool{}}
	for k, v := range Constants {
		e.globals[k] = starlark.MakeUint64(v)
	}
	for k, v := range builtins(e) {
		e.globals[k] = v
	}
	return e
}

func (e *Evaluator) stdout() io.Writer {
	if e.Stdout == nil {
		return os.Stdout
	}
	return e.Stdout
}

// Exec runs one snippet. filename and line give the script position of the
// snippet's first line (the line of its "%{"); vars are bound as globals
// before it runs, replacing earlier values of the same names. A failure is
// an *Error.
func (e *Evaluator) Exec(filename string, line int, code string, vars Vars) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{File: filename, Line: line, Kind: RuntimeError, Msg: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	f, err := e.parse(filename, line, code)
	if err != nil {
		return err
	}
	for k, v := range vars {
		e.globals[k] = starlark.MakeUint64(v)
	}
	e.globals["_file"] = starlark.String(filename)
	e.globals["_line"] = starlark.MakeInt(line)

	thread := &starlark.Thread{
		Name:  filename,
		Print: func(_ *starlark.Thread, msg string) { fmt.Fprintln(e.stdout(), msg) },
	}
	thread.SetMaxExecutionSteps(maxSteps)
	if err := starlark.ExecREPLChunk(f, thread, e.globals); err != nil {
		return e.mapError(filename, line, code, err)
	}
	return nil
}

// Check compiles one snippet without running it and reports syntax errors
// and names that are neither bound by vars, Constants and the helpers, nor
// assigned by a snippet passed to Check or Exec before. It is for checking
// a script before running it; it changes no variable.
func (e *Evaluator) Check(filename string, line int, code string, vars Vars) error {
	f, err := e.parse(filename, line, code)
	if err != nil {
		return err
	}
	isGlobal := func(name string) bool {
		_, inVars := vars[name]
		return inVars || e.globals.Has(name) || e.declared[name] || name == "_file" || name == "_line"
	}
	if err := resolve.REPLChunk(f, isGlobal, starlark.StringDict(nil).Has, starlark.Universe.Has); err != nil {
		return e.mapError(filename, line, code, err)
	}
	for _, b := range f.Module.(*resolve.Module).Globals {
		e.declared[b.First.Name] = true
	}
	return nil
}

func (e *Evaluator) parse(filename string, line int, code string) (*syntax.File, error) {
	src, err := translate(code)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, e.newError(filename, line, code, se.line, SyntaxError, se.msg)
		}
		return nil, err
	}
	f, err := fileOptions.Parse(filename, src, 0)
	if err != nil {
		return nil, e.mapError(filename, line, code, err)
	}
	return f, nil
}

// newError makes an Error for line k (1-based) of the snippet.
func (e *Evaluator) newError(filename string, line int, code string, k int, kind Kind, msg string) *Error {
	if k < 1 {
		k = 1
	}
	src := ""
	if lines := strings.Split(code, "\n"); k <= len(lines) {
		src = strings.TrimSpace(lines[k-1])
	}
	return &Error{File: filename, Line: line + k - 1, Kind: kind, Msg: msg, Source: src}
}

// mapError converts a Starlark error to an *Error at the script line.
func (e *Evaluator) mapError(filename string, line int, code string, err error) error {
	var (
		synErr  syntax.Error
		resErrs resolve.ErrorList
		evalErr *starlark.EvalError
		failed  *assertionFailure
	)
	switch {
	case errors.As(err, &synErr):
		return e.newError(filename, line, code, int(synErr.Pos.Line), SyntaxError, synErr.Msg)
	case errors.As(err, &resErrs) && len(resErrs) > 0:
		first := resErrs[0]
		kind, msg := SyntaxError, first.Msg
		if name, ok := strings.CutPrefix(first.Msg, "undefined: "); ok {
			kind, msg = NameError, fmt.Sprintf("name '%s' is not defined", name)
		}
		if len(resErrs) > 1 {
			msg += fmt.Sprintf(" (and %d more errors)", len(resErrs)-1)
		}
		return e.newError(filename, line, code, int(first.Pos.Line), kind, msg)
	case errors.As(err, &evalErr):
		k := 0
		for i := range evalErr.CallStack {
			if pos := evalErr.CallStack.At(i).Pos; pos.Filename() == filename && pos.Line > 0 {
				k = int(pos.Line)
				break
			}
		}
		if errors.As(err, &failed) {
			return e.newError(filename, line, code, k, AssertionError, failed.msg)
		}
		return e.newError(filename, line, code, k, RuntimeError, evalErr.Msg)
	}
	return e.newError(filename, line, code, 1, RuntimeError, err.Error())
}

// assertionFailure is what the assert helper returns when its condition is
// false.
type assertionFailure struct{ msg string }

func (a *assertionFailure) Error() string {
	if a.msg == "" {
		return string(AssertionError)
	}
	return string(AssertionError) + ": " + a.msg
}

// builtins are the helpers bound in every Evaluator: the targets of the
// source rewrites, print with Python's keywords, Python builtins Starlark
// lacks, and the math module.
func builtins(e *Evaluator) starlark.StringDict {
	return starlark.StringDict{
		assertFunc: starlark.NewBuiltin(assertFunc, builtinAssert),
		formatFunc: starlark.NewBuiltin(formatFunc, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var format string
			var x starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &format, &x); err != nil {
				return nil, err
			}
			s, err := pyFormat(format, x)
			if err != nil {
				return nil, err
			}
			return starlark.String(s), nil
		}),
		"print":  starlark.NewBuiltin("print", e.builtinPrint),
		"hex":    starlark.NewBuiltin("hex", radix("0x", "%x")),
		"oct":    starlark.NewBuiltin("oct", radix("0o", "%o")),
		"bin":    starlark.NewBuiltin("bin", radix("0b", "%b")),
		"round":  starlark.NewBuiltin("round", builtinRound),
		"pow":    starlark.NewBuiltin("pow", builtinPow),
		powFunc:  starlark.NewBuiltin("pow", builtinPow),
		"sum":    starlark.NewBuiltin("sum", builtinSum),
		"divmod": starlark.NewBuiltin("divmod", builtinDivmod),
		"math":   math.Module,
	}
}

// builtinAssert is the target of "assert cond[, msg]": msg, when given, is
// a function so that it is evaluated only on failure, as in Python.
func builtinAssert(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cond, msg starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &cond, &msg); err != nil {
		return nil, err
	}
	if cond.Truth() {
		return starlark.None, nil
	}
	if msg == nil {
		return nil, &assertionFailure{}
	}
	v, err := starlark.Call(thread, msg, nil, nil)
	if err != nil {
		return nil, err
	}
	return nil, &assertionFailure{msg: str(v)}
}

// builtinPrint is Python 3's print(*args, sep=' ', end='\n', file=None,
// flush=False); file is ignored.
func (e *Evaluator) builtinPrint(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	sep, end := " ", "\n"
	for _, kv := range kwargs {
		k := string(kv[0].(starlark.String))
		switch k {
		case "sep", "end":
			s := ""
			if kv[1] != starlark.None {
				v, ok := starlark.AsString(kv[1])
				if !ok {
					return nil, fmt.Errorf("print: %s must be None or a string, not %s", k, kv[1].Type())
				}
				s = v
			} else if k == "sep" {
				s = " "
			} else {
				s = "\n"
			}
			if k == "sep" {
				sep = s
			} else {
				end = s
			}
		case "file", "flush":
		default:
			return nil, fmt.Errorf("print: unexpected keyword argument %s", k)
		}
	}
	var sb strings.Builder
	for i, a := range args {
		if i > 0 {
			sb.WriteString(sep)
		}
		sb.WriteString(str(a))
	}
	sb.WriteString(end)
	_, err := io.WriteString(e.stdout(), sb.String())
	return starlark.None, err
}
