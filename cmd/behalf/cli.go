package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// defaultEndpoint is the local server that `behalf serve` starts by default.
const defaultEndpoint = "http://127.0.0.1:8600"

// command is one `behalf <noun> <verb>` subcommand. The per-noun maps of
// these (workloadCommands, ...) become a cobra command tree in run.
type command struct {
	usage string // arguments after the verb; lines after the first are shown as help text
	short string
	run   func(ctx context.Context, c *cli, args []string) error
	flags func(fs *flagSet) // optional extra flags
}

// flagSet is a command's flags: pflag's, as cobra parses them (--flag,
// -o shorthands, flags anywhere among the arguments).
type flagSet = pflag.FlagSet

// cli carries what every client subcommand shares.
type cli struct {
	endpoint string
	dataDir  string
	output   string
	stdout   io.Writer
	stderr   io.Writer
	fs       *flagSet
	wire     *wireLog // the raw answers of the API calls, for -o json|yaml
}

// noun is `behalf NOUN VERB`: a map of verbs, maybe nested nouns.
type noun struct {
	name       string
	aliases    []string
	short      string
	cmds       map[string]command
	subs       []noun
	hidden     bool
	deprecated string // the name to use instead; a note goes to stderr
}

// usageError is a command line the CLI refuses before doing anything:
// exit status 2, with a pointer to the command's --help.
type usageError struct {
	err  error
	path string // the command, once known
}

func (e usageError) Error() string {
	if e.path == "" {
		return e.err.Error()
	}
	return e.err.Error() + "\nRun '" + e.path + " --help' for usage."
}
func (e usageError) Unwrap() []error { return []error{e.err, errUsage} }

// nounCommand builds the cobra command of a noun and its verbs.
func nounCommand(ctx context.Context, n noun, stdout, stderr io.Writer) *cobra.Command {
	nc := &cobra.Command{
		Use: n.name + " <command>", Aliases: n.aliases, Short: n.short, Hidden: n.hidden,
		Args:               unknownSubcommand,
		RunE:               func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
	}
	if n.deprecated != "" {
		nc.Short = "Deprecated: use behalf " + n.deprecated + "."
	}
	verbs := make([]string, 0, len(n.cmds))
	for v := range n.cmds {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	for _, v := range verbs {
		if n.cmds[v].run == nil {
			continue // a nested noun, listed for the old usage text
		}
		nc.AddCommand(leafCommand(ctx, v, n.cmds[v], n.deprecated, stdout, stderr))
	}
	for _, s := range n.subs {
		nc.AddCommand(nounCommand(ctx, s, stdout, stderr))
	}
	return nc
}

// leafCommand builds the cobra command of one verb.
func leafCommand(ctx context.Context, verb string, cmd command, deprecated string, stdout, stderr io.Writer) *cobra.Command {
	use, long, _ := strings.Cut(cmd.usage, "\n")
	c := &cli{stdout: stdout, stderr: stderr, wire: &wireLog{}}
	lc := &cobra.Command{
		Use:   strings.TrimSpace(verb + " " + use),
		Short: cmd.short,
		Long:  strings.TrimSpace(cmd.short + "\n\n" + strings.TrimSpace(long)),
		Args:  cobra.ArbitraryArgs,
		RunE: func(lc *cobra.Command, args []string) error {
			if deprecated != "" {
				fmt.Fprintf(stderr, "behalf: %q is deprecated; use \"behalf %s\" instead\n", lc.Parent().Name(), deprecated)
			}
			if err := c.checkOutput(); err != nil {
				return err
			}
			return cmd.run(ctx, c, args)
		},
	}
	fs := lc.Flags()
	c.clientFlags(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	c.fs = fs
	return lc
}

// clientFlags are the flags of every command that calls a server.
func (c *cli) clientFlags(fs *flagSet) {
	fs.StringVar(&c.endpoint, "endpoint-url", "", "Behalf endpoint (default $AWS_ENDPOINT_URL or "+defaultEndpoint+")")
	fs.StringVar(&c.dataDir, "data-dir", ".behalf", "where to find the local server's credentials file when no AWS credentials are configured")
	fs.StringVarP(&c.output, "output", "o", "table", "output format: table, json or yaml (json and yaml print the API's answer as the aws CLI does)")
}

// checkOutput refuses an unknown --output.
func (c *cli) checkOutput() error {
	switch c.output {
	case "text": // the old name of table
		c.output = "table"
	case "table", "json", "yaml":
	default:
		return usageError{err: fmt.Errorf("--output must be table, json or yaml, not %q", c.output)}
	}
	return nil
}

// unknownSubcommand refuses a noun's unknown verb as gh and kubectl do.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return usageError{err: fmt.Errorf("unknown command %q for %q%s", args[0], cmd.CommandPath(), suggestions(cmd, args[0]))}
}

// suggestions is cobra's "Did you mean this?" for a mistyped subcommand.
func suggestions(cmd *cobra.Command, typed string) string {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(typed); len(s) > 0 {
		return "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return ""
}

// execute runs a command tree on args. Usage errors come back wrapped in
// usageError, naming the command's --help.
func execute(root *cobra.Command, args []string, stderr io.Writer) error {
	root.SetArgs(singleDashFlags(root, args, stderr))
	cmd, err := root.ExecuteC()
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		addr := "the endpoint"
		var op *net.OpError
		if errors.As(err, &op) && op.Addr != nil {
			addr = op.Addr.String()
		}
		return fmt.Errorf("cannot connect to Behalf at %s: connection refused.\n"+
			"Is a server running there? Start one with `behalf serve`, or give the server's URL with --endpoint-url URL or the AWS_ENDPOINT_URL environment variable.\n(%w)", addr, err)
	}
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, errUsage) {
		if cmd == nil {
			cmd = root
		}
		if errors.As(err, &ue) {
			err = ue.err
		}
		return usageError{err: err, path: cmd.CommandPath()}
	}
	return err
}

