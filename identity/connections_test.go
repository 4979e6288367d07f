package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/oauth"
	"github.com/behalf-dev/behalf/signer"
	"github.com/behalf-dev/behalf/sqlstore"
)

// countingStore counts the store writes the data plane makes, and can fail
// AppendAudit.
type countingStore struct {
	behalf.Store
	mu        sync.Mutex
	writes    map[string]int
	order     []string // the writes, in order
	failAudit atomic.Bool
}

func (s *countingStore) count(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writes == nil {
		s.writes = map[string]int{}
	}
	s.writes[op]++
	s.order = append(s.order, op)
}

// ops returns the writes so far, in order.
func (s *countingStore) ops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// total returns the number of writes so far and what they were.
func (s *countingStore) total() (int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.writes {
		n += c
	}
	out := map[string]int{}
	for k, v := range s.writes {
		out[k] = v
	}
	return n, out
}

func (s *countingStore) PutGrant(ctx context.Context, g *behalf.Grant) error {
	s.count("PutGrant")
	return s.Store.PutGrant(ctx, g)
}

func (s *countingStore) UpdateGrant(ctx context.Context, id string, fn func(*behalf.Grant) error) (*behalf.Grant, error) {
	s.count("UpdateGrant")
	return s.Store.UpdateGrant(ctx, id, fn)
}

func (s *countingStore) ClaimGrantRefresh(ctx context.Context, id string, now, until time.Time) (bool, error) {
	s.count("ClaimGrantRefresh")
	return s.Store.ClaimGrantRefresh(ctx, id, now, until)
}

func (s *countingStore) CompleteGrantRefresh(ctx context.Context, id string, token behalf.Sealed, expiresAt time.Time, scopes []string, at time.Time) error {
	s.count("CompleteGrantRefresh")
	return s.Store.CompleteGrantRefresh(ctx, id, token, expiresAt, scopes, at)
}

func (s *countingStore) DeleteGrant(ctx context.Context, id string) error {
	s.count("DeleteGrant")
	return s.Store.DeleteGrant(ctx, id)
}

func (s *countingStore) TouchGrants(ctx context.Context, m map[string]time.Time) error {
	s.count("TouchGrants")
	return s.Store.TouchGrants(ctx, m)
}

func (s *countingStore) AppendAudit(ctx context.Context, e *behalf.AuditEvent) error {
	s.count("AppendAudit")
	if s.failAudit.Load() {
		return errors.New("audit store down")
	}
	return s.Store.AppendAudit(ctx, e)
}

func (s *countingStore) CreateSession(ctx context.Context, a *behalf.AuthSession) error {
	s.count("CreateSession")
	return s.Store.CreateSession(ctx, a)
}

func (s *countingStore) UpdateSession(ctx context.Context, id string, fn func(*behalf.AuthSession) error) (*behalf.AuthSession, error) {
	s.count("UpdateSession")
	return s.Store.UpdateSession(ctx, id, fn)
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is a DataPlane on a fresh SQLite store, with one workload.
type harness struct {
	t     *testing.T
	dp    *DataPlane
	cfg   Config // what dp was built from
	store *countingStore
	db    *sqlstore.DB
	clock *testClock
	root  context.Context // the root key's caller identity
}

const (
	testWorkload  = "agent-1"
	testReturnURL = "https://app.example/callback"
)

var (
	alice = behalf.User{Issuer: "https://idp.example", Subject: "alice"}
	bob   = behalf.User{Issuer: "https://idp.example", Subject: "bob"}
)

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessOn(t, filepath.Join(t.TempDir(), "behalf.db"))
}

