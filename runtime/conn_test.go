package runtime

import (
	"net/netip"
	"testing"
)

// TestSequenceMapping checks the script<->live offsets of both sides, in
// and out of SYNs, across the 2^32 wrap.
func TestSequenceMapping(t *testing.T) {
	s := newSocket(6)
	s.scriptLocalISN = 0
	s.liveLocalISN = 0xfffffff0 // wraps after 16 bytes
	s.remoteISN = 1000

	cases := []struct {
		name          string
		got, want     uint32
		liveOfScriptN uint32
	}{
		{"local SYN: script ISN stands for the live ISN", 0 + s.localScriptToLive(true), 0xfffffff0, 0},
		{"local data after the SYN counts from the live ISN", 1 + s.localScriptToLive(false), 0xfffffff1, 1},
		{"local data wraps", 100 + s.localScriptToLive(false), 0x54, 100},
		{"remote SYN is absolute", 1000 + s.remoteScriptToLive(true), 1000, 1000},
		{"remote data counts from the remote ISN", 1 + s.remoteScriptToLive(false), 1001, 1},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.name, c.got, c.want)
		}
	}

	// A SYN-ACK line written with a script ISN other than 0 still maps to the live ISN.
	s.scriptLocalISN = 500
	if got := 500 + s.localScriptToLive(true); got != 0xfffffff0 {
		t.Errorf("SYN with script ISN 500: got %#x", got)
	}
	// ...and later segments ignore the script ISN.
	if got := 1 + s.localScriptToLive(false); got != 0xfffffff1 {
		t.Errorf("after SYN with script ISN 500: got %#x", got)
	}
}

func TestMatchesOutbound(t *testing.T) {
	local := netip.MustParseAddrPort("192.168.0.1:8080")
	remote := netip.MustParseAddrPort("192.0.2.1:40000")
	s := newSocket(6)
	s.local, s.remote = local, remote
	if !s.matchesOutbound(local, remote) {
		t.Error("own packet not matched")
	}
	if s.matchesOutbound(remote, local) {
		t.Error("inbound direction matched as outbound")
	}
	if s.matchesOutbound(netip.MustParseAddrPort("192.168.0.1:8081"), remote) {
		t.Error("other local port matched")
	}
	// A connecting socket learns its port from its SYN.
	c := newSocket(6)
	c.local = netip.AddrPortFrom(local.Addr(), 0)
	c.remote = remote
	if !c.matchesOutbound(netip.MustParseAddrPort("192.168.0.1:51234"), remote) {
		t.Error("connecting socket did not match its first packet")
	}
}
