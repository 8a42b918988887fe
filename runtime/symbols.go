package runtime

import (
	"golang.org/x/sys/unix"
)

// extraSymbols are names godrill knows beyond the reference's table: Linux
// socket options and ioctls newer than it, and the tcpi_state values.
var extraSymbols = map[string]int64{
	"AF_UNIX": unix.AF_UNIX, "SOCK_CLOEXEC": unix.SOCK_CLOEXEC, "O_CLOEXEC": unix.O_CLOEXEC,
	"SO_DOMAIN": unix.SO_DOMAIN, "SO_PROTOCOL": unix.SO_PROTOCOL, "SO_TIMESTAMPNS": unix.SO_TIMESTAMPNS,
	"SO_INCOMING_CPU": unix.SO_INCOMING_CPU, "SO_MEMINFO": unix.SO_MEMINFO, "SO_SNDBUFFORCE": unix.SO_SNDBUFFORCE,
	"SO_RCVBUFFORCE": unix.SO_RCVBUFFORCE, "SO_BUSY_POLL": unix.SO_BUSY_POLL, "SO_TXTIME": unix.SO_TXTIME,
	"TCP_WINDOW_CLAMP": unix.TCP_WINDOW_CLAMP, "TCP_REPAIR": unix.TCP_REPAIR, "TCP_REPAIR_QUEUE": unix.TCP_REPAIR_QUEUE,
	"TCP_QUEUE_SEQ": unix.TCP_QUEUE_SEQ, "TCP_REPAIR_OPTIONS": unix.TCP_REPAIR_OPTIONS, "TCP_CC_INFO": unix.TCP_CC_INFO,
	"TCP_SAVE_SYN": unix.TCP_SAVE_SYN, "TCP_SAVED_SYN": unix.TCP_SAVED_SYN, "TCP_REPAIR_WINDOW": unix.TCP_REPAIR_WINDOW,
	"TCP_ULP": unix.TCP_ULP, "TCP_MD5SIG_EXT": unix.TCP_MD5SIG_EXT, "TCP_ZEROCOPY_RECEIVE": unix.TCP_ZEROCOPY_RECEIVE,
	"TCP_TX_DELAY":   unix.TCP_TX_DELAY,
	"IP_TRANSPARENT": unix.IP_TRANSPARENT, "IP_RECVTOS": unix.IP_RECVTOS, "IP_PKTINFO": unix.IP_PKTINFO,
	"IP_BIND_ADDRESS_NO_PORT": unix.IP_BIND_ADDRESS_NO_PORT,
	"IPV6_V6ONLY":             unix.IPV6_V6ONLY, "IPV6_FLOWLABEL_MGR": 32, "IPV6_FLOWINFO_SEND": 33,
	"IPV6_UNICAST_HOPS": unix.IPV6_UNICAST_HOPS, "IPV6_RECVTCLASS": unix.IPV6_RECVTCLASS, "IPV6_PMTUDISC_DO": unix.IPV6_PMTUDISC_DO,
	"SIOCOUTQ": unix.SIOCOUTQ, "SIOCOUTQNSD": unix.SIOCOUTQNSD, "FIONBIO": 0x5421,
	// TCP states (tcpi_state values), include/net/tcp_states.h
	"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4, "TCP_FIN_WAIT2": 5,
	"TCP_TIME_WAIT": 6, "TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8, "TCP_LAST_ACK": 9, "TCP_LISTEN": 10, "TCP_CLOSING": 11,
	"TCP_NEW_SYN_RECV": 12,
}

// symbols maps the names scripts use for constants to their Linux values:
// the reference's table, the extras, and every errno name.
var symbols = map[string]int64{}

// errnos maps errno names to values.
var errnos = map[string]unix.Errno{}

func init() {
	for k, v := range linuxSymbols {
		symbols[k] = v
	}
	for k, v := range extraSymbols {
		symbols[k] = v
	}
	for i := unix.Errno(1); i < 134; i++ {
		if name := unix.ErrnoName(i); name != "" {
			errnos[name] = i
			symbols[name] = int64(i)
		}
	}
	for name, e := range map[string]unix.Errno{"EWOULDBLOCK": unix.EAGAIN, "EDEADLOCK": unix.EDEADLK, "ENOTSUP": unix.EOPNOTSUPP, "EOPNOTSUPP": unix.EOPNOTSUPP} {
		errnos[name] = e
		symbols[name] = int64(e)
	}
}

// LookupSymbol returns the value of a constant name.
func LookupSymbol(name string) (int64, bool) {
	v, ok := symbols[name]
	return v, ok
}

// RegisterSymbols adds names to the symbol table (for generated tables).
func RegisterSymbols(m map[string]int64) {
	for k, v := range m {
		symbols[k] = v
	}
}

func errnoByName(name string) (unix.Errno, bool) {
	e, ok := errnos[name]
	return e, ok
}

func errnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "E?"
}
