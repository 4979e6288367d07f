// Command behalf is Behalf's one binary: `behalf serve` runs the server, and
// the other commands administer it through its own wire API with the AWS SDK
// for Go v2 clients.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..."; by
// default it is read from the build information.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// runMain runs a command line as main does: the error, if any, is printed
// once to stderr, and the exit status is 0, 1 (the command failed) or 2 (a
// usage error).
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := run(ctx, args, stdout, stderr)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "behalf:", err)
	return exitCode(err)
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage error")

// nouns are the `behalf NOUN VERB` commands, from the per-noun maps.
func nouns() []noun {
	return []noun{
		{name: "workload", aliases: []string{"workloads"}, short: "Workload identities: the agents that act for users.", cmds: workloadCommands},
		{name: "provider", aliases: []string{"providers"}, short: "OAuth2 credential providers (Google, GitHub, Slack, custom, ...).", cmds: providerCommands},
		{name: "apikey", aliases: []string{"apikeys", "api-key"}, short: "API key credential providers.", cmds: apiKeyCommands},
		{name: "vault", short: "The token vault.", cmds: vaultCommands},
		{name: "access-key", aliases: []string{"access-keys"}, short: "Access keys for the API: scoped to a workload, or root.", cmds: keyCommands},
		{name: "key", hidden: true, deprecated: "access-key", cmds: keyCommands},
		{name: "keys", short: "Key-encryption and token-signing keys (docs/operations.md).", cmds: keysCommands()},
		{name: "issuer", aliases: []string{"issuers"}, short: "Trusted OpenID providers for user JWTs.", cmds: issuerCommands},
		{name: "audit", short: "The audit log.", cmds: auditCommands},
		{name: "grant", aliases: []string{"grants"}, short: "Users' grants in the vault: list, revoke (at the provider too).", cmds: grantCommands},
		{name: "userpool", aliases: []string{"userpools", "user-pool"}, short: "Cognito-compatible user pools.", cmds: userPoolCommands,
			subs: []noun{{name: "client", aliases: []string{"clients"}, short: "A user pool's app clients.", cmds: userPoolClientCommands}}},
		{name: "user", aliases: []string{"users"}, short: "A user pool's users.", cmds: userCommands},
		{name: "runtime", aliases: []string{"runtimes"}, short: "Agent runtimes: running agents Behalf fronts.", cmds: runtimeCommands},
		{name: "gateway", aliases: []string{"gateways"}, short: "MCP gateways: agents reach users' tools with each user's own tokens.", cmds: gatewayCommands,
			subs: []noun{{name: "target", aliases: []string{"targets"}, short: "A gateway's targets: OpenAPI documents and MCP servers.", cmds: gatewayTargetCommands}}},
	}
}

// run runs a command line; tests call it directly. It prints nothing of
// its own error: main does, once.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return execute(newRoot(ctx, stdout, stderr, nouns()), args, stderr)
}

// newRoot builds the command tree: the nouns, the commands without verbs,
// help, completion and version.
func newRoot(ctx context.Context, stdout, stderr io.Writer, ns []noun) *cobra.Command {
	root := &cobra.Command{
		Use:   "behalf",
		Short: "Self-hosted identity for AI agents (AgentCore Identity compatible)",
		Long: "behalf: self-hosted identity for AI agents (AgentCore Identity and Cognito user pools compatible).\n\n" +
			"behalf serve runs the server; the other commands administer it through its wire API.",
		Args:              unknownSubcommand,
		RunE:              func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceErrors:     true,
		SilenceUsage:      true,
		Version:           buildVersion(),
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetVersionTemplate("behalf {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err: err} })
	root.SetHelpCommand(&cobra.Command{
		Use: "help [command]", Short: "Help about any command",
		RunE: func(_ *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				msg := fmt.Sprintf("unknown help topic %q", strings.Join(args, " "))
				if err == nil {
					msg += suggestions(cmd, rest[0])
				}
				return usageError{err: errors.New(msg)}
			}
			return cmd.Help()
		},
	})
	for _, n := range ns {
		root.AddCommand(nounCommand(ctx, n, stdout, stderr))
	}
	for _, t := range topCommands() {
		root.AddCommand(t.command(ctx, stdout, stderr))
	}
	root.AddCommand(&cobra.Command{
		Use: "version", Short: "Print the version, VCS revision and build of this binary.", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(stdout, "behalf", buildVersion())
			return err
		},
	})
	return root
}

