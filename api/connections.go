package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/route"
)

// UserVerifier checks a user's JWT from a trusted issuer (a Behalf user
// pool or a registered issuer) and returns the user it names
// (identity.TrustedIssuers).
type UserVerifier interface {
	VerifyUser(ctx context.Context, token string) (behalf.User, time.Time, error)
}

// The connections API for apps, at behalf.ConnectionsAPIPath: a user's
// grants, authenticated by that user's JWT as a bearer token (not SigV4).
//
//	GET    /connections/api/grants       → {"grants": [grant...]}
//	DELETE /connections/api/grants/{id}  → the revocation's outcome
//
// Another user's grant id is 404, as a missing one is.

// mountConnections adds the connections API for apps and the connections
// page, when the server has them.
func (s *Server) mountConnections(m *router) {
	if s.Connections != nil && s.Users != nil {
		m.handle("GET "+behalf.ConnectionsAPIPath, route.Route{Name: "ListConnections", Kind: route.AWSJSON}, s.connectionsAPI(s.listUserGrants))
		m.handle("DELETE "+behalf.ConnectionsAPIPath+"/{id}", route.Route{Name: "RevokeConnection", Kind: route.AWSJSON}, s.connectionsAPI(s.revokeUserGrant))
	}
	if s.ConnectionsPage != nil {
		page := route.Route{Name: "ConnectionsPage", Kind: route.HTML}
		m.handle("GET "+behalf.ConnectionsPath, page, s.ConnectionsPage)
		m.handle("POST "+behalf.ConnectionsRevokePath, page, s.ConnectionsPage)
		m.handle("POST "+behalf.ConnectionsSignOutPath, page, s.ConnectionsPage)
		m.handle("GET "+behalf.ConnectionsSignOutPath, page, s.ConnectionsPage)
	}
}

// userOperation is one call of the connections API by a verified user.
type userOperation func(r *http.Request, user behalf.User) (int, any, error)

