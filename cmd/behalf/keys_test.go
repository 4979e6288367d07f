package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/signer"
)

// runCLI runs a behalf command line in process and returns its standard
// output; a failure carries the standard error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	if err != nil {
		return stdout.String(), fmt.Errorf("%w\nstderr: %s", err, stderr.String())
	}
	return stdout.String(), nil
}

// mustCLI runs a command line that must succeed.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("behalf %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// keysStatusJSON runs `behalf keys status --output json`.
func keysStatusJSON(t *testing.T, dataDir string, extra ...string) keysOutput {
	t.Helper()
	out := mustCLI(t, append([]string{"keys", "status", "--data-dir", dataDir, "--output", "json"}, extra...)...)
	var st keysOutput
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("keys status output %q: %v", out, err)
	}
	return st
}

// inlineKey returns a base64key:// URL of a fixed 32-byte key.
func inlineKey(b byte) string {
	return "base64key://" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

// grantUsers consents n users and returns their WATs and vaulted tokens.
func grantUsers(t *testing.T, f *flowFixture, n int) (users []string, wats, tokens map[string]string) {
	t.Helper()
	wats, tokens = map[string]string{}, map[string]string{}
	for i := range n {
		u := fmt.Sprintf("user-%02d", i)
		f.appUser.Store(u)
		wats[u] = f.wat(u)
		tokens[u] = f.consent(wats[u])
		users = append(users, u)
	}
	for _, u := range users[1:] {
		if tokens[u] == tokens[users[0]] {
			t.Fatal("the provider gave two users the same token")
		}
	}
	return users, wats, tokens
}

// wantGrantsOpen checks that every user's grant opens on the server c
// calls: a WAT fetched from it, then the vaulted token.
func wantGrantsOpen(t *testing.T, f *flowFixture, c *dp.Client, users []string, tokens map[string]string) {
	t.Helper()
	ctx := context.Background()
	for _, u := range users {
		w, err := c.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
			WorkloadName: aws.String("drive-agent"), UserId: aws.String(u),
		})
		if err != nil {
			t.Fatalf("WAT for %s: %v", u, err)
		}
		out, err := c.GetResourceOauth2Token(ctx, f.tokenRequest(aws.ToString(w.WorkloadAccessToken), ""))
		if err != nil {
			t.Fatalf("grant of %s: %v", u, err)
		}
		if got := aws.ToString(out.AccessToken); got != tokens[u] {
			t.Fatalf("grant of %s opened to %q, want its own token", u, got)
		}
	}
}

// noRateLimits returns the serve flags that turn the per-key and per-IP
// rate limits off, for load tests, if this build has them.
func noRateLimits() []string {
	args := []string{"--rate-limit-key", "0", "--rate-limit-ip", "0"}
	if NewMain(io.Discard).ParseFlags(args) != nil {
		return nil
	}
	return args
}

// tokenLoad calls GetResourceOauth2Token for the users in turn from
// several goroutines until stopped, checking each answer.
type tokenLoad struct {
	stop  atomic.Bool
	calls atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	errs  []error
}

func startTokenLoad(f *flowFixture, users []string, wats, tokens map[string]string, workers int) *tokenLoad {
	l := &tokenLoad{}
	for w := range workers {
		l.wg.Go(func() {
			for i := w; !l.stop.Load(); i++ {
				u := users[i%len(users)]
				out, err := f.dp.GetResourceOauth2Token(context.Background(), f.tokenRequest(wats[u], ""))
				if err == nil && aws.ToString(out.AccessToken) != tokens[u] {
					err = fmt.Errorf("%s got %q", u, aws.ToString(out.AccessToken))
				}
				if err != nil {
					l.mu.Lock()
					l.errs = append(l.errs, err)
					l.mu.Unlock()
				}
				l.calls.Add(1)
			}
		})
	}
	return l
}

