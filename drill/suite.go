package drill

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
)

// job is one (script, address family) run.
type job struct {
	path      string
	ipVersion string // "" = as the flags say
	kernel    string // a kernel image to run in (vm.go); "" = the host
}

// expandJobs lists the runs: directories are walked for *.pkt, and each
// script runs once per requested family; names ending in v4.pkt / v6.pkt
// run only in that family, as the reference's runner does.
func expandJobs(inv *Invocation) ([]job, error) {
	paths, err := scriptPaths(inv.Files)
	if err != nil {
		return nil, err
	}
	var jobs []job
	for _, p := range paths {
		versions := inv.Extras.Versions
		if len(versions) == 0 {
			jobs = append(jobs, job{path: p})
			continue
		}
		for _, v := range versions {
			if familyAllowed(p, v) {
				jobs = append(jobs, job{path: p, ipVersion: v})
			}
		}
	}
	return planJobs(inv, jobs), nil
}

// scriptPaths expands directories (recursively, *.pkt, sorted) and keeps
// files as given.
func scriptPaths(files []string) ([]string, error) {
	var paths []string
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			paths = append(paths, f)
			continue
		}
		var found []string
		err = filepath.WalkDir(f, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".pkt") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		paths = append(paths, found...)
	}
	return paths, nil
}

func familyAllowed(path, v string) bool {
	switch {
	case strings.HasSuffix(path, "v4.pkt"):
		return v == "ipv4" || v == "ipv4-mapped-ipv6"
	case strings.HasSuffix(path, "v6.pkt"):
		return v == "ipv6"
	}
	return true
}

// Report formats accepted by --format.
const (
	formatText = "text"
	formatTAP  = "tap"
	formatJSON = "json"
)

// suite is a set of runs under way: results are indexed like jobs, nil
// for a job that has not finished (or never started).
type suite struct {
	jobs    []job
	kernels []string // --kernel, for the matrix (vm_matrix.go)
	results []*Result
	start   time.Time
	elapsed time.Duration

	mu             sync.Mutex
	retries        []string // "path (family): first error" of each rerun, in order
	done, failed   int
	interrupted    bool
	tapNum         int
	out, progress  io.Writer // report stream; live line (nil: none)
	format         string
	liveLineLength int
	inv            *Invocation
	running        map[int]bool // jobs under way, for the live line
	checked        map[string]string
}

// scriptError checks a script once (syntax, system calls, inline code)
// and returns its errors in the long form, or "".
func (s *suite) scriptError(path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg, ok := s.checked[path]; ok {
		return msg
	}
	cfg := runtime.DefaultConfig(runtime.IPv4)
	for _, f := range s.inv.Flags {
		cfg.Set(f.Name, f.Value, true)
	}
	msg := ""
	if _, err := checkScript(path, cfg.Defines); err != nil {
		msg = withNewline(parser.FormatError(err))
	}
	s.checked[path] = msg
	return msg
}

