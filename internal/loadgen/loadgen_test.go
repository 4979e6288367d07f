package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Ensure every request the server answered is counted once, as success or
// error, that each carries the same method, headers and body, and that no
// more connections are opened than workers.
func TestRunCountsAndReplays(t *testing.T) {
	body := []byte(`{"workloadIdentityToken":"abc","scopes":["x"]}`)
	var hits atomic.Int64
	var mu sync.Mutex
	var bad []string
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		got, _ := io.ReadAll(r.Body)
		mu.Lock()
		conns[r.RemoteAddr] = true
		if r.Method != http.MethodPost || !bytes.Equal(got, body) || r.Header.Get("X-Amz-Date") != "20260101T000000Z" ||
			r.Host != "api.example" || r.URL.RequestURI() != "/identities/oauth2/token?q=1" || r.ContentLength != int64(len(body)) {
			bad = append(bad, r.Method+" "+r.Host+r.URL.RequestURI()+" "+string(got))
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"accessToken":"t"}`))
	}))
	defer srv.Close()
	req := Request{
		Method: http.MethodPost, URL: srv.URL + "/identities/oauth2/token?q=1", Body: body,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Amz-Date": {"20260101T000000Z"}, "Host": {"api.example"}},
	}
	res, err := Run(context.Background(), req, Options{Connections: 3, Duration: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors != 0 || res.FirstError != "" {
		t.Fatalf("result = %d ok, %d errors (%q)", res.OK, res.Errors, res.FirstError)
	}
	if res.OK != hits.Load() || int64(len(res.Latencies)) != res.OK {
		t.Fatalf("%d ok, %d latencies, server saw %d", res.OK, len(res.Latencies), hits.Load())
	}
	if len(bad) > 0 {
		t.Fatalf("%d requests differed from the one built, first: %s", len(bad), bad[0])
	}
	if len(conns) > 3 {
		t.Fatalf("%d connections for 3 workers", len(conns))
	}
	if res.Elapsed < 150*time.Millisecond {
		t.Fatalf("elapsed %v, shorter than the duration", res.Elapsed)
	}
	if want := float64(res.OK) / res.Elapsed.Seconds(); res.Rate() != want {
		t.Fatalf("rate %v, want %v", res.Rate(), want)
	}
	for i := 1; i < len(res.Latencies); i++ {
		if res.Latencies[i] < res.Latencies[i-1] {
			t.Fatal("latencies not sorted")
		}
	}
}

// Ensure non-2xx answers and redirects are errors, not successes, with the
// first error's status and body kept, and success latencies only.
func TestRunCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 3 {
		case 0:
			w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
			http.Error(w, `{"message":"The security token included in the request is invalid."}`, http.StatusForbidden)
		case 1:
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Request{Method: http.MethodGet, URL: srv.URL}, Options{Connections: 1, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	total := n.Load()
	if res.OK+res.Errors != total {
		t.Fatalf("%d ok + %d errors, server answered %d", res.OK, res.Errors, total)
	}
	if wantOK := total / 3; res.OK != wantOK && res.OK != wantOK+1 {
		t.Fatalf("%d ok of %d answers, one in three succeeds", res.OK, total)
	}
	if int64(len(res.Latencies)) != res.OK {
		t.Fatalf("%d latencies for %d successes", len(res.Latencies), res.OK)
	}
	if !strings.HasPrefix(res.FirstError, "302 Found") {
		t.Fatalf("first error %q, want the first answer's (a redirect, not followed)", res.FirstError)
	}

	// Only failures: the first error quotes the body.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"Signature expired"}`, http.StatusForbidden)
	}))
	defer srv2.Close()
	res, _ = Run(context.Background(), Request{Method: http.MethodPost, URL: srv2.URL, Body: []byte("{}")}, Options{Connections: 2, Duration: 50 * time.Millisecond})
	if res.OK != 0 || res.Errors == 0 || res.Rate() != 0 || res.Percentile(0.5) != 0 {
		t.Fatalf("all-failing run = %+v", res)
	}
	if want := `403 Forbidden: {"message":"Signature expired"}`; res.FirstError != want {
		t.Fatalf("first error %q, want %q", res.FirstError, want)
	}

	// A transport error is an error too.
	srv2.Close()
	res, _ = Run(context.Background(), Request{Method: http.MethodGet, URL: srv2.URL}, Options{Connections: 1, Duration: 20 * time.Millisecond})
	if res.OK != 0 || res.Errors == 0 || !strings.Contains(res.FirstError, "connect") {
		t.Fatalf("unreachable server: %+v", res)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, c := range []struct {
		d    []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.5, 7 * time.Millisecond},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2), 0.5, time.Millisecond},
		{ms(1, 2, 3), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(hundred...), 0.5, 50 * time.Millisecond},
		{ms(hundred...), 0.99, 99 * time.Millisecond},
		{ms(hundred...), 1, 100 * time.Millisecond},
		{ms(hundred...), 0.001, time.Millisecond},
	} {
		if got := Percentile(c.d, c.p); got != c.want {
			t.Errorf("Percentile(%d values, %v) = %v, want %v", len(c.d), c.p, got, c.want)
		}
	}
}

func TestMerge(t *testing.T) {
	a := Result{OK: 2, Errors: 1, FirstError: "first", Elapsed: time.Second, Latencies: []time.Duration{1, 5}}
	b := Result{OK: 3, Errors: 2, FirstError: "second", Elapsed: 2 * time.Second, Latencies: []time.Duration{2, 3, 4}}
	m := Merge(a, b)
	if m.OK != 5 || m.Errors != 3 || m.FirstError != "first" || m.Elapsed != 3*time.Second {
		t.Fatalf("Merge = %+v", m)
	}
	for i, d := range m.Latencies {
		if d != time.Duration(i+1) {
			t.Fatalf("merged latencies %v, want 1..5 sorted", m.Latencies)
		}
	}
	if m.Rate() != 5.0/3 {
		t.Fatalf("merged rate %v", m.Rate())
	}
	if m := Merge(Result{}, b); m.FirstError != "second" {
		t.Fatalf("first error of a clean run then a failing one = %q", m.FirstError)
	}
}

// Ensure RunFunc counts calls and errors as Run counts requests.
func TestRunFunc(t *testing.T) {
	var calls atomic.Int64
	res := RunFunc(context.Background(), Options{Connections: 4, Duration: 50 * time.Millisecond}, func() error {
		if calls.Add(1)%2 == 0 {
			return errors.New("odd one out")
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	if res.OK+res.Errors != calls.Load() || res.OK == 0 || res.Errors == 0 || res.FirstError != "odd one out" {
		t.Fatalf("RunFunc = %d ok, %d errors (%q), %d calls", res.OK, res.Errors, res.FirstError, calls.Load())
	}
	if res.Percentile(0.5) < time.Millisecond {
		t.Fatalf("p50 %v below the call's 1ms sleep", res.Percentile(0.5))
	}
}

// Ensure a cancelled run stops early, returns the context's error and does
// not count the interrupted requests as errors.
func TestRunCancelled(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, Request{Method: http.MethodGet, URL: srv.URL}, Options{Connections: 2, Duration: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if res.Errors != 0 {
		t.Fatalf("cancelled run counted %d errors", res.Errors)
	}
}
