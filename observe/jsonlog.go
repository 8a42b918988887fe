package observe

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/godrill/godrill/runtime"
)

// Record is one line of the JSON event log; docs/json-log.md documents
// the fields. Times are seconds since script time 0, to the microsecond.
type Record struct {
	Index       int     `json:"index"`
	File        string  `json:"file"`
	Line        int     `json:"line"`
	Kind        string  `json:"kind"`
	Direction   string  `json:"direction,omitempty"`
	ScriptTime  float64 `json:"script_time"`
	ActualTime  float64 `json:"actual_time"`
	Deviation   float64 `json:"deviation"`
	Summary     string  `json:"summary"`
	Packet      string  `json:"packet,omitempty"`
	Syscall     string  `json:"syscall,omitempty"`
	Result      string  `json:"result,omitempty"`
	Command     string  `json:"command,omitempty"`
	StateBefore string  `json:"state_before"`
	State       string  `json:"state"`
	Verdict     string  `json:"verdict"`
	Error       string  `json:"error,omitempty"`
}

// Log writes the JSON Lines event log: one Record per event.
type Log struct {
	enc *json.Encoder
	err error
}

// NewLog returns a log writing to w.
func NewLog(w io.Writer) *Log {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &Log{enc: enc}
}

// Event writes r's record.
func (l *Log) Event(r *runtime.EventRecord) {
	if l.err == nil {
		l.err = l.enc.Encode(NewRecord(r))
	}
}

// Frame is not logged: the capture has the frames.
func (l *Log) Frame(runtime.Frame) {}

// Err is the first write error.
func (l *Log) Err() error { return l.err }

// NewRecord turns an event into its log record.
func NewRecord(r *runtime.EventRecord) Record {
	rec := Record{
		Index:       r.Index,
		File:        r.Pos.File,
		Line:        r.Pos.Line,
		Kind:        r.Kind.String(),
		ScriptTime:  seconds(r.ScriptTime),
		ActualTime:  seconds(r.ActualTime),
		Deviation:   seconds(r.ActualTime - r.ScriptTime),
		Summary:     r.Summary,
		StateBefore: r.PrevState,
		State:       r.State,
		Verdict:     r.Verdict.String(),
		Error:       r.Error,
	}
	switch r.Kind {
	case runtime.KindInbound:
		rec.Direction, rec.Packet = "in", r.Summary
	case runtime.KindOutbound:
		rec.Direction, rec.Packet = "out", r.Summary
	case runtime.KindSyscall:
		rec.Syscall, rec.Result = r.Summary, r.Result
	case runtime.KindCommand:
		rec.Command = r.Summary
	}
	return rec
}

// seconds rounds to the microsecond, the resolution of script times.
func seconds(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1e6
}
