package flatjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// flatTarget has every kind of field Decode reads, and others it leaves
// to encoding/json.
type flatTarget struct {
	Token   string            `json:"workloadIdentityToken"`
	Name    string            `json:"name,omitempty"`
	Scopes  []string          `json:"scopes"`
	Force   bool              `json:"forceAuthentication"`
	Params  map[string]string `json:"customParameters"`
	Count   int               `json:"count"`
	private string            // unexported: encoding/json ignores it, so a body naming it is not flat
}

// untagged has a field whose JSON name encoding/json takes from its Go name.
type untagged struct {
	Name  string
	Other string `json:"other"`
}

var errTrailing = errors.New("trailing data")

// decodeJSON is the reference: encoding/json, strict (unknown fields and
// trailing data refused), as the API decodes requests.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	var extra json.RawMessage
	if dec.Decode(&extra) == nil {
		return errTrailing
	}
	return nil
}

// compareFlat checks Decode against encoding/json on body for a fresh
// value of each test type: wherever Decode succeeds, encoding/json
// succeeds too, strict (decodeJSON) and not (json.Unmarshal), and leaves
// the same value.
func compareFlat(t *testing.T, body string) (flat bool) {
	t.Helper()
	for _, newV := range []func() any{
		func() any { return &flatTarget{private: ""} },
		func() any { return new(untagged) },
		func() any { return new(struct{ A, B string }) },
		func() any { return new(map[string]string) },
	} {
		got, strict, loose := newV(), newV(), newV()
		if !Decode([]byte(body), got) {
			continue
		}
		flat = true
		if err := decodeJSON([]byte(body), strict); err != nil {
			t.Fatalf("%T: Decode took %q, encoding/json refused it: %v", got, body, err)
		}
		if err := json.Unmarshal([]byte(body), loose); err != nil {
			t.Fatalf("%T: Decode took %q, json.Unmarshal refused it: %v", got, body, err)
		}
		if !reflect.DeepEqual(got, strict) || !reflect.DeepEqual(got, loose) {
			t.Fatalf("%T: Decode(%q) = %#v, encoding/json %#v, json.Unmarshal %#v", got, body, got, strict, loose)
		}
	}
	return flat
}

// Ensure the flat decoder decodes what it takes exactly as encoding/json
// does, and leaves everything else to it (issue 12).
func TestDecodeFlatMatchesEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		body string
		flat bool // Decode takes it (for flatTarget)
	}{
		{`{}`, true},
		{` { } `, true},
		{"{\"workloadIdentityToken\":\"eyJ.a-b_c\",\"scopes\":[\"read\", \"write\"],\"forceAuthentication\":false}\n", true},
		{`{"workloadIdentityToken":"","scopes":[],"forceAuthentication":true,"name":"é ü 日本"}`, true},
		{"{\t\"name\" :\r\n\"x\" , \"scopes\" : [ ] }", true},
		{`{"name":"a\"b"}`, false},       // escape
		{`{"name":"a\u0041"}`, false},    // escape
		{"{\"name\":\"a\x01\"}", false},  // control character: encoding/json refuses
		{"{\"name\":\"a\xffb\"}", false}, // invalid UTF-8: encoding/json replaces it
		{`{"name":null}`, false},         // null
		{`{"count":1}`, false},           // not a flat field
		{`{"customParameters":{}}`, true},
		{`{"customParameters":{"access_type":"offline", "b" : ""}}`, true},
		{`{"customParameters":{"a":"x","a":"y"}}`, false}, // repeated
		{`{"customParameters":{"a":1}}`, false},
		{`{"customParameters":{"a":"x",}}`, false},
		{`{"customParameters":["a"]}`, false},
		{`{"customParameters":{"a"}}`, false},
		{`{"Name":"x"}`, false},            // case-insensitive match
		{`{"name":"x","name":"y"}`, false}, // repeated
		{`{"unknown":"x"}`, false},         // unknown
		{`{"private":"x"}`, false},         // unexported
		{`{"name":"x"} {}`, false},         // trailing
		{`{"name":"x"}x`, false},           // trailing
		{`{"name":"x",}`, false},           // trailing comma
		{`{"scopes":["a",]}`, false},       // trailing comma
		{`{"scopes":["a" "b"]}`, false},    // missing comma
		{`{"scopes":"a"}`, false},          // wrong type
		{`{"forceAuthentication":"true"}`, false},
		{`{"forceAuthentication":truex}`, false},
		{`{"forceAuthentication":tru}`, false},
		{`{"name":"x"`, false},
		{`{"name"`, false},
		{`[]`, false},
		{``, false},
		{`   `, false},
		{`"x"`, false},
	} {
		if got := compareFlat(t, tc.body); got != tc.flat {
			t.Errorf("Decode took %q: %v, want %v", tc.body, got, tc.flat)
		}
	}
	// Types Decode leaves alone whatever the body.
	var u untagged
	var m map[string]string
	if Decode([]byte(`{"other":"x"}`), &u) || Decode([]byte(`{"a":"x"}`), &m) || Decode([]byte(`{}`), u) {
		t.Error("Decode took a body for a type it must leave to encoding/json")
	}
}

