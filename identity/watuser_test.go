package identity

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/pooltoken"
)

// fakePoolUsers is a PoolKeys whose CheckTokenUser answers err and records
// what it was asked.
type fakePoolUsers struct {
	mu    sync.Mutex
	err   error
	calls []poolUserCall
}

type poolUserCall struct {
	pool, sub string
	iat       time.Time
}

func (f *fakePoolUsers) JWKS(ctx context.Context, poolID string) ([]byte, error) {
	return nil, behalf.Errorf(behalf.ENOTFOUND, "no keys in this fake")
}

func (f *fakePoolUsers) CheckTokenUser(ctx context.Context, poolID, sub string, iat time.Time, raw map[string]any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, poolUserCall{poolID, sub, behalf.TokenIssuedAt(iat, raw)})
	return f.err
}

func (f *fakePoolUsers) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakePoolUsers) take() []poolUserCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// A WAT minted from a pool user's JWT is checked against the pool user on
// every use, as minting is: once the user is disabled, deleted or signed
// out, GetResourceOauth2Token (and GetResourceApiKey) refuse it with
// UnauthorizedException, and nothing is stored (issue 11, Security 5).
func TestWATOfRefusedPoolUser(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pools := &fakePoolUsers{}
	h.rebuild(func(c *Config) {
		c.Users = NewTrustedIssuers(h.db, nil, &pooltoken.Pools{Keys: pools, PublicURL: c.PublicURL})
	})
	p := h.addProvider("google", behalf.AuthServerMetadata{
		AuthorizationEndpoint: "https://accounts.example/auth", TokenEndpoint: "https://accounts.example/token",
	})
	w, err := h.db.GetWorkload(ctx, testWorkload)
	if err != nil {
		t.Fatal(err)
	}
	alice := behalf.User{Issuer: h.cfg.PublicURL + "/us-east-1_pool", Subject: "alice"}
	issued := h.clock.Now().Add(-time.Minute + 123456*time.Microsecond)
	wat, _, _, err := h.dp.WATs().mintWAT(w, alice, h.clock.Now().Add(time.Hour), issued, "")
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(wat behalf.Secret) error {
		_, err := h.dp.ResourceOAuth2Token(h.root, behalf.TokenRequest{
			WorkloadToken: wat, Provider: p.Name, Flow: behalf.FlowUserFederation, ReturnURL: testReturnURL,
		})
		return err
	}

	if err := fetch(wat); err != nil {
		t.Fatalf("the WAT of a user in good standing: %v", err)
	}
	if got := pools.take(); len(got) != 1 || got[0].pool != "us-east-1_pool" || got[0].sub != "alice" || !got[0].iat.Equal(issued) {
		t.Fatalf("CheckTokenUser calls %+v, want one for us-east-1_pool/alice issued at %v (to the microsecond)", got, issued)
	}

	refused := behalf.Errorf(behalf.EUNAUTHORIZED, "The token's user is disabled, deleted or signed out.")
	pools.set(refused)
	before, _ := h.store.total()
	err = fetch(wat)
	if behalf.ErrorCode(err) != behalf.EUNAUTHORIZED {
		t.Fatalf("the WAT of a disabled or signed-out user: %v, want EUNAUTHORIZED", err)
	}
	if want := "The workload access token was refused: The token's user is disabled, deleted or signed out."; behalf.ErrorMessage(err) != want {
		t.Errorf("message %q, want %q", behalf.ErrorMessage(err), want)
	}
	if _, err := h.dp.ResourceAPIKey(h.root, wat, "some-api-key"); behalf.ErrorCode(err) != behalf.EUNAUTHORIZED {
		t.Errorf("GetResourceApiKey with the WAT of a refused user: %v, want EUNAUTHORIZED", err)
	}
	if after, writes := h.store.total(); after != before {
		t.Errorf("refused token requests wrote to the store: %v", writes)
	}

	// A store failure is the server's, not a refusal.
	pools.set(errors.New("database is down"))
	if err := fetch(wat); behalf.ErrorCode(err) != behalf.EINTERNAL {
		t.Errorf("CheckTokenUser failing: %v, want EINTERNAL", err)
	}
	pools.take()

	// Users of other issuers, and users named by id, have no pool to ask.
	pools.set(refused)
	for _, u := range []behalf.User{{Issuer: "https://idp.example", Subject: "alice"}, {Subject: "alice"}} {
		tok, _, _, err := h.dp.WATs().mintWAT(w, u, time.Time{}, issued, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := fetch(tok); err != nil {
			t.Errorf("WAT of %+v: %v", u, err)
		}
	}
	if got := pools.take(); len(got) != 0 {
		t.Errorf("CheckTokenUser called for users of no pool: %+v", got)
	}

	// A WAT minted before WATs carried the user token's issue time is
	// checked with its own iat.
	pools.set(nil)
	legacy, _, _, err := h.dp.WATs().mintWAT(w, alice, time.Time{}, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := fetch(legacy); err != nil {
		t.Fatal(err)
	}
	if got := pools.take(); len(got) != 1 || !got[0].iat.Equal(time.Unix(h.clock.Now().Unix(), 0)) {
		t.Errorf("CheckTokenUser calls for a WAT without %s: %+v, want the WAT's iat %v", claimUserIssued, got, h.clock.Now())
	}
}
