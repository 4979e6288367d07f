// Package srpclient is the client side of Cognito's USER_SRP_AUTH, as
// amazon-cognito-identity-js's AuthenticationHelper computes it, written
// independently of the server side in package userpool: Behalf's tests
// sign in with it through the official Go SDK, which has no SRP helper.
package srpclient

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"
)

// nHex is RFC 5054's 3072-bit group prime; g is 2.
const nHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
	"83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
	"15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
	"BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

var (
	bigN, _ = new(big.Int).SetString(nHex, 16)
	bigG    = big.NewInt(2)
	bigK    = new(big.Int).SetBytes(hash(pad(bigN), pad(bigG)))
)

// pad is the library's padHex, as bytes.
func pad(x *big.Int) []byte {
	b := x.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

func hash(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// TimestampLayout is the TIMESTAMP format of the clients.
const TimestampLayout = "Mon Jan 2 15:04:05 UTC 2006"

// Client is one SRP sign-in: a fresh 1024-bit secret a, as the libraries
// draw it.
type Client struct {
	PoolID string
	a, A   *big.Int
}

// New starts a sign-in to pool poolID.
func New(poolID string) *Client {
	b := make([]byte, 128)
	rand.Read(b)
	a := new(big.Int).SetBytes(b)
	return &Client{PoolID: poolID, a: a, A: new(big.Int).Exp(bigG, a, bigN)}
}

// SRPA is the SRP_A auth parameter: A in lower-case hex, unpadded.
func (c *Client) SRPA() string { return c.A.Text(16) }

// Respond computes the PASSWORD_VERIFIER challenge responses for the
// challenge's parameters, the password and the time now: USERNAME,
// PASSWORD_CLAIM_SECRET_BLOCK, TIMESTAMP and PASSWORD_CLAIM_SIGNATURE.
func (c *Client) Respond(params map[string]string, password string, now time.Time) (map[string]string, error) {
	user := params["USER_ID_FOR_SRP"]
	salt, ok1 := new(big.Int).SetString(params["SALT"], 16)
	b, ok2 := new(big.Int).SetString(params["SRP_B"], 16)
	block, err := base64.StdEncoding.DecodeString(params["SECRET_BLOCK"])
	if !ok1 || !ok2 || err != nil || user == "" {
		return nil, errors.New("srpclient: malformed PASSWORD_VERIFIER parameters")
	}
	if new(big.Int).Mod(b, bigN).Sign() == 0 {
		return nil, errors.New("srpclient: B cannot be zero")
	}
	u := new(big.Int).SetBytes(hash(pad(c.A), pad(b)))
	if u.Sign() == 0 {
		return nil, errors.New("srpclient: U cannot be zero")
	}
	_, poolName, _ := strings.Cut(c.PoolID, "_")
	x := new(big.Int).SetBytes(hash(pad(salt), hash([]byte(poolName+user+":"+password))))
	// S = (B − k·g^x)^(a + u·x) mod N
	base := new(big.Int).Mul(bigK, new(big.Int).Exp(bigG, x, bigN))
	base.Sub(b, base).Mod(base, bigN)
	exp := new(big.Int).Add(c.a, new(big.Int).Mul(u, x))
	s := new(big.Int).Exp(base, exp, bigN)
	key := make([]byte, 16)
	if _, err := hkdf.New(sha256.New, pad(s), pad(u), []byte("Caldera Derived Key")).Read(key); err != nil {
		return nil, err
	}
	ts := now.UTC().Format(TimestampLayout)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(poolName))
	m.Write([]byte(user))
	m.Write(block)
	m.Write([]byte(ts))
	return map[string]string{
		"USERNAME": user, "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"], "TIMESTAMP": ts,
		"PASSWORD_CLAIM_SIGNATURE": base64.StdEncoding.EncodeToString(m.Sum(nil)),
	}, nil
}
