package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

// benchPool is a pool with one user signed in, on a benchmark server.
type benchPool struct {
	s       *testServer
	cog     *cip.Client
	f       poolFixture
	refresh string
	access  string
}

func newBenchPool(b *testing.B) *benchPool {
	b.Helper()
	s := startBenchServer(b)
	cog := cip.New(cip.Options{
		BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, ""),
		HTTPClient:  &http.Client{Transport: benchTransport()},
	})
	ctx := context.Background()
	pool, err := cog.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	client, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: pool.UserPool.Id, ClientName: aws.String("bench-app"), GenerateSecret: true,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		b.Fatal(err)
	}
	p := &benchPool{s: s, cog: cog, f: poolFixture{aws.ToString(pool.UserPool.Id), aws.ToString(client.UserPoolClient.ClientId), aws.ToString(client.UserPoolClient.ClientSecret)}}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		if _, err := cog.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(p.f.poolID), Username: aws.String(u), MessageAction: types.MessageActionTypeSuppress}); err != nil {
			b.Fatal(err)
		}
		if _, err := cog.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(p.f.poolID), Username: aws.String(u), Password: aws.String("Corr3ct-Horse!"), Permanent: true}); err != nil {
			b.Fatal(err)
		}
	}
	out, err := p.f.signIn(ctx, cog, "alice", "Corr3ct-Horse!")
	if err != nil {
		b.Fatal(err)
	}
	p.refresh, p.access = aws.ToString(out.AuthenticationResult.RefreshToken), aws.ToString(out.AuthenticationResult.AccessToken)
	return p
}

// The floor of password sign-in: argon2id at OWASP's parameters
// (19 MiB, t=2, p=1), on every core.
func BenchmarkArgon2idRaw(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := userpool.HashPassword(behalf.Secret("Corr3ct-Horse!"), userpool.DefaultHashParams); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// InitiateAuth USER_PASSWORD_AUTH with SECRET_HASH through the official
// client: the argon2id verification dominates.
func BenchmarkInitiateAuthPassword(b *testing.B) {
	p := newBenchPool(b)
	users := []string{"alice", "bob", "carol", "dave"}
	var i atomicCounter
	runTimed(b, func() error {
		out, err := p.f.signIn(context.Background(), p.cog, users[i.next()%len(users)], "Corr3ct-Horse!")
		if err == nil && out.AuthenticationResult == nil {
			err = fmt.Errorf("no tokens")
		}
		return err
	})
}

// The floor of minting tokens: RS256 (2048-bit) signatures on every core.
func BenchmarkRS256Raw(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"sub":"x","exp":9999999999}`)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := jws.Sign(payload, jws.WithKey(jwa.RS256(), key)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// REFRESH_TOKEN_AUTH through the official client: one refresh-token lookup
// and two RS256 signatures (access and ID token) per call.
func BenchmarkRefreshTokenAuth(b *testing.B) {
	p := newBenchPool(b)
	runTimed(b, func() error {
		_, err := p.f.refresh(context.Background(), p.cog, "alice", p.refresh)
		return err
	})
}

// Token verification from the JWKS: GetWorkloadAccessTokenForJWT with a
// pool access token (the pool is a trusted issuer with no setup); compare
// with BenchmarkBaseline.
func BenchmarkPoolTokenForJWT(b *testing.B) {
	p := newBenchPool(b)
	ctx := context.Background()
	control := ctl.New(ctl.Options{BaseEndpoint: aws.String(p.s.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(p.s.KeyID, p.s.Secret, "")})
	if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		b.Fatal(err)
	}
	client := benchDataPlane(p.s, benchTransport())
	in := &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("agent"), UserToken: aws.String(p.access)}
	runTimed(b, func() error {
		_, err := client.GetWorkloadAccessTokenForJWT(ctx, in)
		return err
	})
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int { return int(c.n.Add(1)) }
