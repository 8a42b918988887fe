package runtime

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

func TestVerifyTime(t *testing.T) {
	r := &runner{cfg: DefaultConfig(IPv4)}
	r.event.Store(&eventState{})
	ms := time.Millisecond
	last := lastTimeT{t: 100 * ms, ok: true}
	cases := []struct {
		name           string
		kind           parser.TimeKind
		script, end    time.Duration
		actual         time.Duration
		last           lastTimeT
		wantErrPattern string // "" = in tolerance
	}{
		{"on time", parser.TimeAbsolute, 200 * ms, 0, 200 * ms, last, ""},
		{"4ms floor: 3.9ms late is fine", parser.TimeAbsolute, 110 * ms, 0, 113900 * time.Microsecond, last, ""},
		{"4ms floor: 4.1ms late fails", parser.TimeAbsolute, 110 * ms, 0, 114100 * time.Microsecond, last, "tolerance 0.004000 sec"},
		{"12.5% of 100ms step allows 12ms", parser.TimeAbsolute, 200 * ms, 0, 212 * ms, last, ""},
		{"12.5% of 100ms step: 13ms late fails", parser.TimeAbsolute, 200 * ms, 0, 213 * ms, last, "expected x at 0.200000 sec but happened at 0.213000 sec; tolerance 0.012500 sec"},
		{"early fails too", parser.TimeAbsolute, 200 * ms, 0, 180 * ms, last, "happened at 0.180000"},
		{"any time", parser.TimeAny, 0, 0, 9 * time.Second, last, ""},
		{"inside a range", parser.TimeAbsoluteRange, 200 * ms, 300 * ms, 290 * ms, last, ""},
		{"after a range", parser.TimeAbsoluteRange, 200 * ms, 300 * ms, 350 * ms, last, "in time range 0.200000~0.300000 sec but happened at 0.350000 sec"},
		{"no previous event: fixed tolerance only", parser.TimeAbsolute, 0, 0, 5 * ms, lastTimeT{}, "tolerance 0.004000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := r.verifyTime(c.kind, c.script, c.end, c.actual, c.last, "x")
			if c.wantErrPattern == "" {
				if msg != "" {
					t.Fatalf("unexpected failure: %s", msg)
				}
				return
			}
			if !strings.Contains(msg, c.wantErrPattern) {
				t.Fatalf("got %q, want it to contain %q", msg, c.wantErrPattern)
			}
		})
	}
}

// TestResolveTimes checks the reference's anchoring of relative times.
func TestResolveTimes(t *testing.T) {
	r := &runner{cfg: DefaultConfig(IPv4), clock: time.Now, start: time.Now().Add(-500 * time.Millisecond)}
	in := func(start time.Duration) *parser.Event {
		return &parser.Event{Time: parser.EventTime{Kind: parser.TimeRelative, Start: start},
			Packet: &parser.Packet{Direction: parser.Inbound, TCP: &parser.TCP{}}}
	}
	// An inbound packet after an inbound packet counts from the previous
	// packet's script time, not from now.
	r.last = &eventState{time: 100 * time.Millisecond, inbound: true}
	es := r.resolveTimes(in(10 * time.Millisecond))
	if es.time != 110*time.Millisecond {
		t.Errorf("inbound after inbound: got %v, want 110ms", es.time)
	}
	// Anything else counts from the moment the previous event was done
	// (its live time, not its script time).
	r.last = &eventState{time: 100 * time.Millisecond}
	r.lastDone = 480 * time.Millisecond
	es = r.resolveTimes(in(10 * time.Millisecond))
	if es.time != 490*time.Millisecond {
		t.Errorf("inbound after syscall: got %v, want 490ms", es.time)
	}
	// The first event counts from now (about 500ms here).
	r.last = nil
	es = r.resolveTimes(in(10 * time.Millisecond))
	if es.time < 500*time.Millisecond || es.time > 2*time.Second {
		t.Errorf("first event: got %v, want about 510ms", es.time)
	}
	// A blocking call's end time moves with its relative start.
	call := &parser.Event{Time: parser.EventTime{Kind: parser.TimeRelative},
		Syscall: &parser.Syscall{Name: "accept", HasEnd: true, End: 200 * time.Millisecond}}
	es = r.resolveTimes(call)
	if got := es.endCall - es.time; got != 200*time.Millisecond {
		t.Errorf("blocking end: got %v after start, want 200ms", got)
	}
}

