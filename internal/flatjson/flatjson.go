// Package flatjson decodes flat JSON objects (strings without escapes,
// booleans, lists and objects of such strings) into structs several times
// faster than encoding/json, and gives up on any other input, for
// encoding/json to decode.
package flatjson

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// Decode decodes body into v, a pointer to a struct, and reports whether
// it did, when body is one JSON object whose keys are exactly the JSON
// names of v's string, bool, []string or map[string]string fields, each
// once, with values of those types: strings without escapes, control
// characters or invalid UTF-8, true or false, arrays of such strings,
// objects of such strings (each key once). It then leaves v as
// encoding/json would, strict or not (TestDecodeFlatMatchesEncodingJSON and
// FuzzDecodeFlat compare the two). It gives up on anything else: escapes,
// null, numbers, nested objects, other field types, unknown or repeated
// keys, keys that only match case-insensitively, trailing data.
//
// When it gives up, *v is left zero (whatever it held before), ready for
// encoding/json.
func Decode(body []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	rv = rv.Elem()
	if decode(body, rv) {
		return true
	}
	rv.SetZero()
	return false
}

// decode is Decode into rv, a settable struct; it may leave rv partly set
// when it gives up.
func decode(body []byte, rv reflect.Value) bool {
	p := planOf(rv.Type())
	if p == nil {
		return false
	}
	d := decoder{b: body}
	if !d.skip('{') {
		return false
	}
	var seen uint64
	if !d.skip('}') {
		for {
			key, ok := d.str()
			if !ok || !d.skip(':') {
				return false
			}
			f, ok := p.fields[string(key)]
			if !ok || seen&(1<<f.index) != 0 {
				return false
			}
			seen |= 1 << f.index
			field := rv.Field(f.index)
			switch f.kind {
			case kindString:
				s, ok := d.str()
				if !ok {
					return false
				}
				field.SetString(string(s))
			case kindBool:
				b, ok := d.boolean()
				if !ok {
					return false
				}
				field.SetBool(b)
			case kindList:
				list, ok := d.list()
				if !ok {
					return false
				}
				field.Set(reflect.ValueOf(list))
			case kindMap:
				m, ok := d.object()
				if !ok {
					return false
				}
				field.Set(reflect.ValueOf(m))
			}
			if d.skip('}') {
				break
			}
			if !d.skip(',') {
				return false
			}
		}
	}
	d.space()
	return d.i == len(d.b)
}

type kind int

const (
	kindString kind = iota
	kindBool
	kindList
	kindMap
)

// planField is a flat field: its index in the struct (below 64, also its
// bit in Decode's set of keys seen) and its kind.
type planField struct {
	index int
	kind  kind
}

// plan maps the JSON names of a struct's flat fields to the fields.
type plan struct{ fields map[string]planField }

var (
	plans      sync.Map // reflect.Type → *plan (nil: the type is never decoded flat)
	stringList = reflect.TypeFor[[]string]()
	stringMap  = reflect.TypeFor[map[string]string]()
)

// planOf returns the plan of struct type t, or nil when Decode must leave
// t to encoding/json: not a struct, more than 64 fields, or a field whose
// name encoding/json would not take from its tag alone (no tag, embedded,
// options such as ",string"). Fields of other types than string, bool,
// []string and map[string]string are left out of the plan: a body naming
// one is not flat.
func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	var p *plan
	if t.Kind() == reflect.Struct && t.NumField() <= 64 {
		p = &plan{fields: map[string]planField{}}
		names := map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue // encoding/json ignores it
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous || name == "" || name == "-" || (opts != "" && opts != "omitempty") || names[name] {
				p = nil
				break
			}
			names[name] = true
			switch {
			case f.Type.Kind() == reflect.String:
				p.fields[name] = planField{i, kindString}
			case f.Type.Kind() == reflect.Bool:
				p.fields[name] = planField{i, kindBool}
			case f.Type == stringList:
				p.fields[name] = planField{i, kindList}
			case f.Type == stringMap:
				p.fields[name] = planField{i, kindMap}
			}
		}
	}
	plans.Store(t, p)
	return p
}

// decoder reads the flat JSON Decode accepts.
type decoder struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// skip skips whitespace and c, if c comes next.
func (d *decoder) skip(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, valid UTF-8.
func (d *decoder) str() ([]byte, bool) {
	if !d.skip('"') {
		return nil, false
	}
	n := bytes.IndexByte(d.b[d.i:], '"')
	if n < 0 {
		return nil, false
	}
	s := d.b[d.i : d.i+n]
	d.i += n + 1
	if plain(s) {
		return s, true
	}
	// Not plain ASCII: refuse escapes and control characters, take valid
	// UTF-8.
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
	}
	return s, utf8.Valid(s)
}

const (
	ones  = 0x0101010101010101 // 0x01 in each byte of a uint64
	highs = 0x8080808080808080 // 0x80 in each byte
)

// plain reports whether s is all printable ASCII (0x20 to 0x7f) without
// '\\', the common case: bytes.IndexByte finds a '\\', and the range is
// checked 8 bytes at a time. For x, 8 bytes of s, (x | (x - 0x20*ones)) &
// highs is zero exactly when every byte of x is in 0x20..0x7f: such bytes
// subtract without a borrow and keep their high bit clear, while the
// lowest byte outside that range either has its high bit set (≥ 0x80) or
// wraps around to ≥ 0xe0 (< 0x20, with no borrow from the bytes below it).
func plain(s []byte) bool {
	if bytes.IndexByte(s, '\\') >= 0 {
		return false
	}
	for len(s) >= 8 {
		x := binary.LittleEndian.Uint64(s)
		if (x|(x-0x20*ones))&highs != 0 {
			return false
		}
		s = s[8:]
	}
	for _, c := range s {
		if c < 0x20 || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// boolean reads true or false.
func (d *decoder) boolean() (bool, bool) {
	d.space()
	switch {
	case bytes.HasPrefix(d.b[d.i:], []byte("true")):
		d.i += 4
		return true, true
	case bytes.HasPrefix(d.b[d.i:], []byte("false")):
		d.i += 5
		return false, true
	}
	return false, false
}

// object reads an object of strings, each key once; {} is an empty,
// non-nil map, as encoding/json makes it.
func (d *decoder) object() (map[string]string, bool) {
	if !d.skip('{') {
		return nil, false
	}
	m := map[string]string{}
	if d.skip('}') {
		return m, true
	}
	for {
		k, ok := d.str()
		if !ok || !d.skip(':') {
			return nil, false
		}
		v, ok := d.str()
		if !ok {
			return nil, false
		}
		if _, dup := m[string(k)]; dup {
			return nil, false
		}
		m[string(k)] = string(v)
		if d.skip('}') {
			return m, true
		}
		if !d.skip(',') {
			return nil, false
		}
	}
}

// list reads an array of strings; [] is an empty, non-nil slice, as
// encoding/json makes it.
func (d *decoder) list() ([]string, bool) {
	if !d.skip('[') {
		return nil, false
	}
	list := []string{}
	if d.skip(']') {
		return list, true
	}
	for {
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		list = append(list, string(s))
		if d.skip(']') {
			return list, true
		}
		if !d.skip(',') {
			return nil, false
		}
	}
}
