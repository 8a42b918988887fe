package runtime

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	goruntime "runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

// heap allocates a T the garbage collector will neither move nor free
// while the caller holds the pointer: memory handed to the kernel.
//
//go:noinline
func heap[T any]() *T { return new(T) }

// rawSockaddr encodes a wire address as a sockaddr of this run's family.
func (r *runner) rawSockaddr(a netip.AddrPort) []byte {
	if r.cfg.IPVersion == IPv4 {
		sa := heap[unix.RawSockaddrInet4]()
		sa.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], a.Port())
		sa.Addr = a.Addr().Unmap().As4()
		return unsafe.Slice((*byte)(unsafe.Pointer(sa)), unix.SizeofSockaddrInet4)
	}
	sa := heap[unix.RawSockaddrInet6]()
	sa.Family = unix.AF_INET6
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], a.Port())
	sa.Addr = r.cfg.sockaddrIP(a.Addr()).As16()
	return unsafe.Slice((*byte)(unsafe.Pointer(sa)), unix.SizeofSockaddrInet6)
}

// --- iovec --------------------------------------------------------------------

// iovecs builds the iovec array of "[{..., 10}, {..., 20}]": zeroed buffers.
func (c *call) iovecs(e parser.Expr) ([]unix.Iovec, error) {
	if err := c.checkKind(e, "list"); err != nil {
		return nil, err
	}
	l := e.(*parser.ListExpr)
	iov := make([]unix.Iovec, len(l.Elems), len(l.Elems)+1)
	for i, el := range l.Elems {
		if err := c.checkKind(el, "iovec"); err != nil {
			return nil, err
		}
		n, err := c.evalInt(el.(*parser.StructExpr).Fields[1].Value)
		if err != nil {
			return nil, c.evalFail(err)
		}
		if n < 0 || n > 64<<20 {
			return nil, c.fail("iov_len %d out of range", n)
		}
		// Each buffer is its own allocation with room after it, as malloc
		// gives the reference: adjacent buffers would let the kernel merge
		// MSG_ZEROCOPY fragments that scripts expect to stay apart.
		buf := make([]byte, n, n+64)
		iov[i].Len = uint64(n)
		if n > 0 {
			iov[i].Base = &buf[0]
		}
	}
	return iov, nil
}

func iovPtr(iov []unix.Iovec) uintptr {
	if len(iov) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&iov[0]))
}

func sysReadv(c *call) (int, unix.Errno, error) { return c.rwv(unix.SYS_READV) }

func sysWritev(c *call) (int, unix.Errno, error) { return c.rwv(unix.SYS_WRITEV) }

func (c *call) rwv(trap uintptr) (int, unix.Errno, error) {
	fd, _, err := c.fdArgs(3)
	if err != nil {
		return 0, 0, err
	}
	iov, err := c.iovecs(c.sc.Args[1])
	if err != nil {
		return 0, 0, err
	}
	n, err := c.s32Arg(2)
	if err != nil {
		return 0, 0, err
	}
	if int(n) != len(iov) {
		return 0, 0, c.fail("iov_count %d does not match %d-element iovec array", n, len(iov))
	}
	ret, errno := raw(trap, uintptr(fd), iovPtr(iov), uintptr(n))
	goruntime.KeepAlive(iov)
	return ret, errno, nil
}

// --- msghdr -------------------------------------------------------------------

// msghdr is a struct msghdr built from a script's "{msg_name(...)=..., ...}"
// with the memory it points to.
type msghdr struct {
	hdr     *unix.Msghdr
	name    []byte
	iov     []unix.Iovec
	control []byte
	hasName bool
}

// newMsghdr builds the msghdr of a recvmsg or sendmsg argument.
func (c *call) newMsghdr(e parser.Expr) (*msghdr, error) {
	if err := c.checkKind(e, "msghdr"); err != nil {
		return nil, err
	}
	s := e.(*parser.StructExpr)
	m := &msghdr{hdr: heap[unix.Msghdr]()}
	iovLen := -1
	var err error
	for _, f := range s.Fields {
		switch k := f.Key.(type) {
		case *parser.CallExpr:
			switch k.Func {
			case "msg_name":
				m.hasName = true
				m.name = make([]byte, unix.SizeofSockaddrAny)
			case "msg_iov":
				if m.iov, err = c.iovecs(f.Value); err != nil {
					return nil, err
				}
				if len(k.Args) == 1 {
					n, err := c.s32(k.Args[0])
					if err != nil {
						return nil, err
					}
					iovLen = int(n)
				}
			}
		case *parser.Word:
			switch k.Name {
			case "msg_flags":
				if m.hdr.Flags, err = c.s32(f.Value); err != nil {
					return nil, err
				}
			case "msg_control":
				if m.control, err = c.cmsgs(f.Value); err != nil {
					return nil, err
				}
			}
		}
	}
	if iovLen >= 0 && iovLen != len(m.iov) {
		return nil, c.fail("msg_iovlen %d does not match %d-element iovec array", iovLen, len(m.iov))
	}
	m.fill()
	return m, nil
}

