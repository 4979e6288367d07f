package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/behalf-dev/behalf/agent/driveagent"
	"github.com/behalf-dev/behalf/sandbox"
)

const sandboxUsage = `[--listen 127.0.0.1:8700] [--public-url URL] [--seed-files N] [--client ID:SECRET:REDIRECT_URI]... [--open]
       [--refresh-rotation [--rotation-grace DURATION]]

Runs the Behalf sandbox until interrupted: a local stand-in for Google,
for demos and CI. It serves Google's OAuth 2.0 endpoints (authorize with
a consent page, token, revoke, userinfo, OpenID discovery) and Drive v3
files.list over seeded files. It is NOT Google: sandbox users are any
email address and need no password, ID tokens are unsigned, the files
are made up, and --open accepts any client. Keep it on loopback or in CI.

Like Google it keeps a refresh token for good; --refresh-rotation makes
every refresh replace it (the old one is refused), and --rotation-grace
keeps the replaced one usable for a while (a retry gets the same
successor), like the reuse grace periods of Okta, Auth0 and Cognito.`

// sandboxSetup defines the flags of `behalf sandbox`.
func sandboxSetup(fs *flagSet, stdout, stderr io.Writer) func(context.Context, []string) error {
	listen := fs.String("listen", "127.0.0.1:8700", "address to listen on")
	publicURL := fs.String("public-url", "", "base URL (and issuer) as Behalf and browsers reach the sandbox (default http://LISTEN)")
	seed := fs.Int("seed-files", sandbox.DefaultSeedFiles, "number of files in every sandbox user's Drive")
	open := fs.Bool("open", false, "accept ANY client id with ANY http(s) redirect URI and ANY secret (a sandbox convenience)")
	rotation := fs.Bool("refresh-rotation", false, "rotate refresh tokens: every refresh answers a new refresh token and the old one is refused")
	grace := fs.Duration("rotation-grace", 0, "with --refresh-rotation, how long a replaced refresh token still works (a retry gets the same successor); 0 refuses it at once")
	var clients multi
	fs.Var(&clients, "client", "register an OAuth client ID:SECRET:REDIRECT_URI (repeatable; an empty SECRET makes a public client; visible in the process list: sandbox secrets only)")
	return func(ctx context.Context, args []string) error {
		if err := needNoArgs("sandbox", args); err != nil {
			return err
		}
		return runSandbox(ctx, stdout, stderr, *listen, *publicURL, *seed, *open, *rotation, *grace, clients)
	}
}

// runSandbox runs `behalf sandbox`.
func runSandbox(ctx context.Context, stdout, stderr io.Writer, listen, publicURL string, seed int, open, rotation bool, grace time.Duration, clients multi) error {
	if seed < 0 {
		return fmt.Errorf("%w: --seed-files must be 0 or more", errUsage)
	}
	if grace < 0 || (grace > 0 && !rotation) {
		return fmt.Errorf("%w: --rotation-grace must not be negative and needs --refresh-rotation", errUsage)
	}
	var regs []sandbox.Client
	for _, c := range clients {
		id, rest, ok1 := strings.Cut(c, ":")
		secret, redirect, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || id == "" || redirect == "" {
			return fmt.Errorf("%w: --client %q: want ID:SECRET:REDIRECT_URI", errUsage, c)
		}
		regs = append(regs, sandbox.Client{ID: id, Secret: secret, RedirectURIs: []string{redirect}})
	}
	opts := sandbox.Options{URL: strings.TrimSuffix(publicURL, "/"), Open: open, SeedFiles: seed,
		RotateRefreshTokens: rotation, RotationGrace: grace}
	if seed == 0 {
		opts.SeedFiles = -1 // sandbox.Options: negative means none
	}
	s, err := sandbox.Start(listen, opts)
	if err != nil {
		return err
	}
	for _, c := range regs {
		if err := s.AddClient(c); err != nil {
			s.Close()
			return fmt.Errorf("%w: --client %s: %v", errUsage, c.ID, err)
		}
	}
	printSandboxBanner(stdout, s, open, seed)
	switch {
	case rotation && grace > 0:
		fmt.Fprintf(stdout, "Refresh tokens: rotated on every refresh; a replaced one still works for %v (answering the same successor).\n", grace)
	case rotation:
		fmt.Fprintln(stdout, "Refresh tokens: rotated on every refresh; a replaced one is refused at once.")
	}

	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopping the sandbox.")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// printSandboxBanner tells which URLs to use.
func printSandboxBanner(w io.Writer, s *sandbox.Server, open bool, seed int) {
	disc := s.DiscoveryURL()
	fmt.Fprintf(w, `Behalf sandbox: a local stand-in for Google (OAuth 2.0 and Drive files.list) for demos and CI.
It is NOT Google: sandbox users need no password, ID tokens are unsigned, the files are made up.

Listening on %s

  Discovery URL:  %s
  Drive endpoint: %s  (DRIVE_ENDPOINT for examples/drive-agent)
  Consent page:   pick any email address as the sandbox user (default: login_hint, else %s)
  Drive files:    %d per user

Use it as Google in Behalf (run behalf serve with --allow-private-endpoints to reach http://127.0.0.1):
  behalf provider create %s --vendor CustomOauth2 \
      --discovery-url %s \
      --client-id CLIENT_ID --client-secret-file SECRET_FILE
then register the callback URL that command prints for CLIENT_ID here:
  curl -X POST %s%s -H 'Content-Type: application/json' \
      -d '{"client_id":"CLIENT_ID","client_secret":"SECRET","redirect_uris":["CALLBACK_URL"]}'
  (or restart with --client CLIENT_ID:SECRET:CALLBACK_URL, or with --open)

`, s.URL, disc, s.DriveEndpoint(), sandbox.DefaultUser, seed, driveagent.DefaultProvider, disc, s.URL, sandbox.ClientsPath)
	switch cs := s.Clients(); {
	case open:
		fmt.Fprintln(w, "Clients: OPEN MODE: any client id, any http(s) redirect URI, any secret.")
		for _, c := range cs {
			fmt.Fprintf(w, "  %s (checked) -> %s\n", c.ID, strings.Join(c.RedirectURIs, ", "))
		}
	case len(cs) == 0:
		fmt.Fprintln(w, "Clients: none registered yet.")
	default:
		fmt.Fprintln(w, "Clients:")
		for _, c := range cs {
			fmt.Fprintf(w, "  %s -> %s\n", c.ID, strings.Join(c.RedirectURIs, ", "))
		}
	}
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}
