package observe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/godrill/godrill/runtime"
)

func TestLog(t *testing.T) {
	var b bytes.Buffer
	l := NewLog(&b)
	recs := failing()
	feed(recs, l)
	if l.Err() != nil {
		t.Fatal(l.Err())
	}
	var got []Record
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", len(got)+1, err)
		}
		got = append(got, r)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records for %d events", len(got), len(recs))
	}
	close4 := got[8]
	if close4.Syscall != "close(4)" || close4.Result != "0" || close4.StateBefore != "ESTABLISHED" ||
		close4.State != "FIN_WAIT1" || close4.Line != 33 || close4.ScriptTime != 0.150 || close4.ActualTime != 0.15001 ||
		close4.Deviation != 0.00001 || close4.Verdict != "ok" {
		t.Errorf("close record: %+v", close4)
	}
	fin := got[9]
	if fin.Kind != "outbound" || fin.Direction != "out" || fin.Packet != "F. 1:1(0) ack 1" {
		t.Errorf("FIN record: %+v", fin)
	}
	last := got[len(got)-1]
	if last.Verdict != "fail" || last.Error == "" || last.Index != len(recs)-1 {
		t.Errorf("failing record: %+v", last)
	}
}

func TestPcapRoundTrip(t *testing.T) {
	var b bytes.Buffer
	p, err := NewPcap(&b)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	big := make([]byte, 20000) // a TSO segment, larger than any MTU
	big[0] = 0x45
	p.Frame(runtime.Frame{Data: []byte{0x45, 1, 2, 3}, Time: at, Outgoing: true})
	p.Frame(runtime.Frame{Data: big, Time: at.Add(time.Microsecond)})
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	// The nanosecond magic (gopacket 1.1.19's Reader.Resolution has it
	// backwards, so look at the bytes).
	if magic := b.Bytes()[:4]; !bytes.Equal(magic, []byte{0x4d, 0x3c, 0xb2, 0xa1}) {
		t.Errorf("magic % x, want nanosecond pcap", magic)
	}
	r, err := pcapgo.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeRaw || r.Snaplen() < 65535 {
		t.Errorf("link type %v, snaplen %d", r.LinkType(), r.Snaplen())
	}
	data, ci, err := r.ReadPacketData()
	if err != nil || len(data) != 4 || !ci.Timestamp.Equal(at) {
		t.Errorf("first packet: %d bytes at %v, %v", len(data), ci.Timestamp, err)
	}
	data, _, err = r.ReadPacketData()
	if err != nil || len(data) != len(big) {
		t.Errorf("big packet: %d bytes, %v", len(data), err)
	}
	if p.Count() != 2 {
		t.Errorf("Count() = %d", p.Count())
	}
}
