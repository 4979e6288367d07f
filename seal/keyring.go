package seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"
)

// keyringReloadInterval is the least time between two reloads of the
// recorded versions that a request for an unknown version triggers.
const keyringReloadInterval = time.Second

// KeyringConfig says where a Keyring finds its key-encryption keys.
type KeyringConfig struct {
	// DataDir holds the local key files: kek (version 1) and kek.N
	// (version N).
	DataDir string
	// KMS is the key-encryption key a database that records no version yet
	// starts with (behalf serve --kms): a gocloud.dev/secrets URL, or "" for
	// the local key file DATA-DIR/kek. Once versions are recorded it is
	// only one of the keys offered for them.
	KMS string
	// Previous are more keeper URLs (--kms-previous): the base64key:// keys
	// of earlier versions, which are never recorded, or KMS URLs to use
	// instead of the recorded ones.
	Previous []string
	// NoCreate forbids creating a local key file and recording the first
	// version: the Keyring only reads (behalf keys status).
	NoCreate bool
	// Now stamps new versions; time.Now if nil.
	Now func() time.Time
}

// Keyring holds every key-encryption key version a database records that
// is not retired, so a Sealer on it opens data keys wrapped by any of them
// and wraps new data keys with the active one. It is safe for concurrent
// use.
//
// The versions and where each is kept are recorded in the database
// (behalf.KEKVersion); the keys themselves never are. A version kept in a
// local file is DATA-DIR/kek (version 1) or DATA-DIR/kek.N; a cloud KMS
// version is opened from its recorded URL; a base64key:// version must be
// given (KeyringConfig.KMS or Previous). Each version records a check value
// wrapped by it, so a wrong key is refused instead of being used.
type Keyring struct {
	store behalf.DataKeyStore
	cfg   KeyringConfig
	now   func() time.Time

	loadMu sync.Mutex                 // serialises loads, rotations and retirements
	opened map[string]*secrets.Keeper // every keeper opened, by source; guarded by loadMu

	mu       sync.RWMutex
	versions []*behalf.KEKVersion
	keepers  map[int]*secrets.Keeper // checked keepers of non-retired versions
	problems map[int]error           // why a non-retired version has no keeper
	active   int                     // 0 if none is recorded
	lastLoad time.Time
}

