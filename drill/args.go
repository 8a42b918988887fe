package drill

import (
	"fmt"
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
	VM       VMOptions     // --kernel, --modules, --vm-accel, --vm-time, --shard
}

// godrillFlags take a value unless listed in godrillBool.
var godrillFlags = map[string]bool{
	"trace": true, "diagram": true, "ascii": true, "pcap": true, "json": true, "svg": true, "j": true,
	"jobs": true, "junit": true, "format": true, "timeout": true,
	"kernel": true, "modules": true, "vm-accel": true, "vm-time": true, "shard": true,
}
var godrillBool = map[string]bool{"trace": true, "diagram": true, "ascii": true}

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
	case "kernel", "modules", "vm-accel", "vm-time", "shard":
		return e.VM.set(name, value)
	}
	if err != nil {
		return fmt.Errorf("bad value for --%s: %v", name, err)
	}
	return nil
}

// perRun names a capture, log or SVG file for one run of a suite: with several
// runs, "out.pcap" becomes "out.NAME.ipv6.pcap" so runs do not overwrite
// each other's files.
func (inv *Invocation) perRun(file, path, ipVersion string) string {
	if !inv.suite {
		return file
	}
	ext := filepath.Ext(file)
	name := strings.TrimSuffix(filepath.Base(path), ".pkt")
	if ipVersion == "" {
		ipVersion = "default"
	}
	return strings.TrimSuffix(file, ext) + "." + name + "." + ipVersion + ext
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
	return append(args, "--", path)
}
