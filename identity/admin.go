package identity

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/ttlcache"
	"github.com/behalf-dev/behalf/jwtverify"
)

// Admin implements behalf.AdminService.
type Admin struct {
	Store      behalf.Store
	Sealer     behalf.Sealer
	HTTPClient *http.Client // SSRF-guarded; fetches discovery documents
	Now        func() time.Time
}

var _ behalf.AdminService = (*Admin)(nil)

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// AccessKeySeal is the seal context of an access key's secret.
func AccessKeySeal(id string) behalf.SealContext {
	return behalf.SealContext{Kind: "access-key", Key: id, Field: "secret"}
}

// NewAccessKeyPair returns a fresh access key id and secret.
func NewAccessKeyPair() (string, behalf.Secret) {
	return "BHLF" + randid.Upper(16), behalf.Secret(randid.Alnum(40))
}

// CreateAccessKey makes a key scoped to workload, or a root key for "".
// A scoped key is bound to the workload's ID, not only its name: deleting
// the workload deletes the key, and a later workload of the same name
// never inherits it.
func (a *Admin) CreateAccessKey(ctx context.Context, workload string) (*behalf.NewAccessKey, error) {
	principal, workloadID := behalf.RootPrincipal, ""
	if workload != "" {
		if err := validateName("workloadName", workload, workloadNameChars, 3, 255); err != nil {
			return nil, err
		}
		w, err := a.Store.GetWorkload(ctx, workload)
		if err != nil {
			return nil, err
		}
		principal, workloadID = behalf.WorkloadPrincipal(workload), w.ID
	}
	id, secret := NewAccessKeyPair()
	sealed, err := a.Sealer.Seal(ctx, AccessKeySeal(id), []byte(secret.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("seal access key: %w", err)
	}
	k := behalf.AccessKey{ID: id, Secret: sealed, Principal: principal, WorkloadID: workloadID, CreatedAt: a.now()}
	if err := a.Store.CreateAccessKey(ctx, &k); err != nil {
		return nil, err
	}
	return &behalf.NewAccessKey{AccessKey: k, SecretAccessKey: secret}, nil
}

// ListAccessKeys lists every stored key (never their secrets).
func (a *Admin) ListAccessKeys(ctx context.Context) ([]*behalf.AccessKey, error) {
	return a.Store.ListAccessKeys(ctx, "")
}

// DeleteAccessKey deletes a key; it stops working within KeyCacheTTL.
func (a *Admin) DeleteAccessKey(ctx context.Context, id string) error {
	if id == "" || len(id) > 128 {
		return behalf.Invalid("accessKeyId", "accessKeyId is required.")
	}
	return a.Store.DeleteAccessKey(ctx, id)
}

// CreateIssuer fetches and checks an OpenID provider's discovery document
// and trusts its issuer for user JWTs.
func (a *Admin) CreateIssuer(ctx context.Context, discoveryURL string, audiences []string) (*behalf.TrustedIssuer, error) {
	if discoveryURL == "" || len(discoveryURL) > 2048 {
		return nil, behalf.Invalid("discoveryUrl", "discoveryUrl is required.")
	}
	if len(audiences) > 100 || slices.Contains(audiences, "") {
		return nil, behalf.Invalid("audiences", "audiences takes at most 100 non-empty values.")
	}
	iss, err := jwtverify.Discover(ctx, a.HTTPClient, discoveryURL)
	if err != nil {
		return nil, behalf.Invalid("discoveryUrl", "The discovery document could not be used: %s", behalf.ErrorMessage(err))
	}
	ti := &behalf.TrustedIssuer{Issuer: iss.Issuer, DiscoveryURL: discoveryURL, JWKSURI: iss.JWKSURI, Audiences: audiences, CreatedAt: a.now()}
	if err := a.Store.CreateIssuer(ctx, ti); err != nil {
		return nil, err
	}
	return ti, nil
}

// ListIssuers lists trusted issuers.
func (a *Admin) ListIssuers(ctx context.Context) ([]*behalf.TrustedIssuer, error) {
	return a.Store.ListIssuers(ctx)
}

// DeleteIssuer stops trusting an issuer.
func (a *Admin) DeleteIssuer(ctx context.Context, issuer string) error {
	if issuer == "" {
		return behalf.Invalid("issuer", "issuer is required.")
	}
	return a.Store.DeleteIssuer(ctx, issuer)
}

// ListAudit returns audit events, newest first.
func (a *Admin) ListAudit(ctx context.Context, kind string, limit int) ([]*behalf.AuditEvent, error) {
	if limit < 0 || limit > 10000 {
		return nil, behalf.Invalid("limit", "limit must be between 0 and 10000.")
	}
	return a.Store.ListAudit(ctx, kind, limit)
}

// QueryAudit returns the audit events q selects, newest first.
func (a *Admin) QueryAudit(ctx context.Context, q behalf.AuditQuery) ([]*behalf.AuditEvent, error) {
	if q.Limit < 0 || q.Limit > 10000 {
		return nil, behalf.Invalid("limit", "limit must be between 0 and 10000.")
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return nil, behalf.Invalid("since", "since must be before until.")
	}
	return a.Store.QueryAudit(ctx, q)
}

// AccessKeys answers SigV4 key lookups: the root key from the environment,
// or access keys from the store, opened once and cached for KeyCacheTTL so
// a deleted key stops working within that bound.
type AccessKeys struct {
	EnvID     string
	EnvSecret behalf.Secret
	Store     behalf.AccessKeyStore
	Sealer    behalf.Sealer

	cache ttlcache.Cache[string, cachedKey]
}

type cachedKey struct {
	secret    behalf.Secret
	principal string
}

// KeyCacheTTL bounds how long a deleted access key keeps working.
const KeyCacheTTL = 5 * time.Second

// Lookup returns the secret and principal of an access key id.
func (k *AccessKeys) Lookup(ctx context.Context, id string) (behalf.Secret, string, error) {
	if k.EnvID != "" && id == k.EnvID {
		return k.EnvSecret, behalf.RootPrincipal, nil
	}
	if c, ok := k.cache.Get(id, time.Now()); ok {
		return c.secret, c.principal, nil
	}
	ak, err := k.Store.GetAccessKey(ctx, id)
	if err != nil {
		return "", "", err
	}
	plain, err := k.Sealer.Open(ctx, AccessKeySeal(id), ak.Secret)
	if err != nil {
		return "", "", fmt.Errorf("open access key %s: %w", id, err)
	}
	k.cache.Put(id, cachedKey{behalf.Secret(plain), ak.Principal}, time.Now().Add(KeyCacheTTL))
	return behalf.Secret(plain), ak.Principal, nil
}
