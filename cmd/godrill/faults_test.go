package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The fault tests run the real godrill binary, built once into a temporary
// directory, the way CI runs it. Those that need a namespace and a TUN
// device skip unless run as root.

// buildGodrill builds the command into dir (world-readable, so an
// unprivileged user can run it too) and returns its path.
func buildGodrill(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "godrill")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type fault struct {
	t   *testing.T
	bin string
	dir string
}

func (f *fault) script(name, text string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// run runs cmd with a hard limit, so a hang fails the test instead of
// stalling it.
func run(t *testing.T, cmd *exec.Cmd, limit time.Duration) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not finish within %v\nstdout:\n%s\nstderr:\n%s", cmd.Args, limit, &out, &errb)
	}
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return r
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs scripts in network namespaces with a TUN device")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("needs /dev/net/tun")
	}
}

func oneLine(t *testing.T, r result, re string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !regexp.MustCompile(re).MatchString(lines[0]) {
		t.Errorf("stderr should be one line matching %q, got:\n%s", re, r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Errorf("stderr has a Go panic:\n%s", r.stderr)
	}
}

const passiveOpen = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
`

func TestFaults(t *testing.T) {
	dir := t.TempDir()
	// t.TempDir and its parent are 0700; the unprivileged run needs to
	// reach the binary and the script.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := &fault{t: t, bin: buildGodrill(t, dir), dir: dir}

	t.Run("NotRoot", func(t *testing.T) {
		if os.Geteuid() != 0 {
			// Already unprivileged: the plain run is the test.
			r := run(t, exec.Command(f.bin, "run", f.script("notroot.pkt", passiveOpen)), 30*time.Second)
			checkNotRoot(t, r)
			return
		}
		cmd := exec.Command(f.bin, "run", f.script("notroot.pkt", passiveOpen))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
		checkNotRoot(t, run(t, cmd, 30*time.Second))
	})

	t.Run("NoTun", func(t *testing.T) {
		requireRoot(t)
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Skip("needs unshare(1)")
		}
		// Hide /dev/net/tun under an empty tmpfs, only inside a private
		// mount namespace made for this command.
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs none /dev/net && exec "$0" run "$1"`, f.bin, f.script("notun.pkt", passiveOpen))
		r := run(t, cmd, 30*time.Second)
		if r.code != 3 {
			t.Errorf("exit code %d, want 3\n%s", r.code, r.stderr)
		}
		oneLine(t, r, `^godrill: /dev/net/tun is missing .*tun`)
	})

	t.Run("BlockingSyscall", func(t *testing.T) {
		requireRoot(t)
		// accept with nobody connecting, written without "...": it blocks.
		p := f.script("accept.pkt", passiveOpen+"+0 accept(3, ..., ...) = 4\n+0 close(4) = 0\n")
		r := run(t, exec.Command(f.bin, "run", "--syscall_timeout=1s", p), 30*time.Second)
		if r.code != 1 {
			t.Errorf("exit code %d, want 1\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "accept.pkt:5:") || !strings.Contains(r.stderr, "did not return within 1s") {
			t.Errorf("want a failure at accept.pkt:5 after 1s, got:\n%s", r.stderr)
		}
		if r.elapsed > 8*time.Second {
			t.Errorf("took %v with --syscall_timeout=1s", r.elapsed)
		}
	})

	t.Run("HangingCommand", func(t *testing.T) {
		requireRoot(t)
		p := f.script("hang.pkt", "0 `true`\n+0 `sleep 1000`\n+0 `true`\n")
		r := run(t, exec.Command(f.bin, "run", "--command_timeout=1s", p), 30*time.Second)
		if r.code != 1 {
			t.Errorf("exit code %d, want 1\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "hang.pkt:2:") || !strings.Contains(r.stderr, "1s") {
			t.Errorf("want a failure at hang.pkt:2 mentioning 1s, got:\n%s", r.stderr)
		}
		if r.elapsed > 8*time.Second {
			t.Errorf("took %v with --command_timeout=1s", r.elapsed)
		}
	})

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run("Signal/"+sig.String(), func(t *testing.T) {
			requireRoot(t)
			testSignal(t, f, sig)
		})
	}

	// Names only running can check are still the script's fault: exit 2,
	// not "the kernel differed".
	for name, tc := range map[string]struct{ line, msg string }{
		"unknown-syscall": {"+0 frobnicate(3) = 0", "unknown system call frobnicate"}, // found before running
		"unknown-symbol":  {"+0 setsockopt(3, SOL_SOCKET, SO_BOGUS, [1], 4) = 0", "unknown symbol: 'SO_BOGUS'"},
		"unknown-errno":   {"+0 close(3) = -1 EBOGUS (Bogus)", "unknown errno EBOGUS"},
	} {
		t.Run("ScriptFault/"+name, func(t *testing.T) {
			requireRoot(t)
			p := f.script(name+".pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"+tc.line+"\n")
			r := run(t, exec.Command(f.bin, "run", p), 30*time.Second)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2 (script invalid)\n%s", r.code, r.stderr)
			}
			if first, _, _ := strings.Cut(r.stderr, "\n"); !strings.HasPrefix(first, p+":2:") || !strings.Contains(first, tc.msg) {
				t.Errorf("first line should be %s:2:...%s, got:\n%s", p, tc.msg, r.stderr)
			}
		})
	}

	t.Run("HostUntouched", func(t *testing.T) {
		requireRoot(t)
		testHostUntouched(t, f)
	})
}

func checkNotRoot(t *testing.T, r result) {
	t.Helper()
	if r.code != 3 {
		t.Errorf("exit code %d, want 3\n%s", r.code, r.stderr)
	}
	oneLine(t, r, `^godrill: must run as root`)
}

