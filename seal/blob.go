package seal

import (
	"encoding/binary"
	"errors"
)

const (
	blobVersion = 1
	adLabel     = "behalf-seal-v1"
	nonceSize   = 12
	tagSize     = 16
	maxKeyIDLen = 255
)

// Errors for malformed sealed values. They say what is wrong with the blob
// and never include its bytes.
var (
	errShortBlob   = errors.New("sealed value too short")
	errBlobVersion = errors.New("unknown sealed value version")
	errAuthFailed  = errors.New("message authentication failed")
	errEmptyKeyID  = errors.New("sealed value names no data key")
	errEmptyKind   = errors.New("seal context has no kind")
	errEmptyKey    = errors.New("seal context has no key")
	errEmptyField  = errors.New("seal context has no field")
	errKeyIDLength = errors.New("data key id is empty or longer than 255 bytes")
)

// blobHeader returns the blob prefix naming keyID, with capacity for n more
// bytes.
func blobHeader(keyID string, n int) []byte {
	b := make([]byte, 0, 2+len(keyID)+n)
	b = append(b, blobVersion, byte(len(keyID)))
	return append(b, keyID...)
}

// parseBlob splits a sealed value into its data key id and the nonce,
// ciphertext and tag that follow.
func parseBlob(b []byte) (keyID string, body []byte, err error) {
	if len(b) < 2 {
		return "", nil, errShortBlob
	}
	if b[0] != blobVersion {
		return "", nil, errBlobVersion
	}
	n := int(b[1])
	if n == 0 {
		return "", nil, errEmptyKeyID
	}
	if len(b) < 2+n+nonceSize+tagSize {
		return "", nil, errShortBlob
	}
	return string(b[2 : 2+n]), b[2+n:], nil
}

// associatedData binds a value to its record and data key: the label, the
// context's kind, key and field, and keyID, each prefixed by its length.
func associatedData(kind, key, field, keyID string) []byte {
	parts := [...]string{adLabel, kind, key, field, keyID}
	n := 0
	for _, p := range parts {
		n += 4 + len(p)
	}
	ad := make([]byte, 0, n)
	for _, p := range parts {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(p)))
		ad = append(ad, p...)
	}
	return ad
}
