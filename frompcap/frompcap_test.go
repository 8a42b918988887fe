package frompcap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

var update = flag.Bool("update", false, "rewrite the golden scripts in testdata/")

// convertOne converts a capture that must give exactly one script, and
// checks that the script parses.
func convertOne(t *testing.T, capture []byte, opts Options) string {
	t.Helper()
	out, err := Convert(bytes.NewReader(capture), opts)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	if len(out) != 1 {
		t.Fatalf("got %d scripts, want 1", len(out))
	}
	if _, err := parser.Parse(out[0].Name, []byte(out[0].Text), parser.Options{}); err != nil {
		t.Fatalf("the script does not parse: %s\n%s", parser.FormatError(err), out[0].Text)
	}
	return out[0].Text
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".pkt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the converter's output (-update rewrites it); got:\n%s", path, got)
	}
}

// TestGolden converts made-up conversations and compares the scripts with
// testdata/*.pkt, which were read line by line when written.
func TestGolden(t *testing.T) {
	nop := packet.Option{Kind: packet.OptNOP}
	for _, tc := range []struct {
		name string
		cv   convo
		opts Options
	}{
		{"http-server", v4convo(httpLike()...), Options{}},
		{"http-client-ipv6", v6convo(httpLike()...), Options{Side: "remote"}},
		{"http-server-all-windows", v4convo(httpLike()...), Options{Windows: "all", ToleranceUsecs: 2000}},
		{"syn-unanswered", v4convo(
			seg{at: 0, flags: S, win: 64240, opts: synOpts(1, 0)},
			seg{at: 1000 * ms, flags: S, win: 64240, opts: synOpts(1001, 0)},
		), Options{}},
		{"retransmit-sack-reorder-linger", v4convo(
			seg{at: 0, flags: S, win: 64240, opts: synOpts(100, 0)},
			seg{at: 0, fromS: true, flags: SA, ack: 1, win: 65160, opts: synOpts(500, 100)},
			seg{at: 1 * ms, flags: A, seq: 1, ack: 1, win: 502, opts: ts(101, 500)},
			// Three small segments back to back: no Nagle (TCP_NODELAY).
			seg{at: 5 * ms, fromS: true, flags: PA, seq: 1, ack: 1, win: 509, opts: ts(505, 101), n: 1000},
			seg{at: 5 * ms, fromS: true, flags: PA, seq: 1001, ack: 1, win: 509, opts: ts(505, 101), n: 1000},
			seg{at: 5 * ms, fromS: true, flags: PA, seq: 2001, ack: 1, win: 509, opts: ts(505, 101), n: 1000},
			// The first is lost: the peer SACKs the others.
			seg{at: 6 * ms, flags: A, seq: 1, ack: 1, win: 502, opts: []packet.Option{nop, nop, packet.TSOption(106, 505), nop, nop, packet.SACKOption([][2]uint32{{1001, 3001}})}},
			seg{at: 7 * ms, fromS: true, flags: PA, seq: 1, ack: 1, win: 509, opts: ts(507, 106), n: 1000},
			seg{at: 8 * ms, flags: A, seq: 1, ack: 3001, win: 502, opts: ts(108, 507)},
			// The peer's data out of order: the second half first.
			seg{at: 20 * ms, flags: PA, seq: 101, ack: 3001, win: 502, opts: ts(120, 507), n: 100},
			seg{at: 20 * ms, fromS: true, flags: A, seq: 3001, ack: 1, win: 509, opts: []packet.Option{nop, nop, packet.TSOption(520, 120), nop, nop, packet.SACKOption([][2]uint32{{101, 201}})}},
			seg{at: 21 * ms, flags: PA, seq: 1, ack: 3001, win: 502, opts: ts(121, 520), n: 100},
			seg{at: 21 * ms, fromS: true, flags: A, seq: 3001, ack: 201, win: 509, opts: ts(521, 121)},
			// The server resets its open connection.
			seg{at: 30 * ms, fromS: true, flags: RA, seq: 3001, ack: 201, win: 509},
		), Options{}},
		{"loopback-mss-ecr-unmatched", v4convo(
			seg{at: 0, flags: S, win: 65495, opts: []packet.Option{packet.MSSOption(65495), packet.SACKOKOption(), packet.TSOption(7, 0), nop, packet.WScaleOption(7)}},
			seg{at: 0, fromS: true, flags: SA, ack: 1, win: 65483, opts: []packet.Option{packet.MSSOption(65495), packet.SACKOKOption(), packet.TSOption(9, 7), nop, packet.WScaleOption(7)}},
			// This ACK echoes 8, which the kernel never sent.
			seg{at: 1 * ms, flags: A, seq: 1, ack: 1, win: 512, opts: ts(8, 8)},
		), Options{}},
		{"raced-write", v4convo(
			seg{at: 0, flags: S, win: 64240, opts: synOpts(100, 0)},
			seg{at: 0, fromS: true, flags: SA, ack: 1, win: 65160, opts: synOpts(500, 100)},
			seg{at: 1 * ms, flags: A, seq: 1, ack: 1, win: 502, opts: ts(101, 500)},
			// A segment without PSH, an ACK, the rest of the write: within
			// the initial window, so one segment.
			seg{at: 2 * ms, fromS: true, flags: A, seq: 1, ack: 1, win: 509, opts: ts(502, 101), n: 1448},
			seg{at: 2 * ms, flags: A, seq: 1, ack: 1449, win: 502, opts: ts(102, 502)},
			seg{at: 2 * ms, fromS: true, flags: PA, seq: 1449, ack: 1, win: 509, opts: ts(502, 102), n: 2896},
			seg{at: 3 * ms, flags: A, seq: 1, ack: 4345, win: 502, opts: ts(103, 502)},
			// The same beyond the largest window seen (10 segments): kept as two.
			seg{at: 4 * ms, fromS: true, flags: A, seq: 4345, ack: 1, win: 509, opts: ts(504, 103), n: 1448},
			seg{at: 4 * ms, flags: A, seq: 1, ack: 5793, win: 502, opts: ts(104, 504)},
			seg{at: 4 * ms, fromS: true, flags: PA, seq: 5793, ack: 1, win: 509, opts: ts(504, 104), n: 14480},
			seg{at: 5 * ms, flags: A, seq: 1, ack: 20273, win: 502, opts: ts(105, 504)},
		), Options{}},
		{"options-eol-unknown", v4convo(
			seg{at: 0, flags: S, win: 1000, opts: []packet.Option{packet.MSSOption(1000), {Kind: 30, Data: []byte{0, 1}}, nop, nop, nop, {Kind: packet.OptEOL}}},
			seg{at: 0, fromS: true, flags: SA, ack: 1, win: 1000, opts: []packet.Option{packet.MSSOption(1000), {Kind: 30, Data: []byte{0, 1}}, nop, packet.WScaleOption(0), {Kind: packet.OptEOL}, {Kind: packet.OptEOL}, {Kind: packet.OptEOL}, {Kind: packet.OptEOL}}},
			seg{at: 0, fromS: true, flags: SA, ack: 1, win: 1000, opts: []packet.Option{packet.MSSOption(1000), nop, packet.WScaleOption(0), {Kind: packet.OptEOL}, {Kind: packet.OptEOL}, {Kind: packet.OptEOL}, {Kind: packet.OptEOL}}},
			seg{at: 1 * ms, flags: A, seq: 1, ack: 1, win: 1000},
		), Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Name = tc.name + ".pcap"
			golden(t, tc.name, convertOne(t, pcapOf(t, tc.cv, layers.LinkTypeEthernet, 0), opts))
		})
	}
}

