package jwtverify

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/internal/ttlcache"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Defaults of Verifier's fields.
const (
	DefaultSkew            = 60 * time.Second
	DefaultRefetchCooldown = 30 * time.Second
)

// MaxTokenBytes caps the size of a token Verify parses.
const MaxTokenBytes = 64 << 10

// Issuer is a trusted issuer's verification data.
type Issuer struct {
	Issuer  string // exactly as in tokens' iss claim
	JWKSURI string
	// Audiences, when set, are the only aud (or, for tokens without aud,
	// client_id) values accepted.
	Audiences []string
	// LocalKeys, when set, is the issuer's key set, known in process
	// (Behalf's own user pools); JWKSURI is then not fetched.
	LocalKeys jwk.Set
}

// Verifier verifies JWTs from trusted issuers. Set its fields before the
// first Verify and do not change or copy it afterwards; it is then safe
// for concurrent use and caches key sets across calls.
type Verifier struct {
	// HTTPClient fetches key sets; it should come from safehttp.NewClient.
	// Nil means safehttp.NewClient(safehttp.Options{}).
	HTTPClient *http.Client
	// Now is the clock for token times and key-set ages; nil means
	// time.Now.
	Now func() time.Time
	// Skew is the clock skew tolerated on exp, nbf and iat; zero means
	// DefaultSkew.
	Skew time.Duration
	// RefetchCooldown is the least time between two fetches of one key
	// set (an unknown kid refetches at most once per cooldown); zero means
	// DefaultRefetchCooldown.
	RefetchCooldown time.Duration
	// Lookup returns the trusted issuer named iss, or an error with code
	// behalf.ENOTFOUND if iss is not trusted.
	Lookup func(ctx context.Context, iss string) (Issuer, error)

	once  sync.Once
	cache *keyCache
	// verified holds the tokens whose signature verified, by the SHA-256
	// of the whole token, until they expire (see Verify).
	verified ttlcache.Cache[[sha256.Size]byte, verifiedToken]
}

// verifiedToken is what Verify learnt from a token whose signature
// verified: its claims, and the key and issuer that verified it.
type verifiedToken struct {
	claims   Claims
	kid      string
	key      jwk.Key // the very key object the signature verified with
	issuer   string
	nbf, iat time.Time // zero when absent
}

// init builds the key cache from the fields, once.
func (v *Verifier) init() {
	v.once.Do(func() {
		c := &keyCache{client: v.HTTPClient, now: v.Now, cooldown: v.RefetchCooldown}
		if c.client == nil {
			c.client = safehttp.NewClient(safehttp.Options{})
		}
		if c.now == nil {
			c.now = time.Now
		}
		if c.cooldown <= 0 {
			c.cooldown = DefaultRefetchCooldown
		}
		v.cache = c
	})
}

// skew returns the effective clock skew.
func (v *Verifier) skew() time.Duration {
	if v.Skew <= 0 {
		return DefaultSkew
	}
	return v.Skew
}

// Verify verifies token and returns its claims. It checks, in order: the
// token is a compact JWS whose header alg is allowed (see Algorithms); its
// iss is trusted (Lookup, exact string); the issuer's key set holds the
// header's kid (fetching or refetching it as the package documentation
// describes) and that key fits alg; the signature verifies with that key
// under alg; exp is present and not past, and nbf and iat are not in the
// future, each with Skew's tolerance; sub is present; and, if the issuer
// has Audiences, one of the token's aud values is among them, or, for a
// token without aud (Cognito access tokens), its client_id is.
//
// Errors are behalf.EUNAUTHORIZED errors with one of the Msg messages, or
// behalf.EUNAVAILABLE (MsgKeysDown) when the issuer's key set cannot be
// fetched; they wrap the cause for logs and never contain the token. An
// error from Lookup other than ENOTFOUND is returned wrapped.
//
// A token whose signature verified is remembered, by the SHA-256 of the
// whole token, until its exp: presented again, its signature is not
// computed again (the bytes are the ones that verified), but everything
// that can change is checked again: its issuer is still trusted (Lookup),
// the issuer's current key set still holds the very key that verified it,
// its times (with the clock now) and the issuer's current audiences. If
// any of those changed, the token is verified from scratch. The Claims
// returned for such a token share their Raw map and slices with earlier
// calls: callers must not modify them.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	v.init()
	if len(token) > MaxTokenBytes {
		return Claims{}, unauthorized(MsgMalformed, fmt.Errorf("token larger than %d bytes", MaxTokenBytes))
	}
	sum := sha256.Sum256([]byte(token))
	now := v.cache.now()
	if e, ok := v.verified.Get(sum, now); ok {
		if c, ok, err := v.reuse(ctx, e, now); err != nil || ok {
			return c, err
		}
	}
	c, e, err := v.verify(ctx, token)
	if err != nil {
		return Claims{}, err
	}
	v.verified.Put(sum, e, c.Expiry)
	return c, nil
}

// reuse checks again, for a token verified earlier, what may have changed
// since: ok is false when the token must be verified from scratch. err is
// Lookup's failure, which a verification from scratch would return too.
func (v *Verifier) reuse(ctx context.Context, e verifiedToken, now time.Time) (Claims, bool, error) {
	iss, err := v.issuer(ctx, e.issuer)
	if err != nil {
		return Claims{}, false, err
	}
	key, err := v.key(ctx, iss, e.kid)
	if err != nil || key != e.key {
		return Claims{}, false, nil
	}
	late := now.Add(v.skew())
	if late.Before(e.nbf) || late.Before(e.iat) || !audienceAllowed(e.claims, iss.Audiences) {
		return Claims{}, false, nil
	}
	return e.claims, true, nil
}