// fill points the header at its buffers.
func (m *msghdr) fill() {
	h := m.hdr
	if len(m.name) > 0 {
		h.Name = &m.name[0]
		h.Namelen = uint32(len(m.name))
	}
	if len(m.iov) > 0 {
		h.Iov = &m.iov[0]
		h.Iovlen = uint64(len(m.iov))
	}
	if len(m.control) > 0 {
		h.Control = &m.control[0]
	}
	h.Controllen = uint64(len(m.control))
}

// msgArgs are the (fd, msghdr, flags) of recvmsg and sendmsg.
func (c *call) msgArgs() (fd int, st *fdState, m *msghdr, flags int32, err error) {
	if err = c.argCount(3); err != nil {
		return
	}
	if fd, st, err = c.liveFD(0); err != nil {
		return
	}
	if m, err = c.newMsghdr(c.sc.Args[1]); err != nil {
		return
	}
	flags, err = c.s32Arg(2)
	return
}

func sysRecvmsg(c *call) (int, unix.Errno, error) {
	fd, _, m, flags, err := c.msgArgs()
	if err != nil {
		return 0, 0, err
	}
	want, err := c.newMsghdr(c.sc.Args[1])
	if err != nil {
		return 0, 0, err
	}
	ret, errno := raw(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(m.hdr)), uintptr(flags))
	goruntime.KeepAlive(m)
	c.post = func(int) error {
		if m.hdr.Flags != want.hdr.Flags {
			return c.fail("Expected msg_flags 0x%08X but got 0x%08X", uint32(want.hdr.Flags), uint32(m.hdr.Flags))
		}
		return c.cmsgsEqual(want.control, m.control[:m.hdr.Controllen])
	}
	return ret, errno, nil
}

func sysSendmsg(c *call) (int, unix.Errno, error) {
	fd, st, m, flags, err := c.msgArgs()
	if err != nil {
		return 0, 0, err
	}
	if m.hasName {
		remote := netip.AddrPortFrom(c.r.cfg.RemoteIP, c.r.cfg.ConnectPort)
		c.noteConnect(st, remote)
		m.name = c.r.rawSockaddr(remote)
		m.fill()
	}
	if m.hdr.Flags != 0 {
		return 0, 0, c.fail("sendmsg ignores msg_flags field in msghdr")
	}
	ret, errno := raw(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(m.hdr)), uintptr(flags))
	goruntime.KeepAlive(m)
	c.noteLocalPort(st)
	return ret, errno, nil
}

// --- control messages -----------------------------------------------------------

const (
	cmsgHdrLen = unix.SizeofCmsghdr // 16 on 64-bit Linux
	// struct sock_extended_err, include/uapi/linux/errqueue.h
	sizeofSockExtendedErr = 16
	// SCM_TIMESTAMPING_OPT_STATS carries netlink attributes (TCP_NLA_*).
	scmTimestampingOptStats = unix.SCM_TIMESTAMPING_OPT_STATS
	// nlaIgnore is the value "..." stands for in an OPT_STATS attribute.
	nlaIgnore = 0xffffffff
)

func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// tcpNLALen is the size of the value of each TCP_NLA_* attribute
// (include/uapi/linux/tcp.h).
var tcpNLALen = map[int]int{
	0: 4, 1: 8, 2: 8, 3: 8, 4: 8, 5: 8, 6: 8, 7: 8, 8: 4, 9: 4, 10: 4, 11: 1, 12: 1,
	13: 4, 14: 1, 15: 4, 16: 4, 17: 4, 18: 8, 19: 8, 20: 4, 21: 4, 22: 4,
}

var tcpNLANames = map[int]string{}

func init() {
	for name, v := range linuxSymbols {
		if len(name) > 8 && name[:8] == "TCP_NLA_" {
			tcpNLANames[int(v)] = name
		}
	}
}

