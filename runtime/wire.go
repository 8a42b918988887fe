package runtime

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

// WireRole is the half of a wire-mode run this process plays (the
// reference's --wire_client and --wire_server).
type WireRole int

const (
	// WireNone runs everything here, on the TUN device.
	WireNone WireRole = iota
	// WireClient runs the system calls, shell commands and code; the
	// server runs the packet events.
	WireClient
	// WireServer runs only the packet events, injecting and sniffing on
	// an Ethernet device toward the client's NIC.
	WireServer
)

// WireLink is the control connection between the two halves of a
// wire-mode run, as the runtime sees it.
type WireLink interface {
	Role() WireRole
	// Start is called when the run's time 0 is about to be fixed: the
	// client announces its start; the server waits for that
	// announcement, and its time 0 is the moment it arrives.
	Start() error
	// NextEvent is called before each event is taken up, and with nil
	// after the last: the client asks the server to run a batch of packet
	// events when one begins and waits for its result when it ends; the
	// server waits for the request and reports the result.
	NextEvent(ev *parser.Event) error
}

func (r *runner) wireRole() WireRole {
	if r.wire == nil {
		return WireNone
	}
	return r.wire.Role()
}

// startClock fixes the live time of script time 0, and puts the run's
// threads at the real-time policy on the way. The jiffy edge is searched
// for at the normal policy: busy-waiting for it under SCHED_RR would
// starve a parallel run on a two-core machine. A wire server goes
// real-time before it waits for the client's announcement, which is its
// time 0, so that the wake-up that takes that moment is not queued behind
// the machine's normal load; a wire client sends the announcement once
// real-time, for the same reason on its side.
func (r *runner) startClock() error {
	switch r.wireRole() {
	case WireServer:
		r.goRealtime()
		err := r.wire.Start()
		r.start = r.clock()
		return err
	case WireClient:
		r.settleAfterInit()
		r.start = alignStart(r.clock)
		r.goRealtime()
		return r.wire.Start()
	}
	r.settleAfterInit()
	r.start = alignStart(r.clock)
	r.goRealtime()
	r.start = restartAfter(r.start, r.clock(), kernelTick())
	return nil
}

// goRealtime moves the run's threads to the real-time policy, if the run
// asked for it.
func (r *runner) goRealtime() {
	if r.realtime {
		r.realtimeOn = useRealtimeScheduling()
	}
}

// wireNext tells the link about the next event (nil: the end); a broken
// link fails the run at that event.
func (r *runner) wireNext(ev *parser.Event) error {
	if r.wire == nil {
		return nil
	}
	if err := r.wire.NextEvent(ev); err != nil {
		pos := parser.Pos{File: r.script.File}
		if ev != nil {
			pos = ev.Pos
		}
		return &Failure{Pos: pos, Kind: FailPacket, Msg: err.Error(), noLine: ev == nil}
	}
	return nil
}

// runsHere reports whether this half of the run carries the event out: in
// wire mode the server runs packet events and the client everything else.
func (r *runner) runsHere(ev *parser.Event) bool {
	switch r.wireRole() {
	case WireClient:
		return ev.Packet == nil
	case WireServer:
		return ev.Packet != nil
	}
	return true
}

// wireServerSocket gives the server, which sees no system calls, the
// socket a script's first packet belongs to, as the reference does: an
// inbound SYN reaches a listener on the bind port (its child is made as in
// local mode); anything else starts from a fresh socket, which an
// outbound SYN turns into a connecting one.
func (r *runner) wireServerSocket(p *parser.Packet) {
	if r.wireRole() != WireServer || r.sut != nil {
		return
	}
	proto := unix.IPPROTO_TCP
	if p.UDP != nil {
		proto = unix.IPPROTO_UDP
	}
	s := newSocket(proto)
	s.local = netip.AddrPortFrom(r.cfg.LocalIP, r.cfg.BindPort)
	if t := p.TCP; t != nil && p.Direction == parser.Inbound && t.Flags&parser.FlagSYN != 0 && t.Flags&parser.FlagACK == 0 {
		s.state = sockListening
	} else if p.Direction == parser.Outbound {
		s.local = netip.AddrPortFrom(r.cfg.LocalIP, 0)
		s.remote = netip.AddrPortFrom(r.cfg.RemoteIP, r.cfg.ConnectPort)
	}
	r.sockets = append(r.sockets, s)
	r.sut = s
}
