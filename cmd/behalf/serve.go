package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/api"
	"github.com/behalf-dev/behalf/gateway"
	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/internal/pageframe"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/pooltoken"
	"github.com/behalf-dev/behalf/ratelimit"
	"github.com/behalf-dev/behalf/signer"
	"github.com/behalf-dev/behalf/sigv4"
	"github.com/behalf-dev/behalf/smtpmail"
	"github.com/behalf-dev/behalf/sqlstore"
	"github.com/behalf-dev/behalf/userpool"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"github.com/behalf-dev/behalf/web"
)

// Config is everything `behalf serve` can be told.
type Config struct {
	Listen       string
	DataDir      string
	Database     string   // SQLite path or postgres:// URL; default DataDir/behalf.db
	PublicURL    string   // default http://<listen address>
	KMS          string   // gocloud.dev/secrets keeper URL; default the local key file
	KMSPrevious  []string // earlier key-encryption key URLs still needed (keys_cmd.go)
	AllowPrivate bool
	Region       string
	Account      string
	LogFormat    string
	// ConnectionsIssuer is the issuer /connections signs users in at when
	// its URL names none (default: the first workload's inbound issuer).
	ConnectionsIssuer string
	// Observability: log level, metrics listener, rate limits (observe.go).
	Observability
	// Overload: bounds on requests, hashes and database connections in
	// flight (overload.go).
	Overload
	// Init allows starting over with an empty database in a data directory
	// that holds key or credentials files of an earlier one (startup.go).
	Init bool
	// DatabaseWait is how long a start waits for an unreachable PostgreSQL.
	DatabaseWait time.Duration
	// GatewayCallTimeout bounds one call of a gateway's tool to its target.
	GatewayCallTimeout time.Duration
	// The hosted login's bounds on unexpired authorization requests: per
	// client IP (as the per-IP rate limit keys it) and in all; 0 removes one.
	HostedLoginMaxPendingPerIP int
	HostedLoginMaxPending      int
	// PoolMaxRegisteredClients bounds each pool's dynamically registered
	// (RFC 7591) app clients; 0 removes the bound.
	PoolMaxRegisteredClients int
	// User pool domains: prefix domains are served at
	// {prefix}.{PoolDomainSuffix}, and PoolDomains are the custom domains
	// that may be created; both with the public URL's scheme and port.
	PoolDomainSuffix string
	PoolDomains      []string
	// SMTPURL is the mail server of the user pools' code messages
	// (smtp://user:password@host:port, smtps://…; a Secret, as it holds the
	// password), SMTPFrom their sender; without it they are kept in the
	// local outbox (behalf user codes).
	SMTPURL  behalf.Secret
	SMTPFrom string
	// OperatorName and OperatorLogoURL are who runs this server, shown in
	// the frame of every page (internal/pageframe) with the product's name.
	OperatorName    string
	OperatorLogoURL string
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8600", DataDir: ".behalf", Region: "us-east-1", Account: "000000000000", LogFormat: "text", Observability: defaultObservability(), Overload: defaultOverload(), DatabaseWait: 60 * time.Second, GatewayCallTimeout: gateway.DefaultCallTimeout,
		HostedLoginMaxPendingPerIP: oidcop.DefaultMaxPendingPerClient, HostedLoginMaxPending: oidcop.DefaultMaxPending,
		PoolMaxRegisteredClients: oidcop.DefaultMaxRegisteredClients}
}

// Main runs the server: NewMain, ParseFlags, Run, Close.
type Main struct {
	Config Config
	Log    *slog.Logger
	logOut io.Writer

	// Addr is the address actually listened on, set once Run is serving.
	Addr chan string
	// Now, when set, replaces the clock of the data plane and the user pools (tests).
	Now func() time.Time
	// Resolver, when set, resolves the host names of outbound connections
	// and of the agent runtimes' http URLs (tests).
	Resolver *net.Resolver
	// SMTPTLS, when set, is the TLS configuration of --smtp-url (tests: a
	// private root); the system roots otherwise.
	SMTPTLS *tls.Config

	store *sqlstore.DB
	obs   observability // metrics, tracing, rate limiters (observe.go)
}