// NewKeyring returns a Keyring on store; Load reads the versions.
func NewKeyring(store behalf.DataKeyStore, cfg KeyringConfig) *Keyring {
	r := &Keyring{store: store, cfg: cfg, now: cfg.Now, opened: map[string]*secrets.Keeper{}, keepers: map[int]*secrets.Keeper{}}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// OpenKeyring returns a Keyring on store with its versions loaded, ready
// for a server: the active version and every version a data key names
// must be available. A database that records no version yet records
// version 1, the key KeyringConfig.KMS names (creating the local key file
// if the database has no data keys).
func OpenKeyring(ctx context.Context, store behalf.DataKeyStore, cfg KeyringConfig) (*Keyring, error) {
	r := NewKeyring(store, cfg)
	if err := r.Load(ctx); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.Check(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Load reads the recorded versions and opens the keys of those not
// retired. A version whose key is missing or wrong is noted (Status), not
// an error; only store failures, and a first version that cannot be
// recorded, are.
func (r *Keyring) Load(ctx context.Context) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	return r.load(ctx)
}

// Check reports whether the Keyring can serve: the active version's key
// and the key of every version a data key names are available.
func (r *Keyring) Check(ctx context.Context) error {
	dks, err := r.store.ListDataKeys(ctx)
	if err != nil {
		return fmt.Errorf("key-encryption keys: %w", err)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.active == 0 && !r.cfg.NoCreate {
		return errors.New("key-encryption keys: the database records no active version")
	}
	need := []int{}
	if r.active != 0 {
		need = append(need, r.active)
	}
	for _, dk := range dks {
		if !slices.Contains(need, dk.KEKVersion) {
			need = append(need, dk.KEKVersion)
		}
	}
	var errs []error
	for _, v := range need {
		if r.keepers[v] != nil {
			continue
		}
		if p := r.problems[v]; p != nil {
			errs = append(errs, p)
		} else {
			errs = append(errs, fmt.Errorf("key-encryption key version %d wraps data keys but is not recorded (or is retired)", v))
		}
	}
	return errors.Join(errs...)
}

// Reload rereads the recorded versions, picking up rotations and
// retirements made by other processes.
func (r *Keyring) Reload(ctx context.Context) error { return r.Load(ctx) }

// Active returns the version that wraps new data keys and its keeper.
func (r *Keyring) Active() (int, *secrets.Keeper, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.active == 0 {
		return 0, nil, errors.New("no active key-encryption key version is recorded")
	}
	if k := r.keepers[r.active]; k != nil {
		return r.active, k, nil
	}
	return r.active, nil, r.problem(r.active)
}

// Keeper returns the keeper of version, rereading the recorded versions
// first (at most once a second) if it is not loaded.
func (r *Keyring) Keeper(ctx context.Context, version int) (*secrets.Keeper, error) {
	if k := r.keeper(version); k != nil {
		return k, nil
	}
	r.loadMu.Lock()
	if k := r.keeper(version); k != nil {
		r.loadMu.Unlock()
		return k, nil
	}
	r.mu.RLock()
	recent := r.now().Sub(r.lastLoad) < keyringReloadInterval
	r.mu.RUnlock()
	var err error
	if !recent {
		err = r.load(ctx)
	}
	r.loadMu.Unlock()
	if err != nil {
		return nil, err
	}
	if k := r.keeper(version); k != nil {
		return k, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return nil, r.problem(version)
}

func (r *Keyring) keeper(version int) *secrets.Keeper {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keepers[version]
}

// problem says why version has no keeper. Callers hold mu.
func (r *Keyring) problem(version int) error {
	if p := r.problems[version]; p != nil {
		return p
	}
	for _, v := range r.versions {
		if v.Version == version && v.State == behalf.KEKRetired {
			return fmt.Errorf("key-encryption key version %d is retired", version)
		}
	}
	return fmt.Errorf("key-encryption key version %d is not recorded in the database", version)
}

// wrap encrypts a new data key with the active version, after rereading
// the versions so that a rotation made elsewhere is followed.
func (r *Keyring) wrap(ctx context.Context, raw []byte) ([]byte, int, error) {
	if err := r.Reload(ctx); err != nil {
		return nil, 0, err
	}
	v, k, err := r.Active()
	if err != nil {
		return nil, 0, err
	}
	wrapped, err := k.Encrypt(ctx, raw)
	if err != nil {
		return nil, 0, fmt.Errorf("wrap with key-encryption key version %d: %w", v, err)
	}
	return wrapped, v, nil
}

// unwrap decrypts a data key wrapped by version.
func (r *Keyring) unwrap(ctx context.Context, version int, wrapped []byte) ([]byte, error) {
	k, err := r.Keeper(ctx, version)
	if err != nil {
		return nil, err
	}
	raw, err := k.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key version %d: %w", version, err)
	}
	return raw, nil
}

// Close closes every keeper the Keyring opened.
func (r *Keyring) Close() error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	var errs []error
	for src, k := range r.opened {
		if err := k.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(r.opened, src)
	}
	r.mu.Lock()
	r.keepers = map[int]*secrets.Keeper{}
	r.mu.Unlock()
	return errors.Join(errs...)
}

// load reads the versions, recording the first one if there is none, and
// opens and checks the keys of the non-retired versions not yet open.
// Callers hold loadMu.
func (r *Keyring) load(ctx context.Context) error {
	vs, err := r.store.ListKEKVersions(ctx)
	if err != nil {
		return fmt.Errorf("key-encryption keys: %w", err)
	}
	if len(vs) == 0 && !r.cfg.NoCreate {
		if err := r.recordFirst(ctx); err != nil {
			return err
		}
		if vs, err = r.store.ListKEKVersions(ctx); err != nil {
			return fmt.Errorf("key-encryption keys: %w", err)
		}
	}
	keepers := map[int]*secrets.Keeper{}
	problems := map[int]error{}
	active := 0
	for _, v := range vs {
		if v.State == behalf.KEKActive {
			active = v.Version
		}
		if v.State == behalf.KEKRetired {
			continue
		}
		if k := r.keeper(v.Version); k != nil {
			keepers[v.Version] = k
			continue
		}
		k, err := r.openVersion(ctx, v)
		if err != nil {
			problems[v.Version] = err
			continue
		}
		keepers[v.Version] = k
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.versions, r.keepers, r.problems, r.active = vs, keepers, problems, active
	r.lastLoad = r.now()
	return nil
}

// checkPlaintext is what a version's check value wraps.
func checkPlaintext(version int) []byte {
	return []byte("behalf key-encryption key version " + strconv.Itoa(version))
}

// matches reports whether k opens v's check value.
func matches(ctx context.Context, k *secrets.Keeper, v *behalf.KEKVersion) bool {
	pt, err := k.Decrypt(ctx, v.Check)
	return err == nil && bytes.Equal(pt, checkPlaintext(v.Version))
}

// Where returns where version v is kept, for messages: a file path, a KMS
// URL, or "base64key:// (given with --kms)". Never a key.
func (r *Keyring) Where(v *behalf.KEKVersion) string {
	switch v.Keeper {
	case behalf.KEKKeeperFile:
		return r.kekPath(v.Version)
	case behalf.KEKKeeperInline:
		return inlineScheme + ":// (given with --kms or --kms-previous)"
	}
	return v.Keeper
}

// kekPath is the local key file of version.
func (r *Keyring) kekPath(version int) string {
	name := KEKFile
	if version != 1 {
		name += "." + strconv.Itoa(version)
	}
	return filepath.Join(r.cfg.DataDir, name)
}

// offered returns the keeper URLs given in the configuration.
func (r *Keyring) offered() []string {
	var urls []string
	for _, u := range append([]string{r.cfg.KMS}, r.cfg.Previous...) {
		if u != "" && !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	return urls
}

// openURL opens a keeper URL once; later calls return the same keeper.
// Callers hold loadMu.
func (r *Keyring) openURL(ctx context.Context, u string) (*secrets.Keeper, error) {
	if k := r.opened[u]; k != nil {
		return k, nil
	}
	k, err := OpenKeeper(ctx, u, "")
	if err != nil {
		return nil, err
	}
	r.opened[u] = k
	return k, nil
}

// openFile opens the local key file at path, creating it first if create
// is set. Callers hold loadMu.
func (r *Keyring) openFile(path string, create bool) (*secrets.Keeper, error) {
	src := "file:" + path
	if k := r.opened[src]; k != nil {
		return k, nil
	}
	var key [kekSize]byte
	var err error
	if create {
		key, err = loadOrCreateKEK(path)
	} else {
		key, err = readKEK(path)
	}
	if err != nil {
		return nil, err
	}
	k := localsecrets.NewKeeper(key)
	clear(key[:])
	r.opened[src] = k
	return k, nil
}

// openVersion finds and checks the key of version v. Callers hold loadMu.
func (r *Keyring) openVersion(ctx context.Context, v *behalf.KEKVersion) (*secrets.Keeper, error) {
	where := r.Where(v)
	switch v.Keeper {
	case behalf.KEKKeeperFile:
		k, err := r.openFile(r.kekPath(v.Version), false)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("key-encryption key version %d: %s is missing (copy it from the node where it was created; every node needs the same key files)", v.Version, where)
		}
		if err != nil {
			return nil, fmt.Errorf("key-encryption key version %d: %w", v.Version, err)
		}
		if !matches(ctx, k, v) {
			return nil, fmt.Errorf("key-encryption key version %d: %s is not the key this database recorded for that version (every node needs the same key files)", v.Version, where)
		}
		return k, nil
	case behalf.KEKKeeperInline:
		for _, u := range r.offered() {
			if !isInlineKeyURL(u) {
				continue
			}
			k, err := r.openURL(ctx, u)
			if err == nil && matches(ctx, k, v) {
				return k, nil
			}
		}
		return nil, fmt.Errorf("key-encryption key version %d is a base64key:// key that was not given: pass it with --kms or --kms-previous", v.Version)
	}
	// A KMS URL: the recorded one, else an offered one that opens the check.
	var firstErr error
	for _, u := range append([]string{v.Keeper}, r.offered()...) {
		if isInlineKeyURL(u) || (u != v.Keeper && !sameScheme(u, v.Keeper)) {
			continue
		}
		k, err := r.openURL(ctx, u)
		if err == nil && matches(ctx, k, v) {
			return k, nil
		}
		if firstErr == nil {
			firstErr = err
			if err == nil {
				firstErr = errors.New("the key does not open the version's check value")
			}
		}
	}
	return nil, fmt.Errorf("key-encryption key version %d (%s): %w", v.Version, where, firstErr)
}

// sameScheme reports whether two URLs have the same scheme.
func sameScheme(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme
}

// recordFirst records version 1 for a database that records none: the key
// KeyringConfig.KMS names, which must open the data keys already stored.
// Callers hold loadMu.
func (r *Keyring) recordFirst(ctx context.Context) error {
	dks, err := r.store.ListDataKeys(ctx)
	if err != nil {
		return fmt.Errorf("key-encryption keys: %w", err)
	}
	for _, dk := range dks {
		if dk.KEKVersion != 1 {
			return fmt.Errorf("key-encryption keys: data key %q names key-encryption key version %d, but the database records no versions", dk.ID, dk.KEKVersion)
		}
	}
	var (
		k      *secrets.Keeper
		keeper string
	)
	switch u := r.cfg.KMS; {
	case u == "":
		keeper = behalf.KEKKeeperFile
		path := r.kekPath(1)
		k, err = r.openFile(path, len(dks) == 0)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("open key-encryption key: %s is missing, and the database holds %d data key(s) it wrapped", path, len(dks))
		}
		if err != nil {
			return fmt.Errorf("open key-encryption key: %w", err)
		}
	case isInlineKeyURL(u):
		keeper = behalf.KEKKeeperInline
		if k, err = r.openURL(ctx, u); err != nil {
			return err // OpenKeeper's error names the key-encryption key
		}
	default:
		if err := recordableURL(u); err != nil {
			return err
		}
		keeper = u
		if k, err = r.openURL(ctx, u); err != nil {
			return err
		}
	}
	if len(dks) > 0 {
		raw, err := k.Decrypt(ctx, dks[0].Wrapped)
		if err != nil {
			return fmt.Errorf("open key-encryption key: it does not open the data keys this database holds: %w", err)
		}
		clear(raw)
	}
	v, err := newVersion(ctx, k, 1, keeper, r.now())
	if err != nil {
		return err
	}
	err = r.store.CreateKEKVersion(ctx, v)
	if behalf.ErrorCode(err) == behalf.ECONFLICT {
		return nil // another process recorded it first
	}
	if err != nil {
		return fmt.Errorf("record key-encryption key version 1: %w", err)
	}
	return nil
}

// recordableURL refuses a KMS URL that carries credentials: it is stored
// in the database.
func recordableURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("open key-encryption key: malformed URL")
	}
	if p.User != nil {
		return fmt.Errorf("open key-encryption key: the %s:// URL holds credentials; give them in the environment, the URL is recorded in the database", p.Scheme)
	}
	return nil
}

