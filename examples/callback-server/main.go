// Command callback-server is the Go version of the AgentCore Identity
// walkthrough's callback_server.py: the application's session-binding
// endpoint, registered as the workload's return URL
// (allowedResourceOauth2ReturnUrls) and sent by the agent as
// resourceOauth2ReturnUrl.
//
// After the user consented at the provider, the identity service sends
// the browser to GET /callback?session_id=<session URI>. The server calls
// CompleteResourceTokenAuth for that session as the signed-in user, which
// succeeds only if that user is the one the agent was acting for, then
// redirects (303) to its result page, "Authorization complete — you can
// return to the agent", or answers an error page. Reloading the result
// page, or opening the provider's redirect again, shows the completion
// again without completing the session twice (agent.CallbackHandler).
//
// In the walkthrough the application knows the signed-in user's JWT (the
// one that minted the agent's workload access token). Here it is read on
// every request from the file given by --user-token-file, else from
// $USER_TOKEN. For workload access tokens minted from a user id (such as
// the local-development .agentcore.json), give --user-id or $USER_ID
// instead.
//
// Usage:
//
//	callback-server [--listen 127.0.0.1:9090] [--user-token-file FILE | --user-id ID]
//
// The identity endpoint and credentials come from the standard AWS
// settings: AWS_ENDPOINT_URL_BEDROCK_AGENTCORE or AWS_ENDPOINT_URL (for
// Behalf), AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/behalf-dev/behalf/agent"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9090", "address to listen on")
	tokenFile := flag.String("user-token-file", "", "file holding the signed-in user's JWT, re-read on every request (default: $USER_TOKEN)")
	userID := flag.String("user-id", os.Getenv("USER_ID"), "the signed-in user's id, when the agent's WAT was minted from a user id instead of a JWT")
	flag.Parse()

	client, err := agent.LoadClient(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /callback", agent.CallbackHandler(client, signedInUser(*tokenFile, *userID)))
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	log.Printf("callback server listening on http://%s/callback", *listen)
	log.Fatal(srv.ListenAndServe())
}

// signedInUser returns who is signed in: the JWT in tokenFile (re-read on
// every request) or $USER_TOKEN, else the user id.
func signedInUser(tokenFile, userID string) agent.UserIdentifierFunc {
	return func(*http.Request) (types.UserIdentifier, error) {
		if tokenFile != "" {
			b, err := os.ReadFile(tokenFile)
			if err != nil {
				return nil, fmt.Errorf("reading the user token: %w", err)
			}
			if tok := strings.TrimSpace(string(b)); tok != "" {
				return agent.UserToken(tok), nil
			}
			return nil, fmt.Errorf("the user token file %s is empty", tokenFile)
		}
		if tok := strings.TrimSpace(os.Getenv("USER_TOKEN")); tok != "" {
			return agent.UserToken(tok), nil
		}
		if userID != "" {
			return agent.UserID(userID), nil
		}
		return nil, errors.New("no user is signed in: set USER_TOKEN, --user-token-file or --user-id")
	}
}
