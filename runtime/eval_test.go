package runtime

import (
	"strings"
	"testing"

	"github.com/godrill/godrill/parser"
	"golang.org/x/sys/unix"
)

// argsOf parses one system call line and returns its arguments.
func argsOf(t *testing.T, line string) []parser.Expr {
	t.Helper()
	s, err := parser.Parse("t.pkt", []byte(line+"\n"), parser.Options{})
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return s.Events[0].Syscall.Args
}

func TestEvalInt(t *testing.T) {
	r := &runner{}
	for _, tc := range []struct {
		expr string
		want int64
	}{
		{"42", 42},
		{"-1", -1},
		{"0x1f", 31},
		{"SOL_TCP", unix.SOL_TCP},
		{"O_RDWR|O_NONBLOCK", unix.O_RDWR | unix.O_NONBLOCK},
		{"POLLIN|POLLOUT|POLLERR", unix.POLLIN | unix.POLLOUT | unix.POLLERR},
		{"htons(8080)", 0x901f},
		{"htonl(1)", 0x01000000},
		{`inet_addr("1.2.3.4")`, 0x04030201},
		{"[7]", 7},
		{"NULL", 0},
		{"EINPROGRESS", int64(unix.EINPROGRESS)},
		{"TCP_NLA_SND_CWND", 8},
		{"TCP_CA_LOSS", 4},
		{"SOF_TIMESTAMPING_OPT_ID", unix.SOF_TIMESTAMPING_OPT_ID},
		{"SCM_TSTAMP_ACK", unix.SCM_TSTAMP_ACK},
		{"EPOLLEXCLUSIVE", unix.EPOLLEXCLUSIVE},
		{"SPLICE_F_MORE", 4},
		{"CAP_NET_ADMIN", 12},
	} {
		got, err := r.evalInt(argsOf(t, "0 f("+tc.expr+") = 0")[0])
		if err != nil || got != tc.want {
			t.Errorf("%s = %d, %v; want %d", tc.expr, got, err, tc.want)
		}
	}
}

func TestEvalIntErrors(t *testing.T) {
	r := &runner{}
	for expr, want := range map[string]string{
		"SO_BOGUS":            "unknown symbol: 'SO_BOGUS'",
		`"abc"`:               "Bad type; actual: string expected: integer",
		"...":                 "Bad type; actual: ellipsis expected: integer",
		"{onoff=1, linger=0}": "Bad type; actual: linger expected: integer",
	} {
		_, err := r.evalInt(argsOf(t, "0 f("+expr+") = 0")[0])
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", expr, err, want)
		}
	}
}

func TestExprKind(t *testing.T) {
	for expr, want := range map[string]string{
		"{...,10}": "iovec",
		"{msg_name(...)=..., msg_iov(1)=[{...,0}], msg_flags=0}": "msghdr",
		"{fd=3, events=POLLIN}":                                  "pollfd",
		"{events=EPOLLIN, fd=3}":                                 "epollev",
		"{onoff=1, linger=0}":                                    "linger",
		"{cmsg_level=1, cmsg_type=2, cmsg_data=3}":               "cmsg",
		"{scm_sec=0, scm_nsec=1}":                                "scm_timestamping",
		`inet6_addr("::1")`:                                      "in6_addr",
		"[1, 2]":                                                 "list",
		"A|B":                                                    "integer",
	} {
		if got := exprKind(argsOf(t, "0 f("+expr+") = 0")[0]); got != want {
			t.Errorf("exprKind(%s) = %s, want %s", expr, got, want)
		}
	}
}

func TestSymbols(t *testing.T) {
	// Every name of the reference's table is known, with the Linux value.
	for name, want := range map[string]int64{
		"SO_REUSEADDR": unix.SO_REUSEADDR, "TCP_FASTOPEN_CONNECT": unix.TCP_FASTOPEN_CONNECT,
		"IPV6_RECVERR": unix.IPV6_RECVERR, "MSG_ZEROCOPY": unix.MSG_ZEROCOPY, "SO_EE_ORIGIN_ZEROCOPY": 5,
		"SIOCINQ": unix.SIOCINQ, "FIONREAD": 0x541b, "F_SETFL": unix.F_SETFL, "POLLRDNORM": 0x40,
		"TCP_INFINITE_SSTHRESH": 0x7fffffff, "EAGAIN": int64(unix.EAGAIN), "EWOULDBLOCK": int64(unix.EAGAIN),
		"CAP_SET": 1, "CAP_EFFECTIVE": 0, "TCP_NLA_SRTT": 22, "SCM_TIMESTAMPING_OPT_STATS": unix.SCM_TIMESTAMPING_OPT_STATS,
	} {
		if got, ok := LookupSymbol(name); !ok || got != want {
			t.Errorf("%s = %d, %v; want %d", name, got, ok, want)
		}
	}
	if len(linuxSymbols) < 400 {
		t.Errorf("only %d reference symbols", len(linuxSymbols))
	}
	if _, ok := LookupSymbol("SO_BOGUS"); ok {
		t.Error("SO_BOGUS is known")
	}
}

func TestPollFlags(t *testing.T) {
	if got := pollFlags(unix.POLLIN | unix.POLLOUT | unix.POLLRDHUP); got != "POLLIN|POLLOUT|POLLRDHUP" {
		t.Errorf("got %q", got)
	}
	if got := pollFlags(0); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestPrintable(t *testing.T) {
	if got := printable([]byte("ab\x00\xff")); got != `ab\x00\xff` {
		t.Errorf("got %q", got)
	}
}

// TestEvalAhead: what a call evaluated before its time is what it would
// have evaluated at its time, errors included, for every integer in its
// arguments and result; expressions it did not evaluate (strings, fds
// beyond its room) are evaluated at the call's time as before.
func TestEvalAhead(t *testing.T) {
	for _, line := range []string{
		"0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0",
		"0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0",
		"0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0",
		"0 setsockopt(3, SOL_SOCKET, SO_BOGUS, [1], 4) = -1 ENOPROTOOPT (Protocol not available)",
		`0 setsockopt(3, IPPROTO_IP, IP_MULTICAST_IF, inet_addr("1.2.3.4"), htons(4)) = 0`,
		"0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}, {fd=5, events=POLLIN, revents=0}], 2, 10) = 1",
		"0 f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, [11, 12]) = 13",
	} {
		s, err := parser.Parse("t.pkt", []byte(line+"\n"), parser.Options{})
		if err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		sc := s.Events[0].Syscall
		c := &call{r: &runner{}, sc: sc}
		c.evalAhead()
		if c.nAhead == 0 {
			t.Errorf("%s: nothing evaluated ahead", line)
		}
		var ints []parser.Expr
		var walk func(e parser.Expr)
		walk = func(e parser.Expr) {
			switch x := e.(type) {
			case *parser.ListExpr:
				for _, el := range x.Elems {
					walk(el)
				}
			case *parser.StructExpr:
				for _, f := range x.Fields {
					walk(f.Value)
				}
			default:
				ints = append(ints, e)
			}
		}
		for _, a := range sc.Args {
			walk(a)
		}
		walk(sc.Result)
		for _, e := range ints {
			want, wantErr := c.r.evalInt(e)
			got, gotErr := c.evalInt(e)
			if got != want || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Errorf("%s: %s = %d, %v ahead; %d, %v at the call", line, exprString(e), got, gotErr, want, wantErr)
			}
		}
	}
}