// newVersion returns an active version record for k, with its check value.
func newVersion(ctx context.Context, k *secrets.Keeper, version int, keeper string, now time.Time) (*behalf.KEKVersion, error) {
	check, err := k.Encrypt(ctx, checkPlaintext(version))
	if err != nil {
		return nil, fmt.Errorf("key-encryption key version %d: wrap check value: %w", version, err)
	}
	v := &behalf.KEKVersion{Version: version, Keeper: keeper, Check: check, State: behalf.KEKActive, CreatedAt: now.UTC()}
	if !matches(ctx, k, v) {
		return nil, fmt.Errorf("key-encryption key version %d: the key does not open what it wrapped", version)
	}
	return v, nil
}

// Rotate records a new active version, the key in toKMS (a
// gocloud.dev/secrets URL) or, if toKMS is empty, a new local key file
// DATA-DIR/kek.N (an existing file of that name, placed there beforehand
// so that every node has it, is used as it is). Data keys are not
// rewrapped: call Sealer.RewrapAll next, or use Sealer.RotateKEK, which
// does both. It refuses a key that is already a non-retired version, and
// one it cannot open or use, with an EINVALID behalf.Error, recording
// nothing.
func (r *Keyring) Rotate(ctx context.Context, toKMS string) (*behalf.KEKVersion, error) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	// Every data key must be openable now, or it could not be rewrapped.
	if err := r.Check(ctx); err != nil {
		return nil, fmt.Errorf("cannot rotate: %w", err)
	}
	r.mu.RLock()
	vs := r.versions
	r.mu.RUnlock()
	next := 1
	for _, v := range vs {
		next = max(next, v.Version+1)
	}
	var (
		k      *secrets.Keeper
		keeper string
		err    error
	)
	switch {
	case toKMS == "":
		keeper = behalf.KEKKeeperFile
		k, err = r.openFile(r.kekPath(next), true)
	case isInlineKeyURL(toKMS):
		keeper = behalf.KEKKeeperInline
		k, err = r.openURL(ctx, toKMS)
	default:
		if err := recordableURL(toKMS); err != nil {
			return nil, unusableKey(err)
		}
		for _, v := range vs {
			if v.Keeper == toKMS && v.State != behalf.KEKRetired {
				return nil, unusableKey(fmt.Errorf("%s is already key-encryption key version %d", toKMS, v.Version))
			}
		}
		keeper = toKMS
		k, err = r.openURL(ctx, toKMS)
	}
	if err != nil {
		return nil, unusableKey(fmt.Errorf("new key-encryption key: %w", err))
	}
	if keeper != toKMS { // a local key: refuse one that is already in use
		for _, v := range vs {
			if v.State != behalf.KEKRetired && (v.Keeper == behalf.KEKKeeperFile || v.Keeper == behalf.KEKKeeperInline) && matches(ctx, k, v) {
				return nil, unusableKey(fmt.Errorf("new key-encryption key: that key is already version %d", v.Version))
			}
		}
	}
	v, err := newVersion(ctx, k, next, keeper, r.now())
	if err != nil {
		return nil, unusableKey(err)
	}
	if err := r.store.CreateKEKVersion(ctx, v); err != nil {
		return nil, fmt.Errorf("record key-encryption key version %d: %w", next, err)
	}
	r.mu.Lock()
	r.keepers[next] = k
	r.mu.Unlock()
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// PrepareLocal creates the local key file of the next version, without
// recording or using it, so that it can be copied to every node before
// Rotate uses it. An existing file is left as it is. It returns the path
// and the version.
func (r *Keyring) PrepareLocal(ctx context.Context) (string, int, error) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if err := r.load(ctx); err != nil {
		return "", 0, err
	}
	r.mu.RLock()
	next := 1
	for _, v := range r.versions {
		next = max(next, v.Version+1)
	}
	r.mu.RUnlock()
	path := r.kekPath(next)
	if _, err := loadOrCreateKEK(path); err != nil {
		return "", 0, fmt.Errorf("create key-encryption key file: %w", err)
	}
	return path, next, nil
}

