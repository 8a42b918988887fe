package observe

// End-to-end tests: build godrill, run the simultaneous-close scripts
// against the kernel with --trace, --pcap, --json, --diagram and --svg,
// and read the outputs back. They need root and /dev/net/tun and skip without them.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/godrill/godrill/parser"
)

var (
	buildOnce sync.Once
	binDir    string // holds the godrill binary built for the tests
	binPath   string
	buildErr  error
	modRoot   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// godrill returns the path of a godrill binary built once for the tests,
// and the module root; it skips where a run cannot happen.
func godrill(t *testing.T) (bin, root string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: running scripts needs root (network namespaces and a TUN device)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("skipping: no TUN device: %v", err)
	}
	if testing.Short() {
		t.Skip("skipping kernel runs in -short mode")
	}
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %v", err)
			return
		}
		modRoot = filepath.Dir(strings.TrimSpace(string(out)))
		if binDir, buildErr = os.MkdirTemp("", "godrill-observe-test"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "godrill")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/godrill")
		cmd.Dir = modRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath, modRoot
}

// run runs one script with every observer on and returns stdout and the
// paths of the capture and the log.
type runOut struct {
	stdout, stderr string
	code           int
	pcap, json     string
	events         int // events in the script
}

func runScript(t *testing.T, script string, extra ...string) runOut {
	t.Helper()
	bin, root := godrill(t)
	if !filepath.IsAbs(script) {
		script = filepath.Join(root, script)
	}
	dir := t.TempDir()
	o := runOut{pcap: filepath.Join(dir, "run.pcap"), json: filepath.Join(dir, "run.jsonl")}
	args := append([]string{"run", "--trace", "--diagram", "--pcap", o.pcap, "--json", o.json}, extra...)
	// A run where godrill itself was late (exit 4: the kernel was not
	// tested at that line) runs again, as --retries 2 would, with fresh
	// output (the host steals this VM's CPUs in bursts that can span two
	// runs).
	for try := 0; try < 3; try++ {
		cmd := exec.Command(bin, append(args, script)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		o.code = 0
		switch {
		case err == nil:
		case errors.As(err, &ee):
			o.code = ee.ExitCode()
		default:
			t.Fatal(err)
		}
		o.stdout, o.stderr = stdout.String(), stderr.String()
		if o.code != 4 {
			break
		}
		t.Logf("retrying, godrill was late:\n%s", o.stderr)
	}
	s, err := parser.ParseFile(script, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.events = len(s.Events)
	return o
}

var traceLine = regexp.MustCompile(`^ *\d+\.\d{6} (.*?)(?:  +([A-Z_0-9]+(?: → [A-Z_0-9]+)?))?$`)

// traceStates reads the kernel states the trace reports, without repeats.
func traceStates(t *testing.T, stdout string) []string {
	var states []string
	for _, l := range strings.Split(stdout, "\n") {
		if l == "" {
			break // the diagram follows the trace after a blank line
		}
		m := traceLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("trace line %q is not \"time event  state\"", l)
		}
		if m[2] == "" {
			continue
		}
		s := m[2]
		if i := strings.LastIndex(s, " → "); i >= 0 {
			s = s[i+len(" → "):]
		}
		if len(states) == 0 || states[len(states)-1] != s {
			states = append(states, s)
		}
	}
	return states
}

// seg is a TCP segment as a script writes it: direction seen from the
// kernel, flags, and sequence numbers relative to each side's ISN.
type seg struct {
	dir      string // "<" inbound, ">" outbound
	flags    string
	seq, ack uint32
}

func (s seg) String() string { return fmt.Sprintf("%s %s %d ack %d", s.dir, s.flags, s.seq, s.ack) }

// readPcap reads a capture back with gopacket's pcap reader.
func readPcap(t *testing.T, path, kernelIP string) []seg {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeRaw {
		t.Errorf("link type %v, want Raw", r.LinkType())
	}
	var out []seg
	isn := map[string]uint32{}
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LinkTypeRaw, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			t.Errorf("packet %d is not IPv4/TCP: %v", len(out)+1, p)
			continue
		}
		dir, peerDir := "<", ">"
		if ip.SrcIP.String() == kernelIP {
			dir, peerDir = ">", "<"
		}
		if tcp.SYN {
			isn[dir] = tcp.Seq
		}
		s := seg{dir: dir, seq: tcp.Seq - isn[dir]}
		if tcp.ACK {
			s.ack = tcp.Ack - isn[peerDir]
		}
		for _, fl := range []struct {
			on bool
			ch string
		}{{tcp.FIN, "F"}, {tcp.SYN, "S"}, {tcp.RST, "R"}, {tcp.PSH, "P"}, {tcp.ACK, "."}} {
			if fl.on {
				s.flags += fl.ch
			}
		}
		out = append(out, s)
	}
	return out
}

// checkCapture compares the capture with the scripted packets. After them
// the runtime resets the connection it leaves open: one inbound RST.
func checkCapture(t *testing.T, path string, want []seg) {
	got := readPcap(t, path, "192.168.0.1")
	if len(got) < len(want) {
		t.Fatalf("capture has %d packets, want %d scripted:\n%v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("packet %d: %v, want %v", i+1, got[i], w)
		}
	}
	for i, g := range got[len(want):] {
		if g.dir != "<" || !strings.Contains(g.flags, "R") {
			t.Errorf("packet %d after the script: %v, want the runtime's inbound RST", len(want)+i+1, g)
		}
	}
}

