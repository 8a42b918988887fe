package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/godrill/godrill/parser"
	"github.com/godrill/godrill/runtime"
	"github.com/godrill/godrill/wire"
)

// wireMode reads the wire-mode flags of a command line.
func wireMode(inv *Invocation) runtime.WireConfig {
	cfg := runtime.DefaultConfig(runtime.IPv4)
	for _, f := range inv.Flags {
		cfg.Set(f.Name, f.Value, true)
	}
	return cfg.Wire
}

// referenceArgs is the command line a wire server is sent: the reference's
// flags only (godrill's own would make a reference server give up), in
// the form its getopt reads, then the script.
func referenceArgs(inv *Invocation, path string) []string {
	args := []string{"packetdrill"}
	for _, f := range inv.Flags {
		switch {
		case f.Name == "v" || f.Name == "verbose":
			args = append(args, "--verbose")
		case !runtime.FlagTakesValue(f.Name):
			args = append(args, "--"+f.Name)
		case f.Name == "syscall_timeout" || f.Name == "command_timeout":
			// godrill's own; the server runs no system calls or commands.
		default:
			args = append(args, "--"+f.Name+"="+f.Value)
		}
	}
	return append(args, path)
}

// wireClientMain runs one script as a wire client: its system calls,
// commands and code here, in this network namespace on the real device
// --wire_client_dev; its packets on the wire server. Like the reference it
// configures that device (the local address, a route to the remote
// address via the gateway), so run it in a namespace or on a machine made
// for the test.
func wireClientMain(inv *Invocation, stdout, stderr io.Writer) int {
	if len(inv.Files) == 0 {
		fmt.Fprintln(stderr, "error: missing script path")
		return runtime.ExitKernel
	}
	// Each script in turn, each on its own control connection; the first
	// failure ends the run, as the reference's die() does.
	for _, path := range inv.Files {
		if code := wireClientRun(inv, path, stdout, stderr); code != 0 {
			return code
		}
	}
	return runtime.ExitPass
}

func wireClientRun(inv *Invocation, path string, stdout, stderr io.Writer) int {
	script, cfg, code := loadScript(path, inv, stderr)
	if code != 0 {
		return code
	}
	if cfg.DryRun {
		return runtime.ExitPass
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, format+"\n", args...)
		return runtime.ExitKernel // the reference dies, exit 1
	}
	w := cfg.Wire
	if w.ServerAt == "" {
		return fail("when using --wire_client, must specify --wire_server_at or --wire_server_ip")
	}
	if w.ClientDev == "" {
		return fail("please specify --wire_client_dev=<eth_dev_name>")
	}
	server, err := resolveServer(w.ServerAt)
	if err != nil {
		return fail("bad wire_server_ip: %s: %v", w.ServerAt, err)
	}
	// The reference's wire-client defaults: the server's address stands
	// for the gateway and the scripted peer unless they are given.
	if !cfg.IsSet("gateway_ip") && server.Is4() == cfg.GatewayIP.Is4() {
		cfg.GatewayIP = server
	}
	if !cfg.IsSet("remote_ip") && server.Is4() == cfg.RemoteIP.Is4() {
		cfg.RemoteIP = server
	}
	if wire.IsLocal(cfg.RemoteIP) {
		return fail("error: live_remote_ip %s is not remote", cfg.RemoteIP)
	}
	if _, err := wire.EnsureAddr(w.ClientDev, cfg.LocalIP, cfg.PrefixLen); err != nil {
		return fail("godrill: %v", err)
	}
	if err := wire.RouteVia(w.ClientDev, netip.PrefixFrom(cfg.RemoteIP.Unmap(), cfg.RemoteIP.Unmap().BitLen()), cfg.GatewayIP); err != nil {
		return fail("godrill: %v", err)
	}
	mac, err := wire.HardwareAddr(w.ClientDev)
	if err != nil {
		return fail("godrill: %v", err)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return fail("godrill: %v", err)
	}
	addr := net.JoinHostPort(server.String(), strconv.Itoa(int(w.ServerPort)))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return fail("error connecting to wire server at %s: %v", addr, err)
	}
	fc, err := wire.NewFDConn(nc)
	nc.Close()
	if err != nil {
		return fail("godrill: %v", err)
	}
	defer fc.Close()
	conn := wire.NewConn(fc)
	hello := &wire.Hello{
		Args: referenceArgs(inv, path), ScriptPath: path, Script: src, HardwareAddr: mac,
		LocalIP: cfg.LocalIP.String(), RemoteIP: cfg.RemoteIP.String(),
	}
	if err := conn.SendHello(hello); err != nil {
		return fail("error in TCP connection to wire server: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	stopShutdown := context.AfterFunc(ctx, func() { fc.Shutdown() })
	defer stopShutdown()
	link := wire.NewClientLink(conn, stderr)
	// Against the reference server's reset at the end of its run, which
	// would kill a connection the script still checks (wire.ResetGuard);
	// taken away however the run ends (a signal cancels ctx, which ends
	// the run and comes back here).
	guard := wire.NewResetGuard(w.ClientDev, cfg.RemoteIP)
	defer func() {
		if err := guard.Remove(); err != nil {
			fmt.Fprintf(stderr, "godrill: %v\n", err)
		}
	}()
	link.GuardTail(script.Events, guard)
	// As before runtime.Run took these as options: the reference's
	// PACKETDRILL_PID for the commands, and real-time threads.
	env := append(os.Environ(), "PACKETDRILL_PID="+strconv.Itoa(os.Getpid()))
	err = runtime.Run(ctx, script, runtime.Options{Config: cfg, Stdout: stdout, Stderr: stderr, Wire: link, Env: env, Realtime: true})
	if msg := link.ServerReport(); msg != "" {
		fmt.Fprint(stderr, msg) // the server's words, as the reference client prints them
		return runtime.ExitKernel
	}
	return report(err, script, stderr)
}

// resolveServer reads --wire_server_ip/--wire_server_at: an address or a
// host name.
func resolveServer(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), nil
	}
	ips, err := net.LookupIP(s)
	if err != nil || len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("cannot resolve %q", s)
	}
	a, _ := netip.AddrFromSlice(ips[0])
	return a.Unmap(), nil
}

