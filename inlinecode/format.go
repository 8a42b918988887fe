package inlinecode

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// pyFormat implements Python's printf-style string formatting, format % args,
// for the conversions d i u o x X e E f F g G c r s a and %%, with the
// flags '#0- +', a width and a precision ('*' for either takes an argument),
// and %(name)s keys when args is a mapping.
func pyFormat(format string, args starlark.Value) (string, error) {
	var list []starlark.Value
	var mapping starlark.Mapping
	switch a := args.(type) {
	case starlark.Tuple:
		list = a
	case starlark.Mapping:
		if _, isString := args.(starlark.String); !isString {
			mapping = a
		}
		list = []starlark.Value{args}
	default:
		list = []starlark.Value{args}
	}
	next := 0
	pop := func() (starlark.Value, error) {
		if next >= len(list) {
			return nil, fmt.Errorf("not enough arguments for format string")
		}
		v := list[next]
		next++
		return v, nil
	}

	var b strings.Builder
	usedMapping := false
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		var arg starlark.Value
		if format[i] == '(' {
			if mapping == nil {
				return "", fmt.Errorf("format requires a mapping")
			}
			end := strings.IndexByte(format[i:], ')')
			if end < 0 {
				return "", fmt.Errorf("incomplete format key")
			}
			key := format[i+1 : i+end]
			v, found, err := mapping.Get(starlark.String(key))
			if err != nil {
				return "", err
			}
			if !found {
				return "", fmt.Errorf("KeyError: %q", key)
			}
			arg = v
			usedMapping = true
			i += end + 1
		}
		// Flags.
		var flags strings.Builder
		for i < len(format) && strings.IndexByte("#0- +", format[i]) >= 0 {
			flags.WriteByte(format[i])
			i++
		}
		readNum := func() (string, error) {
			if i < len(format) && format[i] == '*' {
				i++
				v, err := pop()
				if err != nil {
					return "", err
				}
				n, err := starlark.AsInt32(v)
				if err != nil {
					return "", fmt.Errorf("* wants int")
				}
				return strconv.Itoa(n), nil
			}
			start := i
			for i < len(format) && format[i] >= '0' && format[i] <= '9' {
				i++
			}
			return format[start:i], nil
		}
		width, err := readNum()
		if err != nil {
			return "", err
		}
		prec := ""
		hasPrec := false
		if i < len(format) && format[i] == '.' {
			i++
			hasPrec = true
			if prec, err = readNum(); err != nil {
				return "", err
			}
			if prec == "" {
				prec = "0"
			}
		}
		// Length modifiers are accepted and ignored, as in Python.
		for i < len(format) && strings.IndexByte("hlL", format[i]) >= 0 {
			i++
		}
		if i >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		verb := format[i]
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if arg == nil {
			if arg, err = pop(); err != nil {
				return "", err
			}
		}
		s, err := formatOne(flags.String(), width, hasPrec, prec, verb, arg)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	if next < len(list) && !usedMapping && mapping == nil {
		return "", fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// formatOne formats one value with Python's conversion flags, width and
// precision.
func formatOne(flags, width string, hasPrec bool, prec string, verb byte, v starlark.Value) (string, error) {
	precSpec := ""
	if hasPrec {
		precSpec = "." + prec
	}
	spec := "%" + flags + width + precSpec
	noZero := "%" + strings.ReplaceAll(flags, "0", "") + width + precSpec
	switch verb {
	case 's', 'r', 'a':
		var s string
		if verb == 's' {
			s = str(v)
		} else {
			s = repr(v)
		}
		return fmt.Sprintf(noZero+"s", s), nil
	case 'd', 'i', 'u', 'o', 'x', 'X':
		n, err := toBigInt(v, verb)
		if err != nil {
			return "", err
		}
		goVerb := map[byte]string{'d': "d", 'i': "d", 'u': "d", 'o': "o", 'x': "x", 'X': "X"}[verb]
		if verb == 'o' && strings.Contains(flags, "#") {
			// Python writes 0o17 where Go writes 017.
			s := fmt.Sprintf("%o", new(big.Int).Abs(n))
			return pad(sign(n, flags)+"0o"+s, flags, width), nil
		}
		if hasPrec {
			// Python's precision for integers is a minimum digit count.
			s := fmt.Sprintf("%"+goVerb, new(big.Int).Abs(n))
			p, _ := strconv.Atoi(prec)
			if len(s) < p {
				s = strings.Repeat("0", p-len(s)) + s
			}
			if strings.Contains(flags, "#") && (verb == 'x' || verb == 'X') {
				s = "0" + string(verb) + s
			}
			return pad(sign(n, flags)+s, flags, width), nil
		}
		return fmt.Sprintf(spec+goVerb, n), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		f, ok := starlark.AsFloat(v)
		if !ok {
			return "", fmt.Errorf("%%%c format: a real number is required, not %s", verb, v.Type())
		}
		if verb == 'F' {
			verb = 'f'
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			s := strings.ToLower(fmt.Sprint(f))
			s = strings.TrimPrefix(s, "+")
			if verb == 'E' || verb == 'G' {
				s = strings.ToUpper(s)
			}
			return fmt.Sprintf("%"+strings.ReplaceAll(flags, "0", "")+width+"s", s), nil
		}
		if !hasPrec {
			spec += ".6"
		}
		return fmt.Sprintf(spec+string(verb), f), nil
	case 'c':
		switch x := v.(type) {
		case starlark.String:
			if len([]rune(string(x))) != 1 {
				return "", fmt.Errorf("%%c requires int or char")
			}
			return fmt.Sprintf(noZero+"s", string(x)), nil
		case starlark.Int:
			n, ok := x.Int64()
			if !ok {
				return "", fmt.Errorf("%%c arg not in range")
			}
			return fmt.Sprintf("%"+strings.ReplaceAll(flags, "0", "")+width+"c", rune(n)), nil
		}
		return "", fmt.Errorf("%%c requires int or char")
	}
	return "", fmt.Errorf("unsupported format character '%c'", verb)
}

func toBigInt(v starlark.Value, verb byte) (*big.Int, error) {
	switch x := v.(type) {
	case starlark.Int:
		return x.BigInt(), nil
	case starlark.Bool:
		if x {
			return big.NewInt(1), nil
		}
		return big.NewInt(0), nil
	case starlark.Float:
		if verb == 'd' || verb == 'i' || verb == 'u' {
			f := math.Trunc(float64(x))
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, fmt.Errorf("cannot convert float %v to integer", f)
			}
			n, _ := big.NewFloat(f).Int(nil)
			return n, nil
		}
	}
	return nil, fmt.Errorf("%%%c format: an integer is required, not %s", verb, v.Type())
}

func sign(n *big.Int, flags string) string {
	switch {
	case n.Sign() < 0:
		return "-"
	case strings.Contains(flags, "+"):
		return "+"
	case strings.Contains(flags, " "):
		return " "
	}
	return ""
}

// pad applies a width and the '-' and '0' flags to an already signed s.
func pad(s, flags, width string) string {
	w, _ := strconv.Atoi(width)
	if len(s) >= w {
		return s
	}
	switch {
	case strings.Contains(flags, "-"):
		return s + strings.Repeat(" ", w-len(s))
	case strings.Contains(flags, "0"):
		i := 0
		if strings.IndexByte("+- ", s[0]) >= 0 {
			i = 1
		}
		if p := s[i:]; strings.HasPrefix(p, "0o") || strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X") {
			i += 2
		}
		return s[:i] + strings.Repeat("0", w-len(s)) + s[i:]
	}
	return strings.Repeat(" ", w-len(s)) + s
}

// str is Python's str(): strings unquoted, everything else as Starlark
// prints it.
func str(v starlark.Value) string {
	if s, ok := v.(starlark.String); ok {
		return string(s)
	}
	return v.String()
}

// repr is Python's repr() for strings (single quotes by preference) and
// Starlark's for everything else.
func repr(v starlark.Value) string {
	s, ok := v.(starlark.String)
	if !ok {
		return v.String()
	}
	q := byte('\'')
	if strings.IndexByte(string(s), '\'') >= 0 && strings.IndexByte(string(s), '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range string(s) {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
