package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Supported signing algorithms.
const (
	EdDSA = "EdDSA" // Ed25519
	ES256 = "ES256" // ECDSA P-256 with SHA-256
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys
	PS256 = "PS256" // RSASSA-PSS with SHA-256, 2048-bit keys
)

// rsaBits is the modulus size of generated RSA keys.
const rsaBits = 2048

// Seal context of a signing key's private half.
const (
	sealKind  = "signing-key"
	sealField = "private"
)

// sealContext binds a private key to its key id.
func sealContext(kid string) behalf.SealContext {
	return behalf.SealContext{Kind: sealKind, Key: kid, Field: sealField}
}

// signatureAlgorithm maps a supported algorithm name to jwx's value.
func signatureAlgorithm(name string) (jwa.SignatureAlgorithm, error) {
	switch name {
	case EdDSA:
		return jwa.EdDSA(), nil
	case ES256:
		return jwa.ES256(), nil
	case RS256:
		return jwa.RS256(), nil
	case PS256:
		return jwa.PS256(), nil
	}
	return jwa.SignatureAlgorithm{}, fmt.Errorf("signer: unsupported algorithm %q (want %s, %s, %s or %s)", name, EdDSA, ES256, RS256, PS256)
}

// pubKey is a published verification key.
type pubKey struct {
	id        string
	alg       jwa.SignatureAlgorithm
	key       jwk.Key // public only
	active    bool
	createdAt time.Time
	retireAt  time.Time
}

// publishedAt reports whether the key is published (not retired) at t.
func (k *pubKey) publishedAt(t time.Time) bool {
	return k.retireAt.IsZero() || t.Before(k.retireAt)
}

// privKey is the key new tokens are signed with.
type privKey struct {
	id  string
	alg jwa.SignatureAlgorithm
	key jwk.Key // private, with kid
	// raw is the parsed key signing uses: an RSA key keeps its CRT values,
	// which converting key back on every signature would recompute.
	raw crypto.Signer
	// header is the encoded protected header of the tokens the key signs
	// (alg, kid, typ JWT), for signCompact.
	header string
}

// signCompact signs payload as a compact JWS with an EdDSA or RS256 key
// directly, as jws.Sign would (the header built once per key, not on every
// signature); ok is false for other keys, which jws.Sign signs.
func (k *privKey) signCompact(payload []byte) (string, bool, error) {
	var opts crypto.SignerOpts
	switch {
	case k.header == "":
		return "", false, nil
	case k.alg == jwa.EdDSA():
		opts = crypto.Hash(0)
	case k.alg == jwa.RS256():
		if _, ok := k.raw.(*rsa.PrivateKey); !ok {
			return "", false, nil
		}
		opts = crypto.SHA256
	default:
		return "", false, nil
	}
	enc := base64.RawURLEncoding
	b := make([]byte, 0, len(k.header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(512))
	b = append(b, k.header...)
	b = append(b, '.')
	b = enc.AppendEncode(b, payload)
	msg := b
	if opts == crypto.SHA256 {
		sum := sha256.Sum256(b)
		msg = sum[:]
	}
	sig, err := k.raw.Sign(rand.Reader, msg, opts)
	if err != nil {
		return "", true, fmt.Errorf("signer: sign with key %s: %w", k.id, err)
	}
	b = append(b, '.')
	b = enc.AppendEncode(b, sig)
	return string(b), true, nil
}

// compactHeader returns the encoded protected header for key id under alg.
func compactHeader(alg jwa.SignatureAlgorithm, id string) (string, error) {
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg.String(), id, "JWT"})
	if err != nil {
		return "", fmt.Errorf("signer: header of key %s: %w", id, err)
	}
	return base64.RawURLEncoding.EncodeToString(h), nil
}

// generate creates a new private key for alg.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256, PS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return nil, fmt.Errorf("signer: unsupported algorithm %q", alg)
}

// fitsAlgorithm reports whether a raw private key is of the type alg needs.
func fitsAlgorithm(raw any, alg string) bool {
	switch k := raw.(type) {
	case ed25519.PrivateKey:
		return alg == EdDSA
	case *ecdsa.PrivateKey:
		return alg == ES256 && k.Curve == elliptic.P256()
	case *rsa.PrivateKey:
		return (alg == RS256 || alg == PS256) && k.N.BitLen() >= rsaBits
	}
	return false
}

