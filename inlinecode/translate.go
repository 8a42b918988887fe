package inlinecode

import (
	"strings"
)

// Names of the helpers that translated code calls. They are bound in every
// Evaluator's globals; the double underscores keep them out of the way of
// script variables.
const (
	assertFunc = "__assert__"
	formatFunc = "__pyformat__"
	powFunc    = "__pow__"
)

// translate rewrites a Python snippet into Starlark with the same line
// structure: the statement that starts on line k of code also starts on line
// k of the result, so Starlark positions map straight back to the script.
//
// The rewrites are the ones packetdrill scripts need:
//
//   - assert EXPR[, MSG]      -> __assert__(EXPR[, lambda: (MSG)])
//   - a < b <= c              -> ((a < b) and (b <= c))
//   - 'fmt' % args            -> __pyformat__('fmt', args) (Python's % formatting)
//   - 'a' 'b'                 -> ('a' + 'b')
//   - a ** b                  -> __pow__(a, b)
//   - x is None, x is not y   -> x == None, x != y
//   - import math, import sys -> pass (math is predeclared)
//
// Indentation common to all lines is removed; tabs count to the next
// multiple of 8 as in Python.
func translate(code string) (string, error) {
	lines, err := scan(code)
	if err != nil {
		return "", err
	}
	dedent(lines)

	var w writer
	for _, ll := range lines {
		toks := ll.toks[:len(ll.toks)-1] // drop the newline
		w.startLine(ll.indent, toks[0].line)
		for _, n := range rewriteLine(toks) {
			n.emit(&w)
		}
	}
	w.b.WriteByte('\n')
	return w.b.String(), nil
}

// dedent removes the indentation shared by all logical lines. The reference
// strips blanks before the first line only, so a first line that opens a
// block (ends in ':') keeps its body's indentation as is.
func dedent(lines []logicalLine) {
	if len(lines) == 0 {
		return
	}
	first := 0
	if lines[0].toks[0].line == 1 {
		lines[0].indent = 0
		first = 1
		toks := lines[0].toks
		if len(toks) >= 2 && toks[len(toks)-2].is(tOp, ":") {
			return
		}
	}
	minIndent := -1
	for _, ll := range lines[first:] {
		if minIndent < 0 || ll.indent < minIndent {
			minIndent = ll.indent
		}
	}
	for i := first; i < len(lines); i++ {
		lines[i].indent -= minIndent
	}
}

// writer emits tokens, keeping each token on its original line by breaking
// lines with backslash continuations where needed.
type writer struct {
	b    strings.Builder
	line int // current output line, 1-based
	mid  bool
}

func (w *writer) startLine(indent, line int) {
	if w.line == 0 {
		w.line = 1
	}
	if w.mid {
		w.b.WriteByte('\n')
		w.line++
	}
	for w.line < line {
		w.b.WriteByte('\n')
		w.line++
	}
	w.b.WriteString(strings.Repeat(" ", indent))
	w.mid = false
}

func (w *writer) token(text string, line int) {
	for line > w.line {
		w.b.WriteString(" \\\n")
		w.line++
	}
	if w.mid {
		w.b.WriteByte(' ')
	}
	w.b.WriteString(text)
	w.line += strings.Count(text, "\n")
	w.mid = true
}

// node is a token or a bracketed group of nodes.
type node struct {
	tok   token
	group []node // children, when open is set
	open  *token
	close token
}

func leaf(text string, line int) node { return node{tok: token{tOp, text, line}} }

func name(text string, line int) node { return node{tok: token{tName, text, line}} }

// paren wraps nodes in synthetic parentheses.
func paren(nodes ...node) node {
	open := token{tOp, "(", 0}
	return node{group: nodes, open: &open, close: token{tOp, ")", 0}}
}

func (n node) isGroup() bool { return n.open != nil }

func (n node) isTok(kind tokKind, text string) bool { return !n.isGroup() && n.tok.is(kind, text) }

func (n node) isOp(text string) bool { return n.isTok(tOp, text) }

func (n node) isKeyword(text string) bool { return n.isTok(tName, text) }

