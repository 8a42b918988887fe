package wire

import (
	"fmt"
	"io"
	"net"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
)

// Hello is what a client tells the server before a run.
type Hello struct {
	Args         []string // the command line the server should run with
	ScriptPath   string
	Script       []byte
	HardwareAddr net.HardwareAddr // the client NIC's MAC, where the server sends
	LocalIP      string           // the client's live address
	RemoteIP     string           // the scripted peer's live address
}

// SendHello sends the client's opening messages, in the reference's order,
// and waits for the server to be ready.
func (c *Conn) SendHello(h *Hello) error {
	if len(h.HardwareAddr) != 6 {
		return fmt.Errorf("bad hardware address %v", h.HardwareAddr)
	}
	msgs := []struct {
		op      Op
		payload []byte
	}{
		{OpCommandLineArgs, EncodeArgs(h.Args)},
		{OpScriptPath, []byte(h.ScriptPath)},
		{OpScript, h.Script},
		{OpHardwareAddr, h.HardwareAddr},
		{OpLiveLocalIP, []byte(h.LocalIP)},
		{OpLiveRemoteIP, []byte(h.RemoteIP)},
	}
	for _, m := range msgs {
		if err := c.Write(m.op, m.payload); err != nil {
			return err
		}
	}
	b, err := c.Expect(OpServerReady)
	if err != nil {
		return fmt.Errorf("bad wire server: %w", err)
	}
	if len(b) != 0 {
		return fmt.Errorf("bad wire server: bad %v len", OpServerReady)
	}
	return nil
}

// ReceiveHello reads a client's opening messages.
func (c *Conn) ReceiveHello() (*Hello, error) {
	h := &Hello{}
	for _, op := range []Op{OpCommandLineArgs, OpScriptPath, OpScript, OpHardwareAddr, OpLiveLocalIP, OpLiveRemoteIP} {
		b, err := c.Expect(op)
		if err != nil {
			return nil, fmt.Errorf("bad wire client: %w", err)
		}
		switch op {
		case OpCommandLineArgs:
			h.Args = DecodeArgs(b)
		case OpScriptPath:
			h.ScriptPath = string(b)
		case OpScript:
			h.Script = append([]byte(nil), b...)
		case OpHardwareAddr:
			if len(b) != 6 {
				return nil, fmt.Errorf("bad wire client: bad hw address length")
			}
			h.HardwareAddr = append(net.HardwareAddr(nil), b...)
		case OpLiveLocalIP:
			h.LocalIP = string(b)
		case OpLiveRemoteIP:
			h.RemoteIP = string(b)
		}
	}
	return h, nil
}

// batcher tracks, on either side, whether the last event taken up was a
// packet event, and how many events have been taken up.
type batcher struct {
	lastPacket bool
	numEvents  uint32
}

// step reports whether ev begins a batch of packet events (start) or the
// previous event ended one (end), and counts ev.
func (b *batcher) step(ev *parser.Event) (start, end bool) {
	isPacket := ev != nil && ev.Packet != nil
	start = isPacket && !b.lastPacket
	end = !isPacket && b.lastPacket
	if ev != nil {
		b.lastPacket = isPacket
		b.numEvents++
	}
	return start, end
}

// ClientLink is the client's half of the control connection.
type ClientLink struct {
	conn *Conn
	// Warnings receives the server's warnings about packets.
	Warnings io.Writer
	report   string
	batcher
	tail tailGuard
}

// Guard is what a client puts up for the end of a run: a ResetGuard.
type Guard interface{ Install() error }

// tailGuard is when the client installs its guard: at the last batch of
// packet events.
type tailGuard struct {
	guard Guard
	start int  // the index of the last batch's first event; -1: none
	end   int  // the index of the event after it (the events' count if none)
	early bool // install before the batch starts (it injects no reset)
}

// GuardTail makes the link install g for the rest of the run once the
// script's packet events are over, against the reference server's
// closing reset (see ResetGuard): just before the PACKETS_START of the
// last batch, since the reset follows its PACKETS_DONE within a fraction
// of a millisecond, unless that batch injects a TCP reset itself, which
// the guard would drop; then after its PACKETS_DONE, where it may be late.
// An installation that fails is reported as a warning, and the run goes
// on without it.
func (l *ClientLink) GuardTail(events []*parser.Event, g Guard) {
	t := tailGuard{guard: g, start: -1, end: len(events)}
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Packet == nil {
			if t.start >= 0 {
				break
			}
			t.end = i
			continue
		}
		t.start = i
	}
	t.early = true
	for _, ev := range events[max(t.start, 0):t.end] {
		if p := ev.Packet; p != nil && p.Direction == parser.Inbound && p.TCP != nil && p.TCP.Flags&parser.FlagRST != 0 {
			t.early = false
		}
	}
	l.tail = t
}

func (l *ClientLink) installGuard() {
	if err := l.tail.guard.Install(); err != nil && l.Warnings != nil {
		fmt.Fprintf(l.Warnings, "godrill: running on without a guard against the wire server's closing reset: %v\n", err)
	}
}

