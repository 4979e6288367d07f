package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"sigs.k8s.io/yaml"

	"github.com/behalf-dev/behalf/gateway"
)

// Gateways: MCP endpoints in front of OpenAPI and MCP server targets,
// through the official AgentCore control-plane client.

// defaultGatewayRoleARN is recorded when --role-arn is not given:
// AgentCore requires a role; Behalf only stores it.
const defaultGatewayRoleARN = "arn:aws:iam::000000000000:role/behalf-gateway"

var gatewayCommands = map[string]command{
	"create": {usage: "NAME (--discovery-url URL --allowed-client ID... [--allowed-audience A]... [--allowed-scope S]... | --no-auth) [--description D] [--role-arn ARN] [--tag K=V]...",
		short: "Create an MCP gateway (with its own workload identity) and print its URL for MCP clients.",
		run:   gatewayCreate, flags: gatewayCreateFlags},
	"update": {usage: "ID|NAME (--discovery-url URL --allowed-client ID... [--allowed-audience A]... [--allowed-scope S]... | --no-auth) [--description D] [--role-arn ARN]",
		short: "Change a gateway's inbound authorization or description (flags not given keep their values).",
		run:   gatewayUpdate, flags: gatewayCreateFlags},
	"get":    {usage: "ID|NAME", short: "Show a gateway and its MCP URL.", run: gatewayGet},
	"list":   {usage: "", short: "List gateways.", run: gatewayList},
	"delete": {usage: "ID|NAME", short: "Delete a gateway (its targets first) and its workload identity.", run: gatewayDelete},
}

const gatewayTargetUsage = "GATEWAY TARGET (--openapi FILE [--server URL] | --mcp-server URL) [--oauth PROVIDER ... | --api-key PROVIDER ...]\n" +
	"Each operation of the OpenAPI document (by operationId) becomes the tool TARGET___operationId; --server\n" +
	"replaces the document's servers (e.g. to point Google's document at the sandbox). A remote MCP server's\n" +
	"tools become TARGET___tool. PROVIDER is a credential provider's name or ARN:\n" +
	"  --oauth PROVIDER [--scope S]... [--grant authorization-code|client-credentials] [--return-url URL]\n" +
	"      each user's own token (authorization-code, the default: a user without a grant is asked to consent,\n" +
	"      then sent to --return-url, by default Behalf's binding page), or the provider's client's own\n" +
	"      (client-credentials);\n" +
	"  --api-key PROVIDER [--header NAME | --query NAME] [--prefix P]\n" +
	"      the key in a header (default Authorization, prefix Bearer) or a query parameter."

var gatewayTargetCommands = map[string]command{
	"create": {usage: gatewayTargetUsage, short: "Add a target to a gateway: an OpenAPI document or a remote MCP server.",
		run: gatewayTargetCreate, flags: gatewayTargetFlags},
	"get":    {usage: "GATEWAY TARGET", short: "Show a gateway target (TARGET is its id or name).", run: gatewayTargetGet},
	"list":   {usage: "GATEWAY", short: "List a gateway's targets.", run: gatewayTargetList},
	"delete": {usage: "GATEWAY TARGET", short: "Delete a gateway target (TARGET is its id or name).", run: gatewayTargetDelete},
}

func gatewayCreateFlags(fs *flagSet) {
	fs.String("discovery-url", "", "inbound JWT authorizer: the issuer's .../.well-known/openid-configuration URL, e.g. a user pool's")
	fs.Var(&multi{}, "allowed-client", "JWT authorizer: an allowed client_id (repeatable)")
	fs.Var(&multi{}, "allowed-audience", "JWT authorizer: an allowed aud (repeatable)")
	fs.Var(&multi{}, "allowed-scope", "JWT authorizer: a required scope (repeatable)")
	fs.Bool("no-auth", false, "no inbound authorization: anyone who reaches the URL may call the tools")
	fs.String("description", "", "a description")
	fs.String("role-arn", defaultGatewayRoleARN, "an IAM role ARN to record (AgentCore requires one; Behalf only stores it)")
	fs.Var(&multi{}, "tag", "a tag KEY=VALUE (repeatable)")
}

