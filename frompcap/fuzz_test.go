package frompcap

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/godrill/godrill/parser"
)

// maxParsedScript bounds the scripts the fuzzer parses: a long one
// costs the parser seconds and says no more than a short one.
const maxParsedScript = 64 << 10

// FuzzConvert feeds arbitrary bytes to the reader and the converter. A
// panic anywhere (recovered by Convert as an "internal error") fails, and
// so does a script that does not parse.
//
//	go test -run '^$' -fuzz FuzzConvert -fuzztime 10m -parallel=1 ./frompcap
func FuzzConvert(f *testing.F) {
	f.Add(pcapOf(f, v4convo(httpLike()...), layers.LinkTypeEthernet, 0))
	f.Add(pcapOf(f, v6convo(httpLike()...), layers.LinkTypeLinuxSLL2, 0))
	f.Add(pcapngOf(f, v4convo(httpLike()...), layers.LinkTypeRaw))
	f.Add(pcapOf(f, v4convo(httpLike()...), layers.LinkTypeNull, 60))
	captures, _ := filepath.Glob("../testdata/captures/*.pcap")
	for _, c := range captures {
		if b, err := os.ReadFile(c); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []Options{{}, {Side: "remote", Windows: "all"}} {
			scripts, err := Convert(bytes.NewReader(data), opts)
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("Convert panicked: %v", err)
			}
			for _, s := range scripts {
				if len(s.Text) > maxParsedScript {
					continue
				}
				if _, err := parser.Parse(s.Name, []byte(s.Text), parser.Options{}); err != nil {
					t.Fatalf("a converted script does not parse: %s\n%s", parser.FormatError(err), s.Text)
				}
			}
		}
		if _, err := List(bytes.NewReader(data)); err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("List panicked: %v", err)
		}
	})
}