// line is the first source line of n, or 0 if it is synthetic.
func (n node) line() int {
	if n.isGroup() {
		if n.open.line != 0 {
			return n.open.line
		}
		for _, c := range n.group {
			if l := c.line(); l != 0 {
				return l
			}
		}
		return 0
	}
	return n.tok.line
}

func (n node) emit(w *writer) {
	if !n.isGroup() {
		w.token(n.tok.text, n.tok.line)
		return
	}
	w.token(n.open.text, n.open.line)
	for _, c := range n.group {
		c.emit(w)
	}
	w.token(n.close.text, n.close.line)
}

// tree groups tokens by brackets. scan has checked that brackets balance
// in count; a mismatched closer is left for the Starlark parser to report.
func tree(toks []token) ([]node, []token) {
	var out []node
	for len(toks) > 0 {
		t := toks[0]
		toks = toks[1:]
		if t.kind == tOp {
			switch t.text {
			case "(", "[", "{":
				var kids []node
				kids, toks = tree(toks)
				n := node{group: kids, open: &t}
				if len(toks) > 0 {
					n.close = toks[0]
					toks = toks[1:]
				}
				out = append(out, n)
				continue
			case ")", "]", "}":
				return out, append([]token{t}, toks...)
			}
		}
		out = append(out, node{tok: t})
	}
	return out, nil
}

// rewriteLine translates one logical line.
func rewriteLine(toks []token) []node {
	nodes, _ := tree(toks)
	var out []node
	// Split into simple statements at top-level ';' and at the ':' that ends
	// a compound statement header (if x: assert y).
	compound := len(nodes) > 0 && isCompoundKeyword(nodes[0])
	start := 0
	for i := 0; i <= len(nodes); i++ {
		end := i == len(nodes)
		if !end && !nodes[i].isOp(";") && !(compound && nodes[i].isOp(":")) {
			continue
		}
		out = append(out, rewriteStmt(nodes[start:i])...)
		if !end {
			out = append(out, nodes[i])
			if nodes[i].isOp(":") {
				compound = false
			}
		}
		start = i + 1
	}
	return out
}

func isCompoundKeyword(n node) bool {
	for _, k := range []string{"if", "elif", "else", "while", "for", "def"} {
		if n.isKeyword(k) {
			return true
		}
	}
	return false
}

// rewriteStmt translates one simple statement (or a compound header).
func rewriteStmt(nodes []node) []node {
	if len(nodes) == 0 {
		return nil
	}
	if nodes[0].isKeyword("import") && onlyKnownModules(nodes[1:]) {
		return []node{name("pass", nodes[0].tok.line)}
	}
	if !nodes[0].isKeyword("assert") {
		return rewriteExpr(nodes)
	}
	line := nodes[0].tok.line
	rest := nodes[1:]
	cond, msg := rest, []node(nil)
	for i, n := range rest {
		if n.isOp(",") {
			cond, msg = rest[:i], rest[i+1:]
			break
		}
	}
	args := rewriteExpr(cond)
	if msg != nil {
		args = append(args, leaf(",", 0), name("lambda", 0), leaf(":", 0), paren(rewriteExpr(msg)...))
	}
	call := paren(args...)
	call.open.line = line
	return []node{name(assertFunc, line), call}
}

func onlyKnownModules(nodes []node) bool {
	for _, n := range nodes {
		if n.isOp(",") || n.isKeyword("math") || n.isKeyword("sys") {
			continue
		}
		return false
	}
	return len(nodes) > 0
}

// rewriteExpr applies the expression rewrites to a node list, recursing
// into groups.
func rewriteExpr(nodes []node) []node {
	var out []node
	for _, n := range nodes {
		if n.isGroup() {
			n.group = rewriteExpr(n.group)
		}
		out = append(out, n)
	}
	out = concatStrings(out)
	out = rewritePower(out)
	out = rewriteFormat(out)
	return rewriteComparisons(out)
}

