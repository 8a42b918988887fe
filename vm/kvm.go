package vm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The KVM ioctls the probe uses (linux/kvm.h; KVMIO is 0xAE), and its exit
// reasons.
const (
	kvmGetAPIVersion       = 0xAE00
	kvmCreateVM            = 0xAE01
	kvmGetVCPUMmapSize     = 0xAE04
	kvmCreateVCPU          = 0xAE41
	kvmSetUserMemoryRegion = 0x4020AE46 // _IOW(KVMIO, 0x46, 32-byte region)
	kvmRun                 = 0xAE80
	kvmSetRegs             = 0x4090AE82 // _IOW(KVMIO, 0x82, struct kvm_regs: 144 bytes)
	kvmGetSregs            = 0x8138AE83 // _IOR(KVMIO, 0x83, struct kvm_sregs: 312 bytes)
	kvmSetSregs            = 0x4138AE84

	kvmAPIVersion = 12 // stable since Linux 2.6.22

	kvmExitIO  = 2
	kvmExitHLT = 5
)

// The probe's guest: 2 MiB of memory at 0 with identity page tables and a
// 64-bit code segment, so the vCPU starts in long mode (where the nested
// KVM of some clouds hangs while real mode still works: SeaBIOS runs, the
// kernel never boots). The code writes a byte to an I/O port and halts:
// two exits that only a CPU that really ran the guest code produces.
const (
	probeMemSize = 2 << 20
	probePML4    = 0x2000
	probePDPT    = 0x3000
	probePD      = 0x4000
	probeCodeAt  = 0x1000
	probePort    = 0x10
	probeByte    = 0x42
)

var probeCode = []byte{
	0xB0, probeByte, // mov al, 0x42
	0xE6, probePort, // out 0x10, al
	0xF4, // hlt
}

// ProbeKVM checks that KVM can run a guest: it opens /dev/kvm, makes a VM
// with one vCPU and a few bytes of real-mode code, and runs them, at most
// timeout (a working KVM takes about a millisecond). A /dev/kvm that opens
// but whose guests never run (nested virtualisation without the host's
// support) fails here in that time instead of at a guest's boot.
func ProbeKVM(timeout time.Duration) error {
	p := &kvmProbe{tid: make(chan int, 1), done: make(chan error, 1)}
	go func() {
		// KVM_RUN runs on this thread: the one the timeout signals.
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		p.tid <- unix.Gettid()
		p.done <- p.runGuest()
	}()
	tid := <-p.tid
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-p.done:
		return err
	case <-timer.C:
	}
	// Kick the vCPU out of KVM_RUN: immediate_exit makes any later entry
	// return at once, and a signal ends the current one with EINTR (the
	// Go runtime takes an unasked-for SIGURG in its stride).
	p.mu.Lock()
	if p.run != nil {
		p.run[1] = 1
	}
	p.mu.Unlock()
	unix.Tgkill(os.Getpid(), tid, unix.SIGURG)
	select {
	case <-p.done:
		return fmt.Errorf("/dev/kvm: a test guest did not run within %v", timeout)
	case <-time.After(time.Second):
		// A vCPU stuck in the kernel: its thread is left behind.
		return fmt.Errorf("/dev/kvm: a test guest did not run within %v (its vCPU is stuck)", timeout)
	}
}

// kvmProbe is one probe's state shared between its vCPU thread and the
// caller that may have to kick it.
type kvmProbe struct {
	tid  chan int
	done chan error
	mu   sync.Mutex
	run  []byte // the vCPU's struct kvm_run, mapped from the kernel
}

