package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/behalf-dev/behalf/internal/flatjson"
)

// decodeTarget has flat fields and one that is not (Count): a body naming
// it makes flatjson.Decode give up after it may have set other fields.
type decodeTarget struct {
	Name   string            `json:"name"`
	Scopes []string          `json:"scopes"`
	Force  bool              `json:"forceAuthentication"`
	Params map[string]string `json:"customParameters"`
	Count  int               `json:"count"`
}

// decodeSlow is decode without the flat decoder.
func decodeSlow(body []byte, v any) error {
	return decodeWith(body, v, false)
}

// checkDecodeUnchanged fails t unless decode leaves the same value and
// error as encoding/json alone on body.
func checkDecodeUnchanged(t *testing.T, body []byte) {
	t.Helper()
	var got, want decodeTarget
	gotErr := decode(body, &got)
	wantErr := decodeSlow(body, &want)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) || !reflect.DeepEqual(got, want) {
		t.Fatalf("decode(%q) = %#v, %v; encoding/json alone: %#v, %v", body, got, gotErr, want, wantErr)
	}
}

// Ensure decode's answers (values and error messages) are those of
// encoding/json alone, whether the flat decoder takes the body, gives up
// at once, or gives up after setting fields (which decode must undo).
// The flat decoder's own comparison with encoding/json is in
// internal/flatjson.
func TestDecodeUnchangedByFlat(t *testing.T) {
	for _, body := range []string{
		`{"name":"x","scopes":["a"],"forceAuthentication":true,"customParameters":{"k":"v"}}`,
		`{}`, ``, ` `, `[]`, `null`,
		`{"name":"x","count":1}`,                                      // gives up after setting name
		`{"name":"x","scopes":["a"],"count":"one"}`,                   // gives up, then a type error
		`{"name":"x","scopes":["a"],1}`,                               // gives up, then a syntax error: nothing set
		`{"customParameters":{"k":"v"},"customParameters":{"j":"w"}}`, // repeated: encoding/json merges the maps
		`{"name":"x","name":"y"}`,
		`{"name":"x","unknown":"y"}`,
		`{"name":"x"} {}`,
		`{"name":"x"`,
		`{"name":"a\u0041"}`,
		`{"Name":"x"}`,
	} {
		checkDecodeUnchanged(t, []byte(body))
	}
}

// FuzzDecode compares decode with encoding/json alone on any body.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"name":"x","scopes":["a"],"forceAuthentication":true}`))
	f.Add([]byte(`{"name":"x","count":1}`))
	f.Add([]byte(`{"customParameters":{"a":"b","c":"d"},1}`))
	f.Fuzz(checkDecodeUnchanged)
}

// BenchmarkDecodeVaultHit decodes a GetResourceOauth2Token body of the
// size cmd/behalf's BenchmarkVaultHit sends, flat and with encoding/json
// alone.
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
				var in tokenIn
				if err := decodeWith(body, &in, mode.flat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Ensure the bodies the official SDK client sends for the hot operations
// are flat (flatjson.Decode takes them), with every field set.
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
	if body := <-bodies; !flatjson.Decode(body, &tok) || tok.ReturnURL == "" || tok.CustomParameters["access_type"] != "offline" || !tok.ForceAuthentication {
		t.Errorf("GetResourceOauth2Token body %s is not flat: %+v", body, tok)
	}
	_, _ = client.GetWorkloadAccessTokenForJWT(ctx, &bedrockagentcore.GetWorkloadAccessTokenForJWTInput{
		WorkloadName: aws.String("agent"), UserToken: aws.String("eyJ.eyJ.sig")})
	var wat watForJWTIn
	if body := <-bodies; !flatjson.Decode(body, &wat) || wat.WorkloadName != "agent" || wat.UserToken == "" {
		t.Errorf("GetWorkloadAccessTokenForJWT body %s is not flat: %+v", body, wat)
	}
}
