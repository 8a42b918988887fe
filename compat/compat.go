// Package compat compares godrill's verdicts with the reference
// packetdrill's on a corpus of scripts, running each script in the address
// variants the corpus's own runner uses: packetdrill's run_all.py for
// Google's gtests, the kernel's ksft_runner.sh for the Linux selftests.
package compat

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Style is a corpus's runner convention.
type Style string

const (
	// Gtests is run_all.py: ipv4, ipv4-mapped-v6 and ipv6, with
	// --send_omit_free; a script named *v4.pkt skips ipv6 and *v6.pkt skips
	// the two IPv4 variants.
	Gtests Style = "gtests"
	// Ksft is ksft_runner.sh: ipv4 and ipv6, every script in both.
	Ksft Style = "ksft"
)

// Variant is one address family of a runner with the flags it passes.
type Variant struct {
	Name string
	Args []string
}

var (
	ksftV4 = []string{"--ip_version=ipv4", "--local_ip=192.168.0.1", "--gateway_ip=192.168.0.1",
		"--netmask_ip=255.255.0.0", "--remote_ip=192.0.2.1",
		"-D", "CMSG_LEVEL_IP=SOL_IP", "-D", "CMSG_TYPE_RECVERR=IP_RECVERR"}
	ksftV6 = []string{"--ip_version=ipv6", "--mtu=1520", "--local_ip=fd3d:0a0b:17d6::1",
		"--gateway_ip=fd3d:0a0b:17d6:8888::1", "--remote_ip=fd3d:fa7b:d17d::1",
		"-D", "CMSG_LEVEL_IP=SOL_IPV6", "-D", "CMSG_TYPE_RECVERR=IPV6_RECVERR"}

	gtestsV4 = []string{"--send_omit_free", "--ip_version=ipv4", "--local_ip=192.168.0.1",
		"--gateway_ip=192.168.0.1", "--netmask_ip=255.255.0.0", "--remote_ip=192.0.2.1",
		"-D", "TFO_COOKIE=3021b9d889017eeb", "-D", "CODE=host_unreachable",
		"-D", "CMSG_LEVEL_IP=SOL_IP", "-D", "CMSG_TYPE_RECVERR=IP_RECVERR"}
	gtestsV6 = []string{"--send_omit_free", "--ip_version=ipv6", "--mtu=1520",
		"--local_ip=fd3d:0a0b:17d6::1", "--gateway_ip=fd3d:0a0b:17d6:8888::1",
		"--remote_ip=fd3d:fa7b:d17d::1", "-D", "TFO_COOKIE=c1d1e9742a47a9bc",
		"-D", "CMSG_LEVEL_IP=SOL_IPV6", "-D", "CMSG_TYPE_RECVERR=IPV6_RECVERR"}
	gtestsV4Mapped = []string{"--send_omit_free", "--ip_version=ipv4-mapped-ipv6",
		"--local_ip=192.168.0.1", "--gateway_ip=192.168.0.1", "--netmask_ip=255.255.0.0",
		"--remote_ip=192.0.2.1", "-D", "TFO_COOKIE=3021b9d889017eeb", "-D", "CODE=host_unreachable",
		"-D", "CMSG_LEVEL_IP=SOL_IPV6", "-D", "CMSG_TYPE_RECVERR=IPV6_RECVERR"}
)

// Variants returns a style's variants in the order its runner uses them.
func Variants(s Style) []Variant {
	if s == Ksft {
		return []Variant{{"ipv4", ksftV4}, {"ipv6", ksftV6}}
	}
	return []Variant{{"ipv4", gtestsV4}, {"ipv4-mapped-v6", gtestsV4Mapped}, {"ipv6", gtestsV6}}
}

// Applies reports whether the runner of style s runs script in variant v
// (run_all.py's naming convention; ksft_runner.sh runs everything twice).
func Applies(s Style, v Variant, script string) bool {
	if s == Ksft {
		return true
	}
	if v.Name == "ipv6" {
		return !strings.HasSuffix(script, "v4.pkt")
	}
	return !strings.HasSuffix(script, "v6.pkt")
}

// DetectStyle picks the style of a corpus directory: the kernel's when a
// ksft_runner.sh sits in it (or above it), Google's otherwise.
func DetectStyle(dir string) Style {
	d, _ := filepath.Abs(dir)
	for d != "/" && d != "." {
		if _, err := os.Stat(filepath.Join(d, "ksft_runner.sh")); err == nil {
			return Ksft
		}
		d = filepath.Dir(d)
	}
	return Gtests
}

// Job is one run: a script in one variant.
type Job struct {
	Corpus  string // the directory given
	Style   Style
	Script  string // absolute path
	Rel     string // path relative to Corpus
	Variant Variant
}

// Key names the job in tables and caches.
func (j Job) Key() string { return j.Rel + " " + j.Variant.Name }

// Jobs lists every (script, variant) run of a corpus directory (or one
// script), sorted by path.
func Jobs(corpus string, style Style) ([]Job, error) {
	abs, err := filepath.Abs(corpus)
	if err != nil {
		return nil, err
	}
	if style == "" {
		style = DetectStyle(abs)
	}
	var scripts []string
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	root := abs
	if !st.IsDir() {
		scripts = []string{abs}
		root = filepath.Dir(abs)
	} else {
		err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".pkt") {
				scripts = append(scripts, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(scripts)
	var jobs []Job
	for _, s := range scripts {
		rel, _ := filepath.Rel(root, s)
		for _, v := range Variants(style) {
			if Applies(style, v, filepath.Base(s)) {
				jobs = append(jobs, Job{Corpus: corpus, Style: style, Script: s, Rel: rel, Variant: v})
			}
		}
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("%s: no .pkt scripts", corpus)
	}
	return jobs, nil
}