// ServerReport is the failure report of the batch the server failed, or
// "" if it failed none.
func (l *ClientLink) ServerReport() string { return l.report }

// NewClientLink wraps a connection whose hello has been exchanged.
func NewClientLink(c *Conn, warnings io.Writer) *ClientLink {
	return &ClientLink{conn: c, Warnings: warnings}
}

// Role is runtime.WireClient.
func (l *ClientLink) Role() runtime.WireRole { return runtime.WireClient }

// Start tells the server that script time 0 is now.
func (l *ClientLink) Start() error { return l.conn.Write(OpClientStarting, nil) }

// NextEvent asks the server for a batch of packet events, or waits for the
// result of one. A failed batch is returned as a *ServerError carrying the
// server's report.
func (l *ClientLink) NextEvent(ev *parser.Event) error {
	n := l.numEvents
	start, end := l.step(ev)
	guarded := l.tail.guard != nil && l.tail.start >= 0
	if start {
		if guarded && l.tail.early && int(n) == l.tail.start {
			l.installGuard()
		}
		req := PacketsStart{NumEvents: n}
		if err := l.conn.Write(OpPacketsStart, req.Marshal()); err != nil {
			return fmt.Errorf("error in TCP connection to wire server: %v", err)
		}
	}
	if !end {
		return nil
	}
	for {
		op, b, err := l.conn.Read()
		if err != nil {
			return fmt.Errorf("error in TCP connection to wire server: error reading: %v", err)
		}
		switch op {
		case OpPacketsWarn:
			if l.Warnings != nil {
				l.Warnings.Write(b)
			}
			continue
		case OpPacketsDone:
		default:
			return fmt.Errorf("error in TCP connection to wire server: bad wire server: expected %v or %v, got %v",
				OpPacketsDone, OpPacketsWarn, op)
		}
		done, err := UnmarshalPacketsDone(b)
		if err != nil {
			return fmt.Errorf("error in TCP connection to wire server: %v", err)
		}
		if done.Result != StatusOK {
			l.report = done.Error
			return &ServerError{Report: done.Error}
		}
		if done.NumEvents != n {
			return fmt.Errorf("error in TCP connection to wire server: bad wire server: bad message count: got: %d vs expected: %d",
				done.NumEvents, n)
		}
		if guarded && !l.tail.early && int(n) == l.tail.end {
			l.installGuard()
		}
		return nil
	}
}

// ServerError is a failure the server found in a batch of packet events:
// its report, printed by the client as is.
type ServerError struct{ Report string }

func (e *ServerError) Error() string { return e.Report }

// ServerLink is the server's half of the control connection.
type ServerLink struct {
	conn *Conn
	// PSP is the SPI table of the client's last request.
	PSP    [pspStateLen]byte
	broken bool // the connection failed: the client is gone
	batcher
}

// Broken reports whether the control connection failed.
func (l *ServerLink) Broken() bool { return l.broken }

// NewServerLink wraps a connection whose hello has been received and
// answered with ServerReady.
func NewServerLink(c *Conn) *ServerLink { return &ServerLink{conn: c} }

// Role is runtime.WireServer.
func (l *ServerLink) Role() runtime.WireRole { return runtime.WireServer }

// Start waits for the client to start its script.
func (l *ServerLink) Start() error {
	b, err := l.conn.Expect(OpClientStarting)
	if err != nil {
		l.broken = true
		return fmt.Errorf("bad wire client: %w", err)
	}
	if len(b) != 0 {
		return fmt.Errorf("bad wire client: bad %v length", OpClientStarting)
	}
	return nil
}

// NextEvent waits for the client's request before a batch of packet
// events and reports success after one.
func (l *ServerLink) NextEvent(ev *parser.Event) error {
	n := l.numEvents
	start, end := l.step(ev)
	if start {
		b, err := l.conn.Expect(OpPacketsStart)
		if err != nil {
			l.broken = true
			return fmt.Errorf("bad wire client: %w", err)
		}
		req, err := UnmarshalPacketsStart(b)
		if err != nil {
			return fmt.Errorf("bad wire client: %w", err)
		}
		if req.NumEvents != n {
			return fmt.Errorf("bad client event count; expected %d but got %d", n, req.NumEvents)
		}
		l.PSP = req.PSP
	}
	if end {
		d := PacketsDone{Result: StatusOK, NumEvents: n}
		return l.conn.Write(OpPacketsDone, d.Marshal())
	}
	return nil
}

// Fail reports a failed batch of packet events with the run's failure
// report; the client prints it and fails.
func (l *ServerLink) Fail(report string) error {
	d := PacketsDone{Result: StatusErr, NumEvents: l.numEvents, Error: report}
	return l.conn.Write(OpPacketsDone, d.Marshal())
}

// Warn sends a warning about a packet to the client.
func (l *ServerLink) Warn(msg string) error { return l.conn.Write(OpPacketsWarn, []byte(msg)) }
