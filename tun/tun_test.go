package tun

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestSetupRefusesOutsideSandbox(t *testing.T) {
	if Isolated() {
		t.Skip("inside a sandbox")
	}
	if _, err := Setup(DefaultConfig(IPv4)); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("Setup outside a sandbox: got %v, want a refusal", err)
	}
	// An inherited marker names this namespace: not isolated.
	t.Setenv(envSandbox, nsID("net")+" "+nsID("mnt"))
	if Isolated() {
		t.Fatalf("Isolated in the parent's own namespace")
	}
	// A forged marker passes Isolated, but Setup still sees that this
	// namespace is not fresh. Try that only where this namespace has a link
	// besides lo: on a host with nothing but lo the check could not tell.
	ifs, err := net.Interfaces()
	if err != nil || len(ifs) < 2 {
		t.Skipf("only lo here (%v): not trying a forged marker", err)
	}
	t.Setenv(envSandbox, "net:[1] mnt:[1]")
	if _, err := Setup(DefaultConfig(IPv4)); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("Setup with a forged marker: got %v, want a refusal", err)
	}
}

func TestDefaultConfigs(t *testing.T) {
	for _, v := range []IPVersion{IPv4, IPv6, IPv4MappedIPv6} {
		c := DefaultConfig(v)
		if err := c.check(); err != nil {
			t.Errorf("DefaultConfig(%v): %v", v, err)
		}
	}
}

// TestSetup checks the configured namespace: device flags, addresses,
// routes and qdisc as `ip` and `tc` see them from inside.
func TestSetup(t *testing.T) {
	for _, v := range []IPVersion{IPv4, IPv6, IPv4MappedIPv6} {
		t.Run(v.String(), func(t *testing.T) {
			if !sandboxed(t) {
				return
			}
			cfg := DefaultConfig(v)
			d, err := Setup(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			fam := "-4"
			if cfg.IPVersion.Wire() == IPv6 {
				fam = "-6"
			}
			for _, c := range []struct {
				cmd  []string
				want []string
			}{
				{[]string{"ip", "-d", "link", "show", "tun0"}, []string{"tun0:", "UP", "mtu " + strconv.Itoa(cfg.MTU), "qdisc pfifo", "tun type tun pi off vnet_hdr on"}},
				{[]string{"ip", fam, "addr", "show", "tun0"}, []string{cfg.LocalIP.String() + "/" + strconv.Itoa(cfg.PrefixLen)}},
				{[]string{"ip", fam, "route", "show", "dev", "tun0"}, []string{cfg.RemoteIP.String() + " via " + cfg.GatewayIP.String()}},
				{[]string{"ip", "-o", "link", "show", "lo"}, []string{"UP"}},
				{[]string{"ls", "/sys/class/net"}, []string{"tun0"}},
			} {
				out, err := exec.Command(c.cmd[0], c.cmd[1:]...).CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s", strings.Join(c.cmd, " "), err, out)
				}
				for _, w := range c.want {
					if !strings.Contains(string(out), w) {
						t.Errorf("%s: no %q in\n%s", strings.Join(c.cmd, " "), w, out)
					}
				}
			}
			if cfg.IPVersion.Wire() == IPv6 {
				if out, _ := exec.Command("ip", "-6", "addr", "show", "tun0").Output(); strings.Contains(string(out), "tentative") || strings.Contains(string(out), "fe80") {
					t.Errorf("IPv6 address not ready at once or link-local present:\n%s", out)
				}
			}
		})
	}
}