// TestLinkTypes writes the same conversation with every link header the
// reader knows, as pcap, pcapng and gzipped pcap: each gives the same script.
func TestLinkTypes(t *testing.T) {
	for _, cv := range []convo{v4convo(httpLike()...), v6convo(httpLike()...)} {
		want := convertOne(t, pcapOf(t, cv, layers.LinkTypeRaw, 0), Options{})
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(pcapOf(t, cv, layers.LinkTypeRaw, 0))
		zw.Close()
		if got := convertOne(t, gz.Bytes(), Options{}); got != want {
			t.Errorf("gzipped pcap: the script differs from the raw-IP capture's:\n%s", got)
		}
		for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
			layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeIPv4, layers.LinkTypeIPv6, linkRawDLT12} {
			if got := convertOne(t, pcapOf(t, cv, lt, 0), Options{}); got != want {
				t.Errorf("pcap, link type %s: the script differs from the raw-IP capture's:\n%s", lt, got)
			}
			if got := convertOne(t, pcapngOf(t, cv, lt), Options{}); got != want {
				t.Errorf("pcapng, link type %s: the script differs from the raw-IP capture's:\n%s", lt, got)
			}
		}
	}
}

// TestSideSelection checks the default and the flags that choose the
// side under test.
func TestSideSelection(t *testing.T) {
	capture := pcapOf(t, v4convo(httpLike()...), layers.LinkTypeRaw, 0)
	for _, tc := range []struct {
		opts Options
		want string // in the header
	}{
		{Options{}, "is 10.0.0.1:80: it accepted the connection."},
		{Options{Side: "local"}, "is 10.0.0.1:80: it accepted the connection (--side local)"},
		{Options{Side: "remote"}, "is 10.0.0.2:40000: it opened the connection (--side remote)"},
		{Options{Local: "10.0.0.2"}, "is 10.0.0.2:40000: --local 10.0.0.2"},
		{Options{Local: "10.0.0.1:80"}, "is 10.0.0.1:80: --local 10.0.0.1:80"},
	} {
		if got := convertOne(t, capture, tc.opts); !strings.Contains(got, tc.want) {
			t.Errorf("%+v: the header does not say %q:\n%s", tc.opts, tc.want, got)
		}
	}
}

