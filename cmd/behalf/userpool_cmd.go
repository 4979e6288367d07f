package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// The user-pool commands drive Behalf's Cognito-compatible API with the
// official cognito-idp client, as any Cognito tool would:
//
//	behalf userpool create|get|list|delete ...
//	behalf userpool client create|get|list|delete ...
//	behalf user create|set-password|get|list|delete|disable|enable|sign-out|confirm|reset-password|codes ...
//	behalf login --pool POOL --client CLIENT --username USER ...

var userPoolCommands = map[string]command{
	"create": {usage: "NAME [--username-attribute email|phone_number]... [--tag K=V]...", short: "Create a user pool.", run: userPoolCreate, flags: func(fs *flagSet) {
		fs.Var(&multi{}, "username-attribute", "let users sign in with email or phone_number instead of a username (repeatable)")
		fs.Var(&multi{}, "tag", "a tag KEY=VALUE (repeatable)")
	}},
	"get":    {usage: "POOL", short: "Show a user pool.", run: userPoolGet},
	"list":   {usage: "", short: "List user pools.", run: userPoolList},
	"delete": {usage: "POOL", short: "Delete a user pool with its clients, users and tokens.", run: userPoolDelete},
	// "client" is dispatched by runUserPool before runNoun; listed for the usage text.
	"client": {usage: "create|get|list|delete ...", short: "Manage a pool's app clients (behalf userpool client -h)."},
}

var userPoolClientCommands = map[string]command{
	"create": {usage: "POOL NAME [--generate-secret] [--auth-flow ALLOW_...]... [--callback-url URL]... [--oauth-flow code]... [--oauth-scope SCOPE]...",
		short: "Create an app client (its secret, if any, is shown here and by get).", run: userPoolClientCreate, flags: userPoolClientFlags},
	"get":    {usage: "POOL CLIENT", short: "Show an app client, with its secret.", run: userPoolClientGet},
	"list":   {usage: "POOL", short: "List a pool's app clients.", run: userPoolClientList},
	"delete": {usage: "POOL CLIENT", short: "Delete an app client.", run: userPoolClientDelete},
}

var userCommands = map[string]command{
	"create": {usage: "POOL USERNAME [--attribute NAME=VALUE]... [--temporary-password-file FILE]",
		short: "Create a user who must choose a new password at first sign-in.", run: userCreate, flags: func(fs *flagSet) {
			fs.Var(&multi{}, "attribute", "a user attribute NAME=VALUE, e.g. email=alice@example.com (repeatable)")
			fs.String("temporary-password-file", "", "file holding the temporary password (- for stdin); default: generate and print one")
		}},
	"set-password": {usage: "POOL USERNAME --password-file FILE [--permanent]", short: "Set a user's password (temporary unless --permanent).", run: userSetPassword,
		flags: func(fs *flagSet) {
			fs.String("password-file", "", "file holding the password (- for stdin)")
			fs.Bool("permanent", false, "the user may sign in with it directly (CONFIRMED); otherwise they must change it")
		}},
	"get": {usage: "POOL USERNAME", short: "Show a user.", run: userGet},
	"list": {usage: "POOL [--filter 'email = \"x\"']", short: "List a pool's users.", run: userList, flags: func(fs *flagSet) {
		fs.String("filter", "", `only users matching ATTRIBUTE = "VALUE" or ATTRIBUTE ^= "PREFIX" (username, email, phone_number, name, given_name, family_name, preferred_username, cognito:user_status, status, sub)`)
	}},
	"delete":   {usage: "POOL USERNAME", short: "Delete a user and revoke their tokens.", run: userAdminAction("delete")},
	"disable":  {usage: "POOL USERNAME", short: "Stop a user signing in or refreshing.", run: userAdminAction("disable")},
	"enable":   {usage: "POOL USERNAME", short: "Let a disabled user sign in again.", run: userAdminAction("enable")},
	"sign-out": {usage: "POOL USERNAME", short: "Revoke every token of a user (AdminUserGlobalSignOut).", run: userAdminAction("sign-out")},
	"confirm":  {usage: "POOL USERNAME", short: "Confirm a signed-up user without a code (AdminConfirmSignUp).", run: userAdminAction("confirm")},
	"reset-password": {usage: "POOL USERNAME", short: "Make a user reset their password with a code sent to their verified email (AdminResetUserPassword).",
		run: userAdminAction("reset-password")},
	"codes": {usage: "POOL USERNAME", short: "Show the sign-up and password-reset codes kept in the local outbox for a user (when behalf serve has no --smtp-url).", run: userCodes},
}

