package seal_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/seal"
)

// The key-encryption key version methods of memKeys (see seal_test.go).

func (m *memKeys) CreateKEKVersion(ctx context.Context, v *behalf.KEKVersion) error {
	if err := m.begin(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.versions {
		if o.Version == v.Version {
			return behalf.Errorf(behalf.ECONFLICT, "version %d exists", v.Version)
		}
	}
	if v.State == behalf.KEKActive {
		for _, o := range m.versions {
			if o.State == behalf.KEKActive {
				o.State = behalf.KEKPrevious
			}
		}
	}
	c := *v
	m.versions = append(m.versions, &c)
	slices.SortFunc(m.versions, func(a, b *behalf.KEKVersion) int { return a.Version - b.Version })
	return nil
}

func (m *memKeys) ListKEKVersions(ctx context.Context) ([]*behalf.KEKVersion, error) {
	if err := m.begin(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*behalf.KEKVersion, len(m.versions))
	for i, v := range m.versions {
		c := *v
		out[i] = &c
	}
	return out, nil
}

func (m *memKeys) RetireKEKVersion(ctx context.Context, version int, at time.Time) error {
	if err := m.begin(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.versions {
		if v.Version != version {
			continue
		}
		switch v.State {
		case behalf.KEKRetired:
			return nil
		case behalf.KEKActive:
			return behalf.Errorf(behalf.ECONFLICT, "version %d is active", version)
		}
		for _, k := range m.keys {
			if k.KEKVersion == version {
				return behalf.Errorf(behalf.ECONFLICT, "version %d wraps data keys", version)
			}
		}
		v.State, v.RetiredAt = behalf.KEKRetired, at
		return nil
	}
	return behalf.Errorf(behalf.ENOTFOUND, "version %d not found", version)
}

var sc2 = behalf.SealContext{Kind: "grant", Key: "w/u/p", Field: "token"}

// inlineURL returns a base64key:// URL of a new random key.
func inlineURL(t *testing.T, b byte) string {
	t.Helper()
	return "base64key://" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

// openRing opens a keyring and a sealer on keys, closed at cleanup.
func openRing(t *testing.T, keys *memKeys, cfg seal.KeyringConfig) (*seal.Keyring, *seal.Sealer) {
	t.Helper()
	r, err := seal.OpenKeyring(context.Background(), keys, cfg)
	if err != nil {
		t.Fatalf("OpenKeyring: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, seal.NewWithKeyring(r, keys, seal.Options{})
}

// status returns the keyring's status.
func status(t *testing.T, r *seal.Keyring) *seal.Status {
	t.Helper()
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return st
}

// mustOpen opens b and checks the plaintext.
func mustOpen(t *testing.T, s *seal.Sealer, b behalf.Sealed, want string) {
	t.Helper()
	got, err := s.Open(context.Background(), sc2, b)
	if err != nil || string(got) != want {
		t.Fatalf("Open = %q, %v; want %q", got, err, want)
	}
}

// Ensure rotation with local key files: kek is version 1, rotation creates
// kek.2, rewraps every data key, and once version 1 is retired a keyring
// without the old file opens everything.
func TestKeyringRotateLocal(t *testing.T) {
	ctx := context.Background()
	dir, keys := t.TempDir(), &memKeys{}
	r, s := openRing(t, keys, seal.KeyringConfig{DataDir: dir})
	b, err := s.Seal(ctx, sc2, []byte("before"))
	if err != nil {
		t.Fatal(err)
	}
	if st := status(t, r); st.Active != 1 || len(st.Versions) != 1 || st.Versions[0].Where != filepath.Join(dir, "kek") || st.Versions[0].DataKeys != 1 {
		t.Fatalf("status before = %+v", st)
	}
	v, err := r.Rotate(ctx, "")
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if v.Version != 2 || v.Keeper != behalf.KEKKeeperFile {
		t.Fatalf("Rotate = %+v", v)
	}
	if fi, err := os.Stat(filepath.Join(dir, "kek.2")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kek.2: %v %v", fi, err)
	}
	if st := status(t, r); st.Rewrapped() || st.Active != 2 {
		t.Fatalf("status before rewrap = %+v", st)
	}
	// Retiring a version still in use is refused.
	if err := r.Retire(ctx, 1); behalf.ErrorCode(err) != behalf.ECONFLICT {
		t.Fatalf("Retire(1) before rewrap = %v", err)
	}
	if n, err := s.RewrapAll(ctx); err != nil || n != 1 {
		t.Fatalf("RewrapAll = %d, %v", n, err)
	}
	st := status(t, r)
	if !st.Rewrapped() || st.Versions[0].State != behalf.KEKPrevious || st.Versions[1].DataKeys != 1 {
		t.Fatalf("status after rewrap = %+v", st)
	}
	after, err := s.Seal(ctx, sc2, []byte("after"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Retire(ctx, 2); behalf.ErrorCode(err) != behalf.ECONFLICT {
		t.Fatalf("Retire(active) = %v", err)
	}
	if err := r.Retire(ctx, 1); err != nil {
		t.Fatalf("Retire(1): %v", err)
	}
	// The old key file is no longer needed.
	if err := os.Rename(filepath.Join(dir, "kek"), filepath.Join(dir, "kek.old")); err != nil {
		t.Fatal(err)
	}
	r2, s2 := openRing(t, keys, seal.KeyringConfig{DataDir: dir})
	mustOpen(t, s2, b, "before")
	mustOpen(t, s2, after, "after")
	if st := status(t, r2); st.Versions[0].State != behalf.KEKRetired || st.Versions[0].RetiredAt.IsZero() {
		t.Fatalf("status after retire = %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "kek")); err == nil {
		t.Fatal("a keyring recreated the retired kek file")
	}
}

// Ensure rotation between base64key:// keys, which are never recorded:
// during the rotation both keys must be given, afterwards only the new one.
func TestKeyringRotateInline(t *testing.T) {
	ctx := context.Background()
	dir, keys := t.TempDir(), &memKeys{}
	oldURL, newURL := inlineURL(t, 1), inlineURL(t, 2)
	r, s := openRing(t, keys, seal.KeyringConfig{DataDir: dir, KMS: oldURL})
	b, err := s.Seal(ctx, sc2, []byte("inline"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Rotate(ctx, oldURL); err == nil {
		t.Fatal("Rotate to the key of version 1 succeeded")
	}
	if _, err := r.Rotate(ctx, newURL); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	for _, v := range keys.versions {
		if strings.Contains(v.Keeper, "base64key://") || v.Keeper != behalf.KEKKeeperInline {
			t.Fatalf("recorded keeper %q", v.Keeper)
		}
	}
	// Mid-rotation a process given only the new key cannot start: data
	// keys still need the old one.
	if _, err := seal.OpenKeyring(ctx, keys, seal.KeyringConfig{DataDir: dir, KMS: newURL}); err == nil || !strings.Contains(err.Error(), "version 1") {
		t.Fatalf("OpenKeyring without the old key mid-rotation = %v", err)
	} else if strings.Contains(err.Error(), newURL[12:]) || strings.Contains(err.Error(), oldURL[12:]) {
		t.Fatalf("error leaks a key: %v", err)
	}
	// With both (the new one first, as after a restart) it can.
	_, both := openRing(t, keys, seal.KeyringConfig{DataDir: dir, KMS: newURL, Previous: []string{oldURL}})
	mustOpen(t, both, b, "inline")
	if _, err := s.RewrapAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Retire(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, s2 := openRing(t, keys, seal.KeyringConfig{DataDir: dir, KMS: newURL})
	mustOpen(t, s2, b, "inline")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("inline keys wrote %d files to the data dir", len(entries))
	}
}

// Ensure a process that only knew version 1 follows a rotation made by
// another: it opens data keys rewrapped elsewhere, and wraps new data keys
// with the new active version.
func TestKeyringFollowsOtherProcess(t *testing.T) {
	ctx := context.Background()
	dir, keys := t.TempDir(), &memKeys{}
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	ring, server := openRing(t, keys, seal.KeyringConfig{DataDir: dir, Now: now})
	b, err := server.Seal(ctx, sc2, []byte("shared"))
	if err != nil {
		t.Fatal(err)
	}
	// "behalf keys rotate", another process on the same database.
	cli, cliSealer := openRing(t, keys, seal.KeyringConfig{DataDir: dir})
	if _, err := cli.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := cliSealer.RewrapAll(ctx); err != nil {
		t.Fatal(err)
	}
	// The server's keyring, loaded before the rotation, learns version 2
	// when a data key names it (rereading at most once a second).
	offset.Add(int64(2 * time.Second))
	r3 := ring
	mustOpen(t, seal.NewWithKeyring(r3, keys, seal.Options{}), b, "shared")
	// A new data key (none active) is wrapped with version 2.
	keys.mu.Lock()
	for _, k := range keys.keys {
		k.Active = false
	}
	keys.mu.Unlock()
	fresh := seal.NewWithKeyring(r3, keys, seal.Options{})
	if _, err := fresh.Seal(ctx, sc2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	keys.mu.Lock()
	last := keys.keys[len(keys.keys)-1]
	keys.mu.Unlock()
	if last.KEKVersion != 2 {
		t.Fatalf("new data key on version %d, want 2", last.KEKVersion)
	}
}

// Ensure a wrong or missing key is refused at start, by name.
func TestKeyringRefusesWrongKey(t *testing.T) {
	ctx := context.Background()
	dir, keys := t.TempDir(), &memKeys{}
	_, s := openRing(t, keys, seal.KeyringConfig{DataDir: dir})
	if _, err := s.Seal(ctx, sc2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	// Another node's own key file (the classic replica mistake).
	other := t.TempDir()
	if _, err := seal.OpenKeeper(ctx, "", other); err != nil {
		t.Fatal(err)
	}
	_, err := seal.OpenKeyring(ctx, keys, seal.KeyringConfig{DataDir: other})
	if err == nil || !strings.Contains(err.Error(), "is not the key this database recorded") {
		t.Fatalf("OpenKeyring with another key file = %v", err)
	}
	// No key file at all: not recreated, since data keys need the old one.
	empty := t.TempDir()
	_, err = seal.OpenKeyring(ctx, keys, seal.KeyringConfig{DataDir: empty})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("OpenKeyring with no key file = %v", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatal("OpenKeyring created a key file for a database that has data keys")
	}
	// A database from before versions were recorded, opened with a wrong
	// key, is not recorded as version 1.
	legacy := &memKeys{keys: keys.copy().keys}
	_, err = seal.OpenKeyring(ctx, legacy, seal.KeyringConfig{KMS: inlineURL(t, 9)})
	if err == nil || len(legacy.versions) != 0 {
		t.Fatalf("OpenKeyring recorded a key that does not open the data keys: %v", err)
	}
	// With the right key it records version 1.
	_, ls := openRing(t, legacy, seal.KeyringConfig{DataDir: dir})
	if _, err := ls.CheckDataKeys(ctx); err != nil || len(legacy.versions) != 1 {
		t.Fatalf("legacy database: %v, %d versions", err, len(legacy.versions))
	}
}

// Ensure a status-only keyring records nothing and creates no file.
func TestKeyringNoCreate(t *testing.T) {
	dir, keys := t.TempDir(), &memKeys{}
	r := seal.NewKeyring(keys, seal.KeyringConfig{DataDir: dir, NoCreate: true})
	st := status(t, r)
	if st.Active != 0 || len(st.Versions) != 0 || len(keys.versions) != 0 {
		t.Fatalf("status = %+v", st)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatal("a NoCreate keyring created a file")
	}
}

// Ensure sealing and opening go on while another goroutine rotates and
// rewraps, and nothing sealed before, during or after fails to open.
func TestKeyringRotateUnderLoad(t *testing.T) {
	ctx := context.Background()
	dir, keys := t.TempDir(), &memKeys{}
	_, s := openRing(t, keys, seal.KeyringConfig{DataDir: dir})
	var (
		mu     sync.Mutex
		sealed = map[string]behalf.Sealed{}
		stop   atomic.Bool
		wg     sync.WaitGroup
	)
	for g := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				msg := fmt.Sprintf("g%d-%d", g, i)
				b, err := s.Seal(ctx, sc2, []byte(msg))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				sealed[msg] = b
				mu.Unlock()
				if got, err := s.Open(ctx, sc2, b); err != nil || string(got) != msg {
					t.Errorf("Open during rotation = %q, %v", got, err)
					return
				}
			}
		})
	}
	cli, cliSealer := openRing(t, keys, seal.KeyringConfig{DataDir: dir})
	for range 3 {
		if _, err := cli.Rotate(ctx, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := cliSealer.RewrapAll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	st := status(t, cli)
	if st.Active != 4 || !st.Rewrapped() {
		t.Fatalf("status = %+v", st)
	}
	for _, v := range []int{1, 2, 3} {
		if err := cli.Retire(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"kek", "kek.2", "kek.3"} {
		os.Remove(filepath.Join(dir, name))
	}
	_, fresh := openRing(t, keys, seal.KeyringConfig{DataDir: dir})
	for msg, b := range sealed {
		mustOpen(t, fresh, b, msg)
	}
	t.Logf("%d values sealed during three rotations", len(sealed))
}

// Ensure Sealer.Rotate (behalf keys rotate and SetTokenVaultCMK) records
// the new version and rewraps every data key with it, that ActiveKEK and
// KEKGiven report what they should, and that a key it cannot use is an
// EINVALID error that records nothing.
func TestSealerRotate(t *testing.T) {
	ctx := context.Background()
	dir, keys := t.TempDir(), &memKeys{}
	given := inlineURL(t, 3)
	r, s := openRing(t, keys, seal.KeyringConfig{DataDir: dir, Previous: []string{given}})
	b, err := s.Seal(ctx, sc2, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.KEKGiven(given) || s.KEKGiven(inlineURL(t, 4)) || s.KEKGiven("") {
		t.Fatal("KEKGiven does not report the configured keys")
	}
	if _, _, err := s.Rotate(ctx, "base64key://not-base64"); behalf.ErrorCode(err) != behalf.EINVALID || strings.Contains(err.Error(), "not-base64") {
		t.Fatalf("Rotate to a malformed key: %v", err)
	}
	if a, err := s.ActiveKEK(ctx); err != nil || a.Version != 1 || a.Keeper != behalf.KEKKeeperFile {
		t.Fatalf("ActiveKEK after a refused rotation: %+v %v", a, err)
	}
	v, n, err := s.Rotate(ctx, given)
	if err != nil || v.Version != 2 || v.Keeper != behalf.KEKKeeperInline || n != 1 {
		t.Fatalf("Rotate = %+v %d %v", v, n, err)
	}
	if st := status(t, r); st.Active != 2 || !st.Rewrapped() {
		t.Fatalf("status after Rotate: %+v", st)
	}
	if a, err := s.ActiveKEK(ctx); err != nil || a.Version != 2 {
		t.Fatalf("ActiveKEK = %+v %v", a, err)
	}
	if _, _, err := s.Rotate(ctx, given); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Fatalf("Rotate to the active key again: %v", err)
	}
	mustOpen(t, s, b, "secret")
}
