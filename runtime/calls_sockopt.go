package runtime

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	goruntime "runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

// optval encodes a setsockopt value as the reference does: [int] (an
// int32), "string", {onoff=, linger=}, inet6_addr("..."); and, beyond the
// reference, {tv_sec=, tv_usec=}.
func (c *call) optval(i int) ([]byte, error) {
	e, err := c.arg(i)
	if err != nil {
		return nil, err
	}
	switch x := e.(type) {
	case *parser.StringLit:
		return c.strBytes(x)
	case *parser.ListExpr:
		v, err := c.s32BracketedArg(i)
		return binary.NativeEndian.AppendUint32(nil, uint32(v)), err
	case *parser.StructExpr:
		return c.structOptval(x)
	case *parser.CallExpr:
		if x.Func == "inet6_addr" {
			a, err := c.in6Addr(x)
			return a[:], err
		}
	}
	return nil, c.fail("unsupported setsockopt value type: %s", exprKind(e))
}

// in6Addr evaluates inet6_addr("::1").
func (c *call) in6Addr(x *parser.CallExpr) ([16]byte, error) {
	if len(x.Args) == 1 {
		if s, ok := x.Args[0].(*parser.StringLit); ok {
			if a, err := netip.ParseAddr(s.Value); err == nil && a.Is6() {
				return a.As16(), nil
			}
		}
	}
	return [16]byte{}, c.fail("cannot parse in6_addr")
}

// structOptval encodes the struct forms scripts pass to setsockopt.
func (c *call) structOptval(s *parser.StructExpr) ([]byte, error) {
	var err error
	get := func(names ...string) int64 {
		v, ok := field(s, names...)
		if !ok || err != nil {
			return 0
		}
		var n int64
		n, err = c.int64Of(v)
		return n
	}
	var b []byte
	switch {
	case structKind(s) == "linger":
		b = binary.NativeEndian.AppendUint32(nil, uint32(get("onoff")))
		b = binary.NativeEndian.AppendUint32(b, uint32(get("linger")))
	case hasField(s, "tv_sec"):
		b = binary.NativeEndian.AppendUint64(nil, uint64(get("tv_sec")))
		b = binary.NativeEndian.AppendUint64(b, uint64(get("tv_usec")))
	default:
		return nil, c.fail("unsupported setsockopt value type: %s", structKind(s))
	}
	return b, err
}

func hasField(s *parser.StructExpr, name string) bool {
	_, ok := field(s, name)
	return ok
}

// sockoptArgs are the (fd, level, name) of setsockopt and getsockopt.
func (c *call) sockoptArgs() (fd int, level, name int32, err error) {
	if err = c.argCount(5); err != nil {
		return
	}
	if fd, _, err = c.liveFD(0); err != nil {
		return
	}
	if level, err = c.s32Arg(1); err != nil {
		return
	}
	name, err = c.s32Arg(2)
	return
}

func sysSetsockopt(c *call) (int, unix.Errno, error) {
	fd, level, name, err := c.sockoptArgs()
	if err != nil {
		return 0, 0, err
	}
	b, err := c.setsockoptBuffers()
	if err != nil {
		return 0, 0, err
	}
	ret, errno := raw(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), bufPtr(b.buf), uintptr(uint32(b.optlen)))
	goruntime.KeepAlive(b)
	return ret, errno, nil
}

func sysGetsockopt(c *call) (int, unix.Errno, error) {
	fd, level, name, err := c.sockoptArgs()
	if err != nil {
		return 0, 0, err
	}
	b, err := c.getsockoptBuffers()
	if err != nil {
		return 0, 0, err
	}
	*b.l = uint32(b.optlen)
	ret, errno := raw(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), bufPtr(b.buf), uintptr(unsafe.Pointer(b.l)))
	goruntime.KeepAlive(b)
	c.post, c.postOnError = b.post, true
	return ret, errno, nil
}

// sockoptBuffers are what a setsockopt or getsockopt hands the kernel
// besides its fd, level and name: the value's buffer and its length and,
// for getsockopt, the optlen word and the check of what the kernel wrote.
// They are made before the call's time (preparers): made at the
// call's time, after the loop's sleep had let the allocator go cold, they
// cost 4 µs of a getsockopt's 8 (timed in a debug build on bench/'s
// alternating schedule), which the next relative time inherits.
type sockoptBuffers struct {
	optlen int32
	buf    []byte
	l      *uint32
	post   func(ret int) error
}

