package runtime

import (
	"golang.org/x/sys/unix"
)

// symbols maps the names scripts use for constants to their Linux values.
var symbols = map[string]int64{
	// address families, socket types, protocols
	"AF_INET": unix.AF_INET, "AF_INET6": unix.AF_INET6, "AF_UNSPEC": unix.AF_UNSPEC, "AF_UNIX": unix.AF_UNIX,
	"PF_INET": unix.AF_INET, "PF_INET6": unix.AF_INET6,
	"SOCK_STREAM": unix.SOCK_STREAM, "SOCK_DGRAM": unix.SOCK_DGRAM, "SOCK_RAW": unix.SOCK_RAW,
	"SOCK_NONBLOCK": unix.SOCK_NONBLOCK, "SOCK_CLOEXEC": unix.SOCK_CLOEXEC,
	"IPPROTO_IP": unix.IPPROTO_IP, "IPPROTO_IPV6": unix.IPPROTO_IPV6, "IPPROTO_TCP": unix.IPPROTO_TCP,
	"IPPROTO_UDP": unix.IPPROTO_UDP, "IPPROTO_ICMP": unix.IPPROTO_ICMP, "IPPROTO_ICMPV6": unix.IPPROTO_ICMPV6,
	"SOL_SOCKET": unix.SOL_SOCKET, "SOL_TCP": unix.SOL_TCP, "SOL_IP": unix.SOL_IP, "SOL_IPV6": unix.SOL_IPV6, "SOL_UDP": unix.SOL_UDP,
	// shutdown
	"SHUT_RD": unix.SHUT_RD, "SHUT_WR": unix.SHUT_WR, "SHUT_RDWR": unix.SHUT_RDWR,
	// fcntl
	"F_GETFL": unix.F_GETFL, "F_SETFL": unix.F_SETFL, "F_GETFD": unix.F_GETFD, "F_SETFD": unix.F_SETFD,
	"O_RDONLY": unix.O_RDONLY, "O_WRONLY": unix.O_WRONLY, "O_RDWR": unix.O_RDWR, "O_NONBLOCK": unix.O_NONBLOCK,
	"O_CREAT": unix.O_CREAT, "O_TRUNC": unix.O_TRUNC, "O_APPEND": unix.O_APPEND, "O_CLOEXEC": unix.O_CLOEXEC,
	"FD_CLOEXEC": unix.FD_CLOEXEC,
	// message flags
	"MSG_OOB": unix.MSG_OOB, "MSG_PEEK": unix.MSG_PEEK, "MSG_DONTWAIT": unix.MSG_DONTWAIT, "MSG_WAITALL": unix.MSG_WAITALL,
	"MSG_NOSIGNAL": unix.MSG_NOSIGNAL, "MSG_MORE": unix.MSG_MORE, "MSG_TRUNC": unix.MSG_TRUNC, "MSG_ERRQUEUE": unix.MSG_ERRQUEUE,
	"MSG_FASTOPEN": unix.MSG_FASTOPEN, "MSG_ZEROCOPY": unix.MSG_ZEROCOPY, "MSG_EOR": unix.MSG_EOR, "MSG_CTRUNC": unix.MSG_CTRUNC,
	// SOL_SOCKET options
	"SO_REUSEADDR": unix.SO_REUSEADDR, "SO_REUSEPORT": unix.SO_REUSEPORT, "SO_KEEPALIVE": unix.SO_KEEPALIVE,
	"SO_LINGER": unix.SO_LINGER, "SO_SNDBUF": unix.SO_SNDBUF, "SO_RCVBUF": unix.SO_RCVBUF, "SO_ERROR": unix.SO_ERROR,
	"SO_RCVLOWAT": unix.SO_RCVLOWAT, "SO_SNDLOWAT": unix.SO_SNDLOWAT, "SO_RCVTIMEO": unix.SO_RCVTIMEO, "SO_SNDTIMEO": unix.SO_SNDTIMEO,
	"SO_BROADCAST": unix.SO_BROADCAST, "SO_OOBINLINE": unix.SO_OOBINLINE, "SO_PRIORITY": unix.SO_PRIORITY,
	"SO_MARK": unix.SO_MARK, "SO_TYPE": unix.SO_TYPE, "SO_DOMAIN": unix.SO_DOMAIN, "SO_PROTOCOL": unix.SO_PROTOCOL,
	"SO_ACCEPTCONN": unix.SO_ACCEPTCONN, "SO_BINDTODEVICE": unix.SO_BINDTODEVICE, "SO_ZEROCOPY": unix.SO_ZEROCOPY,
	"SO_TIMESTAMP": unix.SO_TIMESTAMP, "SO_TIMESTAMPNS": unix.SO_TIMESTAMPNS, "SO_TIMESTAMPING": unix.SO_TIMESTAMPING,
	"SO_MAX_PACING_RATE": unix.SO_MAX_PACING_RATE, "SO_INCOMING_CPU": unix.SO_INCOMING_CPU, "SO_MEMINFO": unix.SO_MEMINFO,
	"SO_SNDBUFFORCE": unix.SO_SNDBUFFORCE, "SO_RCVBUFFORCE": unix.SO_RCVBUFFORCE, "SO_BUSY_POLL": unix.SO_BUSY_POLL,
	// SOL_TCP options
	"TCP_NODELAY": unix.TCP_NODELAY, "TCP_MAXSEG": unix.TCP_MAXSEG, "TCP_CORK": unix.TCP_CORK,
	"TCP_KEEPIDLE": unix.TCP_KEEPIDLE, "TCP_KEEPINTVL": unix.TCP_KEEPINTVL, "TCP_KEEPCNT": unix.TCP_KEEPCNT,
	"TCP_SYNCNT": unix.TCP_SYNCNT, "TCP_LINGER2": unix.TCP_LINGER2, "TCP_DEFER_ACCEPT": unix.TCP_DEFER_ACCEPT,
	"TCP_WINDOW_CLAMP": unix.TCP_WINDOW_CLAMP, "TCP_INFO": unix.TCP_INFO, "TCP_QUICKACK": unix.TCP_QUICKACK,
	"TCP_CONGESTION": unix.TCP_CONGESTION, "TCP_MD5SIG": unix.TCP_MD5SIG, "TCP_THIN_LINEAR_TIMEOUTS": unix.TCP_THIN_LINEAR_TIMEOUTS,
	"TCP_THIN_DUPACK": unix.TCP_THIN_DUPACK, "TCP_USER_TIMEOUT": unix.TCP_USER_TIMEOUT, "TCP_REPAIR": unix.TCP_REPAIR,
	"TCP_REPAIR_QUEUE": unix.TCP_REPAIR_QUEUE, "TCP_QUEUE_SEQ": unix.TCP_QUEUE_SEQ, "TCP_REPAIR_OPTIONS": unix.TCP_REPAIR_OPTIONS,
	"TCP_FASTOPEN": unix.TCP_FASTOPEN, "TCP_TIMESTAMP": unix.TCP_TIMESTAMP, "TCP_NOTSENT_LOWAT": unix.TCP_NOTSENT_LOWAT,
	"TCP_CC_INFO": unix.TCP_CC_INFO, "TCP_SAVE_SYN": unix.TCP_SAVE_SYN, "TCP_SAVED_SYN": unix.TCP_SAVED_SYN,
	"TCP_REPAIR_WINDOW": unix.TCP_REPAIR_WINDOW, "TCP_FASTOPEN_CONNECT": unix.TCP_FASTOPEN_CONNECT, "TCP_ULP": unix.TCP_ULP,
	"TCP_MD5SIG_EXT": unix.TCP_MD5SIG_EXT, "TCP_FASTOPEN_KEY": unix.TCP_FASTOPEN_KEY, "TCP_FASTOPEN_NO_COOKIE": unix.TCP_FASTOPEN_NO_COOKIE,
	"TCP_ZEROCOPY_RECEIVE": unix.TCP_ZEROCOPY_RECEIVE, "TCP_INQ": unix.TCP_INQ, "TCP_TX_DELAY": unix.TCP_TX_DELAY,
	// IP options
	"IP_TOS": unix.IP_TOS, "IP_TTL": unix.IP_TTL, "IP_MTU_DISCOVER": unix.IP_MTU_DISCOVER, "IP_MTU": unix.IP_MTU,
	"IP_RECVERR": unix.IP_RECVERR, "IP_PMTUDISC_DO": unix.IP_PMTUDISC_DO, "IP_PMTUDISC_DONT": unix.IP_PMTUDISC_DONT,
	"IP_PMTUDISC_PROBE": unix.IP_PMTUDISC_PROBE, "IP_FREEBIND": unix.IP_FREEBIND, "IP_TRANSPARENT": unix.IP_TRANSPARENT,
	"IP_RECVTOS": unix.IP_RECVTOS, "IP_PKTINFO": unix.IP_PKTINFO, "IP_BIND_ADDRESS_NO_PORT": unix.IP_BIND_ADDRESS_NO_PORT,
	"IPV6_V6ONLY": unix.IPV6_V6ONLY, "IPV6_TCLASS": unix.IPV6_TCLASS, "IPV6_MTU_DISCOVER": unix.IPV6_MTU_DISCOVER,
	"IPV6_MTU": unix.IPV6_MTU, "IPV6_RECVERR": unix.IPV6_RECVERR, "IPV6_FLOWLABEL_MGR": 32,
	"IPV6_FLOWINFO_SEND": 33, "IPV6_HOPLIMIT": unix.IPV6_HOPLIMIT, "IPV6_UNICAST_HOPS": unix.IPV6_UNICAST_HOPS,
	"IPV6_RECVTCLASS": unix.IPV6_RECVTCLASS, "IPV6_PMTUDISC_DO": unix.IPV6_PMTUDISC_DO,
	// ioctls
	"SIOCINQ": unix.SIOCINQ, "SIOCOUTQ": unix.SIOCOUTQ, "FIONREAD": 0x541B, "FIONBIO": 0x5421,
	"SIOCOUTQNSD": 0x894B,
	// poll
	"POLLIN": unix.POLLIN, "POLLOUT": unix.POLLOUT, "POLLERR": unix.POLLERR, "POLLHUP": unix.POLLHUP,
	"POLLPRI": unix.POLLPRI, "POLLNVAL": unix.POLLNVAL, "POLLRDNORM": 0x40, "POLLRDBAND": 0x80,
	"POLLWRNORM": 0x100, "POLLWRBAND": 0x200, "POLLRDHUP": unix.POLLRDHUP, "POLLMSG": 0x400,
	// TCP states (tcpi_state values)
	"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4, "TCP_FIN_WAIT2": 5,
	"TCP_TIME_WAIT": 6, "TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8, "TCP_LAST_ACK": 9, "TCP_LISTEN": 10, "TCP_CLOSING": 11,
	"TCP_NEW_SYN_RECV": 12,
	// misc
	"NULL": 0,
}

// errnos maps errno names to values; errnoNames the reverse.
var errnos = map[string]unix.Errno{}

func init() {
	for i := unix.Errno(1); i < 134; i++ {
		if name := unix.ErrnoName(i); name != "" {
			errnos[name] = i
			symbols[name] = int64(i)
		}
	}
	errnos["EWOULDBLOCK"] = unix.EAGAIN
	errnos["EDEADLOCK"] = unix.EDEADLK
	errnos["ENOTSUP"] = unix.EOPNOTSUPP
	symbols["EWOULDBLOCK"] = int64(unix.EAGAIN)
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
