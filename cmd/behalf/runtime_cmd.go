package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf"
)

// Agent runtimes: Behalf runs no containers; a runtime fronts an agent that
// is already running at --upstream.

const runtimeConfigUsage = "--upstream URL [--discovery-url URL [--allowed-client ID]... [--allowed-audience A]... [--allowed-scope S]...] [--header-allowlist H]... [--callback-url URL] [--description D] [--role-arn ARN]"

var runtimeCommands = map[string]command{
	"create": {usage: "NAME " + runtimeConfigUsage + " [--tag K=V]...\n" +
		"       behalf runtime create NAME [the same flags but --upstream] [--delete-on-exit] -- COMMAND [ARG]...\n\n" +
		"With -- COMMAND, the CLI runs the agent and supervises it in the foreground: a free loopback port is its upstream;\n" +
		"the runtime is created, or reused (updated) when a previous run left it; an access key scoped to the runtime's\n" +
		"workload (never yours) is made for the agent; COMMAND gets PORT, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,\n" +
		"AWS_SECRET_ACCESS_KEY, AWS_REGION (and " + behalf.CallbackURLEnv + " with --callback-url); its output lines are prefixed\n" +
		"[NAME]; it is restarted when it exits (0.5s doubling to 30s). Ctrl-C stops it (SIGTERM, SIGKILL after 5s) and\n" +
		"deletes the key; the runtime stays for the next run unless --delete-on-exit.",
		short: "Register a running agent as an agent runtime (with its own workload identity), or run one (-- COMMAND).",
		run:   runtimeCreate, flags: runtimeCreateFlags},
	"get":    {usage: "ID|NAME", short: "Show an agent runtime and its invocation URL.", run: runtimeGet},
	"list":   {usage: "", short: "List agent runtimes.", run: runtimeList},
	"update": {usage: "ID|NAME [--upstream URL] [the other flags of create]", short: "Change an agent runtime's configuration: only the flags given (--flag '' clears one).", run: runtimeUpdate, flags: runtimeFlags},
	"delete": {usage: "ID|NAME", short: "Delete an agent runtime and its workload identity.", run: runtimeDelete},
}

func runtimeFlags(fs *flagSet) {
	fs.String("upstream", "", "http(s) base URL of the running agent (it serves POST /invocations and GET /ping); required")
	fs.String("description", "", "a description")
	fs.String("role-arn", "", "an IAM role ARN to record (AgentCore requires one; Behalf only stores it)")
	fs.String("discovery-url", "", "inbound JWT authorizer: the issuer's .../.well-known/openid-configuration URL (omit for SigV4)")
	fs.Var(&multi{}, "allowed-client", "JWT authorizer: an allowed client_id (repeatable)")
	fs.Var(&multi{}, "allowed-audience", "JWT authorizer: an allowed aud (repeatable)")
	fs.Var(&multi{}, "allowed-scope", "JWT authorizer: an allowed scope (repeatable)")
	fs.Var(&multi{}, "header-allowlist", "a request header passed through to the agent, e.g. Authorization (repeatable)")
	fs.String("callback-url", "", "OAuth2 return URL handed to the agent (OAuth2CallbackUrl header); sent as environment variable "+behalf.CallbackURLEnv)
	fs.Var(&multi{}, "tag", "a tag KEY=VALUE (repeatable; create only)")
}

// runtimeConfig is the configuration the flags describe, in the SDK's shapes.
type runtimeConfig struct {
	artifact    types.AgentRuntimeArtifact
	authorizer  types.AuthorizerConfiguration
	headers     types.RequestHeaderConfiguration
	env         map[string]string
	description *string
	roleARN     *string
}

func (c *cli) runtimeConfig() (runtimeConfig, error) {
	var rc runtimeConfig
	upstream := c.str("upstream")
	if upstream == "" {
		return rc, fmt.Errorf("%w: --upstream URL is required (the http(s) URL of the running agent)", errUsage)
	}
	rc.artifact = &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(upstream)}}
	if d := c.str("discovery-url"); d != "" {
		rc.authorizer = &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl:    aws.String(d),
			AllowedClients:  c.list("allowed-client"),
			AllowedAudience: c.list("allowed-audience"),
			AllowedScopes:   c.list("allowed-scope"),
		}}
	} else if len(c.list("allowed-client"))+len(c.list("allowed-audience"))+len(c.list("allowed-scope")) > 0 {
		return rc, fmt.Errorf("%w: --allowed-client, --allowed-audience and --allowed-scope need --discovery-url", errUsage)
	}
	if h := c.list("header-allowlist"); len(h) > 0 {
		rc.headers = &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{Value: h}
	}
	if cb := c.str("callback-url"); cb != "" {
		rc.env = map[string]string{behalf.CallbackURLEnv: cb}
	}
	if d := c.str("description"); d != "" {
		rc.description = aws.String(d)
	}
	// roleArn is required by the SDK; Behalf accepts it empty.
	rc.roleARN = aws.String(c.str("role-arn"))
	return rc, nil
}