var loginCommand = command{
	usage: "--pool POOL --client CLIENT --username USER [--password-file FILE] [--client-secret-file FILE] [--save FILE]",
	short: "Sign in to a user pool (USER_PASSWORD_AUTH) and print the access token.",
	run:   login,
	flags: func(fs *flagSet) {
		fs.String("pool", "", "user pool id")
		fs.String("client", "", "app client id (it must allow ALLOW_USER_PASSWORD_AUTH)")
		fs.String("username", "", "username (or email / phone number in pools that sign in with them)")
		fs.String("password-file", "", "file holding the password (- for stdin); default: prompt on the terminal, or read a line from stdin")
		fs.String("new-password-file", "", "file holding a new password, if the user has a temporary one")
		fs.String("client-secret-file", "", "file holding the client secret; default: fetch it with DescribeUserPoolClient using the admin credentials")
		fs.String("save", "", "write the access token to FILE (mode 0600) instead of printing it")
	},
}

// cognitoClient builds the official cognito-idp client for Behalf.
func (c *cli) cognitoClient(ctx context.Context) (*cip.Client, error) {
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	endpoint := c.baseEndpoint()
	if c.endpoint == "" {
		if v := os.Getenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"); v != "" {
			endpoint = v
		}
	}
	return cip.NewFromConfig(cfg, func(o *cip.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.RetryMaxAttempts = 2
		o.HTTPClient = wireClient{next: o.HTTPClient, log: c.wire}
	}), nil
}

func userPoolCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one pool name"); err != nil {
		return err
	}
	tags, err := parseTags(c.list("tag"))
	if err != nil {
		return err
	}
	var attrs []types.UsernameAttributeType
	for _, a := range c.list("username-attribute") {
		attrs = append(attrs, types.UsernameAttributeType(a))
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	out, err := client.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(args[0]), UsernameAttributes: attrs, UserPoolTags: tags})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Created user pool %s\n", aws.ToString(out.UserPool.Id))
		printUserPool(w, c, out.UserPool)
	})
}

func printUserPool(w io.Writer, c *cli, p *types.UserPoolType) {
	id := aws.ToString(p.Id)
	issuer := strings.TrimSuffix(c.cognitoEndpoint(), "/") + "/" + id
	fmt.Fprintf(w, "  Id:        %s\n  Name:      %s\n  ARN:       %s\n", id, aws.ToString(p.Name), aws.ToString(p.Arn))
	fmt.Fprintf(w, "  Issuer:    %s (if the server's --public-url is this endpoint)\n", issuer)
	fmt.Fprintf(w, "  JWKS:      %s/.well-known/jwks.json\n", issuer)
	if pp := p.Policies; pp != nil && pp.PasswordPolicy != nil {
		var req []string
		for _, r := range []struct {
			on   bool
			name string
		}{{pp.PasswordPolicy.RequireUppercase, "upper"}, {pp.PasswordPolicy.RequireLowercase, "lower"}, {pp.PasswordPolicy.RequireNumbers, "number"}, {pp.PasswordPolicy.RequireSymbols, "symbol"}} {
			if r.on {
				req = append(req, r.name)
			}
		}
		fmt.Fprintf(w, "  Passwords: at least %d characters; %s\n", aws.ToInt32(pp.PasswordPolicy.MinimumLength), strings.Join(req, ", "))
	}
	if len(p.UsernameAttributes) > 0 {
		fmt.Fprintf(w, "  Sign in:   %v\n", p.UsernameAttributes)
	}
	fmt.Fprintf(w, "  Created:   %s\n", fmtTime(p.CreationDate))
}

// cognitoEndpoint is the endpoint the cognito-idp client uses.
func (c *cli) cognitoEndpoint() string {
	if c.endpoint == "" {
		if v := os.Getenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"); v != "" {
			return v
		}
	}
	return c.baseEndpoint()
}

func userPoolGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one pool id"); err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	out, err := client.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(args[0])})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "User pool %s\n", aws.ToString(out.UserPool.Id))
		printUserPool(w, c, out.UserPool)
	})
}

func userPoolList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	var pools []types.UserPoolDescriptionType
	p := cip.NewListUserPoolsPaginator(client, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		pools = append(pools, page.UserPools...)
	}
	return c.printTable(map[string]any{"UserPools": pools}, []string{"ID", "NAME"}, len(pools), func(i int) []string {
		p := pools[i]
		return []string{aws.ToString(p.Id), aws.ToString(p.Name)}
	})
}

