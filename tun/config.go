package tun

import (
	"fmt"
	"net/netip"

	"github.com/godrill/godrill/packet"
)

// IPVersion is the run's address family, shared with the runtime.
type IPVersion = packet.IPVersion

// The values of --ip_version.
const (
	IPv4           = packet.VersionIPv4
	IPv6           = packet.VersionIPv6
	IPv4MappedIPv6 = packet.VersionIPv4MappedIPv6
)

// Config describes the device and the addresses around it. All addresses
// are of the wire family (IPv4 for IPv4MappedIPv6).
type Config struct {
	IPVersion IPVersion
	// Name of the TUN device.
	Name string
	// LocalIP is assigned to the device, with PrefixLen (--netmask_ip).
	LocalIP   netip.Addr
	PrefixLen int
	// RemoteIP is routed to the device via GatewayIP. RemotePrefixLen is
	// the length of that route (packetdrill's --remote_ip=a/len); 0 means
	// a host route.
	RemoteIP        netip.Addr
	RemotePrefixLen int
	GatewayIP       netip.Addr
	// MTU of the device.
	MTU int
	// Offloads sets CSUM, TSO4, TSO6 and TSO_ECN on the device, so that
	// the kernel hands it unsegmented TSO packets (scripts say
	// 1:10001(10000)) with partial checksums, as packetdrill does.
	Offloads bool
	// ManualDrain leaves the device's transmit queue to the caller
	// (Device.Discard) instead of emptying it at once in the background.
	// packetdrill reads one packet from it for each packet it sniffs; until
	// then the kernel sees its packets as still in a host queue (which
	// defers retransmits; see tcp_retransmit_skb).
	ManualDrain bool
}

// DefaultConfig returns the configuration the Linux kernel selftests give
// packetdrill (tools/testing/selftests/net/packetdrill/ksft_runner.sh) for
// an IP version.
func DefaultConfig(v IPVersion) Config {
	c := Config{IPVersion: v, Name: "tun0", Offloads: true}
	switch v.Wire() {
	case IPv6:
		c.LocalIP = netip.MustParseAddr("fd3d:0a0b:17d6::1")
		c.GatewayIP = netip.MustParseAddr("fd3d:0a0b:17d6:8888::1")
		c.RemoteIP = netip.MustParseAddr("fd3d:fa7b:d17d::1")
		c.PrefixLen = 48
		c.MTU = 1520
	default:
		c.LocalIP = netip.MustParseAddr("192.168.0.1")
		c.GatewayIP = netip.MustParseAddr("192.168.0.1")
		c.RemoteIP = netip.MustParseAddr("192.0.2.1")
		c.PrefixLen = 16 // --netmask_ip=255.255.0.0
		c.MTU = 1500
	}
	return c
}

// check reports the first inconsistency in c.
func (c *Config) check() error {
	wantV4 := c.IPVersion.Wire() == IPv4
	switch c.IPVersion {
	case IPv4, IPv6, IPv4MappedIPv6:
	default:
		return fmt.Errorf("bad IP version %v", c.IPVersion)
	}
	if c.Name == "" || len(c.Name) >= 16 {
		return fmt.Errorf("bad device name %q", c.Name)
	}
	bits := 128
	if wantV4 {
		bits = 32
	}
	for _, a := range []struct {
		name string
		ip   netip.Addr
	}{{"local", c.LocalIP}, {"remote", c.RemoteIP}, {"gateway", c.GatewayIP}} {
		if !a.ip.IsValid() || a.ip.Is4() != wantV4 || a.ip.Is4In6() {
			return fmt.Errorf("%s address %v is not an %v address", a.name, a.ip, c.IPVersion.Wire())
		}
	}
	if c.PrefixLen <= 0 || c.PrefixLen > bits {
		return fmt.Errorf("bad prefix length %d for %v", c.PrefixLen, c.LocalIP)
	}
	if c.RemotePrefixLen < 0 || c.RemotePrefixLen > bits {
		return fmt.Errorf("bad remote prefix length %d for %v", c.RemotePrefixLen, c.RemoteIP)
	}
	if c.MTU < 68 || c.MTU > 65535 || (!wantV4 && c.MTU < 1280) {
		return fmt.Errorf("bad MTU %d", c.MTU)
	}
	return nil
}

// remotePrefix is the destination of the route to the remote side.
func (c *Config) remotePrefix() netip.Prefix {
	n := c.RemotePrefixLen
	if n == 0 {
		n = c.RemoteIP.BitLen()
	}
	return netip.PrefixFrom(c.RemoteIP, n).Masked()
}
