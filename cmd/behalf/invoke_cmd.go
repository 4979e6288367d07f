package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"

	"github.com/behalf-dev/behalf/agentruntime"
)

const invokeUsage = `RUNTIME [PAYLOAD] [flags]

Invokes an agent runtime (InvokeAgentRuntime) and streams its answer to
stdout: the data of each server-sent event on its own line, or the body as
it arrives. RUNTIME is the runtime's ARN or id. PAYLOAD defaults to {};
"-" reads it from stdin.

With --bearer-token (or --bearer-token-file) the call carries
"Authorization: Bearer <JWT>", for runtimes with a JWT authorizer;
otherwise it is signed with SigV4 by the official AWS SDK client, with
the standard AWS credentials or the local server's credentials file.
The session id is printed on stderr; pass it back with --session-id to
continue the session.`

// invokeOptions are the flags of `behalf invoke`.
type invokeOptions struct {
	bearer, bearerFile string
	sessionID, userID  string
	qualifier          string
	contentType        string
	accept             string
	headers            multi
	raw                bool
}

// invokeSetup defines the flags of `behalf invoke`, a command without verbs.
func invokeSetup(fs *flagSet, stdout, stderr io.Writer) func(context.Context, []string) error {
	c := &cli{stdout: stdout, stderr: stderr, fs: fs}
	var o invokeOptions
	fs.StringVar(&c.endpoint, "endpoint-url", "", "Behalf endpoint (default $AWS_ENDPOINT_URL_BEDROCK_AGENTCORE, $AWS_ENDPOINT_URL or "+defaultEndpoint+")")
	fs.StringVar(&c.dataDir, "data-dir", ".behalf", "where to find the local server's credentials file when no AWS credentials are configured (SigV4)")
	fs.StringVar(&o.bearer, "bearer-token", "", "JWT for a runtime with a JWT authorizer (visible to other local users; prefer --bearer-token-file)")
	fs.StringVar(&o.bearerFile, "bearer-token-file", "", `read the JWT from this file ("-" for stdin)`)
	fs.StringVar(&o.sessionID, "session-id", "", "runtime session id (33 to 256 characters); default: a new one")
	fs.StringVar(&o.userID, "user-id", "", "user to invoke for (SigV4 only): the agent gets a workload access token for this user")
	fs.StringVar(&o.qualifier, "qualifier", "DEFAULT", "endpoint of the runtime")
	fs.StringVar(&o.contentType, "content-type", "application/json", "Content-Type of the payload")
	fs.StringVar(&o.accept, "accept", "application/json, text/event-stream", "Accept header")
	fs.Var(&o.headers, "header", `extra request header "Name: value", e.g. an allowlisted X-Amzn-Bedrock-AgentCore-Runtime-Custom-* (repeatable)`)
	fs.BoolVar(&o.raw, "raw", false, "print the answer exactly as received (no server-sent-event decoding)")
	return func(ctx context.Context, rest []string) error { return runInvoke(ctx, c, o, rest, stderr) }
}

// runInvoke runs `behalf invoke RUNTIME [PAYLOAD]`.
func runInvoke(ctx context.Context, c *cli, o invokeOptions, rest []string, stderr io.Writer) error {
	if len(rest) < 1 || len(rest) > 2 {
		return fmt.Errorf("%w: expected RUNTIME [PAYLOAD]", errUsage)
	}
	payload := []byte("{}")
	if len(rest) == 2 {
		payload = []byte(rest[1])
		if rest[1] == "-" {
			b, err := io.ReadAll(io.LimitReader(os.Stdin, agentruntime.DefaultMaxBodyBytes+1))
			if err != nil {
				return fmt.Errorf("read payload: %w", err)
			}
			payload = b
		}
	}
	if o.bearerFile != "" {
		if o.bearer != "" {
			return fmt.Errorf("%w: give --bearer-token or --bearer-token-file, not both", errUsage)
		}
		tok, err := readSecretFile(o.bearerFile)
		if err != nil {
			return err
		}
		o.bearer = strings.TrimSpace(tok)
	}
	if o.bearer != "" && o.userID != "" {
		return fmt.Errorf("%w: --user-id is for SigV4 calls; with a bearer token the user is the token's", errUsage)
	}
	var a *answer
	var err error
	if o.bearer != "" {
		a, err = invokeBearer(ctx, c, o, rest[0], payload)
	} else {
		a, err = invokeSigV4(ctx, c, o, rest[0], payload)
	}
	if err != nil {
		return err
	}
	defer a.body.Close()
	if a.sessionID != "" {
		fmt.Fprintf(stderr, "Session: %s\n", a.sessionID)
	}
	sse := strings.HasPrefix(strings.ToLower(a.contentType), "text/event-stream")
	return streamAnswer(c.stdout, a.body, sse && !o.raw)
}

