package behalf

import (
	"context"
	"time"
)

// WorkloadIdentity is an agent's identity, with the exact return URLs its
// OAuth flows may come back to.
type WorkloadIdentity struct {
	// ID is the identity's immutable id (Behalf-specific, not in
	// AgentCore's model): the store gives each created workload a new one,
	// never reused, so a deleted workload and a later one of the same name
	// are told apart. Workload-scoped access keys and workload access
	// tokens are bound to it.
	ID                string
	Name              string
	AllowedReturnURLs []string
	Tags              map[string]string
	// Inbound is the identity provider the workload's users sign in with
	// at Behalf's binding page (Behalf-specific: not in AgentCore's model).
	Inbound   WorkloadInbound
	CreatedAt time.Time
	UpdatedAt time.Time
}

// WorkloadInbound is the OpenID provider a workload's users sign in with
// when Behalf completes a session binding itself
// ({public-url}/identities/oauth2/bind as the return URL). A zero Issuer
// means none is configured.
type WorkloadInbound struct {
	// Issuer is a user pool's issuer ({public-url}/{poolId}) or a
	// registered trusted issuer.
	Issuer   string
	ClientID string
	// ClientSecret is sealed under WorkloadSeal(name, "inbound_client_secret");
	// nil for a public client.
	ClientSecret Sealed
	// BindRedirectURL, when set, is the app URL the done page links back to.
	BindRedirectURL string
}

// WorkloadSeal is the seal context of a workload's sealed fields.
func WorkloadSeal(name, field string) SealContext {
	return SealContext{Kind: "workload", Key: name, Field: field}
}

// WorkloadBindingInput sets a workload's inbound identity provider.
type WorkloadBindingInput struct {
	WorkloadName string
	Issuer       string
	ClientID     string
	// ClientSecret is optional (confidential clients).
	ClientSecret Secret
	// RedirectURL is optional: an https (or loopback http) app URL.
	RedirectURL string
}

// WorkloadStore persists workload identities.
type WorkloadStore interface {
	// CreateWorkload inserts w, first setting an empty w.ID to a new
	// random id. Returns ECONFLICT if the name (or the id) exists.
	CreateWorkload(ctx context.Context, w *WorkloadIdentity) error
	// GetWorkload returns ENOTFOUND if the name does not exist.
	GetWorkload(ctx context.Context, name string) (*WorkloadIdentity, error)
	// UpdateWorkload loads the identity, applies fn inside one transaction
	// and stores the result. Returns ENOTFOUND, or fn's error unchanged.
	UpdateWorkload(ctx context.Context, name string, fn func(*WorkloadIdentity) error) (*WorkloadIdentity, error)
	// DeleteWorkload deletes the identity and, in the same transaction,
	// the access keys scoped to it. Returns ENOTFOUND if the name does not
	// exist.
	DeleteWorkload(ctx context.Context, name string) error
	// ListWorkloads returns identities ordered by name.
	ListWorkloads(ctx context.Context, opt ListOptions) ([]*WorkloadIdentity, error)
}

// WorkloadInput is what an admin sets on a workload identity.
type WorkloadInput struct {
	Name              string
	AllowedReturnURLs []string
	Tags              map[string]string
}

// WorkloadService manages workload identities.
type WorkloadService interface {
	// CreateWorkload returns EINVALID or ECONFLICT.
	CreateWorkload(ctx context.Context, in WorkloadInput) (*WorkloadIdentity, error)
	// GetWorkload returns EINVALID or ENOTFOUND.
	GetWorkload(ctx context.Context, name string) (*WorkloadIdentity, error)
	// UpdateWorkload replaces the allowed return URLs. Returns EINVALID or ENOTFOUND.
	UpdateWorkload(ctx context.Context, name string, returnURLs []string) (*WorkloadIdentity, error)
	// DeleteWorkload returns EINVALID or ENOTFOUND.
	DeleteWorkload(ctx context.Context, name string) error
	// ListWorkloads returns one page. Returns EINVALID for a bad token or size.
	ListWorkloads(ctx context.Context, page PageRequest) ([]*WorkloadIdentity, string, error)
}

