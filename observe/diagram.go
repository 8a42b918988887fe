package observe

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/runtime"
)

// The diagram's columns: time, the kernel's state, the kernel's lifeline,
// the space arrows cross, the peer's lifeline, the peer's state. The whole
// is 98 columns wide, inside a 100-column terminal.
const (
	timeW   = 8
	stateW  = 12
	innerW  = 62
	kernelX = timeW + stateW + 1 // column of the kernel's lifeline
	peerX   = kernelX + 1 + innerW
	diagW   = peerX + 2 + stateW
)

// Diagram draws a run as a sequence diagram: the kernel's socket on the
// left, the scripted peer on the right, one arrow per packet labelled with
// the segment in script syntax and its actual time, system calls and
// commands as notes on the kernel's side. Each side's TCP state is written
// beside its lifeline where it changes: the kernel's as sock_diag reported
// it after the event, the peer's as inferred from the script (see
// peerModel), since the peer is the script and has no kernel state. A
// failed event is drawn with a broken arrow and ✗, and the failure is
// printed under the diagram.
type Diagram struct {
	g            glyphs
	events       []runtime.EventRecord
	kernel, peer string // addresses, from the first TCP frame
}

// NewDiagram returns an empty diagram; ascii draws with plain ASCII.
func NewDiagram(ascii bool) *Diagram { return &Diagram{g: glyphsFor(ascii)} }

// Event records an event.
func (d *Diagram) Event(r *runtime.EventRecord) { d.events = append(d.events, *r) }

// Frame learns the two addresses from the first TCP frame.
func (d *Diagram) Frame(f runtime.Frame) {
	if d.kernel != "" {
		return
	}
	p, err := packet.Decode(f.Data)
	if err != nil || p.TCP == nil {
		return
	}
	src := netip.AddrPortFrom(p.Src.Unmap(), p.TCP.SourcePort()).String()
	dst := netip.AddrPortFrom(p.Dst.Unmap(), p.TCP.DestinationPort()).String()
	if f.Outgoing {
		d.SetAddrs(src, dst)
	} else {
		d.SetAddrs(dst, src)
	}
}

// SetAddrs names the two columns' addresses.
func (d *Diagram) SetAddrs(kernel, peer string) { d.kernel, d.peer = kernel, peer }

// Render writes the diagram. runErr is the run's outcome: a failure not
// already reported by a failed event is printed under the diagram.
func (d *Diagram) Render(w io.Writer, runErr error) error {
	var b strings.Builder
	d.render(&b, runErr)
	_, err := io.WriteString(w, b.String())
	return err
}

// String is the diagram of a run that ended without an error.
func (d *Diagram) String() string {
	var b strings.Builder
	d.render(&b, nil)
	return b.String()
}

// stepKind is what one step of the sequence model draws.
type stepKind int

const (
	stepPeerState stepKind = iota // the peer's state changed between events
	stepPacket                    // an arrow: a segment in or out
	stepNote                      // a system call or command, on the kernel's side
)

// step is one step of a run's sequence, as every rendering draws it: the
// text diagram and the SVG share this model, so the peer's inferred
// states and the packet summaries are read in one place.
type step struct {
	kind    stepKind
	at      time.Duration // actual time of the event (packets and notes)
	text    string        // the segment in script syntax, or the note
	inbound bool          // packet from the peer to the kernel
	failed  bool          // the failing event
	// kernelState is the kernel's state after the event where it changed.
	kernelState string
	// peerBefore is the peer's state written beside a packet's label (the
	// last of the states it went through before sending or receiving it);
	// peerState is the state the packet took the peer to, or the state of a
	// stepPeerState, "" when unchanged.
	peerBefore, peerState string
}

// sequence is a run's sequence of steps and the failure that ended it.
type sequence struct {
	steps   []step
	failMsg string // the failing event's error, "" when none failed
}

