package oidcop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/internal/ttlcache"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-
// document; the MCP authorization spec's preferred registration): a
// client_id that is an https URL with a path names a JSON document of
// client metadata the client hosts there. At authorize the document is
// fetched through an SSRF-guarded client (internal/safehttp: public
// addresses only unless the operator allows private ones; no redirects;
// maxDocumentBytes; documentTimeout) and cached (Cache-Control max-age,
// within minDocumentTTL and maxDocumentTTL; failures for
// failedDocumentTTL). Its client_id must equal the URL, and the rest is
// read as a registration (parseRegistration: public clients only,
// redirect URIs https or loopback by the pool's TagClientRegistration,
// which also turns documents off). The pool keeps the client as an app
// client whose id is derived from the URL (DocumentClients), so the token
// endpoint, refresh, revocation and access-token checks treat it as any
// dynamically registered client; the token endpoint takes the URL as
// client_id. Its sign-ins always show the login page, which names the
// document's host.

// Bounds of a client ID metadata document.
const (
	maxDocumentURL     = 1024
	maxDocumentBytes   = 64 << 10
	documentTimeout    = 5 * time.Second
	minDocumentTTL     = time.Minute
	defaultDocumentTTL = 5 * time.Minute
	maxDocumentTTL     = 24 * time.Hour
	failedDocumentTTL  = 30 * time.Second
)

// DocumentClients is what a UserPoolService offers, beyond
// behalf.UserPoolService, to keep the app clients of client ID metadata
// documents (userpool.Service does). Without it, an https client_id is an
// unknown client.
type DocumentClients interface {
	// DocumentClientID is the id of the app client a pool keeps for a
	// document URL.
	DocumentClientID(poolID, documentURL string) string
	// PutDocumentClient creates or updates that client with in's
	// settings.
	PutDocumentClient(ctx context.Context, documentURL string, in behalf.UserPoolClientInput) (*behalf.AppClient, error)
}

// WithClientMetadataDocuments turns on client ID metadata documents,
// fetched under o (its AllowPrivate and Resolver; the timeout and
// redirects are this package's). Pools advertise
// client_id_metadata_document_supported unless their
// TagClientRegistration is off.
func WithClientMetadataDocuments(o safehttp.Options) Option {
	o.Timeout, o.MaxRedirects = documentTimeout, -1
	return func(p *Provider) { p.docHTTP = safehttp.NewClient(o) }
}

// documentEntry is a cached fetch: the body, or why it failed.
type documentEntry struct {
	body    []byte
	problem string
}

// documentCache caches fetched documents by URL.
type documentCache = ttlcache.Cache[string, documentEntry]

// documentsOn reports whether the Provider serves documents at all.
func (p *Provider) documentsOn() bool {
	_, ok := p.svc.(DocumentClients)
	return ok && p.docHTTP != nil
}

// isDocumentClientID reports whether a client_id is a URL to be read as a
// metadata document.
func isDocumentClientID(id string) bool { return strings.HasPrefix(id, "https://") }

// checkDocumentURL checks a client_id URL as the draft requires: https,
// a host, a path other than "/", no dot segments, fragment, user
// information, spaces or control characters.
func checkDocumentURL(raw string) error {
	bad := func(why string) error {
		return errInvalidRequestNoRedirect("The client_id is a URL but not a client ID metadata document's: " + why)
	}
	if len(raw) > maxDocumentURL {
		return bad("it is longer than " + strconv.Itoa(maxDocumentURL) + " bytes.")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) || strings.Contains(raw, "#") {
		return bad("it has spaces, control characters or a fragment.")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return bad("it is not an absolute https URL.")
	}
	if u.User != nil {
		return bad("it has user information.")
	}
	if u.Path == "" || u.Path == "/" {
		return bad("it has no path.")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return bad("it has a . or .. path segment.")
		}
	}
	return nil
}

// documentRefused is the error of a document that cannot be used: shown
// on a page, never redirected (its redirect URIs are not to be trusted).
func documentRefused(why string) *oidc.Error {
	return errInvalidRequestNoRedirect("The client's metadata document cannot be used: " + why)
}

// documentClient returns the client a metadata document describes, for an
// authorization request of the pool on ctx: fetched (or cached), checked,
// and kept as the pool's app client.
func (p *Provider) documentClient(ctx context.Context, pool *behalf.UserPool, clientID, redirectURI string) (*client, error) {
	dc, _ := p.svc.(DocumentClients)
	if !p.documentsOn() {
		return nil, errInvalidRequestNoRedirect("The client_id is not a client of this user pool.")
	}
	mode := pool.ClientRegistration()
	if mode == behalf.ClientRegistrationOff {
		return nil, errInvalidRequestNoRedirect("This user pool does not accept clients identified by a metadata document URL; ask its administrator for a client.")
	}
	if err := checkDocumentURL(clientID); err != nil {
		return nil, err
	}
	body, problem := p.fetchDocument(ctx, clientID)
	if problem != "" {
		return nil, documentRefused(problem)
	}
	in, err := parseDocument(body, clientID, pool.ID, mode)
	if err != nil {
		return nil, err
	}
	if redirectURI != "" && !slices.Contains(in.CallbackURLs, redirectURI) {
		// Checked again by VerifyAuthRequest; here so that nothing is kept.
		return nil, errInvalidRequestNoRedirect("The redirect_uri is not one of this client's callback URLs.")
	}
	id := dc.DocumentClientID(pool.ID, clientID)
	app, err := p.store.GetAppClient(ctx, id)
	switch {
	case err == nil && app.PoolID != pool.ID:
		return nil, p.serverError(ctx, "document client", errors.New("document client id of another pool"))
	case err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND:
		return nil, p.serverError(ctx, "get document client", err)
	case err != nil && p.maxRegistered > 0:
		n, err := p.store.CountRegisteredAppClients(ctx, pool.ID, p.maxRegistered)
		if err != nil {
			return nil, p.serverError(ctx, "count registered clients", err)
		}
		if n >= p.maxRegistered {
			p.log.WarnContext(ctx, "hosted login: refusing a metadata document client, the pool has as many registered clients as allowed",
				"pool", pool.ID, "limit", p.maxRegistered)
			return nil, errInvalidRequestNoRedirect("This user pool has as many registered clients as it may keep; ask its administrator.")
		}
	}
	app, err = dc.PutDocumentClient(ctx, clientID, *in)
	if err != nil {
		switch behalf.CognitoException(err) {
		case behalf.CognitoInvalidParameter, behalf.CognitoScopeDoesNotExist:
			return nil, documentRefused(behalf.ErrorMessage(err))
		}
		return nil, p.serverError(ctx, "put document client", err)
	}
	return &client{app: app, documentURL: clientID}, nil
}