// newHarnessOn is newHarness on the store dsn names (SQLite or PostgreSQL).
func newHarnessOn(t *testing.T, dsn string) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer := newSealer(t, db)
	wat, err := signer.New(ctx, db, sealer, "wat", "EdDSA", nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2025, 6, 1, 12, 10, 0, 0, time.UTC)}
	cs := &countingStore{Store: db}
	h := &harness{
		t: t, store: cs, db: db, clock: clock,
		root: behalf.WithPrincipal(ctx, behalf.Principal{Name: behalf.RootPrincipal, AccessKeyID: "BHLFROOT"}),
		cfg: Config{
			Store: cs, Sealer: sealer, Signer: wat, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			HTTPClient: safehttp.NewClient(safehttp.Options{AllowPrivate: true}), PublicURL: "http://behalf.test", Now: clock.Now,
		},
	}
	h.dp = New(h.cfg)
	if err := db.CreateWorkload(ctx, &behalf.WorkloadIdentity{Name: testWorkload, AllowedReturnURLs: []string{testReturnURL}, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return h
}

// rebuild builds h.dp again (with empty caches) from h.cfg as change leaves it.
func (h *harness) rebuild(change func(*Config)) {
	change(&h.cfg)
	h.dp = New(h.cfg)
}

// addProvider stores a custom provider with md and a sealed client secret.
func (h *harness) addProvider(name string, md behalf.AuthServerMetadata) *behalf.OAuth2Provider {
	h.t.Helper()
	p := &behalf.OAuth2Provider{ID: "id-" + name, Name: name, Vendor: behalf.VendorCustom, ClientID: "cid", Metadata: md, CreatedAt: h.clock.Now(), UpdatedAt: h.clock.Now()}
	sealed, err := h.cfg.Sealer.Seal(context.Background(), behalf.SealContext{Kind: providerSealKind, Key: p.ID, Field: "client_secret"}, []byte("csecret"))
	if err != nil {
		h.t.Fatal(err)
	}
	p.ClientSecret = sealed
	if err := h.db.CreateOAuth2Provider(context.Background(), p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// addGrant vaults ts for user at p, as binding does.
func (h *harness) addGrant(id string, user behalf.User, p *behalf.OAuth2Provider, ts behalf.TokenSet) *behalf.Grant {
	h.t.Helper()
	ctx := context.Background()
	sealed, err := sealTokenSet(ctx, h.cfg.Sealer, behalf.GrantSeal(testWorkload, user.Key(), p.ID), ts)
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.clock.Now()
	g := &behalf.Grant{ID: id, Workload: testWorkload, UserKey: user.Key(), ProviderID: p.ID, Scopes: ts.Scopes,
		Token: sealed, ExpiresAt: ts.Expiry, HasRefresh: !ts.RefreshToken.IsZero(), CreatedAt: now, UpdatedAt: now}
	if err := h.db.PutGrant(ctx, g); err != nil {
		h.t.Fatal(err)
	}
	return g
}

// fetch is an agent's GetResourceOauth2Token for user at p.
func (h *harness) fetch(user behalf.User, p *behalf.OAuth2Provider) *behalf.TokenResult {
	h.t.Helper()
	w, err := h.db.GetWorkload(context.Background(), testWorkload)
	if err != nil {
		h.t.Fatal(err)
	}
	wat, _, _, err := h.dp.WATs().mintWAT(w, user, time.Time{}, time.Time{}, "")
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := h.dp.ResourceOAuth2Token(h.root, behalf.TokenRequest{
		WorkloadToken: wat, Provider: p.Name, Flow: behalf.FlowUserFederation, ReturnURL: testReturnURL,
	})
	if err != nil {
		h.t.Fatalf("ResourceOAuth2Token: %v", err)
	}
	return res
}

func (h *harness) events(kind string) []*behalf.AuditEvent {
	h.t.Helper()
	es, err := h.db.ListAudit(context.Background(), kind, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

// staticTokens is a token set that never needs a refresh in these tests.
func staticTokens(access string, expiry time.Time) behalf.TokenSet {
	return behalf.TokenSet{AccessToken: behalf.Secret(access), RefreshToken: behalf.Secret("rt-" + access), TokenType: "Bearer", Expiry: expiry, Scopes: []string{"files"}}
}

// Ensure token fetches make no store write and are audited, once flushed,
// as one grant.fetched event per grant and hour with the count, and the
// grants' last use is stored by the same flush.
func TestFetchAuditAggregated(t *testing.T) {
	h := newHarness(t)
	p := h.addProvider("drive", behalf.AuthServerMetadata{TokenEndpoint: "http://127.0.0.1:1/token"})
	expiry := h.clock.Now().Add(24 * time.Hour)
	ga := h.addGrant("grant-alice", alice, p, staticTokens("at-alice", expiry))
	gb := h.addGrant("grant-bob", bob, p, staticTokens("at-bob", expiry))

	before, _ := h.store.total()
	for range 5 {
		if res := h.fetch(alice, p); res.AccessToken != "at-alice" {
			t.Fatalf("fetch = %+v", res)
		}
		h.clock.Advance(time.Second)
	}
	h.clock.Advance(time.Hour) // 13:10
	for range 3 {
		h.fetch(alice, p)
	}
	for range 2 {
		h.fetch(bob, p)
	}
	if after, ops := h.store.total(); after != before {
		t.Fatalf("10 token fetches made %d store writes (%v), want none", after-before, ops)
	}
	if n := len(h.events(behalf.AuditGrantFetched)); n != 0 {
		t.Fatalf("%d fetch events before the flush", n)
	}
	// The page sees the last use before it is flushed.
	conns, err := h.dp.Vault().ListConnections(context.Background(), alice.Key())
	if err != nil || len(conns) != 1 || !conns[0].LastUsedAt.Equal(h.clock.Now()) {
		t.Fatalf("ListConnections before the flush = %+v, %v", conns, err)
	}

	if err := h.dp.Vault().FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range h.events(behalf.AuditGrantFetched) {
		got = append(got, e.UserKey+" "+e.Detail)
		if e.Workload != testWorkload || e.ProviderID != p.ID {
			t.Errorf("event %+v", e)
		}
	}
	slices.Sort(got)
	want := []string{
		alice.Key() + " count=3 hour=2025-06-01T13:00:00Z grant=grant-alice",
		alice.Key() + " count=5 hour=2025-06-01T12:00:00Z grant=grant-alice",
		bob.Key() + " count=2 hour=2025-06-01T13:00:00Z grant=grant-bob",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fetch events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, g := range []*behalf.Grant{ga, gb} {
		stored, err := h.db.GetGrantByID(context.Background(), g.ID)
		if err != nil || !stored.LastUsedAt.Equal(h.clock.Now()) {
			t.Errorf("%s LastUsedAt = %v, %v; want %v", g.ID, stored.LastUsedAt, err, h.clock.Now())
		}
	}

	// Nothing new: the next flush writes nothing.
	before, _ = h.store.total()
	if err := h.dp.Vault().FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after, ops := h.store.total(); after != before {
		t.Errorf("an idle flush made %d writes (%v)", after-before, ops)
	}
}

// Ensure a flush that cannot write keeps the counts for the next one.
func TestFetchAuditFlushRetries(t *testing.T) {
	h := newHarness(t)
	p := h.addProvider("drive", behalf.AuthServerMetadata{TokenEndpoint: "http://127.0.0.1:1/token"})
	h.addGrant("grant-alice", alice, p, staticTokens("at-alice", h.clock.Now().Add(24*time.Hour)))
	for range 4 {
		h.fetch(alice, p)
	}
	h.store.failAudit.Store(true)
	if err := h.dp.Vault().FlushUsage(context.Background()); err == nil {
		t.Fatal("FlushUsage with the audit store down succeeded")
	}
	h.fetch(alice, p)
	h.store.failAudit.Store(false)
	if err := h.dp.Vault().FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	es := h.events(behalf.AuditGrantFetched)
	if len(es) != 1 || es[0].Detail != "count=5 hour=2025-06-01T12:00:00Z grant=grant-alice" {
		t.Fatalf("events after the retry: %+v", es)
	}
}

// Ensure RunUsageFlusher flushes on its tick and once more when stopped.
func TestRunUsageFlusher(t *testing.T) {
	h := newHarness(t)
	p := h.addProvider("drive", behalf.AuthServerMetadata{TokenEndpoint: "http://127.0.0.1:1/token"})
	h.addGrant("grant-alice", alice, p, staticTokens("at-alice", h.clock.Now().Add(24*time.Hour)))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.dp.Vault().RunUsageFlusher(ctx, 20*time.Millisecond) }()
	h.fetch(alice, p)
	deadline := time.Now().Add(5 * time.Second)
	for len(h.events(behalf.AuditGrantFetched)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the flusher wrote nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.fetch(alice, p)
	h.fetch(alice, p)
	stop()
	<-done
	es := h.events(behalf.AuditGrantFetched)
	total := 0
	for _, e := range es {
		var n int
		if _, err := fmt.Sscanf(e.Detail, "count=%d ", &n); err != nil {
			t.Fatalf("event detail %q: %v", e.Detail, err)
		}
		total += n
	}
	if total != 3 {
		t.Fatalf("counted %d fetches in %d events, want 3", total, len(es))
	}
}

// fakeGrant runs the code flow at the Google stand-in for p and returns
// the tokens, as the consent flow would vault them.
func (h *harness) fakeGrant(fp *fakeprovider.Server, p *behalf.OAuth2Provider) behalf.TokenSet {
	h.t.Helper()
	ctx := context.Background()
	c, err := h.dp.Vault().clients.client(ctx, p)
	if err != nil {
		h.t.Fatal(err)
	}
	fp.RegisterClient("cid", "csecret", c.RedirectURL)
	verifier := oauth.NewVerifier()
	u, err := c.AuthCodeURL(oauth.AuthRequest{
		Scopes: []string{fakeprovider.DriveScope}, State: oauth.NewState(), PKCEVerifier: verifier,
		CustomParameters: map[string]string{"access_type": "offline"},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	back, err := fp.Authorize(ctx, u)
	if err != nil {
		h.t.Fatal(err)
	}
	ts, err := c.Exchange(ctx, back.Query().Get("code"), verifier, nil)
	if err != nil || ts.RefreshToken.IsZero() {
		h.t.Fatalf("exchange: %v (refresh token %v)", err, !ts.RefreshToken.IsZero())
	}
	return ts
}

// Ensure revoking deletes the grant (the next fetch starts a consent),
// revokes the refresh token at the provider, is audited, and refuses
// another user's grant as if it did not exist.
func TestRevokeConnection(t *testing.T) {
	h := newHarness(t)
	fp := fakeprovider.New(t, fakeprovider.Options{})
	p := h.addProvider("drive", fp.Metadata())
	ts := h.fakeGrant(fp, p)
	g := h.addGrant("grant-alice", alice, p, ts)
	if res := h.fetch(alice, p); res.AccessToken != ts.AccessToken {
		t.Fatalf("fetch before revoking = %+v", res)
	}

	for _, tc := range []struct{ user, id string }{{bob.Key(), g.ID}, {alice.Key(), "no-such-grant"}, {alice.Key(), strings.Repeat("x", 200)}} {
		_, err := h.dp.Vault().RevokeConnection(context.Background(), tc.user, tc.id)
		if behalf.ErrorCode(err) != behalf.ENOTFOUND || behalf.ErrorMessage(err) != "No such grant." {
			t.Fatalf("RevokeConnection(%q, %q) = %v, want the same ENOTFOUND", tc.user, tc.id, err)
		}
	}
	if _, err := h.db.GetGrantByID(context.Background(), g.ID); err != nil {
		t.Fatalf("a refused revocation deleted the grant: %v", err)
	}
	if _, err := h.dp.Vault().RevokeConnection(context.Background(), alice.Key(), ""); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Errorf("RevokeConnection of no id = %v", err)
	}

	rev, err := h.dp.Vault().RevokeConnection(context.Background(), alice.Key(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Outcome != behalf.RevocationConfirmed || rev.Provider != "drive" || rev.Connection.GrantID != g.ID || rev.Connection.Workload != testWorkload {
		t.Fatalf("revocation = %+v", rev)
	}
	if msg := rev.Message(); msg != "Revoked. drive confirmed the token is revoked." {
		t.Errorf("message %q", msg)
	}
	if got := fp.Revoked(); !slices.Equal(got, []string{ts.RefreshToken.Reveal()}) {
		t.Errorf("the provider saw %d revocations, want the refresh token", len(got))
	}
	if _, err := h.db.GetGrantByID(context.Background(), g.ID); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("grant after revocation: %v", err)
	}
	if res := h.fetch(alice, p); res.AccessToken != "" || !strings.HasPrefix(res.AuthorizationURL, "http://behalf.test/identities/oauth2/authorize?request_uri=") {
		t.Errorf("fetch after revocation = %+v, want a new consent", res)
	}
	es := h.events(behalf.AuditGrantRevoked)
	if len(es) != 1 || es[0].Actor != alice.Key() || es[0].UserKey != alice.Key() || es[0].Detail != "grant=grant-alice provider=CONFIRMED" {
		t.Errorf("revocation events %+v", es)
	}
	if _, err := h.dp.Vault().RevokeConnection(context.Background(), alice.Key(), g.ID); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("second revocation = %v", err)
	}
}

// Ensure each provider answer is reported, and the grant is deleted
// whatever the provider says.
func TestRevokeConnectionOutcomes(t *testing.T) {
	h := newHarness(t)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"unsupported_token_type","error_description":"Refresh tokens cannot be revoked here."}`))
	}))
	defer refusing.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	expiry := h.clock.Now().Add(time.Hour)

	tests := []struct {
		name     string
		endpoint string
		outcome  string
		message  string
		deleteP  bool
	}{
		{"unsupported", "", behalf.RevocationUnsupported, "Revoked in Behalf. unsupported has no revocation endpoint; the grant was deleted from Behalf.", false},
		{"refused", refusing.URL + "/revoke", behalf.RevocationRefused, "Revoked in Behalf; the provider refused: HTTP 400 unsupported_token_type: Refresh tokens cannot be revoked here.", false},
		{"down", down.URL + "/revoke", behalf.RevocationFailed, "Revoked in Behalf; the provider could not be asked to revoke the token: the provider could not be reached (a network error).", false},
		{"deleted", refusing.URL + "/revoke", behalf.RevocationFailed, "Revoked in Behalf; the provider could not be asked to revoke the token: its credential provider was deleted from Behalf.", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := h.addProvider(tc.name, behalf.AuthServerMetadata{TokenEndpoint: "http://127.0.0.1:1/token", RevocationEndpoint: tc.endpoint})
			g := h.addGrant("grant-"+tc.name, alice, p, staticTokens("at-"+tc.name, expiry))
			if tc.deleteP {
				if err := h.db.DeleteOAuth2Provider(context.Background(), p.Name); err != nil {
					t.Fatal(err)
				}
			}
			rev, err := h.dp.Vault().RevokeConnection(h.root, "", g.ID) // the administrator: any user's grant
			if err != nil {
				t.Fatal(err)
			}
			if rev.Outcome != tc.outcome || rev.Message() != tc.message {
				t.Errorf("revocation %s: %q\nwant %s: %q", rev.Outcome, rev.Message(), tc.outcome, tc.message)
			}
			if _, err := h.db.GetGrantByID(context.Background(), g.ID); behalf.ErrorCode(err) != behalf.ENOTFOUND {
				t.Errorf("the grant was kept: %v", err)
			}
			es := h.events(behalf.AuditGrantRevoked)
			if len(es) == 0 || es[0].Actor != "BHLFROOT" || !strings.Contains(es[0].Detail, "provider="+tc.outcome) {
				t.Errorf("latest revocation event %+v", es[0])
			}
		})
	}
}

// Ensure ListConnections shows a user's grants only, with their provider
// names, and a grant whose provider was deleted.
func TestListConnections(t *testing.T) {
	h := newHarness(t)
	md := behalf.AuthServerMetadata{TokenEndpoint: "http://127.0.0.1:1/token"}
	drive, mail := h.addProvider("drive", md), h.addProvider("mail", md)
	expiry := h.clock.Now().Add(time.Hour)
	h.addGrant("g-drive", alice, drive, staticTokens("a", expiry))
	h.addGrant("g-mail", alice, mail, staticTokens("b", expiry))
	h.addGrant("g-bob", bob, drive, staticTokens("c", expiry))
	if err := h.db.DeleteOAuth2Provider(context.Background(), "mail"); err != nil {
		t.Fatal(err)
	}
	conns, err := h.dp.Vault().ListConnections(context.Background(), alice.Key())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range conns {
		got = append(got, c.GrantID+" "+c.ProviderLabel())
		if c.UserKey != alice.Key() || c.Workload != testWorkload || !slices.Equal(c.Scopes, []string{"files"}) || !c.CreatedAt.Equal(h.clock.Now()) {
			t.Errorf("connection %+v", c)
		}
	}
	if want := []string{"g-drive drive", "g-mail a deleted provider"}; !slices.Equal(got, want) {
		t.Errorf("alice's connections %q, want %q", got, want)
	}
	if all, err := h.dp.Vault().ListConnections(context.Background(), ""); err != nil || len(all) != 3 {
		t.Errorf("every user's connections: %d, %v", len(all), err)
	}
}

// Ensure InboundClient finds a workload's inbound sign-in client by
// issuer, with its secret opened, and the first one for "".
func TestInboundClient(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	svc := &Service{Store: h.db, Sealer: h.cfg.Sealer}
	if _, _, _, err := svc.InboundClient(ctx, ""); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("no workload with a sign-in client: %v", err)
	}
	sealed, err := h.cfg.Sealer.Seal(ctx, behalf.WorkloadSeal("b-agent", inboundSecretField), []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*behalf.WorkloadIdentity{
		{Name: "a-agent", Inbound: behalf.WorkloadInbound{Issuer: "https://pool.example/a", ClientID: "public-a"}},
		{Name: "b-agent", Inbound: behalf.WorkloadInbound{Issuer: "https://idp.example", ClientID: "conf-b", ClientSecret: sealed}},
	} {
		if err := h.db.CreateWorkload(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	iss, id, secret, err := svc.InboundClient(ctx, "https://idp.example")
	if err != nil || iss != "https://idp.example" || id != "conf-b" || secret.Reveal() != "s3cret" {
		t.Errorf("InboundClient(idp) = %q %q %v, %v", iss, id, secret.Reveal() == "s3cret", err)
	}
	iss, id, secret, err = svc.InboundClient(ctx, "")
	if err != nil || iss != "https://pool.example/a" || id != "public-a" || !secret.IsZero() {
		t.Errorf("InboundClient(\"\") = %q %q, %v", iss, id, err)
	}
	if _, _, _, err := svc.InboundClient(ctx, "https://other.example"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("unknown issuer: %v", err)
	}
}
