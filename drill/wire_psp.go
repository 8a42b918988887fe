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
// option lines must apply, and the reference refuses PSP outside wire mode
// while it reads them, so even a dry run of a PSP script fails (exit 1).
func dryRunPSP(script *parser.Script, cfg *runtime.Config, stderr io.Writer) int {
	for _, o := range script.Options {
		if err := cfg.Set(o.Name, o.Value, false); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", o.Pos, err) // as a real run would
			return runtime.ExitScript
		}
	}
	if err := cfg.CheckPSP(); err != nil {
		fmt.Fprintln(stderr, err)
		return runtime.ExitKernel
	}
	return runtime.ExitPass
}
