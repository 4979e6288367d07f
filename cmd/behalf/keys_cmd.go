package main

// `behalf keys rotate|rewrap|retire|status`: key-encryption key versions
// and token-signing keys. Unlike the other client commands these work on
// the data directory and database directly, as `behalf serve` does, while
// servers keep serving: the database is where every replica learns of a
// new version (see seal.Keyring and signer.RefreshInterval), and no key
// ever travels over the API. They need what the server needs: the same
// --data-dir (local key files), --database and --kms.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/seal"
	"github.com/behalf-dev/behalf/signer"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Token-signing keys, as the server creates them: one EdDSA key of use
// "wat" for workload access tokens, one RS256 key per user pool (its use
// is the pool id).
const (
	watKeyUse  = "wat"
	watKeyAlg  = signer.EdDSA
	poolKeyAlg = signer.RS256
	// poolTokenMaxLifetime is the longest a user pool's access or ID token
	// may live (Cognito's limit, which Behalf enforces).
	poolTokenMaxLifetime = 24 * time.Hour
)

// keyringCommands are the `behalf keys` verbs of this file; the others
// (create, list, delete) are access keys.
var keyringCommands = map[string]command{
	"status": {usage: "", short: "Show key-encryption key versions, rewrap progress and token-signing keys (reads the database).", run: keysStatus, flags: storeFlags},
	"rotate": {usage: "[--to-kms URL | --to-local | --prepare] | --signing [--use USE]... [--retire-after D] | --provider NAME [--retire-after D]",
		short: "Add a key-encryption key version and rewrap every data key with it, online; with --signing rotate the token-signing keys; with --provider a PRIVATE_KEY_JWT provider's client-assertion key.",
		run:   keysRotate, flags: func(fs *flagSet) {
			storeFlags(fs)
			fs.String("to-kms", "", "the new key-encryption key as a gocloud.dev/secrets URL (awskms://…, base64key://…); default a new local key file DATA-DIR/kek.N")
			fs.Bool("to-local", false, "rotate to a new local key file even though the active version is a KMS or base64key:// key")
			fs.Bool("prepare", false, "only create the next local key file DATA-DIR/kek.N, to copy to every node before rotating")
			fs.Bool("signing", false, "rotate the token-signing keys (workload access tokens and every user pool) instead")
			fs.Var(&multi{}, "use", `with --signing: only this use, "wat" or a user pool id (repeatable)`)
			fs.Duration("retire-after", -1, "with --signing or --provider: how long old keys stay published (default: their tokens' longest lifetime + "+(signer.RefreshInterval+signer.Skew).String()+"; 0 retires them at once)")
			fs.String("provider", "", "rotate the client-assertion key of this PRIVATE_KEY_JWT credential provider (its JWKS publishes both keys until the old one retires)")
		}},
	"rewrap": {usage: "", short: "Finish an interrupted rotation: rewrap every data key with the active key-encryption key version.", run: keysRewrap, flags: storeFlags},
	"retire": {usage: "VERSION", short: "Retire a key-encryption key version that no data key uses any more.", run: keysRetire, flags: storeFlags},
}

// keysCommands are the `behalf keys` verbs: the keyring's, and the access
// key verbs it used to have, which now say to use `behalf access-key`.
func keysCommands() map[string]command {
	all := maps.Clone(keyringCommands)
	for verb, cmd := range keyCommands {
		run := cmd.run
		cmd.short = "Deprecated: use behalf access-key " + verb + "."
		cmd.run = func(ctx context.Context, c *cli, args []string) error {
			fmt.Fprintf(c.stderr, "behalf: \"keys %s\" is deprecated; use \"behalf access-key %s\" instead\n", verb, verb)
			return run(ctx, c, args)
		}
		all[verb] = cmd
	}
	return all
}

