package drill

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/godrill/godrill/runtime"
	"github.com/godrill/godrill/vm"
)

// Flag is one packetdrill flag as given on the command line.
type Flag struct {
	Name  string
	Value string
}

// Invocation is a parsed command line: packetdrill flags (passed through to
// each script's run), godrill's own flags, and the script paths.
type Invocation struct {
	Flags  []Flag
	Extras Extras
	Files  []string
	// Help and Version: -h/--help and --version were given.
	Help, Version bool
	// suite is set when the invocation runs more than one script (or one
	// script in several families).
	suite bool
	vms   *vmPool // the run's virtual machines (--kernel)
	// vmExtra adds to each guest image (godrill vm: the command and --include).
	vmExtra func(*vm.Initramfs) error
}

// Extras are godrill's own flags, beyond the reference's.
type Extras struct {
	Trace    bool          // --trace: kernel TCP state after each event
	Diagram  bool          // --diagram: sequence diagram at the end
	ASCII    bool          // --ascii: diagram without Unicode box drawing
	PcapFile string        // --pcap FILE
	JSONFile string        // --json FILE
	SVGFile  string        // --svg FILE: the sequence diagram as SVG
	Jobs     int           // -j N
	JUnit    string        // --junit FILE
	Format   string        // --format text|tap|json
	Timeout  time.Duration // --timeout per script
	Versions []string      // from --ip_version=a,b or all
	Retries  int           // --retries N: rerun a suite's runs where godrill was late
	Hold     bool          // --hold: keep the run open after its last event
	Quiet    bool          // -q: no result lines, only failures' reports
	RunID    string        // --run_id: the registry id the parent gave this run (internal)
	EndHold  bool          // --end_hold: a final sleep that would hold the run is dropped (internal, suites)
	VM       VMOptions     // --kernel, --modules, --vm-accel, --vm-time, --shard
}

// godrillFlags take a value unless listed in godrillBool.
var godrillFlags = map[string]bool{
	"trace": true, "diagram": true, "ascii": true, "pcap": true, "json": true, "svg": true, "j": true,
	"jobs": true, "junit": true, "format": true, "timeout": true, "retries": true, "hold": true, "q": true, "quiet": true,
	"run_id": true, "end_hold": true,
	"kernel": true, "modules": true, "vm-accel": true, "vm-time": true, "shard": true,
}
var godrillBool = map[string]bool{"trace": true, "diagram": true, "ascii": true, "hold": true, "q": true, "quiet": true, "end_hold": true}

// knownFlags are every flag's name, for "did you mean".
var knownFlags = []string{
	"ip_version", "local_ip", "remote_ip", "gateway_ip", "netmask_ip", "bind_port", "connect_port",
	"mtu", "mss", "tolerance_usecs", "tolerance_percent", "tcp_ts_tick_usecs", "tcp_ts_ecr_scaled",
	"strict_segments", "non_fatal", "init_scripts", "dry_run", "send_omit_free", "verbose", "define",
	"syscall_timeout", "command_timeout", "trace", "diagram", "ascii", "pcap", "json", "svg", "jobs",
	"junit", "format", "timeout", "retries", "hold", "quiet", "help", "version",
	"kernel", "modules", "vm-accel", "vm-time", "shard",
}

