package inlinecode

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Vars are the values a snapshot of the socket under test binds in a
// snippet, by Python name. The reference emits every value as an unsigned
// 64-bit integer.
type Vars map[string]uint64

// Merge copies the variables of others into v and returns v, allocating it
// when nil.
func (v Vars) Merge(others ...Vars) Vars {
	if v == nil {
		v = Vars{}
	}
	for _, o := range others {
		for k, x := range o {
			v[k] = x
		}
	}
	return v
}

// Constants are the symbolic names bound in every snippet: the tcpi_state
// values (include/net/tcp_states.h), the tcpi_ca_state values and the
// tcpi_options bits (include/uapi/linux/tcp.h). The reference binds those
// of code.c's write_symbols; TCP_INFINITE_SSTHRESH and the option bits it
// lacks are extras that scripts otherwise define themselves.
var Constants = Vars{
	"TCP_ESTABLISHED": 1,
	"TCP_SYN_SENT":    2,
	"TCP_SYN_RECV":    3,
	"TCP_FIN_WAIT1":   4,
	"TCP_FIN_WAIT2":   5,
	"TCP_TIME_WAIT":   6,
	"TCP_CLOSE":       7,
	"TCP_CLOSE_WAIT":  8,
	"TCP_LAST_ACK":    9,
	"TCP_LISTEN":      10,
	"TCP_CLOSING":     11,

	"TCP_CA_Open":     0,
	"TCP_CA_Disorder": 1,
	"TCP_CA_CWR":      2,
	"TCP_CA_Recovery": 3,
	"TCP_CA_Loss":     4,

	"TCPI_OPT_TIMESTAMPS": 1,
	"TCPI_OPT_SACK":       2,
	"TCPI_OPT_WSCALE":     4,
	"TCPI_OPT_ECN":        8,
	"TCPI_OPT_ECN_SEEN":   16,
	"TCPI_OPT_SYN_DATA":   32,
	"TCPI_OPT_USEC_TS":    64,
	"TCPI_OPT_TFO_CHILD":  128,

	"TCP_INFINITE_SSTHRESH": 0x7fffffff,
}

