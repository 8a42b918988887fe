package parser

// Quote returns the source line holding pos and, when pos has a column,
// the caret line that marks it: spaces, with the line's tabs kept so the
// caret lines up under tab-indented text. Parse errors and runtime
// failures both show a script line this way.
func Quote(src []byte, pos Pos) (line, caret string) {
	line = sourceLine(src, pos.Line)
	return line, caretUnder(line, pos.Col)
}

// caretUnder is the caret line for column col (1-based) of line, or ""
// for col 0 (unknown).
func caretUnder(line string, col int) string {
	if col < 1 {
		return ""
	}
	b := make([]byte, 0, col)
	for i, r := range []rune(line) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b = append(b, '\t')
		} else {
			b = append(b, ' ')
		}
	}
	return string(append(b, '^'))
}
