package runtime

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/godrill/godrill/parser"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestFailureReport pins the report format: the reference's lines, the
// script line with a caret, and the field table.
func TestFailureReport(t *testing.T) {
	f := &Failure{
		Pos:    parser.Pos{File: "x.pkt", Line: 3, Col: 4},
		Kind:   FailPacket,
		Msg:    "error handling packet: live packet field tcp_ack_seq: expected: 3 (0x3) vs actual: 2 (0x2)",
		Script: "script packet:  0.200622 . 1:1(0) ack 3",
		Actual: "actual packet:  0.203782 . 1:1(0) ack 2 win 63",
		Diff: []FieldDiff{
			{Field: "tcp_seq", Expected: "1", Actual: "1"},
			{Field: "tcp_ack_seq", Expected: "3", Actual: "2", Differs: true},
			{Field: "tcp_window", Expected: "-", Actual: "63"},
		},
	}
	src := []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n// comment\n\t+0 > . 1:1(0) ack 3\n")
	got := f.Report(src)
	golden := filepath.Join("testdata", "report.golden")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s (run with -update):\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
	if f.Error() != "x.pkt:3: error handling packet: live packet field tcp_ack_seq: expected: 3 (0x3) vs actual: 2 (0x2)\n"+
		"script packet:  0.200622 . 1:1(0) ack 3\nactual packet:  0.203782 . 1:1(0) ack 2 win 63" {
		t.Errorf("reference format changed:\n%s", f.Error())
	}
}
