package tun

import (
	"bufio"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// BenchmarkSandbox measures what a run costs before the script's first
// line: re-executing the binary in new namespaces ("exec"), and that plus
// Setup of tun0 ("setup"). ready-ms is the time from Start to the child
// being ready; ns/op also includes the child's exit.
func BenchmarkSandbox(b *testing.B) {
	requireRoot(b)
	if Isolated() {
		b.Skip("inside a sandbox")
	}
	for _, mode := range []string{modeReady, modeSetup} {
		name := map[string]string{modeReady: "exec", modeSetup: "setup"}[mode]
		b.Run(name, func(b *testing.B) {
			var ready, setup time.Duration
			for b.Loop() {
				cmd := sandboxMode(context.Background(), mode)
				out, err := cmd.StdoutPipe()
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				line, err := bufio.NewReader(out).ReadString('\n')
				ready += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				us, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready ")))
				if err != nil {
					b.Fatalf("child said %q", line)
				}
				setup += time.Duration(us) * time.Microsecond
				if err := cmd.Wait(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(ready.Microseconds())/1000/float64(b.N), "ready-ms/op")
			b.ReportMetric(float64(setup.Microseconds())/1000/float64(b.N), "setup-ms/op")
		})
	}
}

// BenchmarkSetup measures Setup and Close of tun0 inside one sandbox. Run
// from outside, it runs itself in a sandbox and reports the result.
func BenchmarkSetup(b *testing.B) {
	if !Isolated() {
		requireRoot(b)
		benchInSandbox(b)
		return
	}
	for _, v := range []IPVersion{IPv4, IPv6} {
		b.Run(v.String(), func(b *testing.B) {
			for b.Loop() {
				d, err := Setup(DefaultConfig(v))
				if err != nil {
					b.Fatal(err)
				}
				// Not timed: closing costs an RCU grace period, paid at exit,
				// and Setup wants a fresh namespace, without the persistent
				// tun0.
				b.StopTimer()
				d.Close()
				if l, err := netlink.LinkByName(d.Name()); err == nil {
					netlink.LinkDel(l)
				}
				b.StartTimer()
			}
		})
	}
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+(\d+)\s+(\d+(?:\.\d+)?) ns/op`)

// benchInSandbox reruns the calling benchmark in a sandbox (once) and
// reports the ns/op of each of its sub-benchmarks as a metric in ms/op.
func benchInSandbox(b *testing.B) {
	out, ok := sandboxBench[b.Name()]
	if !ok {
		cmd := Command(context.Background(), []string{"-test.run=^$", "-test.bench=^" + b.Name() + "$", "-test.benchtime=200x"})
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
		raw, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v\n%s", err, raw)
		}
		out = string(raw)
		sandboxBench[b.Name()] = out
	}
	for b.Loop() {
	}
	found := false
	for line := range strings.Lines(out) {
		if m := benchLine.FindStringSubmatch(line); m != nil {
			found = true
			ns, _ := strconv.ParseFloat(m[4], 64)
			b.ReportMetric(ns/1e6, strings.TrimPrefix(m[1], b.Name()+"/")+"-ms/op")
		}
	}
	if !found {
		b.Fatalf("no results from the sandbox:\n%s", out)
	}
}

// sandboxBench caches the output of benchInSandbox by benchmark name, as
// the testing package calls a benchmark several times.
var sandboxBench = map[string]string{}
