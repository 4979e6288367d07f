package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/observe"
)

// stallingWorkloads is a WorkloadService whose GetWorkload runs until its
// context ends and fails with the context's error, as a store query does
// when its client goes away.
type stallingWorkloads struct {
	behalf.WorkloadService
	entered chan struct{}
}

func (s *stallingWorkloads) GetWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error) {
	s.entered <- struct{}{}
	<-ctx.Done()
	return nil, fmt.Errorf("select workload %q: %w", name, ctx.Err())
}

// stallingPools is the same for the Cognito API's InitiateAuth.
type stallingPools struct {
	behalf.UserPoolService
	entered chan struct{}
}

func (p *stallingPools) InitiateAuth(ctx context.Context, clientID, flow string, params map[string]behalf.Secret) (*behalf.AuthResult, error) {
	p.entered <- struct{}{}
	<-ctx.Done()
	return nil, fmt.Errorf("userpool: get client: %w", ctx.Err())
}

// syncLog is a log buffer safe for the server's goroutines.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Ensure a client that gives up is not a server error (issue 11,
// reliability 1: "internal error … context canceled" was logged 841 times
// under overload): the operation's failure is logged at debug level only,
// the request line says 499, and the request is counted as client_closed,
// never server_error, on the AgentCore and the Cognito APIs alike.
func TestClientGoneIsNotServerError(t *testing.T) {
	logs := &syncLog{}
	metrics := observe.NewMetrics(nil)
	answered := make(chan struct{}, 2)
	workloads := &stallingWorkloads{entered: make(chan struct{}, 1)}
	pools := &stallingPools{entered: make(chan struct{}, 1)}
	s := &Server{
		Workloads: workloads, UserPools: pools, Auth: allowAll{},
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observe: func(r *http.Request, op string, status int, h http.Header, elapsed time.Duration) {
			metrics.Request(r, op, status, h, elapsed)
			answered <- struct{}{}
		},
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	call := func(entered chan struct{}, path, target, body string) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+path, strings.NewReader(body))
		if target != "" {
			req.Header.Set("X-Amz-Target", cognitoTargetPrefix+target)
		}
		errc := make(chan error, 1)
		go func() {
			resp, err := srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		<-entered // the operation runs
		cancel()  // the client gives up
		if err := <-errc; err == nil {
			t.Fatalf("%s%s: the client got an answer", path, target)
		}
		<-answered
	}
	call(workloads.entered, "/identities/GetWorkloadIdentity", "", `{"name":"agent"}`)
	call(pools.entered, "/", "InitiateAuth", `{"ClientId":"c","AuthFlow":"USER_PASSWORD_AUTH"}`)

	log := logs.String()
	if strings.Contains(log, "level=ERROR") || strings.Contains(log, "level=WARN") {
		t.Errorf("a client that went away was logged as a server error:\n%s", log)
	}
	if n := strings.Count(log, "level=DEBUG msg=\"client gone\""); n != 2 {
		t.Errorf("%d debug lines \"client gone\", want 2:\n%s", n, log)
	}
	if n := strings.Count(log, "status=499"); n != 2 {
		t.Errorf("%d request lines with status=499, want 2:\n%s", n, log)
	}
	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`behalf_requests_total{operation="GetWorkloadIdentity",outcome="client_closed"} 1`,
		`behalf_requests_total{operation="InitiateAuth",outcome="client_closed"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(rec.Body.String(), `outcome="server_error"`) {
		t.Errorf("a client that went away was counted as a server error:\n%s", rec.Body)
	}
}
