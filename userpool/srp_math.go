package userpool

import (
	"crypto/hmac"
	"crypto/sha256"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"
)

// The SRP-6a arithmetic of Cognito's USER_SRP_AUTH, exactly as
// amazon-cognito-identity-js (AuthenticationHelper) and Amplify compute
// it: the 3072-bit group of RFC 5054 with g = 2, SHA-256, and the
// libraries' quirks, which a server must reproduce bit for bit:
//
//   - padHex: every integer that is hashed is encoded as its minimal
//     two's-complement big-endian bytes (Java's BigInteger.toByteArray),
//     never left-padded to the size of N as RFC 5054's PAD() would;
//   - k = H(padHex(N) ‖ padHex(g)), u = H(padHex(A) ‖ padHex(B));
//   - x = H(padHex(salt) ‖ H(poolName ‖ username ‖ ":" ‖ password)), the
//     inner hash over UTF-8, the salt as the integer the client parsed
//     from SALT (so a stored salt with a leading 00 byte is hashed
//     without it);
//   - the key is HKDF-SHA256(IKM = padHex(S), salt = padHex(u),
//     info = "Caldera Derived Key"), 16 bytes;
//   - the claim signature is HMAC-SHA256(key, poolName ‖ username ‖
//     SECRET_BLOCK bytes ‖ TIMESTAMP), standard base64.
//
// poolName is what follows the first "_" of the pool id, username is
// USER_ID_FOR_SRP (the user's username, not the alias typed).
//
// math/big is not constant-time. Its exponentiations here are g^b and
// (A·v^u)^b with b fresh and random for each challenge, never reused, and
// v^u with a public exponent; the secrets that last (the verifier v and
// the key) are never branched on, and the signature is compared with
// hmac.Equal.

// srpNHex is RFC 5054's 3072-bit prime (initN in AuthenticationHelper.js).
const srpNHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1" +
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245" +
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D" +
	"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
	"83655D23DCA3AD961C62F356208552BB9ED529077096966D" +
	"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9" +
	"DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
	"15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64" +
	"ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B" +
	"F12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
	"BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31" +
	"43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

// srpInfo is the HKDF info of the password authentication key.
const srpInfo = "Caldera Derived Key"

// srpTimestampLayout is TIMESTAMP's format ("Tue Jan 6 09:05:03 UTC 2026":
// the day without a leading zero).
const srpTimestampLayout = "Mon Jan 2 15:04:05 UTC 2006"

// srpSecretBytes is the size of the server's secret exponent b: 256 bits,
// as RFC 5054 asks at least, for a 128-bit security level.
const srpSecretBytes = 32

var (
	srpN = mustHex(srpNHex)
	srpG = big.NewInt(2)
	srpK = new(big.Int).SetBytes(srpHash(padHex(srpN), padHex(srpG)))
)

// mustHex parses a constant hex integer.
func mustHex(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("userpool: bad hex constant")
	}
	return n
}

// padHex is the libraries' padHex as bytes: the minimal big-endian bytes
// of x ≥ 0, with a 00 byte in front when the top bit is set.
func padHex(x *big.Int) []byte {
	b := x.Bytes()
	if len(b) == 0 {
		return []byte{0}
	}
	if b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

// srpHash is SHA-256 of the concatenation of parts.
func srpHash(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// srpPoolName is the part of a pool id after its first "_".
func srpPoolName(poolID string) string {
	_, name, _ := strings.Cut(poolID, "_")
	return name
}

// srpX is the private key x of a password.
func srpX(poolName, username string, password []byte, salt *big.Int) *big.Int {
	inner := srpHash([]byte(poolName), []byte(username), []byte(":"), password)
	return new(big.Int).SetBytes(srpHash(padHex(salt), inner))
}

// srpVerifier is v = g^x mod N.
func srpVerifier(x *big.Int) *big.Int {
	return new(big.Int).Exp(srpG, x, srpN)
}

// srpServerB is B = (k·v + g^b) mod N.
func srpServerB(v, b *big.Int) *big.Int {
	gb := new(big.Int).Exp(srpG, b, srpN)
	kv := new(big.Int).Mul(srpK, v)
	return kv.Add(kv, gb).Mod(kv, srpN)
}

// srpU is u = H(padHex(A) ‖ padHex(B)).
func srpU(a, b *big.Int) *big.Int {
	return new(big.Int).SetBytes(srpHash(padHex(a), padHex(b)))
}

// srpServerS is the server's S = (A · v^u)^b mod N.
func srpServerS(a, v, u, b *big.Int) *big.Int {
	base := new(big.Int).Exp(v, u, srpN)
	base.Mul(base, a).Mod(base, srpN)
	return base.Exp(base, b, srpN)
}

// srpKey is the 16-byte password authentication key of S and u.
func srpKey(s, u *big.Int) []byte {
	key := make([]byte, 16)
	r := hkdf.New(sha256.New, padHex(s), padHex(u), []byte(srpInfo))
	if _, err := r.Read(key); err != nil {
		panic("userpool: hkdf: " + err.Error()) // 16 bytes never exceed HKDF's limit
	}
	return key
}

// srpSignature is the expected PASSWORD_CLAIM_SIGNATURE, raw.
func srpSignature(key []byte, poolName, username string, secretBlock []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(poolName))
	m.Write([]byte(username))
	m.Write(secretBlock)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// srpTimestampOK reports whether ts is exactly in the clients' format: a
// real date whose weekday matches, the day without a leading zero.
// (time.Parse alone accepts "06" and a wrong weekday.)
func srpTimestampOK(ts string) bool {
	t, err := time.Parse(srpTimestampLayout, ts)
	return err == nil && t.Format(srpTimestampLayout) == ts
}

// maxSRPAHex bounds SRP_A: an integer below N has at most 768 hex digits;
// a few more allow leading zeros.
const maxSRPAHex = 800

// parseSRPInt parses an unpadded hex integer of at most maxHex digits
// (SRP_A: the clients send toString(16), which may have odd length).
func parseSRPInt(s string, maxHex int) (*big.Int, bool) {
	if s == "" || len(s) > maxHex {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return nil, false
		}
	}
	return new(big.Int).SetString(s, 16)
}
