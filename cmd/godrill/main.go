// Command godrill runs packetdrill scripts against the live Linux kernel,
// each in a private network namespace.
package main

import (
	"os"

	"github.com/godrill/godrill/drill"
)

func main() {
	drill.SandboxMain()
	os.Exit(drill.Main(os.Args[1:], os.Stdout, os.Stderr))
}
