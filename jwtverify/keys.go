package jwtverify

import (
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Algorithms returns the signature algorithms Verify accepts.
func Algorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}
}

// allowedAlgorithm returns jwx's value for an allowed algorithm name.
func allowedAlgorithm(name string) (jwa.SignatureAlgorithm, error) {
	switch name {
	case "RS256":
		return jwa.RS256(), nil
	case "RS384":
		return jwa.RS384(), nil
	case "RS512":
		return jwa.RS512(), nil
	case "PS256":
		return jwa.PS256(), nil
	case "ES256":
		return jwa.ES256(), nil
	case "ES384":
		return jwa.ES384(), nil
	case "EdDSA":
		return jwa.EdDSA(), nil
	}
	return jwa.SignatureAlgorithm{}, fmt.Errorf("algorithm %q is not allowed", name)
}

// verificationKey checks that key may verify a signature made with alg
// (it is a signature key, its own alg, if any, is alg, and its type and
// curve fit) and returns its public half.
func verificationKey(key jwk.Key, alg jwa.SignatureAlgorithm) (jwk.Key, error) {
	if jwk.IsUnsupportedKey(key) {
		return nil, errors.New("key type is not supported")
	}
	if err := checkKeyParams(key, alg); err != nil {
		return nil, err
	}
	pub, err := jwk.PublicKeyOf(key)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	if want, got := keyShape(alg), shapeOf(pub); want != got {
		return nil, fmt.Errorf("%s needs a %s key, not %s", alg, want, got)
	}
	return pub, nil
}

// checkKeyParams checks key's use and alg parameters against alg.
func checkKeyParams(key jwk.Key, alg jwa.SignatureAlgorithm) error {
	if use, ok := key.KeyUsage(); ok && use != "" && use != jwk.ForSignature.String() {
		return fmt.Errorf("key is for use %q, not sig", use)
	}
	if ka, ok := key.Algorithm(); ok && ka.String() != alg.String() {
		return fmt.Errorf("key is for %s, token says %s", ka, alg)
	}
	return nil
}

// keyShape names the key type (and curve) alg needs.
func keyShape(alg jwa.SignatureAlgorithm) string {
	switch alg.String() {
	case "ES256":
		return "EC P-256"
	case "ES384":
		return "EC P-384"
	case "EdDSA":
		return "OKP Ed25519"
	}
	return "RSA" // RS256, RS384, RS512, PS256
}

// shapeOf names key's type and curve in keyShape's terms.
func shapeOf(key jwk.Key) string {
	switch k := key.(type) {
	case jwk.RSAPublicKey:
		return "RSA"
	case jwk.ECDSAPublicKey:
		crv, _ := k.Crv()
		return "EC " + crv.String()
	case jwk.OKPPublicKey:
		crv, _ := k.Crv()
		return "OKP " + crv.String()
	}
	return key.KeyType().String()
}
