// Command parsebench measures how long godrill takes to parse scripts, and
// its peak memory, beside the reference packetdrill's --dry_run on the same
// files: a generated 10.6 MB script of 200,000 getsockopt lines, and every
// .pkt of the corpus directories given as arguments. Each file is parsed by
// a process of its own, run one at a time; wall time is measured around the
// process, peak memory is its wait4 ru_maxrss.
//
//	go build -o /tmp/godrill ./cmd/godrill
//	go run ./bench/cmd/parsebench --godrill /tmp/godrill \
//	    --reference /path/to/packetdrill DIR...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// defines are the -D values the corpora's runners pass (run_all.py's and
// ksft_runner.sh's IPv4 variants); godrill and the reference get the same.
var defines = []string{"TFO_COOKIE=3021b9d889017eeb", "TFO_COOKIE_ZERO=b7c12350a90dc8f5",
	"CODE=host_unreachable", "CMSG_LEVEL_IP=SOL_IP", "CMSG_TYPE_RECVERR=IP_RECVERR", "MSS=1412"}

func main() {
	godrill := flag.String("godrill", "godrill", "the godrill binary")
	ref := flag.String("reference", "", "the reference packetdrill binary (optional)")
	lines := flag.Int("lines", 200000, "getsockopt lines of the generated script")
	runs := flag.Int("runs", 5, "runs of the generated script (the median is reported)")
	keep := flag.String("o", "", "write the generated script here instead of a temporary file")
	flag.Parse()

	path := *keep
	if path == "" {
		dir, err := os.MkdirTemp("", "parsebench")
		check(err)
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "getsockopt.pkt")
	}
	check(writeScript(path, *lines))
	st, err := os.Stat(path)
	check(err)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("parsebench: godrill %s, reference %s; load %s\n", *godrill, orNone(*ref), strings.TrimSpace(string(load)))

	fmt.Printf("\n(1) %s: %d getsockopt lines, %d bytes; median of %d runs\n", filepath.Base(path), *lines, st.Size(), *runs)
	report := func(name string, argv func(string) []string) {
		var walls []time.Duration
		var rss []int64
		for range *runs {
			w, r, err := run(filepath.Dir(path), argv(path))
			check(err)
			walls, rss = append(walls, w), append(rss, r)
		}
		fmt.Printf("    %-9s wall %7.3f s (min %.3f, max %.3f)  peak RSS %6.1f MiB\n", name,
			median(walls).Seconds(), minD(walls).Seconds(), maxD(walls).Seconds(), float64(maxI(rss))/1024)
	}
	report("godrill", godrillArgs(*godrill))
	if *ref != "" {
		report("reference", refArgs(*ref))
	}

	for _, dir := range flag.Args() {
		files := pktFiles(dir)
		fmt.Printf("\n(2) %s: %d scripts, one process each, one after another\n", dir, len(files))
		corpus := func(name string, argv func(string) []string) {
			var total time.Duration
			var peak int64
			failed := 0
			for _, f := range files {
				w, r, err := run(filepath.Dir(f), argv(filepath.Base(f)))
				if err != nil {
					failed++
				}
				total += w
				peak = max(peak, r)
			}
			fmt.Printf("    %-9s total wall %7.3f s  largest peak RSS %6.1f MiB  (%d exited non-zero)\n",
				name, total.Seconds(), float64(peak)/1024, failed)
		}
		corpus("godrill", godrillArgs(*godrill))
		if *ref != "" {
			corpus("reference", refArgs(*ref))
		}
	}
}

func godrillArgs(bin string) func(string) []string {
	return func(file string) []string {
		argv := []string{bin, "parse"}
		for _, d := range defines {
			argv = append(argv, "-D", d)
		}
		return append(argv, file)
	}
}

func refArgs(bin string) func(string) []string {
	return func(file string) []string {
		argv := []string{bin, "--dry_run"}
		for _, d := range defines {
			argv = append(argv, "-D", d)
		}
		return append(argv, file)
	}
}

// writeScript writes a listening socket, then n getsockopt calls.
func writeScript(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n")
	for range n {
		w.WriteString("+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// run runs argv in dir and returns its wall time and peak RSS in KiB.
func run(dir string, argv []string) (time.Duration, int64, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss
		}
	}
	if err != nil {
		return wall, rss, fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
	}
	return wall, rss, nil
}

func pktFiles(dir string) []string {
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pkt") {
			abs, _ := filepath.Abs(p)
			files = append(files, abs)
		}
		return nil
	})
	sort.Strings(files)
	return files
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func minD(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		m = min(m, x)
	}
	return m
}

func maxD(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		m = max(m, x)
	}
	return m
}

func maxI(v []int64) int64 {
	var m int64
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "parsebench:", err)
		os.Exit(1)
	}
}