// storeFlags are the flags that say where the database and keys are, as
// for behalf serve (--data-dir is every command's).
func storeFlags(fs *flagSet) {
	fs.String("database", "", "SQLite file path, or postgres://... (default DATA-DIR/behalf.db)")
	fs.String("kms", "", "the key-encryption key URL behalf serve is given (default: the local key files in DATA-DIR)")
	fs.Var(&multi{}, "kms-previous", "an earlier key-encryption key URL still needed (base64key:// keys; repeatable)")
}

// keyEnv is an open database with its keyring and sealer.
type keyEnv struct {
	store  *sqlstore.DB
	ring   *seal.Keyring
	sealer *seal.Sealer
}

func (e *keyEnv) close() {
	if e.ring != nil {
		e.ring.Close()
	}
	if e.store != nil {
		e.store.Close()
	}
}

// databaseDSN is --database, or the SQLite file in the data directory.
func databaseDSN(database, dataDir string) string {
	if database != "" {
		return database
	}
	return filepath.Join(dataDir, "behalf.db")
}

// isPostgres reports whether dsn names a PostgreSQL database.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openExistingStore opens the database, refusing to create a SQLite file
// where none is (a mistyped --data-dir).
func openExistingStore(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	if !isPostgres(dsn) {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (check --data-dir or --database)", dsn)
		}
	}
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil
}

// keyringConfig is the keyring configuration of the command's flags.
func (c *cli) keyringConfig(readOnly bool) seal.KeyringConfig {
	return seal.KeyringConfig{DataDir: c.dataDir, KMS: c.str("kms"), Previous: c.list("kms-previous"), NoCreate: readOnly}
}

// openKeyEnv opens the database and its keyring. With strict, every key a
// data key needs must be available (rotating, rewrapping); otherwise the
// keyring only reads (status, retire).
func (c *cli) openKeyEnv(ctx context.Context, strict bool) (*keyEnv, error) {
	store, err := openExistingStore(ctx, databaseDSN(c.str("database"), c.dataDir))
	if err != nil {
		return nil, err
	}
	e := &keyEnv{store: store}
	if strict {
		e.ring, err = seal.OpenKeyring(ctx, store, c.keyringConfig(false))
	} else {
		e.ring = seal.NewKeyring(store, c.keyringConfig(true))
		err = e.ring.Load(ctx)
	}
	if err != nil {
		e.ring = nil
		e.close()
		return nil, err
	}
	e.sealer = seal.NewWithKeyring(e.ring, store, seal.Options{})
	return e, nil
}

// openSealer opens the server's keyring (Main.Run): every key-encryption
// key version not retired, checked against the database, and a sealer on
// it. Unavailable versions that no data key needs are logged.
func (m *Main) openSealer(ctx context.Context, store *sqlstore.DB) (*seal.Sealer, func(), error) {
	c := m.Config
	ring, err := seal.OpenKeyring(ctx, store, seal.KeyringConfig{DataDir: c.DataDir, KMS: c.KMS, Previous: c.KMSPrevious})
	if err != nil {
		return nil, nil, err
	}
	if st, err := ring.Status(ctx); err == nil {
		for _, v := range st.Versions {
			if v.Problem != "" {
				m.Log.Warn("key-encryption key version unavailable (no data key needs it)", "version", v.Version, "state", v.State, "problem", v.Problem)
			}
		}
		if !st.Rewrapped() {
			m.Log.Warn("a key-encryption key rotation is unfinished: run behalf keys rewrap", "active_version", st.Active)
		}
		m.Log.Info("key-encryption keys", "active_version", st.Active, "versions", len(st.Versions), "data_keys", st.DataKeys)
	}
	return seal.NewWithKeyring(ring, store, seal.Options{}), func() { ring.Close() }, nil
}

// keysOutput is `behalf keys status --output json` (and rotate's).
type keysOutput struct {
	KEK         *seal.Status    `json:"keyEncryptionKeys"`
	SigningKeys []signingKeyOut `json:"signingKeys"`
	Rewrapped   *int            `json:"rewrappedDataKeys,omitempty"`
}

