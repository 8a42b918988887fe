package observe

import (
	"strings"
	"testing"
)

func TestSegmentOf(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want segment
	}{
		{"S 0:0(0) win 65535 <mss 1460>", segment{syn: true}},
		{"S. 0:0(0) ack 1 <...>", segment{syn: true, ack: true, ackNum: 1}},
		{"F. 1:1(0) ack 2 win 512", segment{fin: true, ack: true, start: 1, end: 1, ackNum: 2}},
		{"P. 1:1001(1000) ack 1", segment{ack: true, start: 1, end: 1001, ackNum: 1}},
		{"R 5:5(0)", segment{rst: true, start: 5, end: 5}},
		{"R. 4294967295:4294967295(0) ack 7", segment{rst: true, ack: true, start: 4294967295, end: 4294967295, ackNum: 7}},
	} {
		got, ok := segmentOf(scriptPacket("inbound", tc.in))
		if !ok || got != tc.want {
			t.Errorf("segmentOf(%q) = %+v, %v; want %+v", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := segmentOf(nil); ok {
		t.Error("segmentOf(nil) is a segment")
	}
	if _, ok := segmentOf(scriptPacket("inbound", "udp (10)")); ok {
		t.Error("a UDP packet is a TCP segment")
	}
}

// TestPeerModel runs the peer through scripted exchanges; "<" is a segment
// the peer sends, ">" one the kernel sends, "$" the end of the run.
func TestPeerModel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []string
		want  string
	}{
		{"passive kernel, peer's FIN acks ours", []string{
			"< S 0:0(0)", "> S. 0:0(0) ack 1", "< . 1:1(0) ack 1",
			"> F. 1:1(0) ack 1", "< F. 1:1(0) ack 2", "> . 2:2(0) ack 2", "$",
		}, "CLOSED SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED"},
		{"crossing FINs", []string{
			"< S 0:0(0)", "> S. 0:0(0) ack 1", "< . 1:1(0) ack 1",
			"> F. 1:1(0) ack 1", "< F. 1:1(0) ack 1", "> . 2:2(0) ack 2", "< . 2:2(0) ack 2", "$",
		}, "CLOSED SYN_SENT ESTABLISHED FIN_WAIT1 CLOSING TIME_WAIT"},
		{"active kernel, peer closes first", []string{
			"> S 0:0(0)", "< S. 0:0(0) ack 1", "> . 1:1(0) ack 1",
			"< F. 1:1(0) ack 1", "> . 1:1(0) ack 2", "> F. 1:1(0) ack 2", "< . 2:2(0) ack 2", "$",
		}, "LISTEN SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT"},
		{"reset", []string{"< S 0:0(0)", "> R. 0:0(0) ack 1", "$"}, "CLOSED SYN_SENT CLOSED"},
	} {
		var p peerModel
		var got []string
		for _, s := range tc.steps {
			if s == "$" {
				got = append(got, p.flush()...)
				continue
			}
			kind := map[byte]string{'<': "inbound", '>': "outbound"}[s[0]]
			seg, ok := segmentOf(scriptPacket(kind, s[2:]))
			if !ok {
				t.Fatalf("%s: bad step %q", tc.name, s)
			}
			if s[0] == '<' {
				before, own := p.send(seg)
				got = append(got, before...)
				if own != "" {
					got = append(got, own)
				}
			} else {
				got = append(got, p.sent(seg)...)
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s: peer went %s, want %s", tc.name, g, tc.want)
		}
	}
}
