// Package randid makes unguessable identifiers from crypto/rand.
package randid

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Hex returns n random bytes, hex-encoded.
func Hex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails on supported platforms (Go 1.24+ panics instead)
	return hex.EncodeToString(b)
}

// Upper returns a random string of n characters from A-Z and 2-7.
func Upper(n int) string {
	b := make([]byte, (n*5+7)/8)
	rand.Read(b)
	return b32.EncodeToString(b)[:n]
}

// Alnum returns a random string of n characters from a-zA-Z0-9.
func Alnum(n int) string {
	return alnum(n)
}

func alnum(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var sb strings.Builder
	buf := make([]byte, 1)
	for sb.Len() < n {
		rand.Read(buf)
		if int(buf[0]) < 248 { // 248 = 62*4: reject to avoid modulo bias
			sb.WriteByte(chars[int(buf[0])%62])
		}
	}
	return sb.String()
}