func gatewayTargetFlags(fs *flagSet) {
	fs.String("openapi", "", "an OpenAPI 3 document (YAML or JSON) whose operations become tools")
	fs.String("server", "", "with --openapi: the API's base URL, replacing the document's servers")
	fs.String("mcp-server", "", "the URL of a remote MCP server (streamable HTTP) whose tools the gateway offers")
	fs.String("oauth", "", "outbound OAuth: an OAuth2 credential provider's name or ARN")
	fs.Var(&multi{}, "scope", "with --oauth: a scope to ask for (repeatable)")
	fs.String("grant", "authorization-code", "with --oauth: authorization-code (each user's own token) or client-credentials")
	fs.String("return-url", "", "with --oauth authorization-code: where the user's browser goes after consenting")
	fs.String("api-key", "", "outbound API key: an API key credential provider's name or ARN")
	fs.String("header", "", "with --api-key: the header carrying the key (default Authorization, prefix Bearer)")
	fs.String("query", "", "with --api-key: the query parameter carrying the key instead of a header")
	fs.String("prefix", "", "with --api-key: a prefix before the key, e.g. Bearer")
	fs.String("description", "", "a description")
}

func gatewayCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one gateway name"); err != nil {
		return err
	}
	in := &ctl.CreateGatewayInput{Name: aws.String(args[0]), RoleArn: aws.String(c.str("role-arn")), ProtocolType: types.GatewayProtocolTypeMcp}
	var err error
	if in.AuthorizerType, in.AuthorizerConfiguration, err = c.gatewayAuthorizer(); err != nil {
		return err
	}
	if d := c.str("description"); d != "" {
		in.Description = aws.String(d)
	}
	tags, err := parseTags(c.list("tag"))
	if err != nil {
		return err
	}
	in.Tags = tags
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.CreateGateway(ctx, in)
	if err != nil {
		return wrapAPIError(err)
	}
	workload := workloadFromDetails(out.WorkloadIdentityDetails)
	return c.print(map[string]any{
		"GatewayId": aws.ToString(out.GatewayId), "GatewayArn": aws.ToString(out.GatewayArn), "GatewayUrl": aws.ToString(out.GatewayUrl),
		"Status": out.Status, "AuthorizerType": out.AuthorizerType, "WorkloadIdentityName": workload,
	}, func(w io.Writer) {
		fmt.Fprintf(w, "Created gateway %s\n", aws.ToString(out.GatewayId))
		fmt.Fprintf(w, "  ARN:               %s\n", aws.ToString(out.GatewayArn))
		fmt.Fprintf(w, "  Status:            %s\n", out.Status)
		fmt.Fprintf(w, "  Inbound auth:      %s\n", out.AuthorizerType)
		fmt.Fprintf(w, "  Workload identity: %s\n", workload)
		fmt.Fprintf(w, "  MCP URL:           %s\n", aws.ToString(out.GatewayUrl))
		fmt.Fprintf(w, "\nNext: behalf gateway target create %s TARGET --openapi FILE ...\n", aws.ToString(out.GatewayId))
	})
}

// gatewayAuthorizer is the inbound authorization the flags describe.
func (c *cli) gatewayAuthorizer() (types.AuthorizerType, types.AuthorizerConfiguration, error) {
	jwtFlags := len(c.list("allowed-client"))+len(c.list("allowed-audience"))+len(c.list("allowed-scope")) > 0
	switch d := c.str("discovery-url"); {
	case c.bool("no-auth") && (d != "" || jwtFlags):
		return "", nil, fmt.Errorf("%w: --no-auth excludes --discovery-url and the --allowed-* flags", errUsage)
	case c.bool("no-auth"):
		return types.AuthorizerTypeNone, nil, nil
	case d == "":
		return "", nil, fmt.Errorf("%w: give --discovery-url URL (with --allowed-client, --allowed-audience or --allowed-scope) for signed-in MCP clients, or --no-auth", errUsage)
	}
	return types.AuthorizerTypeCustomJwt, &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
		DiscoveryUrl: aws.String(c.str("discovery-url")), AllowedClients: c.list("allowed-client"),
		AllowedAudience: c.list("allowed-audience"), AllowedScopes: c.list("allowed-scope"),
	}}, nil
}

