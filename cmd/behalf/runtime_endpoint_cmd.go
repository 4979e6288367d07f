package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
)

// Runtime versions, named endpoints and sessions: behalf runtime versions,
// endpoint-create, endpoints, endpoint-delete, stop-session.

func init() {
	runtimeCommands["versions"] = command{usage: "ID|NAME", short: "List an agent runtime's versions (every update makes one).", run: runtimeVersions}
	runtimeCommands["endpoints"] = command{usage: "ID|NAME", short: "List an agent runtime's endpoints (DEFAULT serves the latest version).", run: runtimeEndpoints}
	runtimeCommands["endpoint-create"] = command{usage: "ID|NAME ENDPOINT [--version V] [--description D]",
		short: "Create a named endpoint serving one version (the latest if no --version); invoke it with --qualifier ENDPOINT.",
		run:   runtimeEndpointCreate, flags: func(fs *flagSet) {
			fs.String("version", "", "the runtime version the endpoint serves (default: the latest)")
			fs.String("description", "", "a description")
		}}
	runtimeCommands["endpoint-update"] = command{usage: "ID|NAME ENDPOINT --version V", short: "Point a named endpoint at another version.",
		run: runtimeEndpointUpdate, flags: func(fs *flagSet) { fs.String("version", "", "the runtime version the endpoint serves") }}
	runtimeCommands["endpoint-delete"] = command{usage: "ID|NAME ENDPOINT", short: "Delete a named endpoint.", run: runtimeEndpointDelete}
	runtimeCommands["stop-session"] = command{usage: "ID|NAME|ARN SESSION_ID [--qualifier ENDPOINT]",
		short: "End a runtime session: the next invocation with its id starts a new session on the endpoint's current version.",
		run:   runtimeStopSession, flags: func(fs *flagSet) { fs.String("qualifier", "", "the endpoint (default DEFAULT)") }}
}

func runtimeVersions(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one runtime id or name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	type item struct{ AgentRuntimeVersion, Status, LastUpdatedAt, Description string }
	items := []item{}
	for p := ctl.NewListAgentRuntimeVersionsPaginator(client, &ctl.ListAgentRuntimeVersionsInput{AgentRuntimeId: aws.String(args[0])}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		for _, v := range page.AgentRuntimes {
			items = append(items, item{aws.ToString(v.AgentRuntimeVersion), string(v.Status), fmtTime(v.LastUpdatedAt), aws.ToString(v.Description)})
		}
	}
	return c.printTable(map[string]any{"Versions": items}, []string{"VERSION", "STATUS", "UPDATED", "DESCRIPTION"}, len(items), func(i int) []string {
		it := items[i]
		return []string{it.AgentRuntimeVersion, it.Status, it.LastUpdatedAt, it.Description}
	})
}

func runtimeEndpoints(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one runtime id or name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	type item struct{ Name, LiveVersion, Status, Description string }
	items := []item{}
	for p := ctl.NewListAgentRuntimeEndpointsPaginator(client, &ctl.ListAgentRuntimeEndpointsInput{AgentRuntimeId: aws.String(args[0])}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		for _, e := range page.RuntimeEndpoints {
			items = append(items, item{aws.ToString(e.Name), aws.ToString(e.LiveVersion), string(e.Status), aws.ToString(e.Description)})
		}
	}
	return c.printTable(map[string]any{"Endpoints": items}, []string{"ENDPOINT", "VERSION", "STATUS", "DESCRIPTION"}, len(items), func(i int) []string {
		it := items[i]
		return []string{it.Name, it.LiveVersion, it.Status, it.Description}
	})
}

func runtimeEndpointCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a runtime id or name and an endpoint name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	in := &ctl.CreateAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(args[0]), Name: aws.String(args[1])}
	if v := c.str("version"); v != "" {
		in.AgentRuntimeVersion = aws.String(v)
	}
	if d := c.str("description"); d != "" {
		in.Description = aws.String(d)
	}
	out, err := client.CreateAgentRuntimeEndpoint(ctx, in)
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(stripMetadata(out), func(w io.Writer) {
		fmt.Fprintf(w, "Created endpoint %s of %s, serving version %s\n  ARN: %s\n", aws.ToString(out.EndpointName),
			aws.ToString(out.AgentRuntimeId), aws.ToString(out.TargetVersion), aws.ToString(out.AgentRuntimeEndpointArn))
	})
}

func runtimeEndpointUpdate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a runtime id or name and an endpoint name"); err != nil {
		return err
	}
	if c.str("version") == "" {
		return fmt.Errorf("%w: --version V is required", errUsage)
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.UpdateAgentRuntimeEndpoint(ctx, &ctl.UpdateAgentRuntimeEndpointInput{
		AgentRuntimeId: aws.String(args[0]), EndpointName: aws.String(args[1]), AgentRuntimeVersion: aws.String(c.str("version")),
	})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(stripMetadata(out), func(w io.Writer) {
		fmt.Fprintf(w, "Endpoint %s now serves version %s\n", args[1], aws.ToString(out.LiveVersion))
	})
}

func runtimeEndpointDelete(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a runtime id or name and an endpoint name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.DeleteAgentRuntimeEndpoint(ctx, &ctl.DeleteAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(args[0]), EndpointName: aws.String(args[1])})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(map[string]string{"Deleted": aws.ToString(out.EndpointName)}, func(w io.Writer) {
		fmt.Fprintf(w, "Deleted endpoint %s of %s\n", aws.ToString(out.EndpointName), aws.ToString(out.AgentRuntimeId))
	})
}

func runtimeStopSession(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a runtime id, name or ARN and a session id"); err != nil {
		return err
	}
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return err
	}
	client := dp.NewFromConfig(cfg, func(opt *dp.Options) { opt.BaseEndpoint = aws.String(c.dataPlaneEndpoint()) })
	in := &dp.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(args[0]), RuntimeSessionId: aws.String(args[1])}
	if q := c.str("qualifier"); q != "" {
		in.Qualifier = aws.String(q)
	}
	out, err := client.StopRuntimeSession(ctx, in)
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(map[string]string{"Stopped": aws.ToString(out.RuntimeSessionId)}, func(w io.Writer) {
		fmt.Fprintf(w, "Stopped session %s\n", aws.ToString(out.RuntimeSessionId))
	})
}
