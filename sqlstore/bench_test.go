package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// BenchmarkGetGrant reads one grant by its workload × user × provider, the
// vault hit's read, with a request's (cancelable) context.
func BenchmarkGetGrant(b *testing.B) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, b.TempDir()+"/behalf.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	g := &behalf.Grant{ID: "g-1", Workload: "agent", UserKey: "user", ProviderID: "google", Scopes: []string{"openid", "email"},
		Token: behalf.Sealed("sealed-token-bytes"), ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	if err := db.PutGrant(ctx, g); err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.GetGrant(rctx, "agent", "user", "google"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