// NewMain returns a Main with the default configuration logging to logOut.
func NewMain(logOut io.Writer) *Main {
	return &Main{Config: DefaultConfig(), logOut: logOut, Addr: make(chan string, 1)}
}

// ParseFlags reads the serve flags.
func (m *Main) ParseFlags(args []string) error {
	fs := m.flagSet()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	return m.Config.Validate()
}

// flagSet defines the serve flags on m.Config.
func (m *Main) flagSet() *flag.FlagSet {
	c := &m.Config
	fs := flag.NewFlagSet("behalf serve", flag.ContinueOnError)
	fs.SetOutput(m.logOut)
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to listen on")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the SQLite database, the local key and the credentials file")
	fs.StringVar(&c.Database, "database", c.Database, "SQLite file path, or postgres://... for PostgreSQL (default DATA-DIR/behalf.db); a password here is visible to other local users: leave it out and set PGPASSWORD")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "externally visible base URL (default http://LISTEN)")
	fs.StringVar(&c.KMS, "kms", c.KMS, "key-encryption key as a gocloud.dev/secrets URL, e.g. awskms://... (default: DATA-DIR/kek); a base64key:// URL holds the key itself, visible to other local users: for tests only")
	fs.Var((*multi)(&c.KMSPrevious), "kms-previous", "an earlier key-encryption key URL still needed during a rotation (base64key:// keys; repeatable)")
	fs.BoolVar(&c.AllowPrivate, "allow-private-endpoints", c.AllowPrivate, "allow http and loopback/private addresses in provider, issuer and agent runtime URLs")
	fs.StringVar(&c.Region, "region", c.Region, "region shown in ARNs")
	fs.StringVar(&c.Account, "account-id", c.Account, "12-digit account id shown in ARNs")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
	fs.DurationVar(&c.GatewayCallTimeout, "gateway-call-timeout", c.GatewayCallTimeout, "how long a gateway's tool call waits for its target (OpenAPI operation) to answer")
	c.Observability.flags(fs)
	c.Overload.flags(fs)
	fs.BoolVar(&c.Init, "init", c.Init, "start with a new, empty database although the data directory holds key or credentials files of an earlier one (a kept credentials file is set aside, never overwritten)")
	fs.DurationVar(&c.DatabaseWait, "database-wait", c.DatabaseWait, "how long to wait at start for an unreachable PostgreSQL, retrying with backoff (0: fail at once)")
	fs.IntVar(&c.HostedLoginMaxPendingPerIP, "hosted-login-max-pending-per-ip", c.HostedLoginMaxPendingPerIP, "unexpired sign-in requests the hosted login keeps per client IP (keyed as --rate-limit-ip; loopback clients count in the total only); 0 removes the bound")
	fs.IntVar(&c.HostedLoginMaxPending, "hosted-login-max-pending", c.HostedLoginMaxPending, "unexpired sign-in requests the hosted login keeps in all; 0 removes the bound")
	fs.IntVar(&c.PoolMaxRegisteredClients, "pool-max-registered-clients", c.PoolMaxRegisteredClients, "app clients each user pool keeps that registered themselves (RFC 7591, e.g. MCP clients); past it registrations are refused until an administrator deletes some; 0 removes the bound")
	fs.StringVar(&c.PoolDomainSuffix, "pool-domain-suffix", c.PoolDomainSuffix, "serve user pools' prefix domains (CreateUserPoolDomain) at PREFIX.SUFFIX, e.g. auth.example.com; the operator's DNS and TLS point them at the public URL's host and port")
	fs.Var((*multi)(&c.PoolDomains), "pool-domain", "a custom domain (host name) user pools may create with CreateUserPoolDomain and Behalf serves, e.g. login.example.com (repeatable)")
	fs.Func("smtp-url", "mail server for user pools' sign-up and password-reset codes: smtp://USER:PASSWORD@HOST:PORT (STARTTLS when offered) or smtps://… (implicit TLS); default: keep them in the local outbox, read with behalf user codes POOL USER", func(v string) error {
		c.SMTPURL = behalf.Secret(v)
		return nil
	})
	fs.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "sender address of the code messages sent through --smtp-url")
	fs.StringVar(&c.OperatorName, "operator-name", c.OperatorName, "who runs this server, e.g. \"Example Corp\": named at the top of every page (sign-in, connections, binding, consent portals) beside Behalf's name")
	fs.StringVar(&c.OperatorLogoURL, "operator-logo-url", c.OperatorLogoURL, "the operator's logo on every page, with --operator-name as its alt text: an absolute https:// URL (http:// only on a loopback host); the pages' Content-Security-Policy allows images from its origin only")
	fs.StringVar(&c.ConnectionsIssuer, "connections-issuer", c.ConnectionsIssuer, "issuer (a user pool's {public-url}/{pool id}) whose users /connections signs in when its URL has no ?issuer= (default: the first workload's sign-in provider)")
	return fs
}

