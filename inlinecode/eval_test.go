package inlinecode

import (
	"errors"
	"strings"
	"testing"
)

// snippet is one %{ }% block of a test script: its first line in the script
// and its code.
type snippet struct {
	line int
	code string
}

// evalTests run their snippets in order in one Evaluator with vars bound.
// wantErr is "" for success, else "Kind" or "Kind: msg" of the first error,
// which must come from the last snippet, at wantLine.
var evalTests = []struct {
	name     string
	vars     Vars
	snippets []snippet
	wantOut  string
	wantErr  string
	wantLine int
}{
	{name: "assert pass", vars: Vars{"tcpi_snd_cwnd": 10},
		snippets: []snippet{{20, " assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd "}}},
	{name: "assert fail value message", vars: Vars{"tcpi_snd_cwnd": 7},
		snippets: []snippet{{20, " assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd "}},
		wantErr:  "AssertionError: 7", wantLine: 20},
	{name: "assert fail no message", vars: Vars{"tcpi_snd_cwnd": 7},
		snippets: []snippet{{5, "assert tcpi_snd_cwnd == 10"}},
		wantErr:  "AssertionError", wantLine: 5},
	{name: "assert message is lazy", vars: Vars{"tcpi_lost": 1},
		snippets: []snippet{{5, "assert tcpi_lost == 1, undefined_fn()"}},
		wantErr:  "NameError: name 'undefined_fn' is not defined", wantLine: 5},
	{name: "assert percent message", vars: Vars{"tcpi_snd_cwnd": 8},
		snippets: []snippet{{27, " assert tcpi_snd_cwnd == 10, 'cwnd=%d' % tcpi_snd_cwnd "}},
		wantErr:  "AssertionError: cwnd=8", wantLine: 27},
	{name: "assert tuple format", vars: Vars{"tcpi_ca_state": 1, "tcpi_min_rtt": 20, "tcpi_rtt": 30},
		snippets: []snippet{{9, "assert tcpi_ca_state == TCP_CA_Recovery, 'ca_state: %d min_rtt: %d rtt: %d' % (tcpi_ca_state, tcpi_min_rtt, tcpi_rtt)"}},
		wantErr:  "AssertionError: ca_state: 1 min_rtt: 20 rtt: 30", wantLine: 9},
	{name: "chained comparison pass", vars: Vars{"tcpi_rtt": 10000},
		snippets: []snippet{{3, "\nassert 5000 <= tcpi_rtt <= 20000, 'srtt=%d us' % tcpi_rtt\n"}}},
	{name: "chained comparison fail", vars: Vars{"tcpi_rtt": 30000},
		snippets: []snippet{{3, "\nassert 5000 <= tcpi_rtt <= 20000, 'srtt=%d us' % tcpi_rtt\n"}},
		wantErr:  "AssertionError: srtt=30000 us", wantLine: 4},
	{name: "chained comparison nested", vars: Vars{"x": 3},
		snippets: []snippet{{1, "assert (1 < x < 5) and max(0 <= x <= 2, x != 4 != 5), 'in (\"1<2<3\")'"}}},
	{name: "chained comparison three", vars: Vars{"x": 3},
		snippets: []snippet{{1, "assert 1 < 2 < x < 3, 'no'"}},
		wantErr:  "AssertionError: no", wantLine: 1},
	{name: "continuation lines map to their own line", vars: Vars{"tcpi_sndbuf_limited": 20000, "tcpi_busy_time": 1},
		snippets: []snippet{{28, " assert 19000 <= tcpi_sndbuf_limited <= 21000, tcpi_sndbuf_limited; \\\n\t assert 49000 <= tcpi_busy_time <= 52000, tcpi_busy_time;\\\n\n"}},
		wantErr:  "AssertionError: 1", wantLine: 29},
	{name: "bitwise", vars: Vars{"tcpi_options": 32 | 4},
		snippets: []snippet{{1, "assert (tcpi_options & TCPI_OPT_SYN_DATA) != 0, tcpi_options\nassert tcpi_options | 1 == 37 and tcpi_options ^ 4 == 32 and ~0 == -1 and 1 << 4 == 16 and 256 >> 4 == 16"}}},
	{name: "bitwise fail", vars: Vars{"tcpi_options": 4},
		snippets: []snippet{{11, " assert (tcpi_options & TCPI_OPT_SYN_DATA) != 0, tcpi_options "}},
		wantErr:  "AssertionError: 4", wantLine: 11},
	{name: "percent formatting", snippets: []snippet{{1, `
assert '%5d|%-4d|%04d|%x|%#x|%X|%o' % (42, 7, 7, 255, 255, 255, 8) == '   42|7   |0007|ff|0xff|FF|10', 'a'
assert '%.2f %6.1f %e %s %r %%' % (3.14159, 2.25, 1000.0, 'hi', 'hi') == "3.14    2.2 1.000000e+03 hi 'hi' %", 'b'
assert '%(a)s=%(b)d' % {'a': 'x', 'b': 3} == 'x=3', 'c'
assert '%d' % 3.9 == '3', 'd'
assert '%s' % None == 'None' and '%s' % True == 'True', 'e'
`}}},
	{name: "percent not enough args", snippets: []snippet{{1, "x = '%d %d' % 1"}},
		wantErr: "RuntimeError: not enough arguments for format string", wantLine: 1},
	{name: "persistence across snippets", vars: Vars{"tcpi_snd_cwnd": 58},
		snippets: []snippet{
			{108, " print(tcpi_snd_cwnd); cwnd = 58; assert tcpi_snd_cwnd == cwnd, tcpi_snd_cwnd "},
			{113, " cwnd += 1; assert cwnd == 59, cwnd "},
			{115, " cwnd += 10; assert tcpi_snd_cwnd == cwnd, tcpi_snd_cwnd "},
		},
		wantOut: "58\n", wantErr: "AssertionError: 58", wantLine: 115},
	{name: "user constant persists", vars: Vars{"tcpi_snd_ssthresh": 0x7fffffff},
		snippets: []snippet{{21, " TCP_INFINITE_SSTHRESH = 0x7fffffff "}, {36, " assert tcpi_snd_ssthresh == TCP_INFINITE_SSTHRESH, tcpi_snd_ssthresh "}}},
	{name: "print", snippets: []snippet{{1, "print('a', 1, True, None); print('x', 'y', sep='-', end='!\\n'); print()"}},
		wantOut: "a 1 True None\nx-y!\n\n"},
	{name: "division", snippets: []snippet{{1, "assert 7 / 2 == 3.5 and 7 // 2 == 3 and -7 // 2 == -4 and -7 % 3 == 2, 'div'"}}},
	{name: "long ints", snippets: []snippet{{1, "x = 2**64 - 1; assert x + 1 == 18446744073709551616 and -2**2 == -4 and 2**3**2 == 512 and (1+1)**2 == 4 and 10L == 10 and 1_000 == 1000, x"}}},
	{name: "python builtins", snippets: []snippet{{1, "assert hex(255) == '0xff' and oct(8) == '0o10' and bin(5) == '0b101' and abs(-3) == 3 and min(2, 3) == 2 and max([1, 5]) == 5 and len('abc') == 3 and int(3.9) == 3 and round(2.5) == 2 and round(3.14159, 2) == 3.14 and pow(2, 10) == 1024 and sum([1, 2, 3]) == 6 and divmod(7, 2) == (3, 1) and math.sqrt(16) == 4, 'builtins'"}}},
	{name: "top-level control", vars: Vars{"tcpi_lost": 3},
		snippets: []snippet{{1, "\nn = 0\nfor i in range(tcpi_lost):\n    n += i\nif n == 3:\n    ok = True\nelse:\n    ok = False\nwhile n > 0:\n    n -= 1\nassert ok and n == 0, n\n"}}},
	{name: "def and is None", snippets: []snippet{{1, "\ndef f(x):\n    return x * 2\nassert f(2) == 4 and None is None and 1 is not None, 'f'\n"}}},
	{name: "indented block dedented", vars: Vars{"tcpi_lost": 0},
		snippets: []snippet{{1, "\n    assert tcpi_lost == 0, tcpi_lost\n    if True:\n        assert tcpi_lost == 1, 'lost=%d' % tcpi_lost\n"}},
		wantErr:  "AssertionError: lost=0", wantLine: 4},
	{name: "first line opens block", snippets: []snippet{{1, " if True:\n    x = 1\n    assert x == 2, x"}},
		wantErr: "AssertionError: 1", wantLine: 3},
	{name: "name error", snippets: []snippet{{40, "\n\nassert tcpi_nonexistent == 1, 1\n"}},
		wantErr: "NameError: name 'tcpi_nonexistent' is not defined", wantLine: 42},
	{name: "syntax error", snippets: []snippet{{7, "x = = 1"}},
		wantErr: "SyntaxError", wantLine: 7},
	{name: "runtime error", snippets: []snippet{{7, "\nx = 1 + 'a'"}},
		wantErr: "RuntimeError: unknown binary op: int + string", wantLine: 8},
	{name: "error in function maps to its line", snippets: []snippet{{10, "\ndef f():\n    assert False, 'inner'\nf()\n"}},
		wantErr: "AssertionError: inner", wantLine: 12},
	{name: "state constants", vars: Vars{"tcpi_state": 1, "tcpi_ca_state": 4},
		snippets: []snippet{{1, "assert tcpi_state == TCP_ESTABLISHED and tcpi_ca_state == TCP_CA_Loss and TCP_CLOSE == 7 and TCP_LISTEN == 10, 'c'"}}},
	{name: "snapshot rebinds user assignment", vars: Vars{"tcpi_lost": 5},
		snippets: []snippet{{1, "tcpi_lost = 99"}, {2, "assert tcpi_lost == 5, tcpi_lost"}}},
}

