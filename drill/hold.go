package drill

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/godrill/godrill/parser"
)

// A held run keeps its namespace, sockets and peer after the last event,
// so that a person can look at the connection from a second terminal
// (`godrill exec ID -- ss -tan`), as packetdrill users do with a final
// `sleep 1000000`. The parent and the child talk over two pipes beside the
// verdict pipe: the child writes one byte on heldFD when the hold begins,
// and the hold ends when the parent closes its end of holdFD.
const (
	holdFD = 4 // child reads; EOF ends the hold
	heldFD = 5 // child writes one byte: the hold has begun
)

// finalSleep returns the script's last event when it is a shell command
// that only sleeps for at least limit (the command timeout, which would
// kill it): the idiom that keeps a packetdrill run where it is.
func finalSleep(s *parser.Script, limit time.Duration) *parser.Event {
	if len(s.Events) == 0 {
		return nil
	}
	ev := s.Events[len(s.Events)-1]
	if ev.Command == nil {
		return nil
	}
	d, ok := sleepDuration(ev.Command.Text)
	if !ok || d < limit {
		return nil
	}
	return ev
}

// sleepDuration reads `sleep N[smhd]...` and `sleep infinity`.
func sleepDuration(cmd string) (time.Duration, bool) {
	f := strings.Fields(cmd)
	if len(f) < 2 || f[0] != "sleep" {
		return 0, false
	}
	var total time.Duration
	for _, a := range f[1:] {
		if a == "infinity" {
			return 1<<63 - 1, true
		}
		unit := time.Second
		switch a[len(a)-1] {
		case 's':
			a = a[:len(a)-1]
		case 'm':
			a, unit = a[:len(a)-1], time.Minute
		case 'h':
			a, unit = a[:len(a)-1], time.Hour
		case 'd':
			a, unit = a[:len(a)-1], 24*time.Hour
		}
		n, err := strconv.ParseFloat(a, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		if n*float64(unit) > float64(1<<62) {
			return 1<<63 - 1, true
		}
		total += time.Duration(n * float64(unit))
	}
	return total, true
}

// holdHook prepares a held run in the child: the final sleep, if any, is
// dropped (the hold takes its place), and the returned func, called by the
// runtime after the last event, says how to look and waits for the parent.
// It returns nil when the run is not held. The message goes to stdout, in
// order with --trace.
func (e Extras) holdHook(path string, s *parser.Script, commandTimeout time.Duration, stdout io.Writer) func() {
	if e.EndHold {
		// In a suite nobody can look: the sleep that would hold the run
		// is dropped, and the run ends where the hold would begin.
		sleep := finalSleep(s, commandTimeout)
		if sleep == nil {
			return nil
		}
		s.Events = s.Events[:len(s.Events)-1]
		return func() {
			fmt.Fprintf(stdout, "%s: the final `%s` holds the run open when run alone on a terminal; in a suite the run ends there\n",
				sleep.Pos, sleep.Command.Text)
		}
	}
	if !e.Hold {
		return nil
	}
	sleep := finalSleep(s, commandTimeout)
	if sleep != nil {
		s.Events = s.Events[:len(s.Events)-1]
	}
	events := len(s.Events)
	return func() {
		fmt.Fprint(stdout, holdMessage(path, e.RunID, events, sleep))
		unix.Write(heldFD, []byte{1})
		unix.Close(heldFD)
		var b [1]byte
		for {
			n, err := unix.Read(holdFD, b[:])
			if n == 0 && err != unix.EINTR {
				break
			}
		}
		unix.Close(holdFD)
	}
}

// holdMessage is said once, when the hold begins.
func holdMessage(path, id string, events int, sleep *parser.Event) string {
	var b strings.Builder
	what := "after the last event"
	if sleep != nil {
		what = fmt.Sprintf("at line %d (`%s`)", sleep.Pos.Line, sleep.Command.Text)
	}
	fmt.Fprintf(&b, "%s: all %d events passed; holding the run open %s.\n", path, events, what)
	if id == "" {
		id = "ID"
	}
	fmt.Fprintf(&b, "  The connection stays as the script left it. From another terminal (run id %s):\n", id)
	fmt.Fprintf(&b, "    godrill exec %s -- ss -tan          sockets and their states (also netstat, nstat, ip)\n", id)
	fmt.Fprintf(&b, "    godrill exec %s -- tcpdump -i tun0  what the kernel sends from now on\n", id)
	fmt.Fprintf(&b, "    godrill shell %s                    a shell inside the run\n", id)
	b.WriteString("  Ctrl-C ends the run (exit 0: everything before the hold passed).\n")
	return b.String()
}

// holdDecision says whether a single run is held, and if a final sleep is
// not held, why (printed before the run, so nobody waits a minute in
// silence).
func holdDecision(inv *Invocation, s *parser.Script, commandTimeout time.Duration, terminal bool) (hold bool, note string) {
	if inv.Extras.Hold {
		return true, ""
	}
	sleep := finalSleep(s, commandTimeout)
	if sleep == nil {
		return false, ""
	}
	if !terminal {
		return false, fmt.Sprintf("%s: the final `%s` is not held open: stdin is not a terminal, so it runs under --command_timeout (%v) as any command; --hold holds it anyway\n",
			sleep.Pos, sleep.Command.Text, commandTimeout)
	}
	return true, ""
}

func stdinIsTerminal() bool { return isTerminal(os.Stdin) }
