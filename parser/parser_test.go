package parser

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/*.txt")

// chunk is one script of a testdata file: the text between "---" lines.
type chunk struct {
	line    int // line of the chunk's first line in the file
	src     string
	defines map[string]string
	want    map[int][]*regexp.Regexp // expected errors by chunk line
}

var wantRE = regexp.MustCompile(`###\s*(.*)$`)

// readChunks splits a testdata file. A line ending in `### "regexp"`
// expects an error matching regexp on that line (several quoted regexps may
// follow); a line `### -D NAME=value` defines NAME for the chunk.
func readChunks(t *testing.T, path string) []chunk {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var chunks []chunk
	cur := chunk{line: 1, defines: map[string]string{}, want: map[int][]*regexp.Regexp{}}
	var lines []string
	flush := func() {
		cur.src = strings.Join(lines, "\n") + "\n"
		chunks = append(chunks, cur)
		lines = nil
	}
	for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "---" {
			flush()
			cur = chunk{line: i + 2, defines: map[string]string{}, want: map[int][]*regexp.Regexp{}}
			continue
		}
		if m := wantRE.FindStringSubmatch(l); m != nil {
			l = l[:len(l)-len(m[0])]
			rest := strings.TrimSpace(m[1])
			if d, ok := strings.CutPrefix(rest, "-D "); ok {
				name, val, _ := strings.Cut(d, "=")
				cur.defines[name] = val
			} else {
				for rest != "" {
					q, err := strconv.QuotedPrefix(rest)
					if err != nil {
						t.Fatalf("%s:%d: bad ### expectation: %v", path, i+1, err)
					}
					s, _ := strconv.Unquote(q)
					ln := len(lines) + 1
					cur.want[ln] = append(cur.want[ln], regexp.MustCompile(s))
					rest = strings.TrimSpace(rest[len(q):])
				}
			}
		}
		lines = append(lines, l)
	}
	flush()
	return chunks
}

// TestScripts parses each chunk of testdata/*.txt, checks the errors it
// expects and compares the printed trees of good chunks with
// testdata/*.golden (go test -update rewrites them).
func TestScripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, file := range files {
		var out bytes.Buffer
		for i, c := range readChunks(t, file) {
			if i > 0 {
				out.WriteString("---\n")
			}
			s, err := Parse("x.pkt", []byte(c.src), Options{Defines: c.defines})
			var list ErrorList
			if err != nil && !errors.As(err, &list) {
				t.Fatalf("%s:%d: error is %T, not ErrorList", file, c.line, err)
			}
			for _, e := range list {
				res := c.want[e.Pos.Line]
				matched := false
				for j, re := range res {
					if re != nil && re.MatchString(e.Msg) {
						res[j] = nil
						matched = true
						break
					}
				}
				if !matched {
					t.Errorf("%s:%d: unexpected error: %s", file, c.line+e.Pos.Line-1, e.Detail())
				}
			}
			for ln, res := range c.want {
				for _, re := range res {
					if re != nil {
						t.Errorf("%s:%d: expected error matching %q, got none", file, c.line+ln-1, re)
					}
				}
			}
			if len(c.want) > 0 {
				out.WriteString("(errors)\n")
				continue
			}
			if s != nil {
				out.WriteString(Sprint(s))
			}
		}
		golden := strings.TrimSuffix(file, ".txt") + ".golden"
		if *update {
			if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if got := out.String(); got != string(want) {
			t.Errorf("%s: printed trees differ from %s (go test -update to accept):\n%s", file, golden, diffLines(string(want), got))
		}
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			b.WriteString("- " + a + "\n+ " + c + "\n")
		}
	}
	return b.String()
}

func mustParse(t *testing.T, src string, opts Options) *Script {
	t.Helper()
	s, err := Parse("t.pkt", []byte(src), opts)
	if err != nil {
		t.Fatalf("parse %q: %s", src, FormatError(err))
	}
	return s
}

func TestTimes(t *testing.T) {
	for _, tc := range []struct {
		src        string
		kind       TimeKind
		start, end time.Duration
	}{
		{"0", TimeAbsolute, 0, 0},
		{"+0", TimeRelative, 0, 0},
		{"+.1", TimeRelative, 100 * time.Millisecond, 0},
		{"+0.000200", TimeRelative, 200 * time.Microsecond, 0},
		{"+1.5", TimeRelative, 1500 * time.Millisecond, 0},
		{"*", TimeAny, 0, 0},
		{"+.1~+.2", TimeRelativeRange, 100 * time.Millisecond, 200 * time.Millisecond},
		{"2~3.25", TimeAbsoluteRange, 2 * time.Second, 3250 * time.Millisecond},
		{"+0.0000000019", TimeRelative, 1, 0},
	} {
		s := mustParse(t, "0 `true`\n"+tc.src+" > . 1:1(0) ack 1\n", Options{})
		got := s.Events[1].Time
		if got.Kind != tc.kind || got.Start != tc.start || got.End != tc.end {
			t.Errorf("%q: got %+v", tc.src, got)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		text  string
		flags uint16
		ace   int // -1: none
	}{
		{"S", FlagSYN, -1},
		{"S.", FlagSYN | FlagACK, -1},
		{".", FlagACK, -1},
		{"-", 0, -1},
		{"F.", FlagFIN | FlagACK, -1},
		{"P.", FlagPSH | FlagACK, -1},
		{"R", FlagRST, -1},
		{"SEW", FlagSYN | FlagECE | FlagCWR, -1},
		{"SEWA", FlagSYN | FlagECE | FlagCWR | FlagAE, -1},
		{"U.", FlagURG | FlagACK, -1},
		{"S.5", FlagSYN | FlagACK | FlagECE | FlagAE, 5},
		{".6", FlagACK | FlagCWR | FlagAE, 6},
		{"S.0", FlagSYN | FlagACK, 0},
		{"S7", FlagSYN | FlagECE | FlagCWR | FlagAE, 7},
	} {
		s := mustParse(t, "0 > "+tc.text+" 0:0(0)\n", Options{})
		tcp := s.Events[0].Packet.TCP
		if tcp.Flags != tc.flags || tcp.FlagsText != tc.text {
			t.Errorf("%q: flags %#x text %q, want %#x", tc.text, tcp.Flags, tcp.FlagsText, tc.flags)
		}
		if (tcp.ACE == nil) != (tc.ace < 0) || (tcp.ACE != nil && int(*tcp.ACE) != tc.ace) {
			t.Errorf("%q: ace %v, want %d", tc.text, tcp.ACE, tc.ace)
		}
	}
	for _, bad := range []string{"SX", "S.Q", "SE5", "S.55", "x"} {
		if _, err := Parse("t.pkt", []byte("0 > "+bad+" 0:0(0)\n"), Options{}); err == nil {
			t.Errorf("flags %q: no error", bad)
		}
	}
}

func TestSeqRanges(t *testing.T) {
	for _, tc := range []struct {
		seq string
		ok  bool
	}{
		{"0:0(0)", true},
		{"1:1001(1000)", true},
		{"4294967295:4294967295(0)", true},
		{"4294967290:4(10)", true}, // wraps mod 2^32
		{"1:10(10)", false},
		{"1:1(65536)", false},
		{"4294967296:4294967296(0)", false},
	} {
		_, err := Parse("t.pkt", []byte("0 > . "+tc.seq+"\n"), Options{})
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.seq, err)
		}
	}
}

// TestOptionLengths checks the option lists the padding rule accepts, and
// the exact error of those it refuses ("" for none).
func TestOptionLengths(t *testing.T) {
	const pad = "t.pkt:1:21: TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: "
	for _, tc := range []struct{ opts, want string }{
		{"<nop,nop,sackOK>", ""},
		{"<mss 1460>", ""},
		{"<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>", ""},
		{"<nop,nop,TS val 1 ecr 2>", ""},
		{"<nop,nop,sack 1:2 3:4>", ""},
		{"<FO 0123456789abcdef,nop,nop>", ""},
		{"<FO,nop,nop>", ""},
		{"<FOEXP 0123456789abcdef>", ""},
		{"<FOEXP>", ""},
		{"<md5 000102030405060708090a0b0c0d0e0f,nop,nop>", ""},
		{"<ECN e0b 1 ceb 2 e1b 3,nop>", ""},
		{"<ECN e1b 1,nop,nop,nop>", ""},
		{"<ECN e0b 1 ceb 2>", ""},
		{"<eol,eol,eol,eol>", ""},
		{"<ECN e0b 1 ceb 2 e1b 3,nop,nop,nop>", pad + "2 excess bytes"},
		{"<mss 1460,nop>", pad + "1 excess bytes"},
		{"<wscale 7>", pad + "3 excess bytes"},
		{"<sackOK>", pad + "2 excess bytes"},
		{"<TS val 1 ecr 2>", pad + "2 excess bytes"},
		{"<sack 1:2>", pad + "2 excess bytes"},
		// The odd cookie is reported too, at 1:25, but one error a line is kept.
		{"<FO 012>", pad + "3 excess bytes"},
		{"<mss 70000>", "t.pkt:1:26: mss value 70000 out of range for 16 bits"},
		{"<wscale 256,nop>", "t.pkt:1:29: window scale shift count 256 out of range for 8 bits"},
		{"<ECN e0b 16777216,nop,nop,nop>", "t.pkt:1:30: TCP AccECN field value 16777216 out of range for 24 bits"},
		{"<sack 1:2 3:4 5:6 7:8 9:10,nop,nop>", "t.pkt:1:21: TCP option list too long: 44 bytes (at most 40)"},
		{"<bogus 1>", `t.pkt:1:22: unknown TCP option "bogus"`},
	} {
		_, err := Parse("t.pkt", []byte("0 > S. 0:0(0) ack 1 "+tc.opts+"\n"), Options{})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: got error %q, want %q", tc.opts, got, tc.want)
		}
	}
}

func TestExprs(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`...`, `...`},
		{`-1`, `-1`},
		{`0x1f`, `31`},
		{`AF_INET`, `AF_INET`},
		{`"a" "b"`, `"ab"`},
		{`"abc"...`, `"abc"...`},
		{`O_RDWR|O_NONBLOCK|O_CLOEXEC`, `(| (| O_RDWR O_NONBLOCK) O_CLOEXEC)`},
		{`[1]`, `[1]`},
		{`[]`, `[]`},
		{`{onoff=1, linger=0}`, `{onoff=1 linger=0}`},
		{`htons(8080)`, `htons(8080)`},
		{`inet_addr("192.0.2.1")`, `inet_addr("192.0.2.1")`},
		{`{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("1.2.3.4")}`,
			`{sa_family=AF_INET sin_port=htons(8080) sin_addr=inet_addr("1.2.3.4")}`},
		{`{msg_name(...)=..., msg_iov(1)=[{..., 10}], msg_flags=0}`,
			`{msg_name(...)=... msg_iov(1)=[{... 10}] msg_flags=0}`},
		{`[{fd=3, events=POLLIN, revents=POLLOUT|POLLIN}]`, `[{fd=3 events=POLLIN revents=(| POLLOUT POLLIN)}]`},
		{`{events=EPOLLIN, fd=5}`, `{events=EPOLLIN fd=5}`},
		{`{ (label 1, tc 0, [S], ttl 255) }`, `{(tuple label=1 tc=0 [S] ttl=255)}`},
		{`{flags [checksum present, key present], sum 0, off 0, key=5, seq 9}`,
			`{flags=[(pair checksum present) (pair key present)] sum=0 off=0 key=5 seq=9}`},
		{`x=1`, `(= x 1)`},
	} {
		s := mustParse(t, "0 f("+tc.src+") = 0\n", Options{})
		if got := SprintExpr(s.Events[0].Syscall.Args[0]); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.src, got, tc.want)
		}
	}
}

func TestDefines(t *testing.T) {
	src := "--define=SCRIPTED=7\n0 f(N, S, H, SCRIPTED, W, ack) = 0\n+0 C\n"
	s := mustParse(t, src, Options{Defines: map[string]string{
		"N": "42", "S": `"str"`, "C": "`cmd`", "H": "0x10", "W": "SOL_IP", "ack": "1",
	}})
	var got []string
	for _, a := range s.Events[0].Syscall.Args {
		got = append(got, SprintExpr(a))
	}
	if g := strings.Join(got, " "); g != `42 "str" 16 7 SOL_IP ack` {
		t.Errorf("args: %s", g)
	}
	if c := s.Events[1].Command; c == nil || c.Text != "cmd" {
		t.Errorf("command: %+v", s.Events[1])
	}
	// The command-line definition wins over the script's.
	s = mustParse(t, "--define=X=1\n0 f(X) = 0\n", Options{Defines: map[string]string{"X": "2"}})
	if g := SprintExpr(s.Events[0].Syscall.Args[0]); g != "2" {
		t.Errorf("X = %s, want 2", g)
	}
	// Definitions reach packet fields and option values.
	s = mustParse(t, "0 > S. 0:0(0) ack 1 <mss MSS,nop,nop,sackOK>\n", Options{Defines: map[string]string{"MSS": "1412"}})
	if v := s.Events[0].Packet.TCP.Options[0].Value; v != 1412 {
		t.Errorf("mss %d", v)
	}
	// Keywords are never replaced.
	s = mustParse(t, "0 > S. 0:0(0) ack 1\n", Options{Defines: map[string]string{"ack": "5"}})
	if a := *s.Events[0].Packet.TCP.Ack; a != 1 {
		t.Errorf("ack %d", a)
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("f.pkt", []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) # hi\n"), Options{})
	if err == nil {
		t.Fatal("no error")
	}
	want := "f.pkt:2:15: expected event time, found '#' ('#' is not a comment; use // or /* */)"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	d := FormatError(err)
	wantDetail := want + "\n+0 > S 0:0(0) # hi\n              ^"
	if d != wantDetail {
		t.Errorf("detail:\n%s\nwant:\n%s", d, wantDetail)
	}
	var list ErrorList
	if !errors.As(err, &list) || list.Err() == nil || ErrorList(nil).Err() != nil {
		t.Error("ErrorList/Err broken")
	}
	list = append(list, &Error{Pos: Pos{"f.pkt", 3, 1}, Msg: "x"})
	if !strings.HasSuffix(list.Error(), "(and 1 more errors)") {
		t.Errorf("list: %s", list.Error())
	}
}

