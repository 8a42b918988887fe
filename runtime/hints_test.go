package runtime

import (
	"strings"
	"testing"
)

// TestFieldCol: the caret goes under the field that differs.
func TestFieldCol(t *testing.T) {
	line := "0.100 > S. 0:0(0) ack 1 win 512 <mss 1460,nop,nop,sackOK>  // ack 9 win 9"
	for field, want := range map[string]string{
		"time": "0.100", "tcp_syn": "S.", "tcp_ae": "S.", "tcp_seq": "0:0(0)", "payload": "0:0(0)",
		"tcp_ack_seq": "ack 1", "tcp_window": "win 512", "tcp_options": "<mss", "tcp_data_offset": "<mss",
	} {
		col := fieldCol(line, field)
		if col < 1 || !strings.HasPrefix(line[col-1:], want) {
			t.Errorf("fieldCol(%s) = %d, want the column of %q", field, col, want)
		}
	}
	if c := fieldCol("+0 close(4) = 0", "tcp_seq"); c != 0 {
		t.Errorf("a call line has no packet fields, got column %d", c)
	}
}

// TestFlagsHint: "SA" (SYN + AccECN AE) where the kernel sent a SYN-ACK
// gets a hint toward "S."; correct flags get none.
func TestFlagsHint(t *testing.T) {
	rows := []FieldDiff{{Field: "tcp_ack", Expected: "0", Actual: "1", Differs: true}}
	h := diffHints("+0 > SA 0:0(0) ack 1 <...>", rows)
	if len(h) != 1 || !strings.Contains(h[0], `SYN-ACK is "S."`) {
		t.Errorf("hint for SA: %q", h)
	}
	if h := diffHints("+0 > S. 0:0(0) ack 1 <...>", rows); h != nil {
		t.Errorf("hint for S.: %q", h)
	}
}