// wireServerMain is the wire server: it listens on --wire_server_port and
// runs the packet events of each client's script on --wire_server_dev, one
// client at a time, until it is stopped. Like the reference it puts the
// gateway address on that device for the length of a run, so run it in a
// namespace or on a machine made for the test.
func wireServerMain(inv *Invocation, stdout, stderr io.Writer) int {
	if len(inv.Files) != 0 {
		fmt.Fprintln(stderr, "error: do not pass script paths to the wire server on command line")
		return runtime.ExitKernel
	}
	w := wireMode(inv)
	if w.ServerDev == "" {
		fmt.Fprintln(stderr, "please specify --wire_server_dev=<eth_dev_name>")
		return runtime.ExitKernel
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(int(w.ServerPort))))
	if err != nil {
		fmt.Fprintf(stderr, "godrill: %v\n", err)
		return runtime.ExitSetup
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return runtime.ExitPass
			}
			fmt.Fprintf(stderr, "godrill: accept: %v\n", err)
			return runtime.ExitSetup
		}
		if err := serveWireClient(ctx, nc, w.ServerDev, stdout); err != nil {
			fmt.Fprintln(stderr, strings.TrimRight(err.Error(), "\n"))
		}
		nc.Close()
	}
}

// serveWireClient runs one client's script on the server side.
func serveWireClient(ctx context.Context, nc net.Conn, dev string, stdout io.Writer) error {
	fc, err := wire.NewFDConn(nc)
	if err != nil {
		return err
	}
	defer fc.Close()
	stopShutdown := context.AfterFunc(ctx, func() { fc.Shutdown() })
	defer stopShutdown()
	conn := wire.NewConn(fc)
	hello, err := conn.ReceiveHello()
	if err != nil {
		return err
	}
	script, cfg, err := serverConfig(hello)
	if err != nil {
		return err
	}
	if !wire.IsLocal(cfg.GatewayIP) {
		added, err := wire.EnsureAddr(dev, cfg.GatewayIP, cfg.PrefixLen)
		if err != nil {
			return err
		}
		if added {
			defer wire.DelAddr(dev, cfg.GatewayIP, cfg.PrefixLen)
		}
	}
	undo, err := wire.Blackhole(cfg.RemoteIP)
	if err != nil {
		return err
	}
	defer undo()
	eth, err := wire.OpenEther(dev, hello.HardwareAddr, cfg.LocalIP)
	if err != nil {
		return err
	}
	defer eth.Close()
	if err := conn.Write(wire.OpServerReady, nil); err != nil {
		return err
	}
	link := wire.NewServerLink(conn)
	warn := warnWriter{link}
	err = runtime.Run(ctx, script, runtime.Options{Config: cfg, Net: eth, Wire: link, Stdout: stdout, Stderr: warn, Realtime: true})
	var f *runtime.Failure
	if errors.As(err, &f) && !link.Broken() {
		report := f.Report(script.Source)
		link.Fail(report)
		return errors.New(report)
	}
	return err
}

// serverConfig builds the server's configuration from a client's hello as
// the reference does: the client's command line (its wire-mode flags
// aside), the live addresses it sent, then the script's option lines.
func serverConfig(h *wire.Hello) (*parser.Script, *runtime.Config, error) {
	var args []string
	if len(h.Args) > 1 {
		args = h.Args[1:] // argv[0] is the client's program
	}
	inv, err := ParseArgs(args)
	if err != nil {
		return nil, nil, fmt.Errorf("bad wire client arguments: %v", err)
	}
	cfg := runtime.DefaultConfig(runtime.IPv4)
	for _, f := range inv.Flags {
		if err := cfg.Set(f.Name, f.Value, true); err != nil {
			return nil, nil, err
		}
	}
	for name, v := range map[string]string{"local_ip": h.LocalIP, "remote_ip": h.RemoteIP} {
		v, _, _ = strings.Cut(v, "/")
		if v == "" {
			continue
		}
		if err := cfg.Set(name, v, true); err != nil {
			return nil, nil, err
		}
	}
	script, err := parser.Parse(h.ScriptPath, h.Script, parser.Options{Defines: cfg.Defines})
	if err != nil {
		return nil, nil, errors.New(parser.FormatError(err))
	}
	for _, o := range script.Options {
		if err := cfg.Set(o.Name, o.Value, false); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", o.Pos, err)
		}
	}
	// The server runs the packet events and always merges segments
	// (run_packet.c ignores --strict_segments on a wire server).
	cfg.Wire = runtime.WireConfig{Server: true}
	cfg.StrictSegments = false
	if err := cfg.Check(); err != nil {
		return nil, nil, err
	}
	return script, cfg, nil
}

// warnWriter passes the runtime's packet warnings to the client.
type warnWriter struct{ link *wire.ServerLink }

func (w warnWriter) Write(p []byte) (int, error) {
	if err := w.link.Warn(string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
