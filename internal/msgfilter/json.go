package msgfilter

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
)

// decodeJSON parses a whole JSON text into what encoding/json gives an `any` (map[string]any,
// []any, string, float64, bool, nil), in one pass. A search evaluates the filter on every record it
// reads, and encoding/json's validating pre-pass plus its state machine per byte were most of a
// JSON filter's cost. Strings without escapes or non-ASCII bytes (nearly all of them) are copied
// directly; any other string literal is handed to encoding/json, so escapes, surrogate pairs and
// invalid UTF-8 come out exactly as there. ok is false when b is not one valid JSON value, or a
// number does not fit a float64 (encoding/json fails on both). FuzzDecodeJSON holds it to
// encoding/json's answers.
func decodeJSON(b []byte) (v any, ok bool) {
	d := jsonDecoder{b: b}
	d.space()
	if v, ok = d.value(0); !ok {
		return nil, false
	}
	d.space()
	return v, d.i == len(d.b)
}

// maxJSONDepth is encoding/json's nesting limit; deeper documents fail there too.
const maxJSONDepth = 10000

type jsonDecoder struct {
	b []byte
	i int
}

func (d *jsonDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

func (d *jsonDecoder) literal(word string) bool {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

func (d *jsonDecoder) object(depth int) (any, bool) {
	if depth > maxJSONDepth {
		return nil, false
	}
	d.i++ // {
	m := map[string]any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		m[k.(string)] = v // a repeated name: the last one wins, as in encoding/json
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *jsonDecoder) array(depth int) (any, bool) {
	if depth > maxJSONDepth {
		return nil, false
	}
	d.i++ // [
	a := []any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, true
	}
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			return a, true
		default:
			return nil, false
		}
	}
}

// str reads a string literal starting at its opening quote.
func (d *jsonDecoder) str() (any, bool) {
	start := d.i
	d.i++
	// Eight bytes at a time while none of them ends the fast path.
	for d.i+8 <= len(d.b) && !plainStop(binary.LittleEndian.Uint64(d.b[d.i:])) {
		d.i += 8
	}
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(d.b[start+1 : d.i-1]), true
		case c < 0x20:
			return nil, false
		case c == '\\' || c >= 0x80:
			return d.slowStr(start)
		}
		d.i++
	}
	return nil, false
}

// plainStop says whether any of the eight bytes in w stops a plain string: a quote, a backslash, a
// control character (< 0x20) or a non-ASCII byte (the high bit set). The zero-byte test is the
// classic (x - 0x01…01) &^ x & 0x80…80; it can flag a byte above a real hit, never miss one.
func plainStop(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ ('"' * ones)
	b := w ^ ('\\' * ones)
	return (w|(w-0x20*ones)&^w|(q-ones)&^q|(b-ones)&^b)&highs != 0
}

// slowStr finds the end of the string literal at start, skipping escapes, and lets encoding/json
// decode it.
func (d *jsonDecoder) slowStr(start int) (any, bool) {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case '\\':
			d.i += 2
			continue
		case '"':
			d.i++
			var s string
			if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
				return nil, false
			}
			return s, true
		}
		d.i++
	}
	return nil, false
}

// number reads a JSON number (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) as a float64.
func (d *jsonDecoder) number() (any, bool) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	if d.i >= len(d.b) {
		return nil, false
	}
	if d.b[d.i] == '0' {
		d.i++
	} else if !d.digits() {
		return nil, false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
	if err != nil {
		return nil, false
	}
	return f, true
}

// digits reads one or more decimal digits.
func (d *jsonDecoder) digits() bool {
	from := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > from
}