// TCPInfoVars maps a TCP_INFO snapshot to the kernel's tcpi_* names
// (struct tcp_info in include/uapi/linux/tcp.h).
//
// unix.TCPInfo has no fields for the bitfields: tcpi_snd_wscale,
// tcpi_rcv_wscale (byte 6), tcpi_delivery_rate_app_limited,
// tcpi_fastopen_client_fail (byte 7) and the final 32-bit word
// (tcpi_ecn_mode, tcpi_accecn_opt_seen, tcpi_accecn_fail_mode,
// tcpi_options2). They are read from the struct's padding, where
// getsockopt wrote them, so info must be the struct getsockopt filled
// (unix.GetsockoptTCPInfo's result), not a field-by-field copy.
func TCPInfoVars(info *unix.TCPInfo) Vars {
	raw := unsafe.Slice((*byte)(unsafe.Pointer(info)), unsafe.Sizeof(*info))
	wscale, flags := raw[6], raw[7]
	end := unsafe.Offsetof(info.Received_ce_bytes) + 4
	tail := binary.NativeEndian.Uint32(raw[end : end+4])
	return Vars{
		"tcpi_state":                     uint64(info.State),
		"tcpi_ca_state":                  uint64(info.Ca_state),
		"tcpi_retransmits":               uint64(info.Retransmits),
		"tcpi_probes":                    uint64(info.Probes),
		"tcpi_backoff":                   uint64(info.Backoff),
		"tcpi_options":                   uint64(info.Options),
		"tcpi_snd_wscale":                uint64(wscale & 0xf),
		"tcpi_rcv_wscale":                uint64(wscale >> 4),
		"tcpi_delivery_rate_app_limited": uint64(flags & 1),
		"tcpi_fastopen_client_fail":      uint64(flags >> 1 & 3),
		"tcpi_rto":                       uint64(info.Rto),
		"tcpi_ato":                       uint64(info.Ato),
		"tcpi_snd_mss":                   uint64(info.Snd_mss),
		"tcpi_rcv_mss":                   uint64(info.Rcv_mss),
		"tcpi_unacked":                   uint64(info.Unacked),
		"tcpi_sacked":                    uint64(info.Sacked),
		"tcpi_lost":                      uint64(info.Lost),
		"tcpi_retrans":                   uint64(info.Retrans),
		"tcpi_fackets":                   uint64(info.Fackets),
		"tcpi_last_data_sent":            uint64(info.Last_data_sent),
		"tcpi_last_ack_sent":             uint64(info.Last_ack_sent),
		"tcpi_last_data_recv":            uint64(info.Last_data_recv),
		"tcpi_last_ack_recv":             uint64(info.Last_ack_recv),
		"tcpi_pmtu":                      uint64(info.Pmtu),
		"tcpi_rcv_ssthresh":              uint64(info.Rcv_ssthresh),
		"tcpi_rtt":                       uint64(info.Rtt),
		"tcpi_rttvar":                    uint64(info.Rttvar),
		"tcpi_snd_ssthresh":              uint64(info.Snd_ssthresh),
		"tcpi_snd_cwnd":                  uint64(info.Snd_cwnd),
		"tcpi_advmss":                    uint64(info.Advmss),
		"tcpi_reordering":                uint64(info.Reordering),
		"tcpi_rcv_rtt":                   uint64(info.Rcv_rtt),
		"tcpi_rcv_space":                 uint64(info.Rcv_space),
		"tcpi_total_retrans":             uint64(info.Total_retrans),
		"tcpi_pacing_rate":               info.Pacing_rate,
		"tcpi_max_pacing_rate":           info.Max_pacing_rate,
		"tcpi_bytes_acked":               info.Bytes_acked,
		"tcpi_bytes_received":            info.Bytes_received,
		"tcpi_segs_out":                  uint64(info.Segs_out),
		"tcpi_segs_in":                   uint64(info.Segs_in),
		"tcpi_notsent_bytes":             uint64(info.Notsent_bytes),
		"tcpi_min_rtt":                   uint64(info.Min_rtt),
		"tcpi_data_segs_in":              uint64(info.Data_segs_in),
		"tcpi_data_segs_out":             uint64(info.Data_segs_out),
		"tcpi_delivery_rate":             info.Delivery_rate,
		"tcpi_busy_time":                 info.Busy_time,
		"tcpi_rwnd_limited":              info.Rwnd_limited,
		"tcpi_sndbuf_limited":            info.Sndbuf_limited,
		"tcpi_delivered":                 uint64(info.Delivered),
		"tcpi_delivered_ce":              uint64(info.Delivered_ce),
		"tcpi_bytes_sent":                info.Bytes_sent,
		"tcpi_bytes_retrans":             info.Bytes_retrans,
		"tcpi_dsack_dups":                uint64(info.Dsack_dups),
		"tcpi_reord_seen":                uint64(info.Reord_seen),
		"tcpi_rcv_ooopack":               uint64(info.Rcv_ooopack),
		"tcpi_snd_wnd":                   uint64(info.Snd_wnd),
		"tcpi_rcv_wnd":                   uint64(info.Rcv_wnd),
		"tcpi_rehash":                    uint64(info.Rehash),
		"tcpi_total_rto":                 uint64(info.Total_rto),
		"tcpi_total_rto_recoveries":      uint64(info.Total_rto_recoveries),
		"tcpi_total_rto_time":            uint64(info.Total_rto_time),
		"tcpi_received_ce":               uint64(info.Received_ce),
		"tcpi_delivered_e1_bytes":        uint64(info.Delivered_e1_bytes),
		"tcpi_delivered_e0_bytes":        uint64(info.Delivered_e0_bytes),
		"tcpi_delivered_ce_bytes":        uint64(info.Delivered_ce_bytes),
		"tcpi_received_e1_bytes":         uint64(info.Received_e1_bytes),
		"tcpi_received_e0_bytes":         uint64(info.Received_e0_bytes),
		"tcpi_received_ce_bytes":         uint64(info.Received_ce_bytes),
		"tcpi_ecn_mode":                  uint64(tail & 3),
		"tcpi_accecn_opt_seen":           uint64(tail >> 2 & 3),
		"tcpi_accecn_fail_mode":          uint64(tail >> 4 & 0xf),
		"tcpi_options2":                  uint64(tail >> 8),
	}
}

