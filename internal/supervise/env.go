package supervise

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// removedEnv are variables of the supervisor's environment the agent does
// not inherit: credentials and endpoints (the agent gets its own) and
// Behalf's server settings (among them the root key).
var removedEnv = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL",
	"BEDROCK_AGENTCORE_DP_ENDPOINT", "PORT", behalf.CallbackURLEnv,
}

// Env is the agent's environment: base (the supervisor's, os.Environ())
// without AWS credentials, profiles, regions and endpoints, PORT,
// OAUTH2_CALLBACK_URL and every BEHALF_* variable, plus set.
func Env(base []string, set map[string]string) []string {
	removed := map[string]bool{}
	for _, k := range removedEnv {
		removed[k] = true
	}
	env := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if removed[k] || strings.HasPrefix(k, "BEHALF_") || set[k] != "" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// FreeLoopbackPort returns a TCP port free on 127.0.0.1 right now.
func FreeLoopbackPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// IsLoopbackHTTP reports whether u is an http URL of this machine, as the
// supervisor's agents are reached.
func IsLoopbackHTTP(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" {
		return false
	}
	h := pu.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// PingAnswers reports whether an agent at base answers GET /ping with 200
// within 2 seconds.
func PingAnswers(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/ping", nil)
	if err != nil {
		return false
	}
	resp, err := pingClient.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// pingClient reaches agents on loopback: no proxy, no keep-alive.
var pingClient = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 2 * time.Second}
