// Command godrill-compat runs corpora of packetdrill scripts with godrill
// and, optionally, the reference packetdrill, in the address variants the
// corpora's own runners use, and prints where their verdicts agree.
//
//	godrill-compat [-godrill PATH] [-ref PATH] [-j N] [-timeout DUR] [-cache DIR] DIR...
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/godrill/godrill/compat"
)

func main() { os.Exit(doMain()) }

func doMain() int {
	godrill := flag.String("godrill", "", "godrill binary (default: godrill next to this program, then $PATH); \"none\" runs only the reference")
	ref := flag.String("ref", "", "reference packetdrill binary; without it only godrill runs")
	jobs := flag.Int("j", 2, "runs at a time")
	timeout := flag.Duration("timeout", 120*time.Second, "per-run timeout")
	cache := flag.String("cache", "", "directory caching the reference's results between invocations")
	style := flag.String("style", "", "runner convention: gtests (run_all.py), ksft, ksft-tfo or ksft-mapped (ksft_runner.sh up to 6.14, from 6.15, from 7.0); default: detected per directory")
	jsonOut := flag.String("json", "", "write every row as JSON to this file")
	quiet := flag.Bool("q", false, "no progress lines")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: godrill-compat [flags] DIR|SCRIPT...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		return 2
	}
	rn := &compat.Runner{Timeout: *timeout, Jobs: *jobs, Cache: &compat.Cache{Dir: *cache}}
	if *godrill != "none" {
		p, err := findGodrill(*godrill)
		if err != nil {
			fmt.Fprintf(os.Stderr, "godrill-compat: %v\n", err)
			return 2
		}
		rn.Godrill = compat.Binary{Path: p}
	}
	if *ref != "" {
		p, err := filepath.Abs(*ref)
		if err != nil {
			fmt.Fprintf(os.Stderr, "godrill-compat: %v\n", err)
			return 2
		}
		rn.Reference = &compat.Binary{Path: p, Netns: true}
	}
	var all []compat.Job
	for _, dir := range flag.Args() {
		js, err := compat.Jobs(dir, compat.Style(*style))
		if err != nil {
			fmt.Fprintf(os.Stderr, "godrill-compat: %v\n", err)
			return 2
		}
		all = append(all, js...)
	}
	if !*quiet {
		rn.Progress = func(done, total int, r compat.Row) {
			mark := "  "
			if !r.Agree() {
				mark = "!!"
			}
			fmt.Fprintf(os.Stderr, "%s [%d/%d] %s: godrill %s, reference %s\n", mark, done, total, r.Job.Key(), r.Godrill.Verdict, r.Reference.Verdict)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rows := rn.Run(ctx, all)
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(rows, "", " ")
		if err := os.WriteFile(*jsonOut, data, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "godrill-compat: %v\n", err)
		}
	}
	compat.Report(os.Stdout, rows)
	if ctx.Err() != nil {
		return 3
	}
	return 0
}

func findGodrill(p string) (string, error) {
	if p != "" {
		return filepath.Abs(p)
	}
	if self, err := os.Executable(); err == nil {
		sib := filepath.Join(filepath.Dir(self), "godrill")
		if _, err := os.Stat(sib); err == nil {
			return sib, nil
		}
	}
	return exec.LookPath("godrill")
}
