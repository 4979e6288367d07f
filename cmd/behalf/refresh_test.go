package main

import (
	"context"
	"errors"
	"testing"
	"time"

	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

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
