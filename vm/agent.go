package vm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Where the initramfs keeps what the agent needs at boot.
const (
	// ModuleDir holds the modules to load, named NN-name.ko in load order.
	ModuleDir = "/godrill/modules"
	// AgentPort is the serial port the agent talks on (the second one:
	// ttyS0 is the kernel's console).
	AgentPort = "/dev/ttyS1"
)

// Agent is the guest's end of the protocol.
type Agent struct {
	port   *os.File
	frames *FrameReader
	kmsg   int // /dev/kmsg, non-blocking; -1 when absent
}

// StartAgent prepares the guest as its init: mounts /proc, /sys and /dev,
// opens the agent port and says it is booting, and loads the modules in
// ModuleDir. The hello frame (with any error) is the caller's to send.
func StartAgent() (*Agent, error) {
	a := &Agent{kmsg: -1}
	for _, m := range []struct{ src, dir, fstype string }{
		{"devtmpfs", "/dev", "devtmpfs"},
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		// No tmpfs on /tmp: the root is already in memory and writable,
		// and files from the host's /tmp (scripts, programs) are there.
	} {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.src, m.dir, m.fstype, 0, ""); err != nil && err != unix.EBUSY {
			return nil, fmt.Errorf("mount %s: %v", m.dir, err)
		}
	}
	port, err := os.OpenFile(AgentPort, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("agent port: %v", err)
	}
	if err := makeRaw(port); err != nil {
		return nil, fmt.Errorf("agent port: %v", err)
	}
	a.port = port
	a.frames = NewFrameReader(port)
	// The host learns that the kernel is up before the slower work
	// (modules, the caller's warm-up) begins.
	a.Send(Hello{Release: Release(), Booting: true})
	if err := loadModules(ModuleDir); err != nil {
		return a, err
	}
	// The kernel log, read after each request to find WARNs and oopses.
	// A raw descriptor: an *os.File would park in the poller instead of
	// returning EAGAIN at the end of the log.
	if k, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
		unix.Seek(k, 0, unix.SEEK_END)
		a.kmsg = k
	}
	return a, nil
}

// makeRaw turns off the line discipline's editing and newline mapping.
func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CBAUD
	t.Cflag |= unix.CS8 | unix.B115200 | unix.CLOCAL | unix.CREAD
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

func loadModules(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "*.ko"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, p := range names {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && err != unix.EEXIST {
			return fmt.Errorf("loading module %s: %v", strings.TrimSuffix(filepath.Base(p), ".ko")[3:], err)
		}
	}
	return nil
}

// Release is the guest kernel's uname -r.
func Release() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// Send writes one frame to the host.
func (a *Agent) Send(v any) error { return WriteFrame(a.port, v) }

// Receive reads the next request.
func (a *Agent) Receive(v any) error { return a.frames.Read(v) }

// KernelTroubleSince returns the kernel log lines since the last call that
// tell of an oops, a WARN or a lockup, with the lines that follow them.
func (a *Agent) KernelTroubleSince() []string {
	if a.kmsg < 0 {
		return nil
	}
	var all []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(a.kmsg, buf)
		if err == unix.EPIPE { // records overwritten before we read them
			continue
		}
		if err != nil || n == 0 {
			break
		}
		rec := buf[:n]
		if i := bytes.IndexByte(rec, ';'); i >= 0 {
			rec = rec[i+1:]
		}
		msg, _, _ := strings.Cut(string(rec), "\n")
		all = append(all, msg)
	}
	for i, l := range all {
		if KernelTrouble(l) {
			return all[i:min(i+30, len(all))]
		}
	}
	return nil
}

// AlignClock sleeps until the next multiple of period on CLOCK_MONOTONIC.
func AlignClock(period time.Duration) {
	var now unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &now) != nil {
		return
	}
	next := (time.Duration(now.Nano())/period + 1) * period
	ts := unix.NsecToTimespec(int64(next))
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}

// Shutdown powers the guest off (the agent is init: returning would panic
// the kernel).
func Shutdown() {
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}
