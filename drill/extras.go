package drill

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/godrill/godrill/observe"
	"github.com/godrill/godrill/runtime"
)

// observers builds the trace, capture, diagram and log writers asked for.
// The returned func finishes them with the run's outcome: it flushes the
// files, prints the diagram and writes its SVG, marking a failure.
func (e Extras) observers(path string, cfg *runtime.Config, stdout io.Writer) ([]runtime.Observer, func(error), error) {
	var (
		obs     []runtime.Observer
		closers []func() error
	)
	closeAll := func() {
		for _, c := range closers {
			if err := c(); err != nil {
				fmt.Fprintf(os.Stderr, "godrill: %v\n", err)
			}
		}
	}
	if e.Trace {
		obs = append(obs, observe.NewTrace(stdout, e.ASCII))
	}
	if e.PcapFile != "" {
		f, err := os.Create(e.PcapFile)
		if err != nil {
			return nil, nil, err
		}
		p, err := observe.NewPcap(f)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %v", e.PcapFile, err)
		}
		obs = append(obs, p)
		closers = append(closers, func() error {
			err := p.Flush()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %v", e.PcapFile, err)
			}
			return nil
		})
	}
	if e.JSONFile != "" {
		f, err := os.Create(e.JSONFile)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		bw := bufio.NewWriter(f)
		l := observe.NewLog(bw)
		obs = append(obs, l)
		closers = append(closers, func() error {
			err := l.Err()
			if ferr := bw.Flush(); err == nil {
				err = ferr
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %v", e.JSONFile, err)
			}
			return nil
		})
	}
	var diagram *observe.Diagram
	if e.Diagram || e.SVGFile != "" {
		diagram = observe.NewDiagram(e.ASCII)
		obs = append(obs, diagram)
	}
	finish := func(runErr error) {
		closeAll()
		if e.SVGFile != "" {
			if err := writeSVG(e.SVGFile, diagram, runErr); err != nil {
				fmt.Fprintf(os.Stderr, "godrill: %v\n", err)
			}
		}
		if e.Diagram {
			fmt.Fprintln(stdout)
			diagram.Render(stdout, runErr)
		}
	}
	return obs, finish, nil
}

func (e Extras) wantsState() bool {
	return e.Trace || e.Diagram || e.SVGFile != "" || e.JSONFile != ""
}

// writeSVG writes the diagram, with the run's outcome, to an SVG file.
func writeSVG(path string, d *observe.Diagram, runErr error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = d.RenderSVG(bw, runErr)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// tcpStateProbe reads the connection's state from its descriptor, else
// with sock_diag, which also sees request and time-wait sockets.
var tcpStateProbe = observe.ProbeConn

// runInitScript runs one --init_scripts entry with the shell, inside the
// namespace, before the script starts.
func runInitScript(ctx context.Context, path string, stdout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", path)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd.Run()
}
