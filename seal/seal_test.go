package seal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/seal"
	"gocloud.dev/gcerrors"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/driver"
	"gocloud.dev/secrets/localsecrets"
)

// memKeys is an in-memory behalf.DataKeyStore that counts its calls.
type memKeys struct {
	mu       sync.Mutex
	keys     []*behalf.DataKey    // oldest first
	versions []*behalf.KEKVersion // by version
	calls    atomic.Int64
	failErr  error // returned by every call when set
}

func (m *memKeys) begin() error {
	m.calls.Add(1)
	return m.failErr
}

func (m *memKeys) CreateDataKey(ctx context.Context, k *behalf.DataKey) error {
	if err := m.begin(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.ID == k.ID {
			return behalf.Errorf(behalf.ECONFLICT, "data key %s exists", k.ID)
		}
	}
	if k.Active {
		for _, o := range m.keys {
			o.Active = false
		}
	}
	m.keys = append(m.keys, cloneKey(k))
	return nil
}

func (m *memKeys) GetDataKey(ctx context.Context, id string) (*behalf.DataKey, error) {
	if err := m.begin(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.ID == id {
			return cloneKey(k), nil
		}
	}
	return nil, behalf.Errorf(behalf.ENOTFOUND, "data key not found")
}

func (m *memKeys) ActiveDataKey(ctx context.Context) (*behalf.DataKey, error) {
	if err := m.begin(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.Active {
			return cloneKey(k), nil
		}
	}
	return nil, behalf.Errorf(behalf.ENOTFOUND, "no active data key")
}

func (m *memKeys) ListDataKeys(ctx context.Context) ([]*behalf.DataKey, error) {
	if err := m.begin(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*behalf.DataKey, len(m.keys))
	for i, k := range m.keys {
		out[i] = cloneKey(k)
	}
	return out, nil
}

func (m *memKeys) UpdateDataKey(ctx context.Context, k *behalf.DataKey) error {
	if err := m.begin(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.ID == k.ID {
			o.Wrapped = slices.Clone(k.Wrapped)
			o.KEKVersion = k.KEKVersion
			return nil
		}
	}
	return behalf.Errorf(behalf.ENOTFOUND, "data key not found")
}

// copy returns a new store holding copies of m's keys.
func (m *memKeys) copy() *memKeys {
	all, _ := m.ListDataKeys(context.Background())
	return &memKeys{keys: all}
}

func cloneKey(k *behalf.DataKey) *behalf.DataKey {
	c := *k
	c.Wrapped = slices.Clone(k.Wrapped)
	return &c
}

// countingKeeper is a driver.Keeper that forwards to a local keeper and
// counts Encrypt and Decrypt calls.
type countingKeeper struct {
	k     *secrets.Keeper
	calls atomic.Int64
}

func (c *countingKeeper) Encrypt(ctx context.Context, b []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.k.Encrypt(ctx, b)
}

func (c *countingKeeper) Decrypt(ctx context.Context, b []byte) ([]byte, error) {
	c.calls.Add(1)
	return c.k.Decrypt(ctx, b)
}

func (c *countingKeeper) Close() error                       { return nil }
func (c *countingKeeper) ErrorAs(error, any) bool            { return false }
func (c *countingKeeper) ErrorCode(error) gcerrors.ErrorCode { return gcerrors.Unknown }

var _ driver.Keeper = (*countingKeeper)(nil)

// newKeeper returns a local keeper on a fresh random key.
func newKeeper(t testing.TB) *secrets.Keeper {
	t.Helper()
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	k := localsecrets.NewKeeper(key)
	t.Cleanup(func() { k.Close() })
	return k
}

var sc = behalf.SealContext{Kind: "oauth2-provider", Key: "prov-1", Field: "client_secret"}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := seal.New(newKeeper(t), &memKeys{}, seal.Options{})
	for _, pt := range []string{"", "x", "a client secret", strings.Repeat("long ", 1000)} {
		b, err := s.Seal(ctx, sc, []byte(pt))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		got, err := s.Open(ctx, sc, b)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if string(got) != pt {
			t.Fatalf("Open = %q, want %q", got, pt)
		}
	}
}

func TestSecretRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := seal.New(newKeeper(t), &memKeys{}, seal.Options{})
	b, err := s.SealString(ctx, sc, behalf.Secret("hunter2"))
	if err != nil {
		t.Fatalf("SealString: %v", err)
	}
	got, err := s.OpenSecret(ctx, sc, b)
	if err != nil {
		t.Fatalf("OpenSecret: %v", err)
	}
	if got.Reveal() != "hunter2" {
		t.Fatalf("OpenSecret = %q, want hunter2", got.Reveal())
	}
}

func TestSealsDiffer(t *testing.T) {
	ctx := context.Background()
	s := seal.New(newKeeper(t), &memKeys{}, seal.Options{})
	a, err := s.Seal(ctx, sc, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Seal(ctx, sc, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal")
	}
}

func TestBlobLayout(t *testing.T) {
	ctx := context.Background()
	keys := &memKeys{}
	s := seal.New(newKeeper(t), keys, seal.Options{})
	b, err := s.Seal(ctx, sc, []byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	id := keys.keys[0].ID
	if b[0] != 1 || int(b[1]) != len(id) || string(b[2:2+len(id)]) != id {
		t.Fatalf("header = %x, want version 1 and key id %s", b[:2+len(id)], id)
	}
	if want := 2 + len(id) + 12 + 3 + 16; len(b) != want {
		t.Fatalf("len = %d, want %d", len(b), want)
	}
}

func TestFlippedByteFails(t *testing.T) {
	ctx := context.Background()
	s := seal.New(newKeeper(t), &memKeys{}, seal.Options{})
	b, err := s.Seal(ctx, sc, []byte("tamper with me"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			c := slices.Clone(b)
			c[i] ^= mask
			if got, err := s.Open(ctx, sc, c); err == nil {
				t.Fatalf("byte %d ^ %#x: Open = %q, want error", i, mask, got)
			} else {
				checkInternal(t, err)
			}
		}
	}
	for n := range len(b) {
		if _, err := s.Open(ctx, sc, b[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: Open succeeded", n)
		}
	}
	if _, err := s.Open(ctx, sc, append(slices.Clone(b), 0)); err == nil {
		t.Fatal("extended by a byte: Open succeeded")
	}
}

func TestMovedCiphertextFails(t *testing.T) {
	ctx := context.Background()
	s := seal.New(newKeeper(t), &memKeys{}, seal.Options{})
	b, err := s.Seal(ctx, sc, []byte("bound"))
	if err != nil {
		t.Fatal(err)
	}
	others := []behalf.SealContext{
		{Kind: "api-key-provider", Key: sc.Key, Field: sc.Field},
		{Kind: sc.Kind, Key: "prov-2", Field: sc.Field},
		{Kind: sc.Kind, Key: sc.Key, Field: "refresh_token"},
		// Shifting bytes between parts must not collide.
		{Kind: sc.Kind + "p", Key: "rov-1", Field: sc.Field},
		{Kind: sc.Kind, Key: sc.Key + "c", Field: "lient_secret"},
	}
	for _, o := range others {
		if _, err := s.Open(ctx, o, b); err == nil {
			t.Errorf("sealed for %+v opened under %+v", sc, o)
		} else {
			checkInternal(t, err)
		}
	}
}

func TestEmptyContextRejected(t *testing.T) {
	ctx := context.Background()
	s := seal.New(newKeeper(t), &memKeys{}, seal.Options{})
	good, err := s.Seal(ctx, sc, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []behalf.SealContext{
		{Key: "k", Field: "f"}, {Kind: "k", Field: "f"}, {Kind: "k", Key: "k"},
	} {
		if _, err := s.Seal(ctx, bad, []byte("x")); err == nil {
			t.Errorf("Seal(%+v) succeeded", bad)
		}
		if _, err := s.Open(ctx, bad, good); err == nil {
			t.Errorf("Open(%+v) succeeded", bad)
		}
	}
}

func TestWrongKEKFails(t *testing.T) {
	ctx := context.Background()
	keys := &memKeys{}
	a := seal.New(newKeeper(t), keys, seal.Options{})
	b, err := a.Seal(ctx, sc, []byte("kek-bound"))
	if err != nil {
		t.Fatal(err)
	}
	other := seal.New(newKeeper(t), keys.copy(), seal.Options{})
	if got, err := other.Open(ctx, sc, b); err == nil {
		t.Fatalf("opened under another KEK: %q", got)
	} else {
		checkInternal(t, err)
	}
	if _, err := other.Seal(ctx, sc, []byte("x")); err == nil {
		t.Fatal("sealed with an active key wrapped by another KEK")
	}
}

func TestRestartOpensOldValues(t *testing.T) {
	ctx := context.Background()
	keeper, keys := newKeeper(t), &memKeys{}
	first := seal.New(keeper, keys, seal.Options{})
	b, err := first.Seal(ctx, sc, []byte("survives restart"))
	if err != nil {
		t.Fatal(err)
	}
	second := seal.New(keeper, keys, seal.Options{})
	got, err := second.Open(ctx, sc, b)
	if err != nil {
		t.Fatalf("Open after restart: %v", err)
	}
	if string(got) != "survives restart" {
		t.Fatalf("Open = %q", got)
	}
	if _, err := second.Seal(ctx, sc, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if len(keys.keys) != 1 {
		t.Fatalf("store holds %d data keys, want the first Sealer's one", len(keys.keys))
	}
}

func TestDataKeyStored(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	keys := &memKeys{}
	s := seal.New(newKeeper(t), keys, seal.Options{Now: func() time.Time { return at }, KEKVersion: 3})
	if _, err := s.Seal(ctx, sc, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if len(keys.keys) != 1 {
		t.Fatalf("store holds %d keys, want 1", len(keys.keys))
	}
	k := keys.keys[0]
	if len(k.ID) != 32 || !k.Active || k.KEKVersion != 3 || !k.CreatedAt.Equal(at) || len(k.Wrapped) <= 32 {
		t.Fatalf("stored key = %+v", k)
	}
}

func TestDefaultKEKVersion(t *testing.T) {
	keys := &memKeys{}
	s := seal.New(newKeeper(t), keys, seal.Options{})
	if _, err := s.Seal(context.Background(), sc, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if v := keys.keys[0].KEKVersion; v != 1 {
		t.Fatalf("KEKVersion = %d, want 1", v)
	}
}

func TestHotPathMakesNoCalls(t *testing.T) {
	ctx := context.Background()
	ck := &countingKeeper{k: newKeeper(t)}
	keeper := secrets.NewKeeper(ck)
	keys := &memKeys{}
	s := seal.New(keeper, keys, seal.Options{})
	b, err := s.Seal(ctx, sc, []byte("warm"))
	if err != nil {
		t.Fatal(err)
	}
	restarted := seal.New(keeper, keys, seal.Options{})
	if _, err := restarted.Open(ctx, sc, b); err != nil {
		t.Fatal(err)
	}
	kc := ck.calls.Load()
	if _, err := restarted.Seal(ctx, sc, []byte("picks the active key")); err != nil {
		t.Fatal(err)
	}
	if d := ck.calls.Load() - kc; d != 0 {
		t.Errorf("choosing an already unwrapped active key made %d keeper calls", d)
	}
	sc0 := keys.calls.Load()
	for range 10 {
		for _, x := range []*seal.Sealer{s, restarted} {
			b, err := x.Seal(ctx, sc, []byte("hot"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x.Open(ctx, sc, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if d := ck.calls.Load() - kc; d != 0 {
		t.Errorf("hot path made %d keeper calls", d)
	}
	if d := keys.calls.Load() - sc0; d != 0 {
		t.Errorf("hot path made %d store calls", d)
	}
}

func TestStoreErrors(t *testing.T) {
	ctx := context.Background()
	down := behalf.Errorf(behalf.EUNAVAILABLE, "database down")
	keys := &memKeys{failErr: down}
	s := seal.New(newKeeper(t), keys, seal.Options{})
	if _, err := s.Seal(ctx, sc, []byte("x")); !errors.Is(err, down) {
		t.Fatalf("Seal with store down: %v, want it wrapped", err)
	}
	keys.failErr = nil
	b, err := s.Seal(ctx, sc, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	cold := seal.New(newKeeper(t), &memKeys{}, seal.Options{})
	_, err = cold.Open(ctx, sc, b)
	if err == nil || !strings.Contains(err.Error(), "unknown data key") {
		t.Fatalf("Open with unknown key: %v", err)
	}
	checkInternal(t, err)
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	keys := &memKeys{}
	s := seal.New(newKeeper(t), keys, seal.Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c := behalf.SealContext{Kind: "k", Key: fmt.Sprint(i), Field: "f"}
			for j := range 50 {
				pt := fmt.Sprint(i, j)
				b, err := s.Seal(ctx, c, []byte(pt))
				if err != nil {
					t.Error(err)
					return
				}
				got, err := s.Open(ctx, c, b)
				if err != nil || string(got) != pt {
					t.Errorf("Open = %q, %v; want %q", got, err, pt)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(keys.keys); n != 1 {
		t.Fatalf("concurrent first seals created %d data keys, want 1", n)
	}
}

func TestRewrap(t *testing.T) {
	ctx := context.Background()
	oldK, newK, keys := newKeeper(t), newKeeper(t), &memKeys{}
	s := seal.New(oldK, keys, seal.Options{})
	b, err := s.Seal(ctx, sc, []byte("rotate me"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Rewrap(ctx, newK, 2)
	if err != nil || n != 1 {
		t.Fatalf("Rewrap = %d, %v; want 1, nil", n, err)
	}
	if n, err := s.Rewrap(ctx, newK, 2); err != nil || n != 0 {
		t.Fatalf("second Rewrap = %d, %v; want 0, nil", n, err)
	}
	after := seal.New(newK, keys, seal.Options{KEKVersion: 2})
	got, err := after.Open(ctx, sc, b)
	if err != nil || string(got) != "rotate me" {
		t.Fatalf("Open after rewrap = %q, %v", got, err)
	}
	if _, err := seal.New(oldK, keys, seal.Options{}).Open(ctx, sc, b); err == nil {
		t.Fatal("old KEK still opens after rewrap")
	}
}

const canary = "CANARY-d41d8cd98f00b204"

func TestErrorsNeverContainPlaintext(t *testing.T) {
	ctx := context.Background()
	keys := &memKeys{}
	s := seal.New(newKeeper(t), keys, seal.Options{})
	b, err := s.SealString(ctx, sc, canary)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	flipped := slices.Clone(b)
	flipped[len(flipped)-1] ^= 1
	collect(s.OpenSecret(ctx, sc, flipped))
	collect(s.Open(ctx, behalf.SealContext{Kind: "x", Key: sc.Key, Field: sc.Field}, b))
	collect(s.Open(ctx, sc, b[:len(b)-1]))
	collect(seal.New(newKeeper(t), keys.copy(), seal.Options{}).Open(ctx, sc, b))
	collect(seal.New(newKeeper(t), &memKeys{}, seal.Options{}).Open(ctx, sc, b))
	collect(s.SealString(ctx, behalf.SealContext{Key: "k", Field: "f"}, canary))
	collect(seal.New(newKeeper(t), &memKeys{failErr: errors.New("store down")}, seal.Options{}).SealString(ctx, sc, canary))
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, canary[:12]) {
				t.Errorf("case %d: error contains the plaintext: %s", i, text)
			}
		}
	}
}

// checkInternal fails unless err is uncoded, so the API reports it as an
// internal error.
func checkInternal(t *testing.T, err error) {
	t.Helper()
	var e *behalf.Error
	if errors.As(err, &e) || behalf.ErrorCode(err) != behalf.EINTERNAL {
		t.Errorf("error %v is coded %q, want an uncoded error", err, behalf.ErrorCode(err))
	}
	if !strings.HasPrefix(err.Error(), "open sealed value: ") {
		t.Errorf("error %q lacks the open sealed value: prefix", err)
	}
}

func BenchmarkSealOpen(b *testing.B) {
	ctx := context.Background()
	s := seal.New(newKeeper(b), &memKeys{}, seal.Options{})
	pt := []byte("a typical client secret, forty bytes...")
	if _, err := s.Seal(ctx, sc, pt); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		blob, err := s.Seal(ctx, sc, pt)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Open(ctx, sc, blob); err != nil {
			b.Fatal(err)
		}
	}
}