// buildVersion is the module version, VCS revision and dirty flag the Go
// toolchain recorded in the binary, e.g.
// "v0.0.0-20250102150405-abcdef123456+dirty (revision abcdef123456, 2025-01-02T15:04:05Z, dirty)".
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	return versionOf(info)
}

// versionOf is buildVersion for the build information info.
func versionOf(info *debug.BuildInfo) string {
	v := version
	if v == "dev" && info.Main.Version != "" {
		v = info.Main.Version
	}
	var rev, at string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var parts []string
	if rev != "" {
		parts = append(parts, "revision "+rev)
	}
	if at != "" {
		parts = append(parts, at)
	}
	if dirty {
		parts = append(parts, "dirty")
	}
	parts = append(parts, info.GoVersion)
	return v + " (" + strings.Join(parts, ", ") + ")"
}

// topCommand is a command without verbs (behalf serve, invoke, ...): setup
// defines its flags and returns what runs with the positional arguments.
type topCommand struct {
	name, usage, short, long string
	doc                      string // the usage line, a blank line and the long help
	aliases                  []string
	setup                    func(fs *flagSet, stdout, stderr io.Writer) func(ctx context.Context, args []string) error
}

func (t topCommand) command(ctx context.Context, stdout, stderr io.Writer) *cobra.Command {
	if t.doc != "" {
		use, long, _ := strings.Cut(t.doc, "\n")
		t.usage, t.long = use, t.short+"\n\n"+strings.TrimSpace(long)
	}
	tc := &cobra.Command{
		Use: strings.TrimSpace(t.name + " " + t.usage), Aliases: t.aliases, Short: t.short, Long: strings.TrimSpace(t.long),
		Args: cobra.ArbitraryArgs,
	}
	if tc.Long == "" {
		tc.Long = t.short
	}
	run := t.setup(tc.Flags(), stdout, stderr)
	tc.RunE = func(_ *cobra.Command, args []string) error { return run(ctx, args) }
	return tc
}

// verbless makes a command of a command struct, with the client flags.
func verbless(name string, cmd command) topCommand {
	use, long, _ := strings.Cut(cmd.usage, "\n")
	return topCommand{name: name, usage: use, short: cmd.short, long: cmd.short + "\n\n" + strings.TrimSpace(long),
		setup: func(fs *flagSet, stdout, stderr io.Writer) func(context.Context, []string) error {
			c := &cli{stdout: stdout, stderr: stderr, fs: fs, wire: &wireLog{}}
			c.clientFlags(fs)
			if cmd.flags != nil {
				cmd.flags(fs)
			}
			return func(ctx context.Context, args []string) error {
				if err := c.checkOutput(); err != nil {
					return err
				}
				return cmd.run(ctx, c, args)
			}
		}}
}

// topCommands are the commands without verbs.
func topCommands() []topCommand {
	return []topCommand{
		{name: "serve", short: "Run the server.", setup: serveSetup},
		{name: "invoke", short: "Call an agent runtime, stream its answer.", doc: invokeUsage, setup: invokeSetup},
		verbless("login", loginCommand),
		{name: "demo", short: "The Google Drive walkthrough end to end, offline, in one command.", doc: demoUsage, setup: demoSetup},
		{name: "sandbox", short: "A local stand-in for Google (OAuth 2.0 + Drive) for demos and CI.", doc: sandboxUsage, setup: sandboxSetup},
		{name: "bench", short: "Measure a deployment against bare baselines, print the ratios.", doc: benchUsage, setup: benchSetup},
		{name: "backup", short: "Back up the SQLite database while the server serves.", doc: backupUsage, setup: backupSetup},
		{name: "restore", short: "Restore a backup into a stopped server's data directory.", doc: restoreUsage, setup: restoreSetup},
	}
}

// needNoArgs refuses positional arguments to a command that takes none.
func needNoArgs(name string, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: %s takes no arguments, got %q", errUsage, name, args)
	}
	return nil
}
