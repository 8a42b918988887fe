package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/godrill/godrill/parser"
)

// TestFraming: a message is a big-endian total length (header included)
// and op, then the payload, as wire_conn.c writes it.
func TestFraming(t *testing.T) {
	var buf bytes.Buffer
	c := NewConn(&buf)
	if err := c.Write(OpScriptPath, []byte("a.pkt")); err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 13, 0, 0, 0, 2, 'a', '.', 'p', 'k', 't'}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("wrote % x, want % x", buf.Bytes(), want)
	}
	op, payload, err := c.Read()
	if err != nil || op != OpScriptPath || string(payload) != "a.pkt" {
		t.Fatalf("read %v %q %v", op, payload, err)
	}
	if _, _, err := c.Read(); !errors.Is(err, ErrClosed) {
		t.Errorf("read at EOF: %v, want ErrClosed", err)
	}
	buf.Write([]byte{0, 0, 0, 4, 0, 0, 0, 1}) // shorter than its own header
	if _, _, err := c.Read(); err == nil || !strings.Contains(err.Error(), "invalid length") {
		t.Errorf("short length accepted: %v", err)
	}
}

// TestOpNumbers pins the ops to wire_protocol.h's enum.
func TestOpNumbers(t *testing.T) {
	for op, n := range map[Op]uint32{OpInvalid: 0, OpCommandLineArgs: 1, OpHardwareAddr: 4, OpLiveRemoteIP: 6,
		OpServerReady: 7, OpClientStarting: 8, OpPacketsStart: 9, OpPacketsWarn: 10, OpPacketsDone: 11} {
		if uint32(op) != n {
			t.Errorf("%v = %d, want %d", op, uint32(op), n)
		}
	}
	if OpPacketsDone.String() != "WIRE_PACKETS_DONE" || Op(99).String() != "WIRE_OP_99" {
		t.Errorf("names: %v %v", OpPacketsDone, Op(99))
	}
}

// TestPayloads: PacketsStart is the event count and the 404-byte PSP table
// (408 bytes in all); PacketsDone is result, count and a NUL-terminated
// message.
func TestPayloads(t *testing.T) {
	s := PacketsStart{NumEvents: 7}
	s.PSP[0] = 0xaa
	b := s.Marshal()
	if len(b) != 408 || binary.BigEndian.Uint32(b) != 7 || b[4] != 0xaa {
		t.Fatalf("PacketsStart: %d bytes % x", len(b), b[:8])
	}
	if got, err := UnmarshalPacketsStart(b); err != nil || got != s {
		t.Errorf("round trip: %v %v", got.NumEvents, err)
	}
	if _, err := UnmarshalPacketsStart(b[:407]); err == nil {
		t.Error("short PacketsStart accepted")
	}
	d := PacketsDone{Result: StatusErr, NumEvents: 3, Error: "x.pkt:1: error"}
	b = d.Marshal()
	if binary.BigEndian.Uint32(b) != 0xffffffff || b[len(b)-1] != 0 || len(b) != 8+len(d.Error)+1 {
		t.Fatalf("PacketsDone: % x", b)
	}
	if got, err := UnmarshalPacketsDone(b); err != nil || got != d {
		t.Errorf("round trip: %+v %v", got, err)
	}
	if _, err := UnmarshalPacketsDone(b[:len(b)-1]); err == nil {
		t.Error("unterminated message accepted")
	}
}

// TestArgs: the client leaves out every argument naming -wire_client.
func TestArgs(t *testing.T) {
	argv := []string{"packetdrill", "--wire_client", "--wire_client_dev=eth0", "--wire_server_ip=10.0.0.2", "-D", "X=1", "a.pkt"}
	b := EncodeArgs(argv)
	if string(b) != "packetdrill\x00--wire_server_ip=10.0.0.2\x00-D\x00X=1\x00a.pkt\x00" {
		t.Errorf("encoded %q", b)
	}
	got := DecodeArgs(b)
	if strings.Join(got, " ") != "packetdrill --wire_server_ip=10.0.0.2 -D X=1 a.pkt" {
		t.Errorf("decoded %q", got)
	}
}

// TestConversation runs the two links against each other over a pipe:
// the hello, the start, and two batches of packet events around a system
// call, the second one failing on the server.
func TestConversation(t *testing.T) {
	script, err := parser.Parse("t.pkt", []byte(`0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 < S 0:0(0) win 1000
+0 > S. 0:0(0) ack 1 <...>
+0 close(3) = 0
+0 < R 1:1(0) win 0
`), parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cp, sp := net.Pipe()
	defer cp.Close()
	defer sp.Close()
	hello := &Hello{Args: []string{"packetdrill", "--ip_version=ipv4", "t.pkt"}, ScriptPath: "t.pkt",
		Script: []byte("x"), HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}, LocalIP: "192.168.0.1", RemoteIP: "192.0.2.1"}
	serverDone := make(chan error, 1)
	go func() {
		c := NewConn(sp)
		h, err := c.ReceiveHello()
		if err == nil && (h.ScriptPath != "t.pkt" || h.HardwareAddr.String() != "02:00:00:00:00:01" || h.RemoteIP != "192.0.2.1" || len(h.Args) != 3) {
			err = errors.New("hello garbled")
		}
		if err == nil {
			err = c.Write(OpServerReady, nil)
		}
		l := NewServerLink(c)
		if err == nil {
			err = l.Start()
		}
		for i, ev := range script.Events {
			if err != nil {
				break
			}
			if err = l.NextEvent(ev); err == nil && i == 4 {
				l.Warn("a warning\n")
				err = l.Fail("t.pkt:5: error handling packet: no")
				break
			}
		}
		serverDone <- err
	}()
	c := NewConn(cp)
	if err := c.SendHello(hello); err != nil {
		t.Fatal(err)
	}
	var warnings bytes.Buffer
	l := NewClientLink(c, &warnings)
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	for _, ev := range script.Events {
		if err := l.NextEvent(ev); err != nil {
			t.Fatalf("event at line %d: %v", ev.Pos.Line, err)
		}
	}
	var se *ServerError
	if err := l.NextEvent(nil); !errors.As(err, &se) || se.Report != "t.pkt:5: error handling packet: no" {
		t.Errorf("end: %v", err)
	}
	if l.ServerReport() == "" || warnings.String() != "a warning\n" {
		t.Errorf("report %q, warnings %q", l.ServerReport(), warnings.String())
	}
	if err := <-serverDone; err != nil {
		t.Errorf("server: %v", err)
	}
}