// runSuite runs jobs, inv.Extras.Jobs at a time, shows progress, and writes
// the reports asked for. Its exit code is non-zero exactly when a script
// did not pass (or did not run because the suite was interrupted).
func runSuite(ctx context.Context, inv *Invocation, jobs []job, stdout, stderr io.Writer) int {
	format := inv.Extras.Format
	if format == "" {
		format = formatText
	}
	if format != formatText && format != formatTAP && format != formatJSON {
		fmt.Fprintf(stderr, "godrill: unknown --format %q (want text, tap or json)\n", format)
		return runtime.ExitSetup
	}
	if err := prepareRun(ctx, inv, jobs, stderr); err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	defer inv.closeVMs()
	n := inv.Extras.Jobs
	if n <= 0 {
		n = goruntime.NumCPU()
	}
	s := &suite{jobs: jobs, kernels: inv.Extras.VM.Kernels, results: make([]*Result, len(jobs)), start: time.Now(), out: stdout, format: format,
		inv: inv, running: map[int]bool{}, checked: map[string]string{}}
	// The live line goes where a person is looking: stdout for the text
	// report, stderr when stdout carries TAP or JSON.
	switch {
	case format == formatText && isTerminal(stdout):
		s.progress = stdout
	case format != formatText && isTerminal(stderr):
		s.progress = stderr
	}
	if format == formatTAP {
		fmt.Fprintf(stdout, "TAP version 13\n1..%d\n", len(jobs))
	}

	work := make(chan int)
	var wg sync.WaitGroup
	for range min(n, max(len(jobs), 1)) {
		wg.Go(func() {
			for i := range work {
				j := jobs[i]
				s.mu.Lock()
				s.running[i] = true
				s.mu.Unlock()
				res, err := Result{}, error(nil)
				if bad := s.scriptError(j.path); bad != "" {
					// The script's own fault: nothing is run.
					res = Result{Path: j.path, IPVersion: familyName(inv, j.ipVersion), ExitCode: runtime.ExitScript,
						Output: bad, Stderr: bad, FirstErr: firstLine(bad)}
				} else {
					res, err = s.runJob(ctx, j)
					res, err = rerunWhileLate(ctx, inv.Extras.Retries, res, err, s.retried, func() (Result, error) {
						return s.runJob(ctx, j)
					})
				}
				if err != nil {
					res.Passed, res.ExitCode = false, runtime.ExitSetup
					res.FirstErr = fmt.Sprintf("%s: %v", j.path, err)
					res.Output = res.FirstErr + "\n"
				}
				s.finish(i, &res)
			}
		})
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	stopTicker := make(chan struct{})
	var tickWG sync.WaitGroup
	if s.progress != nil {
		tickWG.Go(func() {
			for {
				select {
				case <-tick.C:
					s.mu.Lock()
					s.drawLive()
					s.mu.Unlock()
				case <-stopTicker:
					return
				}
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(stopTicker)
	tickWG.Wait()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.elapsed = time.Since(s.start)
	s.interrupted = ctx.Err() != nil
	s.clearLive()
	code := s.exitCode()
	if s.interrupted {
		code = exitInterrupted
	}
	switch format {
	case formatText:
		if !inv.Extras.Quiet || code != 0 {
			s.writeSummary(stdout)
			s.writeMatrix(stdout)
		}
	case formatTAP:
		s.writeTAPTail(stdout)
	case formatJSON:
		if err := s.writeJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "godrill: %v\n", err)
		}
	}
	if inv.Extras.JUnit != "" {
		if err := s.writeJUnitFile(inv.Extras.JUnit); err != nil {
			fmt.Fprintf(stderr, "godrill: %v\n", err)
			if code == 0 {
				code = runtime.ExitSetup
			}
		}
	}
	return code
}

// runJob runs one job of the suite. A script that ends by holding itself
// open (a final long sleep, the packetdrill idiom for looking at a
// connection) has nobody to look at it in a suite: the child drops that
// sleep, so the run passes when everything before it passed, as in
// drill.TestScripts, instead of sleeping into the command timeout.
func (s *suite) runJob(ctx context.Context, j job) (Result, error) {
	inv := s.inv
	if HoldsOpen(j.path) {
		run := *s.inv
		run.Extras.EndHold = true
		inv = &run
	}
	return runOnKernel(ctx, inv, j)
}

// retried notes a run that --retries reruns.
func (s *suite) retried(res Result, _ int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retries = append(s.retries, fmt.Sprintf("%s (%s): %s", res.Path, res.IPVersion, firstErr(&res)))
}

// finish records a result and reports it as it comes.
func (s *suite) finish(i int, res *Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[i] = res
	delete(s.running, i)
	s.done++
	if !res.Passed {
		s.failed++
	}
	s.clearLive()
	switch s.format {
	case formatText:
		// One line per run, then what the run printed (--trace, --diagram,
		// -v), whole, so that parallel runs never interleave; a failure
		// also shows its whole report.
		if !s.inv.Extras.Quiet || !res.Passed {
			fmt.Fprintln(s.out, resultLine(res))
			fmt.Fprint(s.out, indentBlock(res.Stdout))
		}
		if !res.Passed {
			fmt.Fprint(s.out, indentBlock(res.Stderr))
		}
	case formatTAP:
		s.tapNum++
		writeTAPResult(s.out, s.tapNum, res)
	}
	s.drawLive()
}

// resultLine is a run's one line: verdict, script, family, duration.
func resultLine(r *Result) string {
	verdict := "ok"
	if !r.Passed {
		verdict = "FAIL"
	}
	line := fmt.Sprintf("%-4s %s  %s  %.2fs", verdict, r.Path, r.variant(), r.Duration.Seconds())
	if r.Held {
		line += "  (held open, then ended)"
	}
	return line
}

// indentBlock indents a run's output under its result line, ending in a
// newline.
func indentBlock(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	var b strings.Builder
	for line := range strings.Lines(s + "\n") {
		b.WriteString("    " + line)
	}
	return b.String()
}

// commandTimeout is --command_timeout as the command line sets it.
func (s *suite) commandTimeout() time.Duration {
	cfg := runtime.DefaultConfig(runtime.IPv4)
	for _, f := range s.inv.Flags {
		cfg.Set(f.Name, f.Value, true)
	}
	return cfg.CommandTimeout
}

// rerun is the command line that runs just one job again.
func (s *suite) rerun(r *Result) string {
	args := []string{"godrill", "run"}
	for _, f := range s.inv.Flags {
		if f.Name != "ip_version" {
			args = append(args, shellQuote("--"+f.Name+"="+f.Value))
		}
	}
	args = append(args, "--ip_version="+r.IPVersion)
	e := s.inv.Extras
	if e.Trace {
		args = append(args, "--trace")
	}
	if e.Diagram {
		args = append(args, "--diagram")
	}
	return strings.Join(append(args, shellQuote(r.Path)), " ")
}

// shellQuote quotes a word for sh when it needs it.
func shellQuote(w string) string {
	if w != "" && strings.IndexFunc(w, func(c rune) bool {
		return !(c == '/' || c == '.' || c == '-' || c == '_' || c == '=' || c == ',' || c == ':' ||
			'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9')
	}) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// drawLive redraws the live progress line; s.mu is held.
func (s *suite) drawLive() {
	if s.progress == nil {
		return
	}
	line := fmt.Sprintf("[%d/%d] %d passed, %d failed, %.1fs", s.done, len(s.jobs),
		s.done-s.failed, s.failed, time.Since(s.start).Seconds())
	var names []string
	for i := range s.jobs {
		if s.running[i] {
			names = append(names, filepath.Base(s.jobs[i].path)+" "+familyName(s.inv, s.jobs[i].ipVersion))
		}
	}
	if len(names) > 0 {
		line += "  running: " + strings.Join(names, ", ")
	}
	if w := terminalWidth(s.progress); w > 0 && len(line) > w-1 {
		line = line[:w-4] + "..."
	}
	pad := max(s.liveLineLength-len(line), 0)
	fmt.Fprintf(s.progress, "\r%s%s", line, strings.Repeat(" ", pad))
	s.liveLineLength = len(line)
}

// clearLive erases the live line so that ordinary output starts at column 0.
func (s *suite) clearLive() {
	if s.progress == nil || s.liveLineLength == 0 {
		return
	}
	fmt.Fprintf(s.progress, "\r%s\r", strings.Repeat(" ", s.liveLineLength))
	s.liveLineLength = 0
}

// counts returns how many finished runs passed and failed, and how many
// jobs never finished.
func (s *suite) counts() (passed, failed, notRun int) {
	for _, r := range s.results {
		switch {
		case r == nil:
			notRun++
		case r.Passed:
			passed++
		default:
			failed++
		}
	}
	return
}

// exitCode is 0 when every job ran and passed; otherwise the most serious
// child exit code (4 godrill was late, 1 kernel differed, 2 script
// invalid, 3 could not run), and at least 1.
func (s *suite) exitCode() int {
	// Godrill's lateness is the least serious: the kernel was not tested.
	rank := func(code int) int {
		if code == runtime.ExitLate {
			return 0
		}
		return code
	}
	code := 0
	for _, r := range s.results {
		c := runtime.ExitKernel
		if r != nil && r.Passed {
			continue
		} else if r != nil {
			c = r.Exit()
		}
		if code == 0 || rank(c) > rank(code) {
			code = c
		}
	}
	return code
}

// writeSummary prints the counts and every failure's first error line.
func (s *suite) writeSummary(w io.Writer) {
	passed, failed, notRun := s.counts()
	fmt.Fprintf(w, "\n%d passed, %d failed", passed, failed)
	if notRun > 0 {
		fmt.Fprintf(w, ", %d not run", notRun)
	}
	fmt.Fprintf(w, " in %.2fs", s.elapsed.Seconds())
	if s.interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintln(w)
	for _, r := range s.retries {
		fmt.Fprintf(w, "RETRY %s\n", r)
	}
	for _, r := range s.results {
		if r != nil && !r.Passed {
			fmt.Fprintf(w, "FAIL %s  %s: %s\n", r.Path, r.variant(), firstErr(r))
			fmt.Fprintf(w, "     rerun: %s\n", s.rerun(r))
		}
	}
	if files := s.writtenFiles(); len(files) > 0 {
		fmt.Fprintln(w, "files written:")
		for _, f := range files {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	if s.interrupted {
		fmt.Fprintln(w, "interrupted")
	}
}

// writtenFiles lists the per-run --pcap, --json and --svg files that exist.
func (s *suite) writtenFiles() []string {
	var files []string
	e := s.inv.Extras
	for i, j := range s.jobs {
		if s.results[i] == nil {
			continue
		}
		for _, f := range []string{e.PcapFile, e.JSONFile, e.SVGFile} {
			if f == "" {
				continue
			}
			if p := s.inv.perRun(f, j.path, j.ipVersion); fileExists(p) {
				files = append(files, p)
			}
		}
	}
	return files
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// terminalWidth is the width of the terminal w writes to (0: unknown).
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// firstErr is a failure's first error line, never empty.
func firstErr(r *Result) string {
	if r.FirstErr != "" {
		return r.FirstErr
	}
	return fmt.Sprintf("exit code %d", r.Exit())
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
