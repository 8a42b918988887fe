// Command parsedump prints, for every script under the directories given,
// what the parser makes of it: the S-expression printer's output and the
// whole tree with every position (by reflection), or the formatted error
// (file:line:col, the line, the caret). Each .pkt is parsed with the -D
// values of each corpus runner's variants; the chunks of parser/testdata
// and the fuzz corpora are parsed too. It uses only the parser's exported
// API, so the same file builds at an older commit: dump before and after a
// change to the parser and compare.
//
//	git archive OLD | tar -x -C /tmp/old && mkdir -p /tmp/old/bench/cmd/parsedump
//	cp bench/cmd/parsedump/main.go /tmp/old/bench/cmd/parsedump/
//	(cd /tmp/old && go build -o /tmp/dump-old ./bench/cmd/parsedump)
//	go build -o /tmp/dump-new ./bench/cmd/parsedump
//	D="/work/ref/packetdrill/gtests/net /work/ref/ksft parser/testdata testdata scripts"
//	/tmp/dump-old $D > /tmp/old.txt; /tmp/dump-new $D > /tmp/new.txt; cmp /tmp/old.txt /tmp/new.txt
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/godrill/godrill/parser"
)

// variants are the -D values of run_all.py's three variants, ksft_runner.sh's
// two, none, and the MSS the psp/ scripts expect of their runner.
var variants = []struct {
	name string
	d    map[string]string
}{
	{"gtests-v4", map[string]string{"TFO_COOKIE": "3021b9d889017eeb", "CODE": "host_unreachable", "CMSG_LEVEL_IP": "SOL_IP", "CMSG_TYPE_RECVERR": "IP_RECVERR"}},
	{"gtests-v6", map[string]string{"TFO_COOKIE": "c1d1e9742a47a9bc", "CMSG_LEVEL_IP": "SOL_IPV6", "CMSG_TYPE_RECVERR": "IPV6_RECVERR"}},
	{"gtests-v4m", map[string]string{"TFO_COOKIE": "3021b9d889017eeb", "CODE": "host_unreachable", "CMSG_LEVEL_IP": "SOL_IPV6", "CMSG_TYPE_RECVERR": "IPV6_RECVERR"}},
	{"ksft-v4", map[string]string{"TFO_COOKIE": "3021b9d889017eeb", "TFO_COOKIE_ZERO": "b7c12350a90dc8f5", "CMSG_LEVEL_IP": "SOL_IP", "CMSG_TYPE_RECVERR": "IP_RECVERR"}},
	{"ksft-v6", map[string]string{"TFO_COOKIE": "c1d1e9742a47a9bc", "TFO_COOKIE_ZERO": "82af1a8f9a205c34", "CMSG_LEVEL_IP": "SOL_IPV6", "CMSG_TYPE_RECVERR": "IPV6_RECVERR"}},
	{"none", nil},
	{"psp", map[string]string{"MSS": "1412"}},
}

func dump(b *strings.Builder, v reflect.Value, ind string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if v.Kind() == reflect.Interface {
			b.WriteString(v.Elem().Type().String() + ":")
		}
		dump(b, v.Elem(), ind)
	case reflect.Struct:
		b.WriteString("{")
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).Name == "Source" {
				continue
			}
			b.WriteString("\n" + ind + "  " + t.Field(i).Name + "=")
			dump(b, v.Field(i), ind+"  ")
		}
		b.WriteString("}")
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			fmt.Fprintf(b, "%q", v.Bytes())
			return
		}
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			b.WriteString("\n" + ind + "  ")
			dump(b, v.Index(i), ind+"  ")
		}
		b.WriteString("]")
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteString("map[")
		for _, k := range keys {
			fmt.Fprintf(b, "%v:", k)
			dump(b, v.MapIndex(k), ind+"  ")
			b.WriteString(" ")
		}
		b.WriteString("]")
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	default:
		if v.CanInterface() {
			fmt.Fprintf(b, "%v", v.Interface())
		} else {
			fmt.Fprintf(b, "%v", v)
		}
	}
}

func one(name string, src []byte, defs map[string]string) string {
	var b strings.Builder
	s, err := parser.Parse(name, src, parser.Options{Defines: defs})
	if err != nil {
		b.WriteString("ERR " + err.Error() + "\n" + parser.FormatError(err) + "\n")
		return b.String()
	}
	b.WriteString(parser.Sprint(s))
	dump(&b, reflect.ValueOf(s), "")
	b.WriteString("\n")
	return b.String()
}

func main() {
	out := os.Stdout
	for _, root := range os.Args[1:] {
		var files []string
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		sort.Strings(files)
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			if strings.HasSuffix(f, ".txt") && strings.Contains(f, "parser/testdata") {
				// chunks separated by --- lines
				for i, c := range strings.Split(string(src), "\n---\n") {
					fmt.Fprintf(out, "=== %s chunk %d\n%s", f, i, one("x.pkt", []byte(c+"\n"), nil))
				}
				continue
			}
			if strings.Contains(f, "testdata/fuzz/") {
				lines := strings.SplitN(string(src), "\n", 2)
				if len(lines) == 2 {
					var bs []byte
					body := strings.TrimSpace(lines[1])
					if strings.HasPrefix(body, "[]byte(") {
						fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(body, "[]byte("), ")"), "%q", &bs)
					}
					fmt.Fprintf(out, "=== %s\n%s", f, one("x.pkt", bs, nil))
				}
				continue
			}
			if !strings.HasSuffix(f, ".pkt") {
				continue
			}
			for _, v := range variants {
				fmt.Fprintf(out, "=== %s [%s]\n%s", f, v.name, one(f, src, v.d))
			}
		}
	}
}