// waitCalls waits until the load has made n more calls.
func (l *tokenLoad) waitCalls(t *testing.T, n int64) {
	t.Helper()
	target := l.calls.Load() + n
	deadline := time.Now().Add(30 * time.Second)
	for l.calls.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("load made %d calls, want %d", l.calls.Load(), target)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finish stops the load and fails t on any error it met.
func (l *tokenLoad) finish(t *testing.T) int64 {
	t.Helper()
	l.stop.Store(true)
	l.wg.Wait()
	if len(l.errs) > 0 {
		t.Fatalf("%d of %d calls failed during the rotation; first: %v", len(l.errs), l.calls.Load(), l.errs[0])
	}
	return l.calls.Load()
}

// startMainErr runs a server that must fail to start and returns its error.
func startMainErr(t *testing.T, args ...string) error {
	t.Helper()
	m := NewMain(io.Discard)
	if err := m.ParseFlags(append([]string{"--listen", "127.0.0.1:0"}, args...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Addr:
		cancel()
		<-done
		t.Fatalf("server started with %q", args)
	case err := <-done:
		return err
	}
	return nil
}

// Ensure the key-encryption key rotates online: 20 users hold grants,
// agents keep fetching their tokens while `behalf keys rotate` adds a
// version and rewraps every data key; no call fails, every data key ends
// on the new version, every grant still opens, and once the old version is
// retired a server without the old key opens everything. Run with the
// local key files and with base64key:// (gocloud.dev localsecrets) keys.
func TestKeysRotationUnderLoad(t *testing.T) {
	oldInline, newInline := inlineKey(0x11), inlineKey(0x22)
	for _, tc := range []struct {
		name       string
		serve      []string // the first server's key flags
		rotate     []string // behalf keys rotate's key flags
		after      []string // a server's key flags after retirement
		removeOld  func(t *testing.T, dataDir string)
		newKeyFile string // the file the rotation must create
	}{
		{
			name: "local", newKeyFile: "kek.2",
			removeOld: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "kek"), filepath.Join(dir, "kek.retired")); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:   "base64key",
			serve:  []string{"--kms", oldInline},
			rotate: []string{"--kms", oldInline, "--to-kms", newInline},
			after:  []string{"--kms", newInline},
		},
	} {
		for backend, dsn := range backends(t) {
			t.Run(tc.name+"/"+backend, func(t *testing.T) {
				testRotationUnderLoad(t, dsn(t), tc.serve, tc.rotate, tc.after, tc.removeOld, tc.newKeyFile, oldInline)
			})
		}
	}
}

