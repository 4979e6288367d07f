package main

import (
	"context"
	"fmt"
	"github.com/behalf-dev/behalf"
	"io"
	"math"
	"strings"
	"time"
)

var grantCommands = map[string]command{
	"list": {usage: "[--user KEY | --issuer ISSUER --subject SUBJECT | --user-id ID]", short: "List the grants the vault holds: one user's, or every user's.", run: grantList, flags: func(fs *flagSet) {
		fs.String("user", "", "the user's key, as `grant list` and `audit list` show it")
		fs.String("issuer", "", "the issuer of the user's JWTs (with --subject)")
		fs.String("subject", "", "the subject (sub) of the user's JWTs (with --issuer)")
		fs.String("user-id", "", "the user id an app gave GetWorkloadAccessTokenForUserId")
	}},
	"revoke": {usage: "GRANT-ID", short: "Delete a grant from the vault and revoke its token at the provider.", run: grantRevoke},
}

// grantOut is a grant as ListGrants and RevokeGrant return it.
type grantOut struct {
	ID                  string   `json:"id"`
	Workload            string   `json:"workloadName"`
	Provider            string   `json:"provider"`
	ProviderDisplayName string   `json:"providerDisplayName"`
	Vendor              string   `json:"credentialProviderVendor,omitempty"`
	User                string   `json:"user,omitempty"`
	Scopes              []string `json:"scopes"`
	Account             string   `json:"account,omitempty"`
	CreatedTime         float64  `json:"createdTime"`
	LastUsedTime        *float64 `json:"lastUsedTime,omitempty"`
	LastRefreshedTime   *float64 `json:"lastRefreshedTime,omitempty"`
}

func grantList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	in := map[string]string{}
	for flag, field := range map[string]string{"user": "user", "issuer": "issuer", "subject": "subject", "user-id": "userId"} {
		if v := c.str(flag); v != "" {
			in[field] = v
		}
	}
	var out struct {
		Grants []grantOut `json:"grants"`
	}
	if err := c.behalfCall(ctx, "ListGrants", in, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		var rows [][]string
		for _, g := range out.Grants {
			provider := g.Provider
			if provider == "" {
				provider = "(deleted)"
			}
			if g.Account != "" {
				provider += ": " + g.Account // whose account at the provider
			}
			user := g.User
			if u, ok := behalf.UserOfKey(g.User); ok {
				user = u.Display() // not the storage key's "42:https://…" form
			}
			rows = append(rows, []string{g.ID, g.Workload, provider, user, strings.Join(g.Scopes, " "),
				epochText(&g.CreatedTime), epochText(g.LastUsedTime), epochText(g.LastRefreshedTime)})
		}
		table(w, []string{"GRANT", "WORKLOAD", "PROVIDER", "USER", "SCOPES", "GRANTED", "LAST USED", "LAST REFRESHED"}, rows)
	})
}

func grantRevoke(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one grant id"); err != nil {
		return err
	}
	var out struct {
		GrantID string   `json:"grantId"`
		Grant   grantOut `json:"grant"`
		Outcome string   `json:"providerRevocation"`
		Detail  string   `json:"providerDetail,omitempty"`
		Message string   `json:"message"`
	}
	if err := c.behalfCall(ctx, "RevokeGrant", map[string]string{"grantId": args[0]}, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Deleted grant %s (workload %s, provider %s, user %s).\n%s\n", out.GrantID, out.Grant.Workload, out.Grant.ProviderDisplayName, out.Grant.User, out.Message)
	})
}

// epochText formats an epoch-seconds time, "-" for none.
func epochText(t *float64) string {
	if t == nil || *t == 0 {
		return "-"
	}
	sec, frac := math.Modf(*t)
	return time.Unix(int64(sec), int64(frac*1e9)).Local().Format(time.RFC3339)
}
