package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// decode strictly parses a JSON request body into v: unknown fields,
// trailing data and wrong types are CannotParse validation errors that
// name the problem. An empty body decodes as {}.
//
// A flat body (see decodeFlat) is decoded without encoding/json; any other
// is decoded by encoding/json from scratch, which also words every error.
func decode(body []byte, v any) error {
	return decodeWith(body, v, true)
}

// decodeWith is decode, trying decodeFlat first if flat is set.
func decodeWith(body []byte, v any, flat bool) error {
	if flat && decodeFlat(body, v) {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv.Elem().SetZero() // undo what decodeFlat set before it gave up
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &parseError{msg: describeDecodeError(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &parseError{msg: "The request body must hold exactly one JSON object."}
	}
	return nil
}

func describeDecodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("Field %s has the wrong type: expected %s.", typeErr.Field, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "Unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + "."
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "The request body is truncated JSON."
	}
	return "The request body could not be parsed."
}

// epoch is a timestamp in restJson1's default format: epoch seconds.
type epoch time.Time

// MarshalJSON writes seconds with millisecond precision.
func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(fmt.Sprintf("%d.%03d", ms/1000, ms%1000)), nil
}

// decodeFlat decodes body into v, a pointer to a struct, and reports
// whether it did, when body is one JSON object whose keys are exactly the
// JSON names of v's string, bool, []string or map[string]string fields,
// each once, with values of those types: strings without escapes, control
// characters or invalid UTF-8, true or false, arrays of such strings,
// objects of such strings (each key once). It then leaves v as
// encoding/json would (TestDecodeFlatMatchesEncodingJSON and its fuzz test
// compare the two). It gives up (false, v perhaps partly set) on anything
// else: escapes, null, numbers, nested objects, other field types, unknown
// or repeated keys, keys that only match case-insensitively, trailing data.
// The hot operations' bodies are flat, and the encoding/json decoder
// (strict, with its error messages) costs several times as much.
func decodeFlat(body []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	rv = rv.Elem()
	plan := flatPlanOf(rv.Type())
	if plan == nil {
		return false
	}
	d := flatDecoder{b: body}
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
			f, ok := plan.fields[string(key)]
			if !ok || seen&(1<<f.bit) != 0 {
				return false
			}
			seen |= 1 << f.bit
			field := rv.Field(f.index)
			switch f.kind {
			case flatString:
				s, ok := d.str()
				if !ok {
					return false
				}
				field.SetString(string(s))
			case flatBool:
				b, ok := d.boolean()
				if !ok {
					return false
				}
				field.SetBool(b)
			case flatList:
				list, ok := d.list()
				if !ok {
					return false
				}
				field.Set(reflect.ValueOf(list))
			case flatMap:
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

type flatKind int

const (
	flatString flatKind = iota
	flatBool
	flatList
	flatMap
)

type flatField struct {
	index int
	kind  flatKind
	bit   int
}

// flatPlan maps the JSON names of a struct's flat fields to the fields.
type flatPlan struct{ fields map[string]flatField }

var (
	flatPlans  sync.Map // reflect.Type → *flatPlan (nil: the type is never decoded flat)
	stringList = reflect.TypeFor[[]string]()
	stringMap  = reflect.TypeFor[map[string]string]()
)

// flatPlanOf returns the plan of struct type t, or nil when decodeFlat must
// leave t to encoding/json: not a struct, more than 64 fields, or a field
// whose name encoding/json would not take from its tag alone (no tag,
// embedded, options such as ",string"). Fields of other types than string,
// bool, []string and map[string]string are left out of the plan: a body naming one is not flat.
func flatPlanOf(t reflect.Type) *flatPlan {
	if p, ok := flatPlans.Load(t); ok {
		return p.(*flatPlan)
	}
	var plan *flatPlan
	if t.Kind() == reflect.Struct && t.NumField() <= 64 {
		plan = &flatPlan{fields: map[string]flatField{}}
		names := map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue // encoding/json ignores it
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous || name == "" || name == "-" || (opts != "" && opts != "omitempty") || names[name] {
				plan = nil
				break
			}
			names[name] = true
			switch {
			case f.Type.Kind() == reflect.String:
				plan.fields[name] = flatField{i, flatString, i}
			case f.Type.Kind() == reflect.Bool:
				plan.fields[name] = flatField{i, flatBool, i}
			case f.Type == stringList:
				plan.fields[name] = flatField{i, flatList, i}
			case f.Type == stringMap:
				plan.fields[name] = flatField{i, flatMap, i}
			}
		}
	}
	flatPlans.Store(t, plan)
	return plan
}

// flatDecoder reads the flat JSON decodeFlat accepts.
type flatDecoder struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (d *flatDecoder) space() {
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
func (d *flatDecoder) skip(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, valid UTF-8.
func (d *flatDecoder) str() ([]byte, bool) {
	if !d.skip('"') {
		return nil, false
	}
	n := bytes.IndexByte(d.b[d.i:], '"')
	if n < 0 {
		return nil, false
	}
	s := d.b[d.i : d.i+n]
	d.i += n + 1
	ascii := true
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return s, ascii || utf8.Valid(s)
}

// boolean reads true or false.
func (d *flatDecoder) boolean() (bool, bool) {
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
func (d *flatDecoder) object() (map[string]string, bool) {
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
func (d *flatDecoder) list() ([]string, bool) {
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
