package main

// Attack test of issue 11, Security 3 (the hosted login's authorization
// endpoint flooded with anonymous GETs, each stored): a real `behalf
// serve` behind a proxy on loopback (--trust-proxy), on SQLite and
// PostgreSQL.

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// authRequestRows counts the hosted login's stored auth requests (all, and
// those of one client IP) and their sealed bytes, straight from the
// database of s (database is its DSN, "" for SQLite in its data dir).
func authRequestRows(t *testing.T, s *testServer, database, clientIP string) (rows, ofIP, bytes int) {
	t.Helper()
	driver, dsn := "pgx", database
	if database == "" {
		driver, dsn = "sqlite", filepath.Join(s.DataDir, "behalf.db")+"?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	placeholder := "?"
	if driver == "pgx" {
		placeholder = "$1"
	}
	var sum sql.NullInt64
	if err := db.QueryRow("SELECT count(*), sum(length(data)) FROM pool_auth_requests").Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM pool_auth_requests WHERE client_ip = "+placeholder, clientIP).Scan(&ofIP); err != nil {
		t.Fatal(err)
	}
	return rows, ofIP, int(sum.Int64)
}

// ---------------------------------------------------------------------
// Issue 11, Security 3: every anonymous GET /{poolId}/oauth2/authorize
// stored a row of up to ~40 KB (long login_hint, state), outside the
// per-IP limit: 600 requests added 16 MB and slowed writes 5×.

func TestAttackHostedLoginAuthorizeFlood(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) { attackHostedLoginAuthorizeFlood(t, dsn(t)) })
	}
	for _, flag := range []string{"--hosted-login-max-pending-per-ip", "--hosted-login-max-pending"} {
		if err := (&Main{Config: DefaultConfig()}).ParseFlags([]string{flag, "-1"}); err == nil {
			t.Errorf("%s -1 was accepted", flag)
		}
	}
}

