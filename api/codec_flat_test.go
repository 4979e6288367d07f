package api

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
)

// flatTarget has every kind of field decodeFlat reads, and others it leaves
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

// decodeJSON is the reference: encoding/json, strict, as decode is.
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

var errTrailing = &parseError{msg: "trailing"}

// compareFlat checks decodeFlat against encoding/json on body for a fresh
// value of each test type: wherever decodeFlat succeeds, encoding/json
// succeeds too and leaves the same value.
func compareFlat(t *testing.T, body string) (flat bool) {
	t.Helper()
	for _, newV := range []func() any{
		func() any { return &flatTarget{private: ""} },
		func() any { return new(untagged) },
		func() any { return new(struct{ A, B string }) },
		func() any { return new(map[string]string) },
	} {
		got, want := newV(), newV()
		if !decodeFlat([]byte(body), got) {
			continue
		}
		flat = true
		if err := decodeJSON([]byte(body), want); err != nil {
			t.Fatalf("%T: decodeFlat took %q, encoding/json refused it: %v", got, body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%T: decodeFlat(%q) = %#v, encoding/json %#v", got, body, got, want)
		}
	}
	return flat
}

// Ensure the flat decoder decodes what it takes exactly as encoding/json
// does, and leaves everything else to it (issue 12).
func TestDecodeFlatMatchesEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		body string
		flat bool // decodeFlat takes it (for flatTarget)
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
			var v flatTarget
			t.Errorf("decodeFlat took %q: %v, want %v (%#v)", tc.body, got, tc.flat, v)
		}
	}
	// Types decodeFlat leaves alone whatever the body.
	var u untagged
	var m map[string]string
	if decodeFlat([]byte(`{"other":"x"}`), &u) || decodeFlat([]byte(`{"a":"x"}`), &m) || decodeFlat([]byte(`{}`), u) {
		t.Error("decodeFlat took a body for a type it must leave to encoding/json")
	}
}

// Ensure decode's answers (values and errors) are unchanged by the flat
// decoder on random bodies built from JSON's pieces.
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
		// decode itself: the same value and error as encoding/json alone.
		var got, want flatTarget
		gotErr := decode([]byte(b.String()), &got)
		wantErr := decodeSlow([]byte(b.String()), &want)
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) || !reflect.DeepEqual(got, want) {
			t.Fatalf("decode(%q) = %#v, %v; encoding/json alone: %#v, %v", b.String(), got, gotErr, want, wantErr)
		}
	}
	if flat == 0 {
		t.Fatal("no random body was flat")
	}
}

// decodeSlow is decode without the flat decoder.
func decodeSlow(body []byte, v any) error {
	return decodeWith(body, v, false)
}

// FuzzDecodeFlat compares the flat decoder with encoding/json on any body.
func FuzzDecodeFlat(f *testing.F) {
	f.Add([]byte(`{"workloadIdentityToken":"eyJ","scopes":["a"],"forceAuthentication":true}`))
	f.Add([]byte(`{"name":"x","count":1}`))
	f.Add([]byte(`{"customParameters":{"a":"b","c":"d"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		compareFlat(t, string(body))
		var got, want flatTarget
		gotErr := decode(body, &got)
		wantErr := decodeSlow(body, &want)
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) || !reflect.DeepEqual(got, want) {
			t.Fatalf("decode(%q) = %#v, %v; encoding/json alone: %#v, %v", body, got, gotErr, want, wantErr)
		}
	})
}

// BenchmarkDecodeVaultHit decodes a GetResourceOauth2Token body of the
// size BenchmarkVaultHit sends, flat and with encoding/json alone.
func BenchmarkDecodeVaultHit(b *testing.B) {
	body := []byte(`{"scopes":["openid","email"],"customParameters":{"access_type":"offline"},"workloadIdentityToken":"` +
		strings.Repeat("eyJhbGciOiJFZERTQSIsImtpZCI6ImFiYyJ9", 17) + `"}`)
	for _, mode := range []struct {
		name string
		flat bool
	}{{"flat", true}, {"encoding-json", false}} {
		b.Run(mode.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var in flatTarget
				if err := decodeWith(body, &in, mode.flat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Ensure the bodies the official SDK client sends for the hot operations
// are flat (decodeFlat takes them), with every field set.
func TestSDKBodiesAreFlat(t *testing.T) {
	bodies := make(chan []byte, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	client := bedrockagentcore.New(bedrockagentcore.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	})
	ctx := context.Background()
	_, _ = client.GetResourceOauth2Token(ctx, &bedrockagentcore.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: aws.String("eyJ.eyJ.sig"), ResourceCredentialProviderName: aws.String("google"),
		Scopes: []string{"openid", "https://www.googleapis.com/auth/drive.readonly"}, Oauth2Flow: types.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String("http://127.0.0.1:9/callback?x=1&y=2"), CustomParameters: map[string]string{"access_type": "offline"},
		SessionUri: aws.String("urn:ietf:params:oauth:request_uri:abc"), ForceAuthentication: aws.Bool(true), CustomState: aws.String("state <&>"),
	})
	var tok tokenIn
	if body := <-bodies; !decodeFlat(body, &tok) || tok.ReturnURL == "" || tok.CustomParameters["access_type"] != "offline" || !tok.ForceAuthentication {
		t.Errorf("GetResourceOauth2Token body %s is not flat: %+v", body, tok)
	}
	_, _ = client.GetWorkloadAccessTokenForJWT(ctx, &bedrockagentcore.GetWorkloadAccessTokenForJWTInput{
		WorkloadName: aws.String("agent"), UserToken: aws.String("eyJ.eyJ.sig")})
	var wat watForJWTIn
	if body := <-bodies; !decodeFlat(body, &wat) || wat.WorkloadName != "agent" || wat.UserToken == "" {
		t.Errorf("GetWorkloadAccessTokenForJWT body %s is not flat: %+v", body, wat)
	}
}
