package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// The benchmarks below run over real HTTP on loopback, client and server in
// this process, and are meant to be compared with each other at the same
// -benchtime; docs/benchmarks.md has figures and the command.
//
//	BenchmarkVaultHit     GetResourceOauth2Token for a bound, fresh grant
//	BenchmarkForJWT       GetWorkloadAccessTokenForJWT with an RS256 user JWT
//	BenchmarkBaseline     a bare net/http JSON handler, plain http.Client
//	BenchmarkBaselineSDK  a bare handler answering GetResourceOauth2Token,
//	                      called through the official SDK client (the
//	                      client-side share of the cost)

// baselineBodyBytes is the size of the JSON body BenchmarkVaultHit sends
// (it reports its own as req-B); the baselines send this many bytes.
const baselineBodyBytes = 741

// fillVault inserts others grants of other workloads and users into the
// SQLite database at path, in one statement, and checkpoints them into the
// file (about 10 s for a million).
func fillVault(b *testing.B, path string, others int) {
	b.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	res, err := db.ExecContext(ctx, `INSERT INTO grants
		(id, workload, user_key, provider_id, scopes, token, expires_at, has_refresh, refresh_lease, version, created_at, updated_at, refreshed_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		SELECT 'other-' || i, 'workload-' || (i % 1000), 'user-' || i, 'google', '["openid"]', randomblob(200), 0, 1, 0, 1, 0, 0, 0 FROM n`, others)
	if err != nil {
		b.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(others) {
		b.Fatalf("inserted %d grants (%v), want %d", n, err, others)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
}

// startBenchServer runs `behalf serve` in this process on 127.0.0.1:0 with
// SQLite in a temporary data directory, logging (every request, as in
// production) to io.Discard.
func startBenchServer(b *testing.B) *testServer {
	b.Helper()
	return startMain(b, serverOptions{args: []string{"--allow-private-endpoints"}, discardLog: true})
}

// benchTransport is a loopback transport with enough idle connections for
// every parallel goroutine; all benchmarks use it.
func benchTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 256
	return tr
}

// benchDataPlane is the official data-plane client for s with benchTransport.
func benchDataPlane(s *testServer, rt http.RoundTripper) *dp.Client {
	return dp.New(dp.Options{
		BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, ""),
		HTTPClient:  &http.Client{Transport: rt},
	})
}

// sizeRecorder remembers the size of the last request body it sent.
type sizeRecorder struct {
	next http.RoundTripper
	size atomic.Int64
}

func (r *sizeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.size.Store(req.ContentLength)
	return r.next.RoundTrip(req)
}

// latencies collects per-operation durations from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.d = append(l.d, d...)
}

// report adds p50 and p99 (microseconds) to the benchmark's output.
func (l *latencies) report(b *testing.B) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	at := func(q float64) float64 {
		i := int(q * float64(len(l.d)))
		if i >= len(l.d) {
			i = len(l.d) - 1
		}
		return float64(l.d[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-us")
	b.ReportMetric(at(0.99), "p99-us")
}

// runTimed runs op in parallel b.N times in all, timing each call.
func runTimed(b *testing.B, op func() error) {
	lat := &latencies{}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mine := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			err := op()
			mine = append(mine, time.Since(t0))
			if err != nil {
				b.Error(err)
				return
			}
		}
		lat.add(mine)
	})
	b.StopTimer()
	lat.report(b)
}

// Vault hit: one bound grant whose access token is fresh (1 h); each
// operation is GetResourceOauth2Token through the official client with a
// valid workload access token: SigV4 check, WAT verification, the grant
// read, opening the sealed token. The provider is never called. Run with
// the grant alone in the vault, and among 1,000,000 other grants (1,000
// workloads, 1,000,000 users) as issue 12 asks: a vault that grew over
// time, its rows checkpointed into the database file.
func BenchmarkVaultHit(b *testing.B) {
	for _, others := range []int{0, 1_000_000} {
		b.Run(fmt.Sprintf("others=%d", others), func(b *testing.B) { benchmarkVaultHit(b, others) })
	}
}