// serveSetup is `behalf serve` in the command tree: the serve flags, as
// ParseFlags defines them, parsed by pflag like every command's.
func serveSetup(fs *flagSet, _, stderr io.Writer) func(context.Context, []string) error {
	m := NewMain(stderr)
	fs.AddGoFlagSet(m.flagSet())
	return func(ctx context.Context, args []string) error {
		if err := needNoArgs("serve", args); err != nil {
			return err
		}
		if err := m.Config.Validate(); err != nil {
			return usageError{err: err}
		}
		return m.Run(ctx)
	}
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Account) != 12 || strings.Trim(c.Account, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("--account-id must be 12 digits"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json"))
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("--public-url must start with http:// or https://"))
	}
	if c.DatabaseWait < 0 {
		errs = append(errs, fmt.Errorf("--database-wait must not be negative"))
	}
	if c.HostedLoginMaxPendingPerIP < 0 || c.HostedLoginMaxPending < 0 {
		errs = append(errs, fmt.Errorf("--hosted-login-max-pending-per-ip and --hosted-login-max-pending must not be negative (0 removes a bound)"))
	}
	if c.PoolMaxRegisteredClients < 0 {
		errs = append(errs, fmt.Errorf("--pool-max-registered-clients must not be negative (0 removes the bound)"))
	}
	if c.PoolDomainSuffix != "" || len(c.PoolDomains) > 0 {
		public := c.PublicURL
		if public == "" {
			public = "http://" + c.Listen // as Run defaults it
		}
		pools := &userpool.Service{PublicURL: strings.TrimSuffix(public, "/"), DomainSuffix: c.PoolDomainSuffix, CustomDomains: c.PoolDomains}
		if err := pools.CheckDomains(); err != nil {
			errs = append(errs, fmt.Errorf("--pool-domain-suffix, --pool-domain: %w", err))
		}
	}
	if _, err := c.mailer(nil); err != nil {
		errs = append(errs, err)
	}
	if _, err := pageframe.New(c.OperatorName, c.OperatorLogoURL, ""); err != nil {
		errs = append(errs, fmt.Errorf("--operator-name, --operator-logo-url: %w", err))
	}
	errs = append(errs, c.Observability.validate()...)
	errs = append(errs, c.Overload.validate()...)
	return errors.Join(errs...)
}

// mailer returns the SMTP sender of --smtp-url, or nil without one.
func (c Config) mailer(tlsConfig *tls.Config) (*smtpmail.Sender, error) {
	if c.SMTPURL.IsZero() {
		if c.SMTPFrom != "" {
			return nil, fmt.Errorf("--smtp-from needs --smtp-url")
		}
		return nil, nil
	}
	s, err := smtpmail.New(smtpmail.Config{URL: c.SMTPURL.Reveal(), From: c.SMTPFrom, TLSConfig: tlsConfig})
	if err != nil {
		return nil, fmt.Errorf("--smtp-url, --smtp-from: %w", err)
	}
	return s, nil
}

