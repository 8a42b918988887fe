package tun

import (
	"os"
	"os/exec"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A sandbox gets a TCP established-hash table of its own
// (net.ipv4.tcp_child_ehash_entries, Linux 6.1 and later). With the host's
// shared table, every `ss` a script runs walks all of its buckets: 262144 on
// a 24 GiB machine, 3 ms a dump and two dumps an `ss -ta`, so a backtick
// `ss | grep` took 12-35 ms and the event 10 ms after it was late. With a
// private table of privateEhashEntries the same command took 3.5 ms in a run.
//
// The size of the table is read when a network namespace is created, from
// the creating thread's own namespace, so Start creates the sandbox from a
// thread that has first moved into a scratch namespace of its own (the
// host's namespace is never configured).
const privateEhashEntries = 1024

// envNetDefaults carries the scratch namespace's tcp_max_syn_backlog and
// tcp_max_tw_buckets into the sandbox. Linux derives both from the table's
// size (a 128th and a half of it), so a small private table would change
// them: the sandbox sets them back to what any fresh namespace on this
// machine gets, as under the reference's `unshare -n`.
const envNetDefaults = "GODRILL_NET_DEFAULTS"

// sizedByEhash are the sysctls Linux sizes from the established-hash table.
var sizedByEhash = []string{"net/ipv4/tcp_max_syn_backlog", "net/ipv4/tcp_max_tw_buckets"}

// Start starts a command made by Command. Where the kernel allows, the
// sandbox gets a private established-hash table; otherwise (an older
// kernel, a failed unshare) it starts as cmd.Start would.
//
// The starting thread stays alive, in its scratch namespace, until the
// child has exited: Command's Pdeathsig is tied to it.
func Start(cmd *exec.Cmd) error {
	started := make(chan error, 1)
	go func() {
		// Never unlocked: the thread's network namespace is changed, so it
		// ends with this goroutine instead of going back to the scheduler.
		goruntime.LockOSThread()
		if defaults, ok := scratchNamespace(); ok {
			cmd.Env = append(cmd.Env, envNetDefaults+"="+defaults)
		}
		err := cmd.Start()
		started <- err
		if err != nil {
			return
		}
		// Wait without reaping (the caller's Wait does that) to keep this
		// thread, the child's parent thread, until the child is gone.
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if err != unix.EINTR {
				return
			}
		}
	}()
	return <-started
}

// scratchNamespace moves the calling thread into a new network namespace
// and asks for private established-hash tables in the namespaces it
// creates. It returns the sysctls a fresh namespace gets ("path=value ..."),
// and false when the kernel has no tcp_child_ehash_entries (the thread
// then creates the sandbox with the shared table, as before).
func scratchNamespace() (string, bool) {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return "", false
	}
	defaults, err := readSysctls(sizedByEhash)
	if err != nil {
		return "", false
	}
	if os.WriteFile("/proc/sys/net/ipv4/tcp_child_ehash_entries", []byte(strconv.Itoa(privateEhashEntries)), 0) != nil {
		return "", false
	}
	return strings.Join(defaults, " "), true
}

// readSysctls returns "path=value" for each sysctl named (a path under
// /proc/sys), read in the calling thread's network namespace: /proc/sys/net
// is the opening thread's.
func readSysctls(names []string) ([]string, error) {
	var kvs []string
	for _, name := range names {
		b, err := os.ReadFile("/proc/sys/" + name)
		if err != nil {
			return nil, err
		}
		kvs = append(kvs, name+"="+strings.TrimSpace(string(b)))
	}
	return kvs, nil
}

// restoreNetDefaults, in the sandbox, sets the sysctls that Linux sized
// from the sandbox's small table back to a fresh namespace's values.
func restoreNetDefaults() error {
	for _, kv := range strings.Fields(os.Getenv(envNetDefaults)) {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !slices.Contains(sizedByEhash, name) {
			continue
		}
		if err := os.WriteFile("/proc/sys/"+name, []byte(value), 0); err != nil {
			return err
		}
	}
	return nil
}
