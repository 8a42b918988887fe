package runtime

import (
	"io"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/inlinecode"
)

// codeRunner evaluates each snippet at its own event with TCP_INFO of the
// socket under test bound as tcpi_* variables. The reference defers all
// snippets to the end of the script; failing at the snippet's own line is
// more useful, and the variables are the same snapshot either way.
type codeRunner struct {
	ev *inlinecode.Evaluator
}

func newCodeRunner(out io.Writer) CodeRunner {
	ev := inlinecode.New()
	ev.Stdout = out
	return &codeRunner{ev: ev}
}

func (c *codeRunner) Exec(file string, line int, code string, info *unix.TCPInfo) error {
	vars := inlinecode.Vars{}
	if info != nil {
		vars = inlinecode.TCPInfoVars(info)
	}
	return c.ev.Exec(file, line, code, vars)
}
