package signer_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/signer"
	"github.com/behalf-dev/behalf/sqlstore"
)

// startRace makes Signers that start together take the worst path: every
// one lists the store's keys (and finds none) before any of them creates
// its key, and the creations then run one at a time, each committed before
// the next starts. Before the fix each creation deactivated the previous
// one's key, so every Signer but the last signed with a key that was no
// longer active, and the others refused its tokens until a reload.
type startRace struct {
	n         int
	listed    atomic.Int32
	allListed chan struct{}
	create    sync.Mutex // one key creation at a time
}

func newStartRace(n int) *startRace {
	return &startRace{n: n, allListed: make(chan struct{})}
}

// racingStore is one replica's view of the shared store under a startRace.
type racingStore struct {
	*sqlstore.DB
	race  *startRace
	first atomic.Bool // the first listing has waited for the others
}

func (s *racingStore) ListSigningKeys(ctx context.Context, use string) ([]*behalf.SigningKey, error) {
	ks, err := s.DB.ListSigningKeys(ctx, use)
	if s.first.CompareAndSwap(false, true) {
		if int(s.race.listed.Add(1)) == s.race.n {
			close(s.race.allListed)
		}
		<-s.race.allListed
	}
	return ks, err
}

func (s *racingStore) CreateSigningKey(ctx context.Context, k *behalf.SigningKey) error {
	s.race.create.Lock()
	defer s.race.create.Unlock()
	return s.DB.CreateSigningKey(ctx, k)
}

func (s *racingStore) CreateFirstSigningKey(ctx context.Context, k *behalf.SigningKey) (bool, error) {
	s.race.create.Lock()
	defer s.race.create.Unlock()
	return s.DB.CreateFirstSigningKey(ctx, k)
}

// Ensure Signers that start together on an empty database, as replicas
// do, store one key and all sign with it from their first token: every
// token verifies at every other Signer at once, and the store holds one
// key of the use, active. On SQLite (one file) and PostgreSQL (one schema),
// each Signer with its own connection pool.
func TestConcurrentStartSignsWithOneKey(t *testing.T) {
	dsns := map[string]string{"sqlite": filepath.Join(t.TempDir(), "behalf.db")}
	if admin := os.Getenv("BEHALF_TEST_POSTGRES_DSN"); admin != "" {
		dsns["postgres"] = postgresSchema(t, admin)
	} else {
		t.Log("BEHALF_TEST_POSTGRES_DSN is unset: the PostgreSQL case is skipped")
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			const n = 4
			ctx := context.Background()
			race := newStartRace(n)
			sealer, clock := newSealer(), newClock()
			stores := make([]*racingStore, n)
			for i := range n {
				db, err := sqlstore.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				stores[i] = &racingStore{DB: db, race: race}
			}
			signers := make([]*signer.Signer, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					s, err := signer.New(ctx, stores[i], sealer, "wat", signer.EdDSA, clock.Now)
					if err != nil {
						t.Errorf("replica %d: New: %v", i, err)
					}
					signers[i] = s
				})
			}
			wg.Wait()
			if t.Failed() {
				t.FailNow()
			}
			now := clock.Now()
			kids := make([]string, n)
			tokens := make([]string, n)
			for i, s := range signers {
				tokens[i] = sign(t, s, claimsAt(now))
				kids[i], _ = headerOf(t, tokens[i])["kid"].(string)
			}
			for i := range n {
				if kids[i] != kids[0] {
					t.Errorf("replica %d signs with key %s, replica 0 with %s", i, kids[i], kids[0])
				}
				for j, s := range signers {
					if _, err := s.Verify(tokens[i], now); err != nil {
						t.Errorf("replica %d refuses replica %d's token: %v", j, i, err)
					}
				}
			}
			ks, err := stores[0].DB.ListSigningKeys(ctx, "wat")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range ks {
				ids = append(ids, k.ID)
			}
			if len(ks) != 1 || !ks[0].Active || ks[0].ID != kids[0] {
				t.Fatalf("the store holds keys %v (first active: %v); want only %s, active", ids, len(ks) > 0 && ks[0].Active, kids[0])
			}
		})
	}
}

// postgresSchema creates an empty schema in admin's database, dropped at
// cleanup, and returns a DSN that uses it.
func postgresSchema(t *testing.T, admin string) string {
	t.Helper()
	schema := "signer_test_" + strings.ToLower(rand.Text())
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
