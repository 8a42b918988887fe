package vm

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cavaliergopher/cpio"
)

// Initramfs is the guest's root file system under construction: a set of
// entries by guest path, written as a newc cpio archive (what the kernel
// unpacks into its rootfs). Parent directories are added implicitly.
type Initramfs struct {
	entries map[string]*entry
}

type entry struct {
	mode cpio.FileMode // type and permission bits
	data []byte        // regular files: contents; symlinks: target
	host string        // regular files read from the host at write time
}

// NewInitramfs returns an empty image.
func NewInitramfs() *Initramfs {
	return &Initramfs{entries: map[string]*entry{}}
}

func clean(guest string) string {
	return path.Clean("/" + guest)
}

func (fs *Initramfs) put(guest string, e *entry) {
	guest = clean(guest)
	for d := path.Dir(guest); d != "/"; d = path.Dir(d) {
		if _, ok := fs.entries[d]; !ok {
			fs.entries[d] = &entry{mode: cpio.TypeDir | 0o755}
		}
	}
	fs.entries[guest] = e
}

// Has reports whether the image holds an entry at guest.
func (fs *Initramfs) Has(guest string) bool {
	_, ok := fs.entries[clean(guest)]
	return ok
}

// Dir adds a directory.
func (fs *Initramfs) Dir(guest string, perm os.FileMode) {
	fs.put(guest, &entry{mode: cpio.TypeDir | cpio.FileMode(perm.Perm())})
}

// Bytes adds a regular file with the given contents.
func (fs *Initramfs) Bytes(guest string, data []byte, perm os.FileMode) {
	fs.put(guest, &entry{mode: cpio.TypeReg | cpio.FileMode(perm.Perm()), data: data})
}

// Symlink adds a symbolic link.
func (fs *Initramfs) Symlink(guest, target string) {
	fs.put(guest, &entry{mode: cpio.TypeSymlink | 0o777, data: []byte(target)})
}

// File adds the host file host at guest, keeping its permission bits; the
// contents are read when the image is written. A symlink is followed.
func (fs *Initramfs) File(guest, host string) error {
	st, err := os.Stat(host)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", host)
	}
	fs.put(guest, &entry{mode: cpio.TypeReg | cpio.FileMode(st.Mode().Perm()), host: host})
	return nil
}

// HostPath adds a host file at the same path in the guest, with every
// symlink on the way (so /bin/sh -> dash and a merged /usr look the same
// inside), and returns the resolved host path of the file itself.
func (fs *Initramfs) HostPath(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	for range 40 {
		// Resolve the directory part, recording every symlink met.
		dir, base := filepath.Split(p)
		realDir, err := fs.linkDirs(filepath.Clean(dir))
		if err != nil {
			return "", err
		}
		p = filepath.Join(realDir, base)
		st, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		if st.Mode()&os.ModeSymlink == 0 {
			return p, fs.File(p, p)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		fs.Symlink(p, target)
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = target
	}
	return "", fmt.Errorf("%s: too many symbolic links", p)
}

// linkDirs resolves a directory's symlinks component by component, adding
// each link to the image, and returns the real directory.
func (fs *Initramfs) linkDirs(dir string) (string, error) {
	if dir == "/" {
		return dir, nil
	}
	parent, err := fs.linkDirs(filepath.Dir(dir))
	if err != nil {
		return "", err
	}
	p := filepath.Join(parent, filepath.Base(dir))
	st, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if st.Mode()&os.ModeSymlink == 0 {
		return p, nil
	}
	target, err := os.Readlink(p)
	if err != nil {
		return "", err
	}
	fs.Symlink(p, target)
	if !filepath.IsAbs(target) {
		target = filepath.Join(parent, target)
	}
	return fs.linkDirs(filepath.Clean(target))
}

// Program adds an executable at its host path with the shared libraries
// and the program interpreter its ELF headers name (none for a static
// binary or a script).
func (fs *Initramfs) Program(p string) error {
	real, err := fs.HostPath(p)
	if err != nil {
		return err
	}
	libs, err := Libraries(real)
	if err != nil {
		return err
	}
	for _, l := range libs {
		if _, err := fs.HostPath(l); err != nil {
			return err
		}
	}
	return nil
}

// Paths lists the image's entries, sorted (parents before children).
func (fs *Initramfs) Paths() []string {
	var ps []string
	for p := range fs.entries {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// WriteTo writes the image as a newc cpio archive.
func (fs *Initramfs) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	cpw := cpio.NewWriter(cw)
	for _, p := range fs.Paths() {
		e := fs.entries[p]
		data := e.data
		if e.host != "" {
			var err error
			if data, err = os.ReadFile(e.host); err != nil {
				return cw.n, err
			}
		}
		hdr := &cpio.Header{Name: strings.TrimPrefix(p, "/"), Mode: e.mode}
		switch e.mode & cpio.ModeType {
		case cpio.TypeReg:
			hdr.Size = int64(len(data))
		case cpio.TypeSymlink:
			hdr.Linkname = string(data)
			hdr.Size = int64(len(data))
		}
		if err := cpw.WriteHeader(hdr); err != nil {
			return cw.n, err
		}
		if len(data) > 0 {
			if _, err := cpw.Write(data); err != nil {
				return cw.n, err
			}
		}
	}
	err := cpw.Close()
	return cw.n, err
}

// Archive returns the archive in memory.
func (fs *Initramfs) Archive() ([]byte, error) {
	var b bytes.Buffer
	_, err := fs.WriteTo(&b)
	return b.Bytes(), err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
