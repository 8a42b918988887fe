package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Accelerators.
const (
	AccelKVM = "kvm"
	AccelTCG = "tcg"
)

// Config describes one virtual machine.
type Config struct {
	Kernel *Kernel
	Initrd []byte // the initramfs archive
	Init   string // the agent's path in the initramfs
	// InitArgs are the agent's arguments (after "--" on the kernel command
	// line, which the kernel passes to init).
	InitArgs []string
	Accel    string // AccelKVM or AccelTCG
	// VirtualTime runs the guest on instruction counting with idle time
	// skipped (-icount shift=0,sleep=off; TCG only): its clock advances
	// 1 ns per instruction and jumps over idle periods, so the host's load
	// cannot move the guest's notion of time.
	VirtualTime bool
	MemoryMiB   int // default 512
	// CPUs is the number of virtual CPUs, default 1 (with -icount, qemu
	// 7.2 did not bring a second one up: the boot hung).
	CPUs        int
	Qemu        string        // default qemu-system-x86_64 in PATH
	BootTimeout time.Duration // until the agent's hello (default 60s)
	// InitTimeout, when set, bounds the wait for the agent's first frame,
	// which it sends as soon as the kernel has started it: a guest that
	// never gets that far (a KVM that hangs in the kernel's early boot)
	// fails after this instead of BootTimeout.
	InitTimeout time.Duration
}

// Hello is the agent's frame once it is ready for requests. It sends one
// with Booting set first, as soon as it runs: the kernel is up.
type Hello struct {
	Release string `json:"release"` // uname -r in the guest
	Error   string `json:"error,omitempty"`
	Booting bool   `json:"booting,omitempty"`
}

// Machine is a running guest with its agent ready.
type Machine struct {
	Hello Hello

	cmd     *exec.Cmd
	in      io.WriteCloser
	frames  *FrameReader
	exited  chan struct{}
	stderr  bytes.Buffer
	console *lineRing
	mu      sync.Mutex // one request at a time
}

// ErrNoQemu is returned when qemu is not installed.
var ErrNoQemu = errors.New("qemu-system-x86_64 not found (Debian: apt-get install qemu-system-x86)")

// Start boots a guest and waits for its agent's hello. The qemu process
// dies with this process, even on SIGKILL (Pdeathsig), and with ctx.
func Start(ctx context.Context, cfg Config) (*Machine, error) {
	qemu := cfg.Qemu
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	qemuPath, err := exec.LookPath(qemu)
	if err != nil {
		return nil, ErrNoQemu
	}
	if cfg.MemoryMiB == 0 {
		cfg.MemoryMiB = 512
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 1
	}
	if cfg.BootTimeout == 0 {
		cfg.BootTimeout = 60 * time.Second
	}
	// The initramfs lives in an anonymous memory file that qemu reads
	// through /proc/self/fd: nothing on disk to clean up.
	memfd, err := unix.MemfdCreate("godrill-initrd", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd: %v", err)
	}
	initrd := os.NewFile(uintptr(memfd), "initrd")
	defer initrd.Close()
	if _, err := initrd.Write(cfg.Initrd); err != nil {
		return nil, fmt.Errorf("initrd: %v", err)
	}
	conR, conW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer conW.Close()

	cmdline := "console=ttyS0 panic=-1 loglevel=4 mitigations=off nokaslr norandmaps rdinit=" + cfg.Init
	if len(cfg.InitArgs) > 0 {
		cmdline += " -- " + strings.Join(cfg.InitArgs, " ")
	}
	args := []string{
		"-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
		"-machine", "pc", "-m", fmt.Sprint(cfg.MemoryMiB), "-smp", fmt.Sprint(cfg.CPUs),
		"-kernel", cfg.Kernel.Image, "-initrd", "/proc/self/fd/4", "-append", cmdline,
		// ttyS0: the kernel's console, read for its log; ttyS1: the agent.
		"-chardev", "file,id=con,path=/proc/self/fd/3", "-serial", "chardev:con",
		"-chardev", "stdio,id=agent,signal=off", "-serial", "chardev:agent",
		"-monitor", "none",
	}
	switch cfg.Accel {
	case AccelKVM:
		args = append(args, "-accel", "kvm", "-cpu", "host")
	default:
		// Without CMPXCHG16B: qemu 7.2's TCG mis-emulates the per-CPU
		// cmpxchg16b of SLUB's fast path (6.12 double-faults in
		// kmem_cache_alloc); the kernel then takes its plain path.
		args = append(args, "-accel", "tcg", "-cpu", "qemu64,-cx16")
		if cfg.VirtualTime {
			// The wall clock starts at a fixed date and runs on the
			// guest's clock too: the kernel seeds its random pool with
			// it at boot, and a run should not depend on the day.
			args = append(args, "-icount", "shift=0,sleep=off", "-rtc", "base=2025-01-01T00:00:00,clock=vm")
		}
	}
	m := &Machine{exited: make(chan struct{}), console: &lineRing{max: 400}}
	cmd := exec.Command(qemuPath, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	cmd.ExtraFiles = []*os.File{conW, initrd}
	cmd.Stderr = &m.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m.cmd, m.in = cmd, in
	m.frames = NewFrameReader(out)
	go func() {
		m.console.fill(conR)
		conR.Close()
	}()
	go func() {
		cmd.Wait()
		close(m.exited)
	}()
	stop := context.AfterFunc(ctx, func() { m.Close() })
	defer stop()

	got := make(chan error, 2)
	started := make(chan struct{})
	go func() {
		for {
			var h Hello
			err := m.frames.Read(&h)
			if err == nil && h.Booting {
				close(started)
				continue
			}
			m.Hello = h
			got <- err
			return
		}
	}()
	initLimit := cfg.BootTimeout
	if cfg.InitTimeout > 0 {
		initLimit = cfg.InitTimeout
	}
	initTimer := time.NewTimer(initLimit)
	defer initTimer.Stop()
	bootTimer := time.NewTimer(cfg.BootTimeout)
	defer bootTimer.Stop()
wait:
	for {
		select {
		case err = <-got:
			break wait
		case <-started:
			started = nil
			initTimer.Stop()
		case <-initTimer.C:
			err = fmt.Errorf("guest kernel did not start its init within %v", initLimit)
			break wait
		case <-bootTimer.C:
			err = fmt.Errorf("guest did not come up within %v", cfg.BootTimeout)
			break wait
		case <-ctx.Done():
			m.Close()
			return nil, errors.New("interrupted while the guest booted")
		}
	}
	if err == nil && m.Hello.Error != "" {
		err = errors.New(m.Hello.Error)
	}
	if err != nil {
		m.Close()
		return nil, m.explain(err)
	}
	return m, nil
}

// explain adds what qemu said, or the kernel's last lines, to an error.
func (m *Machine) explain(err error) error {
	if errors.Is(err, io.EOF) {
		err = errors.New("guest stopped")
	}
	for _, l := range strings.Split(m.stderr.String(), "\n") {
		// qemu's note that an idle guest waits for input is no reason.
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "icount sleep disabled") {
			return fmt.Errorf("%v: qemu: %s", err, l)
		}
	}
	if tail := m.console.tail(); tail != "" {
		return fmt.Errorf("%v: kernel: %s", err, tail)
	}
	return err
}

