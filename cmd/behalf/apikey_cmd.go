package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

var apiKeyCommands = map[string]command{
	"create": {usage: "NAME --api-key-file FILE [--tag K=V]...", short: "Create an API-key credential provider.", run: apiKeyCreate, flags: apiKeyFlags},
	"get":    {usage: "NAME", short: "Show an API-key provider (never its key).", run: apiKeyGet},
	"list":   {usage: "", short: "List API-key providers.", run: apiKeyList},
	"update": {usage: "NAME --api-key-file FILE", short: "Replace the stored API key.", run: apiKeyUpdate, flags: apiKeyFlags},
	"delete": {usage: "NAME", short: "Delete an API-key provider.", run: apiKeyDelete},
}

var vaultCommands = map[string]command{
	"get": {usage: "", short: "Show the token vault and its encryption.", run: vaultGet},
}

func apiKeyFlags(fs *flagSet) {
	fs.String("api-key-file", "", "file holding the API key (- for stdin)")
	fs.Var(&multi{}, "tag", "a tag KEY=VALUE (repeatable; create only)")
}

func apiKeyFromFlags(c *cli) (string, error) {
	f := c.str("api-key-file")
	if f == "" {
		return "", fmt.Errorf("%w: --api-key-file is required", errUsage)
	}
	return readSecretFile(f)
}

func apiKeyCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one provider name"); err != nil {
		return err
	}
	key, err := apiKeyFromFlags(c)
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
	out, err := client.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String(args[0]), ApiKey: aws.String(key), Tags: tags})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Created API key provider %s\n  ARN: %s\n", aws.ToString(out.Name), aws.ToString(out.CredentialProviderArn))
	})
}

func apiKeyGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one provider name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.GetApiKeyCredentialProvider(ctx, &ctl.GetApiKeyCredentialProviderInput{Name: aws.String(args[0])})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "API key provider %s\n  ARN:     %s\n  Created: %s\n  Updated: %s\n", aws.ToString(out.Name),
			aws.ToString(out.CredentialProviderArn), fmtTime(out.CreatedTime), fmtTime(out.LastUpdatedTime))
	})
}

func apiKeyList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	var items []types.ApiKeyCredentialProviderItem
	p := ctl.NewListApiKeyCredentialProvidersPaginator(client, &ctl.ListApiKeyCredentialProvidersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		items = append(items, page.CredentialProviders...)
	}
	return c.printTable(map[string]any{"CredentialProviders": items}, []string{"NAME", "ARN"}, len(items), func(i int) []string {
		it := items[i]
		return []string{aws.ToString(it.Name), aws.ToString(it.CredentialProviderArn)}
	})
}

func apiKeyUpdate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one provider name"); err != nil {
		return err
	}
	if c.set("tag") {
		return fmt.Errorf("%w: --tag applies to create only", errUsage)
	}
	key, err := apiKeyFromFlags(c)
	if err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.UpdateApiKeyCredentialProvider(ctx, &ctl.UpdateApiKeyCredentialProviderInput{Name: aws.String(args[0]), ApiKey: aws.String(key)})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Updated API key provider %s\n", aws.ToString(out.Name))
	})
}

func apiKeyDelete(ctx context.Context, c *cli, args []string) error {
	return deleteOne(ctx, c, args, "one provider name", "Deleted API key provider %s", func(ctx context.Context, client *ctl.Client, name string) (string, error) {
		_, err := client.DeleteApiKeyCredentialProvider(ctx, &ctl.DeleteApiKeyCredentialProviderInput{Name: aws.String(name)})
		return name, err
	})
}

func vaultGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.GetTokenVault(ctx, &ctl.GetTokenVaultInput{})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Token vault %s\n  Key type: %s\n  Modified: %s\n", aws.ToString(out.TokenVaultId), out.KmsConfiguration.KeyType, fmtTime(out.LastModifiedDate))
	})
}
