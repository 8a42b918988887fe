package inlinecode

import (
	"encoding/binary"
	"reflect"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestTCPInfoVars(t *testing.T) {
	var info unix.TCPInfo
	info.State = 1
	info.Ca_state = 3
	info.Options = 0x27
	info.Snd_cwnd = 10
	info.Delivery_rate = 1 << 40
	info.Received_ce_bytes = 9
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&info)), unsafe.Sizeof(info))
	raw[6] = 7<<4 | 8 // rcv_wscale 7, snd_wscale 8
	raw[7] = 1 | 2<<1 // app_limited, fastopen_client_fail 2
	end := unsafe.Offsetof(info.Received_ce_bytes) + 4
	binary.NativeEndian.PutUint32(raw[end:], 2|1<<2|5<<4|0xabc<<8)

	v := TCPInfoVars(&info)
	want := map[string]uint64{
		"tcpi_state": 1, "tcpi_ca_state": 3, "tcpi_options": 0x27, "tcpi_snd_cwnd": 10,
		"tcpi_delivery_rate": 1 << 40, "tcpi_received_ce_bytes": 9,
		"tcpi_snd_wscale": 8, "tcpi_rcv_wscale": 7,
		"tcpi_delivery_rate_app_limited": 1, "tcpi_fastopen_client_fail": 2,
		"tcpi_ecn_mode": 2, "tcpi_accecn_opt_seen": 1, "tcpi_accecn_fail_mode": 5, "tcpi_options2": 0xabc,
	}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %d, want %d", k, v[k], w)
		}
	}
	// Every field of unix.TCPInfo has a tcpi_ name, plus the 8 bitfields.
	if n := reflect.TypeOf(info).NumField() - 1 + 8; len(v) != n {
		t.Errorf("%d names, want %d", len(v), n)
	}
	// The names the reference binds are all there.
	for _, k := range []string{"tcpi_retransmits", "tcpi_probes", "tcpi_backoff", "tcpi_rto", "tcpi_ato",
		"tcpi_snd_mss", "tcpi_rcv_mss", "tcpi_unacked", "tcpi_sacked", "tcpi_lost", "tcpi_retrans",
		"tcpi_fackets", "tcpi_last_data_sent", "tcpi_last_ack_sent", "tcpi_last_data_recv",
		"tcpi_last_ack_recv", "tcpi_pmtu", "tcpi_rcv_ssthresh", "tcpi_rtt", "tcpi_rttvar",
		"tcpi_snd_ssthresh", "tcpi_advmss", "tcpi_reordering", "tcpi_total_retrans",
		"tcpi_pacing_rate", "tcpi_max_pacing_rate", "tcpi_rcv_rtt", "tcpi_rcv_space",
		"tcpi_bytes_acked", "tcpi_bytes_received", "tcpi_segs_out", "tcpi_segs_in",
		"tcpi_notsent_bytes", "tcpi_min_rtt", "tcpi_data_segs_in", "tcpi_data_segs_out",
		"tcpi_busy_time", "tcpi_rwnd_limited", "tcpi_sndbuf_limited", "tcpi_delivered",
		"tcpi_delivered_ce", "tcpi_bytes_sent", "tcpi_bytes_retrans", "tcpi_dsack_dups", "tcpi_reord_seen"} {
		if _, ok := v[k]; !ok {
			t.Errorf("missing %s", k)
		}
	}
}

func TestCCInfoVars(t *testing.T) {
	buf := make([]byte, 20)
	for i := range 5 {
		binary.NativeEndian.PutUint32(buf[4*i:], uint32(i+1))
	}
	v := CCInfoVars(buf)
	if v["bbr_bw"] != 2<<32+1 || v["bbr_cwnd_gain"] != 5 || v["tcp_minrtt"] != 4 || v["dctcp_enabled"] != 1 {
		t.Errorf("CCInfoVars = %v", v)
	}
	if v := CCInfoVars(buf[:16]); len(v) != 9 {
		t.Errorf("16-byte buffer: %d names, want dctcp and vegas (9)", len(v))
	}
	if v := CCInfoVars(nil); len(v) != 0 {
		t.Errorf("empty buffer: %v", v)
	}
}

func TestMemInfoVars(t *testing.T) {
	v := MemInfoVars([]uint32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	if len(v) != 9 || v["SK_MEMINFO_RMEM_ALLOC"] != 1 || v["SK_MEMINFO_DROPS"] != 9 {
		t.Errorf("MemInfoVars = %v", v)
	}
}
