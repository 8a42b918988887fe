package drill

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	inv, err := ParseArgs([]string{"--ip_version=ipv6", "-v", "-D", "X=1", "--tolerance_usecs", "10000",
		"--trace", "--pcap", "out.pcap", "--svg", "run.svg", "-j2", "a.pkt", "dir"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Flag{{"ip_version", "ipv6"}, {"v", ""}, {"define", "X=1"}, {"tolerance_usecs", "10000"}}
	if !reflect.DeepEqual(inv.Flags, want) {
		t.Errorf("flags %v, want %v", inv.Flags, want)
	}
	if !inv.Extras.Trace || inv.Extras.PcapFile != "out.pcap" || inv.Extras.SVGFile != "run.svg" || inv.Extras.Jobs != 2 {
		t.Errorf("extras %+v", inv.Extras)
	}
	if !reflect.DeepEqual(inv.Files, []string{"a.pkt", "dir"}) {
		t.Errorf("files %v", inv.Files)
	}
	if _, err := ParseArgs([]string{"--bogus=1", "a.pkt"}); err == nil {
		t.Error("unknown flag accepted")
	}
	inv, _ = ParseArgs([]string{"--ip_version=all", "a.pkt"})
	if len(inv.Extras.Versions) != 3 {
		t.Errorf("all families: %v", inv.Extras.Versions)
	}
}

// TestPerRunFiles: in a suite each run writes its own capture, log and SVG.
func TestPerRunFiles(t *testing.T) {
	inv := &Invocation{Extras: Extras{PcapFile: "/tmp/out.pcap", JSONFile: "log.jsonl", SVGFile: "seq.svg"}}
	args := inv.childArgs("scripts/x.pkt", "ipv6")
	if !contains(args, "--pcap=/tmp/out.pcap") || !contains(args, "--json=log.jsonl") || !contains(args, "--svg=seq.svg") {
		t.Errorf("single run renamed its files: %v", args)
	}
	inv.suite = true
	args = inv.childArgs("scripts/x.pkt", "ipv6")
	if !contains(args, "--pcap=/tmp/out/scripts/x.ipv6.pcap") || !contains(args, "--json=log/scripts/x.ipv6.jsonl") ||
		!contains(args, "--svg=seq/scripts/x.ipv6.svg") {
		t.Errorf("suite run: %v", args)
	}
	// Two scripts of one name in different directories, and the family
	// given by the flags rather than the job: names differ, family named.
	inv.Flags = []Flag{{Name: "ip_version", Value: "ipv4-mapped-ipv6"}}
	a, b := inv.perRun("r.pcap", "a/x.pkt", ""), inv.perRun("r.pcap", "b/x.pkt", "")
	if a == b || a != "r/a/x.ipv4-mapped-ipv6.pcap" {
		t.Errorf("per-run names %q and %q", a, b)
	}
}

// TestDidYouMean: a mistyped flag is answered with the one meant.
func TestDidYouMean(t *testing.T) {
	for typo, want := range map[string]string{
		"tolerance_usec": "tolerance_usecs", "ip_verison": "ip_version", "hepl": "help",
		"strict_segment": "strict_segments", "zzzzzz": "",
	} {
		if got := didYouMean(typo); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", typo, got, want)
		}
	}
	if _, err := ParseArgs([]string{"--tolerance_usec=10", "x.pkt"}); err == nil ||
		!strings.Contains(err.Error(), "did you mean --tolerance_usecs?") {
		t.Errorf("error %v", err)
	}
}

// TestSleepDuration: the final sleeps that hold a run open.
func TestSleepDuration(t *testing.T) {
	for cmd, want := range map[string]time.Duration{
		"sleep 1000000": 1000000 * time.Second, "sleep 2m": 2 * time.Minute, " sleep 1h 30m ": 90 * time.Minute,
		"sleep 1.5": 1500 * time.Millisecond, "sleep infinity": 1<<63 - 1,
	} {
		if got, ok := sleepDuration(cmd); !ok || got != want {
			t.Errorf("sleepDuration(%q) = %v, %v; want %v", cmd, got, ok, want)
		}
	}
	for _, cmd := range []string{"sleep", "sleep x", "sleep 1; ss -tan", "echo sleep 1"} {
		if _, ok := sleepDuration(cmd); ok {
			t.Errorf("sleepDuration(%q) accepted", cmd)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