// Retire marks version retired: refused while it is active or wraps a
// data key. Its key is not deleted; it is no longer needed, except to
// restore backups taken before the rotation.
func (r *Keyring) Retire(ctx context.Context, version int) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if err := r.store.RetireKEKVersion(ctx, version, r.now().UTC()); err != nil {
		return err
	}
	return r.load(ctx)
}

// VersionStatus is one version in Status.
type VersionStatus struct {
	Version   int       `json:"version"`
	State     string    `json:"state"`
	Keeper    string    `json:"keeper"` // behalf.KEKVersion.Keeper: "file", "base64key" or a KMS URL
	Where     string    `json:"where"`
	DataKeys  int       `json:"dataKeys"`
	Available bool      `json:"available"`         // this process has the key
	Problem   string    `json:"problem,omitempty"` // why not
	CreatedAt time.Time `json:"createdAt"`
	RetiredAt time.Time `json:"retiredAt,omitzero"`
}

// Status is the state of a database's key-encryption keys.
type Status struct {
	Active   int             `json:"activeVersion"`
	DataKeys int             `json:"dataKeys"`
	Versions []VersionStatus `json:"versions"`
	// Unrecorded counts data keys naming a version the database does not
	// record (none, unless it was never opened by this release).
	Unrecorded int `json:"unrecordedDataKeys,omitempty"`
}

