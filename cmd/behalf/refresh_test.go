package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// Ensure that after expiry 100 concurrent callers cause exactly one refresh
// at the provider, on one instance (SQLite, PostgreSQL) and across two
// instances sharing one PostgreSQL.
func TestRefreshSingleFlight(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			clock := &testClock{}
			google := fakeprovider.New(t, fakeprovider.Options{AccessTokenTTL: 10 * time.Minute, Now: clock.Now})
			database := dsn(t)
			dir := t.TempDir()
			s := startMain(t, serverOptions{database: database, dataDir: dir, now: clock.Now, args: []string{"--allow-private-endpoints"}})
			servers := []*testServer{s}
			if name == "postgres" {
				// A second replica on the same database and key-encryption key.
				servers = append(servers, startMain(t, serverOptions{database: database, dataDir: dir, now: clock.Now, args: []string{"--allow-private-endpoints"}}))
			}
			f := newFlowFixture(t, s, google)
			first := f.consent(f.wat("alice"))

			clock.Advance(11 * time.Minute) // the access token has expired
			_, _, refreshesBefore, _ := google.Counts()
			tokens := make(chan string, 100)
			var wg sync.WaitGroup
			for i := range 100 {
				wg.Add(1)
				go func(srv *testServer) {
					defer wg.Done()
					c := srv.dataPlane(t, s.KeyID, s.Secret)
					wat, err := c.GetWorkloadAccessTokenForUserId(context.Background(), &dp.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String("drive-agent"), UserId: aws.String("alice")})
					if err != nil {
						t.Error(err)
						return
					}
					out, err := c.GetResourceOauth2Token(context.Background(), f.tokenRequest(aws.ToString(wat.WorkloadAccessToken), ""))
					if err != nil {
						t.Error(err)
						return
					}
					tokens <- aws.ToString(out.AccessToken)
				}(servers[i%len(servers)])
			}
			wg.Wait()
			close(tokens)
			_, _, refreshesAfter, _ := google.Counts()
			if got := refreshesAfter - refreshesBefore; got != 1 {
				t.Fatalf("provider refreshes = %d, want exactly 1", got)
			}
			n := 0
			for tok := range tokens {
				n++
				if tok == "" || tok == first {
					t.Fatalf("a caller got %q (the expired token was %q)", tok, first)
				}
			}
			if n != 100 {
				t.Fatalf("%d callers got a token, want 100", n)
			}
		})
	}
}

// Ensure a refresh the provider refuses with invalid_grant sends the user
// back to consent, and transient failures keep the grant.
func TestRefreshFailures(t *testing.T) {
	clock := &testClock{}
	google := fakeprovider.New(t, fakeprovider.Options{AccessTokenTTL: 10 * time.Minute, Now: clock.Now})
	s := startMain(t, serverOptions{now: clock.Now, args: []string{"--allow-private-endpoints"}})
	f := newFlowFixture(t, s, google)
	ctx := context.Background()
	f.consent(f.wat("alice"))

	// 503 from the provider after expiry: ServiceUnavailableException with retryAfterSeconds.
	clock.Advance(11 * time.Minute)
	google.SetRetryAfter(7 * time.Second)
	google.FailRefreshWith(503, "temporarily_unavailable")
	_, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
	var unavailable *dptypes.ServiceUnavailableException
	if !errors.As(err, &unavailable) {
		t.Fatalf("transient refresh failure: %v, want ServiceUnavailableException", err)
	}
	if unavailable.RetryAfterSeconds == nil || *unavailable.RetryAfterSeconds != 7 {
		t.Fatalf("retryAfterSeconds=%v, want 7", unavailable.RetryAfterSeconds)
	}

	// The provider recovers: the same grant refreshes.
	google.FailRefreshWith(0, "")
	out, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
	if err != nil || out.AccessToken == nil {
		t.Fatalf("after recovery: %+v %v", out, err)
	}

	// invalid_grant: the grant is dropped and a new consent is asked for.
	clock.Advance(11 * time.Minute)
	google.FailRefreshWith(400, "invalid_grant")
	out, err = f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
	if err != nil || out.AccessToken != nil || out.AuthorizationUrl == nil || out.SessionStatus != dptypes.SessionStatusInProgress {
		t.Fatalf("after invalid_grant: %+v %v", out, err)
	}
}
