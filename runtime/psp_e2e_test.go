package runtime_test

import (
	"testing"
)

// TestPSPOutsideWireMode: PSP (--psp_udp_port, on the command line or an
// option line) outside wire mode is refused as the reference refuses it,
// before any event runs: its message alone on stderr, exit 1, also under
// --dry_run; and a PSP packet line without --psp_udp_port stops the run at
// that line. The same verdicts were checked by hand with the reference.
func TestPSPOutsideWireMode(t *testing.T) {
	needKernel(t)
	const refusal = "PSP requires wireserver mode (use --wire_client or --wire_server)\n"
	for _, tt := range []struct {
		args   []string
		exit   int
		stderr string
	}{
		{args: []string{"psp-outside-wire.pkt"}, exit: 1, stderr: refusal},
		{args: []string{"--ip_version=ipv6", "psp-outside-wire.pkt"}, exit: 1, stderr: refusal},
		{args: []string{"--dry_run", "psp-outside-wire.pkt"}, exit: 1, stderr: refusal},
		{args: []string{"--psp_udp_port=1000", "plain-handshake.pkt"}, exit: 1, stderr: refusal},
		{args: []string{"psp-no-port.pkt"}, exit: 1,
			stderr: "psp-no-port.pkt:13: semantic error: attempting to use PSP without specifying its UDP port\n"},
		{args: []string{"--dry_run", "psp-no-port.pkt"}, exit: 1,
			stderr: "psp-no-port.pkt:13: semantic error: attempting to use PSP without specifying its UDP port\n"},
		{args: []string{"plain-handshake.pkt"}},
		{args: []string{"--dry_run", "plain-handshake.pkt"}},
	} {
		stdout, stderr, code := runGodrill(t, "testdata/defaults", tt.args...)
		if code != tt.exit || stderr != tt.stderr || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d, stderr %q",
				tt.args, code, stdout, stderr, tt.exit, tt.stderr)
		}
	}
}