func (m *Main) logger() *slog.Logger {
	return m.newLogger() // observe.go: level, request ids
}

// Run opens the store and keys, then serves until ctx is done.
func (m *Main) Run(ctx context.Context) error {
	c := m.Config
	m.Log = m.logger()
	stopObservability, err := m.startObservability(ctx)
	if err != nil {
		return err
	}
	defer stopObservability()
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	dsn := c.Database
	if dsn == "" {
		dsn = filepath.Join(c.DataDir, "behalf.db")
	}
	// One server per SQLite database, and restore refuses a database in
	// use (sqlstore.RestoreSQLite).
	unlock, err := sqlstore.LockForServing(dsn)
	if err != nil {
		return err
	}
	defer unlock()
	store, err := m.openDatabase(ctx, dsn) // startup checks (startup.go)
	if err != nil {
		return err
	}
	store.OwnWrites() // the lock keeps every other writer out (SQLite; PostgreSQL: no-op)
	store.SetMaxConns(c.DBMaxConns)
	m.obs.metrics.DBPool(store.Stats)
	m.store = store
	defer m.Close()
	sealer, closeKeys, err := m.openSealer(ctx, store) // every key-encryption key version (keys_cmd.go)
	if err != nil {
		return err
	}
	defer closeKeys()

	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	publicURL := strings.TrimSuffix(c.PublicURL, "/")
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	keys, err := m.rootKeys(ctx, store, sealer)
	if err != nil {
		ln.Close()
		return err
	}
	a, err := m.wire(ctx, store, sealer, keys, publicURL)
	if err != nil {
		ln.Close()
		return err
	}
	return m.serve(ctx, ln, a, publicURL)
}

func (m *Main) serve(ctx context.Context, ln net.Listener, a *app, publicURL string) error {
	hs := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
	}
	if n := m.Config.MaxConnections; n > 0 {
		cl := newConnLimit(ln, n)
		ln, hs.ConnState = cl, cl.ConnState
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// The token-fetch audit: flushed every minute, and once more after the
	// last request has drained, before the store closes.
	flushCtx, stopFlush := context.WithCancel(context.Background())
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		a.dataPlane.Vault().RunUsageFlusher(flushCtx, identity.UsageFlushInterval)
	}()
	// The runtime sessions the gateway saw: written every second, and once
	// more at the end.
	sessionsFlushed := make(chan struct{})
	go func() {
		defer close(sessionsFlushed)
		a.gateway.RunSessionFlusher(flushCtx, agentruntime.SessionFlushInterval)
	}()
	defer func() { stopFlush(); <-flushed; <-sessionsFlushed }()
	go m.sweepSessions(ctx, sweeper{store: m.store, consent: a.dataPlane.Consent(), wats: a.dataPlane.WATs(), pools: a.userPools})
	m.Log.Info("behalf serving", "addr", ln.Addr().String(), "public_url", publicURL, "data_dir", m.Config.DataDir)
	m.Addr <- ln.Addr().String()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	m.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// app is the server as wired: built once, each part with its final
// dependencies; nothing is changed after construction.
type app struct {
	// handler is the whole API: every request named, a server span, the
	// in-flight bounds, the per-IP limits and the hosted login in front of
	// the routes. The metrics are never served on this (public) listener:
	// only on --metrics-listen.
	handler http.Handler
	// gateway serves invocations; its sessions are written behind while
	// serving.
	gateway *agentruntime.Gateway
	// dataPlane's usage flusher and session sweeper, and userPools' lockout
	// sweep, run while serving.
	dataPlane *identity.DataPlane
	userPools *userpool.Service
}

