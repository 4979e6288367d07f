package agent

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
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
// the user the agent was acting for. It answers a short HTML page. A nil
// c means the package default client.
func CallbackHandler(c *Client, user UserIdentifierFunc) http.Handler {
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
		callbackPage(w, http.StatusOK, "Authorization complete", "Authorization complete — you can return to the agent.")
	})
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