func TestExec(t *testing.T) {
	for _, tt := range evalTests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			e := New()
			e.Stdout = &out
			var err error
			for i, s := range tt.snippets {
				err = e.Exec("test.pkt", s.line, s.code, tt.vars)
				if err != nil && i != len(tt.snippets)-1 {
					t.Fatalf("snippet %d: %v", i, err)
				}
			}
			if out.String() != tt.wantOut {
				t.Errorf("output %q, want %q", out.String(), tt.wantOut)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want *Error %q", err, err, tt.wantErr)
			}
			got := string(ce.Kind)
			if ce.Msg != "" && strings.Contains(tt.wantErr, ":") {
				got += ": " + ce.Msg
			}
			if got != tt.wantErr || ce.Line != tt.wantLine || ce.File != "test.pkt" {
				t.Errorf("error %q at line %d (%v), want %q at line %d", got, ce.Line, err, tt.wantErr, tt.wantLine)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := New()
	err := e.Exec("a.pkt", 20, " assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd ", Vars{"tcpi_snd_cwnd": 7})
	if got, want := err.Error(), "a.pkt:20: AssertionError: 7"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := err.(*Error).Source, "assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd"; got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		snippets []string
		wantErr  string // substring of the last snippet's error; "" for none
	}{
		{[]string{"assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd"}, ""},
		{[]string{"cwnd = tcpi_snd_cwnd", "assert tcpi_snd_cwnd == cwnd + 2"}, ""},
		{[]string{"assert tcpi_snd_cwnd == cwnd"}, "NameError: name 'cwnd' is not defined"},
		{[]string{"assert 1 <"}, "SyntaxError"},
	}
	for _, tt := range tests {
		e := New()
		var err error
		for _, s := range tt.snippets {
			err = e.Check("c.pkt", 1, s, Vars{"tcpi_snd_cwnd": 0})
		}
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%q: error %v, want %q", tt.snippets, err, tt.wantErr)
		}
	}
}
