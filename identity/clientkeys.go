package identity

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/signer"
)

// AssertionLifetime is how long a PRIVATE_KEY_JWT client assertion is
// valid: it is signed for one request.
const AssertionLifetime = 60 * time.Second

// DefaultAssertionAlgorithm signs client assertions when the provider's
// privateKeyJwtConfig names none.
const DefaultAssertionAlgorithm = signer.RS256

// ClientKeyUse is the signing-key use (package signer) of a provider's
// client-assertion keys: one key set per provider, created with it.
func ClientKeyUse(providerID string) string { return "oauth2-provider:" + providerID }

// ClientKeys holds the signing keys of PRIVATE_KEY_JWT providers: one
// signer.Signer per provider (its private keys sealed in the store like
// the token-signing keys), signing their RFC 7523 client assertions and
// publishing their public keys (behalf.ClientKeyService). It is safe for
// concurrent use; several processes may share one store.
type ClientKeys struct {
	Store  behalf.Store
	Sealer behalf.Sealer
	// Now is the clock of assertions (nil: the system's).
	Now func() time.Time

	mu      sync.Mutex
	signers map[string]*signer.Signer // by use and algorithm
}

var _ behalf.ClientKeyService = (*ClientKeys)(nil)

func (k *ClientKeys) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// algorithm is p's assertion algorithm.
func algorithm(p *behalf.OAuth2Provider) string {
	if p.PrivateKeyJWT != nil && p.PrivateKeyJWT.SigningAlgorithm != "" {
		return p.PrivateKeyJWT.SigningAlgorithm
	}
	return DefaultAssertionAlgorithm
}

// signer returns the Signer of p's client-assertion keys, creating the
// first key on first use.
func (k *ClientKeys) signer(ctx context.Context, p *behalf.OAuth2Provider) (*signer.Signer, error) {
	use, alg := ClientKeyUse(p.ID), algorithm(p)
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.signers[use+" "+alg]; s != nil {
		return s, nil
	}
	s, err := signer.New(ctx, k.Store, k.Sealer, use, alg, k.Now)
	if err != nil {
		return nil, fmt.Errorf("client-assertion key of provider %s: %w", p.Name, err)
	}
	if k.signers == nil {
		k.signers = map[string]*signer.Signer{}
	}
	k.signers[use+" "+alg] = s
	return s, nil
}

// Ensure creates p's first client-assertion key if it has none (a new
// PRIVATE_KEY_JWT provider: its JWKS is there to register before the
// first token request).
func (k *ClientKeys) Ensure(ctx context.Context, p *behalf.OAuth2Provider) error {
	_, err := k.signer(ctx, p)
	return err
}

// Assertion signs a client assertion for one token request of p (RFC 7523
// section 2.2, as OpenID Connect's private_key_jwt has it): iss and sub
// the client_id, aud the token endpoint (or the aud of p's payload claims,
// for servers that want their issuer), a unique jti, iat and nbf now, exp
// AssertionLifetime later; p's header and payload claims added; kid the
// signing key's.
func (k *ClientKeys) Assertion(ctx context.Context, p *behalf.OAuth2Provider) (string, error) {
	s, err := k.signer(ctx, p)
	if err != nil {
		return "", err
	}
	now := k.now()
	claims := map[string]any{}
	var headers map[string]string
	if c := p.PrivateKeyJWT; c != nil {
		for name, v := range c.PayloadClaims {
			claims[name] = v
		}
		headers = c.HeaderClaims
	}
	if _, set := claims["aud"]; !set {
		claims["aud"] = p.Metadata.TokenEndpoint
	}
	for name, v := range map[string]any{
		"iss": p.ClientID, "sub": p.ClientID, "jti": randid.Hex(16),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(AssertionLifetime).Unix(),
	} {
		claims[name] = v
	}
	return s.SignWithHeaders(claims, headers)
}

// ProviderJWKS returns the public keys of the client assertions of the
// provider with id providerID, to register at the provider: every key not
// yet retired (after a rotation, the new one and, for a grace period, the
// old).
func (k *ClientKeys) ProviderJWKS(ctx context.Context, providerID string) ([]byte, error) {
	p, err := k.Store.GetOAuth2ProviderByID(ctx, providerID)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND || (err == nil && p.ClientAuthMethod != behalf.ClientPrivateKeyJWT) {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "No credential provider with client-assertion keys has id %q.", providerID)
	} else if err != nil {
		return nil, err
	}
	s, err := k.signer(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.PublicJWKS()
}

// Rotate gives provider p a new client-assertion key, signing from now
// on; the older keys stay published for grace (then are retired), so the
// provider can fetch the new key before assertions it signs arrive. It
// returns the new key's id and the retired ones'.
func (k *ClientKeys) Rotate(ctx context.Context, p *behalf.OAuth2Provider, grace time.Duration) (string, []string, error) {
	s, err := k.signer(ctx, p)
	if err != nil {
		return "", nil, err
	}
	retired, err := s.RotateAndRetire(ctx, grace)
	if err != nil {
		return "", nil, err
	}
	keys, err := k.Store.ListSigningKeys(ctx, ClientKeyUse(p.ID))
	if err != nil {
		return "", retired, err
	}
	active := ""
	for _, key := range keys {
		if key.Active {
			active = key.ID
		}
	}
	return active, retired, nil
}
