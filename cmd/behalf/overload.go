package main

import (
	"flag"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/behalf-dev/behalf/internal/route"
	"github.com/behalf-dev/behalf/ratelimit"
	"github.com/behalf-dev/behalf/sqlstore"
	"github.com/behalf-dev/behalf/userpool"
)

// Overload is the configuration of the bounds that keep an overloaded
// server's memory, goroutines and file descriptors flat: requests in
// flight on the API listener and invocations in flight (excess refused at
// once in each API's throttling shape, package ratelimit), connections
// open on it (connlimit.go), concurrent
// argon2id hashes (userpool), and database connections (sqlstore).
// docs/operations.md, "Overload".
type Overload struct {
	// MaxConnections bounds the connections the listener holds open
	// (connlimit.go); 0 disables.
	MaxConnections int
	// MaxInFlight bounds the requests the listener serves at once, but
	// for invocations and the health checks; 0 disables.
	MaxInFlight int
	// MaxInvocations bounds the InvokeAgentRuntime requests (streams that
	// may last minutes) in flight; 0 disables.
	MaxInvocations int
	// QueueWait is how long a request over either bound waits for a slot.
	QueueWait time.Duration
	// MaxPasswordHashes bounds concurrent argon2id hashes (0: GOMAXPROCS);
	// a sign-in that finds none free within userpool.DefaultHashQueueWait
	// is refused with TooManyRequestsException.
	MaxPasswordHashes int
	// DBMaxConns bounds the database connections (0: sqlstore.DefaultMaxConns).
	DBMaxConns int
}

// defaultMaxInFlight is --max-in-flight's default: 64 per GOMAXPROCS.
func defaultMaxInFlight() int { return 64 * runtime.GOMAXPROCS(0) }

// defaultMaxInvocations is --max-invocations-in-flight's default: 256 per GOMAXPROCS.
func defaultMaxInvocations() int { return 256 * runtime.GOMAXPROCS(0) }

// defaultQueueWait is --queue-wait's default.
const defaultQueueWait = 100 * time.Millisecond

func defaultOverload() Overload {
	return Overload{MaxConnections: defaultMaxConnections(), MaxInFlight: defaultMaxInFlight(), MaxInvocations: defaultMaxInvocations(), QueueWait: defaultQueueWait}
}

func (c *Overload) flags(fs *flag.FlagSet) {
	fs.IntVar(&c.MaxConnections, "max-connections", c.MaxConnections, "connections held open on --listen (1024 per GOMAXPROCS); at the bound new ones wait to be accepted, and connections idle for 5 s are closed; 0 disables")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", c.MaxInFlight, "requests served at once on --listen (64 per GOMAXPROCS; invocations and /healthz, /readyz not counted); past it, and --queue-wait, requests are refused at once: 429 ThrottlingException, Cognito's TooManyRequestsException, with Retry-After; 0 disables")
	fs.IntVar(&c.MaxInvocations, "max-invocations-in-flight", c.MaxInvocations, "InvokeAgentRuntime requests (streams) served at once (256 per GOMAXPROCS); past it 429 ThrottlingException; 0 disables")
	fs.DurationVar(&c.QueueWait, "queue-wait", c.QueueWait, "how long a request over --max-in-flight or --max-invocations-in-flight waits for a slot before it is refused (0: refused at once)")
	fs.IntVar(&c.MaxPasswordHashes, "max-password-hashes", c.MaxPasswordHashes, "user-pool password hashes (argon2id, 19 MiB each) computed at once (0: GOMAXPROCS); a sign-in that waits 500 ms for one is refused with TooManyRequestsException")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", c.DBMaxConns, fmt.Sprintf("database connections open at once, SQLite or PostgreSQL (0: 4 per GOMAXPROCS, at least 8; here %d)", sqlstore.DefaultMaxConns()))
}

func (c Overload) validate() []error {
	if c.MaxConnections < 0 || c.MaxInFlight < 0 || c.MaxInvocations < 0 || c.QueueWait < 0 || c.MaxPasswordHashes < 0 || c.DBMaxConns < 0 {
		return []error{fmt.Errorf("--max-connections, --max-in-flight, --max-invocations-in-flight, --queue-wait, --max-password-hashes and --db-max-conns must not be negative")}
	}
	return nil
}

// configurePools applies --max-password-hashes.
func (c Overload) configurePools(pools *userpool.Service) {
	n := c.MaxPasswordHashes
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	pools.MaxConcurrentHashes = n
}

// inFlightBounds returns what puts a handler behind the in-flight
// bounds: invocations under theirs, every other request under
// --max-in-flight. Refusals are counted by bound, and the requests each
// bound holds are exported.
func (m *Main) inFlightBounds() func(http.Handler) http.Handler {
	c := m.Config.Overload
	shed := func(bound string) func(*http.Request) {
		return func(r *http.Request) {
			m.obs.metrics.RateLimited(bound)
			m.Log.DebugContext(r.Context(), "overloaded: request refused", "bound", bound)
		}
	}
	api := ratelimit.NewInFlight(c.MaxInFlight, c.QueueWait)
	invocations := ratelimit.NewInFlight(c.MaxInvocations, c.QueueWait)
	if api != nil {
		api.OnShed = shed("in_flight")
	}
	if invocations != nil {
		invocations.OnShed = shed("invocations_in_flight")
	}
	m.obs.metrics.InFlight("in_flight", api.InFlight)
	m.obs.metrics.InFlight("invocations_in_flight", invocations.InFlight)
	return func(h http.Handler) http.Handler {
		toAPI, toInvocations := api.Wrap(h), invocations.Wrap(h)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isInvocation(r) {
				toInvocations.ServeHTTP(w, r)
				return
			}
			toAPI.ServeHTTP(w, r)
		})
	}
}

// isInvocation reports whether r is InvokeAgentRuntime (by the name
// package api gave its route).
func isInvocation(r *http.Request) bool {
	rt, _ := route.Of(r)
	return rt.Name == "InvokeAgentRuntime"
}