// singleDashFlags accepts the old single-dash long flags (-endpoint-url X),
// with a deprecation note: pflag would read -output as -o utput.
func singleDashFlags(root *cobra.Command, args []string, stderr io.Writer) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd.DisableFlagParsing {
		return args
	}
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && (name == "help" || cmd.Flags().Lookup(name) != nil) {
				fmt.Fprintf(stderr, "behalf: -%s is deprecated; use --%s\n", name, name)
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// awsConfig loads the standard AWS credential chain, falling back to the
// local server's credentials file, and region us-east-1 when none is set.
func (c *cli) awsConfig(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	if !awsCredentialsConfigured() {
		path := filepath.Join(c.dataDir, "credentials")
		if _, err := os.Stat(path); err == nil {
			opts = append(opts, config.WithSharedCredentialsFiles([]string{path}))
		} else if !sharedAWSFilesExist() {
			return aws.Config{}, fmt.Errorf("no credentials found: looked for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "+
				"the shared files %s and %s, and the local server's %s (give its data directory with --data-dir, "+
				"or create a key with `behalf access-key create` and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
				config.DefaultSharedCredentialsFilename(), config.DefaultSharedConfigFilename(), path)
		}
	}
	// Behalf's keys are its own: an EC2 instance role can never sign for
	// it, so the CLI never asks the instance metadata service.
	opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// baseEndpoint is --endpoint-url, else the AWS endpoint variables, else the
// local server.
func (c *cli) baseEndpoint() string {
	for _, v := range []string{c.endpoint, os.Getenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL"), os.Getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return v
		}
	}
	return defaultEndpoint
}

// client builds the official AgentCore control-plane client.
func (c *cli) client(ctx context.Context) (*bedrockagentcorecontrol.Client, error) {
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	return bedrockagentcorecontrol.NewFromConfig(cfg, func(o *bedrockagentcorecontrol.Options) {
		o.BaseEndpoint = aws.String(c.baseEndpoint())
		o.RetryMaxAttempts = 2
		o.HTTPClient = wireClient{next: o.HTTPClient, log: c.wire}
	}), nil
}

// sharedAWSFilesExist reports whether the AWS shared credentials or config
// file exists (they may name credentials).
func sharedAWSFilesExist() bool {
	for _, f := range []string{os.Getenv("AWS_CONFIG_FILE"), config.DefaultSharedCredentialsFilename(), config.DefaultSharedConfigFilename()} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

func awsCredentialsConfigured() bool {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

// wrapAPIError turns an SDK error into a short, readable one.
func wrapAPIError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err
}

// print writes v as JSON or YAML with -o json|yaml (the raw answer of the
// command's last API operation when there is one, as the aws CLI prints
// it), or calls text otherwise.
func (c *cli) print(v any, text func(w io.Writer)) error {
	if !c.structured() {
		text(c.stdout)
		return nil
	}
	var b []byte
	if doc := c.wire.last(); doc != nil {
		b = doc
	} else {
		var err error
		if b, err = json.Marshal(stripMetadata(v)); err != nil {
			return err
		}
	}
	if c.output == "yaml" {
		y, err := yaml.JSONToYAML(b)
		if err != nil {
			return err
		}
		_, err = c.stdout.Write(y)
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, b, "", "    "); err != nil {
		return err
	}
	_, err := fmt.Fprintln(c.stdout, pretty.String())
	return err
}

// structured reports whether the output is a document (-o json|yaml)
// rather than text for people.
func (c *cli) structured() bool { return c.output == "json" || c.output == "yaml" }

// stripMetadata drops the SDK's ResultMetadata from an output struct.
func stripMetadata(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return v
	}
	delete(m, "ResultMetadata")
	return m
}

// table writes rows under a header row, aligned in columns; an empty list
// prints the header only, in every list command.
func table(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func needArgs(args []string, n int, what string) error {
	if len(args) != n {
		return fmt.Errorf("%w: expected %s", errUsage, what)
	}
	return nil
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.RFC3339)
}

// readSecretFile reads a secret from a file ("-" for stdin), trimming one
// trailing newline. Secrets are never taken from the command line.
func readSecretFile(path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
func (m *multi) Type() string       { return "strings" }

func parseTags(tags []string) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return nil, fmt.Errorf("--tag %q: want KEY=VALUE", t)
		}
		out[k] = v
	}
	return out, nil
}

