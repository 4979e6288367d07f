// Command behalf is Behalf's one binary: `behalf serve` runs the server, and
// the other commands administer it through its own wire API with the AWS SDK
// for Go v2 clients.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `behalf: self-hosted identity for AI agents (AgentCore Identity compatible)

Usage:
  behalf serve [flags]                       run the server
  behalf workload create|get|list|update|delete ...
  behalf provider create|get|list|update|delete ...
  behalf apikey   create|get|list|update|delete ...
  behalf vault    get
  behalf key      create|list|delete ...      access keys (scoped to a workload, or root)
  behalf keys     status|rotate|rewrap|retire ...  key-encryption and token-signing keys (docs/operations.md)
  behalf backup   OUT.db | behalf restore BACKUP.db   SQLite backup while serving; restore into a stopped server's data dir
  behalf issuer   add|list|remove ...         trusted OpenID providers for user JWTs
  behalf audit    list ...
  behalf grant    list|revoke ...             users' grants in the vault: list, revoke (at the provider too)
  behalf userpool create|get|list|delete ... Cognito-compatible user pools
  behalf userpool client create|get|list|delete ...
  behalf user     create|set-password|get|list|delete|disable|enable|sign-out ...
  behalf runtime  create|get|list|update|delete ...  agent runtimes: running agents Behalf fronts
  behalf gateway  create|get|list|update|delete ...  MCP gateways: agents reach users' tools with each user's own tokens
  behalf gateway target create|get|list|delete ...  a gateway's OpenAPI and MCP server targets
  behalf invoke   RUNTIME [PAYLOAD] [--bearer-token TOKEN] [--session-id ID]   call an agent runtime, stream its answer
  behalf login    --pool POOL --client CLIENT --username USER ...   sign in, print the access token
  behalf demo     [--interactive]              the Google Drive walkthrough end to end, offline, in one command
  behalf sandbox  [--listen ADDR] [--open]     a local stand-in for Google (OAuth 2.0 + Drive) for demos and CI
  behalf bench    [--duration 10s] [--connections 32]   measure a deployment against bare baselines, print the ratios
  behalf version

Run "behalf <command> -h" for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "behalf:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage error")

// run dispatches a command line; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		m := NewMain(stderr)
		if err := m.ParseFlags(args[1:]); err != nil {
			return err
		}
		return m.Run(ctx)
	case "workload", "workloads":
		return runNoun(ctx, workloadCommands, args, stdout, stderr)
	case "provider", "providers":
		return runNoun(ctx, providerCommands, args, stdout, stderr)
	case "apikey", "apikeys", "api-key":
		return runNoun(ctx, apiKeyCommands, args, stdout, stderr)
	case "vault":
		return runNoun(ctx, vaultCommands, args, stdout, stderr)
	case "key", "keys":
		return runKeys(ctx, args, stdout, stderr) // access keys, and the keyring verbs of keys_cmd.go
	case "backup":
		return runBackup(ctx, args, stdout, stderr)
	case "restore":
		return runRestore(ctx, args, stdout, stderr)
	case "issuer", "issuers":
		return runNoun(ctx, issuerCommands, args, stdout, stderr)
	case "audit":
		return runNoun(ctx, auditCommands, args, stdout, stderr)
	case "grant", "grants":
		return runNoun(ctx, grantCommands, args, stdout, stderr)
	case "userpool", "userpools", "user-pool":
		return runUserPool(ctx, args, stdout, stderr)
	case "user", "users":
		return runNoun(ctx, userCommands, args, stdout, stderr)
	case "runtime", "runtimes":
		return runNoun(ctx, runtimeCommands, args, stdout, stderr)
	case "gateway", "gateways":
		return runGateway(ctx, args, stdout, stderr)
	case "invoke":
		return runInvoke(ctx, args, stdout, stderr)
	case "demo":
		return runDemo(ctx, args, stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, args, stdout, stderr)
	case "bench":
		return runBench(ctx, args, stdout, stderr)
	case "login":
		return runLogin(ctx, args, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "behalf", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "behalf: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
