package userpool

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
	"github.com/behalf-dev/behalf/signer"
)

// Store is what the service persists to: pools and their contents, and the
// pools' signing keys.
type Store interface {
	behalf.UserPoolStore
	behalf.SigningKeyStore
}

// Defaults of the Service's optional fields.
const (
	DefaultRegion          = "us-east-1"
	DefaultSessionValidity = 3 * time.Minute // Cognito's AuthSessionValidity default
)

// Service implements behalf.UserPoolService. Set the exported fields before
// first use and do not copy it afterwards; it is safe for concurrent use.
type Service struct {
	Store  Store
	Sealer behalf.Sealer
	// PublicURL is Behalf's externally visible base URL, without a trailing
	// slash; a pool's issuer is PublicURL + "/" + pool id.
	PublicURL string
	// Region prefixes new pool ids; DefaultRegion when empty.
	Region string
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// HashParams are the argon2id costs of new password hashes; the zero
	// value means DefaultHashParams (OWASP's). For tests only: lower costs
	// keep a test suite fast; never lower them in production. Stored hashes
	// are verified with their own parameters and rehashed with these on the
	// next successful sign-in.
	HashParams HashParams
	// MaxConcurrentHashes bounds how many argon2id hashes run at once, so a
	// login storm keeps memory flat (each costs HashParams.Memory);
	// runtime.NumCPU() when zero.
	MaxConcurrentHashes int
	// HashQueueWait is how long a password check or change waits for one
	// of those slots before it is refused with TooManyRequestsException
	// (and Retry-After); DefaultHashQueueWait when zero.
	HashQueueWait time.Duration
	// SessionValidity is how long a challenge Session is valid;
	// DefaultSessionValidity when zero.
	SessionValidity time.Duration

	// DomainSuffix, when set, serves prefix domains (CreateUserPoolDomain
	// without CustomDomainConfig) at {prefix}.{DomainSuffix}, and
	// CustomDomains are the custom domains that may be created and are
	// served; both with PublicURL's scheme and port (domain.go).
	DomainSuffix  string
	CustomDomains []string
	domainState   domainState

	// Mail sends the email messages that carry sign-up and password-reset
	// codes (an SMTP client); when nil they are kept in the local outbox
	// (code.go), as SMS messages always are.
	Mail behalf.CodeSender
	// Log receives what callers are never told (a failed mail delivery);
	// slog.Default() when nil.
	Log   *slog.Logger
	codes codeKeys

	initOnce sync.Once
	hashSem  chan struct{}

	dummyMu sync.Mutex
	dummy   string

	signersMu sync.Mutex
	signers   map[string]*signerSlot

	// tokenUsers caches CheckTokenUser's reads for TokenUserCacheTTL.
	tokenUsers ttlcache.Cache[string, tokenUser]

	// srp caches the pools' SRP simulation material (srp.go).
	srp srpState
}

var _ behalf.UserPoolService = (*Service)(nil)

// signerSlot holds one pool's Signer, created on first use.
type signerSlot struct {
	mu sync.Mutex
	s  *signer.Signer
}

// init sets up the unexported state once.
func (s *Service) init() {
	s.initOnce.Do(func() {
		n := s.MaxConcurrentHashes
		if n <= 0 {
			n = runtime.NumCPU()
		}
		s.hashSem = make(chan struct{}, n)
		s.signers = map[string]*signerSlot{}
	})
}

