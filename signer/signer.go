package signer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Timing of Verify and key reloads.
const (
	// Skew is the clock skew Verify tolerates on exp, nbf and iat.
	Skew = 30 * time.Second
	// ReloadInterval is the least time between two reloads of the keys
	// from the store that Verify triggers on an unknown kid.
	ReloadInterval = 5 * time.Second
	// reloadTimeout bounds a reload that Verify, Sign or PublicJWKS triggers.
	reloadTimeout = 5 * time.Second
	// RefreshInterval is how old the loaded keys may get before Sign,
	// Verify or PublicJWKS rereads them from the store (in the background), so that
	// every process follows a rotation made elsewhere ("behalf keys rotate
	// --signing") within about this long.
	RefreshInterval = time.Minute
)

// RetireGrace is how long after a rotation an old key must stay published
// when the tokens it signs live at most lifetime: processes that have not
// yet reloaded may sign with it for up to RefreshInterval, and verifiers
// tolerate Skew.
func RetireGrace(lifetime time.Duration) time.Duration {
	return lifetime + RefreshInterval + Skew
}

// Signer signs and verifies Behalf's own JWTs of one use. It is safe for
// concurrent use.
type Signer struct {
	store  behalf.SigningKeyStore
	sealer behalf.Sealer
	use    string
	alg    string
	now    func() time.Time

	loadMu     sync.Mutex  // serializes loads and key creation
	refreshing atomic.Bool // a background refresh is running

	mu       sync.RWMutex
	keys     []*pubKey // every non-retired key of use, oldest first
	signing  *privKey
	lastLoad time.Time
}