// Call sends a request and waits for the reply, at most timeout (0: no
// bound) and until ctx is done. A guest that dies or stops answering is an
// error carrying the kernel's last lines; after an error the machine is
// unusable (stopped when ctx ends or the time is up).
func (m *Machine) Call(ctx context.Context, req, reply any, timeout time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := WriteFrame(m.in, req); err != nil {
		return m.explain(fmt.Errorf("guest unreachable: %v", err))
	}
	got := make(chan error, 1)
	go func() { got <- m.frames.Read(reply) }()
	var limit <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		limit = t.C
	}
	select {
	case err := <-got:
		if err != nil {
			<-m.exited // a garbled or missing reply: the guest is gone or going
			return m.explain(err)
		}
		return nil
	case <-limit:
		m.Close()
		return m.explain(fmt.Errorf("guest did not answer within %v", timeout))
	case <-ctx.Done():
		m.Close()
		return ctx.Err()
	}
}

// Console returns the kernel's last console lines.
func (m *Machine) Console() []string { return m.console.lines() }

// Close stops the guest (kills qemu) and waits for it.
func (m *Machine) Close() error {
	if m.cmd != nil && m.cmd.Process != nil {
		syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		m.cmd.Process.Kill()
	}
	<-m.exited
	return nil
}

// KernelTrouble reports whether a kernel log line tells of a panic, an
// oops, a WARN or a hang.
func KernelTrouble(line string) bool {
	for _, s := range []string{"Kernel panic", "BUG:", "Oops", "WARNING:", "general protection fault",
		"soft lockup", "hung_task", "blocked for more than", "Call Trace:", "kernel BUG"} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// terminalCodes are the firmware's screen controls and carriage returns,
// dropped from console lines.
var terminalCodes = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])|\r`)

// lineRing keeps the last lines of a stream.
type lineRing struct {
	mu   sync.Mutex
	max  int
	buf  []string
	part string
}

func (r *lineRing) fill(rd io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := rd.Read(b)
		if n > 0 {
			r.mu.Lock()
			lines := strings.Split(r.part+string(b[:n]), "\n")
			r.part = lines[len(lines)-1]
			for _, l := range lines[:len(lines)-1] {
				r.buf = append(r.buf, terminalCodes.ReplaceAllString(l, ""))
			}
			if len(r.buf) > r.max {
				r.buf = append([]string(nil), r.buf[len(r.buf)-r.max:]...)
			}
			r.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (r *lineRing) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.buf...)
	if r.part != "" {
		out = append(out, terminalCodes.ReplaceAllString(r.part, ""))
	}
	return out
}

// tail sums up why a guest stopped: the kernel's panic line when there is
// one, else its last lines.
func (r *lineRing) tail() string {
	ls := r.lines()
	for i := len(ls) - 1; i >= 0; i-- {
		if strings.Contains(ls[i], "Kernel panic") {
			return strings.TrimSpace(ls[i])
		}
	}
	return strings.Join(ls[max(0, len(ls)-3):], " | ")
}
