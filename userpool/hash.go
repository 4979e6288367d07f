package userpool

import (
	"context"
	"time"

	"github.com/behalf-dev/behalf"
)

// DefaultHashQueueWait is how long a password check waits for a hashing
// slot, when HashQueueWait is zero, before it is refused.
const DefaultHashQueueWait = 500 * time.Millisecond

// HashRetryAfter is the Retry-After of a password check refused for want
// of a hashing slot.
const HashRetryAfter = time.Second

// errHashBusy refuses a password check that found no hashing slot in
// time: TooManyRequestsException on the wire, with Retry-After.
var errHashBusy = &behalf.Error{Code: behalf.ETHROTTLED, Message: "Too many sign-ins in progress; try again shortly.", Retry: HashRetryAfter}

// acquireHash waits for a hashing slot; at most MaxConcurrentHashes argon2id
// computations run at once. A caller that finds none within HashQueueWait
// gets errHashBusy: under a sign-in storm the waiters would otherwise pile
// up without bound, each holding its request, while every hash holds
// HashParams.Memory.
func (s *Service) acquireHash(ctx context.Context) error {
	s.init()
	select {
	case s.hashSem <- struct{}{}:
		return nil
	default:
	}
	wait := s.HashQueueWait
	if wait <= 0 {
		wait = DefaultHashQueueWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s.hashSem <- struct{}{}:
		return nil
	case <-t.C:
		return errHashBusy
	case <-ctx.Done():
		return internal("wait for a hashing slot", ctx.Err())
	}
}

// releaseHash frees a hashing slot.
func (s *Service) releaseHash() { <-s.hashSem }

// hashPassword hashes a password with the service's parameters.
func (s *Service) hashPassword(ctx context.Context, password behalf.Secret) (string, error) {
	if err := s.acquireHash(ctx); err != nil {
		return "", err
	}
	defer s.releaseHash()
	h, err := HashPassword(password, s.hashParams())
	if err != nil {
		return "", internal("hash password", err)
	}
	return h, nil
}

// verifyPassword checks password against a stored hash. An empty hash (no
// user, or no password) is checked against a dummy hash, so the time spent
// does not reveal it. rehash reports a match whose hash uses other
// parameters than the service's.
func (s *Service) verifyPassword(ctx context.Context, hash string, password behalf.Secret) (ok, rehash bool, err error) {
	stored := hash
	if stored == "" {
		if stored, err = s.dummyHash(ctx); err != nil {
			return false, false, err
		}
	}
	h, err := ParsePHC(stored)
	if err != nil {
		return false, false, internal("parse password hash", err)
	}
	if err := s.acquireHash(ctx); err != nil {
		return false, false, err
	}
	match := h.Matches(password)
	s.releaseHash()
	if hash == "" {
		return false, false, nil
	}
	return match, match && h.Params != s.hashParams(), nil
}

// dummyHash returns a hash of a random password with the service's
// parameters, made on first use.
func (s *Service) dummyHash(ctx context.Context) (string, error) {
	s.dummyMu.Lock()
	defer s.dummyMu.Unlock()
	if s.dummy != "" {
		return s.dummy, nil
	}
	h, err := s.hashPassword(ctx, behalf.Secret(newRefreshToken()))
	if err != nil {
		return "", err
	}
	s.dummy = h
	return h, nil
}
