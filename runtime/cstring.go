package runtime

import (
	"fmt"
	"strconv"

	"github.com/godrill/godrill/parser"
)

// unescapeCString decodes the escapes of a script string as the reference's
// unescape_cstring_expression (script.c) does when it evaluates a string
// argument: \f \n \r \t \v and \xhh; like the reference, whose switch falls
// through from '\\' and '"' into '\f', both \\ and \" become a form feed.
// Any other escape is an error.
func unescapeCString(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		i++
		if i >= len(s) {
			// The reference copies the terminating NUL and stops.
			return out, nil
		}
		switch s[i] {
		case '\\', '"', 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			if i+3 <= len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					out = append(out, byte(v))
					i += 2
					continue
				}
			}
			return nil, fmt.Errorf("invalid hex escape (\\xhh): '\\x%s'", s[i+1:])
		default:
			return nil, fmt.Errorf("unsupported escape code: '%c'", s[i])
		}
	}
	return out, nil
}

// strBytes is the value of a string argument, its escapes decoded.
func (c *call) strBytes(s *parser.StringLit) ([]byte, error) {
	b, err := unescapeCString(s.Value)
	if err != nil {
		return nil, c.fail("%v", err)
	}
	return b, nil
}
