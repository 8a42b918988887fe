// Package frompcap turns a packet capture into packetdrill scripts: one
// script per TCP connection, written from the point of view of the side
// under test (the kernel), with the system calls the capture implies.
//
// The capture's packets of the side under test become outbound lines
// ("> "), the other side's inbound lines ("< "); sequence numbers are
// written relative to each side's ISN, times from the connection's first
// packet. Calls that no packet shows directly (socket, listen, accept,
// connect, write, read, shutdown, close, setsockopt) are inferred and each
// carries a comment saying which packet implies it.
package frompcap

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/godrill/godrill/packet"
)

// Options choose the connection, the side under test and the output.
type Options struct {
	// Conn picks one connection by its 1-based number; 0 converts all.
	Conn int
	// Side is "local" (the side that accepted the connection), "remote"
	// (the side that opened it), or "" for the default: the side that
	// accepted, or the opener when no side accepted (its SYN was not
	// answered with a SYN-ACK, or both sides sent SYNs).
	Side string
	// Local names the side under test by address ("10.0.0.1") or address
	// and port ("10.0.0.1:80", "[fd00::1]:80"); it overrides Side, and
	// connections without that end are left out.
	Local string
	// ToleranceUsecs is written as the script's --tolerance_usecs; times
	// are rounded to a tenth of it (default 10000: 1 ms steps).
	ToleranceUsecs int
	// Windows says which of the kernel's windows the script checks:
	// "syn" (default: SYN and SYN-ACK, set by the buffer sizes), "all", or
	// "none". The peer's windows are always written.
	Windows string
	// Name is the capture's name, for the scripts' header.
	Name string
}

// DefaultToleranceUsecs is the tolerance written when Options leave it 0:
// generous enough for a loaded machine and the kernel's timer granularity.
const DefaultToleranceUsecs = 10000

// Script is one converted connection.
type Script struct {
	Conn  int    // the connection's number
	Name  string // a file name for it: conn-N.pkt
	Text  string
	About string // one line: the 4-tuple and which side is tested
}

// ErrNoTCP is returned for a capture without any TCP segment.
var ErrNoTCP = errors.New("no TCP segment in the capture")

// Convert reads a capture and returns a script per connection. Connections
// that cannot be converted are reported in the error (an ErrorList, each
// naming the packet); the scripts of the others are returned beside it.
func Convert(r io.Reader, opts Options) (scripts []Script, err error) {
	defer func() {
		// A bug (in this package or the capture library) must not take
		// the caller down: it is reported as an error, never as a panic.
		if v := recover(); v != nil {
			scripts, err = nil, fmt.Errorf("internal error in from-pcap: %v", v)
		}
	}()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	frames, err := ReadFrames(r)
	var cut *CutError
	if err != nil && !errors.As(err, &cut) {
		return nil, err
	}
	conns, err := Connections(frames)
	if err != nil {
		return nil, err
	}
	if len(conns) == 0 {
		if cut != nil {
			return nil, cut
		}
		return nil, fmt.Errorf("%w (%d packets)", ErrNoTCP, len(frames))
	}
	var errs ErrorList
	if cut != nil {
		errs = append(errs, cut)
	}
	if opts.Conn > len(conns) || opts.Conn < 0 {
		return nil, fmt.Errorf("no connection %d: the capture has %d (see --list)", opts.Conn, len(conns))
	}
	for _, c := range conns {
		if opts.Conn != 0 && c.Index != opts.Conn {
			continue
		}
		s, err := convertConn(c, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("connection %d: %w", c.Index, err))
			continue
		}
		if s != nil {
			scripts = append(scripts, *s)
		}
	}
	if opts.Local != "" && len(scripts) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("no connection has the end %s", opts.Local)
	}
	return scripts, errs.Err()
}

// List describes the capture's connections, one line each.
func List(r io.Reader) (lines []string, err error) {
	defer func() {
		if v := recover(); v != nil {
			lines, err = nil, fmt.Errorf("internal error in from-pcap: %v", v)
		}
	}()
	frames, err := ReadFrames(r)
	var cut *CutError
	if err != nil && !errors.As(err, &cut) {
		return nil, err
	}
	conns, err := Connections(frames)
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		first, last := c.Segs[0], c.Segs[len(c.Segs)-1]
		lines = append(lines, fmt.Sprintf("%d: %s, %d packets (%d to %d), %s", c.Index, c, len(c.Segs), first.Num, last.Num,
			last.Time.Sub(first.Time).Round(time.Microsecond)))
	}
	return lines, nil
}

// Validate checks the options and fills in defaults; Convert calls it.
func (o *Options) Validate() error {
	switch o.Side {
	case "", "local", "remote":
	default:
		return fmt.Errorf("--side must be local or remote, not %q", o.Side)
	}
	switch o.Windows {
	case "":
		o.Windows = "syn"
	case "syn", "all", "none":
	default:
		return fmt.Errorf("--windows must be syn, all or none, not %q", o.Windows)
	}
	if o.ToleranceUsecs == 0 {
		o.ToleranceUsecs = DefaultToleranceUsecs
	}
	if o.ToleranceUsecs < 0 {
		return fmt.Errorf("--tolerance_usecs must not be negative")
	}
	if o.Local != "" {
		if _, _, err := parseEnd(o.Local); err != nil {
			return err
		}
	}
	return nil
}

