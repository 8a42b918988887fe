package main

// Measurements of issue 9: verdicts under load, relative-time drift, and
// what each event kind costs. See bench/README.md.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

var (
	altSteps     = flag.Int("alt-steps", 300, "steps of the alternating relative schedule (5)")
	altRuns      = flag.Int("alt-runs", 1, "runs of the alternating schedule, each program in turn (5)")
	parallelN    = flag.Int("parallel", 6, "parallel runs of the 0.3 s script (6)")
	rounds       = flag.Int("rounds", 3, "rounds of parallel runs (6)")
	clientRuns   = flag.Int("client-runs", 200, "runs of the blocking-connect client (7)")
	busy         = flag.Bool("busy", false, "keep one CPU busy during the client runs (7)")
	overheadReps = flag.Int("overhead-reps", 100, "rounds of events in the per-kind overhead script (8)")
)

// --- (5) alternating relative schedule --------------------------------------

// alternatingScript: after a passive open, steps events each +5 ms after
// the previous, alternating an inbound pure ACK and a getsockopt. A
// relative time counts from when the previous event was done, so every
// microsecond an event costs moves all later ones.
func alternatingScript(dir string, steps int) string {
	var b strings.Builder
	b.WriteString(passiveOpen(257))
	for i := range steps {
		if i%2 == 0 {
			b.WriteString("+.005 < . 1:1(0) ack 1 win 257\n")
		} else {
			b.WriteString("+.005 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n")
		}
	}
	path := filepath.Join(dir, "alternating.pkt")
	check(os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

var eventTimeRE = regexp.MustCompile(`^(?:inbound injected packet|(\w+) syscall):\s+([0-9.]+)`)

// stepTimes reads -v output: the times of the injections and getsockopt
// calls after the accept, in order, relative to the socket call (the
// reference prints syscall times on the wall clock).
func stepTimes(out []byte) []time.Duration {
	var base float64
	var ts []time.Duration
	accepted := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := eventTimeRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[1] {
		case "socket":
			if v > 1e6 {
				base = v
			}
		case "accept":
			accepted = true
		case "", "getsockopt":
			if !accepted {
				continue
			}
			if m[1] != "" {
				v -= base
			}
			ts = append(ts, time.Duration(v*1e6)*time.Microsecond)
		}
	}
	return ts
}

func alternating(dir string) {
	path := alternatingScript(dir, *altSteps)
	fmt.Printf("(5) alternating relative schedule: %d steps of +5 ms, inbound ACK / getsockopt\n", *altSteps)
	measure := func(name string, c *exec.Cmd) {
		out, err := c.CombinedOutput()
		if err != nil {
			fmt.Printf("    %s: %v\n%s\n", name, err, tail(out))
			return
		}
		ts := stepTimes(out)
		if len(ts) != *altSteps {
			fmt.Printf("    %s: %d steps seen, want %d\n", name, len(ts), *altSteps)
			return
		}
		var errs []time.Duration
		var drift time.Duration
		for i := 1; i < len(ts); i++ {
			d := ts[i] - ts[i-1] - 5*time.Millisecond
			drift += d
			errs = append(errs, max(d, -d))
		}
		fmt.Printf("    %-9s per-step error %v  drift %.1f us/step\n", name, summarize(errs), us(drift)/float64(len(ts)-1))
	}
	for range *altRuns {
		measure("godrill", exec.Command(*godrillBin, "run", "-v", path))
		if *reference != "" {
			measure("reference", refCommand(path, "-v"))
		}
		if errs, drift, err := waitFloor(*altSteps); err != nil {
			fmt.Printf("    floor: %v\n", err)
		} else {
			fmt.Printf("    %-9s per-step error %v  drift %.1f us/step\n", "floor", summarize(errs), us(drift))
		}
	}
	fmt.Println()
}

// waitFloor is what this machine allows any interpreter on the
// alternating schedule: steps waits of 5 ms each from the end of the one
// before, each ended by a getsockopt(SO_ERROR) on a TCP socket, on a locked
// thread at SCHED_RR priority 2 that sleeps in nanosleep(2) and spins the
// last 200 µs, as godrill's loop does, with no script, no packets and no
// interpreter. Like godrill's loop, it yields to Go's scheduler after each
// step, 5 ms before the next, so that the scheduler's preemption of a
// goroutine running for 10 ms does not land in a spin window (see
// runtime.yieldIfDue). A step's error is how much later than 5 ms after
// the one before it the getsockopt returned.
func waitFloor(steps int) (errs []time.Duration, drift time.Duration, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread's policy is changed, so it ends with
		// this goroutine (the commands drillbench starts next must not
		// inherit it).
		goruntime.LockOSThread()
		errs, drift, err = waitFloorLoop(steps)
	}()
	<-done
	return errs, drift, err
}

