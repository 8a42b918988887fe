package drill

import (
	"reflect"
	"testing"
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
	if !contains(args, "--pcap=/tmp/out.x.ipv6.pcap") || !contains(args, "--json=log.x.ipv6.jsonl") ||
		!contains(args, "--svg=seq.x.ipv6.svg") {
		t.Errorf("suite run: %v", args)
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
