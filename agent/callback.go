package agent

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// UserIdentifierFunc tells who is signed in to the application for a
// callback request (typically from its session cookie). It must return the
// exact artifact that minted the workload access token: the user's JWT
// (UserToken) or user id (UserID). The request also carries "state", the
// agent's TokenRequest.CustomState, for applications that check it.
type UserIdentifierFunc func(r *http.Request) (types.UserIdentifier, error)

// UserToken identifies the user by the JWT that minted the WAT.
func UserToken(jwt string) types.UserIdentifier {
	return &types.UserIdentifierMemberUserToken{Value: jwt}
}

// UserID identifies the user by the user id that minted the WAT.
func UserID(id string) types.UserIdentifier {
	return &types.UserIdentifierMemberUserId{Value: id}
}

// CallbackHandler is an application's session-binding endpoint, the
// workload's return URL (resourceOauth2ReturnUrl). After the user
// consented at the provider, the identity service redirects the browser
// to it with session_id=<session URI>; the handler asks user who is signed
// in and calls CompleteResourceTokenAuth, which succeeds only when that is
// the user the agent was acting for. A nil c means the package default
// client.
//
// It answers POST/redirect/GET style: a completed session is answered by
// a 303 to a result page (the same path, with result=complete), which a
// reload shows again without completing anything, and the provider's
// redirect opened again (Back, a second click) goes to that page instead
// of completing a spent session, which the service would refuse. The
// handler remembers the sessions it completed and for whom (in memory,
// for completedFor); a result link for any other session, or opened by
// another signed-in user, shows no success.
// Failures answer an HTML page with the error's status.
func CallbackHandler(c *Client, user UserIdentifierFunc) http.Handler {
	var done ttlcache.Cache[string, struct{}] // completedKey → completed
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			callbackPage(w, http.StatusMethodNotAllowed, "Method not allowed", "This address only accepts the browser's return from authorization.")
			return
		}
		q := r.URL.Query()
		if e := q.Get("error"); e != "" {
			msg := "The provider reported: " + e
			if d := q.Get("error_description"); d != "" {
				msg += " (" + d + ")"
			}
			callbackPage(w, http.StatusBadRequest, "Authorization was not completed", msg)
			return
		}
		sessionURI := q.Get("session_id")
		if sessionURI == "" {
			callbackPage(w, http.StatusBadRequest, "Authorization was not completed", "The link has no session_id parameter. Ask the agent for a new link.")
			return
		}
		id, err := user(r)
		if err != nil || id == nil {
			msg := "Sign in to the application, then open the link from the agent again."
			if err != nil {
				msg = "Could not tell who is signed in: " + err.Error()
			}
			callbackPage(w, http.StatusUnauthorized, "Authorization was not completed", msg)
			return
		}
		key := completedKey(sessionURI, id)
		if q.Get("result") == "complete" {
			if _, ok := done.Get(key, time.Now()); ok {
				callbackPage(w, http.StatusOK, "Authorization complete", "Authorization complete — you can return to the agent.")
			} else {
				callbackPage(w, http.StatusOK, "Return to the agent", "This page no longer shows the outcome of an authorization. Return to the agent: it tells you if it still needs your consent.")
			}
			return
		}
		if _, ok := done.Get(key, time.Now()); ok {
			resultRedirect(w, sessionURI)
			return
		}
		if err := c.CompleteResourceTokenAuth(r.Context(), sessionURI, id); err != nil {
			status, msg := http.StatusBadGateway, "The identity service could not complete the authorization: "+err.Error()
			if _, ok := errors.AsType[*types.AccessDeniedException](err); ok {
				status, msg = http.StatusForbidden, "This authorization link belongs to another user, or it has expired or was already used. Ask the agent for a new link."
			} else if _, ok := errors.AsType[*types.ValidationException](err); ok {
				status = http.StatusBadRequest
			} else if _, ok := errors.AsType[*types.ResourceNotFoundException](err); ok {
				status = http.StatusNotFound
			}
			callbackPage(w, status, "Authorization was not completed", msg)
			return
		}
		done.Put(key, struct{}{}, time.Now().Add(completedFor))
		resultRedirect(w, sessionURI)
	})
}

// resultRedirect sends the browser (303) to the result page of
// sessionURI: a query-only reference, so the same path wherever the
// handler is mounted (behind a proxy's prefix too).
func resultRedirect(w http.ResponseWriter, sessionURI string) {
	w.Header().Set("Location", "?"+url.Values{"session_id": {sessionURI}, "result": {"complete"}}.Encode())
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusSeeOther)
}

// completedFor is how long a handler remembers a session it completed:
// its result page and the provider's redirect show the completion for
// that long (at most ttlcache.MaxEntries sessions).
const completedFor = time.Hour

// completedKey names a session completed for the user id identifies: a
// hash, so that no user's token is kept.
func completedKey(sessionURI string, id types.UserIdentifier) string {
	var who string
	switch v := id.(type) {
	case *types.UserIdentifierMemberUserToken:
		who = "token:" + v.Value
	case *types.UserIdentifierMemberUserId:
		who = "id:" + v.Value
	default:
		who = fmt.Sprintf("%T", id)
	}
	sum := sha256.Sum256([]byte(sessionURI + "\x00" + who))
	return string(sum[:])
}

var callbackTemplate = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}</style>
</head>
<body><main>
<h1>{{.Title}}</h1>
<p{{if .Error}} role="alert"{{end}}>{{.Message}}</p>
</main></body>
</html>
`))

func callbackPage(w http.ResponseWriter, status int, title, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the URL holds the session id
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	callbackTemplate.Execute(w, struct {
		Title, Message string
		Error          bool
	}{title, msg, status != http.StatusOK})
}