// testRotationUnderLoad is one case of TestKeysRotationUnderLoad on the
// database db ("" for SQLite in the data directory).
func testRotationUnderLoad(t *testing.T, db string, serve, rotate, after []string, removeOld func(*testing.T, string), newKeyFile, oldInline string) {
	var dbFlag []string // the CLI's and the later servers' --database
	if db != "" {
		dbFlag = []string{"--database", db}
	}
	google := fakeprovider.New(t, fakeprovider.Options{})
	s, stop := startStoppable(t, serverOptions{database: db, args: append(append([]string{"--allow-private-endpoints"}, noRateLimits()...), serve...)})
	f := newFlowFixture(t, s, google)
	users, wats, tokens := grantUsers(t, f, 20)
	if st := keysStatusJSON(t, s.DataDir, dbFlag...); st.KEK.Active != 1 || st.KEK.DataKeys == 0 || !st.KEK.Rewrapped() {
		t.Fatalf("status before = %+v", st.KEK)
	}

	load := startTokenLoad(f, users, wats, tokens, 4)
	load.waitCalls(t, 40)
	before := load.calls.Load()
	out := mustCLI(t, append(append([]string{"keys", "rotate", "--data-dir", s.DataDir, "--output", "json"}, dbFlag...), rotate...)...)
	during := load.calls.Load() - before
	load.waitCalls(t, 40) // still serving after the rotation
	calls := load.finish(t)
	// The four callers run throughout the rotation; how many calls
	// complete inside it depends on the machine.
	t.Logf("%d token fetches, %d of them completed while behalf keys rotate ran; none failed", calls, during)

	var rotated keysOutput
	if err := json.Unmarshal([]byte(out), &rotated); err != nil {
		t.Fatalf("rotate output %q: %v", out, err)
	}
	if rotated.Rewrapped == nil || *rotated.Rewrapped != rotated.KEK.DataKeys {
		t.Fatalf("rotate rewrapped %v of %d data keys", rotated.Rewrapped, rotated.KEK.DataKeys)
	}
	st := keysStatusJSON(t, s.DataDir, append(dbFlag, rotate[:min(2, len(rotate))]...)...)
	if st.KEK.Active != 2 || !st.KEK.Rewrapped() || len(st.KEK.Versions) != 2 {
		t.Fatalf("status after rotate = %+v", st.KEK)
	}
	if v := st.KEK.Versions[0]; v.State != behalf.KEKPrevious || v.DataKeys != 0 {
		t.Fatalf("version 1 after rotate = %+v", v)
	}
	if v := st.KEK.Versions[1]; v.State != behalf.KEKActive || v.DataKeys != st.KEK.DataKeys {
		t.Fatalf("version 2 after rotate = %+v", v)
	}
	if newKeyFile != "" {
		if fi, err := os.Stat(filepath.Join(s.DataDir, newKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v", newKeyFile, err)
		}
	}
	// The running server still opens every grant.
	wantGrantsOpen(t, f, f.dp, users, tokens)

	// Retire the old version; it is then no longer needed at all.
	mustCLI(t, append([]string{"keys", "retire", "1", "--data-dir", s.DataDir}, dbFlag...)...)
	if st := keysStatusJSON(t, s.DataDir, dbFlag...); st.KEK.Versions[0].State != behalf.KEKRetired {
		t.Fatalf("version 1 after retire = %+v", st.KEK.Versions[0])
	}
	if removeOld != nil {
		removeOld(t, s.DataDir)
	}
	stop() // one server per SQLite database
	fresh, stopFresh := startStoppable(t, serverOptions{dataDir: s.DataDir, database: db, args: append([]string{"--allow-private-endpoints", "--public-url", s.URL}, after...)})
	wantGrantsOpen(t, f, fresh.dataPlane(t, fresh.KeyID, fresh.Secret), users, tokens)
	stopFresh()
	if len(after) > 0 {
		// Only the old key: refused at start, naming the version
		// and never the key.
		err := startMainErr(t, append([]string{"--data-dir", s.DataDir, "--kms", oldInline}, dbFlag...)...)
		if err == nil || !strings.Contains(err.Error(), "version 2") || strings.Contains(err.Error(), oldInline[12:]) {
			t.Fatalf("server with only the retired key: %v", err)
		}
	}
}

// Ensure the token-signing keys rotate: new WATs and pool tokens are
// signed with new keys, tokens signed before keep verifying and the old
// public keys stay published until those tokens have expired; running
// servers learn the new keys, and --retire-after 0 withdraws a key at once.
func TestKeysRotateSigning(t *testing.T) {
	dsn := os.Getenv("BEHALF_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("BEHALF_TEST_POSTGRES_DSN is unset: TestKeysRotateSigning runs replicas, which share a PostgreSQL database (one server per SQLite file)")
	}
	db := freshPostgresSchema(t, dsn)
	ctx := context.Background()
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := startMain(t, serverOptions{database: db, args: []string{"--allow-private-endpoints"}})
	f := newFlowFixture(t, s, google)
	pool := newPoolFixture(t, ctx, s.cognito(t), "rotation")
	pool.createUser(t, ctx, s.cognito(t), "ann", "Ann-Pass-1!")
	oldPoolTokens := mustTokens(t)(pool.signIn(ctx, s.cognito(t), "ann", "Ann-Pass-1!"))
	oldWAT := f.wat("alice")
	oldWATKid, oldPoolKid := kidOf(t, oldWAT), kidOf(t, aws.ToString(oldPoolTokens.AccessToken))

	start := time.Now()
	out := mustCLI(t, "keys", "rotate", "--signing", "--data-dir", s.DataDir, "--database", db, "--output", "json")
	var rotated struct {
		Rotated []struct {
			Use      string    `json:"use"`
			KeyID    string    `json:"kid"`
			Retired  []string  `json:"retiredKids"`
			RetireAt time.Time `json:"retireAt"`
		} `json:"rotated"`
	}
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || len(rotated.Rotated) != 2 {
		t.Fatalf("rotate --signing output %q: %v", out, err)
	}
	wantGrace := map[string]time.Duration{"wat": signer.RetireGrace(identity.MaxWATLifetime), pool.poolID: signer.RetireGrace(24 * time.Hour)}
	wantOld := map[string]string{"wat": oldWATKid, pool.poolID: oldPoolKid}
	newKid := map[string]string{}
	for _, r := range rotated.Rotated {
		if len(r.Retired) != 1 || r.Retired[0] != wantOld[r.Use] || r.KeyID == wantOld[r.Use] {
			t.Fatalf("rotated %+v, want old key %s retired", r, wantOld[r.Use])
		}
		newKid[r.Use] = r.KeyID
	}
	// The store says when each old key stops being published.
	for _, k := range keysStatusJSON(t, s.DataDir, "--database", db).SigningKeys {
		switch k.KeyID {
		case wantOld[k.Use]:
			lo, hi := start.Add(wantGrace[k.Use]), time.Now().Add(wantGrace[k.Use])
			if k.Active || k.RetireAt.Before(lo.Add(-time.Second)) || k.RetireAt.After(hi) {
				t.Errorf("old %s key retires at %v, want about %v", k.Use, k.RetireAt, lo)
			}
		case newKid[k.Use]:
			if !k.Active || !k.RetireAt.IsZero() {
				t.Errorf("new %s key %+v", k.Use, k)
			}
		}
	}

	// The running server still accepts the old WAT and the old pool token.
	wantWATAccepted(t, f, f.dp, oldWAT)
	if _, err := s.cognito(t).GetUser(ctx, &cip.GetUserInput{AccessToken: oldPoolTokens.AccessToken}); err != nil {
		t.Fatalf("old pool access token after rotation: %v", err)
	}

	// A replica started now signs with the new keys and publishes both.
	// (Replicas share the public URL, which is the tokens' issuer.)
	r := startMain(t, serverOptions{dataDir: s.DataDir, database: db, args: []string{"--allow-private-endpoints", "--public-url", s.URL}})
	rf := &flowFixture{t: t, server: r, dp: r.dataPlane(t, r.KeyID, r.Secret), appURL: f.appURL}
	newWAT := rf.wat("alice")
	if kidOf(t, newWAT) != newKid["wat"] {
		t.Fatalf("replica signs WATs with %s, want the new key %s", kidOf(t, newWAT), newKid["wat"])
	}
	newPoolTokens := mustTokens(t)(pool.signIn(ctx, r.cognito(t), "ann", "Ann-Pass-1!"))
	if kidOf(t, aws.ToString(newPoolTokens.IdToken)) != newKid[pool.poolID] {
		t.Fatal("replica signs pool tokens with the old key")
	}
	set := fetchJWKS(t, r, pool.poolID)
	for _, kid := range []string{oldPoolKid, newKid[pool.poolID]} {
		if _, ok := set.LookupKeyID(kid); !ok {
			t.Fatalf("replica's pool JWKS lacks %s", kid)
		}
	}
	wantWATAccepted(t, f, rf.dp, oldWAT)
	// The first server learns the new keys when it meets them (unknown kid:
	// it rereads the store, at most every signer.ReloadInterval).
	eventually(t, signer.ReloadInterval+5*time.Second, func() error {
		_, err := s.cognito(t).GetUser(ctx, &cip.GetUserInput{AccessToken: newPoolTokens.AccessToken})
		return err
	})
	eventually(t, signer.ReloadInterval+5*time.Second, func() error {
		_, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(newWAT, ""))
		return err
	})

	// A compromised key: --retire-after 0 withdraws the old WAT keys at
	// once (servers started now refuse them; running ones within
	// signer.RefreshInterval).
	mustCLI(t, "keys", "rotate", "--signing", "--use", "wat", "--retire-after", "0", "--data-dir", s.DataDir, "--database", db)
	r2 := startMain(t, serverOptions{dataDir: s.DataDir, database: db, args: []string{"--allow-private-endpoints", "--public-url", s.URL}})
	r2dp := r2.dataPlane(t, r2.KeyID, r2.Secret)
	for _, w := range []string{oldWAT, newWAT} {
		if _, err := r2dp.GetResourceOauth2Token(ctx, f.tokenRequest(w, "")); err == nil {
			t.Fatal("a WAT signed by a key retired at once was accepted")
		}
	}
	if _, err := s.cognito(t).GetUser(ctx, &cip.GetUserInput{AccessToken: oldPoolTokens.AccessToken}); err != nil {
		t.Fatalf("pool keys were retired by --use wat: %v", err)
	}
	// Errors name what is wrong.
	if _, err := runCLI(t, "keys", "rotate", "--signing", "--use", "no-such-pool", "--data-dir", s.DataDir, "--database", db); err == nil || !strings.Contains(err.Error(), "no signing keys") {
		t.Fatalf("rotate --signing --use unknown: %v", err)
	}
}

