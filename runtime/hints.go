package runtime

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/godrill/godrill/packet"
	"github.com/godrill/godrill/parser"
)

// Hints are the lines a failure report adds below the reference's message
// to say, in the script's own terms, what probably happened. The
// reference's first lines stay as they are: tools read them.

// splitHint explains a segment the kernel split (non-strict mode merges
// consecutive segments into the script's one): what came, in the script's
// relative numbers, and what broke the merge.
func (r *runner) splitHint(s *socket, t *parser.TCP, segs []sniffed, next *sniffed) []string {
	var parts []string
	for _, seg := range segs {
		parts = append(parts, fmt.Sprintf("%s at %.6f", r.formatLive(s, seg.d), secs(r.wallToScript(seg.time))))
	}
	hint := []string{fmt.Sprintf("hint: the script expects %s in one segment; the kernel sent %s",
		seqText(t), strings.Join(parts, ", then "))}
	if next != nil {
		hint = append(hint, fmt.Sprintf("      and then %s at %.6f, which does not continue it (a retransmission?)",
			r.formatLive(s, next.d), secs(r.wallToScript(next.time))))
	} else {
		hint = append(hint, "      and the rest did not come in time")
	}
	return append(hint,
		"      without --strict_segments, consecutive segments are merged into the script's one; the kernel",
		"      splits a write at the MSS and at the peer's window (its last win), so give the peer more window,",
		"      or write each segment the kernel sends as its own line (and run with --strict_segments)")
}

func seqText(t *parser.TCP) string {
	return fmt.Sprintf("%d:%d(%d)", t.Seq.Start, t.Seq.End, t.Seq.Len)
}

// missingHint lists what the kernel sent while the script waited in vain
// for its packet (packets of other sockets, which are never matched).
func (r *runner) missingHint(s *socket, t *parser.TCP, waited time.Duration) []string {
	if len(r.passedBy) == 0 {
		return []string{fmt.Sprintf("hint: the kernel sent nothing in the %.3fs waited for %s %s",
			waited.Seconds(), tcpFlagsText(tcpFlags(t), t.ACE), seqText(t))}
	}
	hint := []string{fmt.Sprintf("hint: in the %.3fs waited, the kernel sent only packets of other sockets:", waited.Seconds())}
	for i, p := range r.passedBy {
		if i == 8 {
			hint = append(hint, fmt.Sprintf("      ... and %d more", len(r.passedBy)-i))
			break
		}
		hint = append(hint, fmt.Sprintf("      %.6f %s", secs(r.wallToScript(p.time)), dumpLive(p.layers, p.d, false)))
	}
	return hint
}

// notePassedBy remembers an outgoing packet the matcher skipped, for
// missingHint.
func (r *runner) notePassedBy(layers []packet.Layer, d *packet.Decoded, at time.Time) {
	if len(r.passedBy) < 64 {
		r.passedBy = append(r.passedBy, sniffed{d: d, layers: layers, time: at})
	}
}

// commandHint shows the sockets when a command that checks them fails
// (`ss ... | grep -q` prints nothing): what ss saw instead.
func commandHint(text string) []string {
	if !strings.Contains(" "+text, " ss ") && !strings.Contains(" "+text, " netstat ") {
		return nil
	}
	out, err := exec.Command("ss", "-tanH").CombinedOutput()
	if err != nil {
		return nil
	}
	hint := []string{"hint: the sockets at that moment (ss -tan):"}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return append(hint, "      (none)")
	}
	for _, l := range lines {
		hint = append(hint, "      "+l)
	}
	return hint
}

// diffHints adds what a field-by-field table suggests: flags written in
// another tool's notation.
func diffHints(line string, rows []FieldDiff) []string {
	differs := map[string]FieldDiff{}
	for _, r := range rows {
		if r.Differs {
			differs[r.Field] = r
		}
	}
	flags := flagsWord(line)
	ack, ackDiffers := differs["tcp_ack"]
	if strings.Contains(flags, "A") && ackDiffers && ack.Expected == "0" {
		return []string{fmt.Sprintf("hint: in %q, A is the AccECN AE flag, not ACK: ACK is written '.', as tcpdump prints it (SYN-ACK is %q)",
			flags, strings.ReplaceAll(flags, "A", "."))}
	}
	return nil
}

// lineTokens splits a script line (before any // comment) into words with
// their columns (from 1).
func lineTokens(line string) (words []string, cols []int) {
	if i := strings.Index(line, "//"); i >= 0 {
		line = line[:i]
	}
	start := -1
	for i := 0; i <= len(line); i++ {
		blank := i == len(line) || line[i] == ' ' || line[i] == '\t'
		switch {
		case !blank && start < 0:
			start = i
		case blank && start >= 0:
			words, cols = append(words, line[start:i]), append(cols, start+1)
			start = -1
		}
	}
	return words, cols
}

// flagsWord is the flags of a packet line: the word after "<" or ">".
func flagsWord(line string) string {
	w, _ := lineTokens(line)
	for i := 0; i+1 < len(w); i++ {
		if w[i] == "<" || w[i] == ">" {
			return w[i+1]
		}
	}
	return ""
}

// fieldCol is the column of a packet line where the given field is
// written, so that the caret points at what differs (0: not found).
func fieldCol(line, field string) int {
	w, cols := lineTokens(line)
	dir := -1
	for i, x := range w {
		if x == "<" || x == ">" {
			dir = i
			break
		}
	}
	if dir < 0 || dir+1 >= len(w) {
		return 0
	}
	find := func(pred func(string) bool) int {
		for i := dir + 1; i < len(w); i++ {
			if pred(w[i]) {
				return cols[i]
			}
		}
		return 0
	}
	word := func(name string) int {
		for i := dir + 1; i+1 < len(w); i++ {
			if w[i] == name {
				return cols[i]
			}
		}
		return 0
	}
	seq := func(s string) bool { return strings.Contains(s, ":") && strings.Contains(s, "(") }
	switch {
	case field == "time":
		return cols[0]
	case field == "tcp_seq", field == "payload", strings.HasSuffix(field, "_length"), strings.HasSuffix(field, "_len"):
		return find(seq)
	case field == "tcp_ack_seq":
		return word("ack")
	case field == "tcp_window":
		return word("win")
	case field == "tcp_urg_ptr":
		return word("urg")
	case field == "tcp_options", field == "tcp_data_offset":
		return find(func(s string) bool { return strings.HasPrefix(s, "<") })
	case strings.HasPrefix(field, "tcp_"):
		// tcp_fin, tcp_syn, ... tcp_ae, tcp_reserved_bits: the flags.
		return cols[dir+1]
	}
	return 0
}
