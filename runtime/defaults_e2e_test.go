package runtime_test

import (
	"strings"
	"testing"

	"github.com/godrill/godrill/runtime"
)

// TestDefaultMTU: the device MTU is the reference's 1500 in every family
// unless --mtu says otherwise.
func TestDefaultMTU(t *testing.T) {
	for _, v := range []runtime.IPVersion{runtime.IPv4, runtime.IPv4MappedIPv6, runtime.IPv6} {
		if got := runtime.DefaultConfig(v).MTU; got != 1500 {
			t.Errorf("%v: default MTU %d, want 1500", v, got)
		}
		c := runtime.DefaultConfig(runtime.IPv4)
		if err := c.Set("ip_version", v.String(), true); err != nil {
			t.Fatal(err)
		}
		if c.MTU != 1500 {
			t.Errorf("after --ip_version=%v: MTU %d, want 1500", v, c.MTU)
		}
	}
}

// TestIPv6SynAckMSS runs an IPv6 script that checks the SYN-ACK's MSS
// (1440 under a 1500-byte MTU) with default flags, where the reference
// passes it, and with --mtu=1520, where the reference fails it at the
// SYN-ACK (mss 1460); both verdicts were checked by hand with the
// reference.
func TestIPv6SynAckMSS(t *testing.T) {
	needKernel(t)
	for _, tt := range []struct {
		args   []string
		exit   int
		stderr string
	}{
		{},
		{args: []string{"--mtu=1520"}, exit: 1,
			stderr: "syn-ack-mss-v6.pkt:13: error handling packet: bad value in outbound TCP option (kind=2): expected: mss 1440 actual: mss 1460"},
	} {
		_, stderr, code := runGodrill(t, "testdata/defaults", append(tt.args, "syn-ack-mss-v6.pkt")...)
		if code != tt.exit {
			t.Errorf("%v: exit %d, want %d\n%s", tt.args, code, tt.exit, stderr)
		}
		if tt.stderr != "" && !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%v: stderr lacks %q:\n%s", tt.args, tt.stderr, stderr)
		}
	}
}
