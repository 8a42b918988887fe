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
	// Ksft is ksft_runner.sh up to Linux 6.14: ipv4 and ipv6, every script
	// in both.
	Ksft Style = "ksft"
	// KsftTFO is ksft_runner.sh from Linux 6.15: its variants also define
	// TFO_COOKIE and TFO_COOKIE_ZERO, and a script with a --ip_version=
	// option line runs in that variant only.
	KsftTFO Style = "ksft-tfo"
	// KsftMapped is the current ksft_runner.sh (Linux 7.0, "selftests/net:
	// packetdrill: add ipv4-mapped-ipv6 tests"): KsftTFO's conventions with
	// a third family, ipv4-mapped-ipv6, for every script without its own
	// --ip_version= line.
	KsftMapped Style = "ksft-mapped"
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

	ksftTFOV4 = append(append([]string{}, ksftV4[:5]...), "-D", "TFO_COOKIE=3021b9d889017eeb",
		"-D", "TFO_COOKIE_ZERO=b7c12350a90dc8f5", "-D", "CMSG_LEVEL_IP=SOL_IP",
		"-D", "CMSG_TYPE_RECVERR=IP_RECVERR")
	ksftTFOV6 = append(append([]string{}, ksftV6[:5]...), "-D", "TFO_COOKIE=c1d1e9742a47a9bc",
		"-D", "TFO_COOKIE_ZERO=82af1a8f9a205c34", "-D", "CMSG_LEVEL_IP=SOL_IPV6",
		"-D", "CMSG_TYPE_RECVERR=IPV6_RECVERR")

	// The ipv4-mapped-ipv6 variant could not be read from the kernel tree
	// here; these are the ipv4 variant's addresses and cookies with the IPv6
	// socket-level symbols, as run_all.py's mapped variant has them.
	ksftMappedV6 = append(append([]string{"--ip_version=ipv4-mapped-ipv6"}, ksftV4[1:5]...),
		"-D", "TFO_COOKIE=3021b9d889017eeb", "-D", "TFO_COOKIE_ZERO=b7c12350a90dc8f5",
		"-D", "CMSG_LEVEL_IP=SOL_IPV6", "-D", "CMSG_TYPE_RECVERR=IPV6_RECVERR")

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
	switch s {
	case Ksft:
		return []Variant{{"ipv4", ksftV4}, {"ipv6", ksftV6}}
	case KsftTFO:
		return []Variant{{"ipv4", ksftTFOV4}, {"ipv6", ksftTFOV6}}
	case KsftMapped:
		return []Variant{{"ipv4", ksftTFOV4}, {"ipv6", ksftTFOV6}, {"ipv4-mapped-ipv6", ksftMappedV6}}
	}
	return []Variant{{"ipv4", gtestsV4}, {"ipv4-mapped-v6", gtestsV4Mapped}, {"ipv6", gtestsV6}}
}

// Applies reports whether the runner of style s runs script in variant v
// (run_all.py's naming convention; the old ksft_runner.sh runs everything
// twice, the current one only the variant of a script's --ip_version= line
// when it has one).
func Applies(s Style, v Variant, script string) bool {
	switch s {
	case Ksft:
		return true
	case KsftTFO, KsftMapped:
		ipv := scriptIPVersions(script)
		return len(ipv) != 1 || ipv[0] == v.Name
	}
	script = filepath.Base(script)
	if v.Name == "ipv6" {
		return !strings.HasSuffix(script, "v4.pkt")
	}
	return !strings.HasSuffix(script, "v6.pkt")
}

// scriptIPVersions is ksft_runner.sh's `grep -E '^--ip_version=' script |
// cut -d '=' -f 2`.
func scriptIPVersions(script string) []string {
	data, err := os.ReadFile(script)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "--ip_version=") {
			f := strings.Split(line, "=")
			out = append(out, strings.TrimSpace(f[1]))
		}
	}
	return out
}

// DetectStyle picks the style of a corpus directory: the kernel's when a
// ksft_runner.sh sits in it (or above it) — by what that runner mentions:
// the ipv4-mapped-ipv6 family, else TFO_COOKIE, else neither — Google's
// otherwise.
func DetectStyle(dir string) Style {
	d, _ := filepath.Abs(dir)
	for d != "/" && d != "." {
		if data, err := os.ReadFile(filepath.Join(d, "ksft_runner.sh")); err == nil {
			switch {
			case strings.Contains(string(data), "ipv4-mapped-ipv6"):
				return KsftMapped
			case strings.Contains(string(data), "TFO_COOKIE"):
				return KsftTFO
			}
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
			if Applies(style, v, s) {
				jobs = append(jobs, Job{Corpus: corpus, Style: style, Script: s, Rel: rel, Variant: v})
			}
		}
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("%s: no .pkt scripts", corpus)
	}
	return jobs, nil
}
