package drill

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"

	"github.com/godrill/godrill/runtime"
)

// observers builds the trace, capture, diagram and log writers asked for.
// The returned func finishes them with the run's outcome.
func (e Extras) observers(path string, cfg *runtime.Config, stdout io.Writer) ([]runtime.Observer, func(error), error) {
	if e.Trace || e.Diagram || e.PcapFile != "" || e.JSONFile != "" {
		return nil, func(error) {}, fmt.Errorf("--trace, --diagram, --pcap and --json are not available yet")
	}
	return nil, func(error) {}, nil
}

func (e Extras) wantsState() bool { return e.Trace || e.Diagram || e.JSONFile != "" }

// tcpStateProbe is replaced by the sock_diag probe.
var tcpStateProbe func(local, remote string) string

// runInitScript runs one --init_scripts entry with the shell, inside the
// namespace, before the script starts.
func runInitScript(ctx context.Context, path string, stdout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", path)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd.Run()
}