type signingKeyOut struct {
	Use       string    `json:"use"`
	KeyID     string    `json:"kid"`
	Algorithm string    `json:"algorithm"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"createdAt"`
	RetireAt  time.Time `json:"retireAt,omitzero"`
}

func keysStatus(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	e, err := c.openKeyEnv(ctx, false)
	if err != nil {
		return err
	}
	defer e.close()
	return c.printKeys(ctx, e, nil)
}

// printKeys prints the keyring's status and the signing keys.
func (c *cli) printKeys(ctx context.Context, e *keyEnv, rewrapped *int) error {
	st, err := e.ring.Status(ctx)
	if err != nil {
		return err
	}
	sks, err := signingKeys(ctx, e.store)
	if err != nil {
		return err
	}
	out := keysOutput{KEK: st, SigningKeys: sks, Rewrapped: rewrapped}
	return c.print(out, func(w io.Writer) { printKeysText(w, out) })
}

func printKeysText(w io.Writer, out keysOutput) {
	st := out.KEK
	if st.Active == 0 {
		fmt.Fprintf(w, "No key-encryption key version is recorded yet: the server records version 1 when it starts.\n")
	} else {
		fmt.Fprintf(w, "Key-encryption keys: version %d is active.\n", st.Active)
	}
	if st.Rewrapped() {
		fmt.Fprintf(w, "Data keys: %d, all wrapped by the active version.\n", st.DataKeys)
	} else {
		onActive := 0
		for _, v := range st.Versions {
			if v.Version == st.Active {
				onActive = v.DataKeys
			}
		}
		fmt.Fprintf(w, "Data keys: %d of %d wrapped by the active version: a rotation is unfinished; run \"behalf keys rewrap\".\n", onActive, st.DataKeys)
	}
	if len(st.Versions) > 0 {
		fmt.Fprintf(w, "\n%-8s %-9s %-9s %-10s %-20s %s\n", "VERSION", "STATE", "DATA-KEYS", "AVAILABLE", "CREATED", "WHERE")
		for _, v := range st.Versions {
			avail := "yes"
			switch {
			case v.State == behalf.KEKRetired:
				avail = "-"
			case !v.Available:
				avail = "NO"
			}
			fmt.Fprintf(w, "%-8d %-9s %-9d %-10s %-20s %s\n", v.Version, v.State, v.DataKeys, avail, v.CreatedAt.Local().Format(time.DateTime), v.Where)
		}
		for _, v := range st.Versions {
			if v.Problem != "" {
				fmt.Fprintf(w, "  version %d: %s\n", v.Version, v.Problem)
			}
		}
		for _, v := range st.Versions {
			if v.State == behalf.KEKPrevious && v.DataKeys == 0 {
				fmt.Fprintf(w, "Version %d wraps no data key: retire it with \"behalf keys retire %d\" (keep its key as long as you keep backups taken before %s).\n",
					v.Version, v.Version, nextCreated(st, v.Version).Local().Format(time.DateTime))
			}
		}
	}
	fmt.Fprintf(w, "\nToken-signing keys:\n%-28s %-44s %-6s %s\n", "USE", "KID", "ALG", "STATE")
	now := time.Now()
	retired := 0
	for _, k := range out.SigningKeys {
		state := "active since " + k.CreatedAt.Local().Format(time.DateTime)
		switch {
		case !k.RetireAt.IsZero() && !now.Before(k.RetireAt):
			retired++
			continue
		case !k.RetireAt.IsZero():
			state = "published until " + k.RetireAt.Local().Format(time.DateTime)
		case !k.Active:
			state = "inactive, published"
		}
		fmt.Fprintf(w, "%-28s %-44s %-6s %s\n", k.Use, k.KeyID, k.Algorithm, state)
	}
	if retired > 0 {
		fmt.Fprintf(w, "(%d retired signing keys not shown; --output json lists them)\n", retired)
	}
}

// nextCreated returns when the version after version was created: backups
// taken before then hold data keys wrapped by version.
func nextCreated(st *seal.Status, version int) time.Time {
	for _, v := range st.Versions {
		if v.Version > version {
			return v.CreatedAt
		}
	}
	return time.Now()
}

