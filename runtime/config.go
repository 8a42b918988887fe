// Package runtime runs a parsed packetdrill script against the live kernel:
// it injects the scripted peer's packets through a TUN device, sniffs what
// the kernel sends, makes the script's system calls, and checks every
// outcome against the script.
package runtime

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// IPVersion selects the address family of a run.
type IPVersion int

const (
	IPv4 IPVersion = iota
	IPv4MappedIPv6
	IPv6
)

func (v IPVersion) String() string {
	switch v {
	case IPv4MappedIPv6:
		return "ipv4-mapped-ipv6"
	case IPv6:
		return "ipv6"
	}
	return "ipv4"
}

// ParseIPVersion reads an --ip_version value.
func ParseIPVersion(s string) (IPVersion, error) {
	switch s {
	case "ipv4":
		return IPv4, nil
	case "ipv4-mapped-ipv6":
		return IPv4MappedIPv6, nil
	case "ipv6":
		return IPv6, nil
	}
	return 0, fmt.Errorf("bad --ip_version %q: want ipv4, ipv4-mapped-ipv6 or ipv6", s)
}

// Config holds every setting of a run. Fields mirror the reference's
// command-line flags; Set applies one flag by name.
type Config struct {
	IPVersion        IPVersion
	LocalIP          netip.Addr
	RemoteIP         netip.Addr
	GatewayIP        netip.Addr
	PrefixLen        int // from --netmask_ip
	BindPort         uint16
	ConnectPort      uint16
	MTU              int
	MSS              int
	ToleranceUsecs   int64
	TolerancePercent float64
	TSTickUsecs      int64
	TSEcrScaled      bool
	StrictSegments   bool
	NonFatalPacket   bool
	DryRun           bool
	SendOmitFree     bool
	Verbose          bool
	InitScripts      []string
	Defines          map[string]string
	// SyscallTimeout bounds a system call written without "..." that blocks;
	// the reference would hang forever.
	SyscallTimeout time.Duration
	// CommandTimeout bounds a shell command.
	CommandTimeout time.Duration
	// Wire holds the wire-mode flags (config_wire.go); PSPUDPPort is
	// --psp_udp_port, which needs wire mode.
	Wire       WireConfig
	PSPUDPPort uint16

	set map[string]bool // flags given, so later (weaker) sources don't override them
}

// DefaultConfig returns the reference's defaults for the given family, with
// the addresses the Linux selftests use (a fixed local address instead of
// the reference's random one, so runs are reproducible).
func DefaultConfig(v IPVersion) *Config {
	c := &Config{
		IPVersion:        v,
		BindPort:         8080,
		ConnectPort:      8080,
		ToleranceUsecs:   4000,
		TolerancePercent: 12.5,
		SyscallTimeout:   10 * time.Second,
		CommandTimeout:   60 * time.Second,
		Wire:             WireConfig{ServerPort: DefaultWireServerPort},
		Defines:          map[string]string{},
		set:              map[string]bool{},
	}
	c.applyFamilyDefaults()
	return c
}

func (c *Config) applyFamilyDefaults() {
	if c.IPVersion == IPv6 {
		c.LocalIP = netip.MustParseAddr("fd3d:a0b:17d6::1")
		c.RemoteIP = netip.MustParseAddr("fd3d:fa7b:d17d::1")
		c.GatewayIP = netip.MustParseAddr("fd3d:a0b:17d6:8888::1")
		// A /48 puts the gateway (…:8888::1) on the local link.
		c.PrefixLen = 48
		c.MTU = tunDefaultMTU
		return
	}
	c.LocalIP = netip.MustParseAddr("192.168.0.1")
	c.RemoteIP = netip.MustParseAddr("192.0.2.1")
	c.GatewayIP = netip.MustParseAddr("192.168.0.1")
	c.PrefixLen = 16
	c.MTU = tunDefaultMTU
}

// tunDefaultMTU is the reference's device MTU for every family
// (TUN_DRIVER_DEFAULT_MTU in its config.h); the kernel selftests pass
// --mtu=1520 for IPv6 themselves, so an IPv6 SYN-ACK under default flags
// advertises mss 1440, as under the reference.
const tunDefaultMTU = 1500

// unsupportedFlags are reference flags for modes godrill does not have.
var unsupportedFlags = map[string]bool{"so_filename": true, "so_flags": true}

// ignoredFlags are accepted for compatibility and have no effect here.
var ignoredFlags = map[string]bool{
	"code_command": true, "code_format": true, "code_sockopt": true, "speed": true,
	"is_anyip": true, "debug": true,
}