// dataPlaneEndpoint is --endpoint-url, else the data-plane endpoint
// variables, else the local server.
func (c *cli) dataPlaneEndpoint() string {
	for _, v := range []string{c.endpoint, os.Getenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE"), os.Getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return strings.TrimSuffix(v, "/")
		}
	}
	return defaultEndpoint
}

// invokeURL is InvokeAgentRuntime's URL, the runtime's ARN or id encoded
// into one path segment as the SDKs encode it.
func invokeURL(endpoint, runtime, qualifier string) string {
	escaped := strings.ReplaceAll(url.QueryEscape(runtime), "+", "%20")
	return endpoint + "/runtimes/" + escaped + "/invocations?qualifier=" + url.QueryEscape(qualifier)
}

// answer is a successful invocation's streaming answer.
type answer struct {
	body        io.ReadCloser
	sessionID   string
	contentType string
}

// invokeBearer makes the call with a bearer token, as AgentCore's docs
// do: a plain HTTPS request (the SDK cannot send one).
func invokeBearer(ctx context.Context, c *cli, o invokeOptions, runtime string, payload []byte) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, invokeURL(c.dataPlaneEndpoint(), runtime, o.qualifier), bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+o.bearer)
	req.Header.Set("Content-Type", o.contentType)
	req.Header.Set("Accept", o.accept)
	if o.sessionID != "" {
		req.Header.Set(agentruntime.HeaderSessionID, o.sessionID)
	}
	if err := addHeaders(req.Header, o.headers); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, answerError(resp)
	}
	return &answer{resp.Body, resp.Header.Get(agentruntime.HeaderSessionID), resp.Header.Get("Content-Type")}, nil
}

// invokeSigV4 makes the call with the official data-plane client.
func invokeSigV4(ctx context.Context, c *cli, o invokeOptions, runtime string, payload []byte) (*answer, error) {
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	client := dp.NewFromConfig(cfg, func(opt *dp.Options) {
		opt.BaseEndpoint = aws.String(c.dataPlaneEndpoint())
		opt.RetryMaxAttempts = 1 // an invocation is not idempotent
	})
	in := &dp.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(runtime), Payload: payload, Qualifier: aws.String(o.qualifier),
		ContentType: aws.String(o.contentType), Accept: aws.String(o.accept),
	}
	if o.sessionID != "" {
		in.RuntimeSessionId = aws.String(o.sessionID)
	}
	if o.userID != "" {
		in.RuntimeUserId = aws.String(o.userID)
	}
	var extra http.Header
	if len(o.headers) > 0 {
		extra = http.Header{}
		if err := addHeaders(extra, o.headers); err != nil {
			return nil, err
		}
	}
	out, err := client.InvokeAgentRuntime(ctx, in, func(opt *dp.Options) {
		if extra != nil {
			opt.HTTPClient = headerAdder{next: opt.HTTPClient, h: extra}
		}
	})
	if err != nil {
		return nil, wrapAPIError(err)
	}
	return &answer{out.Response, aws.ToString(out.RuntimeSessionId), aws.ToString(out.ContentType)}, nil
}

// headerAdder wraps the SDK's HTTP client to add --header headers after
// signing: they travel unsigned, as SigV4 allows (only the headers named
// in SignedHeaders are signed).
type headerAdder struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	h http.Header
}

func (a headerAdder) Do(r *http.Request) (*http.Response, error) {
	for k, v := range a.h {
		r.Header[k] = v
	}
	return a.next.Do(r)
}

// addHeaders parses "Name: value" flags into h.
func addHeaders(h http.Header, flags []string) error {
	for _, f := range flags {
		name, value, ok := strings.Cut(f, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("%w: --header %q: want \"Name: value\"", errUsage, f)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return nil
}

// answerError turns an error answer (AgentCore's shape, or an agent's own
// status) into an error.
func answerError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if typ := resp.Header.Get("X-Amzn-ErrorType"); typ != "" && json.Unmarshal(b, &e) == nil {
		return fmt.Errorf("%s: %s", typ, e.Message)
	}
	return fmt.Errorf("the agent answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
}

// streamAnswer copies an answer to w as it arrives. With sse, the data of
// each server-sent event prints on its own line and the framing is
// dropped; otherwise bytes are copied unchanged.
func streamAnswer(w io.Writer, body io.Reader, sse bool) error {
	if !sse {
		buf := make([]byte, 32<<10)
		for {
			n, err := body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return werr
				}
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading the answer: %w", err)
			}
		}
	}
	br := bufio.NewReaderSize(body, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if data, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data:"); ok {
			if _, werr := fmt.Fprintln(w, strings.TrimPrefix(data, " ")); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
	}
}
