package runtime

import "testing"

// TestConfigPrecedence: the command line (override) wins over script
// option lines, whatever their order.
func TestConfigPrecedence(t *testing.T) {
	c := DefaultConfig(IPv4)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set("tolerance_usecs", "10000", true)) // command line
	must(c.Set("tolerance_usecs", "2000", false)) // script line
	if c.ToleranceUsecs != 10000 {
		t.Errorf("command line lost: %d", c.ToleranceUsecs)
	}
	must(c.Set("mtu", "1400", false))
	if c.MTU != 1400 {
		t.Errorf("script line ignored: %d", c.MTU)
	}
	// Switching family keeps explicitly set addresses and resets the rest.
	must(c.Set("ip_version", "ipv6", true))
	if c.LocalIP.String() != "fd3d:a0b:17d6::1" || c.RemoteIP.String() != "fd3d:fa7b:d17d::1" || c.MTU != 1400 {
		t.Errorf("ipv6 defaults: local %v remote %v mtu %d", c.LocalIP, c.RemoteIP, c.MTU)
	}
	if err := c.Set("so_filename", "x.so", true); err == nil {
		t.Error("shared-object mode accepted")
	}
	if err := c.Set("no_such_flag", "1", true); err == nil {
		t.Error("unknown flag accepted")
	}
	if err := c.Set("netmask_ip", "255.255.0.0", true); err != nil || c.PrefixLen != 16 {
		t.Errorf("netmask: %v %d", err, c.PrefixLen)
	}
}
