package vm

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A frame is one line: the magic, the length of the payload, the payload
// (base64 of a JSON value) and a newline. A serial line can carry anything
// else too (kernel messages, a shell's noise): lines without the magic are
// not frames, and a frame whose length does not match (a kernel message
// spliced into it) is an error rather than a wrong value.
const frameMagic = "\x1e" + "GODRILL1 "

// maxFrame bounds one frame's line (a reply carries the run's capture and
// event log files).
const maxFrame = 64 << 20

// WriteFrame writes v as one frame.
func WriteFrame(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b64 := base64.StdEncoding.EncodeToString(data)
	_, err = io.WriteString(w, frameMagic+strconv.Itoa(len(b64))+" "+b64+"\n")
	return err
}

// FrameReader reads frames from a stream, passing other lines to Noise.
type FrameReader struct {
	sc    *bufio.Scanner
	Noise func(line string)
}

// NewFrameReader reads frames from r.
func NewFrameReader(r io.Reader) *FrameReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxFrame)
	return &FrameReader{sc: sc}
}

// Read decodes the next frame into v; io.EOF when the stream ends.
func (fr *FrameReader) Read(v any) error {
	for fr.sc.Scan() {
		line := strings.TrimRight(fr.sc.Text(), "\r")
		i := strings.Index(line, frameMagic)
		if i < 0 {
			if fr.Noise != nil {
				fr.Noise(line)
			}
			continue
		}
		if i > 0 && fr.Noise != nil {
			fr.Noise(line[:i])
		}
		rest := line[i+len(frameMagic):]
		lenStr, b64, ok := strings.Cut(rest, " ")
		n, err := strconv.Atoi(lenStr)
		if !ok || err != nil || n != len(b64) {
			return fmt.Errorf("garbled frame (%d bytes, length field %q)", len(b64), lenStr)
		}
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return fmt.Errorf("garbled frame: %v", err)
		}
		return json.Unmarshal(data, v)
	}
	if err := fr.sc.Err(); err != nil {
		return err
	}
	return io.EOF
}