func gatewayUpdate(ctx context.Context, c *cli, args []string) error {
	client, err := c.updateClient(ctx, args, "one gateway id or name")
	if err != nil {
		return err
	}
	// Read the gateway; the flags given change it, the others keep it.
	cur, err := client.GetGateway(ctx, &ctl.GetGatewayInput{GatewayIdentifier: aws.String(args[0])})
	if err != nil {
		return wrapAPIError(err)
	}
	keep := map[string][]string{"description": {aws.ToString(cur.Description)}, "role-arn": {aws.ToString(cur.RoleArn)}}
	if a := authorizerOf(cur.AuthorizerConfiguration); a != nil && !c.bool("no-auth") {
		keep["discovery-url"] = []string{aws.ToString(a.DiscoveryUrl)}
		if !c.set("discovery-url") || c.str("discovery-url") != "" {
			keep["allowed-client"], keep["allowed-audience"], keep["allowed-scope"] = a.AllowedClients, a.AllowedAudience, a.AllowedScopes
		}
	} else if a == nil && !c.set("discovery-url") && !c.set("allowed-client") && !c.set("allowed-audience") && !c.set("allowed-scope") {
		keep["no-auth"] = []string{"true"}
	}
	if err := c.keepUnset(keep); err != nil {
		return err
	}
	typ, authz, err := c.gatewayAuthorizer()
	if err != nil {
		return err
	}
	in := &ctl.UpdateGatewayInput{GatewayIdentifier: cur.GatewayId, Name: cur.Name, RoleArn: aws.String(c.str("role-arn")),
		ProtocolType: types.GatewayProtocolTypeMcp, AuthorizerType: typ, AuthorizerConfiguration: authz,
		ProtocolConfiguration: cur.ProtocolConfiguration}
	if d := c.str("description"); d != "" {
		in.Description = aws.String(d)
	}
	out, err := client.UpdateGateway(ctx, in)
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Updated gateway %s: %s, inbound auth %s\n", aws.ToString(out.GatewayId), out.Status, out.AuthorizerType)
		fmt.Fprintf(w, "  MCP URL: %s\n", aws.ToString(out.GatewayUrl))
	})
}

func gatewayGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one gateway id or name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.GetGateway(ctx, &ctl.GetGatewayInput{GatewayIdentifier: aws.String(args[0])})
	if err != nil {
		return wrapAPIError(err)
	}
	workload := workloadFromDetails(out.WorkloadIdentityDetails)
	a := authorizerOf(out.AuthorizerConfiguration)
	doc := stripMetadata(out)
	if m, ok := doc.(map[string]any); ok {
		m["WorkloadIdentityName"] = workload
		m["AuthorizerConfiguration"] = a // the SDK's unions do not marshal usefully
	}
	return c.print(doc, func(w io.Writer) {
		fmt.Fprintf(w, "Gateway %s (%s)\n", aws.ToString(out.GatewayId), aws.ToString(out.Name))
		fmt.Fprintf(w, "  ARN:               %s\n", aws.ToString(out.GatewayArn))
		fmt.Fprintf(w, "  Status:            %s\n", out.Status)
		fmt.Fprintf(w, "  Workload identity: %s\n", workload)
		if a != nil {
			fmt.Fprintf(w, "  Inbound auth:      JWT from %s\n", aws.ToString(a.DiscoveryUrl))
			printList(w, "    Clients:", a.AllowedClients)
			printList(w, "    Audience:", a.AllowedAudience)
			printList(w, "    Scopes:", a.AllowedScopes)
		} else {
			fmt.Fprintf(w, "  Inbound auth:      %s\n", out.AuthorizerType)
		}
		if d := aws.ToString(out.Description); d != "" {
			fmt.Fprintf(w, "  Description:       %s\n", d)
		}
		fmt.Fprintf(w, "  MCP URL:           %s\n", aws.ToString(out.GatewayUrl))
		fmt.Fprintf(w, "  Created:           %s\n  Updated:           %s\n", fmtTime(out.CreatedAt), fmtTime(out.UpdatedAt))
	})
}

