package userpool

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/behalf-dev/behalf"
	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id cost parameters.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
}

// DefaultHashParams is OWASP's headline argon2id recommendation: 19 MiB,
// two passes, one lane.
var DefaultHashParams = HashParams{Memory: 19456, Time: 2, Threads: 1}

// Sizes of new hashes, and the bounds a parsed hash must respect. The upper
// bounds stop a corrupted row from costing gigabytes or minutes to verify.
const (
	saltSize     = 16
	keySize      = 32
	minSaltSize  = 8
	maxSaltSize  = 64
	minKeySize   = 16
	maxKeySize   = 64
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	phcAlgorithm = "argon2id"
	phcVersion   = "v=19"
)

// b64 is the PHC string format's base64: standard alphabet, no padding,
// zero trailing bits.
var b64 = base64.RawStdEncoding.Strict()

// PHC is a parsed argon2id hash in PHC string format.
type PHC struct {
	Params HashParams
	Salt   []byte
	Key    []byte
}

// String encodes h as $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>.
func (h PHC) String() string {
	return fmt.Sprintf("$%s$%s$m=%d,t=%d,p=%d$%s$%s", phcAlgorithm, phcVersion,
		h.Params.Memory, h.Params.Time, h.Params.Threads,
		b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// Validate reports whether p are usable argon2id parameters within
// Behalf's bounds.
func (p HashParams) Validate() error {
	switch {
	case p.Threads < 1:
		return errors.New("argon2id: p must be at least 1")
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id: t must be between 1 and %d", maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("argon2id: m must be between 8*p and %d KiB", maxMemoryKiB)
	}
	return nil
}

// ParsePHC parses an argon2id hash in PHC string format, strictly: the
// only form accepted is the one String produces, with bounded parameters
// and sizes.
func ParsePHC(s string) (PHC, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return PHC{}, errors.New("phc: want $argon2id$v=19$m=,t=,p=$salt$key")
	}
	if parts[1] != phcAlgorithm || parts[2] != phcVersion {
		return PHC{}, errors.New("phc: not an argon2id v=19 hash")
	}
	params, err := parseParams(parts[3])
	if err != nil {
		return PHC{}, err
	}
	salt, err := decodeB64(parts[4], minSaltSize, maxSaltSize)
	if err != nil {
		return PHC{}, fmt.Errorf("phc: salt: %w", err)
	}
	key, err := decodeB64(parts[5], minKeySize, maxKeySize)
	if err != nil {
		return PHC{}, fmt.Errorf("phc: key: %w", err)
	}
	return PHC{Params: params, Salt: salt, Key: key}, nil
}

// parseParams parses "m=<n>,t=<n>,p=<n>", in that order.
func parseParams(s string) (HashParams, error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return HashParams{}, errors.New("phc: want m=,t=,p=")
	}
	var nums [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return HashParams{}, fmt.Errorf("phc: parameter %d must be %s", i+1, name)
		}
		n, err := parseDecimal(v)
		if err != nil {
			return HashParams{}, fmt.Errorf("phc: %s: %w", name, err)
		}
		nums[i] = n
	}
	if nums[0] > maxMemoryKiB || nums[1] > maxTime || nums[2] > 255 {
		return HashParams{}, errors.New("phc: parameters out of range")
	}
	p := HashParams{Memory: uint32(nums[0]), Time: uint32(nums[1]), Threads: uint8(nums[2])}
	if err := p.Validate(); err != nil {
		return HashParams{}, fmt.Errorf("phc: %w", err)
	}
	return p, nil
}

// parseDecimal parses a canonical decimal: digits only, no leading zero,
// at most 10 digits.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, errors.New("not a canonical number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a canonical number")
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// decodeB64 decodes unpadded standard base64 of min to max bytes. Line
// breaks, which the decoder would skip, are refused.
func decodeB64(s string, min, max int) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("invalid base64")
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %w", err)
	}
	if len(b) < min || len(b) > max {
		return nil, fmt.Errorf("want %d to %d bytes, got %d", min, max, len(b))
	}
	return b, nil
}

// HashPassword hashes password with argon2id under p, with a random
// 16-byte salt and a 32-byte key, and returns the PHC string. It is
// deliberately slow: Service bounds how many run at once.
func HashPassword(password behalf.Secret, p HashParams) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password.Reveal()), salt, p.Time, p.Memory, p.Threads, keySize)
	return PHC{Params: p, Salt: salt, Key: key}.String(), nil
}

// VerifyPassword reports whether password matches the PHC string hash,
// comparing keys in constant time. It returns an error only for a hash it
// cannot parse.
func VerifyPassword(hash string, password behalf.Secret) (bool, error) {
	h, err := ParsePHC(hash)
	if err != nil {
		return false, err
	}
	return h.Matches(password), nil
}

// Matches reports whether password hashes to h's key under h's salt and
// parameters, comparing in constant time.
func (h PHC) Matches(password behalf.Secret) bool {
	key := argon2.IDKey([]byte(password.Reveal()), h.Salt, h.Params.Time, h.Params.Memory, h.Params.Threads, uint32(len(h.Key)))
	return subtle.ConstantTimeCompare(key, h.Key) == 1
}