// handshake listens on local_ip:8080, injects a SYN from the remote side
// and returns the listener, the SYN and the SYN-ACK frame, checking on the
// way that the sniffer shows the injected SYN first, as incoming.
func handshake(t *testing.T, d *Device, sn *Sniffer) (ln net.Listener, syn segment, synack Frame) {
	t.Helper()
	cfg := d.Config()
	network := "tcp4"
	if cfg.IPVersion != IPv4 {
		network = "tcp6"
	}
	local := netip.AddrPortFrom(cfg.LocalIP, 8080)
	listenAddr := local.String()
	if cfg.IPVersion == IPv4MappedIPv6 {
		// A dual-stack AF_INET6 socket: it sees the IPv4 peer as
		// ::ffff:192.0.2.1.
		network, listenAddr = "tcp", "[::]:8080"
	}
	// Plain TCP, as in scripts: Go listeners default to MPTCP on Linux.
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	ln, err := lc.Listen(context.Background(), network, listenAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })

	syn = segment{
		src:    netip.AddrPortFrom(cfg.RemoteIP, 40000),
		dst:    local,
		seq:    1000,
		flags:  tcpSYN,
		window: 65535,
		// MSS 1460, NOP, window scale 7.
		options: []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7},
	}
	before := time.Now()
	if err := d.WritePacket(syn.marshal()); err != nil {
		t.Fatal(err)
	}
	in, err := sn.Next(time.Now().Add(2 * time.Second))
	if err != nil {
		t.Fatalf("sniffing the injected SYN: %v", err)
	}
	if in.Outgoing || string(in.Data) != string(syn.marshal()) {
		t.Fatalf("first frame: outgoing=%v % x, want the injected SYN", in.Outgoing, in.Data)
	}
	for {
		f, err := sn.Next(time.Now().Add(2 * time.Second))
		if err != nil {
			t.Fatalf("waiting for the SYN-ACK: %v", err)
		}
		after := time.Now()
		s, err := parseSegment(f.Data)
		if err != nil {
			t.Errorf("unexpected frame (outgoing=%v): %v: % x", f.Outgoing, err, f.Data)
			continue
		}
		t.Logf("sniffed %v (outgoing=%v, %d bytes, +%v after the write)", s, f.Outgoing, len(f.Data), f.Time.Sub(before))
		if !f.Outgoing || s.flags != tcpSYN|tcpACK {
			t.Errorf("unexpected frame %v outgoing=%v", s, f.Outgoing)
			continue
		}
		if s.src != local || s.dst != syn.src || s.ack != syn.seq+1 {
			t.Errorf("SYN-ACK %v does not answer %v", s, syn)
		}
		if f.Time.Before(in.Time) || f.Time.Before(before) || f.Time.After(after) {
			t.Errorf("SYN-ACK stamped %v, want between the SYN's stamp %v / the write %v and its reading %v", f.Time, in.Time, before, after)
		}
		return ln, syn, f
	}
}

// TestSYNACK injects a SYN into tun0 and expects the kernel's SYN-ACK on
// the sniffer, outgoing and stamped by the kernel.
func TestSYNACK(t *testing.T) {
	for _, v := range []IPVersion{IPv4, IPv6, IPv4MappedIPv6} {
		t.Run(v.String(), func(t *testing.T) {
			if !sandboxed(t) {
				return
			}
			d, err := Setup(DefaultConfig(v))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			sn, err := d.Sniff()
			if err != nil {
				t.Fatal(err)
			}
			defer sn.Close()
			handshake(t, d, sn)
			// Nothing else goes out: no IPv6 router solicitations or MLD
			// reports for a script to trip over.
			if f, err := sn.Next(time.Now().Add(300 * time.Millisecond)); !errors.Is(err, ErrTimeout) {
				t.Errorf("after the SYN-ACK: got %v (outgoing=%v, % x), want a timeout", err, f.Outgoing, f.Data)
			}
		})
	}
}

// TestManualDrain checks that with ManualDrain the SYN-ACK waits in the
// device queue until Discard, as with packetdrill.
func TestManualDrain(t *testing.T) {
	if !sandboxed(t) {
		return
	}
	cfg := DefaultConfig(IPv4)
	cfg.ManualDrain = true
	d, err := Setup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sn, err := d.Sniff()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	handshake(t, d, sn)
	if n, err := d.Discard(2); n != 1 || err != nil {
		t.Fatalf("Discard(2) = %d, %v; want the SYN-ACK only", n, err)
	}
}

// TestTSO sends 100 kB from an accepted connection and expects the sniffer
// to show TSO packets longer than the MTU when offloads are on, and none
// when they are off.
func TestTSO(t *testing.T) {
	for _, offloads := range []bool{true, false} {
		name := "offloads"
		if !offloads {
			name = "no-offloads"
		}
		t.Run(name, func(t *testing.T) {
			if !sandboxed(t) {
				return
			}
			cfg := DefaultConfig(IPv4)
			cfg.Offloads = offloads
			d, err := Setup(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			sn, err := d.Sniff()
			if err != nil {
				t.Fatal(err)
			}
			defer sn.Close()
			ln, syn, f := handshake(t, d, sn)
			synack, _ := parseSegment(f.Data)
			ack := segment{src: syn.src, dst: syn.dst, seq: syn.seq + 1, ack: synack.seq + 1, flags: tcpACK, window: 65535}
			if err := d.WritePacket(ack.marshal()); err != nil {
				t.Fatal(err)
			}
			conn, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Nothing will acknowledge the data: write without waiting.
			go conn.Write(make([]byte, 100000))
			largest, partial, sent := 0, false, 0
			for sent < 10*1460 {
				f, err := sn.Next(time.Now().Add(time.Second))
				if err != nil {
					t.Fatalf("after %d bytes: %v", sent, err)
				}
				s, err := parseSegment(f.Data)
				if err != nil || !f.Outgoing {
					continue
				}
				sent += len(s.payload)
				largest = max(largest, len(f.Data))
				partial = partial || f.PartialChecksum
			}
			t.Logf("initial window sent; largest packet %d bytes, partial checksums %v", largest, partial)
			if offloads && (largest <= cfg.MTU || !partial) {
				t.Errorf("with offloads: largest packet %d bytes, partial checksum %v; want a TSO packet > MTU %d with a partial checksum", largest, partial, cfg.MTU)
			}
			if !offloads && largest > cfg.MTU {
				t.Errorf("without offloads: packet of %d bytes > MTU %d", largest, cfg.MTU)
			}
		})
	}
}

// hostState describes the network namespace of the test as `ip` shows it,
// without counters or lifetimes.
func hostState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{
		{"netns", "list"},
		{"-o", "link", "show"},
		{"-o", "link", "show", "type", "tun"},
		{"-o", "addr", "show"},
		{"route", "show", "table", "all"},
		{"-6", "route", "show", "table", "all"},
	} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		b.WriteString("$ ip " + strings.Join(args, " ") + "\n")
		for line := range strings.Lines(string(out)) {
			if i := strings.Index(line, "valid_lft"); i >= 0 {
				line = line[:i] + "\n"
			}
			b.WriteString(line)
		}
	}
	return b.String()
}