// newRecord generates a key for use and alg and returns its store record,
// with the private half sealed.
func newRecord(ctx context.Context, sealer behalf.Sealer, use, alg string, now time.Time) (*behalf.SigningKey, error) {
	raw, err := generate(alg)
	if err != nil {
		return nil, fmt.Errorf("signer: generate %s key: %w", alg, err)
	}
	pub, err := publicJWK(raw.Public(), alg)
	if err != nil {
		return nil, err
	}
	kid, _ := pub.KeyID()
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("signer: encode public key: %w", err)
	}
	sealed, err := sealPrivate(ctx, sealer, kid, raw)
	if err != nil {
		return nil, err
	}
	return &behalf.SigningKey{
		ID: kid, Use: use, Algorithm: alg, Private: sealed, PublicJWK: pubJSON,
		Active: true, CreatedAt: now,
	}, nil
}

// publicJWK returns the public JWK of raw with kid (its thumbprint), alg
// and use "sig" set.
func publicJWK(raw crypto.PublicKey, alg string) (jwk.Key, error) {
	pub, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("signer: import public key: %w", err)
	}
	kid, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: alg, jwk.KeyUsageKey: jwk.ForSignature} {
		if err := pub.Set(name, v); err != nil {
			return nil, fmt.Errorf("signer: set %s: %w", name, err)
		}
	}
	return pub, nil
}

// thumbprint returns the RFC 7638 SHA-256 thumbprint of k, base64url.
func thumbprint(k jwk.Key) (string, error) {
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("signer: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// sealPrivate serializes raw as PKCS #8 and seals it under kid.
func sealPrivate(ctx context.Context, sealer behalf.Sealer, kid string, raw crypto.Signer) (behalf.Sealed, error) {
	der, err := x509.MarshalPKCS8PrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("signer: encode private key: %w", err)
	}
	defer clear(der)
	sealed, err := sealer.Seal(ctx, sealContext(kid), der)
	if err != nil {
		return nil, fmt.Errorf("signer: seal private key %s: %w", kid, err)
	}
	return sealed, nil
}

// parsePublic parses and checks a stored record's public JWK: its kid and
// alg must be the record's, and only its public half is kept, so a record
// that wrongly holds private parameters never publishes them.
func parsePublic(rec *behalf.SigningKey) (*pubKey, error) {
	alg, err := signatureAlgorithm(rec.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("signer: key %s: %w", rec.ID, err)
	}
	parsed, err := jwk.ParseKey(rec.PublicJWK)
	if err != nil {
		return nil, fmt.Errorf("signer: key %s: parse public JWK: %w", rec.ID, err)
	}
	pub, err := jwk.PublicKeyOf(parsed)
	if err != nil {
		return nil, fmt.Errorf("signer: key %s: public half: %w", rec.ID, err)
	}
	if kid, _ := pub.KeyID(); kid != rec.ID {
		return nil, fmt.Errorf("signer: key %s: public JWK has kid %q", rec.ID, kid)
	}
	if a, _ := pub.Algorithm(); a == nil || a.String() != rec.Algorithm {
		return nil, fmt.Errorf("signer: key %s: public JWK alg does not match %s", rec.ID, rec.Algorithm)
	}
	return &pubKey{id: rec.ID, alg: alg, key: pub, active: rec.Active, createdAt: rec.CreatedAt, retireAt: rec.RetireAt}, nil
}

// openPrivate unseals a record's private key and checks that it is the
// private half of pub and of the record's algorithm.
func openPrivate(ctx context.Context, sealer behalf.Sealer, rec *behalf.SigningKey, pub *pubKey) (*privKey, error) {
	der, err := sealer.Open(ctx, sealContext(rec.ID), rec.Private)
	if err != nil {
		return nil, fmt.Errorf("signer: open private key %s: %w", rec.ID, err)
	}
	defer clear(der)
	raw, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signer: parse private key %s: %w", rec.ID, err)
	}
	if !fitsAlgorithm(raw, rec.Algorithm) {
		return nil, fmt.Errorf("signer: private key %s is not a %s key", rec.ID, rec.Algorithm)
	}
	priv, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("signer: import private key %s: %w", rec.ID, err)
	}
	if err := samePublic(priv, pub.key); err != nil {
		return nil, fmt.Errorf("signer: private key %s: %w", rec.ID, err)
	}
	if err := priv.Set(jwk.KeyIDKey, rec.ID); err != nil {
		return nil, fmt.Errorf("signer: private key %s: set kid: %w", rec.ID, err)
	}
	signer, ok := raw.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signer: private key %s cannot sign", rec.ID)
	}
	header, err := compactHeader(pub.alg, rec.ID)
	if err != nil {
		return nil, err
	}
	return &privKey{id: rec.ID, alg: pub.alg, key: priv, raw: signer, header: header}, nil
}

// samePublic checks that priv is the private half of pub.
func samePublic(priv, pub jwk.Key) error {
	a, err := thumbprint(priv)
	if err != nil {
		return err
	}
	b, err := thumbprint(pub)
	if err != nil {
		return err
	}
	if a != b {
		return errors.New("does not match its public key")
	}
	return nil
}
