package parser

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDefines are the -D values the reference runners pass (Google's
// run_all.py for IPv4, the kernel's ksft_runner.sh).
var corpusDefines = map[string]string{
	"TFO_COOKIE":        "3021b9d889017eeb",
	"CODE":              "host_unreachable",
	"CMSG_LEVEL_IP":     "SOL_IP",
	"CMSG_TYPE_RECVERR": "IP_RECVERR",
	"TFO_COOKIE_ZERO":   "b7c12350a90dc8f5",
	// The psp/ scripts expect their runner to define MSS.
	"MSS": "1412",
}

// TestCorpus parses every .pkt file under the colon-separated directories
// of $GODRILL_CORPUS_DIRS (e.g. /work/corpora/packetdrill-gtests and
// /work/corpora/linux-packetdrill).
func TestCorpus(t *testing.T) {
	dirs := os.Getenv("GODRILL_CORPUS_DIRS")
	if dirs == "" {
		t.Skip("GODRILL_CORPUS_DIRS not set; set it to colon-separated directories of .pkt files")
	}
	total, failed := 0, 0
	for _, dir := range strings.Split(dirs, ":") {
		if dir == "" {
			continue
		}
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".pkt") {
				return nil
			}
			total++
			if _, err := ParseFile(path, Options{Defines: corpusDefines}); err != nil {
				failed++
				t.Errorf("%s", FormatError(err))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("corpus: %d of %d files parsed (%d failed)", total-failed, total, failed)
}
