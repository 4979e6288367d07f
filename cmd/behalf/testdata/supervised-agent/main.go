// Command supervised-agent is the agent of cmd/behalf's supervisor test
// (TestSupervise): it serves GET /ping and POST /invocations on
// 127.0.0.1:$PORT and answers with what it was given: its pid, its
// environment's Behalf settings and whether the invocation carried a
// workload access token.
//
// With -grandchild it starts a copy of itself that ignores SIGTERM and
// sleeps (reported in /ping), to check that the supervisor stops the
// whole process group.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "sleep" {
		signal.Ignore(syscall.SIGTERM)
		fmt.Printf("grandchild %d sleeping\n", os.Getpid())
		time.Sleep(time.Hour)
		return
	}
	grandchild := flag.Bool("grandchild", false, "start a grandchild that ignores SIGTERM")
	flag.Parse()
	gpid := 0
	if *grandchild {
		cmd := exec.Command(os.Args[0], "sleep")
		cmd.Stdout = os.Stdout // holds the supervisor's pipe open
		if err := cmd.Start(); err != nil {
			log.Fatal(err)
		}
		gpid = cmd.Process.Pid
	}
	port := os.Getenv("PORT")
	fmt.Printf("agent %d listening on 127.0.0.1:%s\n", os.Getpid(), port)
	fmt.Fprintf(os.Stderr, "agent %d: a line on stderr\n", os.Getpid())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"status": "Healthy", "pid": os.Getpid(), "grandchild": gpid})
	})
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		secret := sha256.Sum256([]byte(os.Getenv("AWS_SECRET_ACCESS_KEY")))
		env := map[string]string{}
		for _, k := range []string{"PORT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", "AWS_REGION",
			"AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "OAUTH2_CALLBACK_URL", "BEHALF_ROOT_ACCESS_KEY_ID", "BEHALF_ROOT_SECRET_ACCESS_KEY", "SUPERVISE_TEST_KEPT"} {
			env[k] = os.Getenv(k)
		}
		writeJSON(w, map[string]any{
			"pid":           os.Getpid(),
			"wat":           r.Header.Get("X-Amz-Bedrock-AgentCore-Identity-WAT") != "",
			"callback":      r.Header.Get("OAuth2CallbackUrl"),
			"body":          string(body),
			"env":           env,
			"secret_sha256": hex.EncodeToString(secret[:]),
		})
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, mux))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
