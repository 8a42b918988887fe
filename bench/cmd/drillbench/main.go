// Command drillbench measures godrill, and optionally the reference
// packetdrill in the same run: timing fidelity, start-up cost, suite
// throughput and peak memory. The scripts it runs are generated into a
// temporary directory. See bench/README.md.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	godrillBin = flag.String("godrill", "godrill", "the godrill binary")
	reference  = flag.String("reference", "", "the reference packetdrill binary (optional)")
	events     = flag.Int("events", 300, "timed events in the fidelity script")
	startRuns  = flag.Int("startup-runs", 15, "runs of the two-line script")
	suiteSize  = flag.Int("scripts", 40, "scripts in the throughput suite")
	fidRuns    = flag.Int("fidelity-runs", 1, "runs of the fidelity script (errors pooled)")
	only       = flag.String("only", "fidelity,startup,throughput,memory,alternating,parallel,client,overhead",
		"sections to run, comma-separated")
)

// The reference runs with the kernel selftests' IPv4 flags (ksft_runner.sh).
var refArgs = []string{"--ip_version=ipv4", "--local_ip=192.168.0.1", "--gateway_ip=192.168.0.1",
	"--netmask_ip=255.255.0.0", "--remote_ip=192.0.2.1",
	"-D", "CMSG_LEVEL_IP=SOL_IP", "-D", "CMSG_TYPE_RECVERR=IP_RECVERR"}

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "drillbench")
	check(err)
	defer os.RemoveAll(dir)
	if p, err := exec.LookPath(*godrillBin); err == nil {
		*godrillBin, _ = filepath.Abs(p)
	}
	fmt.Printf("drillbench: godrill %s", *godrillBin)
	if *reference != "" {
		fmt.Printf(", reference %s", *reference)
	}
	fmt.Printf("; %d CPUs; load %s\n\n", goruntime.NumCPU(), loadavg())

	sections := map[string]func(string){
		"fidelity": fidelity, "startup": startup, "throughput": throughput, "memory": memory,
		"alternating": alternating, "parallel": parallel, "client": client, "overhead": overhead,
	}
	for _, name := range strings.Split(*only, ",") {
		run, ok := sections[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "drillbench: unknown section %q\n", name)
			os.Exit(2)
		}
		run(dir)
	}
}

// --- (1) timing fidelity ------------------------------------------------------

// fidelityScript writes a passive open, then n events at absolute times
// 5-10 ms apart alternating an inbound pure ACK and a setsockopt; it
// returns the scripted times of the inbound packets and of the
// setsockopt calls, in order.
func fidelityScript(dir string, n int) (path string, in, calls []time.Duration) {
	var b strings.Builder
	b.WriteString(passiveOpen(512))
	in = []time.Duration{100 * time.Millisecond, 110 * time.Millisecond}
	rng := rand.New(rand.NewPCG(1, 2))
	t := 110 * time.Millisecond
	for i := range n {
		t += time.Duration(5000+rng.IntN(5001)) * time.Microsecond
		ts := fmt.Sprintf("%.6f", t.Seconds())
		if i%2 == 0 {
			fmt.Fprintf(&b, "%s < . 1:1(0) ack 1 win %d\n", ts, 512+i%64)
			in = append(in, t)
		} else {
			fmt.Fprintf(&b, "%s setsockopt(4, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0\n", ts)
			calls = append(calls, t)
		}
	}
	path = filepath.Join(dir, "fidelity.pkt")
	check(os.WriteFile(path, []byte(b.String()), 0o644))
	return path, in, calls
}

var (
	injectRE  = regexp.MustCompile(`^inbound injected packet:\s+([0-9.]+)`)
	syscallRE = regexp.MustCompile(`^(\w+) syscall:\s+([0-9.]+)`)
)

// actualTimes reads -v output: inbound injection times and setsockopt
// times (relative to the socket call for the reference, which prints
// syscall times on the wall clock).
func actualTimes(out []byte) (in, calls []time.Duration) {
	var base float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := injectRE.FindStringSubmatch(line); m != nil {
			in = append(in, secs(m[1]))
			continue
		}
		if m := syscallRE.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			if m[1] == "socket" {
				if v > 1e6 { // wall clock
					base = v
				}
				continue
			}
			if m[1] == "setsockopt" {
				calls = append(calls, time.Duration(math.Round((v-base)*1e6))*time.Microsecond)
			}
		}
	}
	return in, calls
}

func secs(s string) time.Duration {
	v, _ := strconv.ParseFloat(s, 64)
	return time.Duration(math.Round(v*1e6)) * time.Microsecond
}