// parseEnd reads "ADDR" or "ADDR:PORT" ("[v6]:PORT").
func parseEnd(s string) (netip.Addr, uint16, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), ap.Port(), nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("--local %q: want ADDRESS or ADDRESS:PORT", s)
	}
	return a.Unmap(), 0, nil
}

// convertConn returns nil, nil for a connection --local leaves out.
func convertConn(c *Conn, opts Options) (*Script, error) {
	kernelIsA, why, err := chooseSide(c, opts)
	if err != nil {
		return nil, err
	}
	if why == "" {
		return nil, nil
	}
	p, err := analyse(c, kernelIsA)
	if err != nil {
		return nil, err
	}
	p.windows = opts.Windows
	kernel, peer := c.B, c.A
	if kernelIsA {
		kernel, peer = c.A, c.B
	}
	family := "IPv4"
	if c.v6 {
		family = "IPv6"
	}
	step := time.Duration(opts.ToleranceUsecs) * time.Microsecond / 10
	if step < time.Microsecond {
		step = time.Microsecond
	}
	decimals := 6
	if step%time.Millisecond == 0 {
		decimals = 3
	}
	w := &writer{opts: opts, step: step, decimal: decimals}
	name := opts.Name
	if name == "" {
		name = "a capture"
	}
	first, last := c.Segs[0], c.Segs[len(c.Segs)-1]
	var h strings.Builder
	fmt.Fprintf(&h, "// Written by godrill from-pcap from %s: connection %d, %s, %s,\n", name, c.Index, c, family)
	fmt.Fprintf(&h, "// packets %d to %d.\n", first.Num, last.Num)
	fmt.Fprintf(&h, "// The side under test (the kernel) is %s: %s. It is the script's local end\n", kernel, why)
	role := "connects to the remote end"
	if p.passive {
		role = "listens on --bind_port"
	}
	fmt.Fprintf(&h, "// (--local_ip; it %s), and %s is the remote end (--remote_ip).\n", role, peer)
	fmt.Fprintf(&h, "// Sequence numbers are relative to each side's ISN; times count from the first\n")
	fmt.Fprintf(&h, "// packet (at %s), rounded to %s. Lines marked \"inferred\" are system calls\n", w.time(firstPacketAt), step)
	fmt.Fprintf(&h, "// the capture implies; the kernel's window is checked %s.\n", map[string]string{
		"syn": "on SYN and SYN-ACK only", "all": "on every packet", "none": "on no packet"}[opts.Windows])
	text, err := p.script(w, h.String())
	if err != nil {
		return nil, err
	}
	return &Script{Conn: c.Index, Name: fmt.Sprintf("conn-%d.pkt", c.Index), Text: text,
		About: fmt.Sprintf("connection %d: %s, testing %s (%s)", c.Index, c, kernel, why)}, nil
}

// chooseSide decides which end is the kernel. An empty why (and no error)
// means --local leaves the connection out.
func chooseSide(c *Conn, opts Options) (kernelIsA bool, why string, err error) {
	if opts.Local != "" {
		a, port, _ := parseEnd(opts.Local)
		match := func(e netip.AddrPort) bool { return e.Addr() == a && (port == 0 || e.Port() == port) }
		switch {
		case match(c.A):
			return true, "--local " + opts.Local, nil
		case match(c.B):
			return false, "--local " + opts.Local, nil
		}
		return false, "", nil
	}
	acceptor, opener, aOK, oOK := roles(c)
	switch opts.Side {
	case "local":
		if !aOK {
			return false, "", fmt.Errorf("packet %d: --side local: no side of %s accepted the connection (no SYN-ACK answers a SYN)", c.Segs[0].Num, c)
		}
		return acceptor == c.A, "it accepted the connection (--side local)", nil
	case "remote":
		if !oOK {
			return false, "", fmt.Errorf("packet %d: --side remote: the capture does not show who opened %s", c.Segs[0].Num, c)
		}
		return opener == c.A, "it opened the connection (--side remote)", nil
	}
	if aOK {
		return acceptor == c.A, "it accepted the connection", nil
	}
	if oOK {
		return opener == c.A, "it opened the connection, and no side accepted it", nil
	}
	return false, "", fmt.Errorf("packet %d: connection %s is seen only from the middle: its first packet is not a SYN (start the capture before the connection opens)", c.Segs[0].Num, c)
}

// roles finds the opener (the first bare SYN, when the capture starts
// with it) and the acceptor (the side that answered it with a SYN-ACK and
// sent no bare SYN of its own).
func roles(c *Conn) (acceptor, opener netip.AddrPort, aOK, oOK bool) {
	first := c.Segs[0]
	if first.Flags&packet.SYN == 0 || first.Flags&packet.ACK != 0 {
		return
	}
	opener, oOK = first.Src, true
	for _, s := range c.Segs {
		if s.Src != opener && s.Flags&packet.SYN != 0 {
			if s.Flags&packet.ACK == 0 {
				return // simultaneous open: both sides opened
			}
			return s.Src, opener, true, true
		}
	}
	return
}

// ErrorList is the conversion's errors, in capture order.
type ErrorList []error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Unwrap gives errors.Is and errors.As the list's errors.
func (l ErrorList) Unwrap() []error { return l }

// Err is nil for an empty list.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