// connectionsAPI authenticates the caller by the bearer JWT and runs op,
// answering in JSON (errors as {"__type", "message"}).
func (s *Server) connectionsAPI(op userOperation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		user, err := s.bearerUser(r)
		if err != nil {
			if behalf.ErrorCode(err) == behalf.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="behalf", error="invalid_token"`)
			}
			writeError(w, r, s.Log, err)
			return
		}
		status, out, err := op(r, user)
		if err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		writeJSON(w, status, out)
	})
}

// bearerUser verifies the request's "Authorization: Bearer JWT".
func (s *Server) bearerUser(r *http.Request) (behalf.User, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return behalf.User{}, behalf.Errorf(behalf.EUNAUTHORIZED, "Send the user's JWT from a trusted issuer as Authorization: Bearer TOKEN.")
	}
	if len(token) > 131072 {
		return behalf.User{}, behalf.Errorf(behalf.EUNAUTHORIZED, "The user token is too long.")
	}
	user, _, err := s.Users.VerifyUser(r.Context(), token)
	if err != nil {
		return behalf.User{}, err
	}
	if user.IsZero() {
		return behalf.User{}, behalf.Errorf(behalf.EUNAUTHORIZED, "The user token names no user.")
	}
	return user, nil
}

// grantOut is one grant on the wire; it never holds a token.
type grantOut struct {
	ID                  string   `json:"id"`
	Workload            string   `json:"workloadName"`
	Provider            string   `json:"provider"` // the credential provider's name; "" if it was deleted
	ProviderDisplayName string   `json:"providerDisplayName"`
	Vendor              string   `json:"credentialProviderVendor,omitempty"`
	User                string   `json:"user,omitempty"` // admin listings only
	Scopes              []string `json:"scopes"`
	Account             string   `json:"account,omitempty"` // the provider account linked, when the provider named it
	CreatedTime         epoch    `json:"createdTime"`
	LastUsedTime        *epoch   `json:"lastUsedTime,omitempty"`
	LastRefreshedTime   *epoch   `json:"lastRefreshedTime,omitempty"`
}

func toGrantOut(c *behalf.Connection, withUser bool) grantOut {
	out := grantOut{
		ID: c.GrantID, Workload: c.Workload, Provider: c.ProviderName, ProviderDisplayName: c.ProviderLabel(),
		Vendor: c.ProviderVendor, Scopes: c.Scopes, Account: c.Account, CreatedTime: epoch(c.CreatedAt),
		LastUsedTime: optionalEpoch(c.LastUsedAt), LastRefreshedTime: optionalEpoch(c.RefreshedAt),
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if withUser {
		out.User = c.UserKey
	}
	return out
}

func optionalEpoch(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// revocationOut is a revocation's outcome on the wire.
type revocationOut struct {
	GrantID  string   `json:"grantId"`
	Grant    grantOut `json:"grant"`
	Outcome  string   `json:"providerRevocation"` // CONFIRMED, REFUSED, UNSUPPORTED or FAILED
	Detail   string   `json:"providerDetail,omitempty"`
	Message  string   `json:"message"`
	Provider string   `json:"providerDisplayName,omitempty"`
}

func toRevocationOut(rev *behalf.Revocation, withUser bool) revocationOut {
	return revocationOut{
		GrantID: rev.Connection.GrantID, Grant: toGrantOut(&rev.Connection, withUser), Outcome: rev.Outcome,
		Detail: rev.Detail, Message: rev.Message(), Provider: rev.Provider,
	}
}

// listUserGrants: GET /connections/api/grants.
func (s *Server) listUserGrants(r *http.Request, user behalf.User) (int, any, error) {
	conns, err := s.Connections.ListConnections(r.Context(), user.Key())
	if err != nil {
		return 0, nil, err
	}
	out := []grantOut{}
	for _, c := range conns {
		out = append(out, toGrantOut(c, false))
	}
	return http.StatusOK, map[string]any{"grants": out}, nil
}

// revokeUserGrant: DELETE /connections/api/grants/{id}.
func (s *Server) revokeUserGrant(r *http.Request, user behalf.User) (int, any, error) {
	rev, err := s.Connections.RevokeConnection(r.Context(), user.Key(), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toRevocationOut(rev, false), nil
}

// listGrants: POST /behalf/ListGrants (root only) lists one user's grants,
// named by user key, by issuer and subject, or by user id (a user of
// GetWorkloadAccessTokenForUserId); with none of them, every user's.
func (s *Server) listGrants(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		User    string `json:"user"`
		Issuer  string `json:"issuer"`
		Subject string `json:"subject"`
		UserID  string `json:"userId"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if s.Connections == nil {
		return 0, nil, behalf.Errorf(behalf.EINVALID, "This server does not serve ListGrants.")
	}
	key := ""
	switch {
	case in.User != "" && (in.Issuer != "" || in.Subject != "" || in.UserID != ""),
		in.UserID != "" && (in.Issuer != "" || in.Subject != ""):
		return 0, nil, behalf.Invalid("user", "Name the user one way: user, issuer and subject, or userId.")
	case in.User != "":
		key = in.User
	case in.UserID != "":
		key = behalf.User{Subject: in.UserID}.Key()
	case in.Issuer != "" || in.Subject != "":
		if in.Issuer == "" || in.Subject == "" {
			return 0, nil, behalf.Invalid("subject", "issuer and subject go together.")
		}
		key = behalf.User{Issuer: in.Issuer, Subject: in.Subject}.Key()
	}
	conns, err := s.Connections.ListConnections(ctx, key)
	if err != nil {
		return 0, nil, err
	}
	out := []grantOut{}
	for _, c := range conns {
		out = append(out, toGrantOut(c, true))
	}
	return http.StatusOK, map[string]any{"grants": out}, nil
}

// revokeGrant: POST /behalf/RevokeGrant (root only) revokes any grant.
func (s *Server) revokeGrant(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		GrantID string `json:"grantId"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if s.Connections == nil {
		return 0, nil, behalf.Errorf(behalf.EINVALID, "This server does not serve RevokeGrant.")
	}
	rev, err := s.Connections.RevokeConnection(ctx, "", in.GrantID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toRevocationOut(rev, true), nil
}