type stats struct{ median, p99, max time.Duration }

func summarize(d []time.Duration) stats {
	if len(d) == 0 {
		return stats{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	p99 := s[min(len(s)-1, int(math.Ceil(0.99*float64(len(s))))-1)]
	return stats{s[len(s)/2], p99, s[len(s)-1]}
}

func (s stats) String() string {
	return fmt.Sprintf("median %6.1f us  p99 %6.1f us  max %7.1f us",
		us(s.median), us(s.p99), us(s.max))
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }

// errorsOf pairs scripted and actual times and returns |actual-scripted|.
func errorsOf(script, actual []time.Duration) ([]time.Duration, error) {
	if len(script) != len(actual) {
		return nil, fmt.Errorf("%d scripted events but %d seen", len(script), len(actual))
	}
	var e []time.Duration
	for i := range script {
		d := actual[i] - script[i]
		e = append(e, max(d, -d))
	}
	return e, nil
}

func fidelity(dir string) {
	path, sin, scalls := fidelityScript(dir, *events)
	fmt.Printf("(1) timing fidelity: %d events 5-10 ms apart (+%d handshake packets), %d run(s)\n",
		*events, 2, *fidRuns)
	measure := func(name string, cmd func() *exec.Cmd) stats {
		var allIn, allCalls []time.Duration
		for range *fidRuns {
			c := cmd()
			out, err := c.CombinedOutput()
			if err != nil {
				fmt.Printf("    %s: %v\n%s\n", name, err, tail(out))
				return stats{}
			}
			ain, acalls := actualTimes(out)
			ein, err1 := errorsOf(sin, ain)
			ecalls, err2 := errorsOf(scalls, acalls)
			if err1 != nil || err2 != nil {
				fmt.Printf("    %s: %v %v\n", name, err1, err2)
				return stats{}
			}
			allIn, allCalls = append(allIn, ein...), append(allCalls, ecalls...)
		}
		all := append(slices.Clone(allIn), allCalls...)
		fmt.Printf("    %-9s inbound   %v\n", name, summarize(allIn))
		fmt.Printf("    %-9s syscalls  %v\n", "", summarize(allCalls))
		st := summarize(all)
		fmt.Printf("    %-9s all       %v\n", "", st)
		return st
	}
	g := measure("godrill", func() *exec.Cmd { return exec.Command(*godrillBin, "run", "-v", path) })
	if *reference != "" {
		r := measure("reference", func() *exec.Cmd { return refCommand(path, "-v") })
		if r.p99 > 0 {
			fmt.Printf("    ratio godrill/reference: median %.2f  p99 %.2f\n",
				ratio(g.median, r.median), ratio(g.p99, r.p99))
		}
	}
	fmt.Println()

	// Relative times: each step is timed from the previous event, so
	// lateness accumulates; the error of a step is |(t[i]-t[i-1]) - step|.
	rpath, steps := relativeScript(dir, *events)
	fmt.Printf("(1b) timing fidelity, relative steps: %d setsockopt calls +5..+10 ms apart, per-step error\n", *events)
	measureSteps := func(name string, c *exec.Cmd) stats {
		out, err := c.CombinedOutput()
		if err != nil {
			fmt.Printf("    %s: %v\n%s\n", name, err, tail(out))
			return stats{}
		}
		_, calls := actualTimes(out)
		if len(calls) != len(steps)+1 {
			fmt.Printf("    %s: %d calls seen, want %d\n", name, len(calls), len(steps)+1)
			return stats{}
		}
		var e []time.Duration
		var drift time.Duration
		for i, st := range steps {
			d := calls[i+1] - calls[i] - st
			drift += d
			e = append(e, max(d, -d))
		}
		sm := summarize(e)
		fmt.Printf("    %-9s steps     %v  (drift over the script %.1f us)\n", name, sm, us(drift))
		return sm
	}
	g = measureSteps("godrill", exec.Command(*godrillBin, "run", "-v", rpath))
	if *reference != "" {
		r := measureSteps("reference", refCommand(rpath, "-v"))
		if r.p99 > 0 {
			fmt.Printf("    ratio godrill/reference: median %.2f  p99 %.2f\n",
				ratio(g.median, r.median), ratio(g.p99, r.p99))
		}
	}
	fmt.Println()
}

// relativeScript writes a socket and n+1 setsockopt calls at relative
// times; it returns the n steps between the calls.
func relativeScript(dir string, n int) (string, []time.Duration) {
	var b strings.Builder
	b.WriteString("0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
	b.WriteString("+0.010 setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0\n")
	rng := rand.New(rand.NewPCG(3, 4))
	var steps []time.Duration
	for range n {
		st := time.Duration(5000+rng.IntN(5001)) * time.Microsecond
		steps = append(steps, st)
		fmt.Fprintf(&b, "+%.6f setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0\n", st.Seconds())
	}
	path := filepath.Join(dir, "relative.pkt")
	check(os.WriteFile(path, []byte(b.String()), 0o644))
	return path, steps
}

// refCommand runs the reference as the selftests do: in a fresh network
// namespace with lo up.
func refCommand(script string, extra ...string) *exec.Cmd {
	args := append(slices.Clone(refArgs), extra...)
	args = append(args, filepath.Base(script))
	cmd := exec.Command("unshare", append([]string{"-n", "sh", "-c",
		`ip link set lo up; exec "$0" "$@"`, *reference}, args...)...)
	cmd.Dir = filepath.Dir(script)
	return cmd
}

// --- (2) start-up -----------------------------------------------------------------

const twoLines = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n"

func startup(dir string) {
	path := filepath.Join(dir, "two-lines.pkt")
	check(os.WriteFile(path, []byte(twoLines), 0o644))
	fmt.Printf("(2) start-up: whole process of a two-line script, median of %d runs\n", *startRuns)
	time1 := func(name string, cmd func() *exec.Cmd) time.Duration {
		var d []time.Duration
		for range *startRuns {
			c := cmd()
			start := time.Now()
			out, err := c.CombinedOutput()
			if err != nil {
				fmt.Printf("    %s: %v\n%s\n", name, err, tail(out))
				return 0
			}
			d = append(d, time.Since(start))
		}
		st := summarize(d)
		fmt.Printf("    %-9s median %6.1f ms  max %6.1f ms\n", name, ms(st.median), ms(st.max))
		return st.median
	}
	g := time1("godrill", func() *exec.Cmd { return exec.Command(*godrillBin, "run", path) })
	if *reference != "" {
		r := time1("reference", func() *exec.Cmd { return refCommand(path) })
		if r > 0 {
			fmt.Printf("    ratio godrill/reference: %.2f\n", ratio(g, r))
		}
	}
	fmt.Println()
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// --- (3) suite throughput -------------------------------------------------------

// shortScript is a handshake, 50 ms of data, and a close: about 0.25 s.
const shortScript = `0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
0.100 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
0.110 < . 1:1(0) ack 1 win 512
+0 accept(3, ..., ...) = 4
0.120 < P. 1:1001(1000) ack 1 win 512
+0 > . 1:1(0) ack 1001
+0 read(4, ..., 2000) = 1000
0.150 write(4, ..., 100) = 100
+0 > P. 1:101(100) ack 1001
0.160 < . 1001:1001(0) ack 101 win 512
0.200 close(4) = 0
+0 > F. 101:101(0) ack 1001
0.210 < F. 1001:1001(0) ack 102 win 512
+0 > . 102:102(0) ack 1002
`

func throughput(dir string) {
	sdir := filepath.Join(dir, "suite")
	check(os.MkdirAll(sdir, 0o755))
	for i := range *suiteSize {
		check(os.WriteFile(filepath.Join(sdir, fmt.Sprintf("s%02d.pkt", i)), []byte(shortScript), 0o644))
	}
	fmt.Printf("(3) suite throughput: %d short scripts (0.21 s of script time each)\n", *suiteSize)
	run := func(j int) time.Duration {
		start := time.Now()
		out, err := exec.Command(*godrillBin, "run", "-j", strconv.Itoa(j), sdir).CombinedOutput()
		d := time.Since(start)
		if err != nil {
			fmt.Printf("    -j%d: %v\n%s\n", j, err, tail(out))
		}
		return d
	}
	j1, j2 := run(1), run(2)
	fmt.Printf("    godrill -j1  %6.2f s\n    godrill -j2  %6.2f s  (%.0f%% of -j1)\n", j1.Seconds(), j2.Seconds(), 100*ratio(j2, j1))
	if *reference != "" {
		start := time.Now()
		entries, _ := os.ReadDir(sdir)
		for _, e := range entries {
			if out, err := refCommand(filepath.Join(sdir, e.Name())).CombinedOutput(); err != nil {
				fmt.Printf("    reference %s: %v\n%s\n", e.Name(), err, tail(out))
			}
		}
		r := time.Since(start)
		fmt.Printf("    reference, one after another  %6.2f s  (godrill -j1 %.2fx, -j2 %.2fx of it)\n",
			r.Seconds(), ratio(j1, r), ratio(j2, r))
	}
	fmt.Println()
}

// --- (4) peak memory ----------------------------------------------------------------

func memory(dir string) {
	path := filepath.Join(dir, "short.pkt")
	check(os.WriteFile(path, []byte(shortScript), 0o644))
	fmt.Println("(4) peak memory of one script's processes (the short script)")
	// godrill --format json reports the child's peak RSS (its wait4); the
	// parent's own peak is sampled from /proc while it runs.
	cmd := exec.Command(*godrillBin, "run", "--format", "json", path)
	var out bytes.Buffer
	cmd.Stdout = &out
	check(cmd.Start())
	parentHWM := sampleHWM(cmd.Process.Pid)
	treePSS := samplePSS(cmd.Process.Pid)
	err := cmd.Wait()
	tree := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	var rep struct {
		Results []struct {
			MaxRSSKiB int64 `json:"max_rss_kib"`
		} `json:"results"`
	}
	if err != nil || json.Unmarshal(out.Bytes(), &rep) != nil || len(rep.Results) != 1 {
		fmt.Printf("    godrill: %v\n%s\n", err, tail(out.Bytes()))
		return
	}
	child := rep.Results[0].MaxRSSKiB
	parent := <-parentHWM
	pss := <-treePSS
	fmt.Printf("    godrill   parent %5.1f MiB + child %5.1f MiB = %5.1f MiB RSS  (largest one process, wait4: %.1f MiB)\n",
		mib(parent), mib(child), mib(parent+child), mib(tree))
	fmt.Printf("    godrill   peak PSS of parent + child together: %5.1f MiB (shared pages of the one binary counted once)\n", mib(pss))
	if *reference != "" {
		c := refCommand(path)
		if out, err := c.CombinedOutput(); err != nil {
			fmt.Printf("    reference: %v\n%s\n", err, tail(out))
			return
		}
		r := c.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
		fmt.Printf("    reference %5.1f MiB (largest one process, wait4)\n", mib(r))
		fmt.Printf("    ratio godrill (sum)/reference: %.2f\n", float64(parent+child)/float64(r))
	}
	fmt.Println()
}

// samplePSS polls the proportional set size (Pss in smaps_rollup: each
// shared page split between the processes mapping it) of pid and its
// children every millisecond, and sends the largest sum seen (KiB). Summing
// RSS instead counts the pages of the binary both processes run twice.
func samplePSS(pid int) <-chan int64 {
	ch := make(chan int64, 1)
	pssOf := func(p string) int64 {
		b, err := os.ReadFile("/proc/" + p + "/smaps_rollup")
		if err != nil {
			return 0
		}
		v, _ := statusField(string(b), "Pss:")
		return v
	}
	go func() {
		var peak int64
		self := strconv.Itoa(pid)
		for {
			if _, err := os.Stat("/proc/" + self + "/smaps_rollup"); err != nil {
				break
			}
			sum := pssOf(self)
			// Children hang off whichever thread started them.
			tasks, _ := os.ReadDir("/proc/" + self + "/task")
			for _, t := range tasks {
				if kids, err := os.ReadFile("/proc/" + self + "/task/" + t.Name() + "/children"); err == nil {
					for _, k := range strings.Fields(string(kids)) {
						sum += pssOf(k)
					}
				}
			}
			if sum > peak {
				peak = sum
			}
			time.Sleep(time.Millisecond)
		}
		ch <- peak
	}()
	return ch
}

// sampleHWM polls /proc/PID/status until the process exits and sends its
// last VmHWM (peak RSS, KiB).
func sampleHWM(pid int) <-chan int64 {
	ch := make(chan int64, 1)
	go func() {
		var last int64
		for {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				break
			}
			v, ok := statusField(string(b), "VmHWM:")
			if !ok { // a zombie has no memory fields
				break
			}
			last = v
			time.Sleep(time.Millisecond)
		}
		ch <- last
	}()
	return ch
}

func statusField(status, name string) (int64, bool) {
	for line := range strings.Lines(status) {
		if v, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// --- helpers --------------------------------------------------------------------

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "drillbench:", err)
		os.Exit(1)
	}
}

// passiveOpen is the start of every generated script: a listener, the
// peer's handshake (its ACK advertising window ackWin) and the accept,
// done by 0.110.
func passiveOpen(ackWin int) string {
	return fmt.Sprintf(`0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
0.100 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
0.110 < . 1:1(0) ack 1 win %d
+0 accept(3, ..., ...) = 4
`, ackWin)
}
