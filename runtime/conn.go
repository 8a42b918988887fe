package runtime

import (
	"net/netip"
)

// sockState is where a socket stands from the script's point of view; it
// decides how the next SYN maps sequence numbers.
type sockState int

const (
	sockNew              sockState = iota
	sockListening                  // listen() done
	sockPassiveSYNIn               // a scripted SYN reached the listener
	sockPassiveSYNACKOut           // the kernel's SYN-ACK was seen
	sockConnecting                 // connect() called, SYN not yet seen
	sockSYNSent                    // the kernel's SYN was seen
	sockOpen                       // past the handshake
)

// socket is one script socket: its fds, its live 4-tuple and the maps
// between script and live sequence numbers (RFC 9293 ISNs).
type socket struct {
	scriptFD int // -1 until accept() hands it out
	liveFD   int
	proto    int // IPPROTO_TCP or IPPROTO_UDP
	state    sockState
	listener *socket // the listening socket of a passive child

	local  netip.AddrPort // the kernel side, as on the wire
	remote netip.AddrPort // the scripted peer, as on the wire

	// Local (kernel) side: the script's ISN on the SYN line maps to the
	// kernel's random ISN.
	scriptLocalISN uint32
	liveLocalISN   uint32
	haveLocalISN   bool
	// Remote (scripted) side: live ISN = script ISN.
	remoteISN uint32

	// TS val of each outbound packet, script -> live, to map inbound ecr.
	tsVal          map[uint32]uint32
	firstTS        bool
	firstScriptVal uint32
	firstLiveVal   uint32

	// IPv6 flow label of the last outbound packet whose line gave one,
	// script -> live, for the reference's consistency check.
	flowScript, flowLive uint32

	// The last injected TCP header, to reset the connection at the end.
	lastInSeq, lastInAck uint32
	lastInWin            uint16
	injected             bool
}

func newSocket(proto int) *socket {
	return &socket{scriptFD: -1, liveFD: -1, proto: proto, tsVal: map[uint32]uint32{}}
}

// Offsets from script to live sequence space. In a SYN the script's ISN
// stands for the live one; elsewhere numbers count from the live ISN.
func (s *socket) localScriptToLive(isSYN bool) uint32 {
	if isSYN {
		return s.liveLocalISN - s.scriptLocalISN
	}
	return s.liveLocalISN
}

func (s *socket) remoteScriptToLive(isSYN bool) uint32 {
	if isSYN {
		return 0
	}
	return s.remoteISN
}

// matchesOutbound reports whether a live packet from src to dst was sent by
// this socket. A connecting socket does not know its local port until its
// SYN is seen.
func (s *socket) matchesOutbound(src, dst netip.AddrPort) bool {
	if !s.remote.IsValid() || dst != s.remote {
		return false
	}
	if s.local.Port() == 0 {
		return src.Addr() == s.local.Addr()
	}
	return src == s.local
}

// Live to script space, for what the kernel sends: its sequence numbers
// count from its ISN, its acks from the peer's.
func (s *socket) scriptSeq(live uint32, isSYN bool) uint32 {
	return live - s.localScriptToLive(isSYN)
}

func (s *socket) scriptAck(live uint32, isSYN bool) uint32 {
	return live - s.remoteScriptToLive(isSYN)
}

// learnTSVal records the kernel's TS val of an outbound segment under the
// script's (to map the peer's later TS ecr), and the first such pair (to
// show later live values in script space).
func (s *socket) learnTSVal(scriptVal, liveVal uint32) {
	s.tsVal[scriptVal] = liveVal
	if !s.firstTS {
		s.firstTS, s.firstScriptVal, s.firstLiveVal = true, scriptVal, liveVal
	}
}

// scriptTSVal maps a live outbound TS val to script space.
func (s *socket) scriptTSVal(live uint32) uint32 {
	if !s.firstTS {
		return live
	}
	return s.firstScriptVal + (live - s.firstLiveVal)
}