// TestGiveUp checks that a parse stops after maxErrors errors: a script
// with an error on each of 100 lines reports the first maxErrors, in
// order, and then "too many errors".
func TestGiveUp(t *testing.T) {
	var b strings.Builder
	b.WriteString("0 `true`\n")
	for i := 0; i < 100; i++ {
		b.WriteString("+0 < S 0:0(0)\n") // no win: an error each
	}
	_, err := Parse("t.pkt", []byte(b.String()), Options{})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T %v", err, err)
	}
	// The limit is written out, not read from maxErrors: a parser that gave
	// up after one error, or never, must fail here.
	const limit = 10
	if len(list) != limit+1 {
		t.Fatalf("got %d errors, want %d and \"too many errors\": %s", len(list), limit, list.Detail())
	}
	for i, e := range list[:limit] {
		if e.Pos.Line != i+2 || e.Msg != "window must be specified for inbound packets" {
			t.Errorf("error %d: %s", i, e)
		}
	}
	if last := list[limit]; last.Msg != "too many errors" || last.Pos.Line != limit+1 {
		t.Errorf("last error: %s", last)
	}
	// In parallel too, whatever the batches.
	for _, sp := range splits {
		_, perr := parse("t.pkt", []byte(b.String()), Options{}, sp, false)
		if errText(perr) != errText(err) {
			t.Errorf("split %v: %s", sp, errText(perr))
		}
	}
}

