package frompcap

import (
	"bytes"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// bulkCapture is a pcap of one connection of n packets: the handshake,
// then the server writes full-sized segments (1448 bytes with TS, each a
// write: PSH) and the client acknowledges each, 10 µs apart, as tcpdump -s 0 would write it.
func bulkCapture(tb testing.TB, n int, push bool) []byte {
	flags := A
	if push {
		flags = PA
	}
	segs := httpLike()[:3]
	seq, tsv := uint32(1), uint32(600)
	for at := 2 * time.Millisecond; len(segs) < n; at += 10 * time.Microsecond {
		if len(segs)%2 == 1 {
			segs = append(segs, seg{at: at, fromS: true, flags: flags, seq: seq, ack: 1, win: 509, opts: ts(tsv, 101), n: 1448})
			seq += 1448
		} else {
			segs = append(segs, seg{at: at, flags: A, seq: 1, ack: seq, win: 502, opts: ts(200, tsv)})
			tsv++
		}
	}
	cv := v4convo(segs...)
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	for i, ip := range cv.ipPackets() {
		frame := link(layers.LinkTypeEthernet, ip)
		ci := gopacket.CaptureInfo{Timestamp: epoch.Add(segs[i].at), CaptureLength: len(frame), Length: len(frame)}
		if err := w.WritePacket(ci, frame); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// BenchmarkConvert100k converts a 100,000-packet capture (75 MB); the
// issue asks for under 2 s per conversion. Run on a quiet machine:
//
//	go test -run '^$' -bench Convert100k -benchtime 5x -benchmem ./frompcap
func BenchmarkConvert100k(b *testing.B) {
	capture := bulkCapture(b, 100_000, true)
	b.SetBytes(int64(len(capture)))
	b.ResetTimer()
	for b.Loop() {
		out, err := Convert(bytes.NewReader(capture), Options{})
		if err != nil || len(out) != 1 {
			b.Fatalf("%d scripts, %v", len(out), err)
		}
	}
}

// BenchmarkConvert100kOneWrite is the same capture without PSH: one write
// of all the data, where a converter that looks ahead for the end of each
// write at every segment would take quadratic time.
func BenchmarkConvert100kOneWrite(b *testing.B) {
	capture := bulkCapture(b, 100_000, false)
	b.ResetTimer()
	for b.Loop() {
		if out, err := Convert(bytes.NewReader(capture), Options{}); err != nil || len(out) != 1 {
			b.Fatalf("%d scripts, %v", len(out), err)
		}
	}
}

// TestBulkCapture checks the benchmark's capture converts to what it
// should (a small one: this is not a timing test).
func TestBulkCapture(t *testing.T) {
	out, err := Convert(bytes.NewReader(bulkCapture(t, 1000, true)), Options{})
	if err != nil || len(out) != 1 {
		t.Fatalf("%d scripts, %v", len(out), err)
	}
	if got := bytes.Count([]byte(out[0].Text), []byte("> P. ")); got != 499 {
		t.Errorf("%d outbound data lines, want 499", got)
	}
}