// concatStrings turns Python's implicit concatenation of adjacent string
// literals into explicit '+'.
func concatStrings(nodes []node) []node {
	var out []node
	for i := 0; i < len(nodes); i++ {
		j := i
		for j < len(nodes) && nodes[j].isGroup() == false && nodes[j].tok.kind == tString {
			j++
		}
		if j-i < 2 {
			out = append(out, nodes[i])
			continue
		}
		var kids []node
		for k := i; k < j; k++ {
			if k > i {
				kids = append(kids, leaf("+", 0))
			}
			kids = append(kids, nodes[k])
		}
		out = append(out, paren(kids...))
		i = j - 1
	}
	return out
}

// rewritePower turns a ** b, which Starlark lacks, into a call. The left
// operand is a primary (an atom and its trailers: -2**2 is -(2**2)); the
// right one a unary expression, so that a ** b ** c nests to the right.
func rewritePower(nodes []node) []node {
	for i := 1; i < len(nodes)-1; i++ {
		if !nodes[i].isOp("**") {
			continue
		}
		start := primaryStart(nodes, i-1)
		end := operandEnd(nodes, i+1)
		if end == i+1 {
			continue
		}
		args := append([]node{}, nodes[start:i]...)
		args = append(args, leaf(",", 0))
		args = append(args, rewritePower(nodes[i+1:end])...)
		repl := []node{name(powFunc, nodes[start].line()), paren(args...)}
		rest := append(repl, nodes[end:]...)
		nodes = append(nodes[:start:start], rest...)
		i = start + 1
	}
	return nodes
}

// primaryStart returns where the primary expression ending at nodes[j]
// begins.
func primaryStart(nodes []node, j int) int {
	for j > 0 {
		n := nodes[j]
		switch {
		case !n.isGroup() && n.tok.kind == tName && nodes[j-1].isOp("."):
			j -= 2
		case n.isGroup() && n.open.text != "{" && isAtomEnd(nodes[j-1]):
			j--
		default:
			return j
		}
	}
	return j
}

func isAtomEnd(n node) bool {
	if n.isGroup() {
		return true
	}
	switch n.tok.kind {
	case tNumber, tString:
		return true
	case tName:
		return !isBoundaryKeyword(n.tok.text)
	}
	return false
}

func isStringNode(n node) bool {
	if !n.isGroup() {
		return n.tok.kind == tString
	}
	// A group made by concatStrings.
	return n.open.line == 0 && n.open.text == "(" && len(n.group) > 0 && isStringNode(n.group[0])
}

// rewriteFormat turns "string-literal % operand" into a call to the Python
// %-formatting helper, since Starlark's % knows no widths or flags. The
// operand is what Python's grammar allows right of '%': unary operators,
// an atom, then trailers ('.name', calls, subscripts) and '**' powers.
func rewriteFormat(nodes []node) []node {
	var out []node
	for i := 0; i < len(nodes); i++ {
		n := nodes[i]
		if !(isStringNode(n) && i+2 < len(nodes) && nodes[i+1].isOp("%")) {
			out = append(out, n)
			continue
		}
		// Python's '%' is left-associative with '*', '/', '//': don't
		// rewrite when the string is itself a right operand of those.
		if len(out) > 0 && !out[len(out)-1].isGroup() && out[len(out)-1].tok.kind == tOp {
			switch out[len(out)-1].tok.text {
			case "*", "/", "//", "%", "@", "**", ".":
				out = append(out, n)
				continue
			}
		}
		j := operandEnd(nodes, i+2)
		if j == i+2 {
			out = append(out, n)
			continue
		}
		args := []node{n, leaf(",", 0)}
		args = append(args, nodes[i+2:j]...)
		call := paren(args...)
		out = append(out, name(formatFunc, n.line()), call)
		i = j - 1
	}
	return out
}

