// Package vm runs godrill inside a small virtual machine per kernel: it
// builds the guest's initramfs (the agent, the host tools scripts call with
// their shared libraries, the kernel modules the scripts need in load
// order), starts qemu with the kernel image, and speaks the framed agent
// protocol over a serial port. The guest side (Agent) mounts the pseudo
// file systems, loads the modules and serves requests.
//
// The package knows nothing of scripts: drill sends requests and reads
// replies as JSON values of its own.
package vm