func benchmarkVaultHit(b *testing.B, others int) {
	google := fakeprovider.New(b, fakeprovider.Options{AccessTokenTTL: time.Hour})
	o := serverOptions{dataDir: b.TempDir(), args: []string{"--allow-private-endpoints"}, discardLog: true}
	if others > 0 {
		// The first start makes the database; the rows go in while no
		// server runs (one server per SQLite file).
		_, stop := startStoppable(b, o)
		stop()
		fillVault(b, filepath.Join(o.dataDir, "behalf.db"), others)
	}
	s := startMain(b, o)
	f := newCrashFixture(b, s, google)
	f.setClient()
	ctx := context.Background()
	if err := f.consent(ctx, "alice"); err != nil {
		b.Fatal(err)
	}
	wat, err := f.wat(ctx, "alice")
	if err != nil {
		b.Fatal(err)
	}
	in := f.request(wat, "")

	rec := &sizeRecorder{next: benchTransport()}
	client := benchDataPlane(s, rec)
	first, err := client.GetResourceOauth2Token(ctx, in)
	if err != nil || aws.ToString(first.AccessToken) == "" {
		b.Fatalf("warm-up call: %+v %v", first, err)
	}
	want := aws.ToString(first.AccessToken)
	_, exchanges, refreshes, _ := google.Counts()

	runTimed(b, func() error {
		out, err := client.GetResourceOauth2Token(ctx, in)
		if err != nil {
			return err
		}
		if aws.ToString(out.AccessToken) != want {
			return fmt.Errorf("vault hit returned %+v", out)
		}
		return nil
	})
	b.ReportMetric(float64(rec.size.Load()), "req-B")
	if _, e2, r2, _ := google.Counts(); e2 != exchanges || r2 != refreshes {
		b.Fatalf("vault hits called the provider: exchanges %d→%d refreshes %d→%d", exchanges, e2, refreshes, r2)
	}
}

// ForJWT: GetWorkloadAccessTokenForJWT with an RS256 (2048-bit) user JWT
// from a trusted issuer (an httptest OpenID issuer with discovery and
// JWKS). The key set is fetched once, by the warm-up call; each operation
// is SigV4 check, workload read, JWT parse and signature check, and
// minting the EdDSA workload access token. 64 distinct users' JWTs are used
// in turn.
func BenchmarkForJWT(b *testing.B) {
	s := startBenchServer(b)
	issuer := newBenchIssuer(b)
	if status, body := benchSignedPost(b, s, "/behalf/CreateTrustedIssuer", fmt.Sprintf(`{"discoveryUrl":%q}`, issuer.URL+"/.well-known/openid-configuration")); status != http.StatusCreated {
		b.Fatalf("CreateTrustedIssuer: %d %s", status, body)
	}
	control := ctl.New(ctl.Options{
		BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, ""),
	})
	ctx := context.Background()
	if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("jwt-agent")}); err != nil {
		b.Fatal(err)
	}
	inputs := make([]*dp.GetWorkloadAccessTokenForJWTInput, 64)
	for i := range inputs {
		inputs[i] = &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("jwt-agent"), UserToken: aws.String(issuer.sign(b, fmt.Sprintf("user-%02d", i)))}
	}
	rec := &sizeRecorder{next: benchTransport()}
	client := benchDataPlane(s, rec)
	for _, in := range inputs[:2] {
		out, err := client.GetWorkloadAccessTokenForJWT(ctx, in)
		if err != nil || aws.ToString(out.WorkloadAccessToken) == "" {
			b.Fatalf("warm-up call: %+v %v", out, err)
		}
	}
	var next atomic.Int64
	runTimed(b, func() error {
		in := inputs[next.Add(1)%int64(len(inputs))]
		out, err := client.GetWorkloadAccessTokenForJWT(ctx, in)
		if err != nil {
			return err
		}
		if aws.ToString(out.WorkloadAccessToken) == "" {
			return fmt.Errorf("no workload access token: %+v", out)
		}
		return nil
	})
	b.ReportMetric(float64(rec.size.Load()), "req-B")
	if n := issuer.jwksFetches.Load(); n != 1 {
		b.Logf("JWKS fetched %d times", n)
	}
}

