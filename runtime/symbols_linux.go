package runtime

import "golang.org/x/sys/unix"

// linuxSymbols are the names the reference packetdrill knows (its
// symbols_linux.c and cross-platform table), with their Linux values.
// Values come from x/sys/unix where it has them; the rest are the Linux
// uapi constants (include/uapi/linux/tcp.h, capability.h, poll.h).
var linuxSymbols = map[string]int64{
	"SOL_IP":   int64(unix.SOL_IP),
	"SOL_IPV6": int64(unix.SOL_IPV6),
	"SOL_TCP":  int64(unix.SOL_TCP),
	"SOL_UDP":  int64(unix.SOL_UDP),

	"SO_ACCEPTCONN":                    int64(unix.SO_ACCEPTCONN),
	"SO_ATTACH_FILTER":                 int64(unix.SO_ATTACH_FILTER),
	"SO_BINDTODEVICE":                  int64(unix.SO_BINDTODEVICE),
	"SO_BROADCAST":                     int64(unix.SO_BROADCAST),
	"SO_BSDCOMPAT":                     int64(unix.SO_BSDCOMPAT),
	"SO_DEBUG":                         int64(unix.SO_DEBUG),
	"SO_DETACH_FILTER":                 int64(unix.SO_DETACH_FILTER),
	"SO_DONTROUTE":                     int64(unix.SO_DONTROUTE),
	"SO_ERROR":                         int64(unix.SO_ERROR),
	"SO_KEEPALIVE":                     int64(unix.SO_KEEPALIVE),
	"SO_LINGER":                        int64(unix.SO_LINGER),
	"SO_MARK":                          int64(unix.SO_MARK),
	"SO_NO_CHECK":                      int64(unix.SO_NO_CHECK),
	"SO_OOBINLINE":                     int64(unix.SO_OOBINLINE),
	"SO_PASSCRED":                      int64(unix.SO_PASSCRED),
	"SO_PEERCRED":                      int64(unix.SO_PEERCRED),
	"SO_PEERNAME":                      int64(unix.SO_PEERNAME),
	"SO_PEERSEC":                       int64(unix.SO_PEERSEC),
	"SO_PRIORITY":                      int64(unix.SO_PRIORITY),
	"SO_RCVBUF":                        int64(unix.SO_RCVBUF),
	"SO_RCVLOWAT":                      int64(unix.SO_RCVLOWAT),
	"SO_RCVTIMEO":                      int64(unix.SO_RCVTIMEO),
	"SO_REUSEADDR":                     int64(unix.SO_REUSEADDR),
	"SO_REUSEPORT":                     int64(unix.SO_REUSEPORT),
	"SO_SECURITY_AUTHENTICATION":       int64(unix.SO_SECURITY_AUTHENTICATION),
	"SO_SECURITY_ENCRYPTION_NETWORK":   int64(unix.SO_SECURITY_ENCRYPTION_NETWORK),
	"SO_SECURITY_ENCRYPTION_TRANSPORT": int64(unix.SO_SECURITY_ENCRYPTION_TRANSPORT),
	"SO_SNDBUF":                        int64(unix.SO_SNDBUF),
	"SO_SNDLOWAT":                      int64(unix.SO_SNDLOWAT),
	"SO_SNDTIMEO":                      int64(unix.SO_SNDTIMEO),
	"SO_TIMESTAMP":                     int64(unix.SO_TIMESTAMP),
	"SO_TIMESTAMPING":                  int64(unix.SO_TIMESTAMPING),
	"SO_TYPE":                          int64(unix.SO_TYPE),
	"SO_MAX_PACING_RATE":               int64(unix.SO_MAX_PACING_RATE),
	"SO_ZEROCOPY":                      int64(unix.SO_ZEROCOPY),
	"SO_EE_ORIGIN_TIMESTAMPING":        int64(unix.SO_EE_ORIGIN_TIMESTAMPING),
	"SO_EE_ORIGIN_ZEROCOPY":            int64(unix.SO_EE_ORIGIN_ZEROCOPY),
	"SO_EE_CODE_ZEROCOPY_COPIED":       int64(unix.SO_EE_CODE_ZEROCOPY_COPIED),

	"SOF_TIMESTAMPING_TX_HARDWARE":  int64(unix.SOF_TIMESTAMPING_TX_HARDWARE),
	"SOF_TIMESTAMPING_TX_SOFTWARE":  int64(unix.SOF_TIMESTAMPING_TX_SOFTWARE),
	"SOF_TIMESTAMPING_RX_HARDWARE":  int64(unix.SOF_TIMESTAMPING_RX_HARDWARE),
	"SOF_TIMESTAMPING_RX_SOFTWARE":  int64(unix.SOF_TIMESTAMPING_RX_SOFTWARE),
	"SOF_TIMESTAMPING_SOFTWARE":     int64(unix.SOF_TIMESTAMPING_SOFTWARE),
	"SOF_TIMESTAMPING_SYS_HARDWARE": int64(unix.SOF_TIMESTAMPING_SYS_HARDWARE),
	"SOF_TIMESTAMPING_RAW_HARDWARE": int64(unix.SOF_TIMESTAMPING_RAW_HARDWARE),
	"SOF_TIMESTAMPING_OPT_ID":       int64(unix.SOF_TIMESTAMPING_OPT_ID),
	"SOF_TIMESTAMPING_TX_SCHED":     int64(unix.SOF_TIMESTAMPING_TX_SCHED),
	"SOF_TIMESTAMPING_TX_ACK":       int64(unix.SOF_TIMESTAMPING_TX_ACK),
	"SOF_TIMESTAMPING_OPT_CMSG":     int64(unix.SOF_TIMESTAMPING_OPT_CMSG),
	"SOF_TIMESTAMPING_OPT_TSONLY":   int64(unix.SOF_TIMESTAMPING_OPT_TSONLY),
	"SOF_TIMESTAMPING_OPT_STATS":    int64(unix.SOF_TIMESTAMPING_OPT_STATS),
	"SOF_TIMESTAMPING_OPT_ID_TCP":   int64(unix.SOF_TIMESTAMPING_OPT_ID_TCP),

	"SCM_TIMESTAMPING":           int64(unix.SCM_TIMESTAMPING),
	"SCM_TSTAMP_SND":             int64(unix.SCM_TSTAMP_SND),
	"SCM_TSTAMP_SCHED":           int64(unix.SCM_TSTAMP_SCHED),
	"SCM_TSTAMP_ACK":             int64(unix.SCM_TSTAMP_ACK),
	"SCM_TIMESTAMPING_OPT_STATS": int64(unix.SCM_TIMESTAMPING_OPT_STATS),

	"TCP_NLA_BUSY":                  1,
	"TCP_NLA_RWND_LIMITED":          2,
	"TCP_NLA_SNDBUF_LIMITED":        3,
	"TCP_NLA_DATA_SEGS_OUT":         4,
	"TCP_NLA_TOTAL_RETRANS":         5,
	"TCP_NLA_PACING_RATE":           6,
	"TCP_NLA_DELIVERY_RATE":         7,
	"TCP_NLA_SND_CWND":              8,
	"TCP_NLA_REORDERING":            9,
	"TCP_NLA_MIN_RTT":               10,
	"TCP_NLA_RECUR_RETRANS":         11,
	"TCP_NLA_DELIVERY_RATE_APP_LMT": 12,
	"TCP_NLA_SNDQ_SIZE":             13,
	"TCP_NLA_CA_STATE":              14,
	"TCP_NLA_SND_SSTHRESH":          15,
	"TCP_NLA_DELIVERED":             16,
	"TCP_NLA_DELIVERED_CE":          17,
	"TCP_NLA_BYTES_SENT":            18,
	"TCP_NLA_BYTES_RETRANS":         19,
	"TCP_NLA_DSACK_DUPS":            20,
	"TCP_NLA_REORD_SEEN":            21,
	"TCP_NLA_SRTT":                  22,
	"TCP_CA_OPEN":                   0,
	"TCP_CA_DISORDER":               1,
	"TCP_CA_CWR":                    2,
	"TCP_CA_RECOVERY":               3,
	"TCP_CA_LOSS":                   4,
	"TCP_INFINITE_SSTHRESH":         2147483647,

	"IP_TOS":          int64(unix.IP_TOS),
	"IP_MTU_DISCOVER": int64(unix.IP_MTU_DISCOVER),

	"IPV6_MTU_DISCOVER": int64(unix.IPV6_MTU_DISCOVER),

	"IP_PMTUDISC_WANT":  int64(unix.IP_PMTUDISC_WANT),
	"IP_PMTUDISC_DONT":  int64(unix.IP_PMTUDISC_DONT),
	"IP_PMTUDISC_DO":    int64(unix.IP_PMTUDISC_DO),
	"IP_PMTUDISC_PROBE": int64(unix.IP_PMTUDISC_PROBE),
	"IP_RECVERR":        int64(unix.IP_RECVERR),

	"IPV6_RECVERR": int64(unix.IPV6_RECVERR),

	"IP_FREEBIND": int64(unix.IP_FREEBIND),
	"IP_TTL":      int64(unix.IP_TTL),
	"IP_MTU":      int64(unix.IP_MTU),

	"IPV6_MTU":      int64(unix.IPV6_MTU),
	"IPV6_TCLASS":   int64(unix.IPV6_TCLASS),
	"IPV6_HOPLIMIT": int64(unix.IPV6_HOPLIMIT),

	"TCP_NODELAY":              int64(unix.TCP_NODELAY),
	"TCP_MAXSEG":               int64(unix.TCP_MAXSEG),
	"TCP_CORK":                 int64(unix.TCP_CORK),
	"TCP_KEEPIDLE":             int64(unix.TCP_KEEPIDLE),
	"TCP_KEEPINTVL":            int64(unix.TCP_KEEPINTVL),
	"TCP_KEEPCNT":              int64(unix.TCP_KEEPCNT),
	"TCP_SYNCNT":               int64(unix.TCP_SYNCNT),
	"TCP_LINGER2":              int64(unix.TCP_LINGER2),
	"TCP_DEFER_ACCEPT":         int64(unix.TCP_DEFER_ACCEPT),
	"TCP_INFO":                 int64(unix.TCP_INFO),
	"TCP_QUICKACK":             int64(unix.TCP_QUICKACK),
	"TCP_CONGESTION":           int64(unix.TCP_CONGESTION),
	"TCP_MD5SIG":               int64(unix.TCP_MD5SIG),
	"TCP_COOKIE_TRANSACTIONS":  int64(unix.TCP_COOKIE_TRANSACTIONS),
	"TCP_THIN_LINEAR_TIMEOUTS": int64(unix.TCP_THIN_LINEAR_TIMEOUTS),
	"TCP_THIN_DUPACK":          int64(unix.TCP_THIN_DUPACK),
	"TCP_USER_TIMEOUT":         int64(unix.TCP_USER_TIMEOUT),
	"TCP_FASTOPEN":             int64(unix.TCP_FASTOPEN),
	"TCP_FASTOPEN_CONNECT":     int64(unix.TCP_FASTOPEN_CONNECT),
	"TCP_FASTOPEN_KEY":         int64(unix.TCP_FASTOPEN_KEY),
	"TCP_FASTOPEN_NO_COOKIE":   int64(unix.TCP_FASTOPEN_NO_COOKIE),
	"TCP_TIMESTAMP":            int64(unix.TCP_TIMESTAMP),
	"TCP_NOTSENT_LOWAT":        int64(unix.TCP_NOTSENT_LOWAT),
	"TCP_INQ":                  int64(unix.TCP_INQ),
	"TCP_CM_INQ":               int64(unix.TCP_CM_INQ),
	"TCP_TX_DELAY":             int64(unix.TCP_TX_DELAY),

	"O_RDONLY":   int64(unix.O_RDONLY),
	"O_WRONLY":   int64(unix.O_WRONLY),
	"O_RDWR":     int64(unix.O_RDWR),
	"O_ACCMODE":  int64(unix.O_ACCMODE),
	"O_CREAT":    int64(unix.O_CREAT),
	"O_EXCL":     int64(unix.O_EXCL),
	"O_NOCTTY":   int64(unix.O_NOCTTY),
	"O_TRUNC":    int64(unix.O_TRUNC),
	"O_APPEND":   int64(unix.O_APPEND),
	"O_NONBLOCK": int64(unix.O_NONBLOCK),

	"F_DUPFD":         int64(unix.F_DUPFD),
	"F_GETFD":         int64(unix.F_GETFD),
	"F_SETFD":         int64(unix.F_SETFD),
	"F_GETFL":         int64(unix.F_GETFL),
	"F_SETFL":         int64(unix.F_SETFL),
	"F_GETLK":         int64(unix.F_GETLK),
	"F_SETLK":         int64(unix.F_SETLK),
	"F_SETLKW":        int64(unix.F_SETLKW),
	"F_GETOWN":        int64(unix.F_GETOWN),
	"F_SETOWN":        int64(unix.F_SETOWN),
	"F_SETSIG":        int64(unix.F_SETSIG),
	"F_GETSIG":        int64(unix.F_GETSIG),
	"F_SETLK64":       int64(unix.F_SETLK64),
	"F_SETLKW64":      int64(unix.F_SETLKW64),
	"F_GETLK64":       int64(unix.F_GETLK64),
	"F_SETLEASE":      int64(unix.F_SETLEASE),
	"F_GETLEASE":      int64(unix.F_GETLEASE),
	"F_NOTIFY":        int64(unix.F_NOTIFY),
	"F_DUPFD_CLOEXEC": int64(unix.F_DUPFD_CLOEXEC),

	"FD_CLOEXEC": int64(unix.FD_CLOEXEC),

	"LOCK_SH": int64(unix.LOCK_SH),
	"LOCK_EX": int64(unix.LOCK_EX),
	"LOCK_NB": int64(unix.LOCK_NB),
	"LOCK_UN": int64(unix.LOCK_UN),

	"F_RDLCK": int64(unix.F_RDLCK),
	"F_WRLCK": int64(unix.F_WRLCK),
	"F_UNLCK": int64(unix.F_UNLCK),
	"F_EXLCK": int64(unix.F_EXLCK),
	"F_SHLCK": int64(unix.F_SHLCK),

	"SEEK_SET": int64(unix.SEEK_SET),
	"SEEK_CUR": int64(unix.SEEK_CUR),
	"SEEK_END": int64(unix.SEEK_END),

	"MSG_OOB":          int64(unix.MSG_OOB),
	"MSG_DONTROUTE":    int64(unix.MSG_DONTROUTE),
	"MSG_PEEK":         int64(unix.MSG_PEEK),
	"MSG_CTRUNC":       int64(unix.MSG_CTRUNC),
	"MSG_PROXY":        int64(unix.MSG_PROXY),
	"MSG_EOR":          int64(unix.MSG_EOR),
	"MSG_WAITALL":      int64(unix.MSG_WAITALL),
	"MSG_TRUNC":        int64(unix.MSG_TRUNC),
	"MSG_ERRQUEUE":     int64(unix.MSG_ERRQUEUE),
	"MSG_DONTWAIT":     int64(unix.MSG_DONTWAIT),
	"MSG_CONFIRM":      int64(unix.MSG_CONFIRM),
	"MSG_FIN":          int64(unix.MSG_FIN),
	"MSG_SYN":          int64(unix.MSG_SYN),
	"MSG_RST":          int64(unix.MSG_RST),
	"MSG_NOSIGNAL":     int64(unix.MSG_NOSIGNAL),
	"MSG_MORE":         int64(unix.MSG_MORE),
	"MSG_CMSG_CLOEXEC": int64(unix.MSG_CMSG_CLOEXEC),
	"MSG_FASTOPEN":     int64(unix.MSG_FASTOPEN),
	"MSG_ZEROCOPY":     int64(unix.MSG_ZEROCOPY),

	"SIOCINQ": int64(unix.SIOCINQ),

	"FIONREAD": 21531,

	"POLLIN": int64(unix.POLLIN),

	"POLLPRI": int64(unix.POLLPRI),

	"POLLOUT": int64(unix.POLLOUT),

	"POLLRDNORM": 64,

	"POLLRDBAND": 128,

	"POLLWRNORM": 256,

	"POLLWRBAND": 512,

	"POLLMSG": 1024,

	"POLLREMOVE": 4096,

	"POLLRDHUP": int64(unix.POLLRDHUP),

	"POLLERR": int64(unix.POLLERR),

	"POLLHUP": int64(unix.POLLHUP),

	"POLLNVAL": int64(unix.POLLNVAL),

	"EPERM": int64(unix.EPERM),

	"ENOENT": int64(unix.ENOENT),

	"ESRCH": int64(unix.ESRCH),

	"EINTR": int64(unix.EINTR),

	"EIO": int64(unix.EIO),

	"ENXIO": int64(unix.ENXIO),

	"E2BIG": int64(unix.E2BIG),

	"ENOEXEC": int64(unix.ENOEXEC),

	"EBADF": int64(unix.EBADF),

	"ECHILD": int64(unix.ECHILD),

	"EAGAIN": int64(unix.EAGAIN),

	"ENOMEM": int64(unix.ENOMEM),

	"EACCES": int64(unix.EACCES),

	"EFAULT": int64(unix.EFAULT),

	"ENOTBLK": int64(unix.ENOTBLK),

	"EBUSY": int64(unix.EBUSY),

	"EEXIST": int64(unix.EEXIST),

	"EXDEV": int64(unix.EXDEV),

	"ENODEV": int64(unix.ENODEV),

	"ENOTDIR": int64(unix.ENOTDIR),

	"EISDIR": int64(unix.EISDIR),

	"EINVAL": int64(unix.EINVAL),

	"ENFILE": int64(unix.ENFILE),

	"EMFILE": int64(unix.EMFILE),

	"ENOTTY": int64(unix.ENOTTY),

	"ETXTBSY": int64(unix.ETXTBSY),

	"EFBIG": int64(unix.EFBIG),

	"ENOSPC": int64(unix.ENOSPC),

	"ESPIPE": int64(unix.ESPIPE),

	"EROFS": int64(unix.EROFS),

	"EMLINK": int64(unix.EMLINK),

	"EPIPE": int64(unix.EPIPE),

	"EDOM": int64(unix.EDOM),

	"ERANGE": int64(unix.ERANGE),

	"EDEADLK": int64(unix.EDEADLK),

	"ENAMETOOLONG": int64(unix.ENAMETOOLONG),

	"ENOLCK": int64(unix.ENOLCK),

	"ENOSYS": int64(unix.ENOSYS),

	"ENOTEMPTY": int64(unix.ENOTEMPTY),

	"ELOOP": int64(unix.ELOOP),

	"EWOULDBLOCK": int64(unix.EWOULDBLOCK),

	"ENOMSG": int64(unix.ENOMSG),

	"EIDRM": int64(unix.EIDRM),

	"ECHRNG": int64(unix.ECHRNG),

	"EL2NSYNC": int64(unix.EL2NSYNC),

	"EL3HLT": int64(unix.EL3HLT),

	"EL3RST": int64(unix.EL3RST),

	"ELNRNG": int64(unix.ELNRNG),

	"EUNATCH": int64(unix.EUNATCH),

	"ENOCSI": int64(unix.ENOCSI),

	"EL2HLT": int64(unix.EL2HLT),

	"EBADE": int64(unix.EBADE),

	"EBADR": int64(unix.EBADR),

	"EXFULL": int64(unix.EXFULL),

	"ENOANO": int64(unix.ENOANO),

	"EBADRQC": int64(unix.EBADRQC),

	"EBADSLT": int64(unix.EBADSLT),

	"EDEADLOCK": int64(unix.EDEADLOCK),

	"EBFONT": int64(unix.EBFONT),

	"ENOSTR": int64(unix.ENOSTR),

	"ENODATA": int64(unix.ENODATA),

	"ETIME": int64(unix.ETIME),

	"ENOSR": int64(unix.ENOSR),

	"ENONET": int64(unix.ENONET),

	"ENOPKG": int64(unix.ENOPKG),

	"EREMOTE": int64(unix.EREMOTE),

	"ENOLINK": int64(unix.ENOLINK),

	"EADV": int64(unix.EADV),

	"ESRMNT": int64(unix.ESRMNT),

	"ECOMM": int64(unix.ECOMM),

	"EPROTO": int64(unix.EPROTO),

	"EMULTIHOP": int64(unix.EMULTIHOP),

	"EDOTDOT": int64(unix.EDOTDOT),

	"EBADMSG": int64(unix.EBADMSG),

	"EOVERFLOW": int64(unix.EOVERFLOW),

	"ENOTUNIQ": int64(unix.ENOTUNIQ),

	"EBADFD": int64(unix.EBADFD),

	"EREMCHG": int64(unix.EREMCHG),

	"ELIBACC": int64(unix.ELIBACC),

	"ELIBBAD": int64(unix.ELIBBAD),

	"ELIBSCN": int64(unix.ELIBSCN),

	"ELIBMAX": int64(unix.ELIBMAX),

	"ELIBEXEC": int64(unix.ELIBEXEC),

	"EILSEQ": int64(unix.EILSEQ),

	"ERESTART": int64(unix.ERESTART),

	"ESTRPIPE": int64(unix.ESTRPIPE),

	"EUSERS": int64(unix.EUSERS),

	"ENOTSOCK": int64(unix.ENOTSOCK),

	"EDESTADDRREQ": int64(unix.EDESTADDRREQ),

	"EMSGSIZE": int64(unix.EMSGSIZE),

	"EPROTOTYPE": int64(unix.EPROTOTYPE),

	"ENOPROTOOPT": int64(unix.ENOPROTOOPT),

	"EPROTONOSUPPORT": int64(unix.EPROTONOSUPPORT),

	"ESOCKTNOSUPPORT": int64(unix.ESOCKTNOSUPPORT),

	"EOPNOTSUPP": int64(unix.EOPNOTSUPP),

	"EPFNOSUPPORT": int64(unix.EPFNOSUPPORT),

	"EAFNOSUPPORT": int64(unix.EAFNOSUPPORT),

	"EADDRINUSE": int64(unix.EADDRINUSE),

	"EADDRNOTAVAIL": int64(unix.EADDRNOTAVAIL),

	"ENETDOWN": int64(unix.ENETDOWN),

	"ENETUNREACH": int64(unix.ENETUNREACH),

	"ENETRESET": int64(unix.ENETRESET),

	"ECONNABORTED": int64(unix.ECONNABORTED),

	"ECONNRESET": int64(unix.ECONNRESET),

	"ENOBUFS": int64(unix.ENOBUFS),

	"EISCONN": int64(unix.EISCONN),

	"ENOTCONN": int64(unix.ENOTCONN),

	"ESHUTDOWN": int64(unix.ESHUTDOWN),

	"ETOOMANYREFS": int64(unix.ETOOMANYREFS),

	"ETIMEDOUT": int64(unix.ETIMEDOUT),

	"ECONNREFUSED": int64(unix.ECONNREFUSED),

	"EHOSTDOWN": int64(unix.EHOSTDOWN),

	"EHOSTUNREACH": int64(unix.EHOSTUNREACH),

	"EALREADY": int64(unix.EALREADY),

	"EINPROGRESS": int64(unix.EINPROGRESS),

	"ESTALE": int64(unix.ESTALE),

	"EUCLEAN": int64(unix.EUCLEAN),

	"ENOTNAM": int64(unix.ENOTNAM),

	"ENAVAIL": int64(unix.ENAVAIL),

	"EISNAM": int64(unix.EISNAM),

	"EREMOTEIO": int64(unix.EREMOTEIO),

	"EDQUOT": int64(unix.EDQUOT),

	"ENOMEDIUM": int64(unix.ENOMEDIUM),

	"EMEDIUMTYPE": int64(unix.EMEDIUMTYPE),

	"ECANCELED": int64(unix.ECANCELED),

	"ENOKEY": int64(unix.ENOKEY),

	"EKEYEXPIRED": int64(unix.EKEYEXPIRED),

	"EKEYREVOKED": int64(unix.EKEYREVOKED),

	"EKEYREJECTED": int64(unix.EKEYREJECTED),

	"EOWNERDEAD": int64(unix.EOWNERDEAD),

	"ENOTRECOVERABLE": int64(unix.ENOTRECOVERABLE),

	"ERFKILL": int64(unix.ERFKILL),

	"CAP_EFFECTIVE":        0,
	"CAP_PERMITTED":        1,
	"CAP_INHERITABLE":      2,
	"CAP_SET":              1,
	"CAP_CLEAR":            0,
	"CAP_CHOWN":            int64(unix.CAP_CHOWN),
	"CAP_DAC_OVERRIDE":     int64(unix.CAP_DAC_OVERRIDE),
	"CAP_DAC_READ_SEARCH":  int64(unix.CAP_DAC_READ_SEARCH),
	"CAP_FOWNER":           int64(unix.CAP_FOWNER),
	"CAP_FSETID":           int64(unix.CAP_FSETID),
	"CAP_KILL":             int64(unix.CAP_KILL),
	"CAP_SETGID":           int64(unix.CAP_SETGID),
	"CAP_SETUID":           int64(unix.CAP_SETUID),
	"CAP_SETPCAP":          int64(unix.CAP_SETPCAP),
	"CAP_LINUX_IMMUTABLE":  int64(unix.CAP_LINUX_IMMUTABLE),
	"CAP_NET_BIND_SERVICE": int64(unix.CAP_NET_BIND_SERVICE),
	"CAP_NET_BROADCAST":    int64(unix.CAP_NET_BROADCAST),
	"CAP_NET_ADMIN":        int64(unix.CAP_NET_ADMIN),
	"CAP_NET_RAW":          int64(unix.CAP_NET_RAW),
	"CAP_IPC_LOCK":         int64(unix.CAP_IPC_LOCK),
	"CAP_IPC_OWNER":        int64(unix.CAP_IPC_OWNER),
	"CAP_SYS_MODULE":       int64(unix.CAP_SYS_MODULE),
	"CAP_SYS_RAWIO":        int64(unix.CAP_SYS_RAWIO),
	"CAP_SYS_CHROOT":       int64(unix.CAP_SYS_CHROOT),
	"CAP_SYS_PTRACE":       int64(unix.CAP_SYS_PTRACE),
	"CAP_SYS_PACCT":        int64(unix.CAP_SYS_PACCT),
	"CAP_SYS_ADMIN":        int64(unix.CAP_SYS_ADMIN),
	"CAP_SYS_BOOT":         int64(unix.CAP_SYS_BOOT),
	"CAP_SYS_NICE":         int64(unix.CAP_SYS_NICE),
	"CAP_SYS_RESOURCE":     int64(unix.CAP_SYS_RESOURCE),
	"CAP_SYS_TIME":         int64(unix.CAP_SYS_TIME),
	"CAP_SYS_TTY_CONFIG":   int64(unix.CAP_SYS_TTY_CONFIG),
	"CAP_MKNOD":            int64(unix.CAP_MKNOD),
	"CAP_LEASE":            int64(unix.CAP_LEASE),
	"CAP_AUDIT_WRITE":      int64(unix.CAP_AUDIT_WRITE),
	"CAP_AUDIT_CONTROL":    int64(unix.CAP_AUDIT_CONTROL),
	"CAP_SETFCAP":          int64(unix.CAP_SETFCAP),
	"CAP_MAC_OVERRIDE":     int64(unix.CAP_MAC_OVERRIDE),
	"CAP_MAC_ADMIN":        int64(unix.CAP_MAC_ADMIN),
	"CAP_SYSLOG":           int64(unix.CAP_SYSLOG),
	"CAP_WAKE_ALARM":       int64(unix.CAP_WAKE_ALARM),
	"CAP_BLOCK_SUSPEND":    int64(unix.CAP_BLOCK_SUSPEND),

	"EPOLLIN": int64(unix.EPOLLIN),

	"EPOLLPRI": int64(unix.EPOLLPRI),

	"EPOLLOUT": int64(unix.EPOLLOUT),

	"EPOLLRDNORM": int64(unix.EPOLLRDNORM),

	"EPOLLRDBAND": int64(unix.EPOLLRDBAND),

	"EPOLLWRNORM": int64(unix.EPOLLWRNORM),

	"EPOLLWRBAND": int64(unix.EPOLLWRBAND),

	"EPOLLMSG": int64(unix.EPOLLMSG),

	"EPOLLERR": int64(unix.EPOLLERR),

	"EPOLLHUP": int64(unix.EPOLLHUP),

	"EPOLLRDHUP": int64(unix.EPOLLRDHUP),

	"EPOLLONESHOT": int64(unix.EPOLLONESHOT),

	"EPOLLET": int64(unix.EPOLLET),

	"EPOLLEXCLUSIVE": int64(unix.EPOLLEXCLUSIVE),

	"EPOLL_CTL_ADD": int64(unix.EPOLL_CTL_ADD),
	"EPOLL_CTL_MOD": int64(unix.EPOLL_CTL_MOD),
	"EPOLL_CTL_DEL": int64(unix.EPOLL_CTL_DEL),

	"SPLICE_F_MOVE":     int64(unix.SPLICE_F_MOVE),
	"SPLICE_F_NONBLOCK": int64(unix.SPLICE_F_NONBLOCK),
	"SPLICE_F_MORE":     int64(unix.SPLICE_F_MORE),
	"SPLICE_F_GIFT":     int64(unix.SPLICE_F_GIFT),

	"AF_UNSPEC": int64(unix.AF_UNSPEC),
	"AF_INET":   int64(unix.AF_INET),
	"AF_INET6":  int64(unix.AF_INET6),
	"AF_PACKET": int64(unix.AF_PACKET),

	"PF_INET":  int64(unix.PF_INET),
	"PF_INET6": int64(unix.PF_INET6),

	"SOCK_RAW":      int64(unix.SOCK_RAW),
	"SOCK_STREAM":   int64(unix.SOCK_STREAM),
	"SOCK_DGRAM":    int64(unix.SOCK_DGRAM),
	"SOCK_NONBLOCK": int64(unix.SOCK_NONBLOCK),

	"IPPROTO_RAW":    int64(unix.IPPROTO_RAW),
	"IPPROTO_IP":     int64(unix.IPPROTO_IP),
	"IPPROTO_IPV6":   int64(unix.IPPROTO_IPV6),
	"IPPROTO_ICMP":   int64(unix.IPPROTO_ICMP),
	"IPPROTO_ICMPV6": int64(unix.IPPROTO_ICMPV6),
	"IPPROTO_TCP":    int64(unix.IPPROTO_TCP),
	"IPPROTO_UDP":    int64(unix.IPPROTO_UDP),

	"SHUT_RD":   int64(unix.SHUT_RD),
	"SHUT_WR":   int64(unix.SHUT_WR),
	"SHUT_RDWR": int64(unix.SHUT_RDWR),

	"SOL_SOCKET": int64(unix.SOL_SOCKET),
	"NULL":       0,
}
