// Package docs holds godrill's documentation; its test runs every script
// block of README.md and docs/*.md (the blocks fenced as ```pkt) against
// the kernel and checks the verdict the fence gives.
package docs