// cmsgs encodes a "msg_control=[{cmsg_level=..., cmsg_type=..., cmsg_data=...}]"
// list: each message padded to 8 bytes, as CMSG_SPACE.
func (c *call) cmsgs(e parser.Expr) ([]byte, error) {
	if err := c.checkKind(e, "list"); err != nil {
		return nil, err
	}
	var out []byte
	for _, el := range e.(*parser.ListExpr).Elems {
		if err := c.checkKind(el, "cmsg"); err != nil {
			return nil, err
		}
		s := el.(*parser.StructExpr)
		level, _ := field(s, "cmsg_level")
		typ, _ := field(s, "cmsg_type")
		data, _ := field(s, "cmsg_data")
		lv, err := c.s32(level)
		if err != nil {
			return nil, err
		}
		data2, err := c.cmsgData(lv, data)
		if err != nil {
			return nil, err
		}
		tv, err := c.s32(typ)
		if err != nil {
			return nil, err
		}
		msg := make([]byte, cmsgAlign(cmsgHdrLen+len(data2)))
		binary.NativeEndian.PutUint64(msg[0:], uint64(cmsgHdrLen+len(data2)))
		binary.NativeEndian.PutUint32(msg[8:], uint32(lv))
		binary.NativeEndian.PutUint32(msg[12:], uint32(tv))
		copy(msg[cmsgHdrLen:], data2)
		out = append(out, msg...)
	}
	return out, nil
}

