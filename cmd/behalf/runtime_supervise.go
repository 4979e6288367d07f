package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/supervise"
)

// `behalf runtime create NAME [runtime flags] -- COMMAND [ARG]...` runs an
// agent and fronts it, in the foreground: the CLI is the agent's
// supervisor.
//
//   - It picks a free loopback port and makes the runtime's upstream
//     http://127.0.0.1:PORT. Behalf must therefore run on this machine.
//   - Create or reuse: when no runtime is called NAME, it is created. When
//     one is, it is reused and updated (the flags replace its configuration,
//     as `behalf runtime update` does), so its workload identity survives:
//     the users' vaulted grants and the workload's return URLs stay valid
//     from one run to the next. A runtime is reused only if it looks like
//     one this command made and nobody serves it now: its upstream is an
//     http loopback URL and GET /ping there does not answer. Otherwise the
//     command refuses, rather than take over someone else's runtime.
//   - It creates an access key scoped to the runtime's workload identity
//     (POST /behalf/CreateAccessKey) and hands the agent that key, never
//     the key the CLI itself uses.
//   - It starts COMMAND with PORT, AWS_ENDPOINT_URL (and
//     AWS_ENDPOINT_URL_BEDROCK_AGENTCORE), AWS_ACCESS_KEY_ID,
//     AWS_SECRET_ACCESS_KEY, AWS_REGION and, with --callback-url,
//     OAUTH2_CALLBACK_URL set; other AWS credential and endpoint settings and
//     every BEHALF_* variable of the CLI's environment are removed. Its
//     stdin is /dev/null; its stdout and stderr lines reach the CLI's
//     stdout and stderr prefixed with "[NAME] ".
//   - COMMAND runs in its own process group, so whatever it starts is
//     stopped with it. When it exits it is restarted on the same port after
//     0.5 s, doubling up to 30 s while it keeps failing; a run of at least
//     60 s resets the delay.
//   - On SIGINT or SIGTERM it sends the process group SIGTERM, then SIGKILL
//     to whatever is left after 5 s, deletes the scoped key, and leaves the
//     runtime in place (invocations answer 424 until an agent serves it
//     again; the next run reuses it). --delete-on-exit deletes the runtime
//     and its workload identity instead.
//
// The supervisor's own messages go to stderr, prefixed "behalf: ".
//
// Running, restarting and stopping the process, and its environment, are
// internal/supervise's; this file creates or reuses the runtime, creates
// and deletes the scoped key, and prints.

// superviseStopGrace is the supervisor's SIGTERM → SIGKILL grace; tests
// shorten it.
var superviseStopGrace = supervise.DefaultStopGrace

func runtimeCreateFlags(fs *flagSet) {
	runtimeFlags(fs)
	fs.Bool("delete-on-exit", false, "with -- COMMAND: delete the runtime and its workload identity when the command stops (default: leave it, the next run reuses it)")
}

// dataEndpoint is the data-plane endpoint: --endpoint-url, else the AWS
// endpoint variables, else the local server.
func (c *cli) dataEndpoint() string {
	for _, v := range []string{c.endpoint, os.Getenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE"), os.Getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return strings.TrimRight(v, "/")
		}
	}
	return defaultEndpoint
}

// supervisedRuntime is the runtime a supervising run fronts.
type supervisedRuntime struct {
	id, arn, version, workload string
	status                     types.AgentRuntimeStatus
	reused                     bool
}

