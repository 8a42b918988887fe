package observe

// glyphs are the characters the trace and diagram draw with.
type glyphs struct {
	vert, horiz, dash  string // lifeline, arrow shaft, failed arrow shaft
	right, left        string // arrow heads
	fail, to, ellipsis string
}

var (
	unicodeGlyphs = glyphs{"│", "─", "┄", "►", "◄", "✗", "→", "…"}
	asciiGlyphs   = glyphs{"|", "-", ".", ">", "<", "X", "->", "..."}
)

func glyphsFor(ascii bool) glyphs {
	if ascii {
		return asciiGlyphs
	}
	return unicodeGlyphs
}