func runtimeCreate(ctx context.Context, c *cli, args []string) error {
	// `create NAME [flags] -- COMMAND ARGS`: the positional arguments after
	// NAME are the command (see runtime_supervise.go).
	if len(args) > 1 {
		return runtimeSupervise(ctx, c, args[0], args[1:])
	}
	if err := needArgs(args, 1, "one runtime name"); err != nil {
		return err
	}
	if c.set("delete-on-exit") {
		return fmt.Errorf("%w: --delete-on-exit applies only with -- COMMAND", errUsage)
	}
	rc, err := c.runtimeConfig()
	if err != nil {
		return err
	}
	tags, err := parseTags(c.list("tag"))
	if err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:           aws.String(args[0]),
		AgentRuntimeArtifact:       rc.artifact,
		RoleArn:                    rc.roleARN,
		Description:                rc.description,
		AuthorizerConfiguration:    rc.authorizer,
		RequestHeaderConfiguration: rc.headers,
		EnvironmentVariables:       rc.env,
		Tags:                       tags,
	})
	if err != nil {
		return wrapAPIError(err)
	}
	arn := aws.ToString(out.AgentRuntimeArn)
	workload := workloadFromDetails(out.WorkloadIdentityDetails)
	return c.print(map[string]any{
		"AgentRuntimeArn": arn, "AgentRuntimeId": aws.ToString(out.AgentRuntimeId),
		"AgentRuntimeVersion": aws.ToString(out.AgentRuntimeVersion), "Status": out.Status,
		"WorkloadIdentityName": workload, "WorkloadIdentityDetails": out.WorkloadIdentityDetails,
		"InvocationUrl": c.invocationURL(arn),
	}, func(w io.Writer) {
		fmt.Fprintf(w, "Created agent runtime %s\n", aws.ToString(out.AgentRuntimeId))
		fmt.Fprintf(w, "  ARN:               %s\n", arn)
		fmt.Fprintf(w, "  Status:            %s (version %s)\n", out.Status, aws.ToString(out.AgentRuntimeVersion))
		fmt.Fprintf(w, "  Workload identity: %s\n", workload)
		fmt.Fprintf(w, "  Invocation URL:    %s\n", c.invocationURL(arn))
	})
}

func runtimeUpdate(ctx context.Context, c *cli, args []string) error {
	client, err := c.updateClient(ctx, args, "one runtime id or name")
	if err != nil {
		return err
	}
	// Read the runtime; the flags given change it, the others keep it.
	cur, err := client.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(args[0])})
	if err != nil {
		return wrapAPIError(err)
	}
	keep := map[string][]string{
		"upstream": {upstreamOf(cur.AgentRuntimeArtifact)}, "description": {aws.ToString(cur.Description)},
		"role-arn": {aws.ToString(cur.RoleArn)}, "header-allowlist": headersOf(cur.RequestHeaderConfiguration),
		"callback-url": {cur.EnvironmentVariables[behalf.CallbackURLEnv]},
	}
	if a := authorizerOf(cur.AuthorizerConfiguration); a != nil {
		keep["discovery-url"] = []string{aws.ToString(a.DiscoveryUrl)}
		if !c.set("discovery-url") || c.str("discovery-url") != "" {
			keep["allowed-client"], keep["allowed-audience"], keep["allowed-scope"] = a.AllowedClients, a.AllowedAudience, a.AllowedScopes
		}
	}
	if err := c.keepUnset(keep); err != nil {
		return err
	}
	rc, err := c.runtimeConfig()
	if err != nil {
		return err
	}
	env := map[string]string{} // the other variables stay
	for k, v := range cur.EnvironmentVariables {
		if k != behalf.CallbackURLEnv {
			env[k] = v
		}
	}
	maps.Copy(env, rc.env)
	rc.env = env
	out, err := client.UpdateAgentRuntime(ctx, &ctl.UpdateAgentRuntimeInput{
		AgentRuntimeId:             aws.String(args[0]),
		AgentRuntimeArtifact:       rc.artifact,
		RoleArn:                    rc.roleARN,
		Description:                rc.description,
		AuthorizerConfiguration:    rc.authorizer,
		RequestHeaderConfiguration: rc.headers,
		EnvironmentVariables:       rc.env,
	})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Updated agent runtime %s: %s, version %s\n", aws.ToString(out.AgentRuntimeId), out.Status, aws.ToString(out.AgentRuntimeVersion))
	})
}

func runtimeGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one runtime id or name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(args[0])})
	if err != nil {
		return wrapAPIError(err)
	}
	arn := aws.ToString(out.AgentRuntimeArn)
	workload := workloadFromDetails(out.WorkloadIdentityDetails)
	doc := stripMetadata(out)
	if m, ok := doc.(map[string]any); ok {
		m["WorkloadIdentityName"] = workload
		m["InvocationUrl"] = c.invocationURL(arn)
		// The SDK's unions do not marshal usefully; show them plainly.
		m["AgentRuntimeArtifact"] = map[string]any{"ContainerUri": upstreamOf(out.AgentRuntimeArtifact)}
		m["AuthorizerConfiguration"] = authorizerOf(out.AuthorizerConfiguration)
		m["RequestHeaderAllowlist"] = headersOf(out.RequestHeaderConfiguration)
		delete(m, "RequestHeaderConfiguration")
	}
	return c.print(doc, func(w io.Writer) {
		fmt.Fprintf(w, "Agent runtime %s (%s)\n", aws.ToString(out.AgentRuntimeId), aws.ToString(out.AgentRuntimeName))
		fmt.Fprintf(w, "  ARN:               %s\n", arn)
		fmt.Fprintf(w, "  Status:            %s (version %s)\n", out.Status, aws.ToString(out.AgentRuntimeVersion))
		fmt.Fprintf(w, "  Upstream:          %s\n", upstreamOf(out.AgentRuntimeArtifact))
		fmt.Fprintf(w, "  Workload identity: %s\n", workload)
		if a := authorizerOf(out.AuthorizerConfiguration); a != nil {
			fmt.Fprintf(w, "  Inbound auth:      JWT from %s\n", aws.ToString(a.DiscoveryUrl))
			printList(w, "    Allowed clients:", a.AllowedClients)
			printList(w, "    Allowed audience:", a.AllowedAudience)
			printList(w, "    Allowed scopes:", a.AllowedScopes)
		} else {
			fmt.Fprintln(w, "  Inbound auth:      SigV4")
		}
		printList(w, "  Header allowlist:", headersOf(out.RequestHeaderConfiguration))
		if cb := out.EnvironmentVariables[behalf.CallbackURLEnv]; cb != "" {
			fmt.Fprintf(w, "  Callback URL:      %s\n", cb)
		}
		if d := aws.ToString(out.Description); d != "" {
			fmt.Fprintf(w, "  Description:       %s\n", d)
		}
		fmt.Fprintf(w, "  Invocation URL:    %s\n", c.invocationURL(arn))
		fmt.Fprintf(w, "  Created:           %s\n  Updated:           %s\n", fmtTime(out.CreatedAt), fmtTime(out.LastUpdatedAt))
	})
}

func runtimeList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	type item struct{ AgentRuntimeId, AgentRuntimeName, AgentRuntimeArn, Status, AgentRuntimeVersion string }
	items := []item{}
	p := ctl.NewListAgentRuntimesPaginator(client, &ctl.ListAgentRuntimesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		for _, r := range page.AgentRuntimes {
			items = append(items, item{aws.ToString(r.AgentRuntimeId), aws.ToString(r.AgentRuntimeName),
				aws.ToString(r.AgentRuntimeArn), string(r.Status), aws.ToString(r.AgentRuntimeVersion)})
		}
	}
	return c.printTable(map[string]any{"AgentRuntimes": items}, []string{"ID", "STATUS", "VERSION", "ARN"}, len(items), func(i int) []string {
		it := items[i]
		return []string{it.AgentRuntimeId, it.Status, it.AgentRuntimeVersion, it.AgentRuntimeArn}
	})
}

func runtimeDelete(ctx context.Context, c *cli, args []string) error {
	return deleteOne(ctx, c, args, "one runtime id or name", "Deleted agent runtime %s and its workload identity", func(ctx context.Context, client *ctl.Client, id string) (string, error) {
		out, err := client.DeleteAgentRuntime(ctx, &ctl.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.AgentRuntimeId), nil
	})
}

// invocationURL is where callers invoke the runtime's DEFAULT endpoint:
// the data-plane endpoint, then the ARN URL-encoded into one segment.
func (c *cli) invocationURL(arn string) string {
	return c.dataEndpoint() + "/runtimes/" + url.QueryEscape(arn) + "/invocations?qualifier=" + behalf.DefaultEndpoint
}

// workloadFromDetails returns the workload identity name in its ARN.
func workloadFromDetails(d *types.WorkloadIdentityDetails) string {
	if d == nil {
		return "-"
	}
	arn := aws.ToString(d.WorkloadIdentityArn)
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func upstreamOf(a types.AgentRuntimeArtifact) string {
	if cc, ok := a.(*types.AgentRuntimeArtifactMemberContainerConfiguration); ok {
		return aws.ToString(cc.Value.ContainerUri)
	}
	return "-"
}

func authorizerOf(a types.AuthorizerConfiguration) *types.CustomJWTAuthorizerConfiguration {
	if j, ok := a.(*types.AuthorizerConfigurationMemberCustomJWTAuthorizer); ok {
		return &j.Value
	}
	return nil
}

func headersOf(h types.RequestHeaderConfiguration) []string {
	if l, ok := h.(*types.RequestHeaderConfigurationMemberRequestHeaderAllowlist); ok {
		return l.Value
	}
	return nil
}

func printList(w io.Writer, label string, items []string) {
	if len(items) > 0 {
		fmt.Fprintf(w, "%-21s%s\n", label, strings.Join(items, ", "))
	}
}