// checkLog checks one JSON record per event, in order.
func checkLog(t *testing.T, path string, events int) []Record {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("log line %d: %v: %s", len(recs)+1, err, sc.Bytes())
		}
		if r.Index != len(recs) {
			t.Errorf("log line %d has index %d", len(recs)+1, r.Index)
		}
		recs = append(recs, r)
	}
	if len(recs) != events {
		t.Errorf("log has %d records, script has %d events", len(recs), events)
	}
	return recs
}

// checkSVG reads the --svg file back: a well-formed SVG document with
// one arrow per packet.
func checkSVG(t *testing.T, path string, packets int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	root, arrows := "", 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", path, err)
		}
		if el, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = el.Name.Local
			}
			for _, a := range el.Attr {
				if el.Name.Local == "line" && a.Name.Local == "class" && slices.Contains(strings.Fields(a.Value), "arrow") {
					arrows++
				}
			}
		}
	}
	if root != "svg" || arrows != packets {
		t.Errorf("%s: root <%s> with %d arrows, want <svg> with %d", path, root, arrows, packets)
	}
}

var handshakeSegs = []seg{
	{"<", "S", 0, 0},
	{">", "S.", 0, 1},
	{"<", ".", 1, 1},
	{">", "F.", 1, 1},
}

func TestKernelSimultaneousClose(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "run.svg")
	o := runScript(t, "scripts/simultaneous-close.pkt", "--svg", svg)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	checkSVG(t, svg, 6)
	if got, want := strings.Join(traceStates(t, o.stdout), " "), "LISTEN SYN_RECV ESTABLISHED FIN_WAIT1 TIME_WAIT"; got != want {
		t.Errorf("kernel states %s, want %s\n%s", got, want, o.stdout)
	}
	for _, want := range []string{"ESTABLISHED → FIN_WAIT1", "FIN_WAIT1 → TIME_WAIT"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	checkCapture(t, o.pcap, append(handshakeSegs[:4:4], seg{"<", "F.", 1, 2}, seg{">", ".", 2, 2}))
	recs := checkLog(t, o.json, o.events)
	if last := recs[len(recs)-1]; last.State != "TIME_WAIT" || last.Verdict != "ok" {
		t.Errorf("last record: %+v", last)
	}
	if !strings.Contains(o.stdout, "peer (script)") || !strings.Contains(o.stdout, "LAST_ACK") {
		t.Errorf("no diagram with the peer's inferred LAST_ACK:\n%s", o.stdout)
	}
}

func TestKernelSimultaneousCloseCrossing(t *testing.T) {
	o := runScript(t, "scripts/simultaneous-close-crossing.pkt")
	if o.code != 0 {
		t.Fatalf("exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	if got, want := strings.Join(traceStates(t, o.stdout), " "), "LISTEN SYN_RECV ESTABLISHED FIN_WAIT1 CLOSING TIME_WAIT"; got != want {
		t.Errorf("kernel states %s, want %s\n%s", got, want, o.stdout)
	}
	for _, want := range []string{"FIN_WAIT1 → CLOSING", "CLOSING → TIME_WAIT"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	checkCapture(t, o.pcap, append(handshakeSegs[:4:4],
		seg{"<", "F.", 1, 1}, seg{">", ".", 2, 2}, seg{"<", ".", 2, 2}))
	checkLog(t, o.json, o.events)
}

// TestKernelFailure: a script whose last ACK is wrong still gets its
// trace, capture, log and diagram, up to the failing event, marked.
func TestKernelFailure(t *testing.T) {
	_, root := godrill(t)
	src, err := os.ReadFile(filepath.Join(root, "scripts/simultaneous-close.pkt"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "+0 > . 2:2(0) ack 2", "+0 > . 2:2(0) ack 3", 1)
	if bad == string(src) {
		t.Fatal("script changed: cannot find its last ACK")
	}
	path := filepath.Join(t.TempDir(), "bad.pkt")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	o := runScript(t, path)
	if o.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", o.code, o.stdout, o.stderr)
	}
	if !strings.Contains(o.stdout, "✗ . 2:2(0) ack 3") || !strings.Contains(o.stdout, "✗ "+path) {
		t.Errorf("diagram does not mark the failing event:\n%s", o.stdout)
	}
	recs := checkLog(t, o.json, o.events-1) // the last command never ran
	if last := recs[len(recs)-1]; last.Verdict != "fail" || last.Packet != ". 2:2(0) ack 3" || last.Error == "" {
		t.Errorf("last record: %+v", last)
	}
	got := readPcap(t, o.pcap, "192.168.0.1")
	if len(got) < 6 || got[5] != (seg{">", ".", 2, 2}) {
		t.Errorf("capture lacks the kernel's real ACK: %v", got)
	}
}

// TestTshark reads a capture with tshark, which CI installs with
// DEBIAN_FRONTEND=noninteractive apt-get install -y tshark.
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("skipping: tshark not found (DEBIAN_FRONTEND=noninteractive apt-get install -y tshark)")
	}
	o := runScript(t, "scripts/simultaneous-close.pkt")
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stderr)
	}
	cmd := exec.Command(tshark, "-r", o.pcap, "-T", "fields", "-E", "separator=,",
		"-e", "ip.src", "-e", "tcp.flags.str", "-e", "tcp.seq", "-e", "tcp.ack")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"192.0.2.1,··········S·,0,0",
		"192.168.0.1,·······A··S·,0,1",
		"192.0.2.1,·······A····,1,1",
		"192.168.0.1,·······A···F,1,1",
		"192.0.2.1,·······A···F,1,2",
		"192.168.0.1,·······A····,2,2",
	}
	if len(lines) < len(want) {
		t.Fatalf("tshark shows %d packets, want at least %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("tshark packet %d: %q, want %q", i+1, lines[i], w)
		}
	}
}
