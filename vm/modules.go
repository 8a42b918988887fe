package vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ulikunitz/xz"
)

// Modules is an index of a kernel's loadable modules: a lib/modules/VERSION
// tree (or any directory holding .ko files, compressed or not). Dependencies
// come from each module's own .modinfo section, so no modules.dep is needed
// (a kernel package ships none: depmod makes it at install time).
type Modules struct {
	Dir     string
	paths   map[string]string // module name -> file
	builtin map[string]bool   // from modules.builtin, when the tree has one
}

// ModuleName normalises a module's name as the kernel does ('-' is '_').
func ModuleName(s string) string {
	s = filepath.Base(s)
	for _, ext := range []string{".xz", ".gz", ".zst"} {
		s = strings.TrimSuffix(s, ext)
	}
	return strings.ReplaceAll(strings.TrimSuffix(s, ".ko"), "-", "_")
}

// OpenModules indexes dir.
func OpenModules(dir string) (*Modules, error) {
	m := &Modules{Dir: dir, paths: map[string]string{}, builtin: map[string]bool{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, ".ko") || isCompressedKo(name) {
			if _, dup := m.paths[ModuleName(name)]; !dup {
				m.paths[ModuleName(name)] = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, line := range strings.Fields(string(b)) {
			m.builtin[ModuleName(line)] = true
		}
	}
	return m, nil
}

func isCompressedKo(name string) bool {
	return strings.HasSuffix(name, ".ko.xz") || strings.HasSuffix(name, ".ko.gz")
}

// Builtin reports whether the kernel has the module built in.
func (m *Modules) Builtin(name string) bool { return m.builtin[ModuleName(name)] }

// Has reports whether the tree holds the module as a file.
func (m *Modules) Has(name string) bool { _, ok := m.paths[ModuleName(name)]; return ok }

// Module is one module to load, its contents decompressed.
type Module struct {
	Name    string
	Path    string // the file in the tree
	Data    []byte // the ELF object, ready for finit_module
	Depends []string
}

// Resolve returns the named modules with everything they depend on, each
// once, dependencies first: the order to load them in. A name the kernel
// has built in is skipped; a name that is neither built in nor in the tree
// is an error.
func (m *Modules) Resolve(names []string) ([]Module, error) {
	var out []Module
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name, from string) error
	visit = func(name, from string) error {
		name = ModuleName(name)
		switch state[name] {
		case 1:
			return fmt.Errorf("module %s: dependency cycle through %s", name, from)
		case 2:
			return nil
		}
		p, ok := m.paths[name]
		if !ok {
			if m.builtin[name] {
				state[name] = 2
				return nil
			}
			if from != "" {
				return fmt.Errorf("module %s (needed by %s) not found in %s", name, from, m.Dir)
			}
			return fmt.Errorf("module %s not found in %s (and not built into the kernel)", name, m.Dir)
		}
		state[name] = 1
		data, err := readModule(p)
		if err != nil {
			return err
		}
		deps, err := moduleDepends(data)
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		for _, d := range deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, Module{Name: name, Path: p, Data: data, Depends: deps})
		return nil
	}
	for _, n := range names {
		if err := visit(n, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readModule reads a module file, decompressing .xz and .gz.
func readModule(p string) ([]byte, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var r io.Reader
	switch {
	case strings.HasSuffix(p, ".xz"):
		r, err = xz.NewReader(bytes.NewReader(raw))
	case strings.HasSuffix(p, ".gz"):
		r, err = gzip.NewReader(bytes.NewReader(raw))
	default:
		return raw, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return data, nil
}

// moduleDepends reads depends= from a module's .modinfo section (NUL
// separated key=value strings).
func moduleDepends(obj []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return nil, err
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	info, err := sec.Data()
	if err != nil {
		return nil, err
	}
	var deps []string
	sc := bufio.NewScanner(bytes.NewReader(info))
	sc.Split(splitNUL)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "depends="); ok && v != "" {
			deps = append(deps, strings.Split(v, ",")...)
		}
	}
	return deps, nil
}

func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	for len(data) > 0 && data[0] == 0 {
		return 1, nil, nil
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