// Set applies one flag. A flag already given by a stronger source (the
// command line) is kept when override is false.
func (c *Config) Set(name, value string, override bool) error {
	name = strings.TrimLeft(name, "-")
	if name == "v" {
		name = "verbose"
	}
	if c.set[name] && !override && name != "define" {
		return nil
	}
	c.set[name] = true
	var err error
	switch name {
	case "ip_version":
		var v IPVersion
		if v, err = ParseIPVersion(value); err == nil && v != c.IPVersion {
			c.IPVersion = v
			local, remote, gw, plen, mtu := c.set["local_ip"], c.set["remote_ip"], c.set["gateway_ip"], c.set["netmask_ip"], c.set["mtu"]
			saved := *c
			c.applyFamilyDefaults()
			if local {
				c.LocalIP = saved.LocalIP
			}
			if remote {
				c.RemoteIP = saved.RemoteIP
			}
			if gw {
				c.GatewayIP = saved.GatewayIP
			}
			if plen {
				c.PrefixLen = saved.PrefixLen
			}
			if mtu {
				c.MTU = saved.MTU
			}
		}
	case "local_ip":
		c.LocalIP, err = netip.ParseAddr(value)
	case "remote_ip":
		c.RemoteIP, err = netip.ParseAddr(value)
	case "gateway_ip":
		c.GatewayIP, err = netip.ParseAddr(value)
	case "netmask_ip":
		c.PrefixLen, err = netmaskBits(value)
	case "bind_port":
		c.BindPort, err = parsePort(value)
	case "connect_port":
		c.ConnectPort, err = parsePort(value)
	case "mtu":
		c.MTU, err = strconv.Atoi(value)
	case "mss":
		c.MSS, err = strconv.Atoi(value)
	case "tolerance_usecs":
		c.ToleranceUsecs, err = strconv.ParseInt(value, 10, 64)
	case "tolerance_percent":
		c.TolerancePercent, err = strconv.ParseFloat(value, 64)
	case "tcp_ts_tick_usecs":
		c.TSTickUsecs, err = strconv.ParseInt(value, 10, 64)
	case "tcp_ts_ecr_scaled":
		c.TSEcrScaled = true
	case "strict_segments":
		c.StrictSegments = true
	case "non_fatal":
		for _, w := range strings.Split(value, ",") {
			switch w {
			case "packet":
				c.NonFatalPacket = true
			case "syscall":
				// The reference accepts it; failures stay fatal here as there.
			default:
				err = fmt.Errorf("unknown --non_fatal value %q", w)
			}
		}
	case "dry_run":
		c.DryRun = true
	case "send_omit_free":
		c.SendOmitFree = true
	case "verbose":
		c.Verbose = true
	case "init_scripts":
		c.InitScripts = append(c.InitScripts, strings.Split(value, ",")...)
	case "define":
		k, v, _ := strings.Cut(value, "=")
		c.Defines[k] = v
	case "syscall_timeout":
		c.SyscallTimeout, err = time.ParseDuration(value)
	case "command_timeout":
		c.CommandTimeout, err = time.ParseDuration(value)
	default:
		if ok, werr := c.setWire(name, value); ok {
			return werr
		}
		switch {
		case unsupportedFlags[name]:
			return fmt.Errorf("--%s: the shared-object mode is not supported by godrill", name)
		case ignoredFlags[name]:
		default:
			return fmt.Errorf("unknown flag --%s", name)
		}
	}
	if err != nil {
		return fmt.Errorf("bad value for --%s: %v", name, err)
	}
	return nil
}

// Check reports settings that cannot work together.
func (c *Config) Check() error {
	if c.IPVersion == IPv6 && !c.LocalIP.Is6() || c.IPVersion != IPv6 && !c.LocalIP.Is4() {
		return fmt.Errorf("--local_ip %v does not fit --ip_version=%v", c.LocalIP, c.IPVersion)
	}
	if c.IPVersion == IPv6 && !c.RemoteIP.Is6() || c.IPVersion != IPv6 && !c.RemoteIP.Is4() {
		return fmt.Errorf("--remote_ip %v does not fit --ip_version=%v", c.RemoteIP, c.IPVersion)
	}
	return nil
}

// FlagTakesValue reports whether a reference flag needs a value.
func FlagTakesValue(name string) bool {
	switch strings.TrimLeft(name, "-") {
	case "tcp_ts_ecr_scaled", "strict_segments", "dry_run", "send_omit_free", "verbose", "v",
		"wire_client", "wire_server", "is_anyip", "debug":
		return false
	}
	return true
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	return uint16(n), err
}

// netmaskBits turns a dotted (or IPv6) netmask, or a prefix length, into bits.
func netmaskBits(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, err
	}
	bits := 0
	for _, b := range a.AsSlice() {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) == 0 {
				return bits, nil
			}
			bits++
		}
	}
	return bits, nil
}

// ScriptAddrs are the live addresses of the socket side (local) and the
// scripted peer (remote) as the socket sees them: IPv4-mapped for
// ipv4-mapped-ipv6 runs.
func (c *Config) sockaddrIP(a netip.Addr) netip.Addr {
	if c.IPVersion == IPv4MappedIPv6 {
		return netip.AddrFrom16(a.As16())
	}
	return a
}