// cmsgData encodes cmsg_data: an int, an scm_timestamping, a
// sock_extended_err, or a list of TCP_NLA_* attributes.
func (c *call) cmsgData(level int32, e parser.Expr) ([]byte, error) {
	// The first error wins; the encoded bytes are dropped with it.
	var err error
	keep := func(e error) {
		if err == nil {
			err = e
		}
	}
	s32 := func(e parser.Expr) uint32 { v, e2 := c.s32(e); keep(e2); return uint32(v) }
	s8 := func(e parser.Expr) uint8 { v, e2 := c.s8(e); keep(e2); return v }
	i64 := func(e parser.Expr) uint64 { v, e2 := c.int64Of(e); keep(e2); return uint64(v) }
	var b []byte
	switch exprKind(e) {
	case "integer":
		b = binary.NativeEndian.AppendUint32(nil, s32(e))
	case "scm_timestamping":
		s := e.(*parser.StructExpr)
		sec, _ := field(s, "scm_sec")
		nsec, _ := field(s, "scm_nsec")
		b = make([]byte, 3*16) // struct scm_timestamping: three timespecs
		binary.NativeEndian.PutUint64(b[0:], i64(sec))
		binary.NativeEndian.PutUint64(b[8:], i64(nsec))
	case "sock_extended_err":
		s := e.(*parser.StructExpr)
		get := func(name string) parser.Expr { v, _ := field(s, name); return v }
		// ip(v6)_recv_error appends the offender's address to the error.
		n := sizeofSockExtendedErr + unix.SizeofSockaddrInet6
		if level == unix.SOL_IP {
			n = sizeofSockExtendedErr + unix.SizeofSockaddrInet4
		}
		b = make([]byte, n)
		binary.NativeEndian.PutUint32(b[0:], s32(get("ee_errno")))
		b[4] = s8(get("ee_origin"))
		b[5] = s8(get("ee_type"))
		b[6] = s8(get("ee_code"))
		binary.NativeEndian.PutUint32(b[8:], s32(get("ee_info")))
		binary.NativeEndian.PutUint32(b[12:], s32(get("ee_data")))
	case "list":
		return c.nlas(e)
	default:
		return nil, c.fail("Unrecognized type for cmsg_data")
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (c *call) int64Of(e parser.Expr) (int64, error) {
	v, err := c.evalInt(e)
	if err != nil {
		return 0, c.evalFail(err)
	}
	return v, nil
}

// nlas encodes "{TCP_NLA_X=v, ...}" (or "[TCP_NLA_X = v]") as netlink
// attributes; "..." stands for any value.
func (c *call) nlas(e parser.Expr) ([]byte, error) {
	type kv struct{ k, v parser.Expr }
	var pairs []kv
	switch x := e.(type) {
	case *parser.StructExpr:
		for _, f := range x.Fields {
			if f.Key == nil {
				return nil, c.fail("Bad type; actual: %s expected: binary_expression", exprKind(f.Value))
			}
			pairs = append(pairs, kv{f.Key, f.Value})
		}
	case *parser.ListExpr:
		for _, el := range x.Elems {
			b, ok := el.(*parser.BinaryExpr)
			if !ok || b.Op != "=" {
				return nil, c.fail("Bad type; actual: %s expected: binary_expression", exprKind(el))
			}
			pairs = append(pairs, kv{b.X, b.Y})
		}
	}
	var out []byte
	for _, p := range pairs {
		k, err := c.int64Of(p.k)
		if err != nil {
			return nil, err
		}
		key := int(k)
		size, ok := tcpNLALen[key]
		if !ok {
			return nil, c.fail("bad NLA type %d", key)
		}
		val := uint64(nlaIgnore)
		switch p.v.(type) {
		case *parser.Ellipsis:
		default:
			if exprKind(p.v) != "integer" {
				return nil, c.fail("values must be numeric or ellipsis")
			}
			v, err := c.int64Of(p.v)
			if err != nil {
				return nil, err
			}
			if (size == 1 && (v < 0 || v > 0xff)) || (size == 4 && (v < 0 || v > 0xffffffff)) {
				return nil, c.fail("out of bound u%d value specified", size*8)
			}
			val = uint64(v)
		}
		a := make([]byte, (4+size+3)&^3)
		binary.NativeEndian.PutUint16(a[0:], uint16(4+size))
		binary.NativeEndian.PutUint16(a[2:], uint16(key))
		var v [8]byte
		binary.NativeEndian.PutUint64(v[:], val)
		copy(a[4:], v[:size])
		out = append(out, a...)
	}
	return out, nil
}

// cmsgIter walks control messages as CMSG_FIRSTHDR/CMSG_NXTHDR do.
type cmsgIter struct {
	buf []byte
	off int
}

// at returns the header at the current offset, or ok=false where glibc's
// macros return NULL.
func (it *cmsgIter) at() (level, typ int32, length int, data []byte, ok bool) {
	if it.off+cmsgHdrLen > len(it.buf) {
		return 0, 0, 0, nil, false
	}
	length = int(binary.NativeEndian.Uint64(it.buf[it.off:]))
	if length < cmsgHdrLen || it.off+length > len(it.buf) {
		return 0, 0, 0, nil, false
	}
	level = int32(binary.NativeEndian.Uint32(it.buf[it.off+8:]))
	typ = int32(binary.NativeEndian.Uint32(it.buf[it.off+12:]))
	return level, typ, length, it.buf[it.off+cmsgHdrLen : it.off+length], true
}

func (it *cmsgIter) next(length int) { it.off += cmsgAlign(length) }

// cmsgsEqual compares received control messages with the script's, as
// the reference's cmsg_expect_eq.
func (c *call) cmsgsEqual(want, got []byte) error {
	w, g := &cmsgIter{buf: want}, &cmsgIter{buf: got}
	i := 0
	for ; ; i++ {
		el, et, elen, edata, eok := w.at()
		al, at, alen, adata, aok := g.at()
		if !eok || !aok {
			switch {
			case !aok && !eok:
				return nil
			case aok:
				return c.fail("received more than %d cmsgs", i)
			default:
				return c.fail("received only %d cmsgs", i)
			}
		}
		if al != el {
			return c.fail("Bad level in cmsg %d: expected=%d actual=%d", i, el, al)
		}
		if at != et {
			return c.fail("Bad type in cmsg %d: expected=%d actual=%d", i, et, at)
		}
		if alen != elen {
			return c.fail("Bad len in cmsg %d: expected=%d actual=%d", i, elen, alen)
		}
		var err error
		switch {
		case (al == unix.SOL_IP && at == unix.IP_RECVERR) || (al == unix.SOL_IPV6 && at == unix.IPV6_RECVERR):
			err = c.extendedErrEqual(edata, adata, i)
		case al == unix.SOL_SOCKET && at == unix.SCM_TIMESTAMPING:
			err = c.timestampingEqual(edata, adata, i)
		case al == unix.SOL_SOCKET && at == scmTimestampingOptStats:
			err = c.optStatsEqual(edata, adata, i)
		default:
			if !bytes.Equal(edata, adata) {
				err = c.fail("Bad data in cmsg %d: expected=%s actual=%s", i, cString(edata), cString(adata))
			}
		}
		if err != nil {
			return err
		}
		w.next(elen)
		g.next(alen)
	}
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func (c *call) extendedErrEqual(want, got []byte, i int) error {
	type field struct {
		name string
		get  func([]byte) uint32
	}
	u32 := func(off int) func([]byte) uint32 {
		return func(b []byte) uint32 { return binary.NativeEndian.Uint32(b[off:]) }
	}
	u8 := func(off int) func([]byte) uint32 { return func(b []byte) uint32 { return uint32(b[off]) } }
	for _, f := range []field{{"errno", u32(0)}, {"origin", u8(4)}, {"type", u8(5)}, {"code", u8(6)}, {"info", u32(8)}, {"data", u32(12)}} {
		if e, a := f.get(want), f.get(got); e != a {
			return c.fail("Bad %s in extended err %d: expected=%d actual=%d", f.name, i, e, a)
		}
	}
	return nil
}

// timestampingEqual checks each scripted (non-zero) timestamp, read as
// script time, against the kernel's wall-clock stamp within the tolerance.
func (c *call) timestampingEqual(want, got []byte, i int) error {
	start := c.r.startWall.UnixMicro()
	for k := 0; k < 3; k++ {
		sec := int64(binary.NativeEndian.Uint64(want[16*k:]))
		nsec := int64(binary.NativeEndian.Uint64(want[16*k+8:]))
		if sec == 0 && nsec == 0 {
			continue
		}
		exp := start + sec*1e6 + nsec/1e3
		act := int64(binary.NativeEndian.Uint64(got[16*k:]))*1e6 + int64(binary.NativeEndian.Uint64(got[16*k+8:]))/1e3
		if d := exp - act; d > c.r.cfg.ToleranceUsecs || -d > c.r.cfg.ToleranceUsecs {
			return c.fail("Bad timestamp %d in scm_timestamping %d: expected=%d (%d) actual=%d (%d) start=%d",
				k, i, exp, exp-start, act, act-start, start)
		}
	}
	return nil
}

// optStatsEqual compares SCM_TIMESTAMPING_OPT_STATS attributes: "busy"
// times within the tolerance, counters exactly, "..." ignored.
func (c *call) optStatsEqual(want, got []byte, i int) error {
	tol := uint64(c.r.cfg.ToleranceUsecs)
	for off := 0; off+4 <= len(want) && off+4 <= len(got); {
		elen, etype := binary.NativeEndian.Uint16(want[off:]), binary.NativeEndian.Uint16(want[off+2:])
		alen, atype := binary.NativeEndian.Uint16(got[off:]), binary.NativeEndian.Uint16(got[off+2:])
		if etype != atype {
			return c.fail("Bad nla_type %d: expected=%d actual=%d", i, etype, atype)
		}
		if elen != alen {
			return c.fail("Bad nla_len %d: expected=%d actual=%d", i, elen, alen)
		}
		if int(elen) < 4 || off+int(elen) > len(want) {
			return c.fail("Bad nla_len %d: expected=%d actual=%d", i, elen, alen)
		}
		ev, av := want[off+4:off+int(elen)], got[off+4:off+int(elen)]
		name := tcpNLANames[int(etype)]
		bad := func(e, a uint64) error {
			return c.fail("Bad %s: expected=%d actual=%d", name, e, a)
		}
		switch int(etype) {
		case 1, 2, 3: // TCP_NLA_BUSY, RWND_LIMITED, SNDBUF_LIMITED (usecs)
			e, a := binary.NativeEndian.Uint64(ev), binary.NativeEndian.Uint64(av)
			switch {
			case e == nlaIgnore:
			case e != 0 && absDiff(e, a) <= tol:
			case e == 0 && a == 0:
			default:
				return bad(e, a)
			}
		default:
			var e, a uint64
			ignore := uint64(nlaIgnore)
			switch len(ev) {
			case 8:
				e, a = binary.NativeEndian.Uint64(ev), binary.NativeEndian.Uint64(av)
			case 4:
				e, a = uint64(binary.NativeEndian.Uint32(ev)), uint64(binary.NativeEndian.Uint32(av))
			case 1:
				e, a, ignore = uint64(ev[0]), uint64(av[0]), 0xff
			default:
				return c.fail("Bad nla_type %d: expected=%d actual=%d", i, etype, atype)
			}
			if e != a && e != ignore {
				return bad(e, a)
			}
		}
		off += (int(elen) + 3) &^ 3
	}
	return nil
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}
