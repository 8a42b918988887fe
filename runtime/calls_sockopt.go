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
func (c *call) optval(i int) []byte {
	e := c.arg(i)
	switch x := e.(type) {
	case *parser.StringLit:
		return c.strBytes(x)
	case *parser.ListExpr:
		return binary.NativeEndian.AppendUint32(nil, uint32(c.s32BracketedArg(i)))
	case *parser.StructExpr:
		return c.structOptval(x)
	case *parser.CallExpr:
		if x.Func == "inet6_addr" {
			a := c.in6Addr(x)
			return a[:]
		}
	}
	panic(c.fail("unsupported setsockopt value type: %s", exprKind(e)))
}

// in6Addr evaluates inet6_addr("::1").
func (c *call) in6Addr(x *parser.CallExpr) [16]byte {
	if len(x.Args) == 1 {
		if s, ok := x.Args[0].(*parser.StringLit); ok {
			if a, err := netip.ParseAddr(s.Value); err == nil && a.Is6() {
				return a.As16()
			}
		}
	}
	panic(c.fail("cannot parse in6_addr"))
}

// structOptval encodes the struct forms scripts pass to setsockopt.
func (c *call) structOptval(s *parser.StructExpr) []byte {
	get := func(names ...string) int64 {
		v, ok := field(s, names...)
		if !ok {
			return 0
		}
		return c.int64Of(v)
	}
	switch {
	case structKind(s) == "linger":
		b := binary.NativeEndian.AppendUint32(nil, uint32(get("onoff")))
		return binary.NativeEndian.AppendUint32(b, uint32(get("linger")))
	case hasField(s, "tv_sec"):
		b := binary.NativeEndian.AppendUint64(nil, uint64(get("tv_sec")))
		return binary.NativeEndian.AppendUint64(b, uint64(get("tv_usec")))
	}
	panic(c.fail("unsupported setsockopt value type: %s", structKind(s)))
}

func hasField(s *parser.StructExpr, name string) bool {
	_, ok := field(s, name)
	return ok
}

func sysSetsockopt(c *call) (int, unix.Errno) {
	c.argCount(5)
	fd, _ := c.liveFD(0)
	level, name := c.s32Arg(1), c.s32Arg(2)
	optlen := c.s32Arg(4)
	val := c.optval(3)
	// The kernel reads optlen bytes whatever the value's own size.
	buf := make([]byte, max(int(optlen), len(val), 1))
	copy(buf, val)
	ret, errno := raw(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), bufPtr(buf), uintptr(uint32(optlen)))
	goruntime.KeepAlive(buf)
	return ret, errno
}

func sysGetsockopt(c *call) (int, unix.Errno) {
	c.argCount(5)
	fd, _ := c.liveFD(0)
	level, name := c.s32Arg(1), c.s32Arg(2)
	want := c.arg(3)
	optlen := c.s32BracketedArg(4)
	if optlen < 0 || optlen > 1<<20 {
		panic(c.fail("Bad getsockopt optlen: %d", optlen))
	}
	buf := make([]byte, int(optlen)+1)
	l := heap[uint32]()
	*l = uint32(optlen)
	ret, errno := raw(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), bufPtr(buf), uintptr(unsafe.Pointer(l)))
	goruntime.KeepAlive(buf)
	goruntime.KeepAlive(l)
	c.post = func(int) {
		if int32(*l) != optlen {
			panic(c.fail("Bad getsockopt optlen: expected: %d actual: %d", optlen, int32(*l)))
		}
		got := buf[:optlen]
		switch w := want.(type) {
		case *parser.StringLit:
			wv := c.strBytes(w)
			if int(optlen) != len(wv) {
				panic(c.fail("Bad getsockopt optval: expected optlen (%d bytes) does not match length of expected optval string '%s' (%d bytes)",
					optlen, printable(wv), len(wv)))
			}
			if !bytes.Equal(got, wv) {
				panic(c.fail("Bad getsockopt optval: expected: '%s' actual: '%s'", printable(wv), printable(got)))
			}
		case *parser.ListExpr:
			if optlen != 4 {
				panic(c.fail("Unsupported getsockopt optlen: %d", optlen))
			}
			exp := c.s32BracketedArg(3)
			if act := int32(binary.NativeEndian.Uint32(got)); act != exp {
				panic(c.fail("Bad getsockopt optval: expected: %d actual: %d", exp, act))
			}
		case *parser.CallExpr:
			if w.Func != "inet6_addr" {
				panic(c.fail("unsupported getsockopt value type: %s", exprKind(want)))
			}
			if optlen != 16 {
				panic(c.fail("Unsupported getsockopt optlen: %d", optlen))
			}
			exp := c.in6Addr(w)
			if !bytes.Equal(exp[:], got) {
				act := netip.AddrFrom16([16]byte(got))
				panic(c.fail("Bad getsockopt optval: expected: %s actual: %s ", netip.AddrFrom16(exp), act))
			}
		case *parser.StructExpr:
			// godrill: {onoff=, linger=} and {tv_sec=, tv_usec=} compare bytewise.
			exp := c.structOptval(w)
			if int(optlen) != len(exp) {
				panic(c.fail("Unsupported getsockopt optlen: %d", optlen))
			}
			if !bytes.Equal(exp, got) {
				panic(c.fail("Bad getsockopt optval: expected: %s actual: %s", exprString(w), structString(w, got)))
			}
		default:
			panic(c.fail("unsupported getsockopt value type: %s", exprKind(want)))
		}
	}
	return ret, errno
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