// wantWATAccepted checks that a WAT passes verification: the data plane
// answers a token request made with it (an authorization URL or a token).
func wantWATAccepted(t *testing.T, f *flowFixture, c *dp.Client, wat string) {
	t.Helper()
	f.appUser.Store("alice")
	if _, err := c.GetResourceOauth2Token(context.Background(), f.tokenRequest(wat, "")); err != nil {
		t.Fatalf("WAT refused: %v", err)
	}
}

// kidOf returns a JWT's kid, unverified.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil || h.Kid == "" {
		t.Fatalf("JWT header %s: %v", b, err)
	}
	return h.Kid
}

// eventually retries fn until it succeeds or d has passed.
func eventually(t *testing.T, d time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %v: %v", d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Ensure the keys commands refuse what they must, with messages that say
// why, and never create a database where there is none.
func TestKeysCLIErrors(t *testing.T) {
	isolateAWSEnv(t)
	s := mustRunMain(t, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "retire", "1"}, "is active"},
		{[]string{"keys", "retire", "7"}, "not found"},
		{[]string{"keys", "retire", "x"}, "VERSION"},
		{[]string{"keys", "rotate", "--to-kms", "awskms://user:pw@alias/x"}, "credentials"},
		{[]string{"keys", "rotate", "--to-kms", "nosuch://k"}, "open key-encryption key"},
		{[]string{"keys", "rotate", "--to-kms", inlineKey(1), "--to-local"}, "not both"},
		{[]string{"keys", "rotate", "--use", "wat"}, "need --signing"},
		{[]string{"keys", "rotate", "--signing", "--to-local"}, "--signing rotates"},
	} {
		_, err := runCLI(t, append(tc.args, "--data-dir", s.DataDir)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("behalf %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	empty := filepath.Join(t.TempDir(), "nothing")
	if _, err := runCLI(t, "keys", "status", "--data-dir", empty); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("keys status on an empty dir: %v", err)
	}
	if _, err := os.Stat(empty); err == nil {
		t.Fatal("keys status created the data dir")
	}
	// Inline active key: a rotation must say where to (no silent switch to
	// a local file).
	inline := mustRunMain(t, "", "--kms", inlineKey(3))
	if _, err := runCLI(t, "keys", "rotate", "--data-dir", inline.DataDir, "--kms", inlineKey(3)); err == nil || !strings.Contains(err.Error(), "--to-kms") {
		t.Fatalf("rotate from an inline key without --to-kms: %v", err)
	}
	// The access-key verbs still work under the same noun.
	if out := mustCLI(t, "keys", "list", "--endpoint-url", s.URL, "--data-dir", s.DataDir); !strings.Contains(out, s.KeyID) {
		t.Fatalf("keys list = %q", out)
	}
	// --prepare creates the next local key file only.
	out := mustCLI(t, "keys", "rotate", "--prepare", "--data-dir", s.DataDir)
	if !strings.Contains(out, "kek.2") {
		t.Fatalf("rotate --prepare = %q", out)
	}
	if st := keysStatusJSON(t, s.DataDir); st.KEK.Active != 1 {
		t.Fatalf("--prepare rotated: %+v", st.KEK)
	}
	prepared, _ := os.ReadFile(filepath.Join(s.DataDir, "kek.2"))
	mustCLI(t, "keys", "rotate", "--data-dir", s.DataDir)
	if used, _ := os.ReadFile(filepath.Join(s.DataDir, "kek.2")); !bytes.Equal(prepared, used) || keysStatusJSON(t, s.DataDir).KEK.Active != 2 {
		t.Fatal("rotate did not use the prepared key file")
	}
}