// wire builds the services and the wire API on the store and keys, in
// dependency order, observability (m.obs, started by Run) first.
func (m *Main) wire(ctx context.Context, store *sqlstore.DB, sealer behalf.Sealer, keys *identity.AccessKeys, publicURL string) (*app, error) {
	c := m.Config
	o := m.obs
	httpClient := safehttp.NewClient(safehttp.Options{AllowPrivate: c.AllowPrivate, Resolver: m.Resolver})
	// PRIVATE_KEY_JWT providers' client-assertion keys.
	clientKeys := &identity.ClientKeys{Store: store, Sealer: sealer, Now: m.Now}
	svc := &identity.Service{Store: store, Sealer: sealer, PublicURL: publicURL, AllowPrivate: c.AllowPrivate, HTTPClient: httpClient, ClientKeys: clientKeys, Log: m.Log}
	if kek, ok := sealer.(behalf.KeyEncryptionKeys); ok {
		svc.KEKs = kek // SetTokenVaultCMK, ResetTokenVaultKeyMaterial
	}
	if err := svc.EnsureTokenVault(ctx); err != nil {
		return nil, fmt.Errorf("record token vault: %w", err)
	}
	watSigner, err := signer.New(ctx, store, sealer, "wat", "EdDSA", nil)
	if err != nil {
		return nil, fmt.Errorf("load workload access token key: %w", err)
	}
	// The Cognito-compatible user pools: issuer {public-url}/{pool id}.
	// Prefix domains are served at {prefix}.{--pool-domain-suffix}, custom
	// ones if --pool-domain names them.
	pools := &userpool.Service{Store: store, Sealer: sealer, PublicURL: publicURL, Region: c.Region, Now: m.Now,
		DomainSuffix: c.PoolDomainSuffix, CustomDomains: c.PoolDomains}
	if err := pools.CheckDomains(); err != nil {
		return nil, err
	}
	c.Overload.configurePools(pools)
	pools.Log = m.Log
	// Sign-up and password-reset codes: by email through --smtp-url, or
	// kept in the local outbox (and SMS always is).
	mailer, err := c.mailer(m.SMTPTLS)
	if err != nil {
		return nil, err
	}
	if mailer != nil {
		pools.Mail = mailer
		m.Log.Info("user pool codes are sent by email", "smtp", mailer.String(), "from", c.SMTPFrom)
	} else {
		m.Log.Info("no --smtp-url: user pool codes (sign-up, password reset) are kept in the local outbox; read them with: behalf user codes POOL USER")
	}
	// Their hosted login and OIDC endpoints under /{poolId}/, and at the
	// root of the pools' domains (Host routing, pools.ResolveHost), in
	// front of the API. Sign-in requests are bounded per client IP keyed
	// as the per-IP limit keys it (behind --trust-proxy, the forwarded
	// client).
	// Every page's frame: the operator's name and logo, Behalf, a link to
	// the connections page.
	frame, err := pageframe.New(c.OperatorName, c.OperatorLogoURL, publicURL)
	if err != nil {
		return nil, fmt.Errorf("--operator-name, --operator-logo-url: %w", err)
	}
	hostedOpts := []oidcop.Option{oidcop.WithLogger(m.Log), oidcop.WithFrame(frame),
		oidcop.WithPendingLimits(c.HostedLoginMaxPendingPerIP, c.HostedLoginMaxPending),
		oidcop.WithRegistrationLimit(c.PoolMaxRegisteredClients),
		oidcop.WithClientMetadataDocuments(safehttp.Options{AllowPrivate: c.AllowPrivate, Resolver: m.Resolver}),
		oidcop.WithClientAddress(func(r *http.Request) (string, bool) { return ratelimit.Client(r, c.TrustProxy) }),
	}
	if m.Now != nil {
		hostedOpts = append(hostedOpts, oidcop.WithClock(m.Now))
	}
	hosted, err := oidcop.New(pools, store, sealer, publicURL, hostedOpts...)
	if err != nil {
		return nil, fmt.Errorf("hosted login: %w", err)
	}
	// Every user pool is a trusted issuer, with its keys read in process.
	poolIssuers := &pooltoken.Pools{Keys: pools, PublicURL: publicURL}
	users := identity.NewTrustedIssuers(store, httpClient, poolIssuers)
	dp := identity.New(identity.Config{
		Store: store, Sealer: sealer, Signer: watSigner, Users: users, Log: m.Log,
		HTTPClient: httpClient, PublicURL: publicURL, Now: m.Now, Metrics: o.metrics,
		ClientKeys: clientKeys,
	})
	svc.OnVaultReset = dp.Vault().ForgetCachedTokens
	admin := &identity.Admin{Store: store, Sealer: sealer, HTTPClient: httpClient}
	runtimes := &agentruntime.Service{Store: store, AllowPrivate: c.AllowPrivate, Resolver: m.Resolver}
	gateways := &gateway.Service{Store: store, Providers: store, AllowPrivate: c.AllowPrivate, Resolver: m.Resolver, BindURL: publicURL + behalf.BindPath,
		Region: c.Region, Account: c.Account, Now: m.Now}
	// One verifier per signing name, so a request signed for one API cannot
	// call the other; each behind the per-key rate limit.
	limitKeys := m.keyLimit()
	auth := limitKeys(&sigv4.Verifier{Lookup: keys.Lookup, Services: []string{"bedrock-agentcore"}})
	cognitoAuth := limitKeys(&sigv4.Verifier{Lookup: keys.Lookup, Services: []string{"cognito-idp"}})
	// InvokeAgentRuntime: bearer JWTs per each runtime's authorizer, or
	// SigV4; agents are dialled through the SSRF guard's connect-time check
	// (traced when tracing is on).
	var agentTransport http.RoundTripper = safehttp.NewTransport(safehttp.Options{AllowPrivate: c.AllowPrivate, Resolver: m.Resolver})
	if o.tracing.Enabled() {
		agentTransport = o.tracing.Transport(agentTransport)
	}
	invocations := &agentruntime.Gateway{
		Runtimes: store, Versions: store, SessionStore: store,
		WATs: dp.WATs(), SigV4: auth, HTTPClient: httpClient, Transport: agentTransport,
		Pools: poolIssuers, Region: c.Region, Account: c.Account, Log: m.Log, Now: m.Now,
	}
	// Gateways' MCP endpoints: bearer tokens checked as runtimes' are, each
	// target's credential from the data plane in process, targets dialled
	// through the SSRF guard's connect-time check.
	gatewayMCP := &gateway.Handler{
		Store: store, Auth: &agentruntime.Authorizer{HTTPClient: httpClient, Pools: poolIssuers, Log: m.Log, Now: m.Now},
		WATs: dp.WATs(), DataPlane: dp, PublicURL: publicURL, AllowPrivate: c.AllowPrivate, Resolver: m.Resolver,
		CallTimeout: c.GatewayCallTimeout, Log: m.Log, Now: m.Now,
	}
	// MCP-server targets' tools are listed at create, update and
	// SynchronizeGatewayTargets by the same handler.
	gateways.Syncer, gateways.Changed = gatewayMCP, gatewayMCP.Forget
	// Browser sign-in (Behalf as a relying party of pools and registered
	// issuers) for the binding and connections pages; it signs in at the
	// pools in process, through the hosted login.
	signIn := &web.SignIn{Sealer: sealer, PublicURL: publicURL, HTTPClient: httpClient, Local: hosted, Log: m.Log, Now: m.Now, Frame: frame}
	// The pages name agent runtimes' and gateways' agents by their names,
	// not by the ids their workloads are named after.
	agents := &identity.AgentNames{Runtimes: store, Gateways: store, Log: m.Log}
	// The connections page signs users in with a workload's inbound client.
	connections := &web.Connections{Service: dp.Vault(), SignIn: signIn, DefaultIssuer: c.ConnectionsIssuer, Agents: agents, Frame: frame, Log: m.Log,
		Clients: func(ctx context.Context, issuer string) (web.SignInClient, error) {
			iss, id, secret, err := svc.InboundClient(ctx, issuer)
			return web.SignInClient{Issuer: iss, ClientID: id, ClientSecret: secret}, err
		}}
	// Consent portals: a gateway's page where users connect its
	// AUTHORIZATION_CODE targets through the binding page.
	portals := &gateway.Portals{Store: store, Gateways: store, Providers: store, Workloads: store, Bindings: svc,
		Sealer: sealer, WATs: dp.WATs(), DataPlane: dp, PublicURL: publicURL, Region: c.Region, Account: c.Account, Now: m.Now}
	portalPage := &web.Portal{Pages: portals, Connections: dp.Vault(), SignIn: signIn, Frame: frame, Log: m.Log}
	// In front of the routes, inside the API's logging and metrics: the
	// in-flight bounds first (a request refused for overload costs nothing
	// else, overload.go), the per-IP limits, then the hosted login.
	ips := &ratelimit.IPLimit{Limiter: o.ips, TrustProxy: c.TrustProxy, OnLimit: m.onLimited("ip")}
	bound := m.inFlightBounds()
	srv := &api.Server{
		Workloads: svc, OAuth2Providers: svc, APIKeyProviders: svc, TokenVaults: svc,
		DataPlane: dp, Admin: admin, Browser: &web.Consent{Service: dp.Consent(), Log: m.Log, SignIn: signIn, Frame: frame},
		BindPage: &web.Bind{Service: dp.Consent(), SignIn: signIn, Agents: agents, Frame: frame, Log: m.Log}, SignIn: signIn, Landing: web.Landing{Frame: frame},
		Bindings: svc, PublicURL: publicURL,
		Connections: dp.Vault(), Users: users, ConnectionsPage: connections,
		Runtimes:        runtimes,
		Tags:            &identity.Tags{Store: store},
		RuntimeSessions: invocations,
		Gateways:        gateways,
		GatewayMCP:      gatewayMCP,
		ConsentPortals:  portals, ConsentPortalPage: portalPage,
		UserPools:   pools,
		ClientKeys:  clientKeys,
		Auth:        auth,
		CognitoAuth: cognitoAuth,
		Invocations: invocations,
		Audit:       store,
		Ready:       store.Ready, Log: m.Log, Region: c.Region, Account: c.Account,
		Observe:     o.metrics.Request,
		Trace:       o.tracing.Handler,
		Front:       func(h http.Handler) http.Handler { return bound(ips.Wrap(hosted.Intercept(h))) },
		FrontRoutes: hosted.Route,
	}
	return &app{handler: srv.Handler(), gateway: invocations, dataPlane: dp, userPools: pools}, nil
}

