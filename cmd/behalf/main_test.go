package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/behalf-dev/behalf/internal/randid"
)

// testServer is a real `behalf serve` running in-process on a loopback port.
type testServer struct {
	URL      string
	DataDir  string
	KeyID    string
	Secret   string
	Log      *syncBuffer
	Captured *syncBuffer // every response body the SDK client received
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// backends lists the stores the end-to-end tests run on: SQLite always,
// PostgreSQL when BEHALF_TEST_POSTGRES_DSN is set.
func backends(t *testing.T) map[string]func(t *testing.T) string {
	m := map[string]func(t *testing.T) string{"sqlite": func(t *testing.T) string { return "" }}
	if dsn := os.Getenv("BEHALF_TEST_POSTGRES_DSN"); dsn != "" {
		m["postgres"] = func(t *testing.T) string { return freshPostgresSchema(t, dsn) }
	}
	return m
}

// forEachBackend runs fn against a fresh server on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *testServer)) {
	t.Helper()
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			fn(t, mustRunMain(t, dsn(t)))
		})
	}
}

// freshPostgresSchema creates an empty schema and returns a DSN using it.
func freshPostgresSchema(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := "e2e_" + strings.ToLower(randid.Upper(12))
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// mustRunMain starts the real wiring on 127.0.0.1:0 with a temporary data
// directory and the given database ("" for SQLite in the data dir), and
// reads the root credentials it wrote.
func mustRunMain(t *testing.T, database string, args ...string) *testServer {
	t.Helper()
	return startMain(t, serverOptions{database: database, args: args})
}

// mustRunMainNoCreds starts a server whose root key comes from the
// environment, so no credentials file is written.
func mustRunMainNoCreds(t *testing.T) *testServer {
	t.Helper()
	return startMain(t, serverOptions{noCredentials: true})
}

type serverOptions struct {
	database      string
	dataDir       string           // default: a new temporary directory
	now           func() time.Time // the data plane's clock
	args          []string
	noCredentials bool
	discardLog    bool          // benchmarks: keep no log in memory
	resolver      *net.Resolver // outbound host names (internal/fakedns)
	smtpTLS       *tls.Config   // trusts the test SMTP server (internal/smtptest)
}

func startMain(t testing.TB, o serverOptions) *testServer {
	t.Helper()
	s, _ := startStoppable(t, o)
	return s
}

// startStoppable is startMain that also returns a function stopping the
// server (as the test's cleanup does; calling it more than once is safe).
func startStoppable(t testing.TB, o serverOptions) (*testServer, func()) {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	s := &testServer{DataDir: o.dataDir, Log: &syncBuffer{}, Captured: &syncBuffer{}}
	var logOut io.Writer = s.Log
	if o.discardLog {
		logOut = io.Discard
	}
	m := NewMain(logOut)
	m.Now = o.now
	m.Resolver = o.resolver
	m.SMTPTLS = o.smtpTLS
	args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", s.DataDir, "--database", o.database}, o.args...)
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case addr := <-m.Addr:
		s.URL = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, s.Log)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start in 30s")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	}
	t.Cleanup(stop)
	if !o.noCredentials {
		s.KeyID, s.Secret = readCredentials(t, filepath.Join(s.DataDir, "credentials"))
	}
	return s, stop
}

func readCredentials(t testing.TB, path string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var id, secret string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " = ")
		switch k {
		case "aws_access_key_id":
			id = v
		case "aws_secret_access_key":
			secret = v
		}
	}
	if id == "" || secret == "" {
		t.Fatalf("credentials file %s lacks a key", path)
	}
	return id, secret
}

// client returns the official control-plane client for s, recording every
// response body into s.Captured.
func (s *testServer) client(t *testing.T) *ctl.Client {
	return s.clientWith(t, s.KeyID, s.Secret)
}

func (s *testServer) clientWith(t *testing.T, id, secret string) *ctl.Client {
	t.Helper()
	return ctl.New(ctl.Options{
		BaseEndpoint:     aws.String(s.URL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:       &http.Client{Transport: &capture{next: http.DefaultTransport, into: s.Captured}},
		RetryMaxAttempts: 1,
	})
}

// capture is a RoundTripper that copies response bodies into a buffer.
type capture struct {
	next http.RoundTripper
	into io.Writer
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.into, "%d %s\n%s\n", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}