// CCInfoVars maps a TCP_CC_INFO buffer (the n bytes getsockopt returned)
// to the names the reference binds. The buffer is a union; as in the
// reference, each of the BBR, DCTCP and Vegas views is bound when the
// buffer is long enough for it, whatever the congestion control.
func CCInfoVars(buf []byte) Vars {
	v := Vars{}
	u32 := func(off int) uint64 { return uint64(binary.NativeEndian.Uint32(buf[off:])) }
	u16 := func(off int) uint64 { return uint64(binary.NativeEndian.Uint16(buf[off:])) }
	// struct tcp_bbr_info: bw_lo, bw_hi, min_rtt, pacing_gain, cwnd_gain.
	if len(buf) >= 20 {
		v["bbr_bw_lo"] = u32(0)
		v["bbr_bw_hi"] = u32(4)
		v["bbr_bw"] = u32(4)<<32 + u32(0)
		v["bbr_min_rtt"] = u32(8)
		v["bbr_pacing_gain"] = u32(12)
		v["bbr_cwnd_gain"] = u32(16)
	}
	// struct tcp_dctcp_info: u16 enabled, u16 ce_state, alpha, ab_ecn, ab_tot.
	if len(buf) >= 16 {
		v["dctcp_enabled"] = u16(0)
		v["dctcp_ce_state"] = u16(2)
		v["dctcp_alpha"] = u32(4)
		v["dctcp_ab_ecn"] = u32(8)
		v["dctcp_ab_tot"] = u32(12)
	}
	// struct tcpvegas_info: enabled, rttcnt, rtt, minrtt. The reference
	// names the last two tcp_rtt and tcp_minrtt.
	if len(buf) >= 16 {
		v["tcpv_enabled"] = u32(0)
		v["tcpv_rttcnt"] = u32(4)
		v["tcp_rtt"] = u32(8)
		v["tcp_minrtt"] = u32(12)
	}
	return v
}

// MemInfoVars maps an SO_MEMINFO array (include/uapi/linux/sock_diag.h) to
// the names the reference binds: each SK_MEMINFO_* name holds the value at
// that index, not the index.
func MemInfoVars(mem []uint32) Vars {
	names := [...]string{
		unix.SK_MEMINFO_RMEM_ALLOC:  "SK_MEMINFO_RMEM_ALLOC",
		unix.SK_MEMINFO_RCVBUF:      "SK_MEMINFO_RCVBUF",
		unix.SK_MEMINFO_WMEM_ALLOC:  "SK_MEMINFO_WMEM_ALLOC",
		unix.SK_MEMINFO_SNDBUF:      "SK_MEMINFO_SNDBUF",
		unix.SK_MEMINFO_FWD_ALLOC:   "SK_MEMINFO_FWD_ALLOC",
		unix.SK_MEMINFO_WMEM_QUEUED: "SK_MEMINFO_WMEM_QUEUED",
		unix.SK_MEMINFO_OPTMEM:      "SK_MEMINFO_OPTMEM",
		unix.SK_MEMINFO_BACKLOG:     "SK_MEMINFO_BACKLOG",
		unix.SK_MEMINFO_DROPS:       "SK_MEMINFO_DROPS",
	}
	v := Vars{}
	for i, n := range names {
		if i < len(mem) {
			v[n] = uint64(mem[i])
		}
	}
	return v
}
