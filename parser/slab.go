package parser

import "github.com/alecthomas/participle/v2/lexer"

// slab hands out values of T from chunks: a big script's many small nodes
// are then a few allocations. A chunk lives as long as any of its values.
type slab[T any] struct{ free []T }

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, 64)
	}
	v := &s.free[0]
	s.free = s.free[1:]
	return v
}

// slabs are a parser's slabs of the nodes most scripts are made of.
type slabs struct {
	events   slab[Event]
	syscalls slab[Syscall]
	words    slab[Word]
	ints     slab[IntLit]
	lists    slab[ListExpr]
	exprs    []Expr // backing arrays of expression lists
}

// exprList returns an empty list with room for n expressions.
func (s *slabs) exprList(n int) []Expr {
	if n == 0 {
		return []Expr{}
	}
	if cap(s.exprs)-len(s.exprs) < n {
		s.exprs = make([]Expr, 0, max(n, 256))
	}
	l := s.exprs[len(s.exprs) : len(s.exprs) : len(s.exprs)+n]
	s.exprs = s.exprs[:len(s.exprs)+n]
	return l
}

func (p *parser) word(pos lexer.Position, name string) *Word {
	w := p.slabs.words.new()
	*w = Word{Pos: p.pos(pos), Name: name}
	return w
}
