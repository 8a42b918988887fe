package wire

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/godrill/godrill/parser"
)

// ethernet is the header in front of the packet a classifier sees at
// ingress: destination, source, EtherType.
func ethernet(etherType uint16, pkt []byte) []byte {
	b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, byte(etherType >> 8), byte(etherType)}
	return append(b, pkt...)
}

// ipv4Packet is a frame with an IPv4 header with ihl 32-bit words
// (options zeroed) from src, then, for TCP, a TCP header with the given
// flags.
func ipv4Packet(src string, ihl int, proto byte, fragOff uint16, tcpFlags byte) []byte {
	b := make([]byte, ihl*4+20)
	b[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(b[6:], fragOff)
	b[9] = proto
	copy(b[12:16], netip.MustParseAddr(src).AsSlice())
	copy(b[16:20], []byte{192, 168, 0, 1})
	b[ihl*4+13] = tcpFlags
	return ethernet(0x0800, b)
}

// ipv6Packet is a frame with an IPv6 header from src, then a TCP header
// with the given flags when next is TCP.
func ipv6Packet(src string, next byte, tcpFlags byte) []byte {
	b := make([]byte, 40+20)
	b[0] = 0x60
	b[6] = next
	copy(b[8:24], netip.MustParseAddr(src).AsSlice())
	b[40+13] = tcpFlags
	return ethernet(0x86dd, b)
}

const (
	flagRST = 0x04
	flagACK = 0x10
	tcp     = 6
	udp     = 17
)

// TestResetFilter runs the classifier's program, as assembled for the
// kernel, in x/net/bpf's interpreter, on Ethernet frames (what cls_bpf
// shows it at ingress too; in the kernel, TestWireResetGuard's run with
// the reference server): it drops (TC_ACT_SHOT, 2) TCP segments with RST
// from the peer, and passes (TC_ACT_OK, 0) the rest.
func TestResetFilter(t *testing.T) {
	for _, tt := range []struct {
		peer string
		name string
		pkt  []byte
		want int
	}{
		{"192.0.2.1", "RST|ACK from the peer", ipv4Packet("192.0.2.1", 5, tcp, 0, flagRST|flagACK), tcActShot},
		{"192.0.2.1", "RST behind IP options", ipv4Packet("192.0.2.1", 7, tcp, 0, flagRST), tcActShot},
		{"192.0.2.1", "RST, don't-fragment bit", ipv4Packet("192.0.2.1", 5, tcp, 0x4000, flagRST), tcActShot},
		{"192.0.2.1", "ACK from the peer", ipv4Packet("192.0.2.1", 5, tcp, 0, flagACK), tcActOK},
		{"192.0.2.1", "RST from another address", ipv4Packet("192.0.2.2", 5, tcp, 0, flagRST), tcActOK},
		{"192.0.2.1", "UDP from the peer", ipv4Packet("192.0.2.1", 5, udp, 0, flagRST), tcActOK},
		{"192.0.2.1", "a later fragment", ipv4Packet("192.0.2.1", 5, tcp, 0x0010, flagRST), tcActOK},
		{"192.0.2.1", "truncated", ipv4Packet("192.0.2.1", 5, tcp, 0, flagRST)[:44], tcActOK},
		{"::ffff:192.0.2.1", "mapped peer, IPv4 RST", ipv4Packet("192.0.2.1", 5, tcp, 0, flagRST|flagACK), tcActShot},
		{"fd3d:fa7b:d17d::1", "IPv6 RST from the peer", ipv6Packet("fd3d:fa7b:d17d::1", tcp, flagRST|flagACK), tcActShot},
		{"fd3d:fa7b:d17d::1", "IPv6 ACK from the peer", ipv6Packet("fd3d:fa7b:d17d::1", tcp, flagACK), tcActOK},
		{"fd3d:fa7b:d17d::1", "IPv6 RST from another address", ipv6Packet("fd3d:fa7b:d17d::2", tcp, flagRST), tcActOK},
		{"fd3d:fa7b:d17d::1", "IPv6 RST, last word differs", ipv6Packet("fd3d:fa7b:d17d::1:1", tcp, flagRST), tcActOK},
		{"fd3d:fa7b:d17d::1", "IPv6 UDP", ipv6Packet("fd3d:fa7b:d17d::1", udp, flagRST), tcActOK},
	} {
		raw, err := resetFilter(netip.MustParseAddr(tt.peer))
		if err != nil {
			t.Fatal(err)
		}
		prog, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatalf("%s: program does not disassemble: %v", tt.name, prog)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := vm.Run(tt.pkt)
		if err != nil || got != tt.want {
			t.Errorf("%s (peer %s): %d, %v; want %d", tt.name, tt.peer, got, err, tt.want)
		}
	}
	if _, err := resetFilter(netip.Addr{}); err == nil {
		t.Error("no peer: no error")
	}
}

// TestSockFilters: the program goes to the kernel as struct sock_filter
// {u16 code; u8 jt; u8 jf; u32 k}, host byte order.
func TestSockFilters(t *testing.T) {
	b := sockFilters([]bpf.RawInstruction{{Op: 0x15, Jt: 1, Jf: 2, K: 0x01020304}, {Op: 0x06, K: 2}})
	want := binary.NativeEndian.AppendUint16(nil, 0x15)
	want = append(want, 1, 2)
	want = binary.NativeEndian.AppendUint32(want, 0x01020304)
	want = binary.NativeEndian.AppendUint16(want, 0x06)
	want = append(want, 0, 0)
	want = binary.NativeEndian.AppendUint32(want, 2)
	if string(b) != string(want) {
		t.Errorf("% x, want % x", b, want)
	}
}

// logConn records the ops the client writes, in a log the test shares.
type logConn struct {
	net.Conn
	log *[]string
}

func (c logConn) Write(b []byte) (int, error) {
	if len(b) >= headerLen {
		*c.log = append(*c.log, strings.TrimPrefix(Op(binary.BigEndian.Uint32(b[4:])).String(), "WIRE_"))
	}
	return c.Conn.Write(b)
}

// logGuard records its installations in the log.
type logGuard struct{ log *[]string }

func (g logGuard) Install() error {
	*g.log = append(*g.log, "install")
	return nil
}

// TestGuardTail: the client link installs its guard once, just before
// the PACKETS_START of the last batch of packet events, or, when that
// batch injects a reset itself, after its PACKETS_DONE; never in a script
// without packets. The log holds, in order, each event the client takes
// up (its line), the ops it writes, and the installation.
func TestGuardTail(t *testing.T) {
	const head = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 < S 0:0(0) win 1000
+0 > S. 0:0(0) ack 1 <...>
+0 ` + "`true`" + `
`
	for _, tt := range []struct {
		name, script string
		want         string
	}{
		{"tail of commands", head + "+0 < . 1:1(0) ack 1 win 1000\n+0 `true`\n+0 `true`\n",
			"CLIENT_STARTING 1 2 PACKETS_START 3 4 5 install PACKETS_START 6 7 end"},
		{"ends on a packet", head + "+0 < . 1:1(0) ack 1 win 1000\n",
			"CLIENT_STARTING 1 2 PACKETS_START 3 4 5 install PACKETS_START end"},
		{"last batch injects a reset", head + "+0 < R. 1:1(0) ack 1 win 1000\n+0 `true`\n+0 `true`\n",
			"CLIENT_STARTING 1 2 PACKETS_START 3 4 5 PACKETS_START 6 install 7 end"},
		{"no packets", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `true`\n",
			"CLIENT_STARTING 1 2 end"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			script, err := parser.Parse("t.pkt", []byte(tt.script), parser.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var log []string
			cp, sp := net.Pipe()
			defer cp.Close()
			defer sp.Close()
			serverDone := make(chan error, 1)
			go func() {
				l := NewServerLink(NewConn(sp))
				err := l.Start()
				for _, ev := range append(script.Events, nil) {
					if err == nil {
						err = l.NextEvent(ev)
					}
				}
				serverDone <- err
			}()
			l := NewClientLink(NewConn(logConn{cp, &log}), nil)
			l.GuardTail(script.Events, logGuard{&log})
			if err := l.Start(); err != nil {
				t.Fatal(err)
			}
			for _, ev := range script.Events {
				log = append(log, fmt.Sprint(ev.Pos.Line))
				if err := l.NextEvent(ev); err != nil {
					t.Fatalf("event at line %d: %v", ev.Pos.Line, err)
				}
			}
			if err := l.NextEvent(nil); err != nil {
				t.Fatalf("end: %v", err)
			}
			log = append(log, "end")
			if err := <-serverDone; err != nil {
				t.Errorf("server: %v", err)
			}
			if got := strings.Join(log, " "); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
