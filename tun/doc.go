// Package tun gives a godrill run its own network: a private network
// namespace (entered by re-executing the current binary), a TUN device
// tun0 configured like packetdrill's, a way to inject IP packets into the
// kernel, and a packet-socket sniffer that returns what the kernel sends
// with kernel timestamps.
//
// Nothing here touches the caller's network namespace. The parent calls
// [Command] to start a copy of itself in fresh namespaces; the copy sees
// [Isolated] report true and calls [Setup]. Nothing is bind-mounted, so the
// namespaces and every device, address and route in them vanish with the
// last process inside them, however that process ends.
package tun
