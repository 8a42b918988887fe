package drill

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The kernels .ci/kernels extracts (GODRILL_KERNELS overrides the cache).
var vmKernels = []string{"6.1.0-48-cloud-amd64", "6.12.95+deb12-cloud-amd64"}

func kernelImage(version string) string {
	dir := os.Getenv("GODRILL_KERNELS")
	if dir == "" {
		dir = "/var/cache/godrill/kernels"
	}
	return filepath.Join(dir, version, "boot", "vmlinuz-"+version)
}

// needVM skips unless qemu and the test kernels are installed (.ci/setup
// installs both) and returns the kernel images.
func needVM(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("needs qemu-system-x86_64 (sh .ci/setup installs it)")
	}
	var images []string
	for _, v := range vmKernels {
		img := kernelImage(v)
		if _, err := os.Stat(img); err != nil {
			t.Skipf("needs the kernel %s (sh .ci/kernels extracts it): %v", v, err)
		}
		images = append(images, img)
	}
	return images
}

// godrillBinary builds the godrill command into the test's temporary
// directory (the build cache makes it quick after the first): the guest's
// agent is the running godrill, so the VM tests drive the real command.
func godrillBinary(t *testing.T) string {
	t.Helper()
	if bin, ok := builtGodrill[t]; ok {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "godrill")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/godrill").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builtGodrill[t] = bin
	return bin
}

var builtGodrill = map[*testing.T]string{}

func runGodrill(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(godrillBinary(t), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestVMScriptsBothKernels runs scripts/ in IPv4 and IPv6 on both kernels
// in virtual time and wants every run to pass and the matrix to show no
// difference.
func TestVMScriptsBothKernels(t *testing.T) {
	images := needVM(t)
	var scripts []string
	filepath.WalkDir("../scripts", func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".pkt") {
			rel, _ := filepath.Rel("..", p)
			scripts = append(scripts, rel)
		}
		return nil
	})
	args := append([]string{"run", "-j2", "--vm-accel", "tcg", "--ip_version=ipv4,ipv6",
		"--kernel", strings.Join(images, ","), "--format", "json"}, scripts...)
	out, stderr, code := runGodrill(t, "..", args...)
	var rep struct {
		Passed, Failed int
		Results        []struct {
			Path      string `json:"path"`
			IPVersion string `json:"ip_version"`
			Kernel    string `json:"kernel"`
			Status    string `json:"status"`
			Error     string `json:"error"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s\n%s", err, out, stderr)
	}
	if want := len(scripts) * 2 * len(images); len(rep.Results) != want {
		t.Errorf("%d results, want %d", len(rep.Results), want)
	}
	kernels := map[string]int{}
	for _, r := range rep.Results {
		kernels[r.Kernel]++
		if r.Status != "pass" {
			t.Errorf("%s (%s, %s): %s %s", r.Path, r.IPVersion, r.Kernel, r.Status, r.Error)
		}
	}
	for _, v := range vmKernels {
		if kernels[v] != len(scripts)*2 {
			t.Errorf("kernel %s: %d runs, want %d", v, kernels[v], len(scripts)*2)
		}
	}
	if code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", code, stderr)
	}
}

// TestVMMatrixText checks the text report of a run over two kernels: the
// table and the difference view.
func TestVMMatrixText(t *testing.T) {
	images := needVM(t)
	out, stderr, code := runGodrill(t, "..", "run", "-j2", "--vm-accel", "tcg", "--kernel", strings.Join(images, ","),
		"scripts/states/time-wait.pkt", "testdata/wrong/wrong-ack.pkt")
	if code != 1 {
		t.Errorf("exit code %d, want 1 (wrong-ack fails)\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"script", vmKernels[0], vmKernels[1], "scripts/states/time-wait.pkt",
		"no differences between the 2 kernels"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// eventTimes reads a --json event log: each event's line, kind and actual
// time.
func eventTimes(t *testing.T, path string) ([]string, []float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys []string
	var times []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			Line       int     `json:"line"`
			Kind       string  `json:"kind"`
			Verdict    string  `json:"verdict"`
			ActualTime float64 `json:"actual_time"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		keys = append(keys, fmt.Sprintf("%d %s %s", ev.Line, ev.Kind, ev.Verdict))
		times = append(times, ev.ActualTime)
	}
	return keys, times
}

// TestVMDeterminism runs the same script in the same VM set-up five
// times, the third with both host cores kept busy, and wants the same
// verdicts and every event's time within 20 µs across the runs.
func TestVMDeterminism(t *testing.T) {
	images := needVM(t)
	dir := t.TempDir()
	var keys0 []string
	var times0 []float64
	for i := range 5 {
		var stop atomic.Bool
		if i == 2 {
			for range goruntime.NumCPU() {
				go func() {
					for !stop.Load() {
					}
				}()
			}
		}
		log := filepath.Join(dir, fmt.Sprintf("run%d.jsonl", i))
		_, stderr, code := runGodrill(t, "..", "run", "--vm-accel", "tcg", "--kernel", images[0],
			"--json", log, "scripts/simultaneous-close.pkt")
		stop.Store(true)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, stderr)
		}
		keys, times := eventTimes(t, log)
		if i == 0 {
			keys0, times0 = keys, times
			if len(keys) < 5 {
				t.Fatalf("run 0 logged %d events", len(keys))
			}
			continue
		}
		if strings.Join(keys, "\n") != strings.Join(keys0, "\n") {
			t.Errorf("run %d: events differ:\n%v\nvs\n%v", i, keys, keys0)
			continue
		}
		for k := range times {
			// Every event kind, commands included: the run has no
			// input from the host (see vmFirstRequest).
			if d := math.Abs(times[k] - times0[k]); d > 20e-6 {
				t.Errorf("run %d: event %s at %.6f, run 0 at %.6f (%.0f µs apart)", i, keys[k], times[k], times0[k], d*1e6)
			}
		}
	}
}