func userPoolDelete(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one pool id"); err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	if _, err := client.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: aws.String(args[0])}); err != nil {
		return wrapAPIError(err)
	}
	return c.print(map[string]string{"Deleted": args[0]}, func(w io.Writer) {
		fmt.Fprintf(w, "Deleted user pool %s\n", args[0])
	})
}

func userPoolClientFlags(fs *flagSet) {
	fs.Bool("generate-secret", false, "make a confidential client with a secret (sign-ins then need SECRET_HASH)")
	fs.Var(&multi{}, "auth-flow", "an allowed auth flow, e.g. ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH (repeatable; default Cognito's)")
	fs.Var(&multi{}, "callback-url", "an OAuth redirect URI (repeatable)")
	fs.Var(&multi{}, "logout-url", "an OAuth logout URI (repeatable)")
	fs.Var(&multi{}, "oauth-flow", "an allowed OAuth flow: code or client_credentials (repeatable)")
	fs.Var(&multi{}, "oauth-scope", "an allowed OAuth scope, e.g. openid (repeatable)")
}

func userPoolClientCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a pool id and a client name"); err != nil {
		return err
	}
	in := &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(args[0]), ClientName: aws.String(args[1]), GenerateSecret: c.set("generate-secret"),
		CallbackURLs: c.list("callback-url"), LogoutURLs: c.list("logout-url"), AllowedOAuthScopes: c.list("oauth-scope"),
	}
	for _, f := range c.list("auth-flow") {
		in.ExplicitAuthFlows = append(in.ExplicitAuthFlows, types.ExplicitAuthFlowsType(f))
	}
	for _, f := range c.list("oauth-flow") {
		in.AllowedOAuthFlows = append(in.AllowedOAuthFlows, types.OAuthFlowType(f))
	}
	if len(in.AllowedOAuthFlows) > 0 {
		in.AllowedOAuthFlowsUserPoolClient = true
		in.SupportedIdentityProviders = []string{"COGNITO"}
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	out, err := client.CreateUserPoolClient(ctx, in)
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Created app client %s\n", aws.ToString(out.UserPoolClient.ClientId))
		printUserPoolClient(w, out.UserPoolClient)
	})
}

func printUserPoolClient(w io.Writer, cl *types.UserPoolClientType) {
	fmt.Fprintf(w, "  Pool:          %s\n  Client id:     %s\n  Name:          %s\n", aws.ToString(cl.UserPoolId), aws.ToString(cl.ClientId), aws.ToString(cl.ClientName))
	if s := aws.ToString(cl.ClientSecret); s != "" {
		fmt.Fprintf(w, "  Client secret: %s\n", s)
	} else {
		fmt.Fprintln(w, "  Client secret: (none: a public client)")
	}
	flows := make([]string, len(cl.ExplicitAuthFlows))
	for i, f := range cl.ExplicitAuthFlows {
		flows[i] = string(f)
	}
	fmt.Fprintf(w, "  Auth flows:    %s\n", strings.Join(flows, ", "))
	if len(cl.AllowedOAuthFlows) > 0 {
		fmt.Fprintf(w, "  OAuth flows:   %v scopes %v\n  Callbacks:     %s\n", cl.AllowedOAuthFlows, cl.AllowedOAuthScopes, strings.Join(cl.CallbackURLs, ", "))
	}
	if u := cl.TokenValidityUnits; u != nil {
		fmt.Fprintf(w, "  Tokens:        access %d %s, ID %d %s, refresh %d %s\n", aws.ToInt32(cl.AccessTokenValidity), u.AccessToken,
			aws.ToInt32(cl.IdTokenValidity), u.IdToken, cl.RefreshTokenValidity, u.RefreshToken)
	}
}

func userPoolClientGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a pool id and a client id"); err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	out, err := client.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(args[0]), ClientId: aws.String(args[1])})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "App client %s\n", aws.ToString(out.UserPoolClient.ClientId))
		printUserPoolClient(w, out.UserPoolClient)
	})
}

func userPoolClientList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one pool id"); err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	var clients []types.UserPoolClientDescription
	p := cip.NewListUserPoolClientsPaginator(client, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(args[0])})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		clients = append(clients, page.UserPoolClients...)
	}
	return c.printTable(map[string]any{"UserPoolClients": clients}, []string{"CLIENT ID", "NAME"}, len(clients), func(i int) []string {
		cl := clients[i]
		return []string{aws.ToString(cl.ClientId), aws.ToString(cl.ClientName)}
	})
}