func attackHostedLoginAuthorizeFlood(t *testing.T, database string) {
	const (
		burst     = 30 // per-IP requests before the rate limit refuses
		perIP     = 10 // unexpired auth requests per client IP
		total     = 25 // unexpired auth requests in all
		password  = "Corr3ct-Horse-Battery!"
		maxRowLen = 8<<10 + 512 // the 8 KiB stored request, sealed
	)
	clock := &testClock{}
	s := startMain(t, serverOptions{database: database, now: clock.Now, args: []string{
		"--trust-proxy", "--rate-limit-ip", "0.001", "--rate-limit-ip-burst", strconv.Itoa(burst),
		"--hosted-login-max-pending-per-ip", strconv.Itoa(perIP), "--hosted-login-max-pending", strconv.Itoa(total),
	}})
	ctx := context.Background()
	cog := s.cognito(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app: "+r.URL.Path)
	}))
	t.Cleanup(app.Close)
	callback := app.URL + "/callback"
	f := newPoolFixture(t, ctx, cog, "flooded")
	f.createUser(t, ctx, cog, "alice", password)
	created, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(f.poolID), ClientName: aws.String("console"),
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{callback}, SupportedIdentityProviders: []string{"COGNITO"},
	})
	if err != nil {
		t.Fatal(err)
	}
	clientID := aws.ToString(created.UserPoolClient.ClientId)
	authorizeURL := func(state, loginHint string) string {
		return s.URL + "/" + f.poolID + "/oauth2/authorize?" + url.Values{
			"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {callback}, "scope": {"openid"},
			"state": {state}, "login_hint": {loginHint},
			"code_challenge": {oauth2.S256ChallengeFromVerifier("v")}, "code_challenge_method": {"S256"},
		}.Encode()
	}
	get := func(c *http.Client, u string) *http.Response {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// errorRedirect returns the error, description and state of a
	// redirect to the client's callback ("" when it is none).
	errorRedirect := func(resp *http.Response) (string, string, string) {
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), callback+"?") {
			return "", "", ""
		}
		q := loc.Query()
		return q.Get("error"), q.Get("error_description"), q.Get("state")
	}
	toLogin := func(resp *http.Response) bool {
		return resp.StatusCode == http.StatusFound && strings.HasPrefix(resp.Header.Get("Location"), s.URL+"/"+f.poolID+"/login?")
	}

	// 1. The outside review's flood: ~40 KB of state and login_hint per
	// GET. Each is refused with invalid_request naming the parameter and
	// stores nothing, until the per-IP limit answers its throttling page
	// (never a redirect).
	big := forwardedAs("203.0.113.10")
	for i := range burst + 10 {
		resp := get(big, authorizeURL(strings.Repeat("s", 20<<10), strings.Repeat("h", 20<<10)))
		if i < burst {
			if e, d, st := errorRedirect(resp); e != "invalid_request" || !strings.Contains(d, "The state parameter is too long") || st != "" {
				t.Fatalf("over-long GET %d: %d %q %q state %.20q, want invalid_request naming state, not echoing it", i, resp.StatusCode, e, d, st)
			}
			continue
		}
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Location") != "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("GET %d past the per-IP burst: %d %q Location=%q Retry-After=%q, want the 429 page",
				i, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), resp.Header.Get("Retry-After"))
		}
	}
	if rows, _, _ := authRequestRows(t, s, database, ""); rows != 0 {
		t.Fatalf("%d auth requests stored by over-long requests", rows)
	}

	// 2. The largest requests the caps let through, from one address
	// (within its rate limit): it keeps perIP of them; the rest are
	// redirected temporarily_unavailable with their state, and stored
	// nowhere.
	one := forwardedAs("203.0.113.11")
	for i := range perIP + 5 {
		state := "one-" + strconv.Itoa(i) + strings.Repeat("s", 2000)
		resp := get(one, authorizeURL(state, strings.Repeat("h", 512)))
		if i < perIP {
			if !toLogin(resp) {
				t.Fatalf("request %d within the address's bound: %d Location=%.100q, want the login page", i, resp.StatusCode, resp.Header.Get("Location"))
			}
			continue
		}
		if e, d, st := errorRedirect(resp); e != "temporarily_unavailable" || st != state || !strings.Contains(d, "from your network") {
			t.Fatalf("request %d past the address's bound: %d %q %q, want temporarily_unavailable with the state", i, resp.StatusCode, e, d)
		}
	}
	rows, ofIP, size := authRequestRows(t, s, database, "203.0.113.11")
	if rows != perIP || ofIP != perIP || size > perIP*maxRowLen {
		t.Fatalf("after one address's flood: %d rows (%d of its address), %d bytes; want %d rows of at most %d bytes", rows, ofIP, size, perIP, maxRowLen)
	}

	// 3. Many addresses: the total bound holds.
	refused := 0
	for a := range 6 {
		c := forwardedAs("198.51.100." + strconv.Itoa(20+a))
		for i := range 5 {
			resp := get(c, authorizeURL("many-"+strconv.Itoa(a)+"-"+strconv.Itoa(i), ""))
			if toLogin(resp) {
				continue
			}
			if e, d, _ := errorRedirect(resp); e != "temporarily_unavailable" || !strings.Contains(d, "busy") {
				t.Fatalf("address %d request %d: %d %q %q, want the login page or temporarily_unavailable (busy)", a, i, resp.StatusCode, e, d)
			}
			refused++
		}
	}
	if rows, _, size := authRequestRows(t, s, database, ""); rows != total || size > total*maxRowLen || refused != perIP+30-total {
		t.Fatalf("after many addresses' flood: %d rows, %d bytes, %d refused; want %d rows, %d refused", rows, size, refused, total, perIP+30-total)
	}
	// A loopback client (not limited per IP) meets the total too.
	local := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if e, _, _ := errorRedirect(get(local, authorizeURL("local", ""))); e != "temporarily_unavailable" {
		t.Fatalf("a loopback client at the total: %q, want temporarily_unavailable", e)
	}
	if !strings.Contains(s.Log.String(), "refusing sign-ins") {
		t.Error("reaching the total is not logged")
	}

	// 4. Once the requests expire (15 minutes) they count no more: a user
	// signs in from an address that flooded nothing, and from the one that
	// reached its bound (the rate limit's clock is the real one: it has
	// budget left).
	clock.Advance(15*time.Minute + time.Second)
	for _, ip := range []string{"192.0.2.50", "203.0.113.11"} {
		jar, _ := cookiejar.New(nil)
		user := &http.Client{Jar: jar, Transport: &forwarding{ip: ip}, Timeout: 10 * time.Second}
		status, final, body := browseSigningIn(t, user, authorizeURL("user-"+ip, "alice"), "alice", password)
		if status != http.StatusOK || !strings.HasPrefix(final.String(), callback+"?") || final.Query().Get("code") == "" {
			t.Fatalf("sign-in from %s after expiry: %d at %s\n%.300s", ip, status, final, body)
		}
	}
}

// Ensure the sweep deletes the hosted login's requests poolAuthRequestGrace
// after they expire, on the hosted login's clock, and keeps the others.
func TestSweepExpiredHostedLoginRequests(t *testing.T) {
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := &testClock{}
	clock.Advance(24 * time.Hour) // the hosted login's clock, not the wall's
	now := clock.Now()
	if err := db.CreateUserPool(ctx, &behalf.UserPool{ID: "us-east-1_sweep", Name: "sweep", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for id, expires := range map[string]time.Duration{
		"gone": -poolAuthRequestGrace - time.Second, "grace": -poolAuthRequestGrace + time.Minute, "live": time.Minute,
	} {
		r := &behalf.PoolAuthRequest{ID: id, PoolID: "us-east-1_sweep", ClientIP: "192.0.2.1", Data: behalf.Sealed("x"),
			ExpiresAt: now.Add(expires), CreatedAt: now.Add(-time.Hour)}
		if err := db.CreatePoolAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	log := &syncBuffer{}
	m := &Main{Log: slog.New(slog.NewTextHandler(log, nil)), Now: clock.Now}
	m.sweep(ctx, sweeper{store: db})
	for id, want := range map[string]bool{"gone": false, "grace": true, "live": true} {
		if _, err := db.GetPoolAuthRequest(ctx, id); (err == nil) != want {
			t.Errorf("request %q after the sweep: %v, want kept %v", id, err, want)
		}
	}
	if !strings.Contains(log.String(), "swept expired hosted-login requests") {
		t.Errorf("the sweep logged %q", log)
	}
}