// Baseline: a bare net/http handler on loopback that reads the JSON body
// and answers {"ok":true}, called through a plain http.Client with a body
// the size of the vault-hit request.
func BenchmarkBaseline(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	b.Cleanup(srv.Close)
	body := paddedJSON(baselineBodyBytes)
	client := &http.Client{Transport: benchTransport()}
	runTimed(b, func() error {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/identities/oauth2/token", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("baseline: %s", resp.Status)
		}
		return err
	})
	b.ReportMetric(float64(len(body)), "req-B")
}

// BaselineSDK: the vault-hit call through the official data-plane client
// (SigV4 signing, serialization, middleware) against a bare handler that
// reads the body and answers a fixed token: what the client side alone
// costs.
func BenchmarkBaselineSDK(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"accessToken":"ya29.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"}`))
	}))
	b.Cleanup(srv.Close)
	rec := &sizeRecorder{next: benchTransport()}
	client := benchDataPlane(&testServer{URL: srv.URL, KeyID: "AKIDBENCHBASELINE000", Secret: "secret"}, rec)
	f := &crashFixture{appURL: "http://127.0.0.1:1/callback"}
	// A workload access token of realistic size (EdDSA JWT with user claims).
	in := f.request(strings.Repeat("w", 445), "")
	ctx := context.Background()
	runTimed(b, func() error {
		out, err := client.GetResourceOauth2Token(ctx, in)
		if err == nil && out.AccessToken == nil {
			err = fmt.Errorf("no token: %+v", out)
		}
		return err
	})
	b.ReportMetric(float64(rec.size.Load()), "req-B")
}

// paddedJSON returns a JSON object of exactly n bytes (n ≥ 12).
func paddedJSON(n int) []byte {
	return []byte(`{"pad":"` + strings.Repeat("x", n-10) + `"}`)
}

// benchSignedPost sends a SigV4-signed JSON POST with s's root key.
func benchSignedPost(b *testing.B, s *testServer, path, body string) (int, string) {
	b.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: s.Secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// benchIssuer is an OpenID issuer serving discovery and a JWKS for one RSA
// key, and signing user JWTs with it.
type benchIssuer struct {
	URL         string
	key         jwk.Key // private, with kid and alg
	jwksFetches atomic.Int64
}

func newBenchIssuer(b *testing.B) *benchIssuer {
	b.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	priv, err := jwk.Import(raw)
	if err != nil {
		b.Fatal(err)
	}
	priv.Set(jwk.KeyIDKey, "bench-key-1")
	priv.Set(jwk.AlgorithmKey, jwa.RS256())
	pub, err := jwk.PublicKeyOf(priv)
	if err != nil {
		b.Fatal(err)
	}
	pub.Set(jwk.KeyUsageKey, "sig")
	set := jwk.NewSet()
	set.AddKey(pub)
	jwks, err := json.Marshal(set)
	if err != nil {
		b.Fatal(err)
	}
	iss := &benchIssuer{key: priv}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.jwksFetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	iss.URL = srv.URL
	return iss
}

// sign returns an RS256 JWT for sub, valid for an hour.
func (i *benchIssuer) sign(b *testing.B, sub string) string {
	b.Helper()
	now := time.Now()
	tok, err := jwt.NewBuilder().Issuer(i.URL).Subject(sub).Audience([]string{"bench-app"}).
		IssuedAt(now).Expiration(now.Add(time.Hour)).Build()
	if err != nil {
		b.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), i.key))
	if err != nil {
		b.Fatal(err)
	}
	return string(signed)
}