// Ensure Decode leaves *v zero when it gives up, also after it set fields
// and over what *v held before, so callers can hand v to encoding/json.
func TestDecodeZeroWhenGivingUp(t *testing.T) {
	for _, body := range []string{
		`{"name":"x","scopes":["a"],"count":1}`, // gives up after setting name and scopes
		`{"name":"x","name":"y"}`,
		`{"name":"x",`,
		`null`,
	} {
		v := flatTarget{Token: "before", Force: true, Params: map[string]string{"k": "v"}}
		if Decode([]byte(body), &v) {
			t.Fatalf("%s: decoded flat", body)
		}
		if !reflect.DeepEqual(v, flatTarget{}) {
			t.Fatalf("%s: gave up leaving %+v", body, v)
		}
	}
}

// Ensure the flat decoder agrees with encoding/json on random bodies
// built from JSON's pieces.
func TestDecodeFlatRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{`{`, `}`, `[`, `]`, `,`, `:`, ` `, `"name"`, `"scopes"`, `"workloadIdentityToken"`, `"forceAuthentication"`,
		`"count"`, `"Name"`, `"x"`, `"é"`, `""`, `"a\"b"`, `true`, `false`, `null`, `1`, "\n", `"customParameters"`,
		`"customParameters":{`, `"k":"v"`}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	flat := 0
	for range n {
		var b strings.Builder
		if rng.IntN(4) > 0 {
			b.WriteString(`{`)
		}
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		if rng.IntN(4) > 0 {
			b.WriteString(`}`)
		}
		if compareFlat(t, b.String()) {
			flat++
		}
	}
	if flat == 0 {
		t.Fatal("no random body was flat")
	}
}

// FuzzDecodeFlat compares the flat decoder with encoding/json on any body.
func FuzzDecodeFlat(f *testing.F) {
	f.Add([]byte(`{"workloadIdentityToken":"eyJ","scopes":["a"],"forceAuthentication":true}`))
	f.Add([]byte(`{"name":"x","count":1}`))
	f.Add([]byte(`{"customParameters":{"a":"b","c":"d"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		compareFlat(t, string(body))
	})
}

// benchToken is a long ASCII token, as a workload access token in a vault
// hit's body.
var benchToken = strings.Repeat("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.abc-DEF_0123456789", 15)[:800]

// BenchmarkDecode decodes a body with an 800-byte token field, and one
// with a few short fields.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"long-token", `{"workloadIdentityToken":"` + benchToken + `","name":"github","scopes":["repo"],"forceAuthentication":false}`},
		{"short-fields", `{"workloadIdentityToken":"eyJ.a-b_c","name":"github","scopes":["repo","read:user"],"forceAuthentication":true,"customParameters":{"access_type":"offline"}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(bc.body)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var v flatTarget
				if !Decode(body, &v) {
					b.Fatal("not flat")
				}
			}
		})
	}
}