// signingKeys lists the signing keys of the WAT and of every user pool.
func signingKeys(ctx context.Context, store *sqlstore.DB) ([]signingKeyOut, error) {
	uses, err := signingKeyUses(ctx, store)
	if err != nil {
		return nil, err
	}
	out := []signingKeyOut{}
	for _, use := range uses {
		ks, err := store.ListSigningKeys(ctx, use)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			out = append(out, signingKeyOut{Use: k.Use, KeyID: k.ID, Algorithm: k.Algorithm, Active: k.Active, CreatedAt: k.CreatedAt, RetireAt: k.RetireAt})
		}
	}
	return out, nil
}

// signingKeyUses returns "wat" and every user pool id.
func signingKeyUses(ctx context.Context, store *sqlstore.DB) ([]string, error) {
	pools, err := store.ListUserPools(ctx, behalf.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list user pools: %w", err)
	}
	uses := []string{watKeyUse}
	for _, p := range pools {
		uses = append(uses, p.ID)
	}
	return uses, nil
}

func keysRotate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	signing := c.str("signing") == "true"
	if c.set("provider") {
		if signing || c.set("use") || c.set("to-kms") || c.set("to-local") || c.set("prepare") {
			return fmt.Errorf("%w: --provider rotates one provider's client-assertion key; give it alone (with --retire-after)", errUsage)
		}
		e, err := c.openKeyEnv(ctx, true)
		if err != nil {
			return err
		}
		defer e.close()
		return c.rotateProviderKey(ctx, e, c.str("provider"))
	}
	if signing && (c.set("to-kms") || c.set("to-local") || c.set("prepare")) {
		return fmt.Errorf("%w: --signing rotates the signing keys; --to-kms, --to-local and --prepare are for the key-encryption key", errUsage)
	}
	if !signing && (c.set("use") || c.set("retire-after")) {
		return fmt.Errorf("%w: --use and --retire-after need --signing", errUsage)
	}
	if c.set("to-kms") && c.set("to-local") {
		return fmt.Errorf("%w: give --to-kms or --to-local, not both", errUsage)
	}
	e, err := c.openKeyEnv(ctx, true)
	if err != nil {
		return err
	}
	defer e.close()
	if signing {
		return c.rotateSigning(ctx, e)
	}
	if c.set("prepare") {
		return c.prepareKEK(ctx, e)
	}
	toKMS := c.str("to-kms")
	if toKMS == "" && !c.set("to-local") {
		if err := activeIsLocalFile(ctx, e); err != nil {
			return err
		}
	}
	v, n, err := e.sealer.Rotate(ctx, toKMS)
	if err != nil {
		if code := behalf.ErrorCode(err); code == behalf.EINVALID || code == behalf.ECONFLICT {
			return errors.New(behalf.ErrorMessage(err))
		}
		return err
	}
	auditLocal(ctx, e.store, c.stderr, behalf.AuditAdminRotateKeys, "kek",
		fmt.Sprintf("key-encryption key version %d (%s) is active; rewrapped %d data key(s)", v.Version, keeperKind(v.Keeper), n))
	if !c.structured() {
		fmt.Fprintf(c.stdout, "Key-encryption key version %d (%s) is active; rewrapped the data keys.\n", v.Version, e.ring.Where(v))
	}
	if err := c.printKeys(ctx, e, &n); err != nil {
		return err
	}
	if !c.structured() {
		fmt.Fprintf(c.stdout, "\nRewrapped %d data key(s).\n", n)
		switch v.Keeper {
		case behalf.KEKKeeperFile:
			fmt.Fprintf(c.stdout, "Every node needs %s: copy it (mode 0600) into the data directory of any other node on this database.\n", e.ring.Where(v))
		case behalf.KEKKeeperInline:
			fmt.Fprintf(c.stdout, "Restart servers with the new key as --kms (the old one is only needed as --kms-previous until it is retired).\n")
		default:
			fmt.Fprintf(c.stdout, "Servers open %s from the database record; set it as their --kms for new installs.\n", v.Keeper)
		}
	}
	return nil
}

