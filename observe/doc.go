// Package observe shows what the kernel did during a run: the TCP state
// of the connection under test after each event (read with sock_diag), a
// one-line-per-event trace, a pcap capture of every frame, a sequence
// diagram of the kernel and the scripted peer, and a JSON Lines event log.
//
// Each writer is a runtime.Observer; the runtime calls them in order from
// its event loop, so they need no locking. Finish writes what is buffered
// and closes files.
package observe
