package userpool

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
)

// USER_SRP_AUTH (srp_math.go has the arithmetic).
//
// Verifiers. Whenever a password is set, its SRP verifier is computed
// too (16-byte random salt, v = g^x) and stored sealed in PoolUser's
// SRPVerifier under SealContext{"pool-user", pool/username,
// "srp-verifier"}, with the fingerprint of the argon2id hash it was made
// with: a verifier whose fingerprint is not the user's current hash's is
// ignored, so a password set by any code path that does not compute one
// (or by a previous release) can never be signed in to with the old
// password's verifier. A user without a valid verifier gets one at the
// next successful password sign-in (USER_PASSWORD_AUTH, the hosted
// login), which has the password; until then SRP answers for that user
// exactly as for a name that is no user (below): the way Cognito answers
// SRP for a user it cannot check by SRP (a user to be migrated by the
// migration trigger), with PreventUserExistenceErrors ENABLED.
//
// InitiateAuth (USER_SRP_AUTH: USERNAME, SRP_A) answers PASSWORD_VERIFIER
// with SALT, SRP_B, SECRET_BLOCK, USER_ID_FOR_SRP and USERNAME. The
// SECRET_BLOCK is the base64 of a record sealed (AES-GCM, behalf.Sealer)
// under SealContext{"pool-srp", client, "secret-block"}: a random id, the
// pool, the client, the user (and its sub and password fingerprint), the
// name typed, A, u and the secret b, and an expiry (the session validity,
// 3 minutes). Nobody can forge or alter one, and RespondToAuthChallenge
// (PASSWORD_VERIFIER: USERNAME, PASSWORD_CLAIM_SECRET_BLOCK, TIMESTAMP,
// PASSWORD_CLAIM_SIGNATURE) accepts it only before it expires, from the
// same client, and for one attempt: the first answer that reaches the
// verification spends the block's id (UsePoolNonce, shared by replicas,
// kept until the block expires), right signature or wrong, so a block is
// neither replayed after a sign-in nor used for a second guess. No Session
// is returned with the challenge (Cognito's clients send none back).
//
// Names that are no user (PreventUserExistenceErrors is always ENABLED in
// Behalf) and users without a verifier get a simulated challenge: the
// SALT and, in pools that sign in with email or phone number, a
// UUID-shaped USER_ID_FOR_SRP derived with a per-pool secret from the
// name, so they are the same on every attempt, replica and restart (as a
// real user's are until the password changes); elsewhere USER_ID_FOR_SRP
// is the name as typed, as for a real user. The verifier is a fixed
// per-pool element. The same arithmetic, reads and writes follow, and the
// answer is NotAuthorizedException "Incorrect username or password."
//
// Lockout counts SRP failures as it counts wrong passwords (lockout.go):
// a name locked out is refused at both steps without arithmetic, and a
// wrong signature counts a failure on the user's (or the name's) record.
// Only after the signature matches does the user's state show: disabled,
// expired temporary password, UNCONFIRMED, RESET_REQUIRED; a
// FORCE_CHANGE_PASSWORD user gets NEW_PASSWORD_REQUIRED.

// Challenge and parameter names of USER_SRP_AUTH.
const (
	flowUserSRP                = "USER_SRP_AUTH"
	challengePasswordVerifier  = "PASSWORD_VERIFIER"
	paramSRPA                  = "SRP_A"
	paramSRPB                  = "SRP_B"
	paramSalt                  = "SALT"
	paramSecretBlock           = "SECRET_BLOCK"
	paramUserIDForSRP          = "USER_ID_FOR_SRP"
	paramClaimSecretBlock      = "PASSWORD_CLAIM_SECRET_BLOCK"
	paramClaimSignature        = "PASSWORD_CLAIM_SIGNATURE"
	paramTimestamp             = "TIMESTAMP"
	srpSaltBytes               = 16
	maxSecretBlockLength       = 8192
	srpSimulationSecret        = "srp-simulation"
	srpBlockKind, srpUserKind  = "pool-srp", "pool-user"
	srpBlockField, srpVerField = "secret-block", "srp-verifier"
)

