package scripts

import (
	"testing"
	"time"

	"github.com/godrill/godrill/drill"
)

// TestScriptsHelper shows drill.TestScripts, the one-line way for a Go
// project to run the .pkt files beside its tests: each script becomes a
// parallel subtest (skipped without root or /dev/net/tun).
func TestScriptsHelper(t *testing.T) {
	drill.TestScripts(t, "*.pkt", drill.Options{Timeout: time.Minute})
}