func TestPositions(t *testing.T) {
	s := mustParse(t, "--tolerance_usecs=10000\n\n  0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n +0 < S 0:0(0) win 100 <mss 1460,nop,nop,sackOK>\n", Options{})
	if p := s.Options[0].Pos; p.Line != 1 || p.Col != 1 || p.File != "t.pkt" {
		t.Errorf("option pos %v", p)
	}
	e := s.Events[0]
	if e.Pos.Line != 3 || e.Pos.Col != 3 || e.Syscall.Pos.Col != 5 {
		t.Errorf("event pos %v syscall %v", e.Pos, e.Syscall.Pos)
	}
	if a := e.Syscall.Args[1].Position(); a.Line != 3 || a.Col != 17 {
		t.Errorf("arg pos %v", a)
	}
	pk := s.Events[1].Packet
	if pk.Pos.Line != 4 || pk.Pos.Col != 5 || pk.TCP.Options[1].Pos.Col != 34 {
		t.Errorf("packet pos %v, option %v", pk.Pos, pk.TCP.Options[1].Pos)
	}
}

// TestHuge parses a generated 10 MB script: it must finish quickly and
// without error.
func TestHuge(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var b bytes.Buffer
	b.WriteString("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
	for b.Len() < 10<<20 {
		b.WriteString("+0 write(4, ..., 1000) = 1000\n+0 > P. 1:1001(1000) ack 1 <nop,nop,TS val 100 ecr 700>\n")
	}
	start := time.Now()
	s, err := Parse("huge.pkt", b.Bytes(), Options{})
	if err != nil {
		t.Fatal(FormatError(err))
	}
	t.Logf("%d events in %v", len(s.Events), time.Since(start))
	// A huge file of garbage gives up after a few errors.
	garbage := bytes.Repeat([]byte("@@ (( [[ {{ \n"), 1<<16)
	if _, err := Parse("g.pkt", garbage, Options{}); err == nil {
		t.Fatal("garbage parsed")
	}
	colons := strings.Repeat("a:", 1<<19)
	start = time.Now()
	if _, err := Parse("c.pkt", []byte("0 f("+colons+") = 0\n"), Options{}); err == nil {
		t.Fatal("colons parsed")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("1 MB of a:a:... took %v", d)
	}
	deep := strings.Repeat("[", 1<<16)
	if _, err := Parse("d.pkt", []byte("0 f("+deep+") = 0\n"), Options{}); err == nil {
		t.Fatal("deep nesting parsed")
	}
}

// TestPrefixes parses every prefix of a script that uses most of the
// grammar: none may panic.
func TestPrefixes(t *testing.T) {
	src, err := os.ReadFile("testdata/grammar.txt")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= len(src); i++ {
		Parse("p.pkt", src[:i], Options{}) //nolint:errcheck // only panics matter
	}
}

// TestMalformed parses each script of ../testdata/malformed: each must fail
// with a file:line:col: error whose first error is at the line and matches
// the pattern listed in expect.txt.
func TestMalformed(t *testing.T) {
	dir := filepath.Join("..", "testdata", "malformed")
	data, err := os.ReadFile(filepath.Join(dir, "expect.txt"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.SplitN(l, " ", 3)
		if len(f) != 3 {
			t.Fatalf("bad expect line %q", l)
		}
		name, re := f[0], regexp.MustCompile(f[2])
		line, _ := strconv.Atoi(f[1])
		seen[name] = true
		path := filepath.Join(dir, name)
		_, err := ParseFile(path, Options{})
		if err == nil {
			t.Errorf("%s: parsed without error", name)
			continue
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Errorf("%s: error %T %v", name, err, err)
			continue
		}
		first := list[0]
		prefix := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:\d+:\d+: `)
		if !prefix.MatchString(first.Error()) {
			t.Errorf("%s: error %q lacks file:line:col:", name, first.Error())
		}
		if first.Pos.Line != line || !re.MatchString(first.Msg) {
			t.Errorf("%s: got %s, want line %d matching %q", name, first, line, re)
		}
		if strings.Contains(first.Msg, "internal error") {
			t.Errorf("%s: %s", name, first.Detail())
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pkt"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s is not listed in expect.txt", f)
		}
	}
	if len(files) < 40 {
		t.Errorf("only %d malformed scripts", len(files))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
		"0 < S 0:0(0) win 10 <mss 1460,nop,nop,sackOK>\n+0 > S. 0:0(0) ack 1 <...>\n",
		"--define=X=1\n`init`\n0 f({a=1, b=[1, 2]}, \"s\"...) = -1 EAGAIN (x)\n`cleanup`\n",
		"0 < ipv4 1.2.3.4 > 5.6.7.8: gre: mpls (label 1, tc 0, [S], ttl 2): [ect0] udp (10)\n",
		"+0...0.2 accept(3, ..., ...) = 4\n* > S.5 0:0(0) ack 1 <ECN e0b 1 ceb 2 e1b 3,nop>\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// The parallel parse must agree with the parse in order.
		compareSplits(t, "fuzz.pkt", src, Options{Defines: map[string]string{"X": "2"}})
		s, err := Parse("fuzz.pkt", src, Options{Defines: map[string]string{"X": "2"}})
		if err == nil {
			if s == nil {
				t.Fatal("nil script without error")
			}
			Sprint(s)
			return
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %T %v", err, err)
		}
		for _, e := range list {
			if strings.Contains(e.Msg, "internal error") {
				t.Fatalf("%s", e.Detail())
			}
			e.Detail()
		}
	})
}
