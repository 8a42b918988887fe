package drill

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// --- TAP (version 13, as the kernel selftests print it) -----------------------

// writeTAPResult prints one test line and, for a failure, a YAML block with
// the report. Numbers follow completion order.
func writeTAPResult(w io.Writer, n int, r *Result) {
	status := "ok"
	if !r.Passed {
		status = "not ok"
	}
	fmt.Fprintf(w, "%s %d - %s\n", status, n, tapName(r.Path, r.variant()))
	if r.Passed {
		return
	}
	fmt.Fprintf(w, "  ---\n  message: %s\n  exit_code: %d\n  duration_ms: %d\n",
		yamlQuote(firstErr(r)), r.Exit(), r.Duration.Milliseconds())
	if out := strings.TrimRight(r.Output, "\n"); out != "" {
		fmt.Fprint(w, "  output: |\n")
		for line := range strings.Lines(out) {
			fmt.Fprintf(w, "    %s\n", strings.TrimRight(line, "\n"))
		}
	}
	fmt.Fprint(w, "  ...\n")
}

// tapName keeps a description free of the characters TAP gives meaning to.
func tapName(path, ipVersion string) string {
	s := fmt.Sprintf("%s (%s)", path, ipVersion)
	return strings.NewReplacer("#", "_", "\n", " ").Replace(s)
}

// yamlQuote makes a double-quoted YAML scalar (JSON strings are valid YAML).
func yamlQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// writeTAPTail completes the plan with the jobs that never finished (as
// skipped) and prints the totals as a comment.
func (s *suite) writeTAPTail(w io.Writer) {
	for _, j := range s.jobs {
		if s.results[s.indexOf(j)] != nil {
			continue
		}
		s.tapNum++
		fmt.Fprintf(w, "ok %d - %s # SKIP not run: suite interrupted\n", s.tapNum, tapName(j.path, versionOf(j)))
	}
	passed, failed, notRun := s.counts()
	fmt.Fprintf(w, "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", passed, failed, notRun)
}

func (s *suite) indexOf(j job) int {
	for i := range s.jobs {
		if s.jobs[i] == j {
			return i
		}
	}
	return -1
}

func versionOf(j job) string {
	return familyName(&Invocation{}, j.ipVersion)
}

// --- JSON ------------------------------------------------------------------

// jsonReport is the document --format json prints.
type jsonReport struct {
	Passed      int          `json:"passed"`
	Failed      int          `json:"failed"`
	NotRun      int          `json:"not_run"`
	Interrupted bool         `json:"interrupted"`
	Seconds     float64      `json:"seconds"`
	ExitCode    int          `json:"exit_code"`
	Results     []jsonResult `json:"results"`
}

type jsonResult struct {
	Path      string  `json:"path"`
	IPVersion string  `json:"ip_version"`
	Kernel    string  `json:"kernel,omitempty"`
	Status    string  `json:"status"` // pass, fail, timeout, not_run
	ExitCode  int     `json:"exit_code"`
	Seconds   float64 `json:"seconds"`
	MaxRSSKiB int64   `json:"max_rss_kib,omitempty"`
	Error     string  `json:"error,omitempty"`
	Output    string  `json:"output,omitempty"`
}

func (s *suite) writeJSON(w io.Writer) error {
	passed, failed, notRun := s.counts()
	rep := jsonReport{Passed: passed, Failed: failed, NotRun: notRun, Interrupted: s.interrupted,
		Seconds: s.elapsed.Seconds(), ExitCode: s.exitCode(), Results: []jsonResult{}}
	for i, j := range s.jobs {
		r := s.results[i]
		if r == nil {
			rep.Results = append(rep.Results, jsonResult{Path: j.path, IPVersion: versionOf(j), Status: "not_run"})
			continue
		}
		jr := jsonResult{Path: r.Path, IPVersion: r.IPVersion, Kernel: r.Kernel, Status: "pass", Seconds: r.Duration.Seconds(),
			MaxRSSKiB: r.MaxRSSKiB, Output: r.Output}
		if !r.Passed {
			jr.Status, jr.ExitCode, jr.Error = "fail", r.Exit(), firstErr(r)
			if r.TimedOut {
				jr.Status = "timeout"
			}
		}
		rep.Results = append(rep.Results, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// --- JUnit XML ---------------------------------------------------------------

// JUnitSuites is the root of a JUnit XML report, in the shape Jenkins,
// GitLab and GitHub test reporters read.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one <testsuite>: godrill writes one per run.
type JUnitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      float64     `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Hostname  string      `xml:"hostname,attr,omitempty"`
	Cases     []JUnitCase `xml:"testcase"`
}

// JUnitCase is one script in one address family.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	Skipped   *JUnitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure carries the first error line as its message and the whole
// report as its text.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnitSkipped marks a script the suite never ran.
type JUnitSkipped struct {
	Message string `xml:"message,attr"`
}

func (s *suite) junit() JUnitSuites {
	host, _ := os.Hostname()
	ts := JUnitSuite{Name: "godrill", Time: s.elapsed.Seconds(), Hostname: host,
		Timestamp: s.start.UTC().Format(time.RFC3339)}
	for i, j := range s.jobs {
		r := s.results[i]
		c := JUnitCase{Name: fmt.Sprintf("%s (%s)", filepath.Base(j.path), versionOf(j)),
			Classname: filepath.ToSlash(strings.TrimSuffix(j.path, ".pkt"))}
		switch {
		case r == nil:
			c.Skipped = &JUnitSkipped{Message: "not run: suite interrupted"}
			ts.Skipped++
		case !r.Passed:
			c.Name = fmt.Sprintf("%s (%s)", filepath.Base(r.Path), r.variant())
			c.Time = r.Duration.Seconds()
			kind := "failure"
			if r.TimedOut {
				kind = "timeout"
			}
			c.Failure = &JUnitFailure{Message: firstErr(r), Type: kind, Text: r.Output}
			ts.Failures++
		default:
			c.Name = fmt.Sprintf("%s (%s)", filepath.Base(r.Path), r.variant())
			c.Time = r.Duration.Seconds()
			c.SystemOut = r.Output
		}
		ts.Cases = append(ts.Cases, c)
	}
	ts.Tests = len(ts.Cases)
	return JUnitSuites{Tests: ts.Tests, Failures: ts.Failures, Skipped: ts.Skipped, Time: ts.Time,
		Suites: []JUnitSuite{ts}}
}

func (s *suite) writeJUnitFile(path string) error {
	b, err := xml.MarshalIndent(s.junit(), "", "  ")
	if err != nil {
		return err
	}
	b = append([]byte(xml.Header), append(b, '\n')...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	return nil
}
