// Package loadgen is a small closed-loop load generator in the manner of
// wrk: C workers, each with its own keep-alive connection, send one
// pre-built request again and again for a fixed duration, and the run
// reports the rate of successful answers and their latency percentiles.
//
// The request is built once (and, for SigV4, signed once) and replayed
// byte for byte, so the client does the same work whatever the target:
// comparing two targets measured with the same generator in the same run
// compares the servers. RunFunc measures a function the same way (the
// argon2id floor of password sign-in).
package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Request is what every worker sends: method, absolute URL, headers (a
// "Host" entry sets the Host header) and body.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Options shape a run.
type Options struct {
	// Connections is the number of concurrent workers, each keeping one
	// connection (default 1).
	Connections int
	// Duration is how long workers start new requests (required).
	Duration time.Duration
	// Client sends the requests; nil means a client over NewTransport.
	Client *http.Client
}

// Result is one run's outcome. Latencies are of successful operations
// (2xx answers), sorted.
type Result struct {
	OK, Errors int64
	// FirstError describes the first failure: an HTTP status and the
	// start of the answer's body, or a transport error.
	FirstError string
	Elapsed    time.Duration
	Latencies  []time.Duration
}

// Rate is successful operations per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Percentile is the nearest-rank p-quantile (0 < p ≤ 1) of the successful
// operations' latencies, 0 when there were none.
func (r Result) Percentile(p float64) time.Duration {
	return Percentile(r.Latencies, p)
}

// Percentile is the nearest-rank p-quantile of sorted: the smallest value
// with at least p of all values at or below it.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(float64(n)*p-1e-9)) - 1 // the epsilon absorbs p·n's rounding
	return sorted[max(0, min(n-1, i))]
}

// Merge adds up runs of the same target (such as the halves of a run
// alternated with a baseline's): counts and elapsed times add, latencies
// merge, the first error is the earliest run's.
func Merge(rs ...Result) Result {
	var m Result
	for _, r := range rs {
		m.OK += r.OK
		m.Errors += r.Errors
		m.Elapsed += r.Elapsed
		if m.FirstError == "" {
			m.FirstError = r.FirstError
		}
		m.Latencies = append(m.Latencies, r.Latencies...)
	}
	slices.Sort(m.Latencies)
	return m
}

// NewTransport is a keep-alive HTTP/1.1 transport for conns concurrent
// connections per host (as wrk: one request at a time on each), with the
// environment's proxy settings and no transparent compression.
func NewTransport(conns int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	tr.DisableCompression = true
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
	return tr
}

// maxErrorBody bounds the body quoted in FirstError.
const maxErrorBody = 300

// Run sends req from o.Connections workers for o.Duration. A non-2xx
// answer or a transport error counts as an error; every answer's body is
// read to its end so the connection is reused. Requests started before
// the duration ends are waited for and counted. Redirects are not
// followed (a 3xx is an error). An error is returned for a request that
// cannot be built, or ctx's error when it was cancelled (with what was
// measured until then).
func Run(ctx context.Context, req Request, o Options) (Result, error) {
	if _, err := http.NewRequest(req.Method, req.URL, nil); err != nil {
		return Result{}, fmt.Errorf("loadgen: %w", err)
	}
	client := o.Client
	if client == nil {
		tr := NewTransport(max(1, o.Connections))
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return run(ctx, o, func(ctx context.Context, w *worker) (bool, string) {
		r, err := w.request(ctx, req)
		if err != nil {
			return false, err.Error()
		}
		resp, err := client.Do(r)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				return false, fmt.Sprintf("%s: reading the body: %v", resp.Status, err)
			}
			return true, ""
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		io.Copy(io.Discard, resp.Body)
		return false, fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	})
}

// RunFunc calls fn from o.Connections goroutines for o.Duration; a
// non-nil error counts as an error.
func RunFunc(ctx context.Context, o Options, fn func() error) Result {
	r, _ := run(ctx, o, func(context.Context, *worker) (bool, string) {
		if err := fn(); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return r
}

// worker is one loop's state.
type worker struct {
	header http.Header // this worker's copy of the request's headers
	lat    []time.Duration
	ok     int64
	errs   int64
	first  string
	firstT time.Time
}

// request builds the next request; the body is the same bytes each time.
func (w *worker) request(ctx context.Context, req Request) (*http.Request, error) {
	if w.header == nil {
		w.header = req.Header.Clone()
		if w.header == nil {
			w.header = http.Header{}
		}
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	r.Header = w.header
	if h := w.header.Get("Host"); h != "" {
		r.Host = h
	}
	return r, nil
}

func run(ctx context.Context, o Options, op func(context.Context, *worker) (bool, string)) (Result, error) {
	if o.Duration <= 0 {
		return Result{}, errors.New("loadgen: Duration must be positive")
	}
	n := max(1, o.Connections)
	workers := make([]*worker, n)
	start := time.Now()
	deadline := start.Add(o.Duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{lat: make([]time.Duration, 0, 1024)}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				ok, msg := op(ctx, w)
				d := time.Since(t0)
				switch {
				case ok:
					w.ok++
					w.lat = append(w.lat, d)
				case ctx.Err() != nil:
					return // cancelled: not the target's failure
				default:
					w.errs++
					if w.first == "" {
						w.first, w.firstT = msg, t0
					}
				}
			}
		}()
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start)}
	var firstT time.Time
	for _, w := range workers {
		res.OK += w.ok
		res.Errors += w.errs
		res.Latencies = append(res.Latencies, w.lat...)
		if w.first != "" && (res.FirstError == "" || w.firstT.Before(firstT)) {
			res.FirstError, firstT = w.first, w.firstT
		}
	}
	slices.Sort(res.Latencies)
	return res, ctx.Err()
}