func (c *call) setsockoptBuffers() (*sockoptBuffers, error) {
	if b, ok := c.prepared.(*sockoptBuffers); ok {
		return b, nil
	}
	if err := c.argCount(5); err != nil {
		return nil, err
	}
	optlen, err := c.s32Arg(4)
	if err != nil {
		return nil, err
	}
	val, err := c.optval(3)
	if err != nil {
		return nil, err
	}
	// The kernel reads optlen bytes whatever the value's own size.
	buf := make([]byte, max(int(optlen), len(val), 1))
	copy(buf, val)
	return &sockoptBuffers{optlen: optlen, buf: buf}, nil
}

func (c *call) getsockoptBuffers() (*sockoptBuffers, error) {
	if b, ok := c.prepared.(*sockoptBuffers); ok {
		return b, nil
	}
	if err := c.argCount(5); err != nil {
		return nil, err
	}
	want := c.sc.Args[3]
	optlen, err := c.s32BracketedArg(4)
	if err != nil {
		return nil, err
	}
	if optlen > 1<<20 {
		return nil, c.fail("Bad getsockopt optlen: %d", optlen)
	}
	// A negative optlen goes to the kernel as it is, which says EINVAL,
	// as under the reference.
	b := &sockoptBuffers{optlen: optlen, buf: make([]byte, max(int(optlen), 0)+1), l: new(uint32)}
	b.post = func(int) error {
		if int32(*b.l) != optlen {
			return c.fail("Bad getsockopt optlen: expected: %d actual: %d", optlen, int32(*b.l))
		}
		return c.checkOptval(want, int(optlen), b.buf[:max(optlen, 0)])
	}
	return b, nil
}

// checkOptval compares getsockopt's value with the script's.
func (c *call) checkOptval(want parser.Expr, optlen int, got []byte) error {
	switch w := want.(type) {
	case *parser.StringLit:
		wv, err := c.strBytes(w)
		if err != nil {
			return err
		}
		if optlen != len(wv) {
			return c.fail("Bad getsockopt optval: expected optlen (%d bytes) does not match length of expected optval string '%s' (%d bytes)",
				optlen, printable(wv), len(wv))
		}
		if !bytes.Equal(got, wv) {
			return c.fail("Bad getsockopt optval: expected: '%s' actual: '%s'", printable(wv), printable(got))
		}
	case *parser.ListExpr:
		if optlen != 4 {
			return c.fail("Unsupported getsockopt optlen: %d", optlen)
		}
		exp, err := c.s32BracketedArg(3)
		if err != nil {
			return err
		}
		if act := int32(binary.NativeEndian.Uint32(got)); act != exp {
			return c.fail("Bad getsockopt optval: expected: %d actual: %d", exp, act)
		}
	case *parser.CallExpr:
		if w.Func != "inet6_addr" {
			return c.fail("unsupported getsockopt value type: %s", exprKind(want))
		}
		if optlen != 16 {
			return c.fail("Unsupported getsockopt optlen: %d", optlen)
		}
		exp, err := c.in6Addr(w)
		if err != nil {
			return err
		}
		if !bytes.Equal(exp[:], got) {
			act := netip.AddrFrom16([16]byte(got))
			return c.fail("Bad getsockopt optval: expected: %s actual: %s ", netip.AddrFrom16(exp), act)
		}
	case *parser.StructExpr:
		// godrill: {onoff=, linger=} and {tv_sec=, tv_usec=} compare bytewise.
		exp, err := c.structOptval(w)
		if err != nil {
			return err
		}
		if optlen != len(exp) {
			return c.fail("Unsupported getsockopt optlen: %d", optlen)
		}
		if !bytes.Equal(exp, got) {
			return c.fail("Bad getsockopt optval: expected: %s actual: %s", exprString(w), structString(w, got))
		}
	default:
		return c.fail("unsupported getsockopt value type: %s", exprKind(want))
	}
	return nil
}

// structString prints the bytes of a linger or timeval in the script's form.
func structString(w *parser.StructExpr, b []byte) string {
	if structKind(w) == "linger" {
		return fmt.Sprintf("{onoff=%d, linger=%d}", int32(binary.NativeEndian.Uint32(b)), int32(binary.NativeEndian.Uint32(b[4:])))
	}
	return fmt.Sprintf("{tv_sec=%d, tv_usec=%d}", int64(binary.NativeEndian.Uint64(b)), int64(binary.NativeEndian.Uint64(b[8:])))
}

// printable escapes bytes as C string escapes, as the reference's
// to_printable_string.
func printable(b []byte) string {
	var out bytes.Buffer
	for _, ch := range b {
		if ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"' {
			out.WriteByte(ch)
			continue
		}
		out.WriteString(`\x` + strconv.FormatUint(uint64(ch)|0x100, 16)[1:])
	}
	return out.String()
}