// runtimeSupervise runs `behalf runtime create NAME [flags] -- COMMAND ARGS`.
func runtimeSupervise(ctx context.Context, c *cli, name string, argv []string) (err error) {
	if c.set("upstream") {
		return fmt.Errorf("%w: give either --upstream URL (an agent that already runs) or -- COMMAND (an agent for this command to run), not both", errUsage)
	}
	// `... -- COMMAND | tee`: Ctrl-C stops tee too, and the agent's last
	// lines then go to a pipe nobody reads. Writing there must fail, not
	// kill the process with SIGPIPE before it cleans up.
	signal.Ignore(syscall.SIGPIPE)
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("cannot run the agent: %w", err)
	}
	stdout, stderr := supervise.NewOutput(c.stdout), supervise.NewOutput(c.stderr)
	status := stderr.Lines("behalf: ")

	port, err := supervise.FreeLoopbackPort()
	if err != nil {
		return fmt.Errorf("find a free port for the agent: %w", err)
	}
	upstream := "http://127.0.0.1:" + port
	if err := c.fs.Set("upstream", upstream); err != nil {
		return err
	}
	rc, err := c.runtimeConfig()
	if err != nil {
		return err
	}
	tags, err := parseTags(c.list("tag"))
	if err != nil {
		return err
	}
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	rt, err := superviseRuntime(ctx, client, name, rc, tags)
	if err != nil {
		return err
	}
	deleteOnExit := c.bool("delete-on-exit")
	if err := c.printSupervisedRuntime(rt, name, upstream, tags); err != nil {
		return err
	}

	// Whatever happens from here on, clean up on the way out.
	var keyID string
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if keyID != "" {
			if derr := c.behalfCall(cctx, "DeleteAccessKey", map[string]string{"accessKeyId": keyID}, nil); derr != nil {
				status.Printf("could not delete the agent's access key %s: %v (delete it with `behalf access-key delete %s`)", keyID, derr, keyID)
				err = errors.Join(err, fmt.Errorf("delete access key %s: %w", keyID, derr))
			} else {
				status.Printf("deleted the agent's access key %s", keyID)
			}
		}
		if deleteOnExit {
			if _, derr := client.DeleteAgentRuntime(cctx, &ctl.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(rt.id)}); derr != nil {
				status.Printf("could not delete agent runtime %s: %v", rt.id, wrapAPIError(derr))
				err = errors.Join(err, wrapAPIError(derr))
			} else {
				status.Printf("deleted agent runtime %s and its workload identity %s", rt.id, rt.workload)
			}
		} else {
			status.Printf("left agent runtime %s in place: invocations answer 424 until an agent serves it again; the same command reuses it, `behalf runtime delete %s` removes it", rt.id, name)
		}
	}()

	var key struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	if err := c.behalfCall(ctx, "CreateAccessKey", map[string]string{"workloadName": rt.workload}, &key); err != nil {
		return fmt.Errorf("create the agent's access key: %w", err)
	}
	if key.ID == "" || key.Secret == "" {
		return errors.New("create the agent's access key: the answer holds no key")
	}
	keyID = key.ID
	status.Printf("created access key %s for the agent, scoped to workload %s (deleted when this command stops)", key.ID, rt.workload)

	set := map[string]string{
		"PORT":                               port,
		"AWS_ENDPOINT_URL":                   c.dataEndpoint(),
		"AWS_ENDPOINT_URL_BEDROCK_AGENTCORE": c.dataEndpoint(),
		"AWS_ACCESS_KEY_ID":                  key.ID,
		"AWS_SECRET_ACCESS_KEY":              key.Secret,
		"AWS_REGION":                         cfg.Region,
	}
	shown := fmt.Sprintf("PORT=%s AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=(not shown)", port, c.dataEndpoint(), cfg.Region, key.ID)
	if cb := rc.env[behalf.CallbackURLEnv]; cb != "" {
		set[behalf.CallbackURLEnv] = cb
		shown += " " + behalf.CallbackURLEnv + "=" + cb
	}
	s := &supervise.Supervisor{
		Name: name, Path: path, Args: argv, Port: port,
		Env:    supervise.Env(os.Environ(), set),
		Stdout: stdout.Lines("[" + name + "] "),
		Stderr: stderr.Lines("[" + name + "] "),
		Status: status,

		StopGrace: superviseStopGrace,
	}
	status.Printf("agent environment: %s", shown)
	return s.Run(ctx)
}

