package runtime_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// TestHungCallLeavesCaptureAndLog: a call that never returns is woken by
// --syscall_timeout and fails the run at its line, and the run still ends
// as every run does: the pcap and the JSON log are complete and readable,
// with every packet and event up to the failure.
func TestHungCallLeavesCaptureAndLog(t *testing.T) {
	needKernel(t)
	dir := t.TempDir()
	pcap, log := filepath.Join(dir, "run.pcap"), filepath.Join(dir, "run.json")
	script, _ := filepath.Abs("testdata/hung/read.pkt")
	code, out := runScript(t, script, []string{"--syscall_timeout=300ms", "--pcap=" + pcap, "--json=" + log})
	if code != 1 || !strings.HasPrefix(out, "read.pkt:13: runtime error in read call: did not return within 300ms") {
		t.Fatalf("exit %d, want 1 with the timeout at line 13:\n%s", code, out)
	}

	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("pcap unreadable: %v", err)
	}
	packets := 0
	for {
		if _, _, err := r.ReadPacketData(); err != nil {
			break
		}
		packets++
	}
	// SYN, SYN-ACK, ACK, then whatever the teardown sends.
	if packets < 3 {
		t.Errorf("pcap holds %d packets, want the handshake's 3 at least", packets)
	}

	lf, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	type record struct {
		Line    int    `json:"line"`
		Kind    string `json:"kind"`
		Verdict string `json:"verdict"`
	}
	var recs []record
	sc := bufio.NewScanner(lf)
	for sc.Scan() {
		var rec record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 9 {
		t.Fatalf("log holds %d events, want 9 (8 ok and the hung read): %+v", len(recs), recs)
	}
	for _, rec := range recs[:8] {
		if rec.Verdict != "ok" {
			t.Errorf("line %d: verdict %q, want ok", rec.Line, rec.Verdict)
		}
	}
	if last := recs[8]; last.Line != 13 || last.Kind != "syscall" || last.Verdict != "fail" {
		t.Errorf("last event %+v, want line 13 syscall fail", last)
	}
}

// TestCodeSeesBBRInfo: under BBR a %{ }% snippet reads bbr_* values from
// TCP_CC_INFO (the script sets bbr with setsockopt TCP_CONGESTION).
func TestCodeSeesBBRInfo(t *testing.T) {
	needKernel(t)
	avail, err := os.ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control")
	if err != nil || !strings.Contains(" "+strings.TrimSpace(string(avail))+" ", " bbr ") {
		t.Skipf("the kernel has no bbr congestion control loaded (available: %q)", strings.TrimSpace(string(avail)))
	}
	if code, out := runScript(t, "testdata/code/bbr.pkt", nil); code != 0 {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
