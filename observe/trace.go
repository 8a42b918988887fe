package observe

import (
	"fmt"
	"io"
	"strings"

	"github.com/godrill/godrill/runtime"
)

// Trace prints one line per event as it completes: actual time, the event
// in script syntax, and the kernel's TCP state after it, as a transition
// when it changed:
//
//	0.150021 > F. 1:1(0) ack 1            ESTABLISHED → FIN_WAIT1
type Trace struct {
	w io.Writer
	g glyphs
}

// NewTrace returns a trace writing to w; ascii spells the arrow "->".
func NewTrace(w io.Writer, ascii bool) *Trace { return &Trace{w: w, g: glyphsFor(ascii)} }

// traceWidth is the column the state starts at; longer events push it.
const traceWidth = 56

// Event prints r's line.
func (t *Trace) Event(r *runtime.EventRecord) {
	line := fmt.Sprintf("%9.6f %-*s", r.ActualTime.Seconds(), traceWidth, eventText(r))
	if st := t.stateText(r); st != "" {
		line += "  " + st
	}
	if r.Verdict != runtime.VerdictOK {
		first, _, _ := strings.Cut(r.Error, "\n")
		line += "  " + t.g.fail + " " + first
	}
	fmt.Fprintln(t.w, strings.TrimRight(line, " "))
}

// Frame is not traced: the events already show the packets.
func (t *Trace) Frame(runtime.Frame) {}

func (t *Trace) stateText(r *runtime.EventRecord) string {
	switch {
	case r.State == "":
		return ""
	case r.PrevState != "" && r.PrevState != r.State:
		return r.PrevState + " " + t.g.to + " " + r.State
	}
	return r.State
}

// eventText is an event as the script writes it, with a call's result.
func eventText(r *runtime.EventRecord) string {
	switch r.Kind {
	case runtime.KindInbound:
		return "< " + r.Summary
	case runtime.KindOutbound:
		return "> " + r.Summary
	case runtime.KindSyscall:
		if r.Result != "" {
			return r.Summary + " = " + r.Result
		}
	}
	return r.Summary
}
