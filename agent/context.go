package agent

import (
	"context"
	"net/http"
	"strings"
)

// Header names of the AgentCore Runtime HTTP contract.
const (
	// HeaderWAT carries the workload access token (newer name; preferred).
	HeaderWAT = "X-Amz-Bedrock-AgentCore-Identity-WAT"
	// HeaderWorkloadAccessToken carries the workload access token (legacy name).
	HeaderWorkloadAccessToken = "WorkloadAccessToken"
	// HeaderSessionID carries the runtime session id.
	HeaderSessionID = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
	// HeaderRequestID carries the runtime request id.
	HeaderRequestID = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
	// HeaderOAuth2CallbackURL carries the default resourceOauth2ReturnUrl.
	HeaderOAuth2CallbackURL = "OAuth2CallbackUrl"
	// CustomHeaderPrefix starts the custom headers a runtime may allowlist.
	CustomHeaderPrefix = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-"
)

type ctxKey int

const (
	keyWAT ctxKey = iota
	keySessionID
	keyRequestID
	keyCallbackURL
	keyHeaders
	keyClient
)

// WorkloadAccessToken returns the workload access token of the invocation
// ctx belongs to, or "" when there is none.
func WorkloadAccessToken(ctx context.Context) string { return ctxString(ctx, keyWAT) }

// SessionID returns the runtime session id of the invocation, or "".
func SessionID(ctx context.Context) string { return ctxString(ctx, keySessionID) }

// RequestID returns the runtime request id of the invocation; an App
// generates one when the runtime sent none.
func RequestID(ctx context.Context) string { return ctxString(ctx, keyRequestID) }

// CallbackURL returns the OAuth2 callback URL the runtime sent with the
// invocation (header OAuth2CallbackUrl), or "". AccessToken uses it as the
// default resourceOauth2ReturnUrl.
func CallbackURL(ctx context.Context) string { return ctxString(ctx, keyCallbackURL) }

// RequestHeaders returns a copy of the allowlisted request headers of the
// invocation: Authorization and X-Amzn-Bedrock-AgentCore-Runtime-Custom-*.
// It is never nil.
func RequestHeaders(ctx context.Context) http.Header {
	h, _ := ctx.Value(keyHeaders).(http.Header)
	if h == nil {
		return http.Header{}
	}
	return h.Clone()
}

// WithWorkloadAccessToken returns a context carrying wat, for code that
// receives the WAT some other way than through an App.
func WithWorkloadAccessToken(ctx context.Context, wat string) context.Context {
	return context.WithValue(ctx, keyWAT, wat)
}

// WithCallbackURL returns a context carrying url as the OAuth2 callback URL.
func WithCallbackURL(ctx context.Context, url string) context.Context {
	return context.WithValue(ctx, keyCallbackURL, url)
}

// WithClient returns a context in which the package-level AccessToken and
// APIKey use c instead of the default client.
func WithClient(ctx context.Context, c *Client) context.Context {
	return context.WithValue(ctx, keyClient, c)
}

func ctxString(ctx context.Context, k ctxKey) string {
	s, _ := ctx.Value(k).(string)
	return s
}

// requestContext returns ctx extended with what the runtime delivered in
// r's headers.
func requestContext(ctx context.Context, r *http.Request) context.Context {
	wat := r.Header.Get(HeaderWAT)
	if wat == "" {
		wat = r.Header.Get(HeaderWorkloadAccessToken)
	}
	if wat != "" {
		ctx = context.WithValue(ctx, keyWAT, wat)
	}
	if v := r.Header.Get(HeaderSessionID); v != "" {
		ctx = context.WithValue(ctx, keySessionID, v)
	}
	reqID := r.Header.Get(HeaderRequestID)
	if reqID == "" {
		reqID = newUUID()
	}
	ctx = context.WithValue(ctx, keyRequestID, reqID)
	if v := r.Header.Get(HeaderOAuth2CallbackURL); v != "" {
		ctx = context.WithValue(ctx, keyCallbackURL, v)
	}
	h := http.Header{}
	for k, vs := range r.Header {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Authorization" || strings.HasPrefix(strings.ToLower(ck), strings.ToLower(CustomHeaderPrefix)) {
			h[ck] = append([]string(nil), vs...)
		}
	}
	return context.WithValue(ctx, keyHeaders, h)
}