// SignInCallbackPath is the redirect URI, under the public URL, of the
// browser sign-ins Behalf makes as a relying party (package web): a
// workload's inbound client must list {public-url}/identities/oauth2/signin/callback.
const SignInCallbackPath = "/identities/oauth2/signin/callback"

// BindPath is Behalf's own session-binding endpoint: a workload that lists
// {public-url}/identities/oauth2/bind among its return URLs has Behalf
// sign the user in with its inbound provider and complete the binding.
const BindPath = "/identities/oauth2/bind"

// BindTarget is what the binding page needs to know about a session
// before the browser's user is known.
type BindTarget struct {
	SessionURI string
	Workload   string
	// Provider is the credential provider's name, ProviderVendor its
	// vendor (VendorDisplayName names it to users).
	Provider       string
	ProviderVendor string
	Scopes         []string
	// Completed reports the session is already bound.
	Completed bool
	// Inbound is the workload's inbound identity provider, with its client
	// secret opened.
	Inbound      WorkloadInbound
	ClientSecret Secret
	// UserIssuer is the issuer of the user who started the flow ("" for a
	// flow started by user id, which no sign-in can prove).
	UserIssuer string
}

// BindResult is what a completed binding granted.
type BindResult struct {
	Workload string
	// Provider is the credential provider's name, ProviderVendor its vendor.
	Provider       string
	ProviderVendor string
	Scopes         []string
	// Account names the provider account that was linked ("" if the
	// provider gave no identity).
	Account string
	// RedirectURL is the workload's BindRedirectURL, "" if none.
	RedirectURL string
	// AlreadyBound: the session had been completed before (a second submit).
	AlreadyBound bool
}

// ErrBindWrongUser is the refusal of a browser signed in as another user
// than the one who started the flow. The session has failed.
var ErrBindWrongUser = Errorf(EFORBIDDEN, "This link was started by someone else's account.")

// ErrBindOtherBrowser is the refusal of a browser that did not open the
// session's authorization URL. The session has failed.
var ErrBindOtherBrowser = Errorf(EFORBIDDEN, "This link was opened in a different browser than the one that approved access.")

// AgentNames names agents as the people they act for know them: not by
// the workload identity an agent runtime or a gateway was given (named
// after its id, "drive_agent-0lYFhaUuqp"), but by the runtime's or the
// gateway's name.
type AgentNames interface {
	// AgentName returns the name of the agent acting through workload:
	// its agent runtime's name for a runtime's workload identity, its
	// gateway's name for a gateway's, else workload itself.
	AgentName(ctx context.Context, workload string) string
}

// BindService completes sessions in the browser (Behalf's binding page).
type BindService interface {
	// BindTarget describes a session waiting for binding, or EINVALID /
	// EFORBIDDEN for an unknown, expired or failed one, or a workload with
	// no inbound provider.
	BindTarget(ctx context.Context, sessionURI string) (*BindTarget, error)
	// BindInBrowser binds the session's token if user (signed in by the
	// browser at the workload's inbound provider) started the flow and the
	// browser holds one of browserKeys of the session's authorization.
	// Otherwise it binds nothing, fails the session (discarding and
	// revoking its token), audits binding.refused and returns
	// ErrBindWrongUser or ErrBindOtherBrowser. A session already completed
	// answers AlreadyBound to the user who started it.
	BindInBrowser(ctx context.Context, sessionURI string, user User, browserKeys []Secret) (*BindResult, error)
}

// WorkloadBindingService sets workloads' inbound identity providers.
type WorkloadBindingService interface {
	// SetWorkloadBinding returns EINVALID or ENOTFOUND. An empty Issuer
	// removes the configuration.
	SetWorkloadBinding(ctx context.Context, in WorkloadBindingInput) (*WorkloadIdentity, error)
}
