package runtime

import (
	"errors"
	"fmt"
	"strconv"
)

// WireConfig holds the reference's wire-mode flags: the system calls run
// on the client's machine, and a server on another machine injects and
// sniffs the packets on an Ethernet device toward the client's NIC.
type WireConfig struct {
	Client     bool   // --wire_client (also implied by --wire_server_ip/_at)
	Server     bool   // --wire_server
	ServerAt   string // --wire_server_ip / --wire_server_at: a name or an address
	ServerPort uint16 // --wire_server_port (8081)
	ClientDev  string // --wire_client_dev
	ServerDev  string // --wire_server_dev
}

// DefaultWireServerPort is the reference's --wire_server_port.
const DefaultWireServerPort = 8081

// ErrPSPNeedsWire is the reference's refusal of PSP outside wire mode
// (config.c, finalize_psp_config), checked once the option lines are read.
var ErrPSPNeedsWire = errors.New("PSP requires wireserver mode (use --wire_client or --wire_server)")

// setWire applies a wire-mode or PSP flag; ok is false for other names.
// As in the reference, the last of --wire_client and --wire_server wins,
// and naming a server makes this side a client.
func (c *Config) setWire(name, value string) (ok bool, err error) {
	w := &c.Wire
	switch name {
	case "wire_client":
		w.Client, w.Server = true, false
	case "wire_server":
		w.Client, w.Server = false, true
	case "wire_server_ip", "wire_server_at":
		w.ServerAt, w.Client = value, true
	case "wire_server_port":
		var p uint64
		if p, err = strconv.ParseUint(value, 10, 16); err == nil {
			w.ServerPort = uint16(p)
		}
	case "wire_client_dev":
		w.ClientDev = value
	case "wire_server_dev":
		w.ServerDev = value
	case "psp_udp_port":
		var p uint64
		if p, err = strconv.ParseUint(value, 10, 16); err == nil {
			c.PSPUDPPort = uint16(p)
		}
	default:
		return false, nil
	}
	if err != nil {
		err = fmt.Errorf("bad value for --%s: %v", name, err)
	}
	return true, err
}

// CheckPSP refuses PSP (--psp_udp_port) outside wire mode, as the
// reference does; its exit code there is 1.
func (c *Config) CheckPSP() error {
	if c.PSPUDPPort != 0 && !c.Wire.Client && !c.Wire.Server {
		return ErrPSPNeedsWire
	}
	return nil
}

// IsSet reports whether a flag was given (on the command line or an
// option line), as opposed to left at its default.
func (c *Config) IsSet(name string) bool { return c.set[name] }