func gatewayList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	type item struct{ GatewayId, Name, Status, AuthorizerType string }
	items := []item{}
	for p := ctl.NewListGatewaysPaginator(client, &ctl.ListGatewaysInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		for _, g := range page.Items {
			items = append(items, item{aws.ToString(g.GatewayId), aws.ToString(g.Name), string(g.Status), string(g.AuthorizerType)})
		}
	}
	return c.printTable(map[string]any{"Gateways": items}, []string{"ID", "NAME", "STATUS", "INBOUND AUTH"}, len(items), func(i int) []string {
		it := items[i]
		return []string{it.GatewayId, it.Name, it.Status, it.AuthorizerType}
	})
}

func gatewayDelete(ctx context.Context, c *cli, args []string) error {
	return deleteOne(ctx, c, args, "one gateway id or name", "Deleted gateway %s and its workload identity", func(ctx context.Context, client *ctl.Client, id string) (string, error) {
		out, err := client.DeleteGateway(ctx, &ctl.DeleteGatewayInput{GatewayIdentifier: aws.String(id)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.GatewayId), nil
	})
}

// targetConfig builds the target configuration of --openapi or --mcp-server.
func (c *cli) targetConfig() (types.TargetConfiguration, error) {
	file, server, mcpURL := c.str("openapi"), c.str("server"), c.str("mcp-server")
	switch {
	case (file == "") == (mcpURL == ""):
		return nil, fmt.Errorf("%w: give one of --openapi FILE and --mcp-server URL", errUsage)
	case mcpURL != "":
		if server != "" {
			return nil, fmt.Errorf("%w: --server applies only with --openapi", errUsage)
		}
		return &types.TargetConfigurationMemberMcp{Value: &types.McpTargetConfigurationMemberMcpServer{
			Value: types.McpServerTargetConfiguration{Endpoint: aws.String(mcpURL)}}}, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--openapi: %w", err)
	}
	payload := string(b)
	if server != "" {
		if payload, err = withServer(b, server); err != nil {
			return nil, fmt.Errorf("--openapi %s: %w", file, err)
		}
	}
	return &types.TargetConfigurationMemberMcp{Value: &types.McpTargetConfigurationMemberOpenApiSchema{
		Value: &types.ApiSchemaConfigurationMemberInlinePayload{Value: payload}}}, nil
}

// withServer returns the OpenAPI document doc (YAML or JSON) with its
// servers (the document's, each path's and each operation's) replaced by
// server, as JSON. It rewrites the document's tree without resolving
// references; the server checks the document and the URL as always.
func withServer(doc []byte, server string) (out string, err error) {
	if len(doc) > gateway.MaxOpenAPIBytes {
		return "", fmt.Errorf("larger than the %d bytes a target's document may have", gateway.MaxOpenAPIBytes)
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = "", errors.New("not an OpenAPI document")
		}
	}()
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return "", fmt.Errorf("not YAML or JSON: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil || m == nil {
		return "", errors.New("not an OpenAPI document (an object)")
	}
	if v, _ := m["openapi"].(string); !strings.HasPrefix(v, "3.") {
		return "", errors.New("not an OpenAPI 3 document (openapi: 3.x)")
	}
	m["servers"] = []any{map[string]any{"url": server}}
	paths, _ := m["paths"].(map[string]any)
	for _, item := range paths {
		it, ok := item.(map[string]any)
		if !ok {
			continue
		}
		delete(it, "servers")
		for _, method := range []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"} {
			if op, ok := it[method].(map[string]any); ok {
				delete(op, "servers")
			}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// credential builds the outbound credential of --oauth or --api-key.
func (c *cli) credential(ctx context.Context, client *ctl.Client) ([]types.CredentialProviderConfiguration, error) {
	oauth, key := c.str("oauth"), c.str("api-key")
	if oauth != "" && key != "" {
		return nil, fmt.Errorf("%w: give at most one of --oauth and --api-key", errUsage)
	}
	if oauth == "" && (c.set("scope") || c.set("grant") || c.set("return-url")) {
		return nil, fmt.Errorf("%w: --scope, --grant and --return-url apply only with --oauth", errUsage)
	}
	if key == "" && (c.set("header") || c.set("query") || c.set("prefix")) {
		return nil, fmt.Errorf("%w: --header, --query and --prefix apply only with --api-key", errUsage)
	}
	switch {
	case oauth != "":
		var grant types.OAuthGrantType
		switch c.str("grant") {
		case "authorization-code":
			grant = types.OAuthGrantTypeAuthorizationCode
		case "client-credentials":
			grant = types.OAuthGrantTypeClientCredentials
		default:
			return nil, fmt.Errorf("%w: --grant must be authorization-code or client-credentials", errUsage)
		}
		arn := oauth
		if !strings.HasPrefix(arn, "arn:") {
			p, err := client.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String(oauth)})
			if err != nil {
				return nil, fmt.Errorf("--oauth %s: %w", oauth, wrapAPIError(err))
			}
			arn = aws.ToString(p.CredentialProviderArn)
		}
		scopes := c.list("scope")
		if scopes == nil {
			scopes = []string{} // the SDK requires the member
		}
		o := types.OAuthCredentialProvider{ProviderArn: aws.String(arn), Scopes: scopes, GrantType: grant}
		if r := c.str("return-url"); r != "" {
			o.DefaultReturnUrl = aws.String(r)
		}
		return []types.CredentialProviderConfiguration{{CredentialProviderType: types.CredentialProviderTypeOauth,
			CredentialProvider: &types.CredentialProviderMemberOauthCredentialProvider{Value: o}}}, nil
	case key != "":
		if c.str("header") != "" && c.str("query") != "" {
			return nil, fmt.Errorf("%w: give at most one of --header and --query", errUsage)
		}
		arn := key
		if !strings.HasPrefix(arn, "arn:") {
			p, err := client.GetApiKeyCredentialProvider(ctx, &ctl.GetApiKeyCredentialProviderInput{Name: aws.String(key)})
			if err != nil {
				return nil, fmt.Errorf("--api-key %s: %w", key, wrapAPIError(err))
			}
			arn = aws.ToString(p.CredentialProviderArn)
		}
		k := types.GatewayApiKeyCredentialProvider{ProviderArn: aws.String(arn), CredentialLocation: types.ApiKeyCredentialLocationHeader}
		if h := c.str("header"); h != "" {
			k.CredentialParameterName = aws.String(h)
		}
		if q := c.str("query"); q != "" {
			k.CredentialLocation, k.CredentialParameterName = types.ApiKeyCredentialLocationQueryParameter, aws.String(q)
		}
		if p := c.str("prefix"); p != "" {
			k.CredentialPrefix = aws.String(p)
		}
		return []types.CredentialProviderConfiguration{{CredentialProviderType: types.CredentialProviderTypeApiKey,
			CredentialProvider: &types.CredentialProviderMemberApiKeyCredentialProvider{Value: k}}}, nil
	}
	return nil, nil
}

func gatewayTargetCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a gateway id or name and a target name"); err != nil {
		return err
	}
	cfg, err := c.targetConfig()
	if err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	creds, err := c.credential(ctx, client)
	if err != nil {
		return err
	}
	id := args[0]
	in := &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(id), Name: aws.String(args[1]),
		TargetConfiguration: cfg, CredentialProviderConfigurations: creds}
	if d := c.str("description"); d != "" {
		in.Description = aws.String(d)
	}
	out, err := client.CreateGatewayTarget(ctx, in)
	if err != nil {
		return wrapAPIError(err)
	}
	authURL := authorizationURLOf(out.AuthorizationData)
	return c.print(map[string]any{
		"TargetId": aws.ToString(out.TargetId), "Name": aws.ToString(out.Name), "GatewayArn": aws.ToString(out.GatewayArn),
		"Status": out.Status, "AuthorizationUrl": authURL,
	}, func(w io.Writer) {
		fmt.Fprintf(w, "Created target %s (%s) on gateway %s: %s\n", aws.ToString(out.Name), aws.ToString(out.TargetId), gatewayOfARN(out.GatewayArn, id), out.Status)
		if authURL != "" {
			fmt.Fprintf(w, "  Consent to list its tools: %s\n", authURL)
		}
		fmt.Fprintf(w, "  Its tools are named %s___<tool>\n", aws.ToString(out.Name))
	})
}