func waitFloorLoop(steps int) (errs []time.Duration, drift time.Duration, err error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, 0, err
	}
	defer unix.Close(fd)
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Priority: 2}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return nil, 0, fmt.Errorf("SCHED_RR: %w", err)
	}
	done := time.Now()
	var sum time.Duration
	for range steps {
		target := done.Add(5 * time.Millisecond)
		for {
			left := time.Until(target)
			if left <= 0 {
				break
			}
			if left > 200*time.Microsecond {
				ts := unix.NsecToTimespec(int64(left - 200*time.Microsecond))
				unix.Nanosleep(&ts, nil)
			}
		}
		unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		done = time.Now()
		d := done.Sub(target)
		sum += d
		errs = append(errs, d)
		goruntime.Gosched()
	}
	return errs, sum / time.Duration(steps), nil
}

// --- (6) parallel runs ---------------------------------------------------------

// passiveClose is a passive open and close of 0.3 s: the peer closes
// first (as scripts/four-way-close-passive.pkt, stretched).
const passiveClose = `0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
0.100 < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
0.110 < . 1:1(0) ack 1 win 512
+0 accept(3, ..., ...) = 4
0.150 < F. 1:1(0) ack 1 win 512
+0~+.010 > . 1:1(0) ack 2
0.200 read(4, ..., 1000) = 0
0.250 close(4) = 0
+0 > F. 1:1(0) ack 2
0.300 < . 2:2(0) ack 2 win 512
`

