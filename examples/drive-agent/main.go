// Command drive-agent is the Go version of the AgentCore Identity
// walkthrough's agent.py: an agent that lists the invoking user's Google
// Drive files, asking the user to authorize access first.
//
// It serves the AgentCore Runtime HTTP contract (POST /invocations, GET
// /ping) on $PORT (default 8080). Invoke it with {"prompt": "..."}; until
// the user has consented it answers
//
//	{"status":"auth_required","auth_url":"…","message":"Please visit the URL …"}
//
// and afterwards {"status":"success","files":[{"id","name","mimeType"}…]}.
//
// Environment: GOOGLE_PROVIDER_NAME (default google-drive-provider),
// DRIVE_ENDPOINT (a Drive API stand-in, e.g. http://127.0.0.1:8000/drive/v3/),
// OAUTH2_CALLBACK_URL (the return URL when an invocation has no
// OAuth2CallbackUrl header),
// and the standard AWS settings: AWS_ENDPOINT_URL_BEDROCK_AGENTCORE or
// AWS_ENDPOINT_URL for Behalf, AWS_REGION, credentials.
package main

import (
	"log"

	"github.com/behalf-dev/behalf/agent/driveagent"
)

func main() {
	app := driveagent.New(driveagent.ConfigFromEnv(), nil)
	log.Fatal(app.ListenAndServe(""))
}
