package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/smithy-go"
)

// defaultEndpoint is the local server that `behalf serve` starts by default.
const defaultEndpoint = "http://127.0.0.1:8600"

// command is one `behalf <noun> <verb>` subcommand.
type command struct {
	usage string // arguments after the verb
	short string
	run   func(ctx context.Context, c *cli, args []string) error
	flags func(fs *flag.FlagSet) // optional extra flags
}

// cli carries what every client subcommand shares.
type cli struct {
	endpoint string
	dataDir  string
	output   string
	stdout   io.Writer
	fs       *flag.FlagSet
}

func runNoun(ctx context.Context, cmds map[string]command, args []string, stdout, stderr io.Writer) error {
	noun := args[0]
	if len(args) < 2 || cmds[args[1]].run == nil {
		fmt.Fprintf(stderr, "Usage: behalf %s <command>\n\nCommands:\n", noun)
		verbs := make([]string, 0, len(cmds))
		for v := range cmds {
			verbs = append(verbs, v)
		}
		sort.Strings(verbs)
		for _, v := range verbs {
			fmt.Fprintf(stderr, "  %-8s %s\n", v, cmds[v].short)
		}
		if len(args) >= 2 && (args[1] == "-h" || args[1] == "--help" || args[1] == "help") {
			return flag.ErrHelp
		}
		return errUsage
	}
	verb, cmd := args[1], cmds[args[1]]
	c := &cli{stdout: stdout}
	fs := flag.NewFlagSet("behalf "+noun+" "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: behalf %s %s %s\n\n%s\n\nFlags:\n", noun, verb, cmd.usage, cmd.short)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.endpoint, "endpoint-url", "", "Behalf endpoint (default $AWS_ENDPOINT_URL or "+defaultEndpoint+")")
	fs.StringVar(&c.dataDir, "data-dir", ".behalf", "where to find the local server's credentials file when no AWS credentials are configured")
	fs.StringVar(&c.output, "output", "text", "text or json")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	c.fs = fs
	if err := fs.Parse(interleave(fs, args[2:])); err != nil {
		return err
	}
	if c.output != "text" && c.output != "json" {
		return fmt.Errorf("--output must be text or json")
	}
	return cmd.run(ctx, c, fs.Args())
}

// interleave moves flags after positional arguments to the front, so
// `behalf workload create NAME --return-url X` works as users expect.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBool(f) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(flags, pos...)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

type flagSet = flag.FlagSet
type flagGetter = flag.Getter

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
		}
	}
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
	}), nil
}

func awsCredentialsConfigured() bool {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"} {
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

// print writes v as JSON with --output json, or calls text otherwise.
func (c *cli) print(v any, text func(w io.Writer)) error {
	if c.output == "json" {
		b, err := json.MarshalIndent(stripMetadata(v), "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(c.stdout, string(b))
		return err
	}
	text(c.stdout)
	return nil
}

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

// list returns the values of a repeatable flag of the current command.
func (c *cli) list(name string) []string { return *c.fs.Lookup(name).Value.(*multi) }

// set reports whether a flag was given on the command line.
func (c *cli) set(name string) bool {
	found := false
	c.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