// gatewayOfARN returns the gateway id in a gateway ARN, else def.
func gatewayOfARN(arn *string, def string) string {
	if _, id, ok := strings.Cut(aws.ToString(arn), ":gateway/"); ok && id != "" {
		return id
	}
	return def
}

// authorizationURLOf returns the URL of a target waiting for consent.
func authorizationURLOf(a types.AuthorizationData) string {
	if o, ok := a.(*types.AuthorizationDataMemberOauth2); ok {
		return aws.ToString(o.Value.AuthorizationUrl)
	}
	return ""
}

// targetID resolves a target id or name on gateway id to its id.
func targetID(ctx context.Context, client *ctl.Client, id, ident string) (string, error) {
	var ids []string
	for p := ctl.NewListGatewayTargetsPaginator(client, &ctl.ListGatewayTargetsInput{GatewayIdentifier: aws.String(id)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", wrapAPIError(err)
		}
		for _, it := range page.Items {
			if aws.ToString(it.TargetId) == ident {
				return ident, nil
			}
			if aws.ToString(it.Name) == ident {
				ids = append(ids, aws.ToString(it.TargetId))
			}
		}
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	return ident, nil // the server answers ResourceNotFoundException
}

// targetArgs reads a target command's two arguments, a gateway and one
// of its targets (each by id or name), and returns the client, the
// gateway as given and the target's id.
func (c *cli) targetArgs(ctx context.Context, args []string) (*ctl.Client, string, string, error) {
	if err := needArgs(args, 2, "a gateway id or name and a target id or name"); err != nil {
		return nil, "", "", err
	}
	client, err := c.client(ctx)
	if err != nil {
		return nil, "", "", err
	}
	tid, err := targetID(ctx, client, args[0], args[1])
	if err != nil {
		return nil, "", "", err
	}
	return client, args[0], tid, nil
}

func gatewayTargetGet(ctx context.Context, c *cli, args []string) error {
	client, id, tid, err := c.targetArgs(ctx, args)
	if err != nil {
		return err
	}
	out, err := client.GetGatewayTarget(ctx, &ctl.GetGatewayTargetInput{GatewayIdentifier: aws.String(id), TargetId: aws.String(tid)})
	if err != nil {
		return wrapAPIError(err)
	}
	kind, where := targetKind(out.TargetConfiguration)
	cred := credentialSummary(out.CredentialProviderConfigurations)
	authURL := authorizationURLOf(out.AuthorizationData)
	doc := map[string]any{
		"TargetId": aws.ToString(out.TargetId), "Name": aws.ToString(out.Name), "GatewayArn": aws.ToString(out.GatewayArn),
		"Status": out.Status, "Kind": kind, "Target": where, "Credential": cred, "Description": aws.ToString(out.Description),
		"AuthorizationUrl": authURL, "CreatedAt": fmtTime(out.CreatedAt), "UpdatedAt": fmtTime(out.UpdatedAt),
	}
	return c.print(doc, func(w io.Writer) {
		fmt.Fprintf(w, "Target %s (%s) of gateway %s\n", aws.ToString(out.Name), aws.ToString(out.TargetId), gatewayOfARN(out.GatewayArn, id))
		fmt.Fprintf(w, "  Status:      %s\n", out.Status)
		fmt.Fprintf(w, "  Kind:        %s\n", kind)
		if where != "" {
			fmt.Fprintf(w, "  Target:      %s\n", where)
		}
		fmt.Fprintf(w, "  Credential:  %s\n", cred)
		if authURL != "" {
			fmt.Fprintf(w, "  Consent at:  %s\n", authURL)
		}
		if d := aws.ToString(out.Description); d != "" {
			fmt.Fprintf(w, "  Description: %s\n", d)
		}
		fmt.Fprintf(w, "  Tools:       %s___<tool>\n", aws.ToString(out.Name))
		fmt.Fprintf(w, "  Created:     %s\n  Updated:     %s\n", fmtTime(out.CreatedAt), fmtTime(out.UpdatedAt))
	})
}

// targetKind names a target configuration's kind and where it points.
func targetKind(tc types.TargetConfiguration) (kind, where string) {
	m, ok := tc.(*types.TargetConfigurationMemberMcp)
	if !ok {
		return "unknown", ""
	}
	switch v := m.Value.(type) {
	case *types.McpTargetConfigurationMemberOpenApiSchema:
		if s, ok := v.Value.(*types.ApiSchemaConfigurationMemberInlinePayload); ok {
			return "openApiSchema", fmt.Sprintf("inline document, %d bytes", len(s.Value))
		}
		if s, ok := v.Value.(*types.ApiSchemaConfigurationMemberS3); ok {
			return "openApiSchema", aws.ToString(s.Value.Uri)
		}
		return "openApiSchema", ""
	case *types.McpTargetConfigurationMemberMcpServer:
		return "mcpServer", aws.ToString(v.Value.Endpoint)
	}
	return "unknown", ""
}

// credentialSummary describes a target's outbound credential in one line.
func credentialSummary(cs []types.CredentialProviderConfiguration) string {
	for _, c := range cs {
		switch v := c.CredentialProvider.(type) {
		case *types.CredentialProviderMemberOauthCredentialProvider:
			s := fmt.Sprintf("OAUTH %s %s", v.Value.GrantType, aws.ToString(v.Value.ProviderArn))
			if len(v.Value.Scopes) > 0 {
				s += " scopes " + strings.Join(v.Value.Scopes, " ")
			}
			if r := aws.ToString(v.Value.DefaultReturnUrl); r != "" {
				s += ", return URL " + r
			}
			return s
		case *types.CredentialProviderMemberApiKeyCredentialProvider:
			return fmt.Sprintf("API_KEY %s in %s %s", aws.ToString(v.Value.ProviderArn), v.Value.CredentialLocation, aws.ToString(v.Value.CredentialParameterName))
		}
	}
	return "none"
}

func gatewayTargetList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one gateway id or name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	id := args[0]
	type item struct{ TargetId, Name, Status, Description string }
	items := []item{}
	for p := ctl.NewListGatewayTargetsPaginator(client, &ctl.ListGatewayTargetsInput{GatewayIdentifier: aws.String(id)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		for _, t := range page.Items {
			items = append(items, item{aws.ToString(t.TargetId), aws.ToString(t.Name), string(t.Status), aws.ToString(t.Description)})
		}
	}
	return c.printTable(map[string]any{"Targets": items}, []string{"ID", "NAME", "STATUS", "DESCRIPTION"}, len(items), func(i int) []string {
		it := items[i]
		return []string{it.TargetId, it.Name, it.Status, it.Description}
	})
}

func gatewayTargetDelete(ctx context.Context, c *cli, args []string) error {
	client, id, tid, err := c.targetArgs(ctx, args)
	if err != nil {
		return err
	}
	out, err := client.DeleteGatewayTarget(ctx, &ctl.DeleteGatewayTargetInput{GatewayIdentifier: aws.String(id), TargetId: aws.String(tid)})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(map[string]string{"Deleted": aws.ToString(out.TargetId)}, func(w io.Writer) {
		fmt.Fprintf(w, "Deleted target %s of gateway %s\n", aws.ToString(out.TargetId), gatewayOfARN(out.GatewayArn, id))
	})
}