// superviseRuntime creates the runtime NAME, or reuses it when it is one a
// supervising run left behind and nobody serves it now.
func superviseRuntime(ctx context.Context, client *ctl.Client, name string, rc runtimeConfig, tags map[string]string) (supervisedRuntime, error) {
	got, err := client.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(name)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf) || err == nil && aws.ToString(got.AgentRuntimeName) != name:
		out, err := client.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
			AgentRuntimeName:           aws.String(name),
			AgentRuntimeArtifact:       rc.artifact,
			RoleArn:                    rc.roleARN,
			Description:                rc.description,
			AuthorizerConfiguration:    rc.authorizer,
			RequestHeaderConfiguration: rc.headers,
			EnvironmentVariables:       rc.env,
			Tags:                       tags,
		})
		if err != nil {
			return supervisedRuntime{}, wrapAPIError(err)
		}
		return supervisedRuntime{id: aws.ToString(out.AgentRuntimeId), arn: aws.ToString(out.AgentRuntimeArn),
			version: aws.ToString(out.AgentRuntimeVersion), status: out.Status, workload: workloadFromDetails(out.WorkloadIdentityDetails)}, nil
	case err != nil:
		return supervisedRuntime{}, wrapAPIError(err)
	}
	id := aws.ToString(got.AgentRuntimeId)
	old := upstreamOf(got.AgentRuntimeArtifact)
	if !supervise.IsLoopbackHTTP(old) {
		return supervisedRuntime{}, fmt.Errorf("agent runtime %s (%s) exists and fronts %s, which this command did not start: choose another name, or remove it first with `behalf runtime delete %s`", name, id, old, name)
	}
	if supervise.PingAnswers(ctx, old) {
		return supervisedRuntime{}, fmt.Errorf("agent runtime %s (%s) is in use: an agent answers GET /ping at its upstream %s (is another `behalf runtime create %s -- …` running?)", name, id, old, name)
	}
	out, err := client.UpdateAgentRuntime(ctx, &ctl.UpdateAgentRuntimeInput{
		AgentRuntimeId:             aws.String(id),
		AgentRuntimeArtifact:       rc.artifact,
		RoleArn:                    rc.roleARN,
		Description:                rc.description,
		AuthorizerConfiguration:    rc.authorizer,
		RequestHeaderConfiguration: rc.headers,
		EnvironmentVariables:       rc.env,
	})
	if err != nil {
		return supervisedRuntime{}, wrapAPIError(err)
	}
	return supervisedRuntime{id: id, arn: aws.ToString(out.AgentRuntimeArn), version: aws.ToString(out.AgentRuntimeVersion),
		status: out.Status, workload: workloadFromDetails(out.WorkloadIdentityDetails), reused: true}, nil
}

func (c *cli) printSupervisedRuntime(rt supervisedRuntime, name, upstream string, tags map[string]string) error {
	return c.print(map[string]any{
		"AgentRuntimeArn": rt.arn, "AgentRuntimeId": rt.id, "AgentRuntimeVersion": rt.version, "Status": rt.status,
		"WorkloadIdentityName": rt.workload, "InvocationUrl": c.invocationURL(rt.arn), "Upstream": upstream, "Reused": rt.reused,
	}, func(w io.Writer) {
		if rt.reused {
			fmt.Fprintf(w, "Reusing agent runtime %s (updated: this command's flags, the new upstream)\n", rt.id)
		} else {
			fmt.Fprintf(w, "Created agent runtime %s\n", rt.id)
		}
		fmt.Fprintf(w, "  ARN:               %s\n", rt.arn)
		fmt.Fprintf(w, "  Status:            %s (version %s)\n", rt.status, rt.version)
		fmt.Fprintf(w, "  Upstream:          %s (the agent this command runs)\n", upstream)
		fmt.Fprintf(w, "  Workload identity: %s\n", rt.workload)
		fmt.Fprintf(w, "  Invocation URL:    %s\n", c.invocationURL(rt.arn))
		if rt.reused && len(tags) > 0 {
			fmt.Fprintf(w, "  (--tag ignored: tags are set when a runtime is created)\n")
		}
	})
}
