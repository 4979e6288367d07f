package userpool

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// One-time codes of sign-up and password recovery.
//
// A code is 6 random digits (crypto/rand). The store keeps only
// HMAC-SHA256 of it, under a per-pool key kept sealed in the store
// (EnsurePoolSecret "code-hash-key"), bound to the pool, the user and the
// purpose: whoever reads the database cannot try the million codes
// without the key-encryption key. A code is single-use (the store deletes
// it by its hash, so of two concurrent uses one wins), expires (24 h for
// sign-up, 1 h for a password reset, as Cognito's), and allows
// maxCodeAttempts wrong answers; after that every answer is
// LimitExceededException until a new code is sent. A new code replaces the
// old one. At most maxCodeSends codes per user and purpose are sent in a
// sendWindow (LimitExceededException), which also bounds the mail a
// caller can make Behalf send to one address.
//
// Messages go to the pool's CodeSender (SMTP) when the service has one and
// the medium is email; otherwise (no SMTP configured, or SMS, which
// Behalf cannot send) to the local outbox: a PoolMessage whose subject and
// body are sealed, read by the administrator with `behalf user codes`.
const (
	codeDigits         = 6
	signUpCodeLifetime = 24 * time.Hour
	resetCodeLifetime  = time.Hour
	maxCodeAttempts    = 5
	maxCodeSends       = 5
	sendWindow         = time.Hour
	maxCodeLength      = 2048
	codeHashSecret     = "code-hash-key"
	codePlaceholder    = "{####}"
)

// Messages Cognito answers codes with.
const (
	msgCodeMismatch  = "Invalid verification code provided, please try again."
	msgCodeExpired   = "Invalid code provided, please request a code again."
	msgAttemptLimit  = "Attempt limit exceeded, please try after some time."
	msgDeliveryError = "Unable to deliver the verification code. Try again later."
)

// Cognito's default verification messages.
const (
	defaultEmailSubject = "Your verification code"
	defaultCodeMessage  = "Your verification code is {####}. "
)

// codeKeys caches the pools' code-hash keys.
type codeKeys struct {
	mu   sync.Mutex
	keys map[string][]byte
}

// codeKeyContext is where a pool's code-hash key is sealed.
func codeKeyContext(poolID string) behalf.SealContext {
	return behalf.SealContext{Kind: "pool-secret", Key: poolID, Field: codeHashSecret}
}

// messageContext is where an outbox message is sealed.
func messageContext(id string) behalf.SealContext {
	return behalf.SealContext{Kind: "pool-message", Key: id, Field: "message"}
}

// codeKey returns a pool's code-hash key, creating it in the store on
// first use (one key for every replica).
func (s *Service) codeKey(ctx context.Context, poolID string) ([]byte, error) {
	s.codes.mu.Lock()
	key := s.codes.keys[poolID]
	s.codes.mu.Unlock()
	if key != nil {
		return key, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	sealed, err := s.Sealer.Seal(ctx, codeKeyContext(poolID), fresh)
	if err != nil {
		return nil, internal("seal code key", err)
	}
	stored, err := s.Store.EnsurePoolSecret(ctx, poolID, codeHashSecret, sealed)
	if isNotFound(err) {
		return nil, poolNotFound(poolID)
	}
	if err != nil {
		return nil, internal("store code key", err)
	}
	if key, err = s.Sealer.Open(ctx, codeKeyContext(poolID), stored); err != nil {
		return nil, internal("open code key", err)
	}
	s.codes.mu.Lock()
	if s.codes.keys == nil {
		s.codes.keys = map[string][]byte{}
	}
	s.codes.keys[poolID] = key
	s.codes.mu.Unlock()
	return key, nil
}

// newCode returns codeDigits uniformly random decimal digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic("crypto/rand: " + err.Error()) // crypto/rand does not fail
	}
	return fmt.Sprintf("%0*d", codeDigits, n)
}

