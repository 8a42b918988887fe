package tun

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/songgao/water"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/internal/rawsys"
)

const tunPath = "/dev/net/tun"

// vnetHdrLen is the size of struct virtio_net_hdr (linux/virtio_net.h),
// which precedes every packet read from or written to the device.
const vnetHdrLen = 10

// virtio_net_hdr.gso_type values (linux/virtio_net.h).
const (
	gsoTCPv4 = 1
	gsoTCPv6 = 4
)

// in6AddrGenModeNone (linux/if_link.h) stops the kernel from giving the
// device an IPv6 link-local address, and so from sending router
// solicitations and MLD reports a script would have to ignore.
const in6AddrGenModeNone = 1

// maxFrame bounds a packet on the device: 64 KiB of (TSO) IP packet plus
// its virtio header, with room to spare.
const maxFrame = 1 << 17

// Device is the configured TUN device in the sandbox.
type Device struct {
	cfg   Config
	index int
	file  *os.File // the device's only queue
	rc    syscall.RawConn
	// tsFD keeps kernel packet timestamps enabled for as long as the device
	// lives. Enabling them is deferred to a kernel worker, so it is done
	// early in Setup rather than when the first sniffer opens.
	tsFD int

	closeOnce sync.Once
	closeErr  error
	drained   chan struct{} // closed when the drain goroutine exits
}

// Setup configures the sandbox's network the way packetdrill does: lo up,
// a TUN device (IFF_TUN|IFF_NO_PI|IFF_VNET_HDR) with the configured
// offloads, MTU and a pfifo root qdisc, the local address on it and a route
// to the remote side through it.
//
// Setup runs only where Isolated is true: it never touches the network
// namespace of the process that called Command.
func Setup(cfg Config) (*Device, error) {
	if !Isolated() {
		return nil, errors.New("tun: Setup called outside a sandbox started by tun.Command; refusing to configure this network namespace")
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("tun: %w", err)
	}
	d := &Device{cfg: cfg, tsFD: -1}
	if err := d.setup(); err != nil {
		d.Close()
		return nil, fmt.Errorf("tun: %w", err)
	}
	if !cfg.ManualDrain {
		d.drained = make(chan struct{})
		go d.drain()
	}
	return d, nil
}

func (d *Device) setup() error {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	// Before anything else changes: is this really a sandbox?
	if err := checkFresh(h); err != nil {
		return err
	}
	if err := restoreNetDefaults(); err != nil {
		return fmt.Errorf("restoring a fresh namespace's sysctls: %w", err)
	}
	// Start the kernel's deferred enabling of timestamps now, so that it
	// has completed by the time traffic flows.
	if d.tsFD, err = timestampSocket(); err != nil {
		return err
	}
	if err := remount(); err != nil {
		return err
	}
	if err := d.create(); err != nil {
		return err
	}
	return d.configure(h)
}

// checkFresh makes sure this network namespace is one Command created: it
// has no link but lo. It backs up Isolated, which trusts an environment
// variable.
func checkFresh(h *netlink.Handle) error {
	links, err := h.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		if name := l.Attrs().Name; name != "lo" {
			return fmt.Errorf("refusing to configure a network namespace with link %s: not a fresh sandbox", name)
		}
	}
	return nil
}

// create makes the TUN device and attaches d.file to it as its only queue.
//
// water cannot ask for IFF_VNET_HDR, so the device is created through it as
// persistent, released, and attached again with the flags we need: when the
// first queue attaches to a tun device, TUNSETIFF replaces the device's
// feature flags (drivers/net/tun.c, tun_set_iff).
//
// The device stays persistent. Closing the last queue of a non-persistent
// device unregisters it on the spot, which waits for RCU grace periods:
// 20-50 ms at every exit. A persistent device is instead deleted with the
// namespace by the kernel's cleanup worker, after the sandbox has exited.
func (d *Device) create() error {
	ifce, err := water.New(water.Config{
		DeviceType: water.TUN,
		PlatformSpecificParams: water.PlatformSpecificParams{
			Name:    d.cfg.Name,
			Persist: true,
		},
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", d.cfg.Name, err)
	}
	if ifce.Name() != d.cfg.Name {
		ifce.Close()
		return fmt.Errorf("create %s: got device %s", d.cfg.Name, ifce.Name())
	}
	if err := ifce.Close(); err != nil {
		return fmt.Errorf("close %s: %w", d.cfg.Name, err)
	}
	fd, err := unix.Open(tunPath, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return d.deleteLink(fmt.Errorf("open %s: %w", tunPath, err))
	}
	d.file = os.NewFile(uintptr(fd), tunPath)
	if d.rc, err = d.file.SyscallConn(); err != nil {
		return d.deleteLink(err)
	}
	const flags = unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR
	ifr, err := unix.NewIfreq(d.cfg.Name)
	if err != nil {
		return d.deleteLink(err)
	}
	ifr.SetUint16(flags)
	offload := 0
	if d.cfg.Offloads {
		offload = unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6 | unix.TUN_F_TSO_ECN
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"TUNSETIFF", func() error { return unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr) }},
		{"TUNGETIFF", func() error {
			if err := unix.IoctlIfreq(fd, unix.TUNGETIFF, ifr); err != nil {
				return err
			}
			if got := ifr.Uint16(); got&flags != flags {
				return fmt.Errorf("device flags are %#x, want %#x", got, flags)
			}
			return nil
		}},
		{"TUNSETPERSIST", func() error { return unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1) }},
		{"TUNSETVNETHDRSZ", func() error { return unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, vnetHdrLen) }},
		{"TUNSETOFFLOAD", func() error { return unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, offload) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return d.deleteLink(fmt.Errorf("%s %s: %w", s.what, d.cfg.Name, err))
		}
	}
	return nil
}

