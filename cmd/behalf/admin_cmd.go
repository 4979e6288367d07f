package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var keyCommands = map[string]command{
	"create": {usage: "[--workload NAME]", short: "Create an access key: scoped to one workload's data plane, or a root key.", run: keyCreate, flags: func(fs *flagSet) { fs.String("workload", "", "the workload the key may act for (omit for a root key)") }},
	"list":   {usage: "", short: "List access keys (never their secrets).", run: keyList},
	"delete": {usage: "ACCESS-KEY-ID", short: "Delete an access key (it stops working within 5 seconds).", run: keyDelete},
}

var issuerCommands = map[string]command{
	"add": {usage: "DISCOVERY-URL [--audience AUD]...", short: "Trust an OpenID provider's JWTs for GetWorkloadAccessTokenForJWT and binding.", run: issuerAdd, flags: func(fs *flagSet) {
		fs.Var(&multi{}, "audience", "an accepted aud (or client_id) value (repeatable; default: any)")
	}},
	"list":   {usage: "", short: "List trusted issuers.", run: issuerList},
	"remove": {usage: "ISSUER", short: "Stop trusting an issuer.", run: issuerRemove},
}

var auditCommands = map[string]command{
	"list": {usage: "[--kind KIND] [--principal ID] [--resource NAME] [--since T] [--until T] [--limit N]", short: "Show audit events, newest first.", run: auditList, flags: func(fs *flagSet) {
		fs.String("kind", "", "only events of this kind, e.g. binding.refused, admin.CreateWorkloadIdentity")
		fs.String("principal", "", "only events caused by this principal (an access key id, a user key, local:USER)")
		fs.String("resource", "", "only events about this resource (a workload, provider, runtime, pool id, POOL/USER, access key id …), session id or user key")
		fs.String("since", "", "only events at or after this time: RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02), or a duration ago (90m, 24h)")
		fs.String("until", "", "only events before this time (as --since)")
		fs.Int("limit", 50, "at most this many events")
	}},
}

// behalfCall sends a SigV4-signed request to one of Behalf's own
// administration operations (they have no AWS SDK client) and decodes the
// JSON answer into out.
func (c *cli) behalfCall(ctx context.Context, op string, in, out any) error {
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return err
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("load credentials: %w", err)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(c.baseEndpoint(), "/")+"/behalf/"+op, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", cfg.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(b, &e)
		return fmt.Errorf("%s: %s", e.Type, e.Message)
	}
	c.wire.record(op, b)
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

func keyCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	var out map[string]any
	if err := c.behalfCall(ctx, "CreateAccessKey", map[string]string{"workloadName": c.str("workload")}, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		scope := "root (everything)"
		if wl, _ := out["workloadName"].(string); wl != "" {
			scope = "workload " + wl + " (its data plane only)"
		}
		fmt.Fprintf(w, "Created access key for %s\n\n[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\nThe secret is shown only now.\n",
			scope, out["accessKeyId"], out["secretAccessKey"])
	})
}

func keyList(ctx context.Context, c *cli, args []string) error {
	var out struct {
		AccessKeys []map[string]any `json:"accessKeys"`
	}
	if err := c.behalfCall(ctx, "ListAccessKeys", map[string]string{}, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		var rows [][]string
		for _, k := range out.AccessKeys {
			scope, _ := k["workloadName"].(string)
			if scope == "" {
				scope = "(root)"
			}
			id, _ := k["accessKeyId"].(string)
			rows = append(rows, []string{id, scope})
		}
		table(w, []string{"ACCESS KEY ID", "SCOPE"}, rows)
	})
}

func keyDelete(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one access key id"); err != nil {
		return err
	}
	if err := c.behalfCall(ctx, "DeleteAccessKey", map[string]string{"accessKeyId": args[0]}, nil); err != nil {
		return err
	}
	return c.print(map[string]string{"Deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "Deleted access key %s\n", args[0]) })
}

func issuerAdd(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one discovery URL"); err != nil {
		return err
	}
	var out map[string]any
	in := map[string]any{"discoveryUrl": args[0], "audiences": c.list("audience")}
	if err := c.behalfCall(ctx, "CreateTrustedIssuer", in, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Trusting issuer %s\n  JWKS: %s\n", out["issuer"], out["jwksUri"])
	})
}

func issuerList(ctx context.Context, c *cli, args []string) error {
	var out struct {
		Issuers []map[string]any `json:"issuers"`
	}
	if err := c.behalfCall(ctx, "ListTrustedIssuers", map[string]string{}, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		var rows [][]string
		for _, i := range out.Issuers {
			iss, _ := i["issuer"].(string)
			var auds []string
			if a, ok := i["audiences"].([]any); ok {
				for _, v := range a {
					auds = append(auds, fmt.Sprint(v))
				}
			}
			aud := strings.Join(auds, ",")
			if aud == "" {
				aud = "(any)"
			}
			rows = append(rows, []string{iss, aud})
		}
		table(w, []string{"ISSUER", "AUDIENCES"}, rows)
	})
}

func issuerRemove(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one issuer"); err != nil {
		return err
	}
	if err := c.behalfCall(ctx, "DeleteTrustedIssuer", map[string]string{"issuer": args[0]}, nil); err != nil {
		return err
	}
	return c.print(map[string]string{"Removed": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "No longer trusting %s\n", args[0]) })
}

func auditList(ctx context.Context, c *cli, args []string) error {
	var out struct {
		Events []map[string]any `json:"events"`
	}
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	in := map[string]any{"kind": c.str("kind"), "principal": c.str("principal"), "resource": c.str("resource"), "limit": c.int("limit")}
	for _, flag := range []string{"since", "until"} {
		if v := c.str(flag); v != "" {
			t, err := parseWhen(v, time.Now())
			if err != nil {
				return fmt.Errorf("%w: --%s: %v", errUsage, flag, err)
			}
			in[flag] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	if err := c.behalfCall(ctx, "ListAuditEvents", in, &out); err != nil {
		return err
	}
	return c.print(out, func(w io.Writer) {
		var rows [][]string
		for _, e := range out.Events {
			rows = append(rows, []string{auditField(e, "time"), auditField(e, "kind"), auditField(e, "actor"),
				auditField(e, "resource"), auditField(e, "workloadName"), auditField(e, "user"), auditField(e, "detail")})
		}
		table(w, []string{"TIME", "KIND", "PRINCIPAL", "RESOURCE", "WORKLOAD", "USER", "DETAIL"}, rows)
	})
}

// auditField is a field of an audit event as text, "-" when absent.
func auditField(e map[string]any, name string) string {
	v, ok := e[name].(string)
	if !ok || v == "" {
		return "-"
	}
	return v
}

// parseWhen reads a time as RFC 3339, a date (UTC midnight), or a
// duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date or a duration ago", s)
}
