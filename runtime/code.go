package runtime

import (
	"io"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/inlinecode"
)

// codeRunner evaluates each snippet at its own event with TCP_INFO of the
// socket under test bound as tcpi_* variables. The reference defers all
// snippets to the end of the script; failing at the snippet's own line is
// more useful, and the variables are the same snapshot either way.
type codeRunner struct {
	ev  *inlinecode.Evaluator
	mem []uint32 // SO_MEMINFO of the socket under test, bound as SK_MEMINFO_*
	cc  []byte   // TCP_CC_INFO of the socket under test, bound as bbr_*, dctcp_*, tcpv_*
}

func newCodeRunner(out io.Writer) CodeRunner {
	ev := inlinecode.New()
	ev.Stdout = out
	return &codeRunner{ev: ev}
}

func (c *codeRunner) Exec(file string, line int, code string, info *unix.TCPInfo) error {
	vars := inlinecode.Vars{}
	if info != nil {
		vars = inlinecode.TCPInfoVars(info)
	}
	if c.mem != nil {
		vars = vars.Merge(inlinecode.MemInfoVars(c.mem))
	}
	if c.cc != nil {
		vars = vars.Merge(inlinecode.CCInfoVars(c.cc))
	}
	return c.ev.Exec(file, line, code, vars)
}

// memInfo reads SO_MEMINFO of the socket under test, which the reference
// also collects for every snippet (code.c, SK_MEMINFO_* variables).
func (r *runner) memInfo() []uint32 {
	if r.sut == nil || r.sut.liveFD < 0 {
		return nil
	}
	mem := make([]uint32, unix.SK_MEMINFO_VARS)
	l := uint32(4 * len(mem))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(r.sut.liveFD), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&mem[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return nil
	}
	return mem[:l/4]
}

// ccInfo reads TCP_CC_INFO of the socket under test, which the reference
// also collects for every snippet (code.c, write_tcp_cc_info): the
// congestion control's own state, bbr_* under BBR.
func (r *runner) ccInfo() []byte {
	if r.sut == nil || r.sut.liveFD < 0 || r.sut.proto != unix.IPPROTO_TCP {
		return nil
	}
	buf := make([]byte, 64) // union tcp_cc_info is 20 bytes today
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(r.sut.liveFD), unix.IPPROTO_TCP, unix.TCP_CC_INFO,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 || l == 0 {
		return nil
	}
	return buf[:l]
}