// sweptStore is what the sweeper deletes from.
type sweptStore interface {
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int, error)
	DeleteExpiredRuntimeSessions(ctx context.Context, t time.Time) (int, error)
	DeleteExpiredPoolAuthRequests(ctx context.Context, before time.Time) (int, error)
}

// sweeper is what the sweep cleans: the store's expired rows, the
// sessions consent ends, the user pools' stale lockouts (nil: not swept).
type sweeper struct {
	store   sweptStore
	consent *identity.Consent
	wats    *identity.WATs
	pools   *userpool.Service
}

// poolAuthRequestGrace is how long after expiring a user pool's hosted-login
// request (or code) is kept: no replica serves it once it has expired, but
// their clocks may differ a little.
const poolAuthRequestGrace = 5 * time.Minute

// lockoutGrace is how long past the point where a user pool's sign-in
// lockout record no longer counts (its lock's end plus the reset window)
// it is kept, for the same reason.
const lockoutGrace = 5 * time.Minute

// sweepSessions runs sweep every minute until ctx is done.
func (m *Main) sweepSessions(ctx context.Context, sw sweeper) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.sweep(ctx, sw)
		}
	}
}

// sweep ends sessions that expired holding an unbound token
// (identity.Consent.ExpireSessions), deletes authorization sessions an
// hour after they expired (kept that long so late polls still answer
// FAILED, not unknown), the user pools' hosted-login requests
// poolAuthRequestGrace after theirs (the hosted login's bounds count only
// unexpired ones, so these rows are all the sweep leaves behind), and their
// sign-in lockout records lockoutGrace after they stopped counting (each
// name an attacker tries leaves one, so they must not pile up), and the
// users' JWTs kept for on-behalf-of exchange once their WATs expired.
func (m *Main) sweep(ctx context.Context, sw sweeper) {
	if sw.consent != nil {
		// Sessions that expired holding an unbound token: fail them
		// and revoke the token before anything is deleted.
		if n, err := sw.consent.ExpireSessions(ctx, 100); err != nil && ctx.Err() == nil {
			m.Log.Warn("end expired sessions", "err", err)
		} else if n > 0 {
			m.Log.Info("ended expired sessions holding a token", "count", n)
		}
	}
	if sw.wats != nil {
		// The users' JWTs kept for on-behalf-of exchange, once their
		// workload access tokens have expired.
		if n, err := sw.wats.SweepSubjectTokens(ctx); err != nil && ctx.Err() == nil {
			m.Log.Warn("sweep expired subject tokens", "err", err)
		} else if n > 0 {
			m.Log.Info("swept expired subject tokens", "count", n)
		}
	}
	n, err := sw.store.DeleteExpiredSessions(ctx, time.Now().Add(-time.Hour))
	if err != nil && ctx.Err() == nil {
		m.Log.Warn("sweep expired sessions", "err", err)
	} else if n > 0 {
		m.Log.Info("swept expired sessions", "count", n)
	}
	// The hosted login stamps its requests with m.Now when set.
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	// Runtime sessions a minute after they ended (replicas' clocks differ).
	n, err = sw.store.DeleteExpiredRuntimeSessions(ctx, now.Add(-time.Minute))
	if err != nil && ctx.Err() == nil {
		m.Log.Warn("sweep ended runtime sessions", "err", err)
	} else if n > 0 {
		m.Log.Info("swept ended runtime sessions", "count", n)
	}
	n, err = sw.store.DeleteExpiredPoolAuthRequests(ctx, now.Add(-poolAuthRequestGrace))
	if err != nil && ctx.Err() == nil {
		m.Log.Warn("sweep expired hosted-login requests", "err", err)
	} else if n > 0 {
		m.Log.Info("swept expired hosted-login requests", "count", n)
	}
	if sw.pools != nil {
		n, err = sw.pools.DeleteStaleLockouts(ctx, lockoutGrace)
		if err != nil && ctx.Err() == nil {
			m.Log.Warn("sweep stale user pool lockouts", "err", err)
		} else if n > 0 {
			m.Log.Info("swept stale user pool lockouts", "count", n)
		}
		// Codes and outbox messages, once expired.
		n, err = sw.pools.DeleteExpiredCodes(ctx, lockoutGrace)
		if err != nil && ctx.Err() == nil {
			m.Log.Warn("sweep expired user pool codes", "err", err)
		} else if n > 0 {
			m.Log.Info("swept expired user pool codes", "count", n)
		}
		// Spent SRP secret blocks, once they could no longer be used.
		n, err = sw.pools.DeleteExpiredNonces(ctx, lockoutGrace)
		if err != nil && ctx.Err() == nil {
			m.Log.Warn("sweep expired user pool nonces", "err", err)
		} else if n > 0 {
			m.Log.Info("swept expired user pool nonces", "count", n)
		}
	}
}

// Close releases the database.
func (m *Main) Close() error {
	if m.store != nil {
		err := m.store.Close()
		m.store = nil
		return err
	}
	return nil
}