func userPoolClientDelete(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a pool id and a client id"); err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	if _, err := client.DeleteUserPoolClient(ctx, &cip.DeleteUserPoolClientInput{UserPoolId: aws.String(args[0]), ClientId: aws.String(args[1])}); err != nil {
		return wrapAPIError(err)
	}
	return c.print(map[string]string{"Deleted": args[1]}, func(w io.Writer) {
		fmt.Fprintf(w, "Deleted app client %s\n", args[1])
	})
}

func userCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a pool id and a username"); err != nil {
		return err
	}
	var attrs []types.AttributeType
	for _, a := range c.list("attribute") {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return fmt.Errorf("--attribute %q: want NAME=VALUE", a)
		}
		attrs = append(attrs, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	// Behalf sends no invitations, so without a file the CLI chooses the
	// temporary password and prints it once.
	var password string
	generated := false
	if f := c.str("temporary-password-file"); f != "" {
		s, err := readSecretFile(f)
		if err != nil {
			return err
		}
		password = s
	} else {
		password, generated = generateTemporaryPassword(), true
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	out, err := client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(args[0]), Username: aws.String(args[1]), UserAttributes: attrs,
		TemporaryPassword: aws.String(password), MessageAction: types.MessageActionTypeSuppress,
	})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Created user %s\n", aws.ToString(out.User.Username))
		printUser(w, aws.ToString(out.User.Username), out.User.UserStatus, out.User.Enabled, out.User.Attributes)
		if generated {
			fmt.Fprintf(w, "  Temporary password: %s\n  (the user must choose a new one at first sign-in)\n", password)
		}
	})
}

// generateTemporaryPassword returns 20 characters from every class
// Cognito's policy knows, so it satisfies any policy.
func generateTemporaryPassword() string {
	classes := []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!#%+-=?@^_"}
	all := strings.Join(classes, "")
	pick := func(s string) byte {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(s))))
		if err != nil {
			panic(err)
		}
		return s[n.Int64()]
	}
	b := make([]byte, 0, 20)
	for _, cl := range classes {
		b = append(b, pick(cl))
	}
	for len(b) < 20 {
		b = append(b, pick(all))
	}
	for i := len(b) - 1; i > 0; i-- {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		j := int(n.Int64())
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func printUser(w io.Writer, username string, status types.UserStatusType, enabled bool, attrs []types.AttributeType) {
	state := "Enabled"
	if !enabled {
		state = "Disabled"
	}
	fmt.Fprintf(w, "  Username:   %s\n  Status:     %s (%s)\n", username, status, state)
	for _, a := range attrs {
		fmt.Fprintf(w, "  %-11s %s\n", aws.ToString(a.Name)+":", aws.ToString(a.Value))
	}
}

func userSetPassword(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a pool id and a username"); err != nil {
		return err
	}
	f := c.str("password-file")
	if f == "" {
		return fmt.Errorf("%w: --password-file is required (passwords are never taken from the command line)", errUsage)
	}
	password, err := readSecretFile(f)
	if err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	permanent := c.set("permanent")
	if _, err := client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(args[0]), Username: aws.String(args[1]), Password: aws.String(password), Permanent: permanent,
	}); err != nil {
		return wrapAPIError(err)
	}
	kind := "a temporary"
	if permanent {
		kind = "a permanent"
	}
	return c.print(map[string]any{"Username": args[1], "Permanent": permanent}, func(w io.Writer) {
		fmt.Fprintf(w, "Set %s password for %s\n", kind, args[1])
	})
}

func userGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a pool id and a username"); err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	out, err := client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(args[0]), Username: aws.String(args[1])})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "User %s\n", aws.ToString(out.Username))
		printUser(w, aws.ToString(out.Username), out.UserStatus, out.Enabled, out.UserAttributes)
		fmt.Fprintf(w, "  Created:    %s\n  Modified:   %s\n", fmtTime(out.UserCreateDate), fmtTime(out.UserLastModifiedDate))
	})
}

func userList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one pool id"); err != nil {
		return err
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	in := &cip.ListUsersInput{UserPoolId: aws.String(args[0])}
	if f := c.str("filter"); f != "" {
		in.Filter = aws.String(f)
	}
	var users []types.UserType
	p := cip.NewListUsersPaginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		users = append(users, page.Users...)
	}
	return c.print(map[string]any{"Users": users}, func(w io.Writer) {
		var rows [][]string
		for _, u := range users {
			email := ""
			for _, a := range u.Attributes {
				if aws.ToString(a.Name) == "email" {
					email = aws.ToString(a.Value)
				}
			}
			enabled := "yes"
			if !u.Enabled {
				enabled = "no"
			}
			rows = append(rows, []string{aws.ToString(u.Username), string(u.UserStatus), email, enabled})
		}
		table(w, []string{"USERNAME", "STATUS", "EMAIL", "ENABLED"}, rows)
	})
}

