package safehttp_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/internal/safehttp"
)

type doc struct {
	Issuer string `json:"issuer"`
}

// jsonServer answers every request with body.
func jsonServer(t *testing.T, tls bool, body string) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	})
	s := httptest.NewUnstartedServer(h)
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// redirector redirects every request to target.
func redirector(t *testing.T, target string) *httptest.Server {
	t.Helper()
	s := httptest.NewTLSServer(http.RedirectHandler(target, http.StatusFound))
	t.Cleanup(s.Close)
	return s
}

// tlsConfig trusts the httptest certificate (shared by all TLS servers).
func tlsConfig(s *httptest.Server) *tls.Config {
	return s.Client().Transport.(*http.Transport).TLSClientConfig
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// wantErr checks that err is a *safehttp.Error whose message contains
// want and no Go network internals.
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q, want it to contain %q", err, want)
	}
	for _, noise := range []string{"dial tcp", "Get \"", "net/http"} {
		if strings.Contains(err.Error(), noise) {
			t.Errorf("err = %q contains internals %q", err, noise)
		}
	}
	var se *safehttp.Error
	if !errors.As(err, &se) {
		t.Errorf("err %T is not a *safehttp.Error", err)
	}
}

func TestGetJSONLoopback(t *testing.T) {
	s := jsonServer(t, false, `{"issuer":"x"}`)
	var d doc
	err := safehttp.GetJSON(context.Background(), safehttp.NewClient(safehttp.Options{}), s.URL, 1024, &d)
	wantErr(t, err, "address 127.0.0.1 is loopback; start behalf with --allow-private-endpoints to allow it")

	c := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	if err := safehttp.GetJSON(context.Background(), c, s.URL, 1024, &d); err != nil {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	if d.Issuer != "x" {
		t.Errorf("issuer = %q, want x", d.Issuer)
	}
}

func TestGetJSONDialCheck(t *testing.T) {
	// The static check is bypassed for the server's host, as if a public
	// name had resolved (or rebound) to 127.0.0.1: the dialer must refuse.
	s := jsonServer(t, true, `{}`)
	c := safehttp.NewTestClient(safehttp.Options{}, tlsConfig(s), []string{hostOf(t, s.URL)}, nil)
	err := safehttp.GetJSON(context.Background(), c, s.URL, 1024, &doc{})
	wantErr(t, err, "address 127.0.0.1 is loopback; start behalf with --allow-private-endpoints")
	if !errors.As(err, new(*safehttp.Error)) || errors.Unwrap(err) == nil {
		t.Errorf("cause not kept: %#v", err)
	}
}

func TestGetJSONExemptionsWork(t *testing.T) {
	s := jsonServer(t, true, `{"issuer":"ok"}`)
	h := hostOf(t, s.URL)
	c := safehttp.NewTestClient(safehttp.Options{}, tlsConfig(s), []string{h}, []string{h})
	var d doc
	if err := safehttp.GetJSON(context.Background(), c, s.URL, 1024, &d); err != nil || d.Issuer != "ok" {
		t.Fatalf("GetJSON = %v, %+v; the test hooks do not work", err, d)
	}
}

func TestGetJSONRedirectToLoopback(t *testing.T) {
	target := jsonServer(t, true, `{"issuer":"internal"}`)
	first := redirector(t, target.URL+"/secret")
	firstHost, targetHost := hostOf(t, first.URL), hostOf(t, target.URL)

	// Static check on the redirect hop.
	c := safehttp.NewTestClient(safehttp.Options{}, tlsConfig(first), []string{firstHost}, []string{firstHost})
	err := safehttp.GetJSON(context.Background(), c, first.URL, 1024, &doc{})
	wantErr(t, err, "redirect to "+targetHost+" refused: address 127.0.0.1 is loopback")

	// Connect-time check on the redirect hop (its URL passes statically).
	c = safehttp.NewTestClient(safehttp.Options{}, tlsConfig(first), []string{firstHost, targetHost}, []string{firstHost})
	err = safehttp.GetJSON(context.Background(), c, first.URL, 1024, &doc{})
	wantErr(t, err, "address 127.0.0.1 is loopback")
}

func TestGetJSONRedirectLimit(t *testing.T) {
	var s *httptest.Server
	s = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.URL+"/again", http.StatusFound)
	}))
	defer s.Close()
	c := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	wantErr(t, safehttp.GetJSON(context.Background(), c, s.URL, 1024, &doc{}), "too many redirects (more than 3)")

	c = safehttp.NewClient(safehttp.Options{AllowPrivate: true, MaxRedirects: -1})
	wantErr(t, safehttp.GetJSON(context.Background(), c, s.URL, 1024, &doc{}), "redirects are not followed")
}

