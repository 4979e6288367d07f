package identity

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/behalf-dev/behalf"
)

// Metrics is told what the data plane does (package observe counts it in
// Prometheus and traces provider calls); Config.Metrics nil counts
// nothing. Every label value is one of the constants below or a
// provider's name.
type Metrics interface {
	// TokenFetch counts one GetResourceOauth2Token answer (Fetch*).
	TokenFetch(result string)
	// ProviderCall records a call to a provider's token endpoint (Call*)
	// that started at start and ended at end with err. It may be told
	// after the fact: a refresh stores the provider's answer first.
	ProviderCall(ctx context.Context, provider, call string, start, end time.Time, err error)
	// Session counts an authorization session event (Session*).
	Session(event string)
	// BindingRefused counts a session someone else tried to complete.
	BindingRefused()
}

// Results of token fetches.
const (
	FetchVaultHit      = "vault_hit"      // the vaulted token, as it was
	FetchRefreshed     = "refreshed"      // the vaulted token after this call refreshed it
	FetchConsentNeeded = "consent_needed" // an authorization URL (new session or one in progress)
	FetchFailed        = "failed"         // an error, or a session that failed or expired
	FetchM2M           = "m2m"            // a client-credentials token
	FetchOnBehalfOf    = "on_behalf_of"   // an on-behalf-of token (vaulted or just exchanged)
)

// Calls to providers.
const (
	CallExchange          = "exchange"
	CallRefresh           = "refresh"
	CallClientCredentials = "client_credentials"
	CallOnBehalfOf        = "on_behalf_of"
)

// Session events. SessionExpired is counted when a poll finds the session
// expired before it completed.
const (
	SessionStarted   = "started"
	SessionCompleted = "completed"
	SessionFailed    = "failed"
	SessionExpired   = "expired"
)

type noMetrics struct{}

func (noMetrics) TokenFetch(string)                                                         {}
func (noMetrics) ProviderCall(context.Context, string, string, time.Time, time.Time, error) {}
func (noMetrics) Session(string)                                                            {}
func (noMetrics) BindingRefused()                                                           {}

// fetchNote rides in the context of one token fetch and learns whether it
// refreshed the grant.
type fetchNote struct{ refreshed atomic.Bool }

type fetchNoteKey struct{}

// observeFetch starts one token fetch: done counts its answer.
func (d *DataPlane) observeFetch(ctx context.Context, flow string) (context.Context, func(*behalf.TokenResult, error)) {
	n := &fetchNote{}
	return context.WithValue(ctx, fetchNoteKey{}, n), func(res *behalf.TokenResult, err error) {
		d.metrics.TokenFetch(fetchResult(flow, n.refreshed.Load(), res, err))
	}
}

// noteRefreshed marks ctx's token fetch (if any) as having refreshed.
func noteRefreshed(ctx context.Context) {
	if n, ok := ctx.Value(fetchNoteKey{}).(*fetchNote); ok {
		n.refreshed.Store(true)
	}
}

func fetchResult(flow string, refreshed bool, res *behalf.TokenResult, err error) string {
	switch {
	case err != nil || res == nil:
		return FetchFailed
	case !res.AccessToken.IsZero() && flow == behalf.FlowM2M:
		return FetchM2M
	case !res.AccessToken.IsZero() && flow == behalf.FlowOnBehalfOf:
		return FetchOnBehalfOf
	case !res.AccessToken.IsZero() && refreshed:
		return FetchRefreshed
	case !res.AccessToken.IsZero():
		return FetchVaultHit
	case res.AuthorizationURL != "":
		return FetchConsentNeeded
	}
	return FetchFailed
}

// sessionExpired counts a poll that finds s expired before it completed.
func (c *Consent) sessionExpired(s *behalf.AuthSession) {
	if s.Status != behalf.SessionCompleted && s.Status != behalf.SessionFailed && !c.clock.now().Before(s.ExpiresAt) {
		c.metrics.Session(SessionExpired)
	}
}

// countAudit counts the audit events that are also metrics.
func countAudit(m Metrics, e *behalf.AuditEvent) {
	if e.Kind == behalf.AuditBindingRefused {
		m.BindingRefused()
	}
}
