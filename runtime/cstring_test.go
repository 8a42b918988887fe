package runtime

import (
	"bytes"
	"testing"
)

func TestUnescapeCString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
		bad  bool
	}{
		{in: "abc", want: []byte("abc")},
		{in: `\xa1\xA1\xb2`, want: []byte{0xa1, 0xa1, 0xb2}},
		{in: `a\tb\n\r\v\f`, want: []byte("a\tb\n\r\v\f")},
		// The reference's switch falls through from '\\' and '"' to '\f'.
		{in: `\\\"`, want: []byte("\f\f")},
		{in: `\x1`, bad: true},
		{in: `\xzz`, bad: true},
		{in: `\q`, bad: true},
	} {
		got, err := unescapeCString(tc.in)
		if (err != nil) != tc.bad || !tc.bad && !bytes.Equal(got, tc.want) {
			t.Errorf("unescapeCString(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}
