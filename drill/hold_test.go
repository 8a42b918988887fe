package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godrill/godrill/parser"
)

func parseText(t *testing.T, text string) *parser.Script {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.pkt")
	os.WriteFile(p, []byte(text), 0o644)
	s, err := parser.ParseFile(p, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHoldDecision: a final sleep that outlasts the command timeout holds
// the run on a terminal; without one it does not, and the note says why;
// --hold always holds; a short sleep is an ordinary command.
func TestHoldDecision(t *testing.T) {
	long := parseText(t, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `sleep 1000000`\n")
	short := parseText(t, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `sleep 1`\n")
	none := parseText(t, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
	limit := time.Minute
	plain, held := &Invocation{}, &Invocation{Extras: Extras{Hold: true}}
	for _, tc := range []struct {
		name     string
		inv      *Invocation
		s        *parser.Script
		terminal bool
		hold     bool
		note     string
	}{
		{"sleep on a terminal", plain, long, true, true, ""},
		{"sleep without a terminal", plain, long, false, false, "stdin is not a terminal"},
		{"short sleep", plain, short, true, false, ""},
		{"no sleep", plain, none, true, false, ""},
		{"--hold without a terminal", held, none, false, true, ""},
	} {
		hold, note := holdDecision(tc.inv, tc.s, limit, tc.terminal)
		if hold != tc.hold || (tc.note == "") != (note == "") || !strings.Contains(note, tc.note) {
			t.Errorf("%s: hold %v, note %q", tc.name, hold, note)
		}
		if note != "" && !strings.HasSuffix(note, "\n") {
			t.Errorf("%s: note without a final newline", tc.name)
		}
	}
}

// TestHoldHookDropsSleep: in the child the final sleep gives way to the
// hold, and the message counts the events before it.
func TestHoldHookDropsSleep(t *testing.T) {
	s := parseText(t, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n+0 `sleep infinity`\n")
	if h := (Extras{}).holdHook("x.pkt", s, time.Minute, nil); h != nil || len(s.Events) != 3 {
		t.Fatalf("not held, yet the script changed (%d events)", len(s.Events))
	}
	if h := (Extras{Hold: true, RunID: "4"}).holdHook("x.pkt", s, time.Minute, nil); h == nil || len(s.Events) != 2 {
		t.Fatalf("held: %d events left, want 2", len(s.Events))
	}
	msg := holdMessage("x.pkt", "4", 2, &parser.Event{Pos: parser.Pos{Line: 3}, Command: &parser.Command{Text: "sleep infinity"}})
	for _, want := range []string{"all 2 events passed", "line 3 (`sleep infinity`)", "godrill exec 4 -- ss -tan", "tcpdump -i tun0", "godrill shell 4", "Ctrl-C"} {
		if !strings.Contains(msg, want) {
			t.Errorf("hold message lacks %q:\n%s", want, msg)
		}
	}
}