// verify verifies token from scratch (see Verify).
func (v *Verifier) verify(ctx context.Context, token string) (Claims, verifiedToken, error) {
	var none verifiedToken
	u, err := parseUnverified(token)
	if err != nil {
		return Claims{}, none, err
	}
	alg, err := allowedAlgorithm(u.alg)
	if err != nil {
		return Claims{}, none, unauthorized(MsgSignature, err)
	}
	iss, err := v.issuer(ctx, u.iss)
	if err != nil {
		return Claims{}, none, err
	}
	tok, key, err := v.verifySignature(ctx, token, u.kid, alg, iss)
	if err != nil {
		return Claims{}, none, err
	}
	claims, err := claimsOf(tok, u.payload)
	if err != nil {
		return Claims{}, none, unauthorized(MsgMalformed, err)
	}
	if claims.Subject == "" {
		return Claims{}, none, unauthorized(MsgNoSubject, nil)
	}
	if !audienceAllowed(claims, iss.Audiences) {
		return Claims{}, none, unauthorized(MsgAudience, nil)
	}
	nbf, _ := tok.NotBefore()
	return claims, verifiedToken{claims: claims, kid: u.kid, key: key, issuer: u.iss, nbf: nbf, iat: claims.IssuedAt}, nil
}

// issuer returns the trusted issuer iss.
func (v *Verifier) issuer(ctx context.Context, iss string) (Issuer, error) {
	if v.Lookup == nil {
		return Issuer{}, errors.New("jwtverify: Verifier.Lookup is not set")
	}
	if iss == "" {
		return Issuer{}, unauthorized(MsgUntrusted, errors.New("token has no iss"))
	}
	is, err := v.Lookup(ctx, iss)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return Issuer{}, unauthorized(MsgUntrusted, err)
	}
	if err != nil {
		return Issuer{}, fmt.Errorf("jwtverify: look up issuer: %w", err)
	}
	if is.Issuer != iss || (is.JWKSURI == "" && is.LocalKeys == nil) {
		return Issuer{}, unauthorized(MsgUntrusted, errors.New("lookup returned another issuer or no JWKS URI"))
	}
	return is, nil
}

// key finds the verification key kid of iss: from its local key set, or
// the cached JWKS.
func (v *Verifier) key(ctx context.Context, iss Issuer, kid string) (jwk.Key, error) {
	if iss.LocalKeys == nil {
		return v.cache.key(ctx, iss.JWKSURI, kid)
	}
	key, ok := iss.LocalKeys.LookupKeyID(kid)
	if !ok {
		return nil, errUnknownKey
	}
	return key, nil
}

// verifySignature picks the key and verifies and validates the token; it
// returns the token and the key of the issuer's set that verified it.
func (v *Verifier) verifySignature(ctx context.Context, token, kid string, alg jwa.SignatureAlgorithm, iss Issuer) (jwt.Token, jwk.Key, error) {
	key, err := v.key(ctx, iss, kid)
	if behalf.ErrorCode(err) == behalf.EUNAVAILABLE {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, unauthorized(MsgSignature, err)
	}
	pub, err := verificationKey(key, alg)
	if err != nil {
		return nil, nil, unauthorized(MsgSignature, err)
	}
	tok, err := jwt.ParseString(token,
		jwt.WithKey(alg, pub),
		jwt.WithValidate(true),
		jwt.WithIssuer(iss.Issuer),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithClock(jwt.ClockFunc(v.cache.now)),
		jwt.WithAcceptableSkew(v.skew()),
	)
	if err != nil {
		return nil, nil, parseError(err)
	}
	return tok, key, nil
}

// unverified is what is read from a token before its signature is
// checked: only enough to pick the issuer and key.
type unverified struct {
	alg, kid, iss string
	payload       []byte // trusted only once the signature verifies
}

// parseUnverified parses a compact JWS without verifying it.
func parseUnverified(token string) (unverified, error) {
	if len(token) > MaxTokenBytes {
		return unverified{}, unauthorized(MsgMalformed, fmt.Errorf("token larger than %d bytes", MaxTokenBytes))
	}
	msg, err := jws.ParseString(token, jws.WithCompact())
	if err != nil {
		return unverified{}, unauthorized(MsgMalformed, err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 || sigs[0].ProtectedHeaders() == nil {
		return unverified{}, unauthorized(MsgMalformed, errors.New("token must have exactly one signature"))
	}
	h := sigs[0].ProtectedHeaders()
	alg, ok := h.Algorithm()
	if !ok {
		return unverified{}, unauthorized(MsgMalformed, errors.New("token header has no alg"))
	}
	kid, _ := h.KeyID()
	var p struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(msg.Payload(), &p); err != nil {
		return unverified{}, unauthorized(MsgMalformed, fmt.Errorf("token payload: %w", err))
	}
	return unverified{alg: alg.String(), kid: kid, iss: p.Iss, payload: msg.Payload()}, nil
}

// parseError maps an error of jwt.Parse to a caller-safe error.
func parseError(err error) error {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return unauthorized(MsgExpired, err)
	case errors.Is(err, jwt.TokenNotYetValidError()), errors.Is(err, jwt.InvalidIssuedAtError()):
		return unauthorized(MsgNotYetValid, err)
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return unauthorized(MsgNoExpiry, err)
	case errors.Is(err, jwt.InvalidIssuerError()):
		return unauthorized(MsgUntrusted, err)
	case errors.Is(err, jws.VerificationError()), errors.Is(err, jws.VerifyError()):
		return unauthorized(MsgSignature, err)
	}
	return unauthorized(MsgMalformed, err)
}