// now returns the current time in UTC at the stores' precision.
func (s *Service) now() time.Time {
	t := time.Now()
	if s.Now != nil {
		t = s.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// logger returns the service's logger.
func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// region returns the region of new pool ids.
func (s *Service) region() string {
	if s.Region == "" {
		return DefaultRegion
	}
	return s.Region
}

// hashParams returns the argon2id parameters of new hashes.
func (s *Service) hashParams() HashParams {
	if s.HashParams == (HashParams{}) {
		return DefaultHashParams
	}
	return s.HashParams
}

// sessionValidity returns how long a challenge session lasts.
func (s *Service) sessionValidity() time.Duration {
	if s.SessionValidity <= 0 {
		return DefaultSessionValidity
	}
	return s.SessionValidity
}

// Issuer returns PublicURL/poolID.
func (s *Service) Issuer(poolID string) string {
	return strings.TrimSuffix(s.PublicURL, "/") + "/" + poolID
}

// signer returns the Signer of a pool, loading or creating its key on
// first use. Callers check that the pool exists first.
func (s *Service) signer(ctx context.Context, poolID string) (*signer.Signer, error) {
	s.init()
	s.signersMu.Lock()
	slot := s.signers[poolID]
	if slot == nil {
		slot = &signerSlot{}
		s.signers[poolID] = slot
	}
	s.signersMu.Unlock()
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.s != nil {
		return slot.s, nil
	}
	sg, err := signer.New(ctx, s.Store, s.Sealer, poolID, signer.RS256, s.Now)
	if err != nil {
		return nil, internal("signing key of "+poolID, err)
	}
	slot.s = sg
	return sg, nil
}

// forgetSigner drops a deleted pool's Signer.
func (s *Service) forgetSigner(poolID string) {
	s.init()
	s.signersMu.Lock()
	defer s.signersMu.Unlock()
	delete(s.signers, poolID)
}

// getPool returns a pool, or ResourceNotFoundException.
func (s *Service) getPool(ctx context.Context, poolID string) (*behalf.UserPool, error) {
	if !behalf.IsPoolID(poolID) || len(poolID) > 55 {
		return nil, poolNotFound(poolID)
	}
	p, err := s.Store.GetUserPool(ctx, poolID)
	if isNotFound(err) {
		return nil, poolNotFound(poolID)
	}
	if err != nil {
		return nil, internal("get pool", err)
	}
	return p, nil
}

// getClient returns an app client and its pool; poolID "" accepts any
// pool. A client of another pool is ResourceNotFoundException.
func (s *Service) getClient(ctx context.Context, poolID, clientID string) (*behalf.AppClient, *behalf.UserPool, error) {
	if clientID == "" || len(clientID) > 128 {
		return nil, nil, clientNotFound(clientID)
	}
	c, err := s.Store.GetAppClient(ctx, clientID)
	if err != nil && !isNotFound(err) {
		return nil, nil, internal("get client", err)
	}
	if err != nil || (poolID != "" && c.PoolID != poolID) {
		if poolID != "" {
			if _, perr := s.getPool(ctx, poolID); perr != nil {
				return nil, nil, perr
			}
		}
		return nil, nil, clientNotFound(clientID)
	}
	pool, err := s.getPool(ctx, c.PoolID)
	if err != nil {
		return nil, nil, err
	}
	return c, pool, nil
}

// findUser finds a user by username or, in a pool that signs in with
// email or phone number, by that attribute. It returns a store error
// (ENOTFOUND when there is no such user).
func (s *Service) findUser(ctx context.Context, pool *behalf.UserPool, name string) (*behalf.PoolUser, error) {
	u, err := s.Store.GetPoolUser(ctx, pool.ID, name)
	if !isNotFound(err) {
		return u, err
	}
	if attr := aliasAttribute(pool, name); attr != "" {
		return s.Store.FindPoolUserByAttribute(ctx, pool.ID, attr, name)
	}
	return nil, err
}

// aliasAttribute returns the sign-in attribute name looks like, if the
// pool signs in with it: "email" for a name with @, "phone_number" for
// one starting with +.
func aliasAttribute(pool *behalf.UserPool, name string) string {
	switch {
	case strings.Contains(name, "@") && slices.Contains(pool.UsernameAttributes, "email"):
		return "email"
	case strings.HasPrefix(name, "+") && slices.Contains(pool.UsernameAttributes, "phone_number"):
		return "phone_number"
	}
	return ""
}

// adminUser finds a user for an admin operation: UserNotFoundException
// when missing.
func (s *Service) adminUser(ctx context.Context, poolID, username string) (*behalf.UserPool, *behalf.PoolUser, error) {
	pool, err := s.getPool(ctx, poolID)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.findUser(ctx, pool, username)
	if isNotFound(err) {
		return nil, nil, userNotFound()
	}
	if err != nil {
		return nil, nil, internal("get user", err)
	}
	return pool, u, nil
}

// updateUser applies fn to a user; a user deleted meanwhile is
// UserNotFoundException.
func (s *Service) updateUser(ctx context.Context, poolID, username string, fn func(*behalf.PoolUser) error) (*behalf.PoolUser, error) {
	u, err := s.Store.UpdatePoolUser(ctx, poolID, username, func(u *behalf.PoolUser) error {
		if err := fn(u); err != nil {
			return err
		}
		u.UpdatedAt = s.now()
		return nil
	})
	var ce *behalf.CognitoError
	switch {
	case err == nil:
		return u, nil
	case asCognito(err, &ce):
		return nil, err
	case isNotFound(err):
		return nil, userNotFound()
	}
	return nil, internal("update user", err)
}
