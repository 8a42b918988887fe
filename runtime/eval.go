package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/godrill/godrill/parser"
)

// scriptError marks an evaluation error that is the script's fault (an
// unknown name), not the kernel's: the run exits with ExitScript.
type scriptError struct{ error }

func (e scriptError) Unwrap() error { return e.error }

// evalFail is the failure for an argument that cannot be evaluated.
func (c *call) evalFail(err error) *Failure {
	f := c.fail("%v", err)
	if errors.As(err, new(scriptError)) {
		f.Kind = FailScript
	}
	return f
}

// evalInt evaluates an integer expression: literals, symbols and A|B.
func (r *runner) evalInt(e parser.Expr) (int64, error) {
	switch x := e.(type) {
	case *parser.IntLit:
		return x.Value, nil
	case *parser.Word:
		if v, ok := LookupSymbol(x.Name); ok {
			return v, nil
		}
		return 0, scriptError{fmt.Errorf("unknown symbol: %s", x.Name)}
	case *parser.BinaryExpr:
		a, err := r.evalInt(x.X)
		if err != nil {
			return 0, err
		}
		b, err := r.evalInt(x.Y)
		if err != nil {
			return 0, err
		}
		if x.Op == "|" {
			return a | b, nil
		}
		return 0, fmt.Errorf("unsupported operator %q", x.Op)
	case *parser.CallExpr:
		switch x.Func {
		case "htons", "htonl", "ntohs", "ntohl":
			if len(x.Args) != 1 {
				return 0, fmt.Errorf("%s takes one argument", x.Func)
			}
			v, err := r.evalInt(x.Args[0])
			if err != nil {
				return 0, err
			}
			if x.Func[len(x.Func)-1] == 's' {
				var b [2]byte
				binary.BigEndian.PutUint16(b[:], uint16(v))
				return int64(binary.NativeEndian.Uint16(b[:])), nil
			}
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], uint32(v))
			return int64(binary.NativeEndian.Uint32(b[:])), nil
		}
	case *parser.ListExpr:
		if len(x.Elems) == 1 {
			return r.evalInt(x.Elems[0])
		}
	}
	return 0, fmt.Errorf("bad type; actual: %s expected: integer", exprKind(e))
}

func exprKind(e parser.Expr) string {
	switch e.(type) {
	case *parser.IntLit:
		return "integer"
	case *parser.Word:
		return "symbol"
	case *parser.StringLit:
		return "string"
	case *parser.Ellipsis:
		return "ellipsis"
	case *parser.ListExpr:
		return "list"
	case *parser.StructExpr:
		return "struct"
	case *parser.BinaryExpr:
		return "expression"
	case *parser.CallExpr:
		return "function"
	}
	return "unknown"
}

// exprString prints an expression in script syntax, for logs.
func exprString(e parser.Expr) string {
	switch x := e.(type) {
	case *parser.IntLit:
		if x.Text != "" {
			return x.Text
		}
		return fmt.Sprint(x.Value)
	case *parser.Word:
		return x.Name
	case *parser.StringLit:
		s := fmt.Sprintf("%q", x.Value)
		if x.Ellipsis {
			s += "..."
		}
		return s
	case *parser.Ellipsis:
		return "..."
	case *parser.ListExpr:
		parts := make([]string, len(x.Elems))
		for i, el := range x.Elems {
			parts[i] = exprString(el)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *parser.StructExpr:
		parts := make([]string, len(x.Fields))
		for i, f := range x.Fields {
			if f.Key != nil {
				parts[i] = exprString(f.Key) + "=" + exprString(f.Value)
			} else {
				parts[i] = exprString(f.Value)
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *parser.BinaryExpr:
		return exprString(x.X) + x.Op + exprString(x.Y)
	case *parser.CallExpr:
		parts := make([]string, len(x.Args))
		for i, a := range x.Args {
			parts[i] = exprString(a)
		}
		return x.Func + "(" + strings.Join(parts, ", ") + ")"
	}
	return "?"
}

// arg returns argument i, failing the call when it is missing.
func (c *call) arg(i int) parser.Expr {
	if i >= len(c.sc.Args) {
		panic(c.fail("Argument list too short"))
	}
	return c.sc.Args[i]
}

func (c *call) argCount(n int) {
	if len(c.sc.Args) != n {
		panic(c.fail("Expected %d args but got %d", n, len(c.sc.Args)))
	}
}

func (c *call) intArg(i int) int64 {
	v, err := c.r.evalInt(c.arg(i))
	if err != nil {
		panic(c.evalFail(err))
	}
	return v
}

func (c *call) isEllipsis(i int) bool {
	_, ok := c.arg(i).(*parser.Ellipsis)
	return ok
}

// ellipsisArg insists on "..." where the reference only takes that.
func (c *call) ellipsisArg(i int) {
	if !c.isEllipsis(i) {
		panic(c.fail("Bad type; actual: %s expected: ellipsis", exprKind(c.arg(i))))
	}
}

// field finds a named member of a struct expression ("sin_port").
func field(s *parser.StructExpr, names ...string) (parser.Expr, bool) {
	for _, f := range s.Fields {
		w, ok := f.Key.(*parser.Word)
		if !ok {
			continue
		}
		for _, n := range names {
			if w.Name == n {
				return f.Value, true
			}
		}
	}
	return nil, false
}

// sockaddrArg reads a sockaddr struct expression, or "..." for def.
func (c *call) sockaddrArg(i int, def netip.AddrPort) netip.AddrPort {
	e := c.arg(i)
	if _, ok := e.(*parser.Ellipsis); ok {
		return def
	}
	s, ok := e.(*parser.StructExpr)
	if !ok {
		panic(c.fail("Bad type; actual: %s expected: sockaddr", exprKind(e)))
	}
	ap := def
	if v, ok := field(s, "sin_port", "sin6_port"); ok {
		p, err := c.r.evalInt(v)
		if err != nil {
			panic(c.evalFail(err))
		}
		// htons(...) was already applied: undo it to get the host-order port.
		var b [2]byte
		binary.NativeEndian.PutUint16(b[:], uint16(p))
		ap = netip.AddrPortFrom(ap.Addr(), binary.BigEndian.Uint16(b[:]))
	}
	if v, ok := field(s, "sin_addr", "sin6_addr"); ok {
		if call, ok := v.(*parser.CallExpr); ok && len(call.Args) == 1 {
			if str, ok := call.Args[0].(*parser.StringLit); ok {
				a, err := netip.ParseAddr(str.Value)
				if err != nil {
					panic(c.fail("bad address %q", str.Value))
				}
				ap = netip.AddrPortFrom(a.Unmap(), ap.Port())
			}
		}
	}
	return ap
}
