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

// evalInt is the runner's evalInt, answered from what evalAhead
// evaluated where it did.
func (c *call) evalInt(e parser.Expr) (int64, error) {
	for _, a := range c.ahead[:c.nAhead] {
		if a.e == e {
			return a.v, a.err
		}
	}
	return c.r.evalInt(e)
}

// aheadValue is an expression evalAhead evaluated, and its outcome.
type aheadValue struct {
	e   parser.Expr
	v   int64
	err error
}

// evalAhead evaluates the call's integer expressions (its arguments, the
// elements and fields in them, the expected result) before the event's
// time. After the waits and injections between calls, the symbol lookups
// and the evaluator's code are cold: 4-5 µs of a getsockopt's event on
// bench/'s alternating schedule, measured around the call, which the next
// relative time inherited. An evaluation reads no run state, so its
// outcome is the same at the event's time; an error is kept for the
// moment the call asks, so failures are unchanged.
func (c *call) evalAhead() {
	c.nAhead = 0
	for _, a := range c.sc.Args {
		c.aheadExpr(a)
	}
	if c.sc.Result != nil {
		c.aheadExpr(c.sc.Result)
	}
}

func (c *call) aheadExpr(e parser.Expr) {
	if c.nAhead == len(c.ahead) {
		return
	}
	switch x := e.(type) {
	case *parser.ListExpr:
		for _, el := range x.Elems {
			c.aheadExpr(el)
		}
		return
	case *parser.StructExpr:
		for _, f := range x.Fields {
			c.aheadExpr(f.Value)
		}
		return
	case *parser.IntLit, *parser.Word, *parser.BinaryExpr:
	case *parser.CallExpr:
		switch x.Func {
		case "htons", "htonl", "ntohs", "ntohl", "inet_addr":
		default:
			return
		}
	default:
		return
	}
	v, err := c.r.evalInt(e)
	c.ahead[c.nAhead] = aheadValue{e, v, err}
	c.nAhead++
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
		return 0, scriptError{fmt.Errorf("unknown symbol: '%s'", x.Name)}
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
		return 0, fmt.Errorf("bad binary operator '%s'", x.Op)
	case *parser.CallExpr:
		switch x.Func {
		case "inet_addr":
			// The address in network byte order, read as a host integer.
			if len(x.Args) == 1 {
				if str, ok := x.Args[0].(*parser.StringLit); ok {
					a, err := netip.ParseAddr(str.Value)
					if err != nil || !a.Is4() {
						return 0, fmt.Errorf("invalid IPv4 address %q", str.Value)
					}
					b := a.As4()
					return int64(binary.NativeEndian.Uint32(b[:])), nil
				}
			}
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
	return 0, fmt.Errorf("Bad type; actual: %s expected: integer", exprKind(e))
}

// exprKind names the type of an expression as the reference does in its
// "Bad type" messages (after symbols are resolved to integers).
func exprKind(e parser.Expr) string {
	switch x := e.(type) {
	case *parser.IntLit, *parser.Word:
		return "integer"
	case *parser.StringLit:
		return "string"
	case *parser.Ellipsis:
		return "ellipsis"
	case *parser.ListExpr:
		return "list"
	case *parser.StructExpr:
		return structKind(x)
	case *parser.BinaryExpr:
		if x.Op == "|" {
			return "integer"
		}
		return "binary_expression"
	case *parser.CallExpr:
		switch x.Func {
		case "inet6_addr":
			return "in6_addr"
		case "htons", "htonl", "ntohs", "ntohl", "inet_addr":
			return "integer"
		}
		return x.Func
	}
	return "unknown"
}

// structKind tells the braced forms apart by their first member, as the
// reference's grammar does.
func structKind(s *parser.StructExpr) string {
	if len(s.Fields) == 0 {
		return "list"
	}
	f := s.Fields[0]
	switch k := f.Key.(type) {
	case nil:
		if _, ok := f.Value.(*parser.Ellipsis); ok && len(s.Fields) == 2 {
			return "iovec"
		}
		return "list"
	case *parser.CallExpr:
		if k.Func == "msg_name" {
			return "msghdr"
		}
	case *parser.Word:
		switch k.Name {
		case "sa_family":
			return "sockaddr_in"
		case "fd":
			return "pollfd"
		case "events":
			return "epollev"
		case "onoff":
			return "linger"
		case "cmsg_level":
			return "cmsg"
		case "scm_sec":
			return "scm_timestamping"
		case "ee_errno":
			return "sock_extended_err"
		}
	}
	return "list"
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
func (c *call) arg(i int) (parser.Expr, error) {
	if i >= len(c.sc.Args) {
		return nil, c.fail("Argument list too short")
	}
	return c.sc.Args[i], nil
}

func (c *call) argCount(n int) error {
	if len(c.sc.Args) != n {
		return c.fail("Expected %d args but got %d", n, len(c.sc.Args))
	}
	return nil
}

func (c *call) intArg(i int) (int64, error) {
	e, err := c.arg(i)
	if err != nil {
		return 0, err
	}
	v, err := c.evalInt(e)
	if err != nil {
		return 0, c.evalFail(err)
	}
	return v, nil
}

// s32 evaluates a value that must fit 32 bits, signed or unsigned.
func (c *call) s32(e parser.Expr) (int32, error) {
	v, err := c.evalInt(e)
	if err != nil {
		return 0, c.evalFail(err)
	}
	if v > 0xffffffff || v < -0x80000000 {
		return 0, c.fail("Value out of range for 32-bit integer: %d", v)
	}
	return int32(v), nil
}

// s8 evaluates a value that must fit 8 bits, signed or unsigned.
func (c *call) s8(e parser.Expr) (uint8, error) {
	v, err := c.evalInt(e)
	if err != nil {
		return 0, c.evalFail(err)
	}
	if v > 0xff || v < -0x80 {
		return 0, c.fail("Value out of range for 8-bit integer: %d", v)
	}
	return uint8(v), nil
}

func (c *call) s32Arg(i int) (int32, error) {
	e, err := c.arg(i)
	if err != nil {
		return 0, err
	}
	return c.s32(e)
}

// checkKind fails with the reference's "Bad type" message unless e is of
// the given kind.
func (c *call) checkKind(e parser.Expr, want string) error {
	if got := exprKind(e); got != want {
		return c.fail("Bad type; actual: %s expected: %s", got, want)
	}
	return nil
}

// bracketed is the element of a one-element list argument ("[4]").
func (c *call) bracketed(i int) (parser.Expr, error) {
	e, err := c.arg(i)
	if err != nil {
		return nil, err
	}
	if err := c.checkKind(e, "list"); err != nil {
		return nil, err
	}
	l, ok := e.(*parser.ListExpr)
	if !ok || len(l.Elems) != 1 {
		return nil, c.fail("Expected [<element>] but got multiple elements")
	}
	return l.Elems[0], nil
}

func (c *call) s32BracketedArg(i int) (int32, error) {
	e, err := c.bracketed(i)
	if err != nil {
		return 0, err
	}
	return c.s32(e)
}

func (c *call) s64BracketedArg(i int) (int64, error) {
	e, err := c.bracketed(i)
	if err != nil {
		return 0, err
	}
	v, err := c.evalInt(e)
	if err != nil {
		return 0, c.evalFail(err)
	}
	return v, nil
}

// bufferArg reads a buffer argument: "..." is a buffer, 0 (NULL) none.
// A string is also taken (godrill): its bytes start the buffer.
func (c *call) bufferArg(i int) (isNull bool, err error) {
	e, err := c.arg(i)
	if err != nil {
		return false, err
	}
	switch x := e.(type) {
	case *parser.Ellipsis, *parser.StringLit:
		return false, nil
	default:
		if v, err := c.evalInt(x); err == nil && v == 0 {
			return true, nil
		}
	}
	return false, c.fail("Expected ... or NULL for buffer")
}

// isEllipsis reports whether argument i is "..." (false when missing).
func (c *call) isEllipsis(i int) bool {
	if i >= len(c.sc.Args) {
		return false
	}
	_, ok := c.sc.Args[i].(*parser.Ellipsis)
	return ok
}

// ellipsisArg insists on "..." where the reference only takes that.
func (c *call) ellipsisArg(i int) error {
	e, err := c.arg(i)
	if err != nil {
		return err
	}
	if _, ok := e.(*parser.Ellipsis); !ok {
		return c.fail("Bad type; actual: %s expected: ellipsis", exprKind(e))
	}
	return nil
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
func (c *call) sockaddrArg(i int, def netip.AddrPort) (netip.AddrPort, error) {
	e, err := c.arg(i)
	if err != nil {
		return def, err
	}
	if _, ok := e.(*parser.Ellipsis); ok {
		return def, nil
	}
	s, ok := e.(*parser.StructExpr)
	if !ok {
		return def, c.fail("Bad type; actual: %s expected: sockaddr", exprKind(e))
	}
	ap := def
	if v, ok := field(s, "sin_port", "sin6_port"); ok {
		p, err := c.evalInt(v)
		if err != nil {
			return def, c.evalFail(err)
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
					return def, c.fail("bad address %q", str.Value)
				}
				ap = netip.AddrPortFrom(a.Unmap(), ap.Port())
			}
		}
	}
	return ap, nil
}
