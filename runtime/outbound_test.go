package runtime

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

// TestOutboundDiff runs the outbound check on built segments: the first
// differing field gives the reference's message, the table marks exactly
// the fields that differ, and live numbers are read in script space.
func TestOutboundDiff(t *testing.T) {
	const liveISN, peerISN = 1000000, 0
	s := newSocket(6)
	s.liveLocalISN, s.remoteISN = liveISN, peerISN
	ip := packet.IPFields{Src: netip.MustParseAddr("192.168.0.1"), Dst: netip.MustParseAddr("192.0.2.1")}
	segment := func(tf packet.TCPFields, payload []byte) sniffed {
		tf.SrcPort, tf.DstPort = 8080, 40000
		d, err := packet.Decode(packet.BuildTCP(ip, tf, payload))
		if err != nil {
			t.Fatal(err)
		}
		return sniffed{d: d}
	}
	for _, tc := range []struct {
		name, line string
		live       sniffed
		msg        string   // "" = passes
		differ     []string // fields marked in the table
	}{
		{"match", "P. 1:11(10) ack 1 win 100",
			segment(packet.TCPFields{Seq: liveISN + 1, Ack: 1, Flags: packet.PSH | packet.ACK, Window: 100}, make([]byte, 10)), "", nil},
		{"any window", "P. 1:11(10) ack 1",
			segment(packet.TCPFields{Seq: liveISN + 1, Ack: 1, Flags: packet.PSH | packet.ACK, Window: 7}, make([]byte, 10)), "", nil},
		{"ack and window differ: the first is reported", ". 1:1(0) ack 5 win 100",
			segment(packet.TCPFields{Seq: liveISN + 1, Ack: 4, Flags: packet.ACK, Window: 90}, nil),
			"live packet field tcp_ack_seq: expected: 5 (0x5) vs actual: 4 (0x4)", []string{"tcp_ack_seq", "tcp_window"}},
		{"length and flags", "F. 1:1(0) ack 1 win 100",
			segment(packet.TCPFields{Seq: liveISN + 1, Ack: 1, Flags: packet.PSH | packet.ACK, Window: 100}, make([]byte, 3)),
			"live packet field ipv4_total_length: expected: 40 (0x28) vs actual: 43 (0x2b)",
			[]string{"ipv4_total_length", "tcp_fin", "tcp_psh"}},
		{"payload not zero", "P. 1:3(2) ack 1 win 100",
			segment(packet.TCPFields{Seq: liveISN + 1, Ack: 1, Flags: packet.PSH | packet.ACK, Window: 100}, []byte{0, 1}),
			"incorrect outbound data payload", []string{"payload"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := parser.Parse("x.pkt", []byte("0 > "+tc.line+"\n"), parser.Options{})
			if err != nil {
				t.Fatal(parser.FormatError(err))
			}
			tcp := sc.Events[0].Packet.TCP
			want := expectedTCP(tcp, len(tc.live.d.TCP.Options()))
			got := liveTCP(s, tc.live.d)
			checks := append(ipHeaderChecks(tc.live.d, packet.ProtoTCP, want.length), compareTCP(want, got, false)...)
			checks = append(checks, payloadCheck(len(want.payload), got.payload))
			rows, msg := diffFields(checks)
			if msg != tc.msg {
				t.Errorf("message %q, want %q", msg, tc.msg)
			}
			var differ []string
			for _, r := range rows {
				if r.Differs {
					differ = append(differ, r.Field)
				}
			}
			if strings.Join(differ, ",") != strings.Join(tc.differ, ",") {
				t.Errorf("rows marked %v, want %v\n%s", differ, tc.differ, FormatDiff(rows))
			}
		})
	}
}