func parallel(dir string) {
	path := filepath.Join(dir, "passive-close.pkt")
	check(os.WriteFile(path, []byte(passiveClose), 0o644))
	fmt.Printf("(6) %d parallel runs of a 0.3 s passive open/close, %d rounds: failures\n", *parallelN, *rounds)
	measure := func(name string, cmd func() *exec.Cmd) {
		fails, late := 0, 0
		var first string
		for range *rounds {
			var wg sync.WaitGroup
			var mu sync.Mutex
			for range *parallelN {
				wg.Go(func() {
					c := cmd()
					out, err := c.CombinedOutput()
					if err == nil {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					fails++
					if c.ProcessState != nil && c.ProcessState.ExitCode() == 4 {
						late++
					}
					if first == "" {
						first, _, _ = strings.Cut(string(out), "\n")
					}
				})
			}
			wg.Wait()
		}
		fmt.Printf("    %-9s %d of %d failed", name, fails, *parallelN**rounds)
		if name == "godrill" {
			fmt.Printf(" (%d of them godrill's lateness, exit 4)", late)
		}
		if first != "" {
			fmt.Printf("; first: %s", first)
		}
		fmt.Println()
	}
	measure("godrill", func() *exec.Cmd { return exec.Command(*godrillBin, "run", path) })
	if *reference != "" {
		measure("reference", func() *exec.Cmd { return refCommand(path) })
	}
	fmt.Println()
}

// --- (7) blocking-connect client -------------------------------------------------

const blockingClient = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
0...0.010 connect(3, ..., ...) = 0
+0 > S 0:0(0) <...>
+.010 < S. 0:0(0) ack 1 win 65535 <mss 1460>
+0 > . 1:1(0) ack 1
+0 close(3) = 0
`

func client(dir string) {
	path := filepath.Join(dir, "client.pkt")
	check(os.WriteFile(path, []byte(blockingClient), 0o644))
	what := "idle"
	if *busy {
		what = "one CPU kept busy"
		spin := exec.Command("sh", "-c", "while :; do :; done")
		check(spin.Start())
		defer spin.Process.Kill()
	}
	fmt.Printf("(7) blocking-connect client, %d runs one after another (%s): failures\n", *clientRuns, what)
	measure := func(name string, cmd func() *exec.Cmd) {
		fails := 0
		var first string
		for range *clientRuns {
			if out, err := cmd().CombinedOutput(); err != nil {
				fails++
				if first == "" {
					first, _, _ = strings.Cut(string(out), "\n")
				}
			}
		}
		fmt.Printf("    %-9s %d of %d failed", name, fails, *clientRuns)
		if first != "" {
			fmt.Printf("; first: %s", first)
		}
		fmt.Println()
	}
	measure("godrill", func() *exec.Cmd { return exec.Command(*godrillBin, "run", path) })
	if *reference != "" {
		measure("reference", func() *exec.Cmd { return refCommand(path) })
	}
	fmt.Println()
}

// --- (8) per-event overhead ------------------------------------------------------

// overheadScript repeats a round of +0 events of each kind; every event's
// relative time counts from when the previous one was done, so the script
// time of an event minus the actual time of the one before it is what that
// one cost until the next time base was taken.
func overheadScript(dir string, reps int) string {
	var b strings.Builder
	b.WriteString(passiveOpen(257))
	for i := range reps {
		b.WriteString("+.002 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n")
		b.WriteString("+.002 < . 1:1(0) ack 1 win 257\n")
		b.WriteString("+.002 `true`\n")
		b.WriteString("+.002 %{ x = 1 }%\n")
		fmt.Fprintf(&b, "+.002 write(4, ..., 10) = 10\n+0 > P. %d:%d(10) ack 1\n", 1+10*i, 11+10*i)
		fmt.Fprintf(&b, "+.002 < . 1:1(0) ack %d win 257\n", 11+10*i)
	}
	path := filepath.Join(dir, "overhead.pkt")
	check(os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

func overhead(dir string) {
	path := overheadScript(dir, *overheadReps)
	fmt.Printf("(8) per-event overhead: from an event's actual time to the next event's time base, %d of each kind\n", *overheadReps)
	recs, err := logRecords(path, filepath.Join(dir, "overhead.json"))
	if err != nil {
		fmt.Printf("    godrill: %v\n", err)
		return
	}
	// The relative step after each event (2 ms, or 0 after a write).
	src, _ := os.ReadFile(path)
	lines := strings.Split(string(src), "\n")
	step := func(line int) time.Duration {
		f := strings.Fields(lines[line-1])
		v, _ := strconv.ParseFloat(strings.TrimPrefix(f[0], "+"), 64)
		return time.Duration(v * 1e9)
	}
	per := map[string][]time.Duration{}
	for i := 7; i+1 < len(recs); i++ {
		prev, next := recs[i], recs[i+1]
		if prev.Kind == "inbound" && next.Kind == "inbound" {
			continue // anchored to the script time: no overhead carried
		}
		cost := time.Duration((next.ScriptTime-prev.ActualTime)*1e9) - step(next.Line)
		per[prev.Kind] = append(per[prev.Kind], cost.Round(time.Microsecond))
	}
	for _, k := range []string{"syscall", "inbound", "outbound", "command", "code"} {
		fmt.Printf("    godrill   %-9s %v\n", k, summarize(per[k]))
	}
	fmt.Println()
	followOn(dir)
}

// followOnScript puts a +0 getsockopt after an event of each kind. The
// getsockopt's time base is the moment that event was done, so its lateness
// is what godrill did between the two: the state probe, and whatever else
// it does before the next event instead of in a gap (an inbound's includes
// the kernel's receive path, which runs inside the write to the TUN device).
func followOnScript(dir string, reps int) string {
	const probe = "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n"
	var b strings.Builder
	b.WriteString(passiveOpen(257))
	for i := range reps {
		b.WriteString("+.002 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n" + probe)
		b.WriteString("+.002 < . 1:1(0) ack 1 win 257\n" + probe)
		b.WriteString("+.002 `true`\n" + probe)
		b.WriteString("+.002 %{ x = 1 }%\n" + probe)
		fmt.Fprintf(&b, "+.002 write(4, ..., 10) = 10\n+0 > P. %d:%d(10) ack 1\n"+probe, 1+10*i, 11+10*i)
		fmt.Fprintf(&b, "+.002 < . 1:1(0) ack %d win 257\n", 11+10*i)
	}
	path := filepath.Join(dir, "follow-on.pkt")
	check(os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// followOn prints how late a +0 event starts after each kind of event,
// run with the --json log and again with --trace too (observers on).
func followOn(dir string) {
	path := followOnScript(dir, *overheadReps)
	src, _ := os.ReadFile(path)
	lines := strings.Split(string(src), "\n")
	fmt.Printf("(8b) a +0 getsockopt after each kind of event: its start minus its script time, %d of each\n", *overheadReps)
	for _, extra := range [][]string{nil, {"--trace"}} {
		recs, err := logRecords(path, filepath.Join(dir, "follow-on.json"), extra...)
		if err != nil {
			fmt.Printf("    godrill: %v\n", err)
			return
		}
		per := map[string][]time.Duration{}
		for i := 7; i+1 < len(recs); i++ {
			prev, next := recs[i], recs[i+1]
			if !strings.HasPrefix(lines[next.Line-1], "+0 getsockopt") {
				continue
			}
			late := time.Duration((next.ActualTime - next.ScriptTime) * 1e9)
			per[prev.Kind] = append(per[prev.Kind], late.Round(time.Microsecond))
		}
		mode := strings.Join(append([]string{"--json"}, extra...), " ")
		for _, k := range []string{"syscall", "inbound", "outbound", "command", "code"} {
			fmt.Printf("    godrill %-14s after %-9s %v\n", mode, k, summarize(per[k]))
		}
	}
	fmt.Println()
}

// logRecord is what the benchmarks read of a --json record.
type logRecord struct {
	Line       int     `json:"line"`
	Kind       string  `json:"kind"`
	ScriptTime float64 `json:"script_time"`
	ActualTime float64 `json:"actual_time"`
}

// logRecords runs the script with godrill run --json=log and returns the
// records.
func logRecords(path, log string, extra ...string) ([]logRecord, error) {
	args := append([]string{"run", "--json=" + log}, extra...)
	if out, err := exec.Command(*godrillBin, append(args, path)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, tail(out))
	}
	data, err := os.ReadFile(log)
	check(err)
	var recs []logRecord
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r logRecord
		check(json.Unmarshal(l, &r))
		recs = append(recs, r)
	}
	return recs, nil
}
