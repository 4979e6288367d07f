package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/behalf-dev/behalf"
)

var workloadCommands = map[string]command{
	"create": {usage: "NAME [--return-url URL]... [--tag K=V]...", short: "Create a workload identity.", run: workloadCreate, flags: workloadFlags},
	"get":    {usage: "NAME", short: "Show a workload identity.", run: workloadGet},
	"list":   {usage: "", short: "List workload identities.", run: workloadList},
	"update": {usage: "NAME [--return-url URL]...", short: "Replace a workload's allowed return URLs (--return-url '' removes them all).", run: workloadUpdate, flags: workloadFlags},
	"delete": {usage: "NAME", short: "Delete a workload identity.", run: workloadDelete},
	"set-binding": {usage: "NAME --issuer URL --client-id ID [--client-secret-file F] [--redirect-url URL]",
		short: "Let Behalf complete the workload's connections itself: its users sign in with this OpenID provider at " + behalf.BindPath + " (--issuer '' removes it).",
		run:   workloadSetBinding, flags: func(fs *flagSet) {
			fs.String("issuer", "", "issuer URL: a user pool's ({public-url}/{poolId}) or a registered trusted issuer's")
			fs.String("client-id", "", "client id at the issuer; its redirect URI must be {public-url}"+behalf.SignInCallbackPath)
			fs.String("client-secret-file", "", "file holding the client's secret (- for stdin; omit for a public client)")
			fs.String("redirect-url", "", "app URL the done page links back to (optional)")
		}},
}

func workloadFlags(fs *flagSet) {
	fs.Var(&multi{}, "return-url", "an allowed OAuth return URL (repeatable; matched exactly)")
	fs.Var(&multi{}, "tag", "a tag KEY=VALUE (repeatable; create only)")
}

func workloadCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one workload name"); err != nil {
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
	out, err := client.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String(args[0]), AllowedResourceOauth2ReturnUrls: c.list("return-url"), Tags: tags,
	})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Created workload identity %s\n  ARN:         %s\n", aws.ToString(out.Name), aws.ToString(out.WorkloadIdentityArn))
		printURLs(w, out.AllowedResourceOauth2ReturnUrls)
		fmt.Fprintf(w, "\nNext: set its sign-in provider, so that only the user who started a flow can approve it:\n"+
			"  behalf workload set-binding %s --issuer ISSUER --client-id CLIENT\n"+
			"Without one, a leaked authorization link can be approved by anyone (docs/security.md).\n", aws.ToString(out.Name))
	})
}

func printURLs(w io.Writer, urls []string) {
	if len(urls) == 0 {
		fmt.Fprintln(w, "  Return URLs: (none)")
	}
	for i, u := range urls {
		label := "             "
		if i == 0 {
			label = "  Return URLs:"
		}
		fmt.Fprintf(w, "%s %s\n", label, u)
	}
}

func workloadGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one workload name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String(args[0])})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Workload identity %s\n  ARN:         %s\n", aws.ToString(out.Name), aws.ToString(out.WorkloadIdentityArn))
		printURLs(w, out.AllowedResourceOauth2ReturnUrls)
		fmt.Fprintf(w, "  Created:     %s\n  Updated:     %s\n", fmtTime(out.CreatedTime), fmtTime(out.LastUpdatedTime))
	})
}

func workloadList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	var names, arns []string
	p := ctl.NewListWorkloadIdentitiesPaginator(client, &ctl.ListWorkloadIdentitiesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		for _, wi := range page.WorkloadIdentities {
			names, arns = append(names, aws.ToString(wi.Name)), append(arns, aws.ToString(wi.WorkloadIdentityArn))
		}
	}
	type item struct{ Name, WorkloadIdentityArn string }
	items := make([]item, len(names))
	for i := range names {
		items[i] = item{names[i], arns[i]}
	}
	return c.print(map[string]any{"WorkloadIdentities": items}, func(w io.Writer) {
		rows := make([][]string, len(names))
		for i := range names {
			rows[i] = []string{names[i], arns[i]}
		}
		table(w, []string{"NAME", "ARN"}, rows)
	})
}

func workloadUpdate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one workload name"); err != nil {
		return err
	}
	if !c.set("return-url") {
		return fmt.Errorf("%w: nothing to update: give --return-url URL (repeatable; --return-url '' removes them all)", errUsage)
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
		Name: aws.String(args[0]), AllowedResourceOauth2ReturnUrls: c.list("return-url"),
	})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Updated workload identity %s\n", aws.ToString(out.Name))
		printURLs(w, out.AllowedResourceOauth2ReturnUrls)
	})
}

func workloadDelete(ctx context.Context, c *cli, args []string) error {
	return deleteOne(ctx, c, args, "one workload name", "Deleted workload identity %s", func(ctx context.Context, client *ctl.Client, name string) (string, error) {
		_, err := client.DeleteWorkloadIdentity(ctx, &ctl.DeleteWorkloadIdentityInput{Name: aws.String(name)})
		return name, err
	})
}

func workloadSetBinding(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one workload name"); err != nil {
		return err
	}
	in := map[string]string{"workloadName": args[0], "issuer": c.str("issuer"), "clientId": c.str("client-id"), "redirectUrl": c.str("redirect-url")}
	if f := c.str("client-secret-file"); f != "" {
		secret, err := readSecretFile(f)
		if err != nil {
			return err
		}
		in["clientSecret"] = secret
	}
	var out struct {
		Name            string `json:"workloadName"`
		Issuer          string `json:"issuer"`
		ClientID        string `json:"clientId"`
		HasClientSecret bool   `json:"hasClientSecret"`
		RedirectURL     string `json:"redirectUrl"`
		BindURL         string `json:"bindUrl"`
		SignInCallback  string `json:"signInCallbackUrl"`
	}
	if err := c.behalfCall(ctx, "SetWorkloadBinding", in, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		if out.Issuer == "" {
			fmt.Fprintf(w, "Removed the sign-in provider of workload identity %s\n", out.Name)
			return
		}
		fmt.Fprintf(w, "Workload identity %s: Behalf completes its connections\n", out.Name)
		fmt.Fprintf(w, "  Issuer:          %s\n  Client id:       %s (secret: %v)\n", out.Issuer, out.ClientID, out.HasClientSecret)
		if out.RedirectURL != "" {
			fmt.Fprintf(w, "  Back to the app: %s\n", out.RedirectURL)
		}
		fmt.Fprintf(w, "  Return URL:      %s (add it with: behalf workload update %s --return-url ...)\n", out.BindURL, out.Name)
		fmt.Fprintf(w, "  Redirect URI:    %s (register it at the client)\n", out.SignInCallback)
	})
}
