package drill

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"time"

	"golang.org/x/sys/unix"
)

// enterRun runs argv inside a live run's network, mount and PID
// namespaces, so that ss, netstat, nstat, ip and tcpdump see the script's
// sockets and devices, and /proc and /sys are the run's own. It returns
// the command's exit code.
func enterRun(r *liveRun, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	// setns changes only the calling thread: do everything, including the
	// fork, on one locked thread, which is never unlocked and so dies with
	// this goroutine instead of going back to the scheduler changed.
	go func() {
		goruntime.LockOSThread()
		code, err := enterOnThisThread(r, argv, stdin, stdout, stderr)
		done <- result{code, err}
	}()
	res := <-done
	return res.code, res.err
}

func enterOnThisThread(r *liveRun, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cwd, _ := os.Getwd()
	// A mount namespace can be entered only by a thread that does not
	// share its root and working directory with other threads.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return 0, fmt.Errorf("unshare: %v", err)
	}
	// Open all three before entering any: inside the run's mount
	// namespace, /proc is the run's own and has no such pid.
	kinds := []struct {
		name string
		kind int
	}{{"net", unix.CLONE_NEWNET}, {"mnt", unix.CLONE_NEWNS}, {"pid", unix.CLONE_NEWPID}}
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, ns := range kinds {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", r.PID, ns.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, fmt.Errorf("the run has ended (%v)", err)
		}
		fds = append(fds, fd)
	}
	for i, ns := range kinds {
		if err := unix.Setns(fds[i], ns.kind); err != nil {
			return 0, fmt.Errorf("entering the run's %s namespace: %v", ns.name, err)
		}
	}
	// Entering a mount namespace moves to its root; the run's mount
	// namespace is a copy of ours, so the same directory is there.
	if cwd != "" {
		unix.Chdir(cwd)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 127, err
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Env: append(os.Environ(), "GODRILL_RUN="+r.ID)}
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if code := ee.ExitCode(); code >= 0 {
			return code, nil
		}
		return 128 + 9, nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}
