package compat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Verdict is the outcome of one run as a runner sees it.
type Verdict string

const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Timeout Verdict = "timeout"
	Missing Verdict = "-" // not run (no reference given)
)

// Result is one binary's run of one job.
type Result struct {
	Verdict  Verdict       `json:"verdict"`
	Exit     int           `json:"exit"`
	Stderr   string        `json:"stderr,omitempty"`
	Duration time.Duration `json:"duration"`
}

// Summary is the first line of stderr that explains a failure: the first
// that names a script position (file.pkt:N:), else the first non-empty one.
// A script's own commands write to stderr too (a refused sysctl in a
// gtests prologue, say), and such a line would hide the verdict.
func (r Result) Summary() string {
	first := ""
	for _, l := range strings.Split(r.Stderr, "\n") {
		l = strings.TrimSpace(l)
		if scriptPosition.MatchString(l) {
			return l
		}
		if first == "" {
			first = l
		}
	}
	if first != "" {
		return first
	}
	switch r.Verdict {
	case Timeout:
		return "(timed out)"
	case Fail:
		return "(no output)"
	}
	return ""
}

var scriptPosition = regexp.MustCompile(`\.pkt:\d+:`)

// Binary is a packetdrill-compatible program and how to start it.
type Binary struct {
	Path string
	// Netns runs it inside `unshare -n` with lo up, as ksft_runner.sh
	// does for the reference (which works in the namespace it is given).
	// godrill makes its own namespace and runs directly.
	Netns bool
}

// Run runs one job with b from the script's directory, with the script's
// base name as argument, exactly as the corpus's runner does.
func (b Binary) Run(ctx context.Context, j Job, timeout time.Duration) Result {
	args := append(append([]string{}, j.Variant.Args...), filepath.Base(j.Script))
	name, argv := b.Path, args
	if b.Netns {
		name = "unshare"
		argv = append([]string{"-n", "sh", "-c", `ip link set lo up; exec "$0" "$@"`, b.Path}, args...)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Dir = filepath.Dir(j.Script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	res := Result{Duration: time.Since(start), Stderr: tail(stderr.String(), 4000)}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		res.Verdict, res.Exit = Timeout, -1
	case err == nil:
		res.Verdict = Pass
	default:
		res.Verdict, res.Exit = Fail, cmd.ProcessState.ExitCode()
		if res.Exit == 0 {
			res.Exit = -1
		}
	}
	return res
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Cache keeps reference results between invocations, keyed by the
// script's content and the flags, so that reruns only run godrill.
type Cache struct {
	Dir string
	mu  sync.Mutex
}

func (c *Cache) key(bin string, j Job) string {
	h := sha256.New()
	data, _ := os.ReadFile(j.Script)
	h.Write(data)
	h.Write([]byte(bin + "\x00" + j.Script + "\x00" + strings.Join(j.Variant.Args, "\x00")))
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// Get returns a cached result.
func (c *Cache) Get(bin string, j Job) (Result, bool) {
	if c == nil || c.Dir == "" {
		return Result{}, false
	}
	data, err := os.ReadFile(filepath.Join(c.Dir, c.key(bin, j)+".json"))
	if err != nil {
		return Result{}, false
	}
	var r Result
	if json.Unmarshal(data, &r) != nil {
		return Result{}, false
	}
	return r, true
}

// Put stores a result.
func (c *Cache) Put(bin string, j Job, r Result) {
	if c == nil || c.Dir == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = os.MkdirAll(c.Dir, 0o755)
	data, _ := json.Marshal(r)
	_ = os.WriteFile(filepath.Join(c.Dir, c.key(bin, j)+".json"), data, 0o644)
}

// Row is a job with both verdicts.
type Row struct {
	Job       Job
	Godrill   Result
	Reference Result
}

// Compared reports whether both programs ran the job.
func (r Row) Compared() bool {
	return r.Godrill.Verdict != Missing && r.Reference.Verdict != Missing
}

// Agree reports whether both programs ran the job and reached the same
// verdict; a timeout counts as a failure, as the runners see it. A job
// one of them did not run never agrees.
func (r Row) Agree() bool {
	return r.Compared() && (r.Godrill.Verdict == Pass) == (r.Reference.Verdict == Pass)
}

// Runner runs jobs with godrill and, when given, the reference.
type Runner struct {
	Godrill   Binary
	Reference *Binary
	Timeout   time.Duration
	Jobs      int
	Cache     *Cache
	// Progress, when set, is called after each job.
	Progress func(done, total int, r Row)
}

// Run runs every job, N at a time, and returns the rows in job order.
func (rn *Runner) Run(ctx context.Context, jobs []Job) []Row {
	rows := make([]Row, len(jobs))
	n := max(rn.Jobs, 1)
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rows[i] = rn.runOne(ctx, jobs[i])
				mu.Lock()
				done++
				if rn.Progress != nil {
					rn.Progress(done, len(jobs), rows[i])
				}
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return rows
}

func (rn *Runner) runOne(ctx context.Context, j Job) Row {
	row := Row{Job: j, Reference: Result{Verdict: Missing}}
	if rn.Godrill.Path != "" {
		row.Godrill = rn.Godrill.Run(ctx, j, rn.Timeout)
	} else {
		row.Godrill = Result{Verdict: Missing}
	}
	if rn.Reference != nil {
		if r, ok := rn.Cache.Get(rn.Reference.Path, j); ok {
			row.Reference = r
		} else {
			row.Reference = rn.Reference.Run(ctx, j, rn.Timeout)
			if ctx.Err() == nil {
				rn.Cache.Put(rn.Reference.Path, j, row.Reference)
			}
		}
	}
	return row
}