// deleteLink removes a device left persistent by a failed create and
// returns err.
func (d *Device) deleteLink(err error) error {
	if l, e := netlink.LinkByName(d.cfg.Name); e == nil {
		netlink.LinkDel(l)
	}
	return err
}

// configure sets up links, addresses, routes and the qdisc.
func (d *Device) configure(h *netlink.Handle) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	link, err := h.LinkByName(d.cfg.Name)
	if err != nil {
		return fmt.Errorf("find %s: %w", d.cfg.Name, err)
	}
	d.index = link.Attrs().Index
	if err := h.LinkSetMTU(link, d.cfg.MTU); err != nil {
		return fmt.Errorf("set %s mtu %d: %w", d.cfg.Name, d.cfg.MTU, err)
	}
	if err := h.LinkSetIP6AddrGenMode(link, in6AddrGenModeNone); err != nil {
		return fmt.Errorf("set %s addrgenmode none: %w", d.cfg.Name, err)
	}
	// pfifo, as the kernel selftests force, so that a default fq qdisc
	// does not pace packets and shift their send times.
	pfifo := &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: d.index, Parent: netlink.HANDLE_ROOT},
		QdiscType:  "pfifo",
	}
	if err := h.QdiscReplace(pfifo); err != nil {
		return fmt.Errorf("set %s qdisc pfifo: %w", d.cfg.Name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", d.cfg.Name, err)
	}
	local := &netlink.Addr{IPNet: &net.IPNet{
		IP:   d.cfg.LocalIP.AsSlice(),
		Mask: net.CIDRMask(d.cfg.PrefixLen, d.cfg.LocalIP.BitLen()),
	}}
	if d.cfg.LocalIP.Is6() {
		// Usable at once: no duplicate address detection.
		local.Flags = unix.IFA_F_NODAD
	}
	if err := h.AddrAdd(link, local); err != nil {
		return fmt.Errorf("add address %v/%d to %s: %w", d.cfg.LocalIP, d.cfg.PrefixLen, d.cfg.Name, err)
	}
	if err := waitLocal(h, d.cfg.LocalIP); err != nil {
		return err
	}
	dst := d.cfg.remotePrefix()
	route := &netlink.Route{
		LinkIndex: d.index,
		Dst:       &net.IPNet{IP: dst.Addr().AsSlice(), Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen())},
		Gw:        d.cfg.GatewayIP.AsSlice(),
	}
	if err := h.RouteAdd(route); err != nil {
		return fmt.Errorf("add route %v via %v dev %s: %w", dst, d.cfg.GatewayIP, d.cfg.Name, err)
	}
	return nil
}

// waitLocal waits until the kernel delivers packets for ip locally. An
// IPv6 address, even without duplicate address detection, gets its local
// route from a kernel worker that needs the RTNL lock, which the teardown
// of other namespaces can hold for a long time: a SYN arriving before then
// is dropped.
func waitLocal(h *netlink.Handle, ip netip.Addr) error {
	const limit = 10 * time.Second
	deadline := time.Now().Add(limit)
	for pause := 50 * time.Microsecond; ; pause = min(2*pause, 10*time.Millisecond) {
		routes, err := h.RouteGet(ip.AsSlice())
		if err == nil && len(routes) > 0 && routes[0].Type == unix.RTN_LOCAL {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("address %v not usable after %v (route %v, %v)", ip, limit, routes, err)
		}
		time.Sleep(pause)
	}
}

