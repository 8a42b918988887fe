package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ResetGuard keeps the scripted peer's TCP resets off the kernel under
// test once the script's packets are over. The reference's wire server
// ends a run by injecting a RST for each connection it knows (state_free
// -> close_all_fds -> socket_close -> reset_connection, unconditionally
// for a TCP socket with both ports known), about 0.1 ms after it sends the
// PACKETS_DONE of the last batch, while the client may still be checking
// the connection (an ss state check after the last packet, as most of
// scripts/ have); the reset kills that connection, even in TIME-WAIT.
//
// The guard is a classic-BPF cls_bpf classifier in direct-action mode on
// the client device's ingress (a clsact qdisc, made if the device has no
// ingress hook, and taken away again only then): it drops TCP segments
// with RST set whose source is the peer's address and passes everything
// else, so that it may go in before the last batch starts, when a filter
// installed after its PACKETS_DONE would lose the race with the reset.
type ResetGuard struct {
	dev       string
	peer      netip.Addr
	ifindex   int
	prio      uint16
	ownQdisc  bool // the guard made the clsact qdisc
	installed bool
}

// tc actions of a direct-action classifier (pkt_cls.h).
const (
	tcActOK   = 0
	tcActShot = 2
)

// NewResetGuard prepares a guard on dev against resets from peer (an
// IPv4-mapped address stands for its IPv4 form, as on the wire). Nothing
// is installed yet.
func NewResetGuard(dev string, peer netip.Addr) *ResetGuard {
	return &ResetGuard{dev: dev, peer: peer.Unmap()}
}

// Install puts the filter on the device's ingress, at the lowest free
// priority (it runs before the filters already there, except those at a
// lower priority still).
func (g *ResetGuard) Install() error {
	if g.installed {
		return nil
	}
	prog, err := resetFilter(g.peer)
	if err != nil {
		return err
	}
	link, err := netlink.LinkByName(g.dev)
	if err != nil {
		return fmt.Errorf("device %s: %w", g.dev, err)
	}
	g.ifindex = link.Attrs().Index
	hook, err := hasIngressHook(link)
	if err != nil {
		return err
	}
	if !hook {
		q := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: g.ifindex,
			Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}}
		if err := netlink.QdiscAdd(q); err != nil {
			return fmt.Errorf("clsact qdisc on %s: %w", g.dev, err)
		}
		g.ownQdisc = true
	}
	if g.prio, err = freePriority(link); err != nil {
		g.removeQdisc()
		return err
	}
	if err := g.filterRequest(unix.RTM_NEWTFILTER, unix.NLM_F_CREATE|unix.NLM_F_EXCL, prog); err != nil {
		g.removeQdisc()
		return fmt.Errorf("reset filter on %s: %w", g.dev, err)
	}
	g.installed = true
	return nil
}

// Remove takes the filter away, and the qdisc if the guard made it. It
// does nothing when nothing is installed.
func (g *ResetGuard) Remove() error {
	if !g.installed {
		return nil
	}
	g.installed = false
	if g.ownQdisc {
		return g.removeQdisc() // its filters go with it
	}
	if err := g.filterRequest(unix.RTM_DELTFILTER, 0, nil); err != nil {
		return fmt.Errorf("reset filter on %s: %w", g.dev, err)
	}
	return nil
}

func (g *ResetGuard) removeQdisc() error {
	if !g.ownQdisc {
		return nil
	}
	g.ownQdisc = false
	q := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: g.ifindex,
		Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}}
	if err := netlink.QdiscDel(q); err != nil && !errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("clsact qdisc on %s: %w", g.dev, err)
	}
	return nil
}

// hasIngressHook reports whether the device has a clsact or ingress
// qdisc already, whose ingress the filter can join.
func hasIngressHook(link netlink.Link) (bool, error) {
	qs, err := netlink.QdiscList(link)
	if err != nil {
		return false, fmt.Errorf("qdiscs of %s: %w", link.Attrs().Name, err)
	}
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_INGRESS {
			return true, nil
		}
	}
	return false, nil
}

