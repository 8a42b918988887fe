package drill

import (
	"fmt"
	"io"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
)

// pspSyscalls are the reference's PSP calls. They are no typos: a PSP
// script must reach the reference's refusal of PSP outside wire mode
// (loadScript, dryRunPSP), which comes before any check of its events;
// godrill's runtime does not implement them (docs/wire.md).
var pspSyscalls = map[string]bool{"psp_rx_assoc": true, "psp_tx_assoc": true}

// dryRunPSP is the verdict of --dry_run on a script that parsed: its
// option lines must apply, and the PSP checks pass (refusePSP), as in the
// reference, which makes them while it parses.
func dryRunPSP(script *parser.Script, cfg *runtime.Config, stderr io.Writer) int {
	for _, o := range script.Options {
		if err := cfg.Set(o.Name, o.Value, false); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", o.Pos, err) // as a real run would
			return runtime.ExitScript
		}
	}
	return refusePSP(script, cfg, stderr)
}

// refusePSP makes the reference's two PSP checks, in its order, with its
// words and exit code 1: PSP (--psp_udp_port) outside wire mode, refused
// once the option lines are read (config.c, finalize_psp_config), and a
// PSP packet line without --psp_udp_port (parser.y, a semantic error at
// the first such line).
func refusePSP(script *parser.Script, cfg *runtime.Config, stderr io.Writer) int {
	if err := cfg.CheckPSP(); err != nil {
		fmt.Fprintln(stderr, err)
		return runtime.ExitKernel
	}
	if cfg.PSPUDPPort != 0 {
		return runtime.ExitPass
	}
	for _, ev := range script.Events {
		if p := ev.Packet; p != nil && p.PSP != nil {
			fmt.Fprintf(stderr, "%s:%d: semantic error: attempting to use PSP without specifying its UDP port\n", script.File, ev.Pos.Line)
			return runtime.ExitKernel
		}
	}
	return runtime.ExitPass
}
