// Package wire is packetdrill's wire mode: a script's system calls run on
// one machine (the client) while another (the server) injects and sniffs
// its packets on an Ethernet device toward the client's NIC. The two talk
// over a TCP control connection in the reference's protocol, so a godrill
// client works with a reference server and the other way round.
//
// Every message on the control connection is a header of two big-endian
// 32-bit words, the message's total length (header included) and its op,
// followed by the op's payload:
//
//	client → server  CommandLineArgs  the client's argv, each argument NUL-terminated
//	client → server  ScriptPath       the script's path, as given
//	client → server  Script           the script's text
//	client → server  HardwareAddr     the client NIC's 6-byte MAC address
//	client → server  LiveLocalIP      the client's address, as text
//	client → server  LiveRemoteIP     the scripted peer's address, as text
//	server → client  ServerReady      (empty)
//	client → server  ClientStarting   (empty): the client's script time 0 is now
//	client → server  PacketsStart     events run so far, PSP SPI table: run the packet events from here
//	server → client  PacketsWarn      a warning to print (zero or more)
//	server → client  PacketsDone      result, events run so far, error message
//
// The client sends PacketsStart when it reaches a packet event after a
// non-packet one, and waits for PacketsDone when it reaches a non-packet
// event (or the end) after packet events; the server does the mirror image.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Op is a control message's type (wire_protocol.h's enum wire_op_t).
type Op uint32

// The ops, in the reference's numbering.
const (
	OpInvalid Op = iota
	OpCommandLineArgs
	OpScriptPath
	OpScript
	OpHardwareAddr
	OpLiveLocalIP
	OpLiveRemoteIP
	OpServerReady
	OpClientStarting
	OpPacketsStart
	OpPacketsWarn
	OpPacketsDone
	numOps
)

var opNames = [...]string{
	OpInvalid:         "WIRE_INVALID",
	OpCommandLineArgs: "WIRE_COMMAND_LINE_ARGS",
	OpScriptPath:      "WIRE_SCRIPT_PATH",
	OpScript:          "WIRE_SCRIPT",
	OpHardwareAddr:    "WIRE_HARDWARE_ADDR",
	OpLiveLocalIP:     "WIRE_LIVE_LOCAL_IP",
	OpLiveRemoteIP:    "WIRE_LIVE_REMOTE_IP",
	OpServerReady:     "WIRE_SERVER_READY",
	OpClientStarting:  "WIRE_CLIENT_STARTING",
	OpPacketsStart:    "WIRE_PACKETS_START",
	OpPacketsWarn:     "WIRE_PACKETS_WARN",
	OpPacketsDone:     "WIRE_PACKETS_DONE",
}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("WIRE_OP_%d", uint32(o))
}

const (
	headerLen = 8
	// maxPayload caps what a peer can make us allocate, as the reference
	// does (10 MB).
	maxPayload = 10 * 1000 * 1000

	// pspEntries and pspKeyLen size the PSP SPI table a PacketsStart
	// carries (psp_state.h: 10 entries of script SPI, live SPI, 32-byte
	// key, then an entry count; all 4-byte aligned, so no padding).
	pspEntries  = 10
	pspKeyLen   = 32
	pspStateLen = pspEntries*(4+4+pspKeyLen) + 4
	// PacketsStartLen is the exact payload length of a PacketsStart.
	PacketsStartLen = 4 + pspStateLen
)

// Result codes of PacketsDone (the reference's STATUS_OK, STATUS_ERR).
const (
	StatusOK  int32 = 0
	StatusErr int32 = -1
)

// Conn is one end of the control connection.
type Conn struct {
	rw  io.ReadWriter
	buf []byte
}

// NewConn wraps a connected stream.
func NewConn(rw io.ReadWriter) *Conn { return &Conn{rw: rw} }

// ErrClosed is returned by Read when the other side closed the connection.
var ErrClosed = errors.New("remote side closed connection")

