package vm

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Libraries lists what the dynamic loader needs to run the ELF program at
// path: its interpreter (PT_INTERP) and every DT_NEEDED library, found
// recursively through DT_RUNPATH/DT_RPATH, the directories of
// /etc/ld.so.conf and the default ones, as host paths. A static program, or
// a file that is not ELF (a shell script), needs none.
func Libraries(path string) ([]string, error) {
	r := &libResolver{dirs: ldSoDirs(), seen: map[string]bool{}}
	interp, err := r.walk(path, true)
	if err != nil {
		return nil, err
	}
	if interp != "" && !r.seen[interp] {
		r.out = append([]string{interp}, r.out...)
	}
	return r.out, nil
}

type libResolver struct {
	dirs []string
	seen map[string]bool
	out  []string
}

// walk adds path's needed libraries and returns its interpreter.
func (r *libResolver) walk(path string, top bool) (string, error) {
	if top && !isELF(path) {
		return "", nil // a script: its interpreter is a program of its own
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	interp := ""
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", fmt.Errorf("%s: interpreter: %v", path, err)
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		// No dynamic section: a static program.
		return interp, nil
	}
	var own []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				own = append(own, strings.ReplaceAll(d, "$ORIGIN", filepath.Dir(path)))
			}
		}
	}
	for _, name := range needed {
		lib, err := r.find(name, own, f.Class, f.Machine)
		if err != nil {
			return "", fmt.Errorf("%s: %v", path, err)
		}
		if r.seen[lib] {
			continue
		}
		r.seen[lib] = true
		r.out = append(r.out, lib)
		if _, err := r.walk(lib, false); err != nil {
			return "", err
		}
	}
	return interp, nil
}

func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == elf.ELFMAG
}

// find looks a library up like the loader does, keeping only files of the
// program's own class and machine (so a 32-bit libc is never picked).
func (r *libResolver) find(name string, own []string, class elf.Class, machine elf.Machine) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, d := range append(own, r.dirs...) {
		p := filepath.Join(d, name)
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		ok := f.Class == class && f.Machine == machine
		f.Close()
		if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("shared library %s not found", name)
}

// ldSoDirs reads the loader's search directories: /etc/ld.so.conf with its
// includes, then the built-in defaults.
func ldSoDirs() []string {
	var dirs []string
	var read func(string, int)
	read = func(file string, depth int) {
		f, err := os.Open(file)
		if err != nil || depth > 8 {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			switch {
			case line == "":
			case strings.HasPrefix(line, "include "):
				pat := strings.TrimSpace(strings.TrimPrefix(line, "include "))
				if !filepath.IsAbs(pat) {
					pat = filepath.Join(filepath.Dir(file), pat)
				}
				matches, _ := filepath.Glob(pat)
				for _, m := range matches {
					read(m, depth+1)
				}
			default:
				dirs = append(dirs, line)
			}
		}
	}
	read("/etc/ld.so.conf", 0)
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib",
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu")
}
