#!/bin/sh
# Makes the captures of this directory: real programs talking over a veth
# pair between two network namespaces made here (never the host's), with
# tcpdump capturing on the server's side. Run as root from this directory:
#   sh make.sh
# Needs iproute2, tcpdump, curl and python3. The namespaces are deleted at
# the end (and on failure). The tests only read the captures; they do not
# run this.
set -eu
S=fpcap-srv C=fpcap-cli
cleanup() {
	ip netns del $S 2>/dev/null || true
	ip netns del $C 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $S
ip netns add $C
ip link add fp-s netns $S type veth peer name fp-c netns $C
ip -n $S addr add 10.9.0.1/24 dev fp-s
ip -n $C addr add 10.9.0.2/24 dev fp-c
ip -n $S addr add fd00:9::1/64 dev fp-s nodad
ip -n $C addr add fd00:9::2/64 dev fp-c nodad
for n in $S $C; do ip -n $n link set lo up; done
ip -n $S link set fp-s up
ip -n $C link set fp-c up
sleep 1

www=$(mktemp -d)
printf 'hello from the capture\n' > "$www/hello.txt"

# capture FILE IFACE FILTER -- COMMAND...: tcpdump in the server's
# namespace while COMMAND runs.
capture() {
	file=$1 iface=$2 filter=$3
	shift 4
	ip netns exec $S tcpdump -q -n -s 0 -U -i "$iface" -w "$file" "$filter" 2>/dev/null &
	tcpdump=$!
	sleep 1
	"$@"
	sleep 1
	kill -TERM $tcpdump
	wait $tcpdump || true
}

# 1. curl fetches a small file from python's http.server (IPv4, Ethernet link).
(cd "$www" && exec ip netns exec $S python3 -m http.server 8000 --bind 10.9.0.1) >/dev/null 2>&1 &
web=$!
sleep 1
capture http-get.pcap fp-s 'tcp port 8000' -- \
	ip netns exec $C curl -s -o /dev/null http://10.9.0.1:8000/hello.txt
kill $web; wait $web 2>/dev/null || true

# 1b. Two fetches one after the other: two connections in one capture.
(cd "$www" && exec ip netns exec $S python3 -m http.server 8000 --bind 10.9.0.1) >/dev/null 2>&1 &
web=$!
sleep 1
capture two-connections.pcap fp-s 'tcp port 8000' -- \
	sh -c "ip netns exec $C curl -s -o /dev/null http://10.9.0.1:8000/hello.txt; sleep 0.2;
		ip netns exec $C curl -s -o /dev/null http://10.9.0.1:8000/missing.txt"
kill $web; wait $web 2>/dev/null || true

# 1c. curl to a port where nothing listens: the server's kernel answers the
#     SYN with RST. No side accepted, so from-pcap tests the client.
capture refused.pcap fp-s 'tcp port 8001' -- \
	sh -c "ip netns exec $C curl -s -o /dev/null http://10.9.0.1:8001/ || true"

# 2. The same over IPv6, captured on "any" (Linux SLL2 link headers); the
#    IPv6 MSS on a 1500-byte link is 1440.
(cd "$www" && exec ip netns exec $S python3 -m http.server 8000 --bind fd00:9::1) >/dev/null 2>&1 &
web=$!
sleep 1
capture http-get-ipv6-sll2.pcap any 'tcp port 8000' -- \
	ip netns exec $C curl -s -o /dev/null 'http://[fd00:9::1]:8000/hello.txt'
kill $web; wait $web 2>/dev/null || true

# 3. A half-close by the server: it greets, shutdown(SHUT_WR)s, and goes on
#    reading what the client sends until the client's FIN; then it closes.
ip netns exec $S python3 -c '
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.9.0.1", 9000)); l.listen(1)
c, _ = l.accept()
c.sendall(b"greeting\n")
c.shutdown(socket.SHUT_WR)
while c.recv(4096):
    pass
c.close()
' &
srv=$!
sleep 1
capture half-close.pcap fp-s 'tcp port 9000' -- \
	ip netns exec $C python3 -c '
import socket, time
s = socket.create_connection(("10.9.0.1", 9000))
while s.recv(4096):
    pass
for i in range(2):
    s.sendall(b"x" * 500); time.sleep(0.05)
s.close()
'
wait $srv

# 4. A reset by the server: it reads the request, then closes with
#    SO_LINGER {on, 0}, which sends RST instead of FIN.
ip netns exec $S python3 -c '
import socket, struct
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.9.0.1", 9001)); l.listen(1)
c, _ = l.accept()
c.recv(4096)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
' &
srv=$!
sleep 1
capture reset.pcap fp-s 'tcp port 9001' -- \
	ip netns exec $C python3 -c '
import socket, time
s = socket.create_connection(("10.9.0.1", 9001))
s.sendall(b"please reset me\n")
try:
    s.recv(4096)
except ConnectionResetError:
    pass
'
wait $srv
rm -r "$www"