func TestGetJSONRedirectDowngrade(t *testing.T) {
	s := redirector(t, "http://example.com/")
	h := hostOf(t, s.URL)
	c := safehttp.NewTestClient(safehttp.Options{}, tlsConfig(s), []string{h}, []string{h})
	wantErr(t, safehttp.GetJSON(context.Background(), c, s.URL, 1024, &doc{}), "redirect to example.com refused: URL must use https")
}

func TestGetJSONOversize(t *testing.T) {
	body, _ := json.Marshal(doc{Issuer: strings.Repeat("a", 2000)})
	s := jsonServer(t, false, string(body))
	c := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	wantErr(t, safehttp.GetJSON(context.Background(), c, s.URL, 1024, &doc{}), "response larger than 1 KiB")
	if err := safehttp.GetJSON(context.Background(), c, s.URL, int64(len(body)), &doc{}); err != nil {
		t.Errorf("body of exactly maxBytes: %v", err)
	}

	// Without a Content-Length (chunked), the read limit applies.
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 100 {
			w.Write([]byte("          "))
			w.(http.Flusher).Flush()
		}
	}))
	defer chunked.Close()
	wantErr(t, safehttp.GetJSON(context.Background(), c, chunked.URL, 512, &doc{}), "response larger than 512 bytes")
}

func TestGetJSONTimeout(t *testing.T) {
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer s.Close()
	defer close(release)
	c := safehttp.NewClient(safehttp.Options{AllowPrivate: true, Timeout: 100 * time.Millisecond})
	wantErr(t, safehttp.GetJSON(context.Background(), c, s.URL, 1024, &doc{}), "timed out after 100ms")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c = safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	wantErr(t, safehttp.GetJSON(ctx, c, s.URL, 1024, &doc{}), "timed out")
}

func TestGetJSONBadResponses(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"not found", 404, `{}`, "server answered 404"},
		{"server error", 500, `{}`, "server answered 500"},
		{"html", 200, `<html>hello</html>`, "response is not valid JSON"},
		{"empty", 200, ``, "response is not valid JSON"},
		{"array", 200, `[1,2]`, "response is a JSON array, not the expected object"},
		{"wrong type", 200, `{"issuer":42}`, "response field issuer has the wrong type (JSON number)"},
	}
	c := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer s.Close()
			wantErr(t, safehttp.GetJSON(context.Background(), c, s.URL, 1024, &doc{}), tt.want)
		})
	}
}

func TestGetJSONConnectionRefused(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	u := s.URL
	s.Close()
	c := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	wantErr(t, safehttp.GetJSON(context.Background(), c, u, 1024, &doc{}), "connection to "+hostOf(t, u)+" refused")
}

func TestGetJSONUntrustedCertificate(t *testing.T) {
	s := jsonServer(t, true, `{}`)
	c := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	wantErr(t, safehttp.GetJSON(context.Background(), c, s.URL, 1024, &doc{}), "TLS certificate of "+hostOf(t, s.URL)+" is not valid")
}

func TestGetJSONStaticCheckFirst(t *testing.T) {
	c := safehttp.NewClient(safehttp.Options{})
	wantErr(t, safehttp.GetJSON(context.Background(), c, "http://example.com/", 1024, &doc{}), "URL must use https")
	wantErr(t, safehttp.GetJSON(context.Background(), nil, "https://169.254.169.254/", 1024, &doc{}), "is link-local")
}

func TestClientIgnoresEnvironmentProxy(t *testing.T) {
	tr := safehttp.TransportOf(safehttp.NewClient(safehttp.Options{}))
	if tr.Proxy != nil {
		t.Error("Transport.Proxy is set; want nil")
	}
}

func TestAllowsPrivate(t *testing.T) {
	if safehttp.AllowsPrivate(safehttp.NewClient(safehttp.Options{})) {
		t.Error("AllowsPrivate(default client) = true")
	}
	if !safehttp.AllowsPrivate(safehttp.NewClient(safehttp.Options{AllowPrivate: true})) {
		t.Error("AllowsPrivate(AllowPrivate client) = false")
	}
	if safehttp.AllowsPrivate(http.DefaultClient) || safehttp.AllowsPrivate(nil) {
		t.Error("AllowsPrivate(foreign client) = true")
	}
}