// pidsInNetns returns the processes whose network namespace is ns.
func pidsInNetns(ns string) []string {
	var pids []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		if l, err := os.Readlink(dir + "/ns/net"); err == nil && l == ns {
			pids = append(pids, filepath.Base(dir))
		}
	}
	return pids
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestNoLeak starts a sandbox that sets up tun0 (and a `sleep` of its own)
// and waits; then ends it in several ways and checks that nothing is left:
// no process in its namespace, and the host's namespaces, links, addresses
// and routes exactly as before, also while the sandbox was up.
func TestNoLeak(t *testing.T) {
	requireRoot(t)
	if Isolated() {
		t.Skip("inside a sandbox")
	}
	for _, tc := range []struct {
		name string
		sig  unix.Signal
		// killParent kills an intermediate process that started the sandbox,
		// instead of the sandbox itself.
		killParent bool
		cancel     bool
	}{
		{name: "sigkill-child", sig: unix.SIGKILL},
		{name: "sigterm-child", sig: unix.SIGTERM},
		{name: "sigint-child", sig: unix.SIGINT},
		{name: "sigkill-parent", sig: unix.SIGKILL, killParent: true},
		{name: "sigterm-parent", sig: unix.SIGTERM, killParent: true},
		{name: "cancel", cancel: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hostState(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cmd *exec.Cmd
			if tc.killParent {
				cmd = exec.CommandContext(ctx, "/proc/self/exe", "-test.run=^$")
				cmd.Env = append(os.Environ(), envTestMode+"="+modeParent)
			} else {
				cmd = sandboxMode(ctx, modeSleep)
			}
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := Start(cmd); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatalf("sandbox did not get ready: %v", err)
			}
			pid := cmd.Process.Pid
			if tc.killParent {
				f := strings.Fields(line)
				if len(f) != 2 {
					t.Fatalf("parent said %q", line)
				}
				if pid, err = strconv.Atoi(f[1]); err != nil {
					t.Fatalf("parent said %q", line)
				}
			}
			ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
			if err != nil {
				t.Fatal(err)
			}
			if ns == nsID("net") {
				t.Fatalf("sandbox %d shares our network namespace %s", pid, ns)
			}
			inside := pidsInNetns(ns)
			if len(inside) < 2 {
				t.Errorf("processes in the sandbox: %v, want it and its sleep", inside)
			}
			if during := hostState(t); during != before {
				t.Errorf("host changed while the sandbox was up:\nbefore:\n%s\nduring:\n%s", before, during)
			}

			switch {
			case tc.cancel:
				cancel()
			default:
				if err := cmd.Process.Signal(tc.sig); err != nil {
					t.Fatal(err)
				}
			}
			werr := cmd.Wait()
			t.Logf("killed process %d exited: %v", cmd.Process.Pid, werr)

			deadline := time.Now().Add(5 * time.Second)
			for alive(pid) || len(pidsInNetns(ns)) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("after 5s: sandbox %d alive=%v, processes in its namespace: %v", pid, alive(pid), pidsInNetns(ns))
				}
				time.Sleep(10 * time.Millisecond)
			}
			if after := hostState(t); after != before {
				t.Errorf("host changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestSnifferCloseEndsNext: Close ends a Next that waits without a
// deadline, with an error matching os.ErrClosed.
func TestSnifferCloseEndsNext(t *testing.T) {
	if !sandboxed(t) {
		return
	}
	d, err := Setup(DefaultConfig(IPv4))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sn, err := d.Sniff()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := sn.Next(time.Time{})
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	sn.Close()
	select {
	case err := <-got:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Next after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next still waits after Close")
	}
}
