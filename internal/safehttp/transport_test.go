package safehttp_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf/internal/fakedns"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// Ensure a host name that resolves to a loopback address is refused at
// connect time, by NewClient and by NewTransport alike, unless private
// addresses are allowed; and that Options.CheckURL looks http hosts up
// with the Resolver it is given.
func TestResolvedNameRefusedAtConnect(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Write([]byte(`{"issuer":"x"}`))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(hostOf(t, srv.URL))
	dns := fakedns.New(map[string][]string{"loop.behalf.test": {"127.0.0.1"}, "ten.behalf.test": {"10.9.8.7"}})
	resolver := dns.NetResolver()
	url := "http://loop.behalf.test:" + port + "/"

	for _, allow := range []bool{false, true} {
		o := safehttp.Options{AllowPrivate: allow, Resolver: resolver}
		tr := safehttp.NewTransport(o)
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		resp, err := tr.RoundTrip(req)
		if !allow {
			var se *safehttp.Error
			if err == nil || !errors.As(err, &se) || !strings.Contains(se.Msg, "address 127.0.0.1 is loopback") {
				t.Fatalf("NewTransport, private refused: err = %v, want the connect-time refusal", err)
			}
		} else {
			if err != nil {
				t.Fatalf("NewTransport, private allowed: %v", err)
			}
			resp.Body.Close()
		}
		tr.CloseIdleConnections()

		// NewClient's connect-time check, for an https URL (http to a
		// name is refused statically when private addresses are not allowed).
		var d doc
		err = safehttp.GetJSON(context.Background(), safehttp.NewClient(o), "https://loop.behalf.test:"+port+"/", 0, &d)
		if !allow {
			wantErr(t, err, "address 127.0.0.1 is loopback")
		}
	}
	if hits != 1 {
		t.Fatalf("the server was reached %d times, want once (private allowed, NewTransport)", hits)
	}

	// The static check of http URLs resolves with the Resolver.
	o := safehttp.Options{AllowPrivate: true, Resolver: resolver}
	if _, err := o.CheckURL("http://ten.behalf.test/"); err != nil {
		t.Fatalf("CheckURL(http://ten.behalf.test/) = %v, want OK", err)
	}
	if _, err := o.CheckURL("http://nope.behalf.test/"); err == nil || err.Error() != "could not resolve host nope.behalf.test" {
		t.Fatalf("CheckURL(http://nope.behalf.test/) = %v", err)
	}
	if _, err := (safehttp.Options{Resolver: resolver}).CheckURL("https://127.0.0.1/"); err == nil {
		t.Fatal("Options.CheckURL without AllowPrivate accepted a loopback address")
	}
}
