package userpool_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

// BenchmarkPasswordAuth runs USER_PASSWORD_AUTH end to end in process, on
// SQLite, with the default (OWASP) argon2id parameters: a SECRET_HASH
// check, one hash, an RS256 access and ID token and a stored refresh token.
func BenchmarkPasswordAuth(b *testing.B) {
	e := newEnv(b, userpool.DefaultHashParams)
	p := e.pool(b)
	c, secret := e.client(b, p.ID, true)
	e.user(b, p.ID, "alice", map[string]string{"email": "alice@example.com"})
	for b.Loop() {
		e.mustSignIn(b, c, secret, "alice")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
}

// BenchmarkRefreshAuth runs REFRESH_TOKEN_AUTH end to end: a refresh-token
// lookup and two RS256 signatures, no password hash.
func BenchmarkRefreshAuth(b *testing.B) {
	e := newEnv(b, userpool.DefaultHashParams)
	p := e.pool(b)
	c, secret := e.client(b, p.ID, true)
	e.user(b, p.ID, "alice", nil)
	tok := e.mustSignIn(b, c, secret, "alice")
	for b.Loop() {
		if _, err := e.refresh(c, secret, "alice", tok.RefreshToken); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "refreshes/s")
}

// TestConcurrentSignIns runs sign-ins, failures and refreshes at once
// through a one-slot hash semaphore (run it with -race).
func TestConcurrentSignIns(t *testing.T) {
	e := newEnv(t)
	e.svc.MaxConcurrentHashes = 1
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	for i := range 4 {
		e.user(t, p.ID, fmt.Sprintf("u%d", i), nil)
	}
	tok := e.mustSignIn(t, c, "", "u0")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			name := fmt.Sprintf("u%d", i%4)
			switch i % 3 {
			case 0:
				_, err := e.signIn(c, "", name, testPassword)
				errs <- err
			case 1:
				_, err := e.signIn(c, "", "ghost"+name, testPassword)
				if behalf.CognitoException(err) != behalf.CognitoNotAuthorized {
					errs <- fmt.Errorf("ghost: %v", err)
				}
			case 2:
				_, err := e.refresh(c, "", "u0", tok.RefreshToken)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
