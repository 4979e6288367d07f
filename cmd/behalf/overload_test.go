package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// slowRequest is a request whose body arrives only when finish is called:
// until then the server holds it in flight, reading.
type slowRequest struct {
	conn net.Conn
	rest string
}

// startSlowRequest sends the headers and the first byte of a POST of body
// to path.
func startSlowRequest(t *testing.T, s *testServer, path, body string) *slowRequest {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: behalf\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body[:1])
	return &slowRequest{conn: conn, rest: body[1:]}
}

// finish sends the rest of the body and returns the answer's status.
func (r *slowRequest) finish(t *testing.T) int {
	t.Helper()
	if _, err := r.conn.Write([]byte(r.rest)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(r.conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitForGauge scrapes the metrics until the series reads want.
func waitForGauge(t *testing.T, url, name string, want float64) {
	t.Helper()
	for scrapeMetrics(t, url)[name] != want {
		time.Sleep(5 * time.Millisecond)
	}
}

// Ensure overload is shed (issue 11, reliability 1: at 10× the sustainable
// rate the root key got 0 × 429/503 and RSS grew to 1.23 GB): with
// --max-in-flight 2 requests held in flight, the next is refused at once
// in its API's own shape with Retry-After (AgentCore's 429
// ThrottlingException, Cognito's TooManyRequestsException, the hosted
// login's busy page), the health checks still answer, and invocations
// have a bound of their own; once a slot is free requests are served
// again. The refusals are counted by bound and by operation.
func TestOverloadShed(t *testing.T) {
	metricsAddr := freeLoopbackAddr(t)
	metricsURL := "http://" + metricsAddr + "/metrics"
	s := mustRunMain(t, "", "--allow-private-endpoints", "--metrics-listen", metricsAddr,
		"--max-in-flight", "2", "--max-invocations-in-flight", "1", "--queue-wait", "0")
	ctx := context.Background()
	root := s.client(t)
	if _, err := root.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	agent := newInvAgent(t)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	agent.set(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.Write([]byte(`{"ok":true}`))
	})
	runtimeARN := createTestRuntime(t, root, "held", agent.srv.URL+"/", nil)
	before := scrapeMetrics(t, metricsURL)

	// Two requests in flight on the API, whose bodies are still coming.
	held := []*slowRequest{
		startSlowRequest(t, s, "/identities/GetWorkloadIdentity", `{"name":"agent"}`),
		startSlowRequest(t, s, "/identities/GetWorkloadIdentity", `{"name":"agent"}`),
	}
	waitForGauge(t, metricsURL, series("behalf_in_flight_requests", "bound", "in_flight"), 2)

	// AgentCore: 429 ThrottlingException with Retry-After, on the wire and to the SDK.
	resp, err := http.DefaultClient.Do(signedRequest(t, s, "/identities/GetWorkloadIdentity", []byte(`{"name":"agent"}`), s.KeyID, s.Secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	wantThrottled(t, "AgentCore over --max-in-flight", readThrottled(t, resp), "application/json", "ThrottlingException", `"retryAfterSeconds":1`)
	var te *ctltypes.ThrottlingException
	if _, err := root.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String("agent")}); !errors.As(err, &te) {
		t.Fatalf("SDK over --max-in-flight: %v, want ThrottlingException", err)
	}
	// Cognito: TooManyRequestsException (400), for administration and sign-in alike.
	wantThrottled(t, "Cognito admin over --max-in-flight", readThrottled(t, cognitoPost(t, s, "ListUserPools", []byte(`{"MaxResults":10}`), "cognito-idp")),
		"application/x-amz-json-1.1", "TooManyRequestsException", `"__type":"TooManyRequestsException"`)
	var tmr *ciptypes.TooManyRequestsException
	if _, err := s.cognito(t).ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)}); !errors.As(err, &tmr) {
		t.Fatalf("Cognito SDK over --max-in-flight: %v, want TooManyRequestsException", err)
	}
	// The hosted login: a busy page.
	resp, err = http.Get(s.URL + "/us-east-1_AbC123/login?client_id=x")
	if err != nil {
		t.Fatal(err)
	}
	wantThrottled(t, "hosted login over --max-in-flight", readThrottled(t, resp), "text/html", "", "The server is busy")
	// The health checks are not bounded.
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s over --max-in-flight: %d, want 200", p, resp.StatusCode)
		}
	}

	// Invocations have their own bound: one held, the next refused.
	data := s.dataPlane(t, s.KeyID, s.Secret)
	invoke := func() error {
		_, err := data.InvokeAgentRuntime(ctx, &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String(runtimeARN), Payload: []byte(`{}`)})
		return err
	}
	first := make(chan error, 1)
	go func() { first <- invoke() }()
	<-entered
	var dte *dptypes.ThrottlingException
	if err := invoke(); !errors.As(err, &dte) {
		t.Fatalf("invocation over --max-invocations-in-flight: %v, want ThrottlingException", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("the invocation in flight: %v", err)
	}

	// Slots free: served again.
	for _, r := range held {
		if code := r.finish(t); code == http.StatusTooManyRequests {
			t.Fatalf("a request in flight was answered %d", code)
		}
	}
	waitForGauge(t, metricsURL, series("behalf_in_flight_requests", "bound", "in_flight"), 0)
	if _, err := root.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatalf("with slots free: %v", err)
	}

	after := scrapeMetrics(t, metricsURL)
	assertDeltas(t, before, after, map[string]float64{
		series("behalf_rate_limited_total", "limit", "in_flight"):                                   5,
		series("behalf_rate_limited_total", "limit", "invocations_in_flight"):                       1,
		series("behalf_requests_total", "operation", "GetWorkloadIdentity", "outcome", "throttled"): 2,
		series("behalf_requests_total", "operation", "ListUserPools", "outcome", "throttled"):       2,
		series("behalf_requests_total", "operation", "HostedLogin", "outcome", "throttled"):         1,
		series("behalf_requests_total", "operation", "InvokeAgentRuntime", "outcome", "throttled"):  1,
	})
	if strings.Contains(s.Log.String(), "level=ERROR") {
		t.Errorf("overload logged errors:\n%s", s.Log.String())
	}
}

// Ensure the overload flags' defaults and their validation.
func TestOverloadFlags(t *testing.T) {
	m := &Main{Config: DefaultConfig()}
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if c := m.Config.Overload; c.MaxConnections < c.MaxInFlight || c.MaxInFlight < 64 || c.MaxInvocations < c.MaxInFlight || c.QueueWait <= 0 {
		t.Fatalf("defaults %+v: want bounds on by default", c)
	}
	for _, flag := range []string{"--max-connections", "--max-in-flight", "--max-invocations-in-flight", "--queue-wait", "--max-password-hashes", "--db-max-conns"} {
		v := "-1"
		if flag == "--queue-wait" {
			v = "-1s"
		}
		if err := (&Main{Config: DefaultConfig()}).ParseFlags([]string{flag, v}); err == nil {
			t.Errorf("%s %s was accepted", flag, v)
		}
	}
}