// BenchmarkStrLong scans an 800-byte string alone, without Decode's copies.
func BenchmarkStrLong(b *testing.B) {
	body := []byte(`"` + benchToken + `"`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		d := decoder{b: body}
		if _, ok := d.str(); !ok {
			b.Fatal("refused")
		}
	}
}

// oldStr is str as it was before plain (issue 12), byte by byte: the
// reference that str must agree with.
func (d *decoder) oldStr() ([]byte, bool) {
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

// compareStr checks that str and oldStr agree on input: same result, same
// bytes, same position after.
func compareStr(t *testing.T, input []byte) {
	t.Helper()
	nd, od := decoder{b: input}, decoder{b: input}
	ns, nok := nd.str()
	old, ook := od.oldStr()
	if nok != ook || !bytes.Equal(ns, old) || (ns == nil) != (old == nil) || nd.i != od.i {
		t.Fatalf("str(%q) = %q, %v, at %d; before issue 12 %q, %v, at %d", input, ns, nok, nd.i, old, ook, od.i)
	}
}

// Ensure the word-at-a-time str accepts and refuses exactly the strings
// the byte-by-byte one did (issue 12), at every length and position
// around its 8-byte words.
func TestStrMatchesByteByByte(t *testing.T) {
	inputs := []string{``, `"`, `""`, `"a"`, `"abc`, ` "x" `, `x"`, `"é"`, `"日本語"`, `"🙂"`, "\"\x7f\"",
		"\"\xff\"", "\"\xc3\"", "\"\xc3\xa9\"", "\"\xe6\x97\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xc0\xaf\"",
		`"a\"b"`, `"\\"`, `"\u0041"`, `"` + benchToken + `"`, `"` + benchToken,
		`"` + strings.Repeat("é", 300) + `"`}
	// Each special byte at each position of strings of length 1 to 40,
	// in plain ASCII and after a multibyte rune.
	var specials []string
	for c := range 0x20 {
		specials = append(specials, string(rune(c)))
	}
	specials = append(specials, `\`, "\x7f", " ", "~", "\x80", "\xbf", "\xc3", "\xff", "é", "\xe2\x82\xac", "\xf0\x9f\x99\x82", `"`)
	for n := 1; n <= 40; n++ {
		for i := 0; i < n; i++ {
			for _, sp := range specials {
				for _, fill := range []string{"a", "Z"} {
					body := strings.Repeat(fill, i) + sp + strings.Repeat(fill, n-i-1)
					inputs = append(inputs, `"`+body+`"`, `"`+body, `"é`+body+`"`)
				}
			}
		}
	}
	for _, in := range inputs {
		compareStr(t, []byte(in))
	}
	// Random bytes, mostly printable ASCII.
	rng := rand.New(rand.NewPCG(3, 4))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for range n {
		b := make([]byte, 1+rng.IntN(60))
		b[0] = '"'
		for j := 1; j < len(b); j++ {
			switch r := rng.IntN(100); {
			case r < 90:
				b[j] = byte(0x20 + rng.IntN(0x60))
			case r < 93:
				b[j] = '"'
			default:
				b[j] = byte(rng.IntN(256))
			}
		}
		compareStr(t, b)
	}
}

// FuzzStr compares str with the byte-by-byte str on any input.
func FuzzStr(f *testing.F) {
	f.Add([]byte(`"` + benchToken + `"`))
	f.Add([]byte("\"abcdefgh\x01\""))
	f.Add([]byte(`"é"`))
	f.Fuzz(func(t *testing.T, input []byte) {
		compareStr(t, input)
	})
}
