package inlinecode

import (
	"fmt"
	"math"
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// radix returns Python's hex, oct or bin: prefix and digits, sign first.
func radix(prefix, verb string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Int
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		n := x.BigInt()
		sign := ""
		if n.Sign() < 0 {
			sign = "-"
			n.Neg(n)
		}
		return starlark.String(sign + prefix + fmt.Sprintf(verb, n)), nil
	}
}

// builtinRound is Python 3's round(x[, ndigits]): halves round to even, and
// without ndigits the result is an int.
func builtinRound(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, nd starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x, &nd); err != nil {
		return nil, err
	}
	if i, ok := x.(starlark.Int); ok && (nd == nil || nd == starlark.None) {
		return i, nil
	}
	f, ok := starlark.AsFloat(x)
	if !ok {
		return nil, fmt.Errorf("round: got %s, want a number", x.Type())
	}
	if nd == nil || nd == starlark.None {
		r := math.RoundToEven(f)
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, fmt.Errorf("round: cannot convert %v to integer", r)
		}
		n, _ := big.NewFloat(r).Int(nil)
		return starlark.MakeBigInt(n), nil
	}
	digits, err := starlark.AsInt32(nd)
	if err != nil {
		return nil, fmt.Errorf("round: ndigits: %v", err)
	}
	p := math.Pow(10, float64(digits))
	r := math.RoundToEven(f*p) / p
	if _, isInt := x.(starlark.Int); isInt {
		n, _ := big.NewFloat(math.RoundToEven(r)).Int(nil)
		return starlark.MakeBigInt(n), nil
	}
	return starlark.Float(r), nil
}

// builtinPow is Python's pow(base, exp[, mod]).
func builtinPow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var base, exp, mod starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &base, &exp, &mod); err != nil {
		return nil, err
	}
	bi, bok := base.(starlark.Int)
	ei, eok := exp.(starlark.Int)
	if bok && eok && ei.Sign() >= 0 {
		var m *big.Int
		if mod != nil && mod != starlark.None {
			mi, ok := mod.(starlark.Int)
			if !ok || mi.Sign() == 0 {
				return nil, fmt.Errorf("pow: bad modulus %s", mod)
			}
			m = mi.BigInt()
		}
		r := new(big.Int).Exp(bi.BigInt(), ei.BigInt(), m)
		if m != nil && r.Sign() != 0 && m.Sign() < 0 {
			r.Add(r, m) // Python's result takes the sign of the modulus
		}
		return starlark.MakeBigInt(r), nil
	}
	if mod != nil && mod != starlark.None {
		return nil, fmt.Errorf("pow: 3-argument pow() needs integers")
	}
	bf, ok1 := starlark.AsFloat(base)
	ef, ok2 := starlark.AsFloat(exp)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("pow: unsupported operands %s, %s", base.Type(), exp.Type())
	}
	return starlark.Float(math.Pow(bf, ef)), nil
}

// builtinSum is Python's sum(iterable, start=0).
func builtinSum(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var it starlark.Iterable
	var acc starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &it, "start?", &acc); err != nil {
		return nil, err
	}
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		var err error
		if acc, err = starlark.Binary(syntax.PLUS, acc, x); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// builtinDivmod is Python's divmod(a, b): (a // b, a % b).
func builtinDivmod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	q, err := starlark.Binary(syntax.SLASHSLASH, x, y)
	if err != nil {
		return nil, err
	}
	r, err := starlark.Binary(syntax.PERCENT, x, y)
	if err != nil {
		return nil, err
	}
	return starlark.Tuple{q, r}, nil
}