// sequence builds the model from the recorded events, inferring the
// peer's states with peerModel.
func (d *Diagram) sequence() sequence {
	var (
		seq    sequence
		peer   peerModel
		kstate string
	)
	peerStates := func(states []string) {
		for _, s := range states {
			seq.steps = append(seq.steps, step{kind: stepPeerState, peerState: s})
		}
	}
	for i := range d.events {
		r := &d.events[i]
		failed := r.Verdict != runtime.VerdictOK
		if failed {
			seq.failMsg = r.Error
		}
		ks := ""
		if r.State != "" && r.State != kstate {
			ks, kstate = r.State, r.State
		}
		seg, isSeg := segmentOf(r.Script)
		switch {
		case r.Kind == runtime.KindNone:
			continue
		case (r.Kind == runtime.KindInbound || r.Kind == runtime.KindOutbound) && isSeg:
			var before []string
			own := ""
			if !failed && r.Kind == runtime.KindInbound {
				before, own = peer.send(seg)
			} else if !failed {
				before = peer.sent(seg)
			}
			if len(before) > 1 {
				peerStates(before[:len(before)-1])
				before = before[len(before)-1:]
			}
			seq.steps = append(seq.steps, step{
				kind: stepPacket, at: r.ActualTime, text: r.Summary,
				inbound: r.Kind == runtime.KindInbound, failed: failed,
				kernelState: ks, peerBefore: first(before), peerState: own,
			})
		default:
			seq.steps = append(seq.steps, step{
				kind: stepNote, at: r.ActualTime, text: eventText(r),
				failed: failed, kernelState: ks,
			})
		}
	}
	peerStates(peer.flush())
	return seq
}

func (d *Diagram) render(b *strings.Builder, runErr error) {
	g := d.g
	b.WriteString(strings.TrimRight(centered(map[int]string{kernelX: "kernel", peerX: "peer (script)"}), " ") + "\n")
	if d.kernel != "" {
		b.WriteString(strings.TrimRight(centered(map[int]string{kernelX: d.kernel, peerX: d.peer}), " ") + "\n")
	}
	row := func(time, kstate, inner, pstate string) {
		line := fmt.Sprintf("%-*s%*s %s%s%s %s", timeW, time, stateW, kstate, g.vert, pad(inner, innerW), g.vert, pstate)
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	row("", "", "", "")

	seq := d.sequence()
	for _, s := range seq.steps {
		at := fmt.Sprintf("%7.3f", s.at.Seconds())
		switch s.kind {
		case stepPeerState:
			row("", "", "", s.peerState)
		case stepPacket:
			label := s.text
			if s.failed {
				label = g.fail + " " + label
			}
			row(at, "", centerIn(d.fit(label, innerW-2), innerW), s.peerBefore)
			shaft := g.horiz
			if s.failed {
				shaft = g.dash
			}
			body := strings.Repeat(shaft, innerW-1)
			if s.inbound {
				row("", s.kernelState, g.left+body, s.peerState)
			} else {
				row("", s.kernelState, body+g.right, s.peerState)
			}
		case stepNote:
			note := " " + s.text
			if s.failed {
				note = " " + g.fail + note
			}
			row(at, s.kernelState, d.fit(note, innerW), "")
		}
	}
	row("", "", "", "")
	if lines := seq.failureBlock(runErr, g.fail, diagW); lines != nil {
		b.WriteString("\n")
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
}

// failureBlock is the failure shown under a diagram, in text and SVG
// alike: the failing event's report (else the run's error), mark before
// its first line, the rest indented, wrapped to width; nil when the run
// passed.
func (s sequence) failureBlock(runErr error, mark string, width int) []string {
	msg := s.failMsg
	if msg == "" && runErr != nil {
		msg = runErr.Error()
	}
	if msg == "" {
		return nil
	}
	var out []string
	for i, l := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		prefix := "  "
		if i == 0 {
			prefix = mark + " "
		}
		for _, w := range wrap(prefix+l, width) {
			out = append(out, strings.TrimRight(w, " "))
		}
	}
	return out
}

// fit cuts s to n columns, ending it with an ellipsis when cut.
func (d *Diagram) fit(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	e := utf8.RuneCountInString(d.g.ellipsis)
	return string(r[:n-e]) + d.g.ellipsis
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// pad fills s with spaces to n columns.
func pad(s string, n int) string {
	if c := utf8.RuneCountInString(s); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	return s
}

// centerIn centres s in n columns.
func centerIn(s string, n int) string {
	left := (n - utf8.RuneCountInString(s)) / 2
	if left < 0 {
		left = 0
	}
	return strings.Repeat(" ", left) + s
}

// centered writes each string centred on its column of a diagW-wide line.
func centered(at map[int]string) string {
	line := []rune(strings.Repeat(" ", diagW))
	for col, s := range at {
		r := []rune(s)
		start := col - len(r)/2
		start = max(0, min(start, diagW-len(r)))
		copy(line[start:], r)
	}
	return string(line)
}

// wrap breaks s into lines of at most n columns, at spaces where it can;
// continuation lines are indented by two.
func wrap(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > n {
		cut := n
		for i := n; i > n/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, string(r[:cut]))
		r = append([]rune("    "), []rune(strings.TrimLeft(string(r[cut:]), " "))...)
	}
	return append(out, string(r))
}
