package tun

import (
	"context"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPrivateEhash: a sandbox started with Start has an established-hash
// table of its own (tcp_ehash_entries is negative in a namespace that
// shares the host's), and the sysctls Linux sizes from the table are what
// a fresh namespace gets.
func TestPrivateEhash(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/proc/sys/net/ipv4/tcp_child_ehash_entries"); err != nil {
		t.Skipf("skipping: this kernel has no per-namespace TCP hash tables (Linux 6.1+): %v", err)
	}
	fresh := freshNamespaceSysctls(t, sizedByEhash)
	cmd := sandboxMode(context.Background(), modeSysctl)
	cmd.Env = append(cmd.Env, envTestSysctls+"="+strings.Join(append([]string{"net/ipv4/tcp_ehash_entries"}, sizedByEhash...), " "))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	got := map[string]string{}
	for _, line := range strings.Fields(out.String()) {
		name, value, _ := strings.Cut(line, "=")
		got[name] = value
	}
	if n, err := strconv.Atoi(got["net/ipv4/tcp_ehash_entries"]); err != nil || n != privateEhashEntries {
		t.Errorf("tcp_ehash_entries in the sandbox = %q, want %d (a private table)", got["net/ipv4/tcp_ehash_entries"], privateEhashEntries)
	}
	for _, name := range sizedByEhash {
		if got[name] != fresh[name] {
			t.Errorf("%s in the sandbox = %q, want %q as in a fresh namespace", name, got[name], fresh[name])
		}
	}
}

// freshNamespaceSysctls reads sysctls in a new network namespace made
// from this one, on a thread that then ends.
func freshNamespaceSysctls(t *testing.T, names []string) map[string]string {
	t.Helper()
	type result struct {
		kvs []string
		err error
	}
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread ends in its namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{err: err}
			return
		}
		kvs, err := readSysctls(names)
		done <- result{kvs, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	m := map[string]string{}
	for _, kv := range r.kvs {
		name, value, _ := strings.Cut(kv, "=")
		m[name] = value
	}
	return m
}
