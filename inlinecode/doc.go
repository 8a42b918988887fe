// Package inlinecode runs the %{ ... }% Python snippets of packetdrill
// scripts.
//
// The reference (packetdrill's code.c) snapshots TCP_INFO, TCP_CC_INFO and
// SO_MEMINFO of the socket under test at each code event and, at the end of
// the script, runs all snippets as one python3 program with the snapshot
// values bound as variables. godrill instead runs each snippet at its event
// in an embedded Starlark interpreter (go.starlark.net): an Evaluator keeps
// the globals of one script, so a variable a snippet assigns is seen by the
// later ones, and the snapshot variables (Vars, from TCPInfoVars,
// CCInfoVars and MemInfoVars) are rebound before each snippet.
//
// Snippets are translated from the Python that scripts use into Starlark
// first: assert statements, chained comparisons, %-formatting with widths
// and flags, implicit string concatenation, **, 'is'; see translate.
// Python 3's print, hex, oct, bin, round, pow, sum, divmod and the math
// module are provided.
package inlinecode
