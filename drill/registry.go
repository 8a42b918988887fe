package drill

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultRunDir is where live runs are registered for `godrill ps` and
// `godrill exec`: one small JSON file per run, removed when the run ends.
const DefaultRunDir = "/run/godrill"

// envRunDir overrides DefaultRunDir (tests give each script its own).
const envRunDir = "GODRILL_RUN_DIR"

// runDir is the registry directory: the option, else $GODRILL_RUN_DIR, else
// DefaultRunDir.
func runDir(opt string) string {
	if opt != "" {
		return opt
	}
	if d := os.Getenv(envRunDir); d != "" {
		return d
	}
	return DefaultRunDir
}

// liveRun is one registry entry: a run under way.
type liveRun struct {
	ID     string    `json:"id"`
	PID    int       `json:"pid"`    // the sandboxed child, as the host sees it (0 until started)
	Parent int       `json:"parent"` // the godrill process that runs it
	Script string    `json:"script"`
	Family string    `json:"family"`
	Start  time.Time `json:"start"`
	Held   bool      `json:"held"` // every event passed; the run is held open

	dir string
}

func (r *liveRun) file() string { return filepath.Join(r.dir, r.ID+".json") }

// registerRun claims the smallest free id in dir (1, 2, ...), so that the
// id a person types stays short. Entries whose godrill process is gone are
// stale and reclaimed.
func registerRun(dir, script, family string) (*liveRun, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &liveRun{Parent: os.Getpid(), Script: script, Family: family, Start: time.Now(), dir: dir}
	for n := 1; n < 10000; n++ {
		r.ID = strconv.Itoa(n)
		f, err := os.OpenFile(r.file(), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, os.ErrExist) {
			if old, rerr := readRun(r.file()); rerr == nil && old.stale() {
				// Another claimant may remove and retake it at the same
				// time; O_EXCL on the retry decides.
				os.Remove(r.file())
				n--
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		err = json.NewEncoder(f).Encode(r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(r.file())
			return nil, err
		}
		return r, nil
	}
	return nil, fmt.Errorf("%s: no free run id", dir)
}

// update rewrites the entry (atomically: ps never reads half a file).
func (r *liveRun) update() error {
	if r == nil {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := r.file() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.file())
}

func (r *liveRun) remove() {
	if r != nil {
		os.Remove(r.file())
	}
}

func readRun(path string) (*liveRun, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &liveRun{dir: filepath.Dir(path)}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return r, nil
}

// stale reports whether the run's godrill process or its sandboxed child
// has gone (a godrill killed before it could remove its entry).
func (r *liveRun) stale() bool {
	if !alive(r.Parent) {
		return true
	}
	return r.PID != 0 && !isSandbox(r.PID)
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// isSandbox reports whether pid is a live sandboxed child of godrill (and
// not some process that reused the number).
func isSandbox(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	return len(args) > 1 && args[1] == sandboxArg
}

// liveRuns lists the registry's live entries, by id; stale ones are
// skipped.
func liveRuns(dir string) ([]*liveRun, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var runs []*liveRun
	for _, p := range paths {
		r, err := readRun(p)
		if err != nil || r.stale() {
			continue
		}
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b *liveRun) int {
		na, _ := strconv.Atoi(a.ID)
		nb, _ := strconv.Atoi(b.ID)
		return cmp.Compare(na, nb)
	})
	return runs, nil
}

// findRun returns the live run with the given id.
func findRun(dir, id string) (*liveRun, error) {
	r, err := readRun(filepath.Join(dir, filepath.Base(id)+".json"))
	if err != nil || r.stale() || r.PID == 0 {
		runs, _ := liveRuns(dir)
		if len(runs) == 0 {
			return nil, fmt.Errorf("no run %q: no run is under way (godrill ps lists them)", id)
		}
		var ids []string
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		return nil, fmt.Errorf("no run %q: the runs under way are %s (godrill ps lists them)", id, strings.Join(ids, ", "))
	}
	return r, nil
}
