package runtime

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/packet"
)

// shell runs a backtick command with /bin/sh in the run's namespace. The
// command gets its own process group, killed whole on timeout, and dies
// with us (Pdeathsig) so nothing outlives a run.
func (r *runner) shell(text string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	cmd := exec.Command("/bin/sh", "-c", text)
	cmd.Env = r.env
	cmd.Stdout = r.stdout
	cmd.Stderr = r.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := r.startCommand(cmd); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitError(err)
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("did not finish within %v; killed", timeout)
	}
}

func exitError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Errorf("killed by signal %d", ws.Signal())
		}
		return fmt.Errorf("non-zero status %d", ee.ExitCode())
	}
	return err
}

// resetPacket builds the RST that ends a connection the script left open,
// from the last segment the script injected.
func resetPacket(s *socket) []byte {
	ip := packet.IPFields{Src: s.remote.Addr(), Dst: s.local.Addr(), TTL: 255}
	tf := packet.TCPFields{
		SrcPort: s.remote.Port(), DstPort: s.local.Port(),
		Seq: s.lastInSeq, Ack: s.lastInAck, Flags: packet.RST | packet.ACK, Window: s.lastInWin,
	}
	return packet.BuildTCP(ip, tf, nil)
}

// tcpInfo reads TCP_INFO of the socket under test, or nil.
func (r *runner) tcpInfo() *unix.TCPInfo {
	if r.sut == nil || r.sut.liveFD < 0 {
		return nil
	}
	info, err := unix.GetsockoptTCPInfo(r.sut.liveFD, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return nil
	}
	return info
}

// CodeRunner evaluates %{ }% snippets; see package inlinecode.
type CodeRunner interface {
	Exec(file string, line int, code string, info *unix.TCPInfo) error
}