// Write sends one message.
func (c *Conn) Write(op Op, payload []byte) error {
	msg := make([]byte, headerLen, headerLen+len(payload))
	binary.BigEndian.PutUint32(msg[0:], uint32(headerLen+len(payload)))
	binary.BigEndian.PutUint32(msg[4:], uint32(op))
	msg = append(msg, payload...)
	if _, err := c.rw.Write(msg); err != nil {
		return fmt.Errorf("sending %v: %w", op, err)
	}
	return nil
}

// Read receives one message; the payload is valid until the next Read.
func (c *Conn) Read() (Op, []byte, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(c.rw, h[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return OpInvalid, nil, ErrClosed
		}
		return OpInvalid, nil, err
	}
	total := binary.BigEndian.Uint32(h[0:])
	op := Op(binary.BigEndian.Uint32(h[4:]))
	if total < headerLen || total-headerLen > maxPayload {
		return op, nil, fmt.Errorf("invalid length %d from remote wire conn", int64(total)-headerLen)
	}
	n := int(total - headerLen)
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	c.buf = c.buf[:n]
	if _, err := io.ReadFull(c.rw, c.buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return op, nil, ErrClosed
		}
		return op, nil, err
	}
	return op, c.buf, nil
}

// Expect receives one message and checks its op.
func (c *Conn) Expect(op Op) ([]byte, error) {
	got, payload, err := c.Read()
	if err != nil {
		return nil, fmt.Errorf("error reading %v: %w", op, err)
	}
	if got != op {
		return nil, fmt.Errorf("expected %v, got %v", op, got)
	}
	return payload, nil
}

// PacketsStart is the client's request to run packet events.
type PacketsStart struct {
	NumEvents uint32 // events the client has taken up so far
	// PSP is the client's script-to-live SPI table, passed through as the
	// reference lays it out (psp_state.h); godrill's client sends it empty.
	PSP [pspStateLen]byte
}

// Marshal encodes the request.
func (s *PacketsStart) Marshal() []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, PacketsStartLen), s.NumEvents)
	return append(b, s.PSP[:]...)
}

// UnmarshalPacketsStart decodes a request.
func UnmarshalPacketsStart(b []byte) (PacketsStart, error) {
	var s PacketsStart
	if len(b) != PacketsStartLen {
		return s, fmt.Errorf("bad WIRE_PACKETS_START length %d, want %d", len(b), PacketsStartLen)
	}
	s.NumEvents = binary.BigEndian.Uint32(b)
	copy(s.PSP[:], b[4:])
	return s, nil
}

// PacketsDone is the server's answer to a batch of packet events.
type PacketsDone struct {
	Result    int32  // StatusOK or StatusErr
	NumEvents uint32 // events the server has taken up so far
	Error     string // the failure report when Result is StatusErr
}

// Marshal encodes the answer, the message NUL-terminated.
func (d *PacketsDone) Marshal() []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(d.Result))
	b = binary.BigEndian.AppendUint32(b, d.NumEvents)
	return append(append(b, d.Error...), 0)
}

// UnmarshalPacketsDone decodes an answer.
func UnmarshalPacketsDone(b []byte) (PacketsDone, error) {
	var d PacketsDone
	if len(b) < 9 {
		return d, errors.New("bad wire server: bad WIRE_PACKETS_DONE len")
	}
	if b[len(b)-1] != 0 {
		return d, errors.New("bad wire server: missing string terminator")
	}
	d.Result = int32(binary.BigEndian.Uint32(b))
	d.NumEvents = binary.BigEndian.Uint32(b[4:])
	d.Error = string(b[8 : len(b)-1])
	return d, nil
}

// EncodeArgs serializes a command line as the reference does: each
// argument NUL-terminated, leaving out every argument that names
// -wire_client (the server must not take itself for a client).
func EncodeArgs(argv []string) []byte {
	var b []byte
	for _, a := range argv {
		if strings.Contains(a, "-wire_client") {
			continue
		}
		b = append(append(b, a...), 0)
	}
	return b
}

// DecodeArgs splits a serialized command line.
func DecodeArgs(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		out = append(out, string(b[:i]))
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}
