package api

import (
	"errors"
	"testing"

	"github.com/behalf-dev/behalf"
)

// FuzzDecodeProvider feeds arbitrary bodies to the strictest decoder, the
// credential-provider request with its union: it must never panic, and every
// refusal must be a parse or validation error (never internal).
func FuzzDecodeProvider(f *testing.F) {
	f.Add([]byte(`{"name":"p","credentialProviderVendor":"GoogleOauth2","oauth2ProviderConfigInput":{"googleOauth2ProviderConfig":{"clientId":"a","clientSecret":"b"}}}`))
	f.Add([]byte(`{"name":"p","credentialProviderVendor":"CustomOauth2","oauth2ProviderConfigInput":{"customOauth2ProviderConfig":{"oauthDiscovery":{"discoveryUrl":"https://x/.well-known/openid-configuration"}}}}`))
	f.Add([]byte(`{"oauth2ProviderConfigInput":{"a":{},"b":{}}}`))
	f.Add([]byte(`{"name":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in providerIn
		err := decode(body, &in)
		if err == nil {
			_, err = providerInput(in)
		}
		checkDecodeError(t, err)
	})
}

// FuzzDecodeWorkload does the same for the workload request.
func FuzzDecodeWorkload(f *testing.F) {
	f.Add([]byte(`{"name":"agent","allowedResourceOauth2ReturnUrls":["http://localhost/cb"],"tags":{"a":"b"}}`))
	f.Add([]byte(`{"name":"agent"} {}`))
	f.Add([]byte(`{"tags":{"a":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in workloadIn
		checkDecodeError(t, decode(body, &in))
	})
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *parseError
	if errors.As(err, &pe) {
		return
	}
	switch behalf.ErrorCode(err) {
	case behalf.EINVALID, behalf.ENOTIMPLEMENTED:
		return
	}
	t.Fatalf("decode returned %T %v", err, err)
}