// New loads the keys of use from store, or creates the first one, and
// returns a Signer that signs with the newest active key of algorithm alg
// (EdDSA, ES256, RS256 or PS256). If the store holds no active key of alg, New
// creates one with CreateFirstSigningKey, then rereads the store and signs
// with the key it holds as active: of several processes starting together
// on an empty store, one key is stored and all of them sign with it. Private keys are sealed with sealer under
// behalf.SealContext{Kind: "signing-key", Key: kid, Field: "private"}.
// now is the Signer's clock (time.Now when nil).
func New(ctx context.Context, store behalf.SigningKeyStore, sealer behalf.Sealer, use string, alg string, now func() time.Time) (*Signer, error) {
	if store == nil || sealer == nil {
		return nil, errors.New("signer: store and sealer are required")
	}
	if use == "" {
		return nil, errors.New("signer: use is required")
	}
	if _, err := signatureAlgorithm(alg); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	s := &Signer{store: store, sealer: sealer, use: use, alg: alg, now: now}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	if s.signingKey() != nil {
		return s, nil
	}
	if err := s.createFirst(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Sign returns claims as a compact JWS signed with the active key. The
// protected header carries alg, kid and typ "JWT". claims must include exp
// (Verify refuses tokens without it); exp, iat and nbf may be time.Time or
// numbers of seconds since the epoch.
func (s *Signer) Sign(claims map[string]any) (string, error) {
	return s.SignWithHeaders(claims, nil)
}

// SignWithHeaders is Sign with extra protected header parameters (for
// example x5t#S256); alg, kid and typ are the Signer's and cannot be
// replaced.
func (s *Signer) SignWithHeaders(claims map[string]any, extra map[string]string) (string, error) {
	if _, ok := claims[jwt.ExpirationKey]; !ok {
		return "", errors.New("signer: claims must include exp")
	}
	// Claims are encoded as given (so a string aud stays a string, as
	// Cognito's ID tokens have it); times become NumericDate seconds.
	enc := make(map[string]any, len(claims))
	for name, v := range claims {
		if t, ok := v.(time.Time); ok {
			v = t.Unix()
		}
		if name == "exp" || name == "iat" || name == "nbf" {
			switch v.(type) {
			case int, int64, float64:
			default:
				return "", fmt.Errorf("signer: claim %q must be a number or a time.Time", name)
			}
		}
		enc[name] = v
	}
	payload, err := json.Marshal(enc)
	if err != nil {
		return "", fmt.Errorf("signer: encode claims: %w", err)
	}
	s.maybeRefresh()
	k := s.signingKey()
	if k == nil {
		return "", fmt.Errorf("signer: no active %s key of use %s", s.alg, s.use)
	}
	if tok, ok, err := k.signCompact(payload); ok || err != nil {
		return tok, err
	}
	hdrs := jws.NewHeaders()
	for name, v := range extra {
		if name == jws.AlgorithmKey || name == jws.KeyIDKey || name == jws.TypeKey {
			return "", fmt.Errorf("signer: header %q is the signer's", name)
		}
		if err := hdrs.Set(name, v); err != nil {
			return "", fmt.Errorf("signer: header %s: %w", name, err)
		}
	}
	if err := hdrs.Set(jws.TypeKey, "JWT"); err != nil {
		return "", fmt.Errorf("signer: header: %w", err)
	}
	if err := hdrs.Set(jws.KeyIDKey, k.id); err != nil {
		return "", fmt.Errorf("signer: header: %w", err)
	}
	b, err := jws.Sign(payload, jws.WithKey(k.alg, k.raw, jws.WithProtectedHeaders(hdrs)))
	if err != nil {
		return "", fmt.Errorf("signer: sign with key %s: %w", k.id, err)
	}
	return string(b), nil
}

// Verify checks token's signature with the published key its kid names,
// under that key's own algorithm only, and its exp (required), nbf and iat
// against now with a tolerance of Skew; it returns the claims. An unknown
// kid reloads the keys from the store, at most once per ReloadInterval;
// keys older than RefreshInterval are reloaded in the background.
// Errors are behalf.EUNAUTHORIZED errors with a short message safe to show,
// wrapping the cause for logs; they never contain the token.
func (s *Signer) Verify(token string, now time.Time) (map[string]any, error) {
	s.maybeRefresh()
	msg, hdr, err := parseCompact(token)
	if err != nil {
		return nil, unauthorized(msgMalformed, err)
	}
	k, err := s.verificationKey(hdr.kid)
	if err != nil {
		return nil, unauthorized(msgSignature, err)
	}
	if hdr.alg != k.alg.String() {
		return nil, unauthorized(msgSignature, fmt.Errorf("header alg %q is not key %s's %s", hdr.alg, k.id, k.alg))
	}
	_, err = jwt.ParseString(token,
		jwt.WithKey(k.alg, k.key),
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithAcceptableSkew(Skew),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	)
	if err != nil {
		return nil, parseError(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(msg.Payload(), &claims); err != nil {
		return nil, unauthorized(msgMalformed, err)
	}
	return claims, nil
}

// PublicJWKS returns the JSON Web Key Set of every key of the Signer's use
// that is not retired, oldest first, as of the last load from the store
// (New, Rotate, Reload, or a reload Verify triggered).
func (s *Signer) PublicJWKS() ([]byte, error) {
	s.maybeRefresh()
	set := jwk.NewSet()
	now := s.now()
	for _, k := range s.published() {
		if !k.publishedAt(now) {
			continue
		}
		if err := set.AddKey(k.key); err != nil {
			return nil, fmt.Errorf("signer: add key %s to set: %w", k.id, err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("signer: encode key set: %w", err)
	}
	return b, nil
}

// Rotate creates a new active key and signs with it from now on. Older
// keys still verify and stay published (their RetireAt is left zero);
// RotateAndRetire also schedules their retirement.
func (s *Signer) Rotate(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	return s.create(ctx)
}

// RotateAndRetire creates a new active key, signs with it from now on, and
// sets the RetireAt of every older key of the use that is not already
// retiring sooner to now + grace: they keep verifying and stay published
// until the tokens they signed have expired (see RetireGrace), then
// disappear. With grace 0 they stop verifying at once (a compromised key).
// It returns the ids of the keys it retired.
func (s *Signer) RotateAndRetire(ctx context.Context, grace time.Duration) ([]string, error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	old, err := s.store.ListSigningKeys(ctx, s.use)
	if err != nil {
		return nil, fmt.Errorf("signer: list %s keys: %w", s.use, err)
	}
	if err := s.create(ctx); err != nil {
		return nil, err
	}
	at := s.now().Add(max(grace, 0))
	var retired []string
	for _, rec := range old {
		if !rec.RetireAt.IsZero() && !rec.RetireAt.After(at) {
			continue
		}
		if err := s.store.RetireSigningKey(ctx, rec.ID, at); err != nil {
			return retired, fmt.Errorf("signer: retire %s key %s: %w", s.use, rec.ID, err)
		}
		retired = append(retired, rec.ID)
	}
	return retired, s.load(ctx)
}

// Reload reloads the keys from the store, picking up keys that other
// processes created or retired. Servers may call it periodically so that
// PublicJWKS follows rotations made elsewhere.
func (s *Signer) Reload(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	return s.load(ctx)
}

// maybeRefresh starts a background reload when the keys were loaded more
// than RefreshInterval ago. A failed reload is retried an interval later;
// meanwhile the loaded keys are kept.
func (s *Signer) maybeRefresh() {
	s.mu.RLock()
	stale := s.now().Sub(s.lastLoad) >= RefreshInterval
	s.mu.RUnlock()
	if !stale || !s.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.refreshing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
		defer cancel()
		s.loadMu.Lock()
		defer s.loadMu.Unlock()
		if err := s.load(ctx); err != nil {
			s.mu.Lock()
			s.lastLoad = s.now()
			s.mu.Unlock()
		}
	}()
}

// signingKey returns the key new tokens are signed with.
func (s *Signer) signingKey() *privKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.signing
}

// published returns the loaded keys.
func (s *Signer) published() []*pubKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keys
}

// lookup returns the published key with kid, or nil.
func (s *Signer) lookup(kid string) *pubKey {
	now := s.now()
	for _, k := range s.published() {
		if k.id == kid && k.publishedAt(now) {
			return k
		}
	}
	return nil
}

// verificationKey returns the published key with kid, reloading the keys
// from the store first if kid is unknown and the last load is at least
// ReloadInterval old.
func (s *Signer) verificationKey(kid string) (*pubKey, error) {
	if kid == "" {
		return nil, errors.New("token has no kid")
	}
	if k := s.lookup(kid); k != nil {
		return k, nil
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if k := s.lookup(kid); k != nil {
		return k, nil
	}
	s.mu.RLock()
	recent := s.now().Sub(s.lastLoad) < ReloadInterval
	s.mu.RUnlock()
	if recent {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	if k := s.lookup(kid); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

// create stores a new active key (the others of the use become
// inactive), then reloads. Callers hold loadMu.
func (s *Signer) create(ctx context.Context) error {
	rec, err := newRecord(ctx, s.sealer, s.use, s.alg, s.now())
	if err != nil {
		return err
	}
	if err := s.store.CreateSigningKey(ctx, rec); err != nil {
		if behalf.ErrorCode(err) != behalf.ECONFLICT {
			return fmt.Errorf("signer: store new %s key: %w", s.use, err)
		}
		// Another process rotated at the same moment (the store allows
		// one active key per use): load and use its key.
	}
	if err := s.load(ctx); err != nil {
		return err
	}
	if s.signingKey() == nil {
		return fmt.Errorf("signer: no active %s key of use %s after creating one", s.alg, s.use)
	}
	return nil
}

// createFirst stores a new active key unless the store holds one of the
// Signer's use and algorithm by now, then reloads and signs with whichever
// key the store holds as active. Replicas starting together on an empty
// database all get here: the store keeps one key (CreateFirstSigningKey),
// and every Signer, the winner's and the losers', rereads it before it
// signs anything, so none signs with a key that is not the store's.
// Callers hold loadMu.
func (s *Signer) createFirst(ctx context.Context) error {
	rec, err := newRecord(ctx, s.sealer, s.use, s.alg, s.now())
	if err != nil {
		return err
	}
	if _, err := s.store.CreateFirstSigningKey(ctx, rec); err != nil {
		return fmt.Errorf("signer: store first %s key: %w", s.use, err)
	}
	if err := s.load(ctx); err != nil {
		return err
	}
	if s.signingKey() == nil {
		return fmt.Errorf("signer: no active %s key of use %s after creating one", s.alg, s.use)
	}
	return nil
}

// load reads the keys of the Signer's use from the store and picks the
// signing key: the newest active, non-retired key of the Signer's
// algorithm. Only that key's private half is opened. Callers hold loadMu.
func (s *Signer) load(ctx context.Context) error {
	recs, err := s.store.ListSigningKeys(ctx, s.use)
	if err != nil {
		return fmt.Errorf("signer: list %s keys: %w", s.use, err)
	}
	now := s.now()
	keys := make([]*pubKey, 0, len(recs))
	var newest *behalf.SigningKey
	var newestPub *pubKey
	for _, rec := range recs {
		pub, err := parsePublic(rec)
		if err != nil {
			return err
		}
		if !pub.publishedAt(now) {
			continue
		}
		keys = append(keys, pub)
		if rec.Active && rec.Algorithm == s.alg && (newest == nil || !rec.CreatedAt.Before(newest.CreatedAt)) {
			newest, newestPub = rec, pub
		}
	}
	signing, err := s.pickSigning(ctx, newest, newestPub, keys)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = slices.Clip(keys)
	s.signing = signing
	s.lastLoad = now
	return nil
}

// pickSigning returns the signing key for rec, reusing the current one
// when it is the same key. With no rec (the store has no active key of the
// Signer's algorithm, say after another process rotated to another
// algorithm) the current key is kept while it is still published.
func (s *Signer) pickSigning(ctx context.Context, rec *behalf.SigningKey, pub *pubKey, keys []*pubKey) (*privKey, error) {
	cur := s.signingKey()
	if rec == nil {
		if cur != nil && slices.ContainsFunc(keys, func(k *pubKey) bool { return k.id == cur.id }) {
			return cur, nil
		}
		return nil, nil
	}
	if cur != nil && cur.id == rec.ID {
		return cur, nil
	}
	return openPrivate(ctx, s.sealer, rec, pub)
}