// userAdminAction runs one of the per-user administration operations.
func userAdminAction(action string) func(ctx context.Context, c *cli, args []string) error {
	return func(ctx context.Context, c *cli, args []string) error {
		if err := needArgs(args, 2, "a pool id and a username"); err != nil {
			return err
		}
		client, err := c.cognitoClient(ctx)
		if err != nil {
			return err
		}
		pool, user := aws.String(args[0]), aws.String(args[1])
		var done string
		switch action {
		case "delete":
			_, err = client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: user})
			done = "Deleted user"
		case "disable":
			_, err = client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pool, Username: user})
			done = "Disabled user"
		case "enable":
			_, err = client.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: pool, Username: user})
			done = "Enabled user"
		case "sign-out":
			_, err = client.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: pool, Username: user})
			done = "Revoked every token of"
		case "confirm":
			_, err = client.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: pool, Username: user})
			done = "Confirmed user"
		case "reset-password":
			_, err = client.AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: pool, Username: user})
			done = "Sent a password-reset code to"
		}
		if err != nil {
			return wrapAPIError(err)
		}
		return c.print(map[string]string{"Username": args[1], "Action": action}, func(w io.Writer) {
			fmt.Fprintf(w, "%s %s\n", done, args[1])
		})
	}
}

// userCodes prints a user's messages in the local outbox, newest first,
// through Behalf's root-only ListUserPoolCodes (never the Cognito API).
func userCodes(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 2, "a pool id and a username"); err != nil {
		return err
	}
	var out struct {
		Messages []struct {
			Purpose     string  `json:"purpose"`
			Medium      string  `json:"medium"`
			Destination string  `json:"destination"`
			Subject     string  `json:"subject"`
			Body        string  `json:"body"`
			CreatedTime float64 `json:"createdTime"`
			ExpiresTime float64 `json:"expiresTime"`
		} `json:"messages"`
	}
	in := map[string]string{"userPoolId": args[0], "username": args[1]}
	if err := c.behalfCall(ctx, "ListUserPoolCodes", in, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		if len(out.Messages) == 0 {
			fmt.Fprintf(w, "No messages for %s in the local outbox.\n", args[1])
		}
		for _, m := range out.Messages {
			sent := time.Unix(int64(m.CreatedTime), 0).UTC().Format(time.RFC3339)
			expires := time.Unix(int64(m.ExpiresTime), 0).UTC().Format(time.RFC3339)
			fmt.Fprintf(w, "%s  %s  %s to %s (expires %s)\n", sent, m.Purpose, m.Medium, m.Destination, expires)
			if m.Subject != "" {
				fmt.Fprintf(w, "  Subject: %s\n", m.Subject)
			}
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(m.Body))
		}
	})
}

// login signs a user in with USER_PASSWORD_AUTH and prints (or saves) the
// access token, computing SECRET_HASH when the client has a secret.
func login(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "flags only"); err != nil {
		return err
	}
	poolID, clientID, username := c.str("pool"), c.str("client"), c.str("username")
	if clientID == "" || username == "" {
		return fmt.Errorf("%w: --client and --username are required", errUsage)
	}
	client, err := c.cognitoClient(ctx)
	if err != nil {
		return err
	}
	secret, secretErr := loginClientSecret(ctx, c, client, poolID, clientID)
	if secretErr != nil && c.str("client-secret-file") != "" {
		return secretErr
	}
	password, err := loginPassword(ctx, c)
	if err != nil {
		return err
	}
	params := map[string]string{"USERNAME": username, "PASSWORD": password}
	if secret != "" {
		params["SECRET_HASH"] = cognitoSecretHash(secret, username, clientID)
	}
	out, err := client.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: params})
	if err != nil {
		err = wrapAPIError(err)
		if secretErr != nil {
			err = fmt.Errorf("%w\n(the client secret could not be fetched: %v; pass --client-secret-file if the client has one)", err, secretErr)
		}
		return err
	}
	result := out.AuthenticationResult
	if out.ChallengeName == types.ChallengeNameTypeNewPasswordRequired {
		if result, err = answerNewPassword(ctx, c, client, clientID, secret, username, out); err != nil {
			return err
		}
	} else if out.ChallengeName != "" {
		return fmt.Errorf("the user pool asked for the %s challenge, which behalf login cannot answer", out.ChallengeName)
	}
	if result == nil || aws.ToString(result.AccessToken) == "" {
		return errors.New("the user pool returned no access token")
	}
	if path := c.str("save"); path != "" {
		if err := writePrivateFile(path, aws.ToString(result.AccessToken)+"\n"); err != nil {
			return err
		}
		return c.print(map[string]any{"Saved": path, "ExpiresIn": result.ExpiresIn}, func(w io.Writer) {
			fmt.Fprintf(w, "Signed in as %s; access token (valid %d s) saved to %s\n", username, result.ExpiresIn, path)
		})
	}
	return c.print(result, func(w io.Writer) { fmt.Fprintln(w, aws.ToString(result.AccessToken)) })
}

