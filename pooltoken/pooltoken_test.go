package pooltoken

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/behalf-dev/behalf"
)

type fakeKeys struct {
	jwks    []byte
	checked []string
	refuse  bool
}

func (k *fakeKeys) JWKS(_ context.Context, poolID string) ([]byte, error) {
	if poolID != "us-east-1_Pool" {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "no pool %s", poolID)
	}
	if k.jwks == nil {
		return nil, errors.New("store down")
	}
	return k.jwks, nil
}

func (k *fakeKeys) CheckTokenUser(_ context.Context, poolID, sub string, _ time.Time, _ map[string]any) error {
	k.checked = append(k.checked, poolID+"/"+sub)
	if k.refuse {
		return behalf.Errorf(behalf.EUNAUTHORIZED, "user signed out")
	}
	return nil
}

// Ensure only Behalf's own pool URLs are recognised: exact public URL
// prefix (with or without its trailing slash), one path segment, no
// query, fragment or escapes; and that a nil or unconfigured Pools
// recognises nothing.
func TestPoolOf(t *testing.T) {
	for _, public := range []string{"https://behalf.example", "https://behalf.example/"} {
		p := &Pools{Keys: &fakeKeys{}, PublicURL: public}
		for iss, want := range map[string]string{
			"https://behalf.example/us-east-1_Pool":       "us-east-1_Pool",
			"https://behalf.example/us-east-1_Pool/":      "",
			"https://behalf.example/a/b":                  "",
			"https://behalf.example/a?x":                  "",
			"https://behalf.example/a#x":                  "",
			"https://behalf.example/a%2Fb":                "",
			"https://behalf.example/":                     "",
			"https://behalf.example.evil/us-east-1_Pool":  "",
			"http://behalf.example/us-east-1_Pool":        "",
			"https://other.example/us-east-1_Pool":        "",
			"https://behalf.exampleus-east-1_Pool":        "",
			"https://behalf.example//us-east-1_Pool":      "",
			"https://behalf.example/us-east-1_Pool/.well": "",
		} {
			got, ok := p.PoolOf(iss)
			if got != want || ok != (want != "") {
				t.Errorf("PublicURL %q: PoolOf(%q) = %q, %v; want %q", public, iss, got, ok, want)
			}
		}
		if id, ok := p.PoolOfDiscovery("https://behalf.example/us-east-1_Pool/.well-known/openid-configuration"); !ok || id != "us-east-1_Pool" {
			t.Errorf("PoolOfDiscovery = %q, %v", id, ok)
		}
		if _, ok := p.PoolOfDiscovery("https://behalf.example/us-east-1_Pool"); ok {
			t.Error("an issuer URL was taken for a discovery URL")
		}
	}
	var none *Pools
	if _, ok := none.PoolOf("https://behalf.example/us-east-1_Pool"); ok {
		t.Error("a nil Pools recognised an issuer")
	}
	if _, ok := (&Pools{PublicURL: "https://behalf.example"}).PoolOf("https://behalf.example/us-east-1_Pool"); ok {
		t.Error("Pools without Keys recognised an issuer")
	}
}

// Ensure Issuer gives the pool's keys and its issuer URL, ENOTFOUND for a
// missing pool and the store's error otherwise; and that CheckUser asks
// the pool about its own users only, passing its refusal on.
func TestIssuerAndCheckUser(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key, err := jwk.Import(pub)
	if err != nil {
		t.Fatal(err)
	}
	key.Set(jwk.KeyIDKey, "k1")
	set := jwk.NewSet()
	set.AddKey(key)
	b, _ := json.Marshal(set)
	keys := &fakeKeys{jwks: b}
	p := &Pools{Keys: keys, PublicURL: "https://behalf.example/"}
	ctx := context.Background()

	iss, err := p.Issuer(ctx, "us-east-1_Pool")
	if err != nil || iss.Issuer != "https://behalf.example/us-east-1_Pool" || iss.LocalKeys == nil || iss.LocalKeys.Len() != 1 {
		t.Fatalf("Issuer = %+v, %v", iss, err)
	}
	if _, err := p.Issuer(ctx, "us-east-1_Gone"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("missing pool: %v", err)
	}
	keys.jwks = nil
	if _, err := p.Issuer(ctx, "us-east-1_Pool"); err == nil || behalf.ErrorCode(err) == behalf.ENOTFOUND {
		t.Errorf("store failure: %v", err)
	}

	if err := p.CheckUser(ctx, "https://accounts.google.com", "alice", time.Now(), nil); err != nil || len(keys.checked) != 0 {
		t.Errorf("another issuer's user was checked: %v %v", err, keys.checked)
	}
	if err := p.CheckUser(ctx, "https://behalf.example/us-east-1_Pool", "alice", time.Now(), nil); err != nil || len(keys.checked) != 1 || keys.checked[0] != "us-east-1_Pool/alice" {
		t.Errorf("pool user: %v %v", err, keys.checked)
	}
	keys.refuse = true
	if err := p.CheckUser(ctx, "https://behalf.example/us-east-1_Pool", "alice", time.Now(), nil); behalf.ErrorCode(err) != behalf.EUNAUTHORIZED {
		t.Errorf("refused user: %v", err)
	}
}