// str returns the value of a string flag of the current command.
func (c *cli) str(name string) string { return c.fs.Lookup(name).Value.String() }

// int returns the value of an int flag of the current command.
func (c *cli) int(name string) int { v, _ := c.fs.GetInt(name); return v }

// bool returns the value of a bool flag of the current command.
func (c *cli) bool(name string) bool { v, _ := c.fs.GetBool(name); return v }

// list returns the values of a repeatable flag of the current command;
// empty ones are dropped, so that `--flag ”` on update clears the list.
func (c *cli) list(name string) []string {
	var out []string
	for _, v := range *c.fs.Lookup(name).Value.(*multi) {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// keepUnset gives every flag the command line did not set the resource's
// current value, for an update that changes only the flags given (read,
// apply the flags, write).
func (c *cli) keepUnset(current map[string][]string) error {
	for name, values := range current {
		f := c.fs.Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		for _, v := range values {
			if err := f.Value.Set(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// set reports whether a flag was given on the command line.
func (c *cli) set(name string) bool {
	return c.fs.Changed(name)
}

// printTable prints v for -o json|yaml, or else a table of n rows under
// header, row(i) being the i-th: every list command's shape.
func (c *cli) printTable(v any, header []string, n int, row func(i int) []string) error {
	return c.print(v, func(w io.Writer) {
		rows := make([][]string, n)
		for i := range rows {
			rows[i] = row(i)
		}
		table(w, header, rows)
	})
}

// deleteOne is a delete command of one resource named by its one
// argument (need says what that is): del deletes it through the control
// plane and returns its id, and the command prints done (a format with
// one %s, the id), or {"Deleted": id} for -o json|yaml.
func deleteOne(ctx context.Context, c *cli, args []string, need, done string, del func(context.Context, *bedrockagentcorecontrol.Client, string) (string, error)) error {
	if err := needArgs(args, 1, need); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	id, err := del(ctx, client, args[0])
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(map[string]string{"Deleted": id}, func(w io.Writer) {
		fmt.Fprintf(w, done+"\n", id)
	})
}

// updateClient starts an update command of one resource (need says what
// its one argument is): update commands change a resource's settings,
// never its tags (TagResource does), and read the resource first.
func (c *cli) updateClient(ctx context.Context, args []string, need string) (*bedrockagentcorecontrol.Client, error) {
	if err := needArgs(args, 1, need); err != nil {
		return nil, err
	}
	if c.set("tag") {
		return nil, fmt.Errorf("%w: --tag applies to create only", errUsage)
	}
	return c.client(ctx)
}