// srpRecord is the sealed content of PoolUser.SRPVerifier.
type srpRecord struct {
	Salt        string `json:"s"` // hex of the salt bytes
	Verifier    []byte `json:"v"` // v, big-endian
	Fingerprint string `json:"h"` // passwordFingerprint of the hash it was made with
}

// srpBlock is the sealed content of a SECRET_BLOCK.
type srpBlock struct {
	ID          string `json:"i"`
	Pool        string `json:"p"`
	Client      string `json:"c"`
	User        string `json:"u,omitempty"` // "" for a simulated challenge
	Sub         string `json:"s,omitempty"`
	Fingerprint string `json:"h,omitempty"`
	Login       string `json:"l"` // the name typed
	UserID      string `json:"d"` // USER_ID_FOR_SRP
	Lock        string `json:"k"` // whose lockout record counts (lockoutKey)
	A           []byte `json:"a"` // big-endian, as every integer here
	U           []byte `json:"x"`
	B           []byte `json:"b"` // the secret exponent b
	Expires     int64  `json:"e"` // Unix milliseconds
}

// srpSim is a pool's simulation material: the key that derives simulated
// salts and user ids, and the verifier simulated challenges use.
type srpSim struct {
	key []byte
	v   *big.Int
}

// srpState is the Service's SRP cache.
type srpState struct {
	mu   sync.Mutex
	sims map[string]*srpSim
}

func srpUserContext(poolID, username string) behalf.SealContext {
	return behalf.SealContext{Kind: srpUserKind, Key: poolID + "/" + username, Field: srpVerField}
}

func srpBlockContext(clientID string) behalf.SealContext {
	return behalf.SealContext{Kind: srpBlockKind, Key: clientID, Field: srpBlockField}
}

func srpSimContext(poolID string) behalf.SealContext {
	return behalf.SealContext{Kind: "user-pool", Key: poolID, Field: srpSimulationSecret}
}

// newSRPVerifier computes and seals the SRP verifier of a password for
// the user username of pool poolID, bound to hash, the password's
// argon2id hash.
func (s *Service) newSRPVerifier(ctx context.Context, poolID, username string, password behalf.Secret, hash string) (behalf.Sealed, error) {
	saltBytes := make([]byte, srpSaltBytes)
	rand.Read(saltBytes)
	salt := new(big.Int).SetBytes(saltBytes)
	v := srpVerifier(srpX(srpPoolName(poolID), username, []byte(password.Reveal()), salt))
	b, err := json.Marshal(srpRecord{Salt: hex.EncodeToString(saltBytes), Verifier: v.Bytes(), Fingerprint: passwordFingerprint(hash)})
	if err != nil {
		return nil, internal("encode SRP verifier", err)
	}
	sealed, err := s.Sealer.Seal(ctx, srpUserContext(poolID, username), b)
	if err != nil {
		return nil, internal("seal SRP verifier", err)
	}
	return sealed, nil
}

// srpVerifierOf opens a user's verifier; ok is false when the user has
// none that matches its current password hash.
func (s *Service) srpVerifierOf(ctx context.Context, u *behalf.PoolUser) (salt, v *big.Int, ok bool, err error) {
	if u == nil || len(u.SRPVerifier) == 0 || u.PasswordHash == "" {
		return nil, nil, false, nil
	}
	b, err := s.Sealer.Open(ctx, srpUserContext(u.PoolID, u.Username), u.SRPVerifier)
	if err != nil {
		return nil, nil, false, internal("open SRP verifier", err)
	}
	var r srpRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, nil, false, internal("decode SRP verifier", err)
	}
	if !hmac.Equal([]byte(r.Fingerprint), []byte(passwordFingerprint(u.PasswordHash))) {
		return nil, nil, false, nil
	}
	saltBytes, err := hex.DecodeString(r.Salt)
	if err != nil || len(r.Verifier) == 0 {
		return nil, nil, false, internal("decode SRP verifier", fmt.Errorf("bad record"))
	}
	return new(big.Int).SetBytes(saltBytes), new(big.Int).SetBytes(r.Verifier), true, nil
}