// Rewrapped reports whether every data key is wrapped by the active
// version.
func (s *Status) Rewrapped() bool {
	for _, v := range s.Versions {
		if v.Version != s.Active && v.DataKeys > 0 {
			return false
		}
	}
	return s.Unrecorded == 0
}

// Status reloads the versions and counts the data keys each wraps.
func (r *Keyring) Status(ctx context.Context) (*Status, error) {
	if err := r.Load(ctx); err != nil {
		return nil, err
	}
	dks, err := r.store.ListDataKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("key-encryption keys: %w", err)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	st := &Status{Active: r.active, DataKeys: len(dks)}
	counts := map[int]int{}
	for _, dk := range dks {
		counts[dk.KEKVersion]++
	}
	for _, v := range r.versions {
		vs := VersionStatus{
			Version: v.Version, State: v.State, Keeper: v.Keeper, Where: r.Where(v), DataKeys: counts[v.Version],
			Available: r.keepers[v.Version] != nil, CreatedAt: v.CreatedAt, RetiredAt: v.RetiredAt,
		}
		if p := r.problems[v.Version]; p != nil {
			vs.Problem = p.Error()
		}
		delete(counts, v.Version)
		st.Versions = append(st.Versions, vs)
	}
	for _, n := range counts {
		st.Unrecorded += n
	}
	return st, nil
}

// unusableKey marks err, about the key a rotation was given, as the
// caller's to fix: an EINVALID behalf.Error with err's text (which never
// holds a base64key:// key: see OpenKeeper).
func unusableKey(err error) error {
	return &behalf.Error{Code: behalf.EINVALID, Message: "The key-encryption key cannot be used: " + err.Error()}
}

// Given reports whether keeperURL is one of the keys this Keyring was
// configured with (KeyringConfig.KMS or Previous).
func (r *Keyring) Given(keeperURL string) bool {
	return keeperURL != "" && slices.Contains(r.offered(), keeperURL)
}

// ActiveVersion rereads the recorded versions and returns the active one.
func (r *Keyring) ActiveVersion(ctx context.Context) (*behalf.KEKVersion, error) {
	if err := r.Load(ctx); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.versions {
		if v.Version == r.active {
			c := *v
			return &c, nil
		}
	}
	return nil, errors.New("no active key-encryption key version is recorded")
}