// operandEnd returns the end of the unary expression (a power operand) that
// starts at nodes[i].
func operandEnd(nodes []node, i int) int {
	for i < len(nodes) && (nodes[i].isOp("-") || nodes[i].isOp("+") || nodes[i].isOp("~")) {
		i++
	}
	if i >= len(nodes) {
		return i
	}
	a := nodes[i]
	if !a.isGroup() && a.tok.kind == tOp {
		return i
	}
	if !a.isGroup() && a.tok.kind == tName && isBoundaryKeyword(a.tok.text) {
		return i
	}
	i++
	for i < len(nodes) {
		n := nodes[i]
		switch {
		case n.isOp(".") && i+1 < len(nodes):
			i += 2
		case n.isGroup() && (n.open.text == "(" || n.open.text == "["):
			i++
		case n.isOp("**"):
			i = operandEnd(nodes, i+1)
		default:
			return i
		}
	}
	return i
}

// isBoundaryKeyword reports whether a keyword ends a comparison operand:
// everything of lower precedence than comparisons, plus statement keywords.
func isBoundaryKeyword(s string) bool {
	switch s {
	case "and", "or", "not", "if", "else", "elif", "lambda", "for", "while",
		"return", "assert", "yield", "del", "pass", "break", "continue",
		"import", "from", "as", "with", "global", "nonlocal", "def", "in", "is":
		return true
	}
	return false
}

func isBoundaryOp(s string) bool {
	switch s {
	case ",", ";", ":", "=", ":=", "->",
		"+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "|=", "^=", "@=":
		return true
	}
	return false
}

// compOp recognizes a comparison operator at nodes[i]; it returns the
// Starlark spelling and the number of nodes it spans, or n == 0.
func compOp(nodes []node, i int, afterFor bool) (op []node, n int) {
	t := nodes[i]
	if t.isGroup() {
		return nil, 0
	}
	switch {
	case t.tok.kind == tOp:
		switch t.tok.text {
		case "<", ">", "==", ">=", "<=", "!=":
			return []node{t}, 1
		case "<>":
			return []node{leaf("!=", t.tok.line)}, 1
		}
	case t.isKeyword("in") && !afterFor:
		return []node{t}, 1
	case t.isKeyword("not") && i+1 < len(nodes) && nodes[i+1].isKeyword("in"):
		return []node{t, nodes[i+1]}, 2
	case t.isKeyword("is"):
		if i+1 < len(nodes) && nodes[i+1].isKeyword("not") {
			return []node{leaf("!=", t.tok.line)}, 2
		}
		return []node{leaf("==", t.tok.line)}, 1
	}
	return nil, 0
}

// rewriteComparisons expands chained comparisons a < b < c into
// (a < b) and (b < c), which Starlark requires, and maps 'is' to '=='.
// The middle operands are evaluated twice; packetdrill snippets compare
// plain values, for which that is harmless.
func rewriteComparisons(nodes []node) []node {
	var out []node
	var seg []node // the current expression segment
	var operands [][]node
	var ops [][]node
	afterFor := false

	flush := func() {
		operands = append(operands, seg)
		seg = nil
		if len(ops) == 0 {
			out = append(out, operands[0]...)
		} else if len(ops) == 1 {
			out = append(out, operands[0]...)
			out = append(out, ops[0]...)
			out = append(out, operands[1]...)
		} else {
			var kids []node
			for k, op := range ops {
				if k > 0 {
					kids = append(kids, name("and", 0))
				}
				pair := append(append(append([]node{}, operands[k]...), op...), operands[k+1]...)
				kids = append(kids, paren(pair...))
			}
			out = append(out, paren(kids...))
		}
		operands, ops = nil, nil
	}

	for i := 0; i < len(nodes); i++ {
		n := nodes[i]
		if op, k := compOp(nodes, i, afterFor); k > 0 {
			operands = append(operands, seg)
			seg = nil
			ops = append(ops, op)
			i += k - 1
			continue
		}
		boundary := false
		if !n.isGroup() {
			switch n.tok.kind {
			case tOp:
				boundary = isBoundaryOp(n.tok.text)
			case tName:
				boundary = isBoundaryKeyword(n.tok.text)
			}
		}
		if boundary {
			flush()
			out = append(out, n)
			if n.isKeyword("for") {
				afterFor = true
			} else if n.isKeyword("in") {
				afterFor = false
			}
			continue
		}
		seg = append(seg, n)
	}
	flush()
	return out
}
