package drill

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/godrill/godrill/vm"
)

// vmTools are the host programs a script's shell commands commonly call;
// each goes into the guest with its libraries when the host has it.
var vmTools = []string{
	"sh", "bash", "ss", "ip", "tc", "sysctl", "nstat", "ethtool", "sleep", "grep", "egrep", "cat",
	"echo", "printf", "true", "false", "test", "[", "sed", "awk", "head", "tail", "wc", "cut", "tr",
	"sort", "uniq", "ls", "env", "expr", "seq", "timeout", "kill", "mkdir", "rm", "cp", "mv", "ps",
	"date", "tee", "xargs", "basename", "dirname", "readlink", "stat", "touch", "chmod", "ln",
	"uname", "find", "diff", "od", "id", "nproc", "unshare", "nsenter", "ifconfig", "route", "netstat",
}

// vmModules are the modules scripts need when the kernel does not have
// them built in: required ones (the TUN device, sock_diag for ss and the
// state observer) and optional ones (qdiscs, congestion controls, UDP and
// raw diag) added when the kernel's tree has them.
var (
	vmRequiredModules = []string{"tun", "inet_diag", "tcp_diag"}
	vmOptionalModules = []string{"ipv6", "udp_diag", "raw_diag", "sch_fq", "sch_netem", "sch_tbf",
		"sch_prio", "sch_htb", "sch_ingress", "tcp_bbr", "tcp_cubic", "tcp_dctcp", "tcp_vegas", "veth"}
)

// vmEtc are small host files programs read (the loader's cache, protocol
// and service names).
var vmEtc = []string{"/etc/ld.so.cache", "/etc/protocols", "/etc/services", "/etc/nsswitch.conf",
	"/etc/passwd", "/etc/group"}

// maxBesideFile bounds a file copied from a script's directory.
const maxBesideFile = 4 << 20

// buildInitramfs makes a kernel's guest image: this godrill as init, the
// tools, the modules, the scripts the jobs run and the files beside them,
// and first, when given, at vmFirstRequest. It returns the archive and the
// init's path inside.
func buildInitramfs(k *vm.Kernel, inv *Invocation, jobs []job, first []byte) ([]byte, string, error) {
	fs := vm.NewInitramfs()
	for _, d := range []string{"/dev", "/proc", "/sys", "/tmp", "/run", "/root", "/var/tmp"} {
		fs.Dir(d, 0o755)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	if err := fs.Program(exe); err != nil {
		return nil, "", fmt.Errorf("agent: %v", err)
	}
	for _, t := range append(append([]string(nil), vmTools...), scriptCommands(jobs)...) {
		if p, err := exec.LookPath(t); err == nil && !fs.Has(p) {
			if err := fs.Program(p); err != nil {
				return nil, "", fmt.Errorf("tool %s: %v", t, err)
			}
		}
	}
	for _, e := range vmEtc {
		if _, err := os.Stat(e); err == nil {
			fs.File(e, e)
		}
	}
	if err := addModules(fs, k); err != nil {
		return nil, "", err
	}
	if err := addScripts(fs, inv, jobs); err != nil {
		return nil, "", err
	}
	if first != nil {
		fs.Bytes(vmFirstRequest, first, 0o644)
	}
	if inv.vmExtra != nil {
		if err := inv.vmExtra(fs); err != nil {
			return nil, "", err
		}
	}
	data, err := fs.Archive()
	return data, exe, err
}

// addModules puts the modules the kernel lacks into vm.ModuleDir, in load
// order.
func addModules(fs *vm.Initramfs, k *vm.Kernel) error {
	if st, err := os.Stat(k.Modules); err != nil || !st.IsDir() {
		return fmt.Errorf("kernel %s: no module tree at %s (give --modules DIR)", k.Image, k.Modules)
	}
	mods, err := vm.OpenModules(k.Modules)
	if err != nil {
		return err
	}
	names := append([]string(nil), vmRequiredModules...)
	for _, n := range vmOptionalModules {
		if mods.Has(n) {
			names = append(names, n)
		}
	}
	order, err := mods.Resolve(names)
	if err != nil {
		return fmt.Errorf("kernel %s: %v", k.Name(), err)
	}
	for i, m := range order {
		fs.Bytes(fmt.Sprintf("%s/%02d-%s.ko", vm.ModuleDir, i, m.Name), m.Data, 0o644)
	}
	return nil
}

// addScripts copies each script with the regular files beside it (helpers
// such as defaults.sh that scripts call), and --init_scripts, at their
// host paths.
func addScripts(fs *vm.Initramfs, inv *Invocation, jobs []job) error {
	dirs := map[string]bool{}
	for _, j := range jobs {
		if j.path == "" {
			continue // godrill vm: a command, no script
		}
		abs, err := filepath.Abs(j.path)
		if err != nil {
			return err
		}
		if _, err := fs.HostPath(abs); err != nil {
			return err
		}
		dirs[filepath.Dir(abs)] = true
	}
	for _, f := range inv.Flags {
		if f.Name == "init_scripts" {
			for _, s := range strings.Split(f.Value, ",") {
				if abs, err := filepath.Abs(s); err == nil {
					if err := fs.Program(abs); err != nil {
						return fmt.Errorf("--init_scripts: %v", err)
					}
				}
			}
		}
	}
	if wd, err := os.Getwd(); err == nil {
		fs.Dir(wd, 0o755)
	}
	for d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range ents {
			p := filepath.Join(d, e.Name())
			if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Size() <= maxBesideFile && !fs.Has(p) {
				fs.HostPath(p)
			}
		}
	}
	return nil
}

var backtick = regexp.MustCompile("`([^`]*)`")
var commandWord = regexp.MustCompile(`(?:^|[|;&(]|&&|\|\|)\s*([A-Za-z0-9_./-]+)`)

// scriptCommands lists the first words of the scripts' shell commands (and
// of the pipelines inside them): programs to look for on the host.
func scriptCommands(jobs []job) []string {
	seen := map[string]bool{}
	var out []string
	for _, j := range jobs {
		src, err := os.ReadFile(j.path)
		if err != nil {
			continue
		}
		for _, m := range backtick.FindAllStringSubmatch(string(src), -1) {
			for _, w := range commandWord.FindAllStringSubmatch(m[1], -1) {
				if name := w[1]; !seen[name] && !strings.HasPrefix(name, ".") {
					seen[name] = true
					out = append(out, name)
				}
			}
		}
	}
	return out
}
