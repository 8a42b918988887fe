package parser

import (
	"bytes"
	"runtime/debug"
	"testing"
)

// bigScript is the script of the parse benchmark: a listening socket, then
// n getsockopt calls, one a line (10.6 MB for n = 200,000).
func bigScript(n int) []byte {
	var b bytes.Buffer
	b.WriteString("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n")
	for range n {
		b.WriteString("+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n")
	}
	return b.Bytes()
}

func BenchmarkParseGetsockopt(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // as godrill parse
	src := bigScript(20000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("big.pkt", src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
