package main

// Attack tests of issue 11, Security 1 (keys that outlive their workload),
// on the harness of attack_test.go: a real `behalf serve`, the official
// clients.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// runAttackOnBackends runs one attack on a fresh server on every backend
// (SQLite, and PostgreSQL when BEHALF_TEST_POSTGRES_DSN is set), then the
// leak sweep: for attacks whose defence lives partly in the store.
func runAttackOnBackends(t *testing.T, attack func(t *testing.T, e *attackEnv)) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			clock := &testClock{}
			google := fakeprovider.New(t, fakeprovider.Options{Now: clock.Now})
			s := startMain(t, serverOptions{database: dsn(t), now: clock.Now, args: []string{"--allow-private-endpoints"}})
			e := &attackEnv{clock: clock, google: google, s: s, f: newFlowFixture(t, s, google), browser: atkNoRedirect(t)}
			attack(t, e)
			e.assertNoLeaks(t, false)
		})
	}
}

// atkKey is a created access key.
type atkKey struct {
	ID     string `json:"accessKeyId"`
	Secret string `json:"secretAccessKey"`
}

// scopedKey creates an access key scoped to workload with the root key.
func (e *attackEnv) scopedKey(t *testing.T, workload string) atkKey {
	t.Helper()
	var k atkKey
	if code := e.rawPost(t, "/behalf/CreateAccessKey", `{"workloadName":"`+workload+`"}`, e.s.KeyID, e.s.Secret, &k); code != http.StatusCreated || k.ID == "" || k.Secret == "" {
		t.Fatalf("CreateAccessKey(%s): %d %+v", workload, code, k.ID)
	}
	e.keep("scoped secret access key", k.Secret)
	return k
}

// within calls try until it returns an error or bound (plus a second of
// slack) has passed, and returns the error; it fails t if try kept
// succeeding.
func within(t *testing.T, bound time.Duration, what string, try func() error) error {
	t.Helper()
	deadline := time.Now().Add(bound + time.Second)
	for {
		err := try()
		if err != nil {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still works %v later", what, bound)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------
// Issue 11, Security 1: a workload-scoped access key outlives its workload
// and works again for a new workload of the same name.

func TestAttackKeyOutlivesWorkload(t *testing.T) { runAttackOnBackends(t, attackKeyOutlivesWorkload) }

func attackKeyOutlivesWorkload(t *testing.T, e *attackEnv) {
	ctx, root := context.Background(), e.f.dp
	create := func() {
		t.Helper()
		if _, err := e.f.ctl.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
			Name: aws.String("tmpw"), AllowedResourceOauth2ReturnUrls: []string{e.f.appURL},
		}); err != nil {
			t.Fatal(err)
		}
	}
	create()
	key := e.scopedKey(t, "tmpw")
	scoped := e.s.dataPlane(t, key.ID, key.Secret)
	// The key works, and its WAT fetches tokens (a session here): the key
	// is now in the server's key cache too.
	oldWAT := e.wat(t, scoped, "tmpw", "grace")
	e.start(t, scoped, oldWAT)

	// The admin deletes the workload; someone creates one of the same name.
	if _, err := e.f.ctl.DeleteWorkloadIdentity(ctx, &ctl.DeleteWorkloadIdentityInput{Name: aws.String("tmpw")}); err != nil {
		t.Fatal(err)
	}
	create()

	t.Run("KeyRefused", func(t *testing.T) {
		// Deleted with its workload, the key stops working within
		// identity.KeyCacheTTL, like any deleted key.
		err := within(t, identity.KeyCacheTTL, "the deleted workload's key", func() error {
			_, err := scoped.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String("tmpw"), UserId: aws.String("grace")})
			return err
		})
		if ade := atkAs[*dptypes.AccessDeniedException](t, err, "a deleted workload's key"); !strings.Contains(aws.ToString(ade.Message), "security token included in the request is invalid") {
			t.Fatalf("message %q, want the unknown-key message", aws.ToString(ade.Message))
		}
		if _, ok := accessKeys(t, e.s)[key.ID]; ok {
			t.Fatalf("key %s is still listed after its workload was deleted", key.ID)
		}
	})
	t.Run("OldWATRefused", func(t *testing.T) {
		// Even with the root key, the WAT minted for the deleted workload
		// fetches nothing for the new one.
		err := within(t, identity.ConfigCacheTTL, "the deleted workload's WAT", func() error {
			_, err := root.GetResourceOauth2Token(ctx, e.f.tokenRequest(oldWAT, ""))
			return err
		})
		atkAs[*dptypes.UnauthorizedException](t, err, "a deleted workload's WAT")
	})
	t.Run("NewKeyWorks", func(t *testing.T) {
		k := e.scopedKey(t, "tmpw")
		c := e.s.dataPlane(t, k.ID, k.Secret)
		e.start(t, c, e.wat(t, c, "tmpw", "grace"))
	})
	t.Run("Runtime", func(t *testing.T) {
		// A runtime's workload takes its keys with it too (behalf runtime
		// create -- COMMAND makes one for the agent it starts).
		out, err := e.f.ctl.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
			AgentRuntimeName:     aws.String("tmp_rt"),
			AgentRuntimeArtifact: containerArtifact(e.google.URL),
			RoleArn:              aws.String("arn:aws:iam::123456789012:role/agent"),
			NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
		})
		if err != nil {
			t.Fatal(err)
		}
		workload := workloadName(t, out.WorkloadIdentityDetails)
		k := e.scopedKey(t, workload)
		c := e.s.dataPlane(t, k.ID, k.Secret)
		e.wat(t, c, workload, "grace")
		if _, err := e.f.ctl.DeleteAgentRuntime(ctx, &ctl.DeleteAgentRuntimeInput{AgentRuntimeId: out.AgentRuntimeId}); err != nil {
			t.Fatal(err)
		}
		if _, ok := accessKeys(t, e.s)[k.ID]; ok {
			t.Fatalf("key %s of runtime workload %s is still listed after the runtime was deleted", k.ID, workload)
		}
		// Until the key cache forgets it the key authenticates (and finds
		// no workload); then the key itself is refused.
		err = within(t, identity.KeyCacheTTL, "a deleted runtime's key", func() error {
			_, err := c.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String(workload)})
			var ade *dptypes.AccessDeniedException
			if errors.As(err, &ade) {
				return err
			}
			return nil
		})
		if ade := atkAs[*dptypes.AccessDeniedException](t, err, "a deleted runtime's key"); !strings.Contains(aws.ToString(ade.Message), "security token included in the request is invalid") {
			t.Fatalf("message %q, want the unknown-key message", aws.ToString(ade.Message))
		}
	})
}