// answerNewPassword answers NEW_PASSWORD_REQUIRED with --new-password-file.
func answerNewPassword(ctx context.Context, c *cli, client *cip.Client, clientID, secret, username string, out *cip.InitiateAuthOutput) (*types.AuthenticationResultType, error) {
	f := c.str("new-password-file")
	if f == "" {
		return nil, errors.New("the user has a temporary password and must choose a new one: pass --new-password-file, " +
			"or set a permanent password with `behalf user set-password POOL USER --password-file FILE --permanent`")
	}
	newPassword, err := readSecretFile(f)
	if err != nil {
		return nil, err
	}
	name := username
	if v := out.ChallengeParameters["USER_ID_FOR_SRP"]; v != "" {
		name = v
	}
	responses := map[string]string{"USERNAME": name, "NEW_PASSWORD": newPassword}
	if secret != "" {
		responses["SECRET_HASH"] = cognitoSecretHash(secret, name, clientID)
	}
	ans, err := client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId: aws.String(clientID), ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: out.Session, ChallengeResponses: responses,
	})
	if err != nil {
		return nil, wrapAPIError(err)
	}
	return ans.AuthenticationResult, nil
}

// loginClientSecret returns the client secret from --client-secret-file,
// or fetches it with DescribeUserPoolClient (admin credentials, needs
// --pool); "" for a public client.
func loginClientSecret(ctx context.Context, c *cli, client *cip.Client, poolID, clientID string) (string, error) {
	if f := c.str("client-secret-file"); f != "" {
		return readSecretFile(f)
	}
	if poolID == "" {
		return "", errors.New("--pool is needed to look the client up")
	}
	out, err := client.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID)})
	if err != nil {
		return "", wrapAPIError(err)
	}
	return aws.ToString(out.UserPoolClient.ClientSecret), nil
}

// cognitoSecretHash is Base64(HMAC-SHA256(clientSecret, username + clientId)).
func cognitoSecretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// loginPassword reads the password from --password-file, else prompts on
// the terminal without echo, else reads one line from stdin.
func loginPassword(ctx context.Context, c *cli) (string, error) {
	if f := c.str("password-file"); f != "" {
		return readSecretFile(f)
	}
	fi, err := os.Stdin.Stat()
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return readLine(ctx, os.Stdin)
	}
	fmt.Fprint(os.Stderr, "Password: ")
	defer fmt.Fprintln(os.Stderr)
	if setEcho(false) == nil {
		defer setEcho(true)
	}
	return readLine(ctx, os.Stdin)
}

// readLine reads one line, giving up when ctx is done (Ctrl-C).
func readLine(ctx context.Context, r io.Reader) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
		if errors.Is(err, io.EOF) && s != "" {
			err = nil
		}
		ch <- result{strings.TrimRight(s, "\r\n"), err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-ch:
		if res.err != nil {
			return "", fmt.Errorf("read password: %w", res.err)
		}
		if res.s == "" {
			return "", errors.New("no password given")
		}
		return res.s, nil
	}
}

// setEcho turns the terminal's echo on or off with stty(1), so the
// password typed is not shown.
func setEcho(on bool) error {
	arg := "-echo"
	if on {
		arg = "echo"
	}
	cmd := exec.Command("stty", arg)
	cmd.Stdin = os.Stdin
	return cmd.Run()
}

// writePrivateFile replaces path with data, readable by the owner only.
func writePrivateFile(path, data string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".behalf-token-*")
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("save token: %w", err)
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return fmt.Errorf("save token: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	return nil
}