// TestErrors: captures that cannot become scripts give a message naming
// the packet, never a panic.
func TestErrors(t *testing.T) {
	udp := func() []byte {
		var buf bytes.Buffer
		w := pcapgo.NewWriter(&buf)
		w.WriteFileHeader(65535, layers.LinkTypeRaw)
		ip := packet.AppendIP(nil, packet.IPFields{Src: netipMust("10.0.0.1"), Dst: netipMust("10.0.0.2")}, packet.ProtoUDP, 8)
		ip = append(ip, 0, 53, 0, 53, 0, 8, 0, 0)
		w.WritePacket(gopacket.CaptureInfo{Timestamp: epoch, CaptureLength: len(ip), Length: len(ip)}, ip)
		return buf.Bytes()
	}()
	full := pcapOf(t, v4convo(httpLike()...), layers.LinkTypeEthernet, 0)
	unsupported := func() []byte {
		var buf bytes.Buffer
		w := pcapgo.NewWriter(&buf)
		w.WriteFileHeader(65535, layers.LinkTypeIEEE802_11)
		w.WritePacket(gopacket.CaptureInfo{Timestamp: epoch, CaptureLength: 4, Length: 4}, []byte{1, 2, 3, 4})
		return buf.Bytes()
	}()
	rstReply := v4convo(
		seg{at: 0, flags: S, win: 64240, opts: synOpts(1, 0)},
		seg{at: 0, fromS: true, flags: RA, ack: 1},
	)
	for _, tc := range []struct {
		name    string
		capture []byte
		opts    Options
		want    string
	}{
		{"not a capture", []byte("GET / HTTP/1.1\r\n\r\n"), Options{}, "not a pcap or pcapng capture"},
		{"empty", nil, Options{}, "not a capture: file ends too early"},
		{"no TCP", udp, Options{}, "no TCP segment in the capture (1 packets)"},
		{"mid-stream", pcapOf(t, v4convo(httpLike()[3:]...), layers.LinkTypeEthernet, 0), Options{},
			"connection 1: packet 1: connection 10.0.0.2:40000 > 10.0.0.1:80 is seen only from the middle"},
		{"snaplen", pcapOf(t, v4convo(httpLike()...), layers.LinkTypeEthernet, 40), Options{},
			"packet 1: the capture's snaplen cut it inside its TCP header"},
		{"cut file", full[:len(full)-10], Options{}, "packet 12: capture cut short: file ends too early"},
		{"unsupported link", unsupported, Options{}, "packet 1: unsupported link type 105"},
		{"no such end", full, Options{Local: "10.9.9.9"}, "no connection has the end 10.9.9.9"},
		{"bad side", full, Options{Side: "server"}, `--side must be local or remote, not "server"`},
		{"no such conn", full, Options{Conn: 2}, "no connection 2: the capture has 1"},
		{"never sends SYN", pcapOf(t, rstReply, layers.LinkTypeRaw, 0), Options{Local: "10.0.0.1"},
			"connection 1: packet 1: the side under test, 10.0.0.1:80, never sends a SYN"},
		{"no acceptor", pcapOf(t, rstReply, layers.LinkTypeRaw, 0), Options{Side: "local"},
			"connection 1: packet 1: --side local: no side of 10.0.0.2:40000 > 10.0.0.1:80 accepted the connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Convert(bytes.NewReader(tc.capture), tc.opts)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
	// A file cut inside its last packet still gives the earlier packets' script.
	out, err := Convert(bytes.NewReader(full[:len(full)-10]), Options{})
	var cut *CutError
	if len(out) != 1 || !errors.As(err, &cut) {
		t.Errorf("cut file: %d scripts, error %v; want 1 script and a CutError", len(out), err)
	}
}

// TestConnections: a 4-tuple reused by a new SYN is a second connection;
// a retransmitted SYN is not.
func TestConnections(t *testing.T) {
	first := httpLike()
	again := httpLike()
	for i := range again {
		again[i].at += 5000 * ms
	}
	segs := append(append([]seg{first[0], first[0]}, first[1:]...), again...)
	// The second connection's ISNs must differ: shift the client's.
	cv := v4convo(segs...)
	raw := cv.ipPackets()
	for _, ip := range raw[len(first)+1:] {
		tcp := packet.TCP(ip[20:])
		if tcp.SourcePort() == 40000 {
			tcp.SetSequenceNumber(tcp.SequenceNumber() + 77777)
		} else if tcp.Flags()&packet.ACK != 0 {
			tcp.SetAckNumber(tcp.AckNumber() + 77777)
		}
	}
	var frames []Frame
	for i, ip := range raw {
		frames = append(frames, Frame{Num: i + 1, Time: epoch.Add(segs[i].at), IP: ip})
	}
	conns, err := Connections(frames)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 2 || len(conns[0].Segs) != len(first)+1 || len(conns[1].Segs) != len(first) {
		var n []int
		for _, c := range conns {
			n = append(n, len(c.Segs))
		}
		t.Fatalf("got connections of %v segments, want [%d %d]", n, len(first)+1, len(first))
	}
}