// activeIsLocalFile refuses a rotation to a local key file, by default,
// when the active version is kept elsewhere.
func activeIsLocalFile(ctx context.Context, e *keyEnv) error {
	st, err := e.ring.Status(ctx)
	if err != nil {
		return err
	}
	for _, v := range st.Versions {
		if v.Version == st.Active && v.Keeper != behalf.KEKKeeperFile {
			return fmt.Errorf("%w: the active key-encryption key is %s; give the new one with --to-kms URL (or --to-local for a local key file)", errUsage, v.Where)
		}
	}
	return nil
}

// prepareKEK creates the next version's local key file without using it.
func (c *cli) prepareKEK(ctx context.Context, e *keyEnv) error {
	path, version, err := e.ring.PrepareLocal(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Created %s for key-encryption key version %d (not used yet).\nCopy it (mode 0600) into the data directory of every node on this database, then run \"behalf keys rotate\".\n", path, version)
	return nil
}

// rotateProviderKey rotates the client-assertion key of a PRIVATE_KEY_JWT
// provider: the new key signs (running servers switch within
// signer.RefreshInterval) and the old one stays published for
// --retire-after, by default as long as assertions it signed may be
// presented plus the time servers take to switch.
func (c *cli) rotateProviderKey(ctx context.Context, e *keyEnv, name string) error {
	p, err := e.store.GetOAuth2Provider(ctx, name)
	if err != nil {
		return err
	}
	if p.ClientAuthMethod != behalf.ClientPrivateKeyJWT {
		return fmt.Errorf("credential provider %q does not use PRIVATE_KEY_JWT: it has no client-assertion key", name)
	}
	grace := signer.RetireGrace(identity.AssertionLifetime)
	if c.set("retire-after") {
		d, _ := time.ParseDuration(c.str("retire-after"))
		if d < 0 {
			return fmt.Errorf("%w: --retire-after must not be negative", errUsage)
		}
		grace = d
	}
	keys := &identity.ClientKeys{Store: e.store, Sealer: e.sealer}
	at := time.Now().Add(grace)
	kid, retired, err := keys.Rotate(ctx, p, grace)
	if err != nil {
		return err
	}
	auditLocal(ctx, e.store, c.stderr, behalf.AuditAdminRotateKeys, p.Name,
		fmt.Sprintf("client-assertion key %s signs; %d older key(s) retire at %s", kid, len(retired), at.UTC().Format(time.RFC3339)))
	r := map[string]any{"use": identity.ClientKeyUse(p.ID), "provider": p.Name, "kid": kid, "retiredKids": retired, "retireAt": at.UTC()}
	if retired == nil {
		r["retiredKids"] = []string{}
	}
	return c.print(map[string]any{"rotated": []any{r}}, func(w io.Writer) {
		fmt.Fprintf(w, "%-28s new key %s; %d older key(s) published until %s\n", p.Name, kid, len(retired), at.Local().Format(time.DateTime))
		fmt.Fprintf(w, "Running servers sign with the new key within %s.\n", signer.RefreshInterval)
	})
}

