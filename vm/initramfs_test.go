package vm

import (
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cavaliergopher/cpio"
)

// readBack reads an archive into path -> header (+ contents).
func readBack(t *testing.T, data []byte) (map[string]*cpio.Header, map[string][]byte) {
	t.Helper()
	hdrs, files := map[string]*cpio.Header{}, map[string][]byte{}
	r := cpio.NewReader(bytes.NewReader(data))
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		hdrs["/"+h.Name], files["/"+h.Name] = h, b
	}
	return hdrs, files
}

func TestInitramfsFilesModesLinks(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "run.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o750)
	os.Symlink("run.sh", filepath.Join(dir, "alias"))
	fs := NewInitramfs()
	fs.Bytes("/etc/motd", []byte("hello"), 0o600)
	fs.Dir("/proc", 0o555)
	if _, err := fs.HostPath(filepath.Join(dir, "alias")); err != nil {
		t.Fatal(err)
	}
	data, err := fs.Archive()
	if err != nil {
		t.Fatal(err)
	}
	hdrs, files := readBack(t, data)
	check := func(p string, mode cpio.FileMode) {
		t.Helper()
		h, ok := hdrs[p]
		if !ok {
			t.Fatalf("%s missing; archive has %v", p, fs.Paths())
		}
		if h.Mode != mode {
			t.Errorf("%s: mode %o, want %o", p, h.Mode, mode)
		}
	}
	check("/etc", cpio.TypeDir|0o755)
	check("/etc/motd", cpio.TypeReg|0o600)
	check("/proc", cpio.TypeDir|0o555)
	check(script, cpio.TypeReg|0o750)
	check(filepath.Join(dir, "alias"), cpio.TypeSymlink|0o777)
	if string(files["/etc/motd"]) != "hello" {
		t.Errorf("motd: %q", files["/etc/motd"])
	}
	if string(files[script]) != "#!/bin/sh\necho hi\n" {
		t.Errorf("script contents: %q", files[script])
	}
	if h := hdrs[filepath.Join(dir, "alias")]; h.Linkname != "run.sh" {
		t.Errorf("link target %q", h.Linkname)
	}
	// Parents come before children, so the kernel can create them in order.
	seen := map[string]bool{}
	r := cpio.NewReader(bytes.NewReader(data))
	for {
		h, err := r.Next()
		if err != nil {
			break
		}
		p := "/" + h.Name
		if d := filepath.Dir(p); d != "/" && !seen[d] {
			t.Errorf("%s before its directory %s", p, d)
		}
		seen[p] = true
	}
}

// TestProgramLibraries puts a dynamic host program in with its loader and
// libraries, and checks them against the program's own ELF headers.
func TestProgramLibraries(t *testing.T) {
	sh, err := exec.LookPath("ls")
	if err != nil {
		t.Skip("no ls on this machine")
	}
	real, _ := filepath.EvalSymlinks(sh)
	f, err := elf.Open(real)
	if err != nil {
		t.Skip("ls is not ELF here")
	}
	needed, _ := f.DynString(elf.DT_NEEDED)
	f.Close()
	if len(needed) == 0 {
		t.Skip("ls is static here")
	}
	fs := NewInitramfs()
	if err := fs.Program(sh); err != nil {
		t.Fatal(err)
	}
	data, err := fs.Archive()
	if err != nil {
		t.Fatal(err)
	}
	hdrs, _ := readBack(t, data)
	if _, ok := hdrs[real]; !ok {
		t.Fatalf("program %s missing", real)
	}
	names := map[string]bool{}
	for p := range hdrs {
		names[filepath.Base(p)] = true
	}
	for _, n := range needed {
		if !names[n] {
			t.Errorf("needed library %s missing from the image", n)
		}
	}
	if !names["ld-linux-x86-64.so.2"] {
		t.Errorf("program interpreter missing")
	}
	// Every library is a regular file or a link that resolves in the image.
	libs, _ := Libraries(real)
	for _, l := range libs {
		realLib, _ := filepath.EvalSymlinks(l)
		if h, ok := hdrs[realLib]; !ok || !h.Mode.IsRegular() {
			t.Errorf("library %s (%s) not in the image as a file", l, realLib)
		}
		for d := filepath.Dir(l); d != "/"; d = filepath.Dir(d) {
			if st, err := os.Lstat(d); err == nil && st.Mode()&os.ModeSymlink != 0 {
				if h, ok := hdrs[d]; !ok || h.Mode&cpio.ModeType != cpio.TypeSymlink {
					t.Errorf("directory link %s (on the way to %s) not in the image", d, l)
				}
			}
		}
	}
}

func TestLibrariesOfScriptAndStatic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.sh")
	os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
	libs, err := Libraries(p)
	if err != nil || len(libs) != 0 {
		t.Errorf("script: %v %v", libs, err)
	}
}