// runGuest builds the probe's guest and runs it.
func (p *kvmProbe) runGuest() error {
	kvm, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(kvm)
	if v, err := ioctl(kvm, kvmGetAPIVersion, 0); err != nil || v != kvmAPIVersion {
		return fmt.Errorf("/dev/kvm: API version %d (%v), want %d", v, err, kvmAPIVersion)
	}
	vmfd, err := ioctl(kvm, kvmCreateVM, 0)
	if err != nil {
		return fmt.Errorf("/dev/kvm: create VM: %v", err)
	}
	defer unix.Close(vmfd)
	mem, err := unix.Mmap(-1, 0, probeMemSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	defer unix.Munmap(mem)
	copy(mem[probeCodeAt:], probeCode)
	// Page tables: one 2 MiB page at 0 (present, writable; PS in the PD).
	le := binary.LittleEndian
	le.PutUint64(mem[probePML4:], probePDPT|3)
	le.PutUint64(mem[probePDPT:], probePD|3)
	le.PutUint64(mem[probePD:], 0x83)
	// struct kvm_userspace_memory_region: slot, flags, guest_phys_addr,
	// memory_size, userspace_addr.
	var region [32]byte
	binary.LittleEndian.PutUint64(region[16:], probeMemSize)
	binary.LittleEndian.PutUint64(region[24:], uint64(uintptr(unsafe.Pointer(&mem[0]))))
	if _, err := ioctl(vmfd, kvmSetUserMemoryRegion, uintptr(unsafe.Pointer(&region[0]))); err != nil {
		return fmt.Errorf("/dev/kvm: guest memory: %v", err)
	}
	vcpu, err := ioctl(vmfd, kvmCreateVCPU, 0)
	if err != nil {
		return fmt.Errorf("/dev/kvm: create vCPU: %v", err)
	}
	defer unix.Close(vcpu)
	if err := longMode(vcpu); err != nil {
		return fmt.Errorf("/dev/kvm: vCPU registers: %v", err)
	}
	size, err := ioctl(kvm, kvmGetVCPUMmapSize, 0)
	if err != nil {
		return fmt.Errorf("/dev/kvm: vCPU mmap size: %v", err)
	}
	run, err := unix.Mmap(vcpu, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("/dev/kvm: vCPU mmap: %v", err)
	}
	p.mu.Lock()
	p.run = run
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.run = nil
		unix.Munmap(run)
		p.mu.Unlock()
	}()
	return probeExits(vcpu, run)
}

// longMode puts the vCPU in 64-bit mode at the probe's code. Offsets are
// those of struct kvm_sregs (eight 24-byte struct kvm_segment: cs, ds, es,
// fs, gs, ss, tr, ldt; gdt and idt; then cr0 at 224, cr3 at 240, cr4 at
// 248, efer at 264) and struct kvm_regs (rip at 128, rflags at 136).
func longMode(vcpu int) error {
	var sregs [312]byte
	if _, err := ioctl(vcpu, kvmGetSregs, uintptr(unsafe.Pointer(&sregs[0]))); err != nil {
		return err
	}
	le := binary.LittleEndian
	seg := func(off int, selector uint16, typ, long, db byte) {
		s := sregs[off : off+24]
		le.PutUint64(s[0:], 0)          // base
		le.PutUint32(s[8:], 0xFFFFFFFF) // limit
		le.PutUint16(s[12:], selector)
		s[14], s[15], s[16], s[17], s[18], s[19], s[20] = typ, 1, 0, db, 1, long, 1 // type, present, dpl, db, s, l, g
	}
	seg(0, 8, 11, 1, 0) // cs: execute/read, accessed, 64-bit
	for _, off := range []int{24, 48, 72, 96, 120} {
		seg(off, 16, 3, 0, 1) // data: read/write, accessed
	}
	le.PutUint64(sregs[224:], 0x80050033) // cr0: PE MP ET NE WP AM PG
	le.PutUint64(sregs[240:], probePML4)  // cr3
	le.PutUint64(sregs[248:], 1<<5)       // cr4: PAE
	le.PutUint64(sregs[264:], 0x500)      // efer: LME LMA
	if _, err := ioctl(vcpu, kvmSetSregs, uintptr(unsafe.Pointer(&sregs[0]))); err != nil {
		return err
	}
	var regs [144]byte
	le.PutUint64(regs[128:], probeCodeAt) // rip
	le.PutUint64(regs[136:], 2)           // rflags: the reserved bit 1
	le.PutUint64(regs[48:], probeMemSize) // rsp
	_, err := ioctl(vcpu, kvmSetRegs, uintptr(unsafe.Pointer(&regs[0])))
	return err
}

// probeExits runs the vCPU and wants the port write, then the halt.
// struct kvm_run: exit_reason at 8; the io exit at 32 (direction, size,
// port, count, data_offset).
func probeExits(vcpu int, run []byte) error {
	for _, want := range []uint32{kvmExitIO, kvmExitHLT} {
		if _, err := ioctl(vcpu, kvmRun, 0); err != nil {
			return fmt.Errorf("/dev/kvm: run: %v", err)
		}
		got := binary.LittleEndian.Uint32(run[8:])
		if got != want {
			return fmt.Errorf("/dev/kvm: test guest exited with reason %d, want %d", got, want)
		}
		if got == kvmExitIO {
			port := binary.LittleEndian.Uint16(run[34:])
			off := binary.LittleEndian.Uint64(run[40:])
			if port != probePort || off >= uint64(len(run)) || run[off] != probeByte {
				return errors.New("/dev/kvm: test guest wrote the wrong port or value")
			}
		}
	}
	return nil
}

func ioctl(fd int, req, arg uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, arg)
	if errno != 0 {
		return int(r), errno
	}
	return int(r), nil
}