// hostState is what a run must leave as it was: named namespaces, links
// (TUN devices included), addresses and routes of the host namespace.
func hostState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{
		{"netns", "list"},
		{"-o", "link", "show"},
		{"-o", "addr", "show"},
		{"route", "show", "table", "all"},
		{"-6", "route", "show", "table", "all"},
	} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
		fmt.Fprintf(&b, "## ip %s\n%s", strings.Join(args, " "), out)
	}
	// Lifetimes and expiry timers count down on their own.
	return regexp.MustCompile(`(valid_lft|preferred_lft|expires) \S+`).ReplaceAllString(b.String(), "$1 _")
}

// leftovers lists processes whose command line mentions marker.
func leftovers(marker string) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' || e.Name() == fmt.Sprint(os.Getpid()) {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(marker)) {
			found = append(found, e.Name()+": "+string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return found
}

// waitNone polls until no process mentions marker, or gives up after limit.
func waitNone(marker string, limit time.Duration) []string {
	deadline := time.Now().Add(limit)
	for {
		l := leftovers(marker)
		if len(l) == 0 || time.Now().After(deadline) {
			return l
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testSignal(t *testing.T, f *fault, sig syscall.Signal) {
	// A unique sleep length marks the script's shell command in /proc.
	marker := fmt.Sprintf("%d.%d", 3000+int(sig), os.Getpid()%1000)
	p := f.script("signal-"+sig.String()+".pkt", passiveOpen+
		"+0 `echo ready`\n+0 `sleep "+marker+"`\n")
	before := hostState(t)

	var out bytes.Buffer
	ready := make(chan struct{})
	cmd := exec.Command(f.bin, "run", p)
	cmd.Stdout = &signalWriter{buf: &out, ready: ready}
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run ended before the signal: %v\n%s", err, out.String())
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("script never got to its sleep\n%s", out.String())
	}
	// The sleep has started (or is about to): the run is mid-script, with
	// its namespace, TUN device and routes in place.
	time.Sleep(200 * time.Millisecond)
	if l := leftovers("sleep " + marker); len(l) == 0 {
		t.Fatalf("the script's sleep is not running\n%s", out.String())
	}
	start := time.Now()
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("godrill did not exit within 10s of %v", sig)
	}
	t.Logf("%v: godrill exited after %v: %s", sig, time.Since(start).Round(time.Millisecond), strings.TrimSpace(out.String()))
	if l := waitNone(marker, 5*time.Second); len(l) != 0 {
		t.Errorf("processes left behind after %v:\n%s", sig, strings.Join(l, "\n"))
	}
	if l := waitNone(p, 5*time.Second); len(l) != 0 {
		t.Errorf("godrill processes left behind after %v:\n%s", sig, strings.Join(l, "\n"))
	}
	if after := hostState(t); after != before {
		t.Errorf("host network state changed after %v:\nbefore:\n%s\nafter:\n%s", sig, before, after)
	}
}

// signalWriter closes ready when the script prints "ready".
type signalWriter struct {
	buf   *bytes.Buffer
	ready chan struct{}
	seen  bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if !w.seen && strings.Contains(w.buf.String(), "ready") {
		w.seen = true
		close(w.ready)
	}
	return n, err
}

// testHostUntouched runs a script whose shell commands change sysctls,
// routes, addresses and links, checks that they took effect in the script's
// namespace, and that the host's are as before. Only values that are
// per-network-namespace are written.
func testHostUntouched(t *testing.T, f *fault) {
	sysctls := []string{"net/ipv4/tcp_syn_retries", "net/core/somaxconn", "net/ipv4/tcp_rmem"}
	read := func() map[string]string {
		m := map[string]string{}
		for _, s := range sysctls {
			b, err := os.ReadFile("/proc/sys/" + s)
			if err != nil {
				t.Fatal(err)
			}
			m[s] = string(b)
		}
		return m
	}
	beforeSys, beforeNet := read(), hostState(t)
	// Values the host surely does not have: a value next to the host's.
	var synRetries int
	fmt.Sscan(beforeSys["net/ipv4/tcp_syn_retries"], &synRetries)
	synRetries = synRetries%6 + 1
	script := fmt.Sprintf("0 `sysctl -qw net.ipv4.tcp_syn_retries=%d && sysctl -n net.ipv4.tcp_syn_retries | grep -qx %d`\n", synRetries, synRetries) +
		"+0 `sysctl -qw net.core.somaxconn=17 && test $(cat /proc/sys/net/core/somaxconn) = 17`\n" +
		"+0 `sysctl -qw 'net.ipv4.tcp_rmem=4096 4242 8192'`\n" +
		"+0 `ip route add blackhole 198.51.100.0/24 && ip route show | grep -q 198.51.100.0/24`\n" +
		"+0 `ip -6 route add blackhole 2001:db8:dead::/48`\n" +
		"+0 `ip addr add 198.51.100.7/32 dev lo`\n" +
		"+0 `ip link add gdfault0 type dummy 2>/dev/null || ip tuntap add gdfault0 mode tun`\n" +
		"+0 `ip link set gdfault0 up && ip link show gdfault0 >/dev/null`\n" +
		"+0 `ip link set tun0 mtu 1280`\n"
	r := run(t, exec.Command(f.bin, "run", f.script("host.pkt", script)), 60*time.Second)
	if r.code != 0 {
		t.Fatalf("the script's commands failed in its namespace (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if afterSys := read(); fmt.Sprint(afterSys) != fmt.Sprint(beforeSys) {
		t.Errorf("host sysctls changed:\nbefore %q\nafter  %q", beforeSys, afterSys)
	}
	if after := hostState(t); after != beforeNet {
		t.Errorf("host network state changed:\nbefore:\n%s\nafter:\n%s", beforeNet, after)
	}
}
