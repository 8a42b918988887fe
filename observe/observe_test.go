package observe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// ev is a compact synthetic event: "ms kind summary [= result] | state".
func ev(line int, ms float64, kind, summary, result, state string) runtime.EventRecord {
	t := time.Duration(ms * float64(time.Millisecond))
	return runtime.EventRecord{
		Pos: parser.Pos{File: "simultaneous-close.pkt", Line: line}, Kind: kinds[kind],
		ScriptTime: t.Truncate(time.Millisecond), ActualTime: t,
		Summary: summary, Script: scriptPacket(kind, summary),
		Result: result, State: state, Verdict: runtime.VerdictOK,
	}
}

// scriptPacket is the packet the parser makes of an inbound or outbound
// line, as the runtime hands it to observers; nil for other kinds. It is
// parsed as outbound, which needs no window, then given its direction.
func scriptPacket(kind, summary string) *parser.Packet {
	if kind != "inbound" && kind != "outbound" {
		return nil
	}
	s, err := parser.Parse("fixture.pkt", []byte("0 > "+summary+"\n"), parser.Options{})
	if err != nil {
		panic(parser.FormatError(err))
	}
	p := s.Events[0].Packet
	if kind == "inbound" {
		p.Direction = parser.Inbound
	}
	return p
}

var kinds = map[string]runtime.EventKind{
	"inbound": runtime.KindInbound, "outbound": runtime.KindOutbound,
	"syscall": runtime.KindSyscall, "command": runtime.KindCommand, "code": runtime.KindCode,
}

// feed numbers the events, fills PrevState as the runtime does, and hands
// them to the observers.
func feed(recs []runtime.EventRecord, obs ...runtime.Observer) {
	last := ""
	for i := range recs {
		r := recs[i]
		r.Index = i
		r.PrevState = last
		if r.State != "" {
			last = r.State
		}
		for _, o := range obs {
			o.Event(&r)
		}
	}
}

func handshake() []runtime.EventRecord {
	return []runtime.EventRecord{
		ev(22, 0, "syscall", "socket(..., SOCK_STREAM, IPPROTO_TCP)", "3", ""),
		ev(23, 0.01, "syscall", "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4)", "0", ""),
		ev(24, 0.02, "syscall", "bind(3, ..., ...)", "0", ""),
		ev(25, 0.03, "syscall", "listen(3, 1)", "0", ""),
		ev(27, 100.05, "inbound", "S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>", "", "SYN_RECV"),
		ev(28, 100.1, "outbound", "S. 0:0(0) ack 1 <...>", "", "SYN_RECV"),
		ev(29, 110.02, "inbound", ". 1:1(0) ack 1 win 512", "", "ESTABLISHED"),
		ev(30, 110.3, "syscall", "accept(3, ..., ...)", "4", "ESTABLISHED"),
		ev(33, 150.01, "syscall", "close(4)", "0", "FIN_WAIT1"),
		ev(34, 150.03, "outbound", "F. 1:1(0) ack 1", "", "FIN_WAIT1"),
		ev(35, 150.5, "command", "`ss -tanH state fin-wait-1 | grep -q ':8080'`", "", "FIN_WAIT1"),
	}
}

// simultaneousClose is scripts/simultaneous-close.pkt: the peer's FIN
// acknowledges the kernel's.
func simultaneousClose() []runtime.EventRecord {
	return append(handshake(),
		ev(38, 160.02, "inbound", "F. 1:1(0) ack 2 win 512", "", "TIME_WAIT"),
		ev(39, 160.05, "outbound", ". 2:2(0) ack 2", "", "TIME_WAIT"),
		ev(40, 160.4, "command", "`ss -tanH state time-wait | grep -q ':8080'`", "", "TIME_WAIT"),
	)
}

// crossing is scripts/simultaneous-close-crossing.pkt: the FINs cross.
func crossing() []runtime.EventRecord {
	return append(handshake(),
		ev(38, 160.02, "inbound", "F. 1:1(0) ack 1 win 512", "", "CLOSING"),
		ev(39, 160.05, "outbound", ". 2:2(0) ack 2", "", "CLOSING"),
		ev(40, 160.4, "command", "`ss -tanH state closing | grep -q ':8080'`", "", "CLOSING"),
		ev(43, 180.01, "inbound", ". 2:2(0) ack 2 win 512", "", "TIME_WAIT"),
		ev(44, 180.3, "command", "`ss -tanH state time-wait | grep -q ':8080'`", "", "TIME_WAIT"),
	)
}

// failing is the simultaneous close where the kernel's last ACK is not
// what the script expects.
func failing() []runtime.EventRecord {
	recs := handshake()
	recs = append(recs, ev(38, 160.02, "inbound", "F. 1:1(0) ack 2 win 512", "", "TIME_WAIT"))
	f := ev(39, 160.05, "outbound", ". 2:2(0) ack 3", "", "TIME_WAIT")
	f.Verdict = runtime.VerdictFail
	f.Error = "simultaneous-close.pkt:39: error handling packet: live packet field tcp_ack_seq: expected: 3 (0x3) vs actual: 2 (0x2)\n" +
		"script packet:  0.160000 . 2:2(0) ack 3\nactual packet:  0.160047 . 2:2(0) ack 2 win 502"
	return append(recs, f)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./observe -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./observe -run %s -update rewrites it)\ngot:\n%s\nwant:\n%s", path, t.Name(), got, want)
	}
}

func TestDiagramGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		recs  []runtime.EventRecord
		ascii bool
		err   error
	}{
		{"simultaneous-close.diagram", simultaneousClose(), false, nil},
		{"simultaneous-close.ascii.diagram", simultaneousClose(), true, nil},
		{"simultaneous-close-crossing.diagram", crossing(), false, nil},
		{"failure.diagram", failing(), false, errors.New("reported by the failing event")},
		{"failure.ascii.diagram", failing(), true, errors.New("reported by the failing event")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDiagram(tc.ascii)
			d.SetAddrs("192.168.0.1:8080", "192.0.2.1:47013")
			feed(tc.recs, d)
			var b bytes.Buffer
			if err := d.Render(&b, tc.err); err != nil {
				t.Fatal(err)
			}
			for i, l := range strings.Split(b.String(), "\n") {
				if n := len([]rune(l)); n > 100 {
					t.Errorf("line %d is %d columns: %q", i+1, n, l)
				}
				if tc.ascii {
					for _, r := range l {
						if r > 0x7e {
							t.Errorf("line %d has non-ASCII %q", i+1, r)
							break
						}
					}
				}
			}
			golden(t, tc.name, b.String())
		})
	}
}

// TestDiagramSVG renders the diagram's goldens as SVG: each is a
// well-formed XML document with one arrow per packet event, and a failure
// is drawn in red with its error text.
func TestDiagramSVG(t *testing.T) {
	for _, tc := range []struct {
		name string
		recs []runtime.EventRecord
		err  error
	}{
		{"simultaneous-close.svg", simultaneousClose(), nil},
		{"simultaneous-close-crossing.svg", crossing(), nil},
		{"failure.svg", failing(), errors.New("reported by the failing event")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDiagram(false)
			d.SetAddrs("192.168.0.1:8080", "192.0.2.1:47013")
			feed(tc.recs, d)
			var b bytes.Buffer
			if err := d.RenderSVG(&b, tc.err); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.String())

			packets, fails := 0, 0
			for _, r := range tc.recs {
				if r.Kind == runtime.KindInbound || r.Kind == runtime.KindOutbound {
					packets++
				}
				if r.Verdict == runtime.VerdictFail {
					fails++
				}
			}
			arrows, failArrows, root := 0, 0, ""
			var texts []string
			dec := xml.NewDecoder(&b)
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed XML: %v", err)
				}
				switch tok := tok.(type) {
				case xml.StartElement:
					if root == "" {
						root = tok.Name.Local
					}
					for _, a := range tok.Attr {
						if a.Name.Local != "class" {
							continue
						}
						classes := strings.Fields(a.Value)
						if tok.Name.Local == "line" && slices.Contains(classes, "arrow") {
							arrows++
							if slices.Contains(classes, "fail") {
								failArrows++
							}
						}
					}
				case xml.CharData:
					texts = append(texts, string(tok))
				}
			}
			if root != "svg" {
				t.Errorf("root element %q, want svg", root)
			}
			if arrows != packets {
				t.Errorf("%d arrows, want one per packet event: %d", arrows, packets)
			}
			if failArrows != fails {
				t.Errorf("%d failed arrows, want %d", failArrows, fails)
			}
			all := strings.Join(texts, "\n")
			for _, want := range []string{"kernel", "peer (script)", "192.168.0.1:8080", "F. 1:1(0) ack 1", "0.150", "FIN_WAIT1", "close(4) = 0"} {
				if !strings.Contains(all, want) {
					t.Errorf("SVG lacks %q", want)
				}
			}
			if fails > 0 && !strings.Contains(all, "✗ simultaneous-close.pkt:39: error handling packet") {
				t.Errorf("SVG lacks the failure's error text")
			}
		})
	}
}

// TestDiagramStates checks the states each column shows, in order.
func TestDiagramStates(t *testing.T) {
	for _, tc := range []struct {
		recs         []runtime.EventRecord
		kernel, peer string
	}{
		{simultaneousClose(), "SYN_RECV ESTABLISHED FIN_WAIT1 TIME_WAIT", "CLOSED SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED"},
		{crossing(), "SYN_RECV ESTABLISHED FIN_WAIT1 CLOSING TIME_WAIT", "CLOSED SYN_SENT ESTABLISHED FIN_WAIT1 CLOSING TIME_WAIT"},
	} {
		d := NewDiagram(false)
		feed(tc.recs, d)
		var kernel, peer []string
		for _, l := range strings.Split(d.String(), "\n")[1:] { // skip the names
			cols := []rune(l)
			if len(cols) > kernelX {
				if s := strings.TrimSpace(string(cols[timeW:kernelX])); s != "" {
					kernel = append(kernel, s)
				}
			}
			if len(cols) > peerX+1 {
				peer = append(peer, strings.TrimSpace(string(cols[peerX+1:])))
			}
		}
		if got := strings.Join(kernel, " "); got != tc.kernel {
			t.Errorf("kernel states %q, want %q", got, tc.kernel)
		}
		if got := strings.Join(peer, " "); got != tc.peer {
			t.Errorf("peer states %q, want %q", got, tc.peer)
		}
	}
}

func TestTrace(t *testing.T) {
	var b bytes.Buffer
	feed(failing(), NewTrace(&b, false))
	golden(t, "failure.trace", b.String())
	for _, want := range []string{
		" 0.110020 < . 1:1(0) ack 1 win 512 ",
		"SYN_RECV → ESTABLISHED\n",
		"close(4) = 0",
		"ESTABLISHED → FIN_WAIT1\n",
		"FIN_WAIT1 → TIME_WAIT\n",
		"TIME_WAIT  ✗ simultaneous-close.pkt:39: error handling packet",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("trace lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	feed(simultaneousClose(), NewTrace(&b, true))
	if !strings.Contains(b.String(), "ESTABLISHED -> FIN_WAIT1\n") {
		t.Errorf("ASCII trace lacks ESTABLISHED -> FIN_WAIT1:\n%s", b.String())
	}
}
