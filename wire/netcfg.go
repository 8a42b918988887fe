package wire

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// EnsureAddr puts addr/prefixLen on the device unless it is there already
// (the reference's net_setup_dev_address). It reports whether it added
// the address, so the caller can take it away again. IPv6 addresses are
// added without duplicate address detection, which would keep them
// tentative, and unusable, for a while (the reference sleeps 2 s instead).
func EnsureAddr(dev string, addr netip.Addr, prefixLen int) (added bool, err error) {
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return false, fmt.Errorf("device %s: %w", dev, err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return false, fmt.Errorf("addresses of %s: %w", dev, err)
	}
	for _, a := range addrs {
		if got, ok := netip.AddrFromSlice(a.IP); ok && got.Unmap() == addr.Unmap() {
			return false, nil
		}
	}
	a := &netlink.Addr{IPNet: ipNet(addr, prefixLen)}
	if addr.Is6() && !addr.Is4In6() {
		a.Flags = unix.IFA_F_NODAD
	}
	if err := netlink.AddrAdd(link, a); err != nil {
		return false, fmt.Errorf("add %v/%d to %s: %w", addr, prefixLen, dev, err)
	}
	return true, nil
}

// DelAddr takes an address EnsureAddr added off the device.
func DelAddr(dev string, addr netip.Addr, prefixLen int) error {
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return err
	}
	return netlink.AddrDel(link, &netlink.Addr{IPNet: ipNet(addr, prefixLen)})
}

// RouteVia routes dst through the device via gw, replacing any route to
// dst (the reference's route_traffic_to_wire_server).
func RouteVia(dev string, dst netip.Prefix, gw netip.Addr) error {
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("device %s: %w", dev, err)
	}
	r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: ipNet(dst.Addr(), dst.Bits()), Gw: net.IP(gw.Unmap().AsSlice())}
	if err := netlink.RouteReplace(r); err != nil {
		return fmt.Errorf("route %v via %v dev %s: %w", dst, gw, dev, err)
	}
	return nil
}

// IsLocal reports whether an address is assigned to any device here.
func IsLocal(addr netip.Addr) bool {
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if got, ok := netip.AddrFromSlice(a.IP); ok && got.Unmap() == addr.Unmap() {
			return true
		}
	}
	return false
}

// HardwareAddr is a device's MAC address.
func HardwareAddr(dev string) (net.HardwareAddr, error) {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return nil, err
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("device %s has no Ethernet address", dev)
	}
	return ifi.HardwareAddr, nil
}

func ipNet(a netip.Addr, bits int) *net.IPNet {
	a = a.Unmap()
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
}

// Blackhole makes this machine's own kernel drop, silently, the packets
// the kernel under test sends toward addr, so it answers them with neither
// a reset nor an ICMP error (an IPv6 node without a route to addr would
// send "unreachable route", which aborts a connection still in its
// handshake). The reference does the same with iptables DROP rules. The
// returned undo takes the route away again (it does nothing when a
// blackhole route was there already).
func Blackhole(addr netip.Addr) (undo func(), err error) {
	addr = addr.Unmap()
	dst := ipNet(addr, addr.BitLen())
	family := netlink.FAMILY_V4
	if addr.Is6() {
		family = netlink.FAMILY_V6
	}
	routes, err := netlink.RouteListFiltered(family, &netlink.Route{Dst: dst}, netlink.RT_FILTER_DST)
	if err == nil {
		for _, r := range routes {
			if r.Type == unix.RTN_BLACKHOLE {
				return func() {}, nil
			}
		}
	}
	r := &netlink.Route{Dst: dst, Type: unix.RTN_BLACKHOLE}
	if err := netlink.RouteAdd(r); err != nil {
		return nil, fmt.Errorf("blackhole route to %v: %w", addr, err)
	}
	return func() { netlink.RouteDel(r) }, nil
}
