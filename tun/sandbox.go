package tun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// envSandbox marks a process started by Command. Its value names the
// parent's network and mount namespaces ("net:[N] mnt:[M]"), so that a
// child can tell it really is somewhere else: a stray variable in a user's
// environment must never make Setup reconfigure the host.
const envSandbox = "GODRILL_SANDBOX"

// Capability bits from linux/capability.h.
const (
	capNetAdmin = 12
	capSysAdmin = 21
)

// nsID returns the identity of one of the calling process's namespaces,
// e.g. "net:[4026531840]" for kind "net", or "" if it cannot be read.
func nsID(kind string) string {
	s, err := os.Readlink("/proc/self/ns/" + kind)
	if err != nil {
		return ""
	}
	return s
}

// inNewNS reports whether this process was started by Command and its
// namespace of the given kind differs from the parent's.
func inNewNS(kind string) bool {
	for _, parent := range strings.Fields(os.Getenv(envSandbox)) {
		if strings.HasPrefix(parent, kind+":") {
			self := nsID(kind)
			return self != "" && self != parent
		}
	}
	return false
}

// Isolated reports whether this process was started by Command and runs in
// a network namespace other than its parent's.
func Isolated() bool { return inNewNS("net") }

// Command returns a command that runs this executable again (via
// /proc/self/exe) with the given arguments (argv[1:]) in new network, mount
// and PID namespaces.
//
//   - The child is killed with SIGKILL when the thread that started it dies,
//     so it cannot outlive a parent that is itself SIGKILLed. (Go may end that
//     thread early only if a goroutine exits while locked to it with
//     runtime.LockOSThread; don't start the command from such a goroutine.)
//   - The child is PID 1 of its PID namespace, so whatever it starts (shell
//     commands of a script) is killed by the kernel when it exits.
//   - The child leads its own process group; cancelling ctx sends SIGKILL to
//     the whole group.
//   - The mount namespace is private: Setup mounts a fresh /sys and /proc
//     there, so `ip`, `ss`, `ps` and /sys/class/net in the child show the
//     child's world.
//
// Stdin, Stdout and Stderr are the parent's; replace them before starting it
// if needed. Start it with Start, which gives it its own TCP hash table.
func Command(ctx context.Context, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = append([]string{os.Args[0]}, args...)
	// If a namespace cannot be read, Isolated in the child is false and
	// Setup refuses to run: fail closed.
	cmd.Env = append(os.Environ(), envSandbox+"="+nsID("net")+" "+nsID("mnt"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNET | unix.CLONE_NEWPID,
		// Unsharing the mount namespace (rather than cloning it) makes the
		// Go runtime remount / recursively private in the child, so the
		// child's mounts never propagate back to the host.
		Unshareflags: unix.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
		Setpgid:      true,
	}
	cmd.Cancel = func() error {
		return unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
	}
	return cmd
}

// Preflight checks that this process can run scripts: it has the
// capabilities to create namespaces and TUN devices and /dev/net/tun exists.
// The error is one line meant for the user.
func Preflight() error {
	caps, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("cannot read capabilities: %v", err)
	}
	if caps&(1<<capNetAdmin) == 0 || caps&(1<<capSysAdmin) == 0 {
		return errors.New("must run as root (needs CAP_NET_ADMIN and CAP_SYS_ADMIN for a private network namespace and a TUN device)")
	}
	var st unix.Stat_t
	if err := unix.Stat(tunPath, &st); err != nil {
		return fmt.Errorf("%s is missing (%v): load the tun module or run in a container with the device", tunPath, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return fmt.Errorf("%s is not a character device", tunPath)
	}
	return nil
}

// effectiveCaps returns the CapEff mask of this process.
func effectiveCaps() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff in /proc/self/status")
}

// remount gives the child's private mount namespace a /sys and /proc of its
// own network and PID namespaces. It is skipped when the mount namespace is
// shared with the parent (mounting there would leak).
func remount() error {
	remountOnce.Do(func() { remountErr = doRemount() })
	return remountErr
}

var (
	remountOnce sync.Once
	remountErr  error
)

func doRemount() error {
	// Command makes the child PID 1 of a new PID namespace with a mount
	// namespace of its own; mount nothing unless both hold.
	if !inNewNS("mnt") || os.Getpid() != 1 {
		return nil
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
}