// rotateSigning rotates the signing keys of the uses asked for (default:
// the WAT key and every user pool that has a key).
func (c *cli) rotateSigning(ctx context.Context, e *keyEnv) error {
	uses := c.list("use")
	explicit := len(uses) > 0
	if !explicit {
		var err error
		if uses, err = signingKeyUses(ctx, e.store); err != nil {
			return err
		}
	}
	type rotated struct {
		Use      string    `json:"use"`
		KeyID    string    `json:"kid"`
		Retired  []string  `json:"retiredKids"`
		RetireAt time.Time `json:"retireAt"`
	}
	var done []rotated
	for _, use := range uses {
		existing, err := e.store.ListSigningKeys(ctx, use)
		if err != nil {
			return err
		}
		if len(existing) == 0 {
			if explicit {
				return fmt.Errorf("no signing keys of use %q (\"wat\" or a user pool id that has signed tokens)", use)
			}
			continue // a pool that has not signed yet creates its key on first use
		}
		alg, lifetime := poolKeyAlg, poolTokenMaxLifetime
		if use == watKeyUse {
			alg, lifetime = watKeyAlg, identity.MaxWATLifetime
		}
		grace := signer.RetireGrace(lifetime)
		if c.set("retire-after") {
			d, _ := time.ParseDuration(c.str("retire-after"))
			if d < 0 {
				return fmt.Errorf("%w: --retire-after must not be negative", errUsage)
			}
			grace = d
		}
		sg, err := signer.New(ctx, e.store, e.sealer, use, alg, nil)
		if err != nil {
			return err
		}
		at := time.Now().Add(grace)
		retired, err := sg.RotateAndRetire(ctx, grace)
		if err != nil {
			return err
		}
		ks, err := e.store.ListSigningKeys(ctx, use)
		if err != nil {
			return err
		}
		r := rotated{Use: use, Retired: retired, RetireAt: at.UTC()}
		for _, k := range ks {
			if k.Active {
				r.KeyID = k.ID
			}
		}
		done = append(done, r)
		auditLocal(ctx, e.store, c.stderr, behalf.AuditAdminRotateKeys, use,
			fmt.Sprintf("signing key %s signs; %d older key(s) retire at %s", r.KeyID, len(retired), r.RetireAt.Format(time.RFC3339)))
	}
	return c.print(map[string]any{"rotated": done}, func(w io.Writer) {
		for _, r := range done {
			fmt.Fprintf(w, "%-28s new key %s; %d older key(s) published until %s\n", r.Use, r.KeyID, len(r.Retired), r.RetireAt.Local().Format(time.DateTime))
		}
		fmt.Fprintf(w, "Running servers sign with the new keys within %s.\n", signer.RefreshInterval)
	})
}

func keysRewrap(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	e, err := c.openKeyEnv(ctx, true)
	if err != nil {
		return err
	}
	defer e.close()
	n, err := e.sealer.RewrapAll(ctx)
	if err != nil {
		return err
	}
	auditLocal(ctx, e.store, c.stderr, behalf.AuditAdminRewrapKeys, "kek", fmt.Sprintf("rewrapped %d data key(s)", n))
	if err := c.printKeys(ctx, e, &n); err != nil {
		return err
	}
	if !c.structured() {
		fmt.Fprintf(c.stdout, "\nRewrapped %d data key(s).\n", n)
	}
	return nil
}

func keysRetire(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "VERSION"); err != nil {
		return err
	}
	version, err := strconv.Atoi(args[0])
	if err != nil || version < 1 {
		return fmt.Errorf("%w: VERSION must be a key-encryption key version number, as behalf keys status lists them", errUsage)
	}
	e, err := c.openKeyEnv(ctx, false)
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.ring.Retire(ctx, version); err != nil {
		if code := behalf.ErrorCode(err); code == behalf.ECONFLICT || code == behalf.ENOTFOUND {
			return fmt.Errorf("retire key-encryption key version %d: %s", version, behalf.ErrorMessage(err))
		}
		return fmt.Errorf("retire key-encryption key version %d: %w", version, err)
	}
	auditLocal(ctx, e.store, c.stderr, behalf.AuditAdminRetireKey, "kek", fmt.Sprintf("retired key-encryption key version %d", version))
	st, err := e.ring.Status(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(st.Versions, func(v seal.VersionStatus) bool { return v.Version == version })
	return c.print(st.Versions[i], func(w io.Writer) {
		fmt.Fprintf(w, "Retired key-encryption key version %d. No server needs %s any more; keep it only to restore backups taken before %s, then destroy it.\n",
			version, st.Versions[i].Where, nextCreated(st, version).Local().Format(time.DateTime))
	})
}