// buildModule writes a minimal relocatable ELF with a .modinfo section, as
// a kernel module is, compressed with xz when name ends in .xz.
func buildModule(t *testing.T, dir, name, depends string) {
	t.Helper()
	if _, err := exec.LookPath("as"); err != nil {
		t.Skip("no assembler (binutils) to make test modules")
	}
	src := filepath.Join(t.TempDir(), "m.s")
	info := "name=" + ModuleName(name) + "\\0depends=" + depends + "\\0license=GPL\\0"
	os.WriteFile(src, []byte(".section .modinfo,\"a\"\n.ascii \""+info+"\"\n"), 0o644)
	obj := filepath.Join(dir, strings.TrimSuffix(name, ".xz"))
	if out, err := exec.Command("as", "-o", obj, src).CombinedOutput(); err != nil {
		t.Fatalf("as: %v %s", err, out)
	}
	if strings.HasSuffix(name, ".xz") {
		if out, err := exec.Command("xz", "-f", obj).CombinedOutput(); err != nil {
			t.Skipf("xz: %v %s", err, out)
		}
	}
}

func TestModuleOrder(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "kernel/net"), 0o755)
	buildModule(t, dir, "kernel/net/tcp_diag.ko", "inet_diag")
	buildModule(t, dir, "kernel/net/inet_diag.ko", "")
	buildModule(t, dir, "kernel/net/sch-netem.ko.xz", "")
	buildModule(t, dir, "kernel/net/top.ko", "tcp_diag,sch_netem,inet_diag")
	os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/net/ipv6/ipv6.ko\n"), 0o644)
	m, err := OpenModules(dir)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := m.Resolve([]string{"top", "ipv6", "inet-diag"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range mods {
		got = append(got, x.Name)
		if f, err := elf.NewFile(bytes.NewReader(x.Data)); err != nil {
			t.Errorf("%s: not decompressed to ELF: %v", x.Name, err)
		} else {
			f.Close()
		}
	}
	if want := "inet_diag tcp_diag sch_netem top"; strings.Join(got, " ") != want {
		t.Errorf("load order %q, want %q", strings.Join(got, " "), want)
	}
	if !m.Builtin("ipv6") {
		t.Errorf("ipv6 should be built in")
	}
	if _, err := m.Resolve([]string{"nosuch"}); err == nil || !strings.Contains(err.Error(), "nosuch not found") {
		t.Errorf("missing module: %v", err)
	}
	buildModule(t, dir, "kernel/net/broken.ko", "absent")
	m, _ = OpenModules(dir)
	if _, err := m.Resolve([]string{"broken"}); err == nil || !strings.Contains(err.Error(), "absent (needed by broken)") {
		t.Errorf("missing dependency: %v", err)
	}
}

func TestOpenKernelRejectsNonImage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vmlinuz")
	os.WriteFile(p, bytes.Repeat([]byte("x"), 4096), 0o644)
	if _, err := OpenKernel(p, ""); err == nil || !strings.Contains(err.Error(), "not a Linux x86 kernel image") {
		t.Errorf("got %v", err)
	}
	// A minimal setup header: magic and a version string.
	img := make([]byte, 0x1000)
	copy(img[setupMagicOff:], "HdrS")
	img[kernelVerPtrOff] = 0x00
	img[kernelVerPtrOff+1] = 0x02 // version at 0x200+0x200
	copy(img[0x400:], "6.99.0-test (builder@host) #1\x00")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "boot"), 0o755)
	p = filepath.Join(root, "boot", "vmlinuz-6.99.0-test")
	os.WriteFile(p, img, 0o644)
	k, err := OpenKernel(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if k.Version != "6.99.0-test" || k.Modules != filepath.Join(root, "lib/modules/6.99.0-test") {
		t.Errorf("got %+v", k)
	}
}

func TestFramesSurviveNoise(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("[    1.0] tun: Universal TUN/TAP device driver\n")
	WriteFrame(&b, map[string]int{"a": 1})
	b.WriteString("[    2.0] WARNING: something\n")
	// A kernel line spliced into a frame is detected, not misread.
	var spliced bytes.Buffer
	WriteFrame(&spliced, map[string]int{"b": 2})
	s := spliced.String()
	b.WriteString(s[:20] + "[ 3.0] noise" + s[20:])
	WriteFrame(&b, map[string]int{"c": 3})
	var noise []string
	fr := NewFrameReader(&b)
	fr.Noise = func(l string) { noise = append(noise, l) }
	var v map[string]int
	if err := fr.Read(&v); err != nil || v["a"] != 1 {
		t.Fatalf("first frame: %v %v", v, err)
	}
	if err := fr.Read(&v); err == nil {
		t.Fatalf("spliced frame read as %v", v)
	}
	v = nil
	if err := fr.Read(&v); err != nil || v["c"] != 3 {
		t.Fatalf("third frame: %v %v", v, err)
	}
	if len(noise) != 2 || !strings.Contains(noise[1], "WARNING") {
		t.Errorf("noise lines: %q", noise)
	}
	if err := fr.Read(&v); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

func TestConsoleLinesWithoutTerminalCodes(t *testing.T) {
	r := &lineRing{max: 10}
	r.fill(strings.NewReader("Probing EDD (edd=off to disable)... ok\r\n\x1bc\x1b[?7l\x1b[2J[    0.0] Linux\n"))
	got := strings.Join(r.lines(), "|")
	if want := "Probing EDD (edd=off to disable)... ok|[    0.0] Linux"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
