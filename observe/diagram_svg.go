package observe

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The SVG's geometry, in pixels: a monospace font of svgFont pixels whose
// characters are about svgCharW wide, the two lifelines at svgKernelX and
// svgPeerX, the time on the far left and each side's state beside its
// lifeline, outside the space arrows cross.
const (
	svgFont    = 13
	svgCharW   = 7.8
	svgW       = 900
	svgKernelX = 200
	svgPeerX   = 760
	svgTop     = 60 // where the lifelines start
	svgLabelN  = 68 // characters of a label that fit between the lifelines
	svgErrN    = 108
	svgFail    = "#c62828"
)

// RenderSVG writes the diagram as a standalone SVG document: the same
// sequence as Render (see sequence), with the kernel's socket and the
// scripted peer as two lifelines, an arrow per packet labelled with the
// segment and its actual time, notes for system calls and commands on the
// kernel's side, each side's state written on its lifeline where it
// changes, and the failing event and its error in red. runErr is the
// run's outcome, as for Render.
func (d *Diagram) RenderSVG(w io.Writer, runErr error) error {
	seq := d.sequence()
	var body strings.Builder
	text := func(x, y int, anchor, class, s string) {
		fmt.Fprintf(&body, `<text x="%d" y="%d"`, x, y)
		if anchor != "" {
			fmt.Fprintf(&body, ` text-anchor="%s"`, anchor)
		}
		if class != "" {
			fmt.Fprintf(&body, ` class="%s"`, class)
		}
		fmt.Fprintf(&body, ">%s</text>\n", svgEscape(s))
	}
	kernelState := func(y int, s string) {
		if s != "" {
			text(svgKernelX-8, y, "end", "state", s)
		}
	}
	peerState := func(y int, s string) {
		if s != "" {
			text(svgPeerX+8, y, "", "state", s)
		}
	}
	fitSVG := func(s string, n int) string {
		if utf8.RuneCountInString(s) <= n {
			return s
		}
		return string([]rune(s)[:n-1]) + "…"
	}

	y := svgTop + 10
	for _, s := range seq.steps {
		at := fmt.Sprintf("%.3f", s.at.Seconds())
		fail := ""
		if s.failed {
			fail = "fail"
		}
		switch s.kind {
		case stepPeerState:
			peerState(y+14, s.peerState)
			y += 20
		case stepPacket:
			label := s.text
			if s.failed {
				label = "✗ " + label
			}
			text(12, y+18, "", "time", at)
			text((svgKernelX+svgPeerX)/2, y+18, "middle", strings.TrimSpace("label "+fail), fitSVG(label, svgLabelN))
			peerState(y+12, s.peerBefore)
			x1, x2 := svgKernelX, svgPeerX
			if s.inbound {
				x1, x2 = x2, x1
			}
			marker := "head"
			if s.failed {
				marker = "head-fail"
			}
			fmt.Fprintf(&body, `<line class="%s" x1="%d" y1="%d" x2="%d" y2="%d" marker-end="url(#%s)"/>`+"\n",
				strings.TrimSpace("arrow "+fail), x1, y+26, x2, y+26, marker)
			kernelState(y+31, s.kernelState)
			peerState(y+31, s.peerState)
			y += 40
		case stepNote:
			note := s.text
			if s.failed {
				note = "✗ " + note
			}
			note = fitSVG(note, svgLabelN)
			wide := int(float64(utf8.RuneCountInString(note))*svgCharW) + 12
			fmt.Fprintf(&body, `<rect class="%s" x="%d" y="%d" width="%d" height="20" rx="3"/>`+"\n",
				strings.TrimSpace("note "+fail), svgKernelX+6, y+1, wide)
			text(12, y+15, "", "time", at)
			text(svgKernelX+12, y+15, "", strings.TrimSpace("notetext "+fail), note)
			kernelState(y+15, s.kernelState)
			y += 24
		}
	}
	bottom := y + 10

	if lines := seq.failureBlock(runErr, "✗", svgErrN); lines != nil {
		y = bottom + 12
		for _, line := range lines {
			y += 18
			// Indent with x: renderers differ on keeping spaces.
			indent := len(line) - len(strings.TrimLeft(line, " "))
			text(12+int(float64(indent)*svgCharW), y, "", "error", line[indent:])
		}
	}
	height := max(bottom, y) + 16

	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="%d">`+"\n",
		svgW, height, svgW, height, svgFont)
	b.WriteString("<title>godrill sequence diagram</title>\n")
	b.WriteString(`<style>
text { fill: #222; white-space: pre; }
.head { font-weight: bold; }
.addr, .time { fill: #666; }
.state { fill: #1565c0; font-weight: bold; }
.lifeline { stroke: #444; stroke-width: 1.5; }
.arrow { stroke: #222; stroke-width: 1.2; }
.note { fill: #f3f3f3; stroke: #bbb; }
.fail { fill: ` + svgFail + `; }
line.fail { stroke: ` + svgFail + `; stroke-dasharray: 6 4; }
rect.fail { fill: #fdecea; stroke: ` + svgFail + `; }
.error { fill: ` + svgFail + `; }
</style>
<defs>
<marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker>
<marker id="head-fail" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="` + svgFail + `"/></marker>
</defs>
<rect width="100%" height="100%" fill="#fff"/>
`)
	head := func(x int, name, addr string) {
		fmt.Fprintf(&b, `<text x="%d" y="22" text-anchor="middle" class="head">%s</text>`+"\n", x, svgEscape(name))
		if addr != "" {
			fmt.Fprintf(&b, `<text x="%d" y="40" text-anchor="middle" class="addr">%s</text>`+"\n", x, svgEscape(addr))
		}
	}
	head(svgKernelX, "kernel", d.kernel)
	head(svgPeerX, "peer (script)", d.peer)
	for _, x := range []int{svgKernelX, svgPeerX} {
		fmt.Fprintf(&b, `<line class="lifeline" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", x, svgTop-10, x, bottom)
	}
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// svgEscape escapes s for XML character data and attribute values.
func svgEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}
