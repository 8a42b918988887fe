package observe

import (
	"bufio"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/godrill/godrill/runtime"
)

// pcapSnaplen is above the largest IP packet: with TSO the kernel hands
// the device segments far larger than the MTU, and a capture must not
// truncate them.
const pcapSnaplen = 262144

// Pcap writes every frame of a run, both directions, to a pcap file with
// the kernel's nanosecond timestamps. Frames are IP packets without a
// link header, so the link type is LINKTYPE_RAW (IPv4 or IPv6 by the
// version nibble); the direction is in the addresses.
type Pcap struct {
	bw  *bufio.Writer
	w   *pcapgo.Writer
	n   int
	err error
}

// NewPcap writes the file header to w and returns the writer.
func NewPcap(w io.Writer) (*Pcap, error) {
	bw := bufio.NewWriter(w)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(pcapSnaplen, layers.LinkTypeRaw); err != nil {
		return nil, err
	}
	return &Pcap{bw: bw, w: pw}, nil
}

// Event is not captured.
func (p *Pcap) Event(*runtime.EventRecord) {}

// Frame writes one packet.
func (p *Pcap) Frame(f runtime.Frame) {
	if p.err != nil {
		return
	}
	ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: len(f.Data)}
	if p.err = p.w.WritePacket(ci, f.Data); p.err == nil {
		p.n++
	}
}

// Count is the number of packets written.
func (p *Pcap) Count() int { return p.n }

// Flush writes what is buffered and returns the first error.
func (p *Pcap) Flush() error {
	if err := p.bw.Flush(); p.err == nil {
		p.err = err
	}
	return p.err
}
