package vm

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestProbeKVM runs the probe where /dev/kvm exists: whatever its verdict
// (KVM works, or it does not, as in a nested guest without support), it
// must come back within its bound and the second it allows for the kick,
// not hang with a stuck vCPU.
func TestProbeKVM(t *testing.T) {
	if _, err := os.Stat("/dev/kvm"); err != nil {
		t.Skipf("needs /dev/kvm: %v", err)
	}
	const bound = 2 * time.Second
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- ProbeKVM(bound) }()
	select {
	case err := <-done:
		t.Logf("ProbeKVM: %v after %v", err, time.Since(start))
	case <-time.After(bound + 30*time.Second):
		t.Fatalf("ProbeKVM(%v) still running after %v", bound, time.Since(start))
	}
}

// TestProbeKVMMissing: without a usable /dev/kvm the probe says why at
// once.
func TestProbeKVMMissing(t *testing.T) {
	if _, err := os.Stat("/dev/kvm"); err == nil {
		t.Skip("/dev/kvm exists")
	}
	if err := ProbeKVM(time.Second); err == nil {
		t.Fatal("ProbeKVM passed without /dev/kvm")
	}
}

// TestProbeKVMKick gives the probe a guest that never exits (jmp to
// itself): it must fail after its timeout and get its vCPU thread back
// out of KVM_RUN (no "stuck" in the error).
func TestProbeKVMKick(t *testing.T) {
	if _, err := os.Stat("/dev/kvm"); err != nil {
		t.Skipf("needs /dev/kvm: %v", err)
	}
	if err := ProbeKVM(2 * time.Second); err != nil {
		t.Skipf("KVM does not run guests here: %v", err)
	}
	saved := probeCode
	probeCode = []byte{0xEB, 0xFE} // jmp .
	defer func() { probeCode = saved }()
	err := ProbeKVM(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not run within") {
		t.Fatalf("ProbeKVM of a looping guest: %v, want a timeout", err)
	}
	if strings.Contains(err.Error(), "stuck") {
		t.Errorf("the kick did not end KVM_RUN: %v", err)
	}
}
