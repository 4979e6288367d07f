package flatjson

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
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

// BenchmarkDecodeLongString decodes a body with an 800-byte token field.
func BenchmarkDecodeLongString(b *testing.B) {
	body := []byte(`{"workloadIdentityToken":"` + benchToken + `","name":"github","scopes":["repo"],"forceAuthentication":false}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var v flatTarget
		if !Decode(body, &v) {
			b.Fatal("not flat")
		}
	}
}

// BenchmarkDecodeShortFields decodes a body with a few short fields.
func BenchmarkDecodeShortFields(b *testing.B) {
	body := []byte(`{"workloadIdentityToken":"eyJ.a-b_c","name":"github","scopes":["repo","read:user"],"forceAuthentication":true,"customParameters":{"access_type":"offline"}}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var v flatTarget
		if !Decode(body, &v) {
			b.Fatal("not flat")
		}
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