// freePriority is the lowest filter priority not in use on the device's
// ingress.
func freePriority(link netlink.Link) (uint16, error) {
	fs, err := netlink.FilterList(link, netlink.HANDLE_MIN_INGRESS)
	if err != nil {
		return 0, fmt.Errorf("ingress filters of %s: %w", link.Attrs().Name, err)
	}
	used := map[uint16]bool{}
	for _, f := range fs {
		used[f.Attrs().Priority] = true
	}
	for p := uint16(1); p != 0; p++ {
		if !used[p] {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free filter priority on %s", link.Attrs().Name)
}

// filterRequest adds (with a program) or deletes (without) the guard's
// filter. The netlink package's BpfFilter takes only eBPF file
// descriptors; a classic program goes in TCA_BPF_OPS, as tc's "bytecode".
func (g *ResetGuard) filterRequest(op, flags int, prog []bpf.RawInstruction) error {
	proto := uint16(unix.ETH_P_IP)
	if g.peer.Is6() {
		proto = unix.ETH_P_IPV6
	}
	req := nl.NewNetlinkRequest(op, flags|unix.NLM_F_ACK)
	req.AddData(&nl.TcMsg{
		Family:  nl.FAMILY_ALL,
		Ifindex: int32(g.ifindex),
		Handle:  1,
		Parent:  netlink.HANDLE_MIN_INGRESS,
		Info:    netlink.MakeHandle(g.prio, nl.Swap16(proto)),
	})
	req.AddData(nl.NewRtAttr(nl.TCA_KIND, nl.ZeroTerminated("bpf")))
	if prog != nil {
		opts := nl.NewRtAttr(nl.TCA_OPTIONS, nil)
		opts.AddRtAttr(nl.TCA_BPF_OPS_LEN, nl.Uint16Attr(uint16(len(prog))))
		opts.AddRtAttr(nl.TCA_BPF_OPS, sockFilters(prog))
		opts.AddRtAttr(nl.TCA_BPF_FLAGS, nl.Uint32Attr(nl.TCA_BPF_FLAG_ACT_DIRECT))
		req.AddData(opts)
	}
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// sockFilters lays a program out as the kernel's struct sock_filter
// array, in host byte order.
func sockFilters(prog []bpf.RawInstruction) []byte {
	b := make([]byte, 0, 8*len(prog))
	for _, ins := range prog {
		b = binary.NativeEndian.AppendUint16(b, ins.Op)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.NativeEndian.AppendUint32(b, ins.K)
	}
	return b
}

// resetFilter is the classifier's program: the source address, then the
// protocol (IPv4: TCP, not a later fragment; IPv6: TCP right after the
// fixed header, as the reference's resets are), then the TCP flags. The
// program sees the frame from its Ethernet header, at ingress too:
// cls_bpf pushes the MAC header back before it runs a program there
// (wire mode's devices are Ethernet devices).
func resetFilter(peer netip.Addr) ([]bpf.RawInstruction, error) {
	peer = peer.Unmap()
	if !peer.IsValid() {
		return nil, errors.New("reset filter: no peer address")
	}
	const nh = 14 // the network header's offset, after the Ethernet header
	var p progBuilder
	ip := peer.AsSlice()
	if peer.Is4() {
		p.add(bpf.LoadAbsolute{Off: nh + 12, Size: 4})
		p.passIf(bpf.JumpNotEqual, binary.BigEndian.Uint32(ip))
		p.add(bpf.LoadAbsolute{Off: nh + 9, Size: 1})
		p.passIf(bpf.JumpNotEqual, unix.IPPROTO_TCP)
		p.add(bpf.LoadAbsolute{Off: nh + 6, Size: 2})
		p.passIf(bpf.JumpBitsSet, 0x1fff) // a later fragment
		p.add(bpf.LoadMemShift{Off: nh})  // X: the IPv4 header's length
		p.add(bpf.LoadIndirect{Off: nh + 13, Size: 1})
	} else {
		for i := 0; i < 16; i += 4 {
			p.add(bpf.LoadAbsolute{Off: uint32(nh + 8 + i), Size: 4})
			p.passIf(bpf.JumpNotEqual, binary.BigEndian.Uint32(ip[i:]))
		}
		p.add(bpf.LoadAbsolute{Off: nh + 6, Size: 1})
		p.passIf(bpf.JumpNotEqual, unix.IPPROTO_TCP)
		p.add(bpf.LoadAbsolute{Off: nh + 40 + 13, Size: 1})
	}
	p.passIf(bpf.JumpBitsNotSet, 0x04) // RST
	return bpf.Assemble(p.finish())
}

// progBuilder lays out a straight run of checks, each of which may jump
// to the final "pass"; falling through all of them drops the packet.
type progBuilder struct {
	ins    []bpf.Instruction
	toPass []int // jumps whose target is the pass return
}

func (p *progBuilder) add(i bpf.Instruction) { p.ins = append(p.ins, i) }

// passIf passes the packet if A meets the condition.
func (p *progBuilder) passIf(cond bpf.JumpTest, v uint32) {
	p.toPass = append(p.toPass, len(p.ins))
	p.add(bpf.JumpIf{Cond: cond, Val: v})
}

func (p *progBuilder) finish() []bpf.Instruction {
	p.add(bpf.RetConstant{Val: tcActShot})
	pass := len(p.ins)
	p.add(bpf.RetConstant{Val: tcActOK})
	for _, i := range p.toPass {
		j := p.ins[i].(bpf.JumpIf)
		j.SkipTrue = uint8(pass - i - 1)
		p.ins[i] = j
	}
	return p.ins
}