// ParseArgs reads packetdrill-style arguments: --name=value, --name value,
// -D NAME=value, -v, and godrill's own flags; everything else is a path.
func ParseArgs(args []string) (*Invocation, error) {
	inv := &Invocation{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			inv.Files = append(inv.Files, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			inv.Files = append(inv.Files, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		switch name {
		case "h", "help":
			inv.Help = true
			continue
		case "version":
			inv.Version = true
			continue
		}
		switch {
		case name == "D" || (strings.HasPrefix(name, "D") && !strings.HasPrefix(a, "--") && len(name) > 1):
			if name != "D" {
				value, hasValue, name = strings.TrimPrefix(a, "-D"), true, "D"
			}
			name = "define"
		case strings.HasPrefix(name, "j") && !strings.HasPrefix(a, "--") && len(name) > 1:
			value, hasValue, name = name[1:], true, "j"
		}
		if godrillFlags[name] {
			if !hasValue && !godrillBool[name] {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				value = args[i]
			}
			if err := inv.Extras.set(name, value); err != nil {
				return nil, err
			}
			continue
		}
		if !hasValue && runtime.FlagTakesValue(name) {
			if err := runtime.DefaultConfig(runtime.IPv4).Set(name, "", true); err != nil && strings.HasPrefix(err.Error(), "unknown flag") {
				return nil, unknownFlag(name, err)
			}
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if name == "ip_version" && (strings.Contains(value, ",") || value == "all") {
			inv.Extras.Versions = splitVersions(value)
			continue
		}
		if err := runtime.DefaultConfig(runtime.IPv4).Set(name, value, true); err != nil {
			if strings.HasPrefix(err.Error(), "unknown flag") {
				return nil, unknownFlag(name, err)
			}
			return nil, err
		}
		inv.Flags = append(inv.Flags, Flag{Name: name, Value: value})
	}
	return inv, nil
}

func splitVersions(v string) []string {
	if v == "all" {
		return []string{"ipv4", "ipv6", "ipv4-mapped-ipv6"}
	}
	return strings.Split(v, ",")
}

func (e *Extras) set(name, value string) error {
	var err error
	switch name {
	case "trace":
		e.Trace = true
	case "diagram":
		e.Diagram = true
	case "ascii":
		e.ASCII = true
	case "pcap":
		e.PcapFile = value
	case "json":
		e.JSONFile = value
	case "svg":
		e.SVGFile = value
	case "j", "jobs":
		e.Jobs, err = strconv.Atoi(value)
	case "junit":
		e.JUnit = value
	case "format":
		e.Format = value
	case "timeout":
		e.Timeout, err = time.ParseDuration(value)
	case "retries":
		e.Retries, err = strconv.Atoi(value)
	case "hold":
		e.Hold = true
	case "q", "quiet":
		e.Quiet = true
	case "run_id":
		e.RunID = value
	case "end_hold":
		e.EndHold = true
	case "kernel", "modules", "vm-accel", "vm-time", "shard":
		return e.VM.set(name, value)
	}
	if err != nil {
		return fmt.Errorf("bad value for --%s: %v", name, err)
	}
	return nil
}

// unknownFlag adds the flag that was probably meant to err.
func unknownFlag(name string, err error) error {
	if s := didYouMean(name); s != "" {
		return fmt.Errorf("%v (did you mean --%s?)", err, s)
	}
	return err
}

// didYouMean returns the known flag closest to name, if one is close.
func didYouMean(name string) string {
	best, bestD := "", 3 // farther than 2 edits is no longer a typo
	for _, k := range knownFlags {
		d := editDistance(name, k)
		if len(name) >= 3 && strings.HasPrefix(k, name) {
			d = min(d, 1)
		}
		if d < bestD && d < len(name) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// perRun names a capture, log or SVG file for one run of a suite: with
// several runs, "out.pcap" becomes the directory "out", holding one file per
// run named after the script's path and the family
// ("out/scripts/x.ipv6.pcap"), so no two runs can write the same file.
func (inv *Invocation) perRun(file, path, ipVersion string) string {
	if !inv.suite {
		return file
	}
	ext := filepath.Ext(file)
	return filepath.Join(strings.TrimSuffix(file, ext), scriptRel(path)+"."+familyName(inv, ipVersion)+ext)
}

// scriptRel is a script's path without .pkt, relative to the working
// directory when it lies below it, else its absolute path without the
// leading slash: a name that is unique per script and can go below a
// directory.
func scriptRel(path string) string {
	p := strings.TrimSuffix(path, ".pkt")
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, abs); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return strings.TrimPrefix(abs, string(filepath.Separator))
}

// familyName is the address family a run uses: the job's, else the
// flags', else the reference's default.
func familyName(inv *Invocation, ipVersion string) string {
	if ipVersion != "" {
		return ipVersion
	}
	v := "ipv4"
	for _, f := range inv.Flags {
		if f.Name == "ip_version" {
			v = f.Value
		}
	}
	return v
}

// childArgs are the arguments of the sandboxed child for one script.
func (inv *Invocation) childArgs(path, ipVersion string) []string {
	var args []string
	for _, f := range inv.Flags {
		if ipVersion != "" && f.Name == "ip_version" {
			continue
		}
		args = append(args, "--"+f.Name+"="+f.Value)
	}
	if ipVersion != "" {
		args = append(args, "--ip_version="+ipVersion)
	}
	e := inv.Extras
	if e.Trace {
		args = append(args, "--trace")
	}
	if e.Diagram {
		args = append(args, "--diagram")
	}
	if e.ASCII {
		args = append(args, "--ascii")
	}
	if e.PcapFile != "" {
		args = append(args, "--pcap="+inv.perRun(e.PcapFile, path, ipVersion))
	}
	if e.JSONFile != "" {
		args = append(args, "--json="+inv.perRun(e.JSONFile, path, ipVersion))
	}
	if e.SVGFile != "" {
		args = append(args, "--svg="+inv.perRun(e.SVGFile, path, ipVersion))
	}
	if e.Hold {
		args = append(args, "--hold")
	}
	if e.RunID != "" {
		args = append(args, "--run_id="+e.RunID)
	}
	if e.EndHold {
		args = append(args, "--end_hold")
	}
	return append(args, "--", path)
}