// TestVMBadInput: each bad input is one line on stderr, exit code 3,
// quickly, and no qemu left running.
func TestVMBadInput(t *testing.T) {
	notKernel := filepath.Join(t.TempDir(), "vmlinuz")
	os.WriteFile(notKernel, bytes.Repeat([]byte{0}, 8192), 0o644)
	cases := []struct {
		name string
		args []string
		env  []string
		want string
		vm   bool
	}{
		{name: "not a kernel", args: []string{"--kernel", notKernel}, want: "not a Linux x86 kernel image"},
		{name: "no such file", args: []string{"--kernel", notKernel + ".absent"}, want: "no such file"},
		{name: "missing module", args: []string{"--kernel", "KERNEL0", "--modules", t.TempDir()}, want: "module tun not found", vm: true},
		{name: "no qemu", args: []string{"--kernel", "KERNEL0"}, env: []string{"PATH=/nonexistent"}, want: "qemu-system-x86_64 not found", vm: true},
		{name: "bad accel", args: []string{"--kernel", notKernel, "--vm-accel", "xen"}, want: "bad value for --vm-accel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.vm {
				images := needVM(t)
				args = append([]string(nil), args...)
				for i := range args {
					args[i] = strings.ReplaceAll(args[i], "KERNEL0", images[0])
				}
			}
			cmd := exec.Command(godrillBinary(t), append(append([]string{"run"}, args...), "scripts/simultaneous-close.pkt")...)
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), c.env...)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			start := time.Now()
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 3 {
				t.Errorf("exit %v, want 3", err)
			}
			if time.Since(start) > 30*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			msg := strings.TrimSpace(errb.String())
			if !strings.Contains(msg, c.want) {
				t.Errorf("stderr %q lacks %q", msg, c.want)
			}
			if first, _, _ := strings.Cut(msg, "\n"); !strings.Contains(first, c.want) {
				t.Errorf("the reason is not on the first line: %q", msg)
			}
		})
	}
}

// qemuChildren lists qemu processes whose parent is pid.
func qemuChildren(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "qemu") {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

// TestVMSIGKILL kills godrill while its guest runs: qemu must die too.
func TestVMSIGKILL(t *testing.T) {
	images := needVM(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, godrillBinary(t), "run", "--vm-accel", "tcg", "--kernel", images[0],
		"scripts/simultaneous-close.pkt")
	cmd.Dir = ".."
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var qemus []int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && len(qemus) == 0; {
		time.Sleep(50 * time.Millisecond)
		qemus = qemuChildren(cmd.Process.Pid)
	}
	if len(qemus) == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("no qemu started within 30s")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		alive := 0
		for _, q := range qemus {
			if syscall.Kill(q, 0) == nil {
				if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", q)); err == nil && !strings.Contains(string(st), ") Z ") {
					alive++
				}
			}
		}
		if alive == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("qemu %v still running 10s after godrill was killed", qemus)
}

// TestVMExec runs a command in a guest: its output and exit code come
// back, and it runs on the guest's kernel.
func TestVMExec(t *testing.T) {
	images := needVM(t)
	out, stderr, code := runGodrill(t, "..", "vm", "--kernel", images[1], "--vm-accel", "tcg", "--",
		"sh", "-c", "uname -r; echo to-stderr >&2; exit 4")
	if code != 4 {
		t.Errorf("exit code %d, want 4\n%s%s", code, out, stderr)
	}
	if strings.TrimSpace(out) != vmKernels[1] {
		t.Errorf("stdout %q, want the guest's release %s", out, vmKernels[1])
	}
	if !strings.Contains(stderr, "to-stderr") {
		t.Errorf("stderr %q", stderr)
	}
}