// Config returns the configuration the device was set up with.
func (d *Device) Config() Config { return d.cfg }

// Name returns the device's interface name.
func (d *Device) Name() string { return d.cfg.Name }

// Index returns the device's interface index.
func (d *Device) Index() int { return d.index }

// WritePacket injects an IP packet into the kernel as if it had arrived on
// the device. The packet must carry valid checksums: its virtio header
// asks for no offload.
func (d *Device) WritePacket(ip []byte) error {
	var hdr [vnetHdrLen]byte
	return d.write(hdr[:], ip)
}

// WriteGSO injects an IP packet carrying a TCP segment that the kernel is
// to treat as a GRO aggregate of segments of gsoSize payload bytes, as
// packetdrill does under --mss.
func (d *Device) WriteGSO(ip []byte, gsoSize int) error {
	var hdr [vnetHdrLen]byte
	if len(ip) == 0 {
		return errors.New("tun: empty packet")
	}
	switch ip[0] >> 4 {
	case 4:
		hdr[1] = gsoTCPv4
	case 6:
		hdr[1] = gsoTCPv6
	default:
		return fmt.Errorf("tun: bad IP version %d", ip[0]>>4)
	}
	// struct virtio_net_hdr: flags u8, gso_type u8, hdr_len, gso_size,
	// csum_start, csum_offset (little-endian u16s for a legacy header).
	hdr[4], hdr[5] = byte(gsoSize), byte(gsoSize>>8)
	return d.write(hdr[:], ip)
}

func (d *Device) write(hdr, ip []byte) error {
	var n int
	var werr error
	err := d.rc.Write(func(fd uintptr) bool {
		n, werr = rawsys.Writev(int(fd), hdr, ip)
		return werr != unix.EAGAIN
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("tun: write %s: %w", d.cfg.Name, err)
	}
	if n != len(hdr)+len(ip) {
		return fmt.Errorf("tun: write %s: short write %d of %d bytes", d.cfg.Name, n, len(hdr)+len(ip))
	}
	return nil
}

// drain empties the device's transmit queue as fast as the kernel fills
// it, so the queue never overflows; the sniffer is where packets are seen.
func (d *Device) drain() {
	defer close(d.drained)
	buf := make([]byte, maxFrame)
	for {
		if _, err := d.file.Read(buf); err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// Discard removes up to n packets from the device's transmit queue,
// waiting at most briefly for each, and returns how many it removed. It is
// for Config.ManualDrain; without it the queue is emptied automatically.
//
// It reads on the calling thread, never parking in Go's network poller:
// the event loop calls it after each sniffed packet, and a parked loop
// goroutine needs another thread to hand it a P back (package rawsys).
func (d *Device) Discard(n int) (int, error) {
	if !d.cfg.ManualDrain {
		return 0, errors.New("tun: Discard needs Config.ManualDrain")
	}
	for i := range n {
		// A sniffed packet has normally reached the queue by the time the
		// sniffer returns it; allow a little slack anyway.
		if ok, err := d.discardOne(time.Now().Add(10 * time.Millisecond)); !ok {
			return i, err
		}
	}
	return n, nil
}

// discardOne takes one packet off the queue, waiting until deadline; it
// reports false when none came (err nil) or the read failed. A read of a
// TUN device takes one whole packet however little of it the buffer
// holds, as the reference relies on (it reads the virtio header and one
// byte): a small buffer costs no clearing.
func (d *Device) discardOne(deadline time.Time) (bool, error) {
	var buf [vnetHdrLen + 1]byte
	for {
		var rerr error
		err := d.rc.Read(func(fd uintptr) bool {
			_, rerr = rawsys.Read(int(fd), buf[:])
			if left := time.Until(deadline); rerr == unix.EAGAIN && left > 0 {
				rawsys.PollIn(int(fd), left)
			}
			return true
		})
		if err == nil {
			err = rerr
		}
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN) && time.Now().Before(deadline):
		case errors.Is(err, unix.EAGAIN):
			return false, nil
		default:
			return false, fmt.Errorf("tun: read %s: %w", d.cfg.Name, err)
		}
	}
}

// Close releases the device's queue and the background reader. The device
// itself, with its addresses and routes, lives on until the sandbox's
// network namespace goes away with its last process; so call Setup once
// per sandbox.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		if d.file != nil {
			d.closeErr = d.file.Close()
			if d.drained != nil {
				<-d.drained
			}
		}
		if d.tsFD >= 0 {
			unix.Close(d.tsFD)
		}
	})
	return d.closeErr
}
