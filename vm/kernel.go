package vm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Kernel is a bootable x86 kernel image (bzImage) and where its modules are.
type Kernel struct {
	Image   string // the image file
	Version string // the release from the image's header ("6.1.0-48-cloud-amd64")
	Modules string // lib/modules/VERSION beside the image's boot/ directory, or --modules
}

// bzImage setup header fields (Documentation/arch/x86/boot.rst).
const (
	setupMagicOff   = 0x202 // "HdrS"
	kernelVerPtrOff = 0x20e // offset of the version string, minus 0x200
)

// OpenKernel checks that path is an x86 boot image and reads its version.
// modules, when not empty, overrides where the modules are; otherwise an
// extracted Debian package layout (DIR/boot/vmlinuz-V with
// DIR/lib/modules/V) is assumed, and the host's /lib/modules/V for an image
// under /boot.
func OpenKernel(path, modules string) (*Kernel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hdr := make([]byte, 0x1000)
	n, err := io.ReadFull(f, hdr)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	hdr = hdr[:n]
	if n < 0x210 || string(hdr[setupMagicOff:setupMagicOff+4]) != "HdrS" {
		return nil, fmt.Errorf("%s: not a Linux x86 kernel image (no bzImage setup header)", path)
	}
	k := &Kernel{Image: path}
	if ptr := int(binary.LittleEndian.Uint16(hdr[kernelVerPtrOff:])); ptr != 0 {
		off := ptr + 0x200
		buf := make([]byte, 256)
		if _, err := f.ReadAt(buf, int64(off)); err == nil || err == io.EOF {
			if i := bytes.IndexByte(buf, 0); i >= 0 {
				buf = buf[:i]
			}
			k.Version, _, _ = strings.Cut(string(buf), " ")
		}
	}
	k.Modules = modules
	if k.Modules == "" && k.Version != "" {
		root := filepath.Dir(filepath.Dir(path))
		k.Modules = filepath.Join(root, "lib", "modules", k.Version)
	}
	return k, nil
}

// Name is a short label for reports: the version, or the file name.
func (k *Kernel) Name() string {
	if k.Version != "" {
		return k.Version
	}
	return filepath.Base(k.Image)
}