// codeHash is the stored form of a code: hex HMAC-SHA256 under the
// pool's key, over the purpose, the username and the code.
func codeHash(key []byte, purpose, username, code string) string {
	m := hmac.New(sha256.New, key)
	for _, part := range []string{"behalf userpool code", purpose, username, code} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// validateCode checks a ConfirmationCode's shape (Cognito's [\S]+, at
// most 2048 characters).
func validateCode(code behalf.Secret) error {
	c := code.Reveal()
	if c == "" {
		return invalidParameter("Missing required parameter ConfirmationCode")
	}
	if utf8.RuneCountInString(c) > maxCodeLength || strings.IndexFunc(c, unicode.IsSpace) >= 0 || !utf8.ValidString(c) {
		return invalidParameter("1 validation error detected: Value at 'confirmationCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+")
	}
	return nil
}

// lifetime is how long a code for purpose is valid.
func lifetime(purpose string) time.Duration {
	if purpose == behalf.CodeSignUp {
		return signUpCodeLifetime
	}
	return resetCodeLifetime
}

// sendCode makes a new code for a user and purpose, stores its hash
// (replacing the previous code), and delivers it to the user's attribute
// attr ("email" or "phone_number"). Over maxCodeSends in a sendWindow it
// is LimitExceededException and nothing is sent.
func (s *Service) sendCode(ctx context.Context, pool *behalf.UserPool, u *behalf.PoolUser, purpose, attr string) (*behalf.CodeDeliveryDetails, error) {
	now := s.now()
	key, err := s.codeKey(ctx, pool.ID)
	if err != nil {
		return nil, err
	}
	c := &behalf.PoolCode{
		PoolID: pool.ID, Username: u.Username, Purpose: purpose, Attribute: attr,
		ExpiresAt: now.Add(lifetime(purpose)), Sends: 1, SendWindow: now, CreatedAt: now,
	}
	prev, err := s.Store.GetPoolCode(ctx, pool.ID, u.Username, purpose)
	if err != nil && !isNotFound(err) {
		return nil, internal("get code", err)
	}
	if prev != nil && now.Before(prev.SendWindow.Add(sendWindow)) {
		if prev.Sends >= maxCodeSends {
			return nil, cognito(behalf.CognitoLimitExceeded, msgAttemptLimit)
		}
		c.Sends, c.SendWindow = prev.Sends+1, prev.SendWindow
	}
	code := newCode()
	c.Hash = codeHash(key, purpose, u.Username, code)
	if err := s.Store.PutPoolCode(ctx, c); err != nil {
		if isNotFound(err) {
			return nil, userNotFound()
		}
		return nil, internal("store code", err)
	}
	m := s.codeMessage(pool, u, purpose, attr, code, c.ExpiresAt)
	if err := s.deliver(ctx, m); err != nil {
		return nil, err
	}
	return &behalf.CodeDeliveryDetails{AttributeName: attr, DeliveryMedium: m.Medium, Destination: mask(m.Medium, m.Destination)}, nil
}

// codeMessage renders the pool's verification message for a code.
func (s *Service) codeMessage(pool *behalf.UserPool, u *behalf.PoolUser, purpose, attr, code string, expires time.Time) *behalf.CodeMessage {
	vm := pool.VerificationMessage
	m := &behalf.CodeMessage{
		PoolID: pool.ID, Username: u.Username, Purpose: purpose, Medium: behalf.DeliveryEmail,
		Destination: u.Attributes[attr], Subject: textOr(vm.EmailSubject, defaultEmailSubject), ExpiresAt: expires,
	}
	text := textOr(vm.EmailMessage, defaultCodeMessage)
	if attr == "phone_number" {
		m.Medium, m.Subject, text = behalf.DeliverySMS, "", textOr(vm.SMSMessage, defaultCodeMessage)
	}
	m.Body = behalf.Secret(strings.ReplaceAll(text, codePlaceholder, code))
	return m
}

// textOr returns v, or def when v is empty.
func textOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// deliver sends a message by email through the CodeSender, or keeps it
// in the local outbox. A failed send is CodeDeliveryFailureException; its
// cause is logged, never answered.
func (s *Service) deliver(ctx context.Context, m *behalf.CodeMessage) error {
	if m.Medium == behalf.DeliveryEmail && s.Mail != nil {
		if err := s.Mail.SendCode(ctx, m); err != nil {
			s.logger().WarnContext(ctx, "user pool: code message not delivered", "pool", m.PoolID, "purpose", m.Purpose, "err", err)
			return cognito(behalf.CognitoCodeDeliveryFailure, msgDeliveryError)
		}
		return nil
	}
	return s.keepMessage(ctx, m)
}

// outboxBody is the sealed content of an outbox message.
type outboxBody struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// keepMessage stores a message in the local outbox, sealed.
func (s *Service) keepMessage(ctx context.Context, m *behalf.CodeMessage) error {
	id := newUUID()
	plain, err := json.Marshal(outboxBody{Subject: m.Subject, Body: m.Body.Reveal()})
	if err != nil {
		return internal("encode message", err)
	}
	sealed, err := s.Sealer.Seal(ctx, messageContext(id), plain)
	if err != nil {
		return internal("seal message", err)
	}
	err = s.Store.AddPoolMessage(ctx, &behalf.PoolMessage{
		ID: id, PoolID: m.PoolID, Username: m.Username, Purpose: m.Purpose, Medium: m.Medium,
		Destination: m.Destination, Sealed: sealed, ExpiresAt: m.ExpiresAt, CreatedAt: s.now(),
	})
	if isNotFound(err) {
		return userNotFound()
	}
	if err != nil {
		return internal("store message", err)
	}
	s.logger().InfoContext(ctx, "user pool: code message kept in the local outbox (no mail server for it); read it with: behalf user codes POOL USER",
		"pool", m.PoolID, "purpose", m.Purpose, "medium", m.Medium)
	return nil
}

// useCode checks a code a user gives for purpose and, if it is right,
// spends it: ExpiredCodeException when there is none or it expired,
// LimitExceededException after maxCodeAttempts wrong ones,
// CodeMismatchException when wrong (counted). It returns the spent code.
func (s *Service) useCode(ctx context.Context, poolID, username, purpose string, given behalf.Secret) (*behalf.PoolCode, error) {
	key, err := s.codeKey(ctx, poolID)
	if err != nil {
		return nil, err
	}
	c, err := s.Store.GetPoolCode(ctx, poolID, username, purpose)
	if isNotFound(err) {
		return nil, cognito(behalf.CognitoExpiredCode, msgCodeExpired)
	}
	if err != nil {
		return nil, internal("get code", err)
	}
	switch {
	case !s.now().Before(c.ExpiresAt):
		return nil, cognito(behalf.CognitoExpiredCode, msgCodeExpired)
	case c.Attempts >= maxCodeAttempts:
		return nil, cognito(behalf.CognitoLimitExceeded, msgAttemptLimit)
	}
	h := codeHash(key, purpose, username, given.Reveal())
	if subtle.ConstantTimeCompare([]byte(h), []byte(c.Hash)) != 1 {
		if _, err := s.Store.FailPoolCode(ctx, poolID, username, purpose, c.Hash); err != nil && !isNotFound(err) {
			return nil, internal("count a wrong code", err)
		}
		return nil, cognito(behalf.CognitoCodeMismatch, msgCodeMismatch)
	}
	err = s.Store.UsePoolCode(ctx, poolID, username, purpose, c.Hash)
	if isNotFound(err) { // used or replaced meanwhile
		return nil, cognito(behalf.CognitoCodeMismatch, msgCodeMismatch)
	}
	if err != nil {
		return nil, internal("use code", err)
	}
	return c, nil
}

// mask hides most of a destination, as Cognito's CodeDeliveryDetails do:
// a***@e*** for an email address, +*******0100 for a phone number.
func mask(medium, dest string) string {
	if medium == behalf.DeliverySMS {
		if len(dest) <= 4 {
			return "+****"
		}
		return "+" + strings.Repeat("*", len(dest)-5) + dest[len(dest)-4:]
	}
	local, domain, _ := strings.Cut(dest, "@")
	return first(local) + "***@" + first(domain) + "***"
}

// first returns the first character of s ("" for none).
func first(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// simulatedDelivery is what ResendConfirmationCode and ForgotPassword
// answer for a name that is no user they can send to
// (PreventUserExistenceErrors ENABLED): a medium chosen from the name's
// shape and the pool's settings, and a destination derived from the name
// with the pool's key, so that it is the same on every call, as a real
// user's is.
func (s *Service) simulatedDelivery(ctx context.Context, pool *behalf.UserPool, name string) (*behalf.CodeDeliveryDetails, error) {
	key, err := s.codeKey(ctx, pool.ID)
	if err != nil {
		return nil, err
	}
	d := simDerive(key, "delivery", name)
	sms := strings.HasPrefix(name, "+") ||
		!strings.Contains(name, "@") && len(pool.AutoVerifiedAttributes) == 1 && pool.AutoVerifiedAttributes[0] == "phone_number"
	if sms {
		dest := fmt.Sprintf("+1%010d", new(big.Int).SetBytes(d[:8]).Uint64()%1e10)
		if strings.HasPrefix(name, "+") {
			dest = name
		}
		return &behalf.CodeDeliveryDetails{AttributeName: "phone_number", DeliveryMedium: behalf.DeliverySMS, Destination: mask(behalf.DeliverySMS, dest)}, nil
	}
	dest := string(rune('a'+d[0]%26)) + "@" + string(rune('a'+d[1]%26))
	if strings.Contains(name, "@") {
		dest = name
	}
	return &behalf.CodeDeliveryDetails{AttributeName: "email", DeliveryMedium: behalf.DeliveryEmail, Destination: mask(behalf.DeliveryEmail, dest)}, nil
}

// UserCodeMessages opens a user's messages in the local outbox, newest
// first (the administrator's `behalf user codes`).
func (s *Service) UserCodeMessages(ctx context.Context, poolID, username string) ([]*behalf.OutboxMessage, error) {
	_, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return nil, err
	}
	ms, err := s.Store.ListPoolMessages(ctx, poolID, u.Username)
	if err != nil {
		return nil, internal("list messages", err)
	}
	out := make([]*behalf.OutboxMessage, 0, len(ms))
	for _, m := range ms {
		plain, err := s.Sealer.Open(ctx, messageContext(m.ID), m.Sealed)
		if err != nil {
			return nil, internal("open message", err)
		}
		var b outboxBody
		if err := json.Unmarshal(plain, &b); err != nil {
			return nil, internal("decode message", err)
		}
		out = append(out, &behalf.OutboxMessage{
			Username: m.Username, Purpose: m.Purpose, Medium: m.Medium, Destination: m.Destination,
			Subject: b.Subject, Body: behalf.Secret(b.Body), ExpiresAt: m.ExpiresAt, CreatedAt: m.CreatedAt,
		})
	}
	return out, nil
}

// DeleteExpiredCodes deletes the codes and outbox messages, in every
// pool, that expired more than grace ago, and returns how many. An
// expired code is refused anyway, so this only bounds the tables.
func (s *Service) DeleteExpiredCodes(ctx context.Context, grace time.Duration) (int, error) {
	before := s.now().Add(-grace)
	n, err := s.Store.DeleteExpiredPoolCodes(ctx, before)
	if err != nil {
		return 0, internal("delete expired codes", err)
	}
	m, err := s.Store.DeleteExpiredPoolMessages(ctx, before)
	if err != nil {
		return n, internal("delete expired messages", err)
	}
	return n + m, nil
}