// documentFields are the members of a document checked besides the
// registration metadata (parseRegistration).
type documentFields struct {
	ClientID              *string         `json:"client_id"`
	ClientName            *string         `json:"client_name"`
	ClientSecret          json.RawMessage `json:"client_secret"`
	ClientSecretExpiresAt json.RawMessage `json:"client_secret_expires_at"`
}

// parseDocument checks a document fetched from documentURL for a pool
// whose TagClientRegistration is mode, and returns the app client it
// describes. Its errors are *oidc.Error, shown on a page.
func parseDocument(body []byte, documentURL, poolID, mode string) (*behalf.UserPoolClientInput, error) {
	var f documentFields
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, documentRefused("it is not a JSON object of client metadata (" + jsonProblem(err) + ")")
	}
	if name := inexactMember(body); name != "" {
		return nil, documentRefused(fmt.Sprintf("member names are case-sensitive: %q is not a client metadata member.", clipName(name)))
	}
	switch {
	case f.ClientID == nil:
		return nil, documentRefused("it has no client_id.")
	case *f.ClientID != documentURL:
		return nil, documentRefused("its client_id is not the URL it was fetched from.")
	case f.ClientSecret != nil || f.ClientSecretExpiresAt != nil:
		return nil, documentRefused("it holds a client secret, which a metadata document must not.")
	case f.ClientName == nil:
		return nil, documentRefused("it has no client_name.")
	}
	in, _, err := parseRegistration(body, poolID, mode)
	if err != nil {
		return nil, documentRefused(strings.TrimSuffix(err.(*registrationError).Description, "."))
	}
	return in, nil
}

// fetchDocument returns a document's body, from the cache or fetched, or
// a problem in plain words (also cached, briefly).
func (p *Provider) fetchDocument(ctx context.Context, documentURL string) ([]byte, string) {
	now := p.clock()
	if e, ok := p.docs.Get(documentURL, now); ok {
		return e.body, e.problem
	}
	body, ttl, problem := p.getDocument(ctx, documentURL)
	if problem != "" {
		p.log.InfoContext(ctx, "hosted login: client ID metadata document refused", "url", documentURL, "problem", problem)
		ttl = failedDocumentTTL
	}
	p.docs.Put(documentURL, documentEntry{body: body, problem: problem}, now.Add(ttl))
	return body, problem
}

// getDocument fetches a document with the guarded client.
func (p *Provider) getDocument(ctx context.Context, documentURL string) (body []byte, ttl time.Duration, problem string) {
	ctx, cancel := context.WithTimeout(ctx, documentTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, documentURL, nil)
	if err != nil {
		return nil, 0, "its URL is not valid."
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.docHTTP.Do(req)
	if err != nil {
		var se *safehttp.Error
		if errors.As(err, &se) {
			return nil, 0, "it could not be fetched: " + se.Msg + "."
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, 0, "it could not be fetched in " + documentTimeout.String() + "."
		}
		return nil, 0, "it could not be fetched."
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, "its server answered " + strconv.Itoa(resp.StatusCode) + ", not 200."
	}
	tooLarge := "it is larger than " + strconv.Itoa(maxDocumentBytes>>10) + " KiB."
	if resp.ContentLength > maxDocumentBytes {
		return nil, 0, tooLarge
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, 0, "it could not be fetched in " + documentTimeout.String() + "."
	case err != nil:
		return nil, 0, "it could not be read."
	case len(body) > maxDocumentBytes:
		return nil, 0, tooLarge
	}
	return body, documentTTL(resp.Header.Get("Cache-Control")), ""
}

// documentTTL is how long a document is cached: its Cache-Control
// max-age within [minDocumentTTL, maxDocumentTTL] (no-store and no-cache
// count as 0), defaultDocumentTTL without one.
func documentTTL(cacheControl string) time.Duration {
	ttl := defaultDocumentTTL
	for _, d := range strings.Split(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return minDocumentTTL
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && n >= 0 {
				ttl = time.Duration(min(n, int64(maxDocumentTTL/time.Second))) * time.Second
			}
		}
	}
	return min(max(ttl, minDocumentTTL), maxDocumentTTL)
}
