package drill

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/godrill/godrill/frompcap"
	"github.com/godrill/godrill/runtime"
)

const fromPcapUsage = `usage: godrill from-pcap [flags] CAPTURE
  turns each TCP connection of a pcap or pcapng capture into a script, from the
  side under test's point of view (default: the side that accepted)
`

// cmdFromPcap is "godrill from-pcap": capture in, scripts out (stdout, or
// one file per connection with -o).
func cmdFromPcap(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("from-pcap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, fromPcapUsage)
		fs.PrintDefaults()
	}
	var o frompcap.Options
	fs.IntVar(&o.Conn, "conn", 0, "convert only connection `N` (numbered from 1 in capture order; see --list)")
	fs.StringVar(&o.Side, "side", "", "side under test: local (the side that accepted) or remote (the side that opened)")
	fs.StringVar(&o.Local, "local", "", "side under test by `HOST[:PORT]` (overrides --side)")
	fs.IntVar(&o.ToleranceUsecs, "tolerance_usecs", frompcap.DefaultToleranceUsecs, "the scripts' --tolerance_usecs; times are rounded to a tenth of it")
	fs.StringVar(&o.Windows, "windows", "syn", "which of the kernel's windows to check: syn, all or none")
	dir := fs.String("o", "", "write one file per connection into `DIR` (NAME-conn-N.pkt) instead of stdout")
	list := fs.Bool("list", false, "list the capture's connections and stop")
	if err := fs.Parse(args); err != nil {
		return runtime.ExitSetup
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return runtime.ExitSetup
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "godrill from-pcap: %v\n", err)
		return runtime.ExitSetup
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "godrill from-pcap: %v\n", err)
		return runtime.ExitSetup
	}
	defer f.Close()
	if *list {
		lines, err := frompcap.List(f)
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
		if err != nil {
			fmt.Fprintf(stderr, "godrill from-pcap: %s: %v\n", path, err)
			return runtime.ExitScript
		}
		return 0
	}
	o.Name = filepath.Base(path)
	scripts, err := frompcap.Convert(f, o)
	base := strings.TrimSuffix(o.Name, filepath.Ext(o.Name))
	for i, s := range scripts {
		if *dir == "" {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprint(stdout, s.Text)
			continue
		}
		out := filepath.Join(*dir, base+"-"+s.Name)
		if werr := os.WriteFile(out, []byte(s.Text), 0o644); werr != nil {
			fmt.Fprintf(stderr, "godrill from-pcap: %v\n", werr)
			return runtime.ExitSetup
		}
		fmt.Fprintf(stderr, "%s: %s\n", out, s.About)
	}
	if err != nil {
		if l, ok := err.(frompcap.ErrorList); ok {
			for _, e := range l {
				fmt.Fprintf(stderr, "godrill from-pcap: %s: %v\n", path, e)
			}
		} else {
			fmt.Fprintf(stderr, "godrill from-pcap: %s: %v\n", path, err)
		}
		return runtime.ExitScript
	}
	return 0
}