// TestSentDuringLastCall: a "+0" outbound packet the kernel sent while the
// previous call ran is on time however late godrill saw the call return;
// one sent before the call, after it, or after a blocking call is not.
func TestSentDuringLastCall(t *testing.T) {
	us := time.Microsecond
	call := &parser.Event{Time: parser.EventTime{Kind: parser.TimeAbsolute}, Syscall: &parser.Syscall{Name: "close"}}
	blocking := &parser.Event{Time: parser.EventTime{Kind: parser.TimeAbsolute}, Syscall: &parser.Syscall{Name: "connect", HasEnd: true}}
	plus0 := &parser.Event{Time: parser.EventTime{Kind: parser.TimeRelative}, Packet: &parser.Packet{Direction: parser.Outbound}}
	plus10 := &parser.Event{Time: parser.EventTime{Kind: parser.TimeRelative, Start: 10 * time.Millisecond}, Packet: &parser.Packet{Direction: parser.Outbound}}
	held := &eventState{ev: call, callStart: 150000 * us, doneAt: 156101 * us}
	cases := []struct {
		name   string
		last   *eventState
		ev     *parser.Event
		actual time.Duration
		want   bool
	}{
		{"sent in the call", held, plus0, 150051 * us, true},
		{"sent at its return", held, plus0, 156101 * us, true},
		{"sent before the call", held, plus0, 149000 * us, false},
		{"sent after the return", held, plus0, 160000 * us, false},
		{"a later step", held, plus10, 150051 * us, false},
		{"after a blocking call", &eventState{ev: blocking, callStart: 150000 * us, doneAt: 156101 * us}, plus0, 150051 * us, false},
	}
	for _, c := range cases {
		r := &runner{last: c.last}
		es := &eventState{ev: c.ev, offset: c.last.doneAt, time: c.last.doneAt + c.ev.Time.Start}
		if got := r.sentDuringLastCall(es, c.actual); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRestartAfter: a start that has passed, or nearly, moves on by whole
// ticks to the first that leaves startMargin; one with room stays.
func TestRestartAfter(t *testing.T) {
	us := time.Microsecond
	tick := 4000 * us
	base := time.Unix(1000, 0)
	for _, tc := range []struct {
		now, tick, want time.Duration // from base; want is the new start
	}{
		{now: -250 * us, tick: tick, want: 0},                                          // the usual lead: kept
		{now: -startMargin, tick: tick, want: 0},                                       // exactly the margin: kept
		{now: -50 * us, tick: tick, want: tick},                                        // too little left: next tick
		{now: 4100 * us, tick: tick, want: 2 * tick},                                   // held off past a whole tick
		{now: 3950 * us, tick: tick, want: 2 * tick},                                   // 4000-3950 < margin: one more
		{now: 3800 * us, tick: tick, want: tick},                                       // 200 µs left of the next: it
		{now: 10 * time.Millisecond, tick: 0, want: 10*time.Millisecond + startMargin}, // no tick
	} {
		got := restartAfter(base, base.Add(tc.now), tc.tick).Sub(base)
		if got != tc.want {
			t.Errorf("now %v, tick %v: start moved to %v, want %v", tc.now, tc.tick, got, tc.want)
		}
	}
}

// TestYieldIfDue checks when the loop gives its thread back to Go's
// scheduler: only with the next event at least yieldMargin away, and not
// again within yieldEvery.
func TestYieldIfDue(t *testing.T) {
	now := time.Unix(1000, 0)
	r := &runner{clock: func() time.Time { return now }}
	r.yieldIfDue(now, now.Add(yieldMargin-time.Microsecond))
	if !r.lastYield.IsZero() {
		t.Fatalf("yielded with the next event %v away", yieldMargin-time.Microsecond)
	}
	r.yieldIfDue(now, now.Add(yieldMargin))
	if !r.lastYield.Equal(now) {
		t.Fatalf("did not yield with the next event %v away", yieldMargin)
	}
	first := now
	now = now.Add(yieldEvery - time.Microsecond)
	r.yieldIfDue(now, now.Add(time.Second))
	if !r.lastYield.Equal(first) {
		t.Fatalf("yielded again %v after the last yield", yieldEvery-time.Microsecond)
	}
	now = first.Add(yieldEvery)
	r.yieldIfDue(now, now.Add(time.Second))
	if !r.lastYield.Equal(now) {
		t.Fatalf("did not yield %v after the last yield", yieldEvery)
	}
}

// fakeTicks is a clock whose coarse reading moves every 4 ms, advancing
// 1 µs at every read; each tick holds the reader tickCost (the tick's
// interrupt on the reader's CPU), and once, at stallAt, the reader loses
// stall of time (a preemption).
type fakeTicks struct {
	t, tickCost, stallAt, stall time.Duration
}

var fakeBase = time.Unix(2000, 0)

const fakeJiffy = 4 * time.Millisecond

func (f *fakeTicks) step() {
	before := f.t
	f.t += time.Microsecond
	if f.stall > 0 && f.t >= f.stallAt {
		f.t += f.stall
		f.stall = 0
	}
	if f.t/fakeJiffy != before/fakeJiffy {
		f.t += f.tickCost
	}
}

// coarse lags its tick by 3 ms, as this machine's does.
func (f *fakeTicks) coarse() (unix.Timespec, bool) {
	f.step()
	return unix.NsecToTimespec(int64(f.t/fakeJiffy*fakeJiffy - 3*time.Millisecond)), true
}

func (f *fakeTicks) now() time.Time {
	f.step()
	return fakeBase.Add(f.t)
}

// TestAlignToPlacesTheTick: a run starts jiffyOffset after a tick, ahead
// of the search's end, however long the tick's interrupt or a preemption
// held the search around the edges it watched.
func TestAlignToPlacesTheTick(t *testing.T) {
	ms, us := time.Millisecond, time.Microsecond
	type tc struct {
		tickCost, stallAt, stall time.Duration
	}
	cases := []tc{
		{0, 0, 0},                     // every edge seen within a read
		{200 * us, 0, 0},              // every tick held the search 200 µs
		{0, 3500 * us, 400 * us},      // a stall ended before the first tick
		{0, 4100 * us, 500 * us},      // a stall between two ticks
		{0, 3995 * us, 4100 * us},     // a stall across two ticks
		{150 * us, 7990 * us, 3 * ms}, // held at every tick, a stall across one
	}
	// Stalls across the first tick, each read of the last few before it.
	for at := 3990 * us; at <= 4000*us; at += us {
		cases = append(cases, tc{30 * us, at, 500 * us})
	}
	for _, c := range cases {
		f := &fakeTicks{t: 3 * ms, tickCost: c.tickCost, stallAt: c.stallAt, stall: c.stall}
		start := alignTo(f.coarse, f.now, fakeJiffy, 25*ms).Sub(fakeBase)
		into := (start - jiffyOffset) % fakeJiffy
		if into > fakeJiffy/2 {
			into -= fakeJiffy
		}
		if into < -4*us || into > 2*us || start <= f.t { // a bound is a few reads (here 1 µs each) early
			t.Errorf("tick cost %v, stall of %v at %v: start at %v, %v from jiffyOffset past a tick, search ended at %v; want -4 to 2 µs, after the end",
				c.tickCost, c.stall, c.stallAt, start, into, f.t)
		}
	}
}
