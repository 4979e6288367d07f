package seal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"gocloud.dev/secrets"
	_ "gocloud.dev/secrets/awskms"     // awskms:// key-encryption keys
	"gocloud.dev/secrets/localsecrets" // base64key:// and the local key file
)

// KEKFile is the name of the local key-encryption key file inside the data
// directory, used when no KMS URL is configured.
const KEKFile = "kek"

const (
	kekSize      = 32
	kekFileMode  = 0o600
	inlineScheme = localsecrets.Scheme // "base64key": the URL holds the key
)

// OpenKeeper opens the key-encryption key. With kmsURL empty it uses the
// local key file dataDir/kek, creating it with 32 random bytes and mode 0600
// on first use; otherwise it opens kmsURL (awskms://…, base64key://…) with
// gocloud.dev/secrets. Errors never contain a base64key:// URL's key.
func OpenKeeper(ctx context.Context, kmsURL string, dataDir string) (*secrets.Keeper, error) {
	if kmsURL == "" {
		key, err := loadOrCreateKEK(filepath.Join(dataDir, KEKFile))
		if err != nil {
			return nil, fmt.Errorf("open key-encryption key: %w", err)
		}
		return localsecrets.NewKeeper(key), nil
	}
	k, err := secrets.OpenKeeper(ctx, kmsURL)
	if err != nil {
		return nil, openURLError(kmsURL, err)
	}
	return k, nil
}

// openURLError describes a failure to open kmsURL. For an inline-key URL
// it names only the scheme and drops any message that could echo the key.
func openURLError(kmsURL string, err error) error {
	if !isInlineKeyURL(kmsURL) {
		return fmt.Errorf("open key-encryption key: %w", err)
	}
	msg := err.Error()
	var uerr *url.Error
	if errors.As(err, &uerr) || mayEchoKey(msg, kmsURL) {
		msg = "malformed URL"
	}
	// Not wrapped: the chain could carry the URL in a field.
	return fmt.Errorf("open key-encryption key: %s: %s", inlineScheme, msg)
}

// isInlineKeyURL reports whether u's scheme is base64key, in any case and
// with any of the "secrets+" prefixes gocloud.dev accepts.
func isInlineKeyURL(u string) bool {
	scheme, _, _ := strings.Cut(u, ":")
	return strings.HasSuffix(strings.ToLower(scheme), inlineScheme)
}

// mayEchoKey reports whether msg contains kmsURL or its key part.
func mayEchoKey(msg, kmsURL string) bool {
	_, rest, _ := strings.Cut(kmsURL, ":")
	rest = strings.TrimLeft(rest, "/")
	key, _, _ := strings.Cut(rest, "?")
	return strings.Contains(msg, kmsURL) || (key != "" && strings.Contains(msg, key))
}

// loadOrCreateKEK returns the key in path, creating the file first if it
// does not exist. Creation is exclusive: of racing processes one writes the
// key and the others read it.
func loadOrCreateKEK(path string) ([kekSize]byte, error) {
	key, err := readKEK(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	err = createKEK(path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return key, err
	}
	return readKEK(path)
}

// readKEK reads and checks the key file: a regular file, private to its
// owner, holding 32 bytes in standard base64.
func readKEK(path string) ([kekSize]byte, error) {
	var key [kekSize]byte
	f, err := os.Open(path)
	if err != nil {
		return key, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	if err := checkKEKMode(f, path); err != nil {
		return key, err
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return key, fmt.Errorf("read %s: %w", path, err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != kekSize {
		return key, fmt.Errorf("read %s: want %d bytes in standard base64", path, kekSize)
	}
	copy(key[:], raw)
	clear(raw)
	return key, nil
}

// checkKEKMode refuses a key file that is not a regular file or that its
// group or others may access.
func checkKEKMode(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s has mode %#o, want %#o (run: chmod 600 %s)", path, fi.Mode().Perm(), kekFileMode, path)
	}
	return nil
}

// createKEK writes a new random key to path. The key is written and synced
// to a private temporary file first and then hard-linked into place, so path
// never exists half-written; the link fails with fs.ErrExist if another
// process created path first.
func createKEK(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := writeTempKEK(dir)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// writeTempKEK writes a fresh key to a new mode-0600 file in dir and
// returns its name.
func writeTempKEK(dir string) (string, error) {
	var raw [kekSize]byte
	rand.Read(raw[:]) // never fails (Go 1.24+ panics instead)
	defer clear(raw[:])
	f, err := os.CreateTemp(dir, ".kek-*")
	if err != nil {
		return "", fmt.Errorf("create key file: %w", err)
	}
	name := f.Name()
	err = writeSync(f, base64.StdEncoding.EncodeToString(raw[:])+"\n")
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// writeSync writes s to f with mode 0600, syncs and closes it.
func writeSync(f *os.File, s string) error {
	err := f.Chmod(kekFileMode)
	if err == nil {
		_, err = f.WriteString(s)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a new directory entry durable, where directories can be
// synced; the key file itself is already on disk.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
