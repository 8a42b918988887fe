package packet

// Seq is a TCP sequence number; arithmetic and comparisons wrap modulo 2^32
// (RFC 793 section 3.3), so never compare raw uint32 values.
type Seq uint32

// Add returns s advanced by n bytes.
func (s Seq) Add(n uint32) Seq { return s + Seq(n) }

// Sub returns the signed distance from o to s.
func (s Seq) Sub(o Seq) int32 { return int32(s - o) }

// LessThan reports whether s comes before o in sequence space.
func (s Seq) LessThan(o Seq) bool { return int32(s-o) < 0 }

// LessThanEq reports whether s comes before or equals o.
func (s Seq) LessThanEq(o Seq) bool { return s == o || s.LessThan(o) }

// InRange reports whether s lies in [a, b).
func (s Seq) InRange(a, b Seq) bool { return a.LessThanEq(s) && s.LessThan(b) }
