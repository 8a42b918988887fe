package runtime_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// godrill is the binary the end-to-end tests run, built once by TestMain.
var godrill string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "godrill-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	godrill = filepath.Join(dir, "godrill")
	if out, err := exec.Command("go", "build", "-o", godrill, "github.com/godrill/godrill/cmd/godrill").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building godrill: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func needKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end packet tests need root (network namespaces and a TUN device)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("end-to-end packet tests need /dev/net/tun")
	}
}

// TestPackets runs the scripts under testdata/packets against the kernel
// through the drop-in command line, as packetdrill's runners call it.
func TestPackets(t *testing.T) {
	needKernel(t)
	tests := []struct {
		script string
		args   []string
		exit   int
		stdout []string // regexps, each must match a line
		stderr string   // regexp
	}{
		{script: "udp.pkt"},
		{script: "udp.pkt", args: []string{"--ip_version=ipv6"}},
		{script: "udp.pkt", args: []string{"-v"}, stdout: []string{
			`^socket syscall: +0\.\d{6}$`,
			`^outbound sniffed packet: +0\.\d{6} udp \(10\)$`,
			`^inbound injected packet: +0\.\d{6} udp \(20\)$`,
			`^read syscall: +0\.\d{6}$`,
		}},
		{script: "merge.pkt"},
		{script: "merge.pkt", args: []string{"--strict_segments"}, exit: 1,
			stderr: `merge.pkt:14: error handling packet: live packet payload: expected 1000 bytes vs actual 500 bytes`},
		// The -v lines' form only: when each event happened is the
		// script's to check, within its tolerance. A regexp pinning
		// the ACK to 0.010xxx failed once in 20 runs of the test
		// command (the ACK at 0.010976, its segment at 0.011358).
		{script: "merge.pkt", args: []string{"-v"}, stdout: []string{
			`^inbound injected packet: +0\.\d{6} S 0:0\(0\) win 65535 <mss 1000>$`,
			`^outbound sniffed packet: +0\.\d{6} S\. \d+:\d+\(0\) ack 1 win \d+ <mss 1460>$`,
			`^inbound injected packet: +0\.\d{6} \. 1:1\(0\) ack \d+ win 65535 $`,
			`^outbound sniffed packet: +0\.\d{6} P\. \d+:\d+\(500\) ack 1 win \d+ $`,
		}},
		{script: "icmp-frag-needed-v4.pkt"},
		// Written for the selftests' --mtu=1520 (the reference fails it at
		// its SYN-ACK's mss 1460 under the default MTU, as godrill does).
		{script: "ipinfo-v6.pkt", args: []string{"--ip_version=ipv6", "--mtu=1520"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.script, tt.args), func(t *testing.T) {
			args := append(append([]string{}, tt.args...), tt.script)
			stdout, stderr, code := runGodrill(t, "testdata/packets", args...)
			if code != tt.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, stdout, stderr)
			}
			for _, re := range tt.stdout {
				if !regexp.MustCompile(`(?m)` + re).MatchString(stdout) {
					t.Errorf("no stdout line matches %s\nstdout:\n%s", re, stdout)
				}
			}
			if tt.stderr != "" && !regexp.MustCompile(tt.stderr).MatchString(stderr) {
				t.Errorf("stderr does not match %s:\n%s", tt.stderr, stderr)
			}
		})
	}
}
