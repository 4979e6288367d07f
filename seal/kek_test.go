package seal_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/behalf-dev/behalf/seal"
	"gocloud.dev/secrets"
)

// roundTrip checks that what a encrypts, b decrypts.
func roundTrip(t *testing.T, a, b *secrets.Keeper) {
	t.Helper()
	ctx := context.Background()
	ct, err := a.Encrypt(ctx, []byte("data key"))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := b.Decrypt(ctx, ct)
	if err != nil || string(pt) != "data key" {
		t.Fatalf("Decrypt = %q, %v; want the other keeper's plaintext", pt, err)
	}
}

func TestLocalKEKCreatedPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	k, err := seal.OpenKeeper(context.Background(), "", dir)
	if err != nil {
		t.Fatalf("OpenKeeper: %v", err)
	}
	defer k.Close()
	path := filepath.Join(dir, seal.KEKFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("kek mode = %#o, want 0600", fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != 32 {
		t.Fatalf("kek file holds %d bytes (%v), want 32 in base64", len(raw), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("data dir holds %d entries, want only the kek", len(entries))
	}
}

func TestLocalKEKReused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := seal.OpenKeeper(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, seal.KEKFile)
	before, _ := os.ReadFile(path)
	second, err := seal.OpenKeeper(ctx, "", dir)
	if err != nil {
		t.Fatalf("second OpenKeeper: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("second OpenKeeper rewrote the kek file")
	}
	roundTrip(t, first, second)
}

func TestLocalKEKRace(t *testing.T) {
	dir := t.TempDir()
	keepers := make([]*secrets.Keeper, 8)
	var wg sync.WaitGroup
	for i := range keepers {
		wg.Go(func() {
			k, err := seal.OpenKeeper(context.Background(), "", dir)
			if err != nil {
				t.Error(err)
			}
			keepers[i] = k
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, k := range keepers[1:] {
		roundTrip(t, keepers[0], k)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("data dir holds %d entries, want only the kek", len(entries))
	}
}

func TestLocalKEKRefusesOpenMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := t.TempDir()
	if _, err := seal.OpenKeeper(context.Background(), "", dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, seal.KEKFile)
	key, _ := os.ReadFile(path)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := seal.OpenKeeper(context.Background(), "", dir)
	if err == nil {
		t.Fatal("OpenKeeper accepted a 0644 kek file")
	}
	if !strings.Contains(err.Error(), "0644") || strings.Contains(err.Error(), strings.TrimSpace(string(key))) {
		t.Fatalf("error = %q; want the mode named and no key", err)
	}
}

func TestLocalKEKRefusesWrongLength(t *testing.T) {
	dir := t.TempDir()
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for _, content := range []string{short, "not base64!", ""} {
		if err := os.WriteFile(filepath.Join(dir, seal.KEKFile), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := seal.OpenKeeper(context.Background(), "", dir)
		if err == nil {
			t.Fatalf("OpenKeeper accepted kek %q", content)
		}
		if !strings.HasPrefix(err.Error(), "open key-encryption key: ") {
			t.Fatalf("error = %q, want the open key-encryption key: prefix", err)
		}
	}
}

func TestInlineKeyURL(t *testing.T) {
	ctx := context.Background()
	key := base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xab}, 32))
	a, err := seal.OpenKeeper(ctx, "base64key://"+key, "")
	if err != nil {
		t.Fatalf("OpenKeeper(base64key): %v", err)
	}
	b, err := seal.OpenKeeper(ctx, "base64key://"+key, "")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, a, b)
}

func TestInlineKeyURLErrorsHideKey(t *testing.T) {
	ctx := context.Background()
	key := base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xcd}, 32))
	for _, u := range []string{
		"base64key://" + key + "?x=1",
		"base64key://" + key + "%zz",
		"BASE64KEY://" + key + "%zz",
		"secrets+base64key://" + key + "%zz",
		"base64key://" + key[:20],
		"base64key://" + key + " ",
	} {
		_, err := seal.OpenKeeper(ctx, u, "")
		if err == nil {
			t.Errorf("OpenKeeper(%q) succeeded", u)
			continue
		}
		msg := err.Error()
		t.Logf("%s → %s", u[:12], msg)
		if strings.Contains(msg, key[:20]) {
			t.Errorf("error leaks the key: %s", msg)
		}
		if !strings.HasPrefix(msg, "open key-encryption key: base64key: ") {
			t.Errorf("error = %q, want the scheme named", msg)
		}
	}
}

func TestOtherURLs(t *testing.T) {
	if !secrets.DefaultURLMux().ValidKeeperScheme("awskms") {
		t.Fatal("awskms scheme not registered")
	}
	_, err := seal.OpenKeeper(context.Background(), "nosuch://key", "")
	if err == nil || !strings.HasPrefix(err.Error(), "open key-encryption key: ") {
		t.Fatalf("OpenKeeper(nosuch://) = %v", err)
	}
}