// backfillSRP gives a user who just proved its password a verifier if it
// has no valid one, unless the password changed meanwhile.
func (s *Service) backfillSRP(ctx context.Context, u *behalf.PoolUser, password behalf.Secret) (*behalf.PoolUser, error) {
	if _, _, ok, err := s.srpVerifierOf(ctx, u); err != nil || ok {
		return u, err
	}
	sealed, err := s.newSRPVerifier(ctx, u.PoolID, u.Username, password, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	hash := u.PasswordHash
	return s.updateUser(ctx, u.PoolID, u.Username, func(u *behalf.PoolUser) error {
		if u.PasswordHash == hash {
			u.SRPVerifier = sealed
		}
		return nil
	})
}

// srpSimFor returns a pool's simulation material, creating its key in the
// store on first use (EnsurePoolSecret: one key for every replica).
func (s *Service) srpSimFor(ctx context.Context, poolID string) (*srpSim, error) {
	s.srp.mu.Lock()
	sim := s.srp.sims[poolID]
	s.srp.mu.Unlock()
	if sim != nil {
		return sim, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	sealed, err := s.Sealer.Seal(ctx, srpSimContext(poolID), fresh)
	if err != nil {
		return nil, internal("seal SRP simulation key", err)
	}
	stored, err := s.Store.EnsurePoolSecret(ctx, poolID, srpSimulationSecret, sealed)
	if isNotFound(err) {
		return nil, poolNotFound(poolID)
	}
	if err != nil {
		return nil, internal("store SRP simulation key", err)
	}
	key, err := s.Sealer.Open(ctx, srpSimContext(poolID), stored)
	if err != nil {
		return nil, internal("open SRP simulation key", err)
	}
	x := new(big.Int).SetBytes(simDerive(key, "verifier", ""))
	sim = &srpSim{key: key, v: srpVerifier(x)}
	s.srp.mu.Lock()
	if s.srp.sims == nil {
		s.srp.sims = map[string]*srpSim{}
	}
	s.srp.sims[poolID] = sim
	s.srp.mu.Unlock()
	return sim, nil
}

// simDerive is HMAC-SHA256(key, label ‖ 0 ‖ name).
func simDerive(key []byte, label, name string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(name))
	return m.Sum(nil)
}

// simUUID formats 16 derived bytes as a version-4 UUID.
func simUUID(b []byte) string {
	b = append([]byte(nil), b[:16]...)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// srpAuth is InitiateAuth's (and AdminInitiateAuth's) USER_SRP_AUTH.
func (s *Service) srpAuth(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, params map[string]behalf.Secret) (*behalf.AuthResult, error) {
	name, srpA := params[paramUsername].Reveal(), params[paramSRPA].Reveal()
	if name == "" {
		return nil, invalidParameter("Missing required parameter USERNAME")
	}
	if srpA == "" {
		return nil, invalidParameter("Missing required parameter SRP_A")
	}
	if len(name) > 4*maxUsernameLength {
		return nil, invalidParameter("USERNAME is too long.")
	}
	if err := s.checkSecretHash(ctx, client, params[paramSecretHash], name); err != nil {
		return nil, err
	}
	a, ok := parseSRPInt(srpA, maxSRPAHex)
	if !ok || new(big.Int).Mod(a, srpN).Sign() == 0 {
		return nil, invalidParameter("SRP_A is invalid.")
	}
	u, err := s.findUser(ctx, pool, name)
	if err != nil && !isNotFound(err) {
		return nil, internal("get user", err)
	}
	lock := lockoutKey(pool.ID, name)
	if u != nil {
		lock = lockoutKey(pool.ID, u.Username)
	}
	l, err := s.lockout(ctx, pool.ID, lock)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if locked(l, now) {
		return nil, notAuthorized(msgAttemptsExceeded)
	}
	salt, v, real, err := s.srpVerifierOf(ctx, u)
	if err != nil {
		return nil, err
	}
	sim, err := s.srpSimFor(ctx, pool.ID)
	if err != nil {
		return nil, err
	}
	blk := srpBlock{Pool: pool.ID, Client: client.ID, Login: name, Lock: lock, Expires: now.Add(s.sessionValidity()).UnixMilli()}
	if real {
		blk.User, blk.Sub, blk.Fingerprint, blk.UserID = u.Username, u.Sub, passwordFingerprint(u.PasswordHash), u.Username
	} else {
		salt = new(big.Int).SetBytes(simDerive(sim.key, "salt", name)[:srpSaltBytes])
		v = sim.v
		blk.UserID = name
		if aliasAttribute(pool, name) != "" {
			blk.UserID = simUUID(simDerive(sim.key, "user", name))
		}
	}
	bb := make([]byte, srpSecretBytes)
	var b, bigB, uu *big.Int
	for {
		rand.Read(bb)
		b = new(big.Int).SetBytes(bb)
		bigB = srpServerB(v, b)
		uu = srpU(a, bigB)
		if b.Sign() != 0 && bigB.Sign() != 0 && uu.Sign() != 0 {
			break
		}
	}
	id := make([]byte, 16)
	rand.Read(id)
	blk.ID, blk.A, blk.U, blk.B = base64.RawURLEncoding.EncodeToString(id), a.Bytes(), uu.Bytes(), b.Bytes()
	raw, err := json.Marshal(blk)
	if err != nil {
		return nil, internal("encode secret block", err)
	}
	sealed, err := s.Sealer.Seal(ctx, srpBlockContext(client.ID), raw)
	if err != nil {
		return nil, internal("seal secret block", err)
	}
	return &behalf.AuthResult{
		ChallengeName: challengePasswordVerifier,
		ChallengeParameters: map[string]string{
			paramSalt: salt.Text(16), paramSRPB: bigB.Text(16), paramSecretBlock: base64.StdEncoding.EncodeToString(sealed),
			paramUserIDForSRP: blk.UserID, paramUsername: blk.UserID,
		},
	}, nil
}

// openSRPBlock opens a SECRET_BLOCK of client; ok is false for anything
// that is not one Behalf issued to this client and pool.
func (s *Service) openSRPBlock(ctx context.Context, client *behalf.AppClient, text string) (*srpBlock, []byte, bool) {
	if text == "" || len(text) > maxSecretBlockLength {
		return nil, nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, nil, false
	}
	b, err := s.Sealer.Open(ctx, srpBlockContext(client.ID), raw)
	if err != nil {
		return nil, nil, false
	}
	var blk srpBlock
	if json.Unmarshal(b, &blk) != nil || blk.Client != client.ID || blk.Pool != client.PoolID || blk.ID == "" {
		return nil, nil, false
	}
	return &blk, raw, true
}

// respondPasswordVerifier answers PASSWORD_VERIFIER.
func (s *Service) respondPasswordVerifier(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, responses map[string]behalf.Secret) (*behalf.AuthResult, error) {
	name := responses[paramUsername].Reveal()
	blockText := responses[paramClaimSecretBlock].Reveal()
	sigText := responses[paramClaimSignature].Reveal()
	ts := responses[paramTimestamp].Reveal()
	for _, p := range []struct{ name, value string }{
		{paramUsername, name}, {paramClaimSecretBlock, blockText}, {paramClaimSignature, sigText}, {paramTimestamp, ts},
	} {
		if p.value == "" {
			return nil, invalidParameter("Missing required parameter %s", p.name)
		}
	}
	if err := s.checkSecretHash(ctx, client, responses[paramSecretHash], name); err != nil {
		return nil, err
	}
	incorrect := notAuthorized(msgIncorrect)
	blk, blockBytes, ok := s.openSRPBlock(ctx, client, blockText)
	if !ok {
		return nil, incorrect
	}
	now := s.now()
	if !now.Before(time.UnixMilli(blk.Expires)) {
		return nil, notAuthorized(msgSessionInvalid)
	}
	if (name != blk.UserID && name != blk.Login) || !srpTimestampOK(ts) || len(ts) > 64 {
		return nil, incorrect
	}
	l, err := s.lockout(ctx, pool.ID, blk.Lock)
	if err != nil {
		return nil, err
	}
	if locked(l, now) {
		return nil, notAuthorized(msgAttemptsExceeded)
	}
	sim, err := s.srpSimFor(ctx, pool.ID)
	if err != nil {
		return nil, err
	}
	// The block is spent by this one attempt, right or wrong (its record,
	// a disk write, is made while the arithmetic runs): a block answers
	// one signature, once.
	spent := make(chan error, 1)
	go func() { spent <- s.Store.UsePoolNonce(ctx, pool.ID, "srp:"+blk.ID, time.UnixMilli(blk.Expires)) }()
	// The user, if the challenge was real and it still stands with the
	// password it was challenged with; else the simulated verifier, and
	// the signature cannot match.
	// A simulated challenge reads the name typed, so that both do the same
	// store work; what it finds is not used.
	target := blk.User
	if target == "" {
		target = blk.Login
	}
	u, err := s.Store.GetPoolUser(ctx, pool.ID, target)
	if err != nil && !isNotFound(err) {
		return nil, internal("get user", err)
	}
	v, real := sim.v, false
	if blk.User != "" && u != nil && u.Sub == blk.Sub && passwordFingerprint(u.PasswordHash) == blk.Fingerprint {
		if _, uv, ok, err := s.srpVerifierOf(ctx, u); err != nil {
			return nil, err
		} else if ok {
			v, real = uv, true
		}
	}
	a, uu, b := new(big.Int).SetBytes(blk.A), new(big.Int).SetBytes(blk.U), new(big.Int).SetBytes(blk.B)
	wellFormed := a.Sign() > 0 && uu.Sign() > 0 && b.Sign() > 0
	var match bool
	if wellFormed {
		key := srpKey(srpServerS(a, v, uu, b), uu)
		want := srpSignature(key, srpPoolName(pool.ID), blk.UserID, blockBytes, ts)
		got, err := base64.StdEncoding.DecodeString(sigText)
		match = err == nil && hmac.Equal(got, want)
	}
	// A block spent before (a replay) counts no failure: its first use did.
	if err := <-spent; isConflict(err) || isNotFound(err) {
		return nil, incorrect
	} else if err != nil {
		return nil, internal("spend secret block", err)
	}
	if !wellFormed {
		return nil, internal("decode secret block", fmt.Errorf("bad record"))
	}
	if !match || !real {
		if err := s.recordFailure(ctx, pool.ID, blk.Lock, now); err != nil {
			return nil, err
		}
		return nil, incorrect
	}
	if l != nil && mfaChallenge(pool, u) == "" {
		if err := s.Store.DeletePoolLockout(ctx, pool.ID, blk.Lock); err != nil {
			return nil, internal("reset lockout", err)
		}
	}
	if err := checkUsable(pool, u, now); err != nil {
		return nil, err
	}
	switch u.Status {
	case behalf.UserConfirmed:
		return s.signedIn(ctx, pool, client, u, blk.Login)
	case behalf.UserForceChangePassword:
		return s.newPasswordChallenge(ctx, pool, client, u, blk.Login)
	}
	return nil, statusError(u.Status)
}

// DeleteExpiredNonces deletes the spent single-use values (SRP secret
// blocks), in every pool, that expired more than grace ago, and returns
// how many. An expired block is refused anyway, so this only bounds the
// table; grace allows for replicas' clocks that differ.
func (s *Service) DeleteExpiredNonces(ctx context.Context, grace time.Duration) (int, error) {
	n, err := s.Store.DeleteExpiredPoolNonces(ctx, s.now().Add(-grace))
	if err != nil {
		return 0, internal("delete expired nonces", err)
	}
	return n, nil
}
