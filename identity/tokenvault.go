package identity

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/behalf-dev/behalf"
)

// Audit event kinds of the token-vault key operations.
const (
	// AuditVaultKeySet: SetTokenVaultCMK changed the vault's key.
	AuditVaultKeySet = "vault.key_set"
	// AuditVaultReset: ResetTokenVaultKeyMaterial deleted every token.
	AuditVaultReset = "vault.reset"
)

// GetTokenVault returns the token vault; only the default vault exists.
// Its kmsConfiguration is the active key-encryption key as the database
// records it now (also after `behalf keys rotate`).
func (s *Service) GetTokenVault(ctx context.Context, id string) (*behalf.TokenVault, error) {
	v, err := s.tokenVault(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.KEKs == nil {
		return v, nil
	}
	a, err := s.KEKs.ActiveKEK(ctx)
	if err != nil {
		return nil, err
	}
	v.KeyType, v.KMSKeyARN = kmsConfiguration(a.Keeper)
	if a.CreatedAt.After(v.UpdatedAt) {
		v.UpdatedAt = a.CreatedAt
	}
	return v, nil
}

// tokenVault validates id ("" is the default vault) and reads the vault.
func (s *Service) tokenVault(ctx context.Context, id string) (*behalf.TokenVault, error) {
	if id == "" {
		id = behalf.DefaultTokenVaultID
	}
	if err := validateName("tokenVaultId", id, providerNameChars, 1, 64); err != nil {
		return nil, err
	}
	return s.Store.GetTokenVault(ctx, id)
}

// EnsureTokenVault records the default vault at first start.
func (s *Service) EnsureTokenVault(ctx context.Context) error {
	_, err := s.Store.GetTokenVault(ctx, behalf.DefaultTokenVaultID)
	if behalf.ErrorCode(err) != behalf.ENOTFOUND {
		return err
	}
	return s.Store.PutTokenVault(ctx, &behalf.TokenVault{
		ID: behalf.DefaultTokenVaultID, KeyType: behalf.KeyServiceManaged, UpdatedAt: s.now(),
	})
}

// kmsConfiguration describes where a key-encryption key version is kept
// (behalf.KEKVersion.Keeper) as the vault's kmsConfiguration: a local key
// file is Behalf's own key; anything else the operator's, named by its AWS
// KMS key ARN or its URL (a base64key:// key only by its scheme: the URL
// is the key).
func kmsConfiguration(keeper string) (keyType, kmsKeyARN string) {
	switch keeper {
	case behalf.KEKKeeperFile:
		return behalf.KeyServiceManaged, ""
	case behalf.KEKKeeperInline:
		return behalf.KeyCustomerManaged, behalf.KEKKeeperInline + "://"
	}
	if u, err := url.Parse(keeper); err == nil && u.Scheme == "awskms" {
		if id := strings.TrimPrefix(u.Host+u.Path, "/"); strings.HasPrefix(id, "arn:") {
			return behalf.KeyCustomerManaged, id
		}
	}
	return behalf.KeyCustomerManaged, keeper
}

// kmsKeyARNPattern is an AWS KMS key or alias ARN; group 1 is its region.
var kmsKeyARNPattern = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:kms:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:(?:key/[A-Za-z0-9-]{1,128}|alias/[A-Za-z0-9/_-]{1,250})$`)

// openableSchemes are the gocloud.dev/secrets schemes this build opens.
var openableSchemes = []string{"awskms", behalf.KEKKeeperInline}

// kmsKeyURL turns SetTokenVaultCMK's kmsKeyArn into the URL of a key
// Behalf can open: an AWS KMS key ARN becomes awskms:///ARN?region=REGION
// (gocloud.dev's form for ARNs); a gocloud.dev/secrets URL of a scheme
// this build opens is taken as it is.
func kmsKeyURL(kmsKeyARN string) (string, error) {
	const field = "kmsConfiguration.kmsKeyArn"
	switch {
	case kmsKeyARN == "":
		return "", behalf.Invalid(field, "kmsKeyArn is required for CustomerManagedKey.")
	case len(kmsKeyARN) > 2048:
		return "", behalf.Invalid(field, "kmsKeyArn must be at most 2048 characters long.")
	case strings.HasPrefix(kmsKeyARN, "arn:"):
		m := kmsKeyARNPattern.FindStringSubmatch(kmsKeyARN)
		if m == nil {
			return "", behalf.Invalid(field, "kmsKeyArn must be an AWS KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or alias/NAME).")
		}
		return "awskms:///" + kmsKeyARN + "?region=" + m[1], nil
	}
	scheme, _, ok := strings.Cut(kmsKeyARN, "://")
	if !ok {
		return "", behalf.Invalid(field, "kmsKeyArn must be an AWS KMS key ARN or a gocloud.dev/secrets URL (awskms://…, base64key://…).")
	}
	for _, s := range openableSchemes {
		if scheme == s {
			return kmsKeyARN, nil
		}
	}
	return "", behalf.Invalid(field, "Behalf opens awskms:// and base64key:// keys; %q is not one of them.", truncate(scheme, 32)+"://")
}

// SetTokenVaultCMK makes the vault's key Behalf's own (ServiceManagedKey:
// a new local key file, as `behalf keys rotate --to-local`) or the
// operator's (CustomerManagedKey: the AWS KMS key ARN or gocloud.dev/secrets
// URL kmsKeyARN names, as `behalf keys rotate --to-kms`), rotating the
// key-encryption key online and rewrapping every data key. A vault already
// on the key asked for is left as it is. A base64key:// key must be one the
// server was started with (--kms or --kms-previous): the database never
// records it, so a key only the caller knew would be lost at the next
// restart. Audited.
func (s *Service) SetTokenVaultCMK(ctx context.Context, id, keyType, kmsKeyARN string) (*behalf.TokenVault, error) {
	v, err := s.tokenVault(ctx, id)
	if err != nil {
		return nil, err
	}
	var keeperURL string
	switch keyType {
	case behalf.KeyServiceManaged:
		if kmsKeyARN != "" {
			return nil, behalf.Invalid("kmsConfiguration.kmsKeyArn", "kmsKeyArn is only given with keyType CustomerManagedKey.")
		}
	case behalf.KeyCustomerManaged:
		if keeperURL, err = kmsKeyURL(kmsKeyARN); err != nil {
			return nil, err
		}
		if strings.HasPrefix(keeperURL, behalf.KEKKeeperInline+"://") && (s.KEKs == nil || !s.KEKs.KEKGiven(keeperURL)) {
			return nil, behalf.Invalid("kmsConfiguration.kmsKeyArn",
				"A base64key:// key must be one this server was started with (--kms or --kms-previous): the database never records it, so a key given only here would be lost at the next restart.")
		}
	case "":
		return nil, behalf.Invalid("kmsConfiguration.keyType", "keyType is required: CustomerManagedKey or ServiceManagedKey.")
	default:
		return nil, behalf.Invalid("kmsConfiguration.keyType", "keyType must be CustomerManagedKey or ServiceManagedKey.")
	}
	if s.KEKs == nil {
		return nil, behalf.Errorf(behalf.ENOTIMPLEMENTED, "This server cannot change its key-encryption key.")
	}
	active, err := s.KEKs.ActiveKEK(ctx)
	if err != nil {
		return nil, err
	}
	if (keyType == behalf.KeyServiceManaged && active.Keeper == behalf.KEKKeeperFile) || (keeperURL != "" && active.Keeper == keeperURL) {
		return s.GetTokenVault(ctx, v.ID) // already on that key
	}
	kv, err := s.KEKs.RotateKEK(ctx, keeperURL)
	if kv == nil {
		if behalf.ErrorCode(err) == behalf.EINVALID {
			return nil, behalf.Invalid("kmsConfiguration.kmsKeyArn", "%s", behalf.ErrorMessage(err))
		}
		return nil, err
	}
	// The new version is active (even if rewrapping failed: err says so).
	v.KeyType, v.KMSKeyARN, v.UpdatedAt = keyType, kmsKeyARN, s.now()
	if keyType == behalf.KeyCustomerManaged && strings.HasPrefix(keeperURL, behalf.KEKKeeperInline+"://") {
		v.KMSKeyARN = behalf.KEKKeeperInline + "://" // never the key
	}
	if perr := s.Store.PutTokenVault(ctx, v); perr != nil && err == nil {
		err = perr
	}
	_, where := kmsConfiguration(kv.Keeper)
	if where == "" {
		where = "a new local key file"
	}
	s.audit(ctx, AuditVaultKeySet, fmt.Sprintf("key-encryption key version %d (%s, %s)", kv.Version, keyType, where))
	if err != nil {
		return nil, err
	}
	return s.GetTokenVault(ctx, v.ID)
}

// ResetTokenVaultKeyMaterial deletes every token the vault holds, in one
// transaction: every grant (users' tokens and on-behalf-of results) and
// the tokens of authorization sessions waiting for binding (they fail);
// users must consent again. Credential providers are kept. The vault then
// uses a key of Behalf's own: if the active key-encryption key is the
// operator's, it rotates to a new local key file. Unlike AWS, Behalf does
// not require the customer managed key to be gone first (a server whose
// key is gone does not start). Audited; cannot be undone.
func (s *Service) ResetTokenVaultKeyMaterial(ctx context.Context, id string) (*behalf.TokenVault, error) {
	if id == "" {
		return nil, behalf.Invalid("tokenVaultId", "tokenVaultId is required; the default token vault is \"default\".")
	}
	v, err := s.tokenVault(ctx, id)
	if err != nil {
		return nil, err
	}
	v.KeyType, v.KMSKeyARN, v.UpdatedAt = behalf.KeyServiceManaged, "", s.now()
	grants, sessions, err := s.Store.ResetTokenVault(ctx, v)
	if err != nil {
		return nil, err
	}
	if s.OnVaultReset != nil {
		s.OnVaultReset()
	}
	detail := fmt.Sprintf("deleted %d grant(s); failed %d session(s) holding or fetching a token", grants, sessions)
	if s.KEKs != nil {
		active, aerr := s.KEKs.ActiveKEK(ctx)
		if aerr == nil && active.Keeper != behalf.KEKKeeperFile {
			var kv *behalf.KEKVersion
			kv, aerr = s.KEKs.RotateKEK(ctx, "")
			if kv != nil {
				detail += fmt.Sprintf("; key-encryption key version %d (a new local key file)", kv.Version)
			}
		}
		if aerr != nil {
			err = fmt.Errorf("the tokens were deleted, but the key-encryption key could not be changed to a local key: %w", aerr)
			detail += "; the key-encryption key could not be changed"
		}
	}
	s.audit(ctx, AuditVaultReset, detail)
	if err != nil {
		return nil, err
	}
	return s.GetTokenVault(ctx, v.ID)
}

// audit appends a token-vault event naming the caller's access key; a
// failure is logged, never returned.
func (s *Service) audit(ctx context.Context, kind, detail string) {
	e := &behalf.AuditEvent{Time: s.now(), Kind: kind, Detail: detail}
	if p, ok := behalf.PrincipalFrom(ctx); ok {
		e.Actor = p.AccessKeyID
	}
	if err := s.Store.AppendAudit(ctx, e); err != nil && s.Log != nil {
		s.Log.ErrorContext(ctx, "append audit event", "kind", kind, "err", err)
	}
}
