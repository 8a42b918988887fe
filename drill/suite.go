package drill

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/godrill/godrill/runtime"
)

// job is one (script, address family) run.
type job struct {
	path      string
	ipVersion string // "" = as the flags say
}

// expandJobs lists the runs: directories are walked for *.pkt, and each
// script runs once per requested family; names ending in v4.pkt / v6.pkt
// run only in that family, as the reference's runner does.
func expandJobs(inv *Invocation) ([]job, error) {
	var paths []string
	for _, f := range inv.Files {
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
	return jobs, nil
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

// runSuite runs jobs one after another and prints a summary.
func runSuite(ctx context.Context, inv *Invocation, jobs []job, stdout, stderr io.Writer) int {
	failed := 0
	var results []Result
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		res, err := runOne(ctx, inv, j.path, j.ipVersion, Options{})
		if err != nil {
			fmt.Fprintf(stderr, "godrill: %v\n", err)
			return runtime.ExitSetup
		}
		results = append(results, res)
		verdict := "ok"
		if !res.Passed {
			verdict = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "%-4s %s (%s) %.3fs\n", verdict, res.Path, res.IPVersion, res.Duration.Seconds())
	}
	fmt.Fprintf(stdout, "\n%d passed, %d failed\n", len(results)-failed, failed)
	for _, r := range results {
		if !r.Passed {
			fmt.Fprintf(stdout, "  %s (%s): %s\n", r.Path, r.IPVersion, r.FirstErr)
		}
	}
	if failed > 0 || len(results) < len(jobs) {
		return runtime.ExitKernel
	}
	return 0
}
