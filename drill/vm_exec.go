package drill

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/godrill/godrill/runtime"
	"github.com/godrill/godrill/vm"
)

const vmUsage = `usage: godrill vm --kernel IMAGE [--modules DIR] [--vm-accel auto|kvm|tcg] [--vm-time virtual|real]
  [--include PATH]... [--timeout DUR] -- COMMAND [ARG...]
runs COMMAND (with its libraries) as root in a guest of IMAGE, in the current directory, with the
PATHs (files, or directories with everything below them) copied in at their host paths; prints its
output when it ends and exits with its exit code. Files it writes stay in the guest.
`

// cmdVM runs one command in a guest: for running a whole tool (a corpus
// runner, the reference packetdrill) against another kernel.
func cmdVM(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	inv := &Invocation{}
	var includes, command []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			command = args[i+1:]
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			command = args[i:]
			break
		}
		if !hasValue {
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "godrill vm: flag --%s needs a value\n%s", name, vmUsage)
				return runtime.ExitSetup
			}
			i++
			value = args[i]
		}
		var err error
		switch name {
		case "include":
			includes = append(includes, value)
		case "timeout":
			inv.Extras.Timeout, err = time.ParseDuration(value)
		case "kernel", "modules", "vm-accel", "vm-time":
			err = inv.Extras.VM.set(name, value)
		default:
			err = fmt.Errorf("unknown flag --%s", name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "godrill vm: %v\n%s", err, vmUsage)
			return runtime.ExitSetup
		}
	}
	if len(command) == 0 || len(inv.Extras.VM.Kernels) != 1 || inv.Extras.VM.Kernels[0] == hostKernel {
		fmt.Fprint(stderr, "godrill vm: one --kernel IMAGE and a command are needed\n"+vmUsage)
		return runtime.ExitSetup
	}
	prog, err := exec.LookPath(command[0])
	if err != nil {
		fmt.Fprintf(stderr, "godrill vm: %v\n", err)
		return runtime.ExitSetup
	}
	if prog, err = filepath.Abs(prog); err != nil {
		fmt.Fprintf(stderr, "godrill vm: %v\n", err)
		return runtime.ExitSetup
	}
	inv.vmExtra = func(img *vm.Initramfs) error {
		if err := img.Program(prog); err != nil {
			return err
		}
		for _, p := range includes {
			if err := includePath(img, p); err != nil {
				return fmt.Errorf("--include %s: %v", p, err)
			}
		}
		return nil
	}
	j := job{kernel: inv.Extras.VM.Kernels[0]}
	if err := prepareRun(ctx, inv, []job{j}, stderr); err != nil {
		fmt.Fprintf(stderr, "godrill vm: %v\n", err)
		return runtime.ExitSetup
	}
	defer inv.closeVMs()
	p := inv.vms
	vk := p.kernels[j.kernel]
	m, err := p.get(ctx, vk)
	if err != nil {
		fmt.Fprintf(stderr, "godrill vm: %v\n", err)
		return runtime.ExitSetup
	}
	dir, _ := os.Getwd()
	var reply vmReply
	if err := m.Call(ctx, vmRequest{Dir: dir, Exec: append([]string{prog}, command[1:]...), Timeout: inv.Extras.Timeout},
		&reply, inv.Extras.Timeout); err != nil {
		fmt.Fprintf(stderr, "godrill vm: guest kernel %s: %v\n", vk.kernel.Name(), err)
		return runtime.ExitSetup
	}
	if reply.Error != "" {
		fmt.Fprintf(stderr, "godrill vm: %s\n", reply.Error)
		return runtime.ExitSetup
	}
	io.WriteString(stdout, strings.TrimSuffix(reply.Result.Output, reply.Result.Stderr))
	io.WriteString(stderr, reply.Result.Stderr)
	if len(reply.Kernel) > 0 {
		fmt.Fprintf(stderr, "godrill vm: kernel log:\n%s\n", strings.Join(reply.Kernel, "\n"))
	}
	return reply.Result.ExitCode
}

// includePath copies a file (an ELF program with its libraries) or a whole
// directory tree into the image at its host path.
func includePath(img *vm.Initramfs, p string) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return img.Program(abs)
	}
	return filepath.WalkDir(abs, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			img.Dir(q, 0o755)
			return nil
		}
		if info, err := os.Stat(q); err == nil && info.Mode().IsRegular() {
			if info.Mode()&0o111 != 0 {
				return img.Program(q)
			}
			_, err = img.HostPath(q)
			return err
		}
		return nil
	})
}

// serveExec runs a command for cmdVM in the guest.
func serveExec(ctx context.Context, req vmRequest) vmReply {
	var reply vmReply
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, req.Exec[0], req.Exec[1:]...)
	cmd.Dir = req.Dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err := cmd.Run()
	reply.Result.Output, reply.Result.Stderr = out.String()+errb.String(), errb.String()
	switch e := err.(type) {
	case nil:
		reply.Result.Passed = true
	case *exec.ExitError:
		reply.Result.ExitCode = max(e.ExitCode(), 1)
	default:
		reply.Error = fmt.Sprintf("guest: %v", err)
	}
	return reply
}
