// Package driveagent is the Drive agent of the AgentCore Identity
// walkthrough, the Go version of its agent.py, written on the agent SDK:
// it gets the user's Google token through AgentCore Identity (or Behalf)
// and lists the user's Google Drive files.
//
// It is a package rather than example code because the behalf binary uses
// it (`behalf demo` runs it; `behalf sandbox` and `behalf bench` use its
// provider name and scope), and the binary does not import examples/. examples/drive-agent is a thin
// main over it, and the tests run it in process.
package driveagent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/behalf-dev/behalf/agent"
)

// Scope is the Google scope the agent asks for: file metadata, read-only.
const Scope = "https://www.googleapis.com/auth/drive.metadata.readonly"

// DefaultProvider is the credential provider's name unless
// GOOGLE_PROVIDER_NAME says otherwise.
const DefaultProvider = "google-drive-provider"

// AuthMessage is what the agent tells a user who has to consent first.
const AuthMessage = "Please visit the URL to authorize access to your Google Drive, then invoke again."

// CustomParameters are added to Google's authorization request.
// access_type=offline makes Google issue a refresh token, which AgentCore
// Identity stores and uses to renew the access token without asking the
// user again; prompt=consent makes Google issue it even when the user
// consented before (Google only returns a refresh token on the first
// consent otherwise, so a re-consent after a lost or revoked grant would
// leave the vault without one).
var CustomParameters = map[string]string{"access_type": "offline", "prompt": "consent"}

// Config configures the agent.
type Config struct {
	// Provider is the credential provider's name (default DefaultProvider).
	Provider string
	// DriveEndpoint overrides the Drive API base URL, such as
	// "http://127.0.0.1:8000/drive/v3/" for a stand-in; "" means Google.
	DriveEndpoint string
	// CallbackURL is the return URL used when the invocation carries no
	// OAuth2CallbackUrl header (local development).
	CallbackURL string
	// HTTPClient carries Drive calls (the bearer token is added to its
	// transport); nil means http.DefaultClient.
	HTTPClient *http.Client
}

// ConfigFromEnv reads GOOGLE_PROVIDER_NAME, DRIVE_ENDPOINT and
// OAUTH2_CALLBACK_URL.
func ConfigFromEnv() Config {
	return Config{
		Provider:      os.Getenv("GOOGLE_PROVIDER_NAME"),
		DriveEndpoint: os.Getenv("DRIVE_ENDPOINT"),
		CallbackURL:   os.Getenv("OAUTH2_CALLBACK_URL"),
	}
}

// Request is the invocation payload.
type Request struct {
	Prompt string `json:"prompt"`
}

// File is one Drive file in the answer.
type File struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
}

// AuthRequired is the answer when the user must consent first.
type AuthRequired struct {
	Status  string `json:"status"` // "auth_required"
	AuthURL string `json:"auth_url"`
	Message string `json:"message"`
}

// Success is the answer with the user's files.
type Success struct {
	Status string `json:"status"` // "success"
	Files  []File `json:"files"`
}

// New returns the agent's App. client is the identity client (nil: the
// package default, from the standard AWS configuration).
func New(cfg Config, client *agent.Client) *agent.App {
	app := agent.NewApp(agent.Typed(cfg.Invoke))
	app.Client = client
	return app
}

// Invoke handles one invocation: it answers AuthRequired until the user
// has consented, then Success with up to 10 of the user's files.
func (cfg Config) Invoke(ctx context.Context, _ Request) (any, error) {
	if agent.CallbackURL(ctx) == "" && cfg.CallbackURL != "" {
		ctx = agent.WithCallbackURL(ctx, cfg.CallbackURL)
	}
	token, err := agent.AccessToken(ctx, cfg.tokenRequest(false))
	if ar, ok := errors.AsType[*agent.AuthRequiredError](err); ok {
		return authRequired(ar), nil
	}
	if err != nil {
		return nil, err
	}
	files, err := cfg.listFiles(ctx, token)
	if gerr, ok := errors.AsType[*googleapi.Error](err); ok && gerr.Code == http.StatusUnauthorized {
		// Google no longer accepts the vaulted token (revoked by the
		// user, for example): ask for a new consent.
		_, err = agent.AccessToken(ctx, cfg.tokenRequest(true))
		if ar, ok := errors.AsType[*agent.AuthRequiredError](err); ok {
			return authRequired(ar), nil
		}
		if err != nil {
			return nil, err
		}
		return nil, errors.New("the access token was rejected by Google Drive")
	}
	if err != nil {
		return nil, err
	}
	return Success{Status: "success", Files: files}, nil
}

func authRequired(ar *agent.AuthRequiredError) AuthRequired {
	return AuthRequired{Status: "auth_required", AuthURL: ar.URL, Message: AuthMessage}
}

func (cfg Config) tokenRequest(force bool) agent.TokenRequest {
	provider := cfg.Provider
	if provider == "" {
		provider = DefaultProvider
	}
	return agent.TokenRequest{
		Provider: provider, Scopes: []string{Scope}, Flow: agent.FlowUserFederation,
		CustomParameters: CustomParameters, ForceAuthentication: force, ReturnAuthURL: true,
	}
}

// listFiles calls Drive files.list with token.
func (cfg Config) listFiles(ctx context.Context, token string) ([]File, error) {
	base := cfg.HTTPClient
	if base == nil {
		base = http.DefaultClient
	}
	hc := *base
	hc.Transport = &bearer{token: token, next: base.Transport}
	opts := []option.ClientOption{option.WithHTTPClient(&hc)}
	if ep := cfg.DriveEndpoint; ep != "" {
		if !strings.HasSuffix(ep, "/") {
			ep += "/"
		}
		opts = append(opts, option.WithEndpoint(ep))
	}
	srv, err := drive.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("drive client: %w", err)
	}
	list, err := srv.Files.List().PageSize(10).Fields("files(id,name,mimeType)").Context(ctx).Do()
	if err != nil {
		return nil, fmt.Errorf("listing Drive files: %w", err)
	}
	files := make([]File, 0, len(list.Files))
	for _, f := range list.Files {
		files = append(files, File{ID: f.Id, Name: f.Name, MimeType: f.MimeType})
	}
	return files, nil
}

// bearer adds the user's access token to each request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	next := b.next
	if next == nil {
		next = http.DefaultTransport
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return next.RoundTrip(r)
}
