package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// Ensure the token vault's key operations work through the official
// client on both backends: SetTokenVaultCMK rotates the key-encryption key
// online to a key Behalf can use (a base64key:// key the server was given)
// and back to a local key, the vault's tokens still open, GetTokenVault
// tells the truth and never the key; bad input is a ValidationException
// naming the field with nothing changed; ResetTokenVaultKeyMaterial
// deletes every token (the user must consent again); both are audited and
// refused to keys scoped to a workload.
func TestTokenVaultKeyOperations(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			given := "base64key://" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
			other := "base64key://" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
			google := fakeprovider.New(t, fakeprovider.Options{})
			db := dsn(t)
			s := startMain(t, serverOptions{database: db, args: []string{"--allow-private-endpoints", "--kms-previous", given}})
			f := newFlowFixture(t, s, google)
			ctx, c := context.Background(), s.client(t)
			token := f.consent(f.wat("alice"))

			vault := func() *ctl.GetTokenVaultOutput {
				t.Helper()
				v, err := c.GetTokenVault(ctx, &ctl.GetTokenVaultInput{})
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			before := vault()
			if before.KmsConfiguration.KeyType != types.KeyTypeServiceManagedKey || before.KmsConfiguration.KmsKeyArn != nil {
				t.Fatalf("a new server's vault: %+v", before.KmsConfiguration)
			}

			// Bad input: ValidationException naming the field; nothing changes.
			for _, tc := range []struct {
				name, keyType, arn, field string
			}{
				{"UnknownKeyType", "AwsOwnedKey", "", "kmsConfiguration.keyType"},
				{"NoARN", "CustomerManagedKey", "", "kmsConfiguration.kmsKeyArn"},
				{"BadARN", "CustomerManagedKey", "arn:aws:kms:us-east-1:12:key/x", "kmsConfiguration.kmsKeyArn"},
				{"NotAKey", "CustomerManagedKey", "my-key", "kmsConfiguration.kmsKeyArn"},
				{"SchemeNotLinked", "CustomerManagedKey", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k", "kmsConfiguration.kmsKeyArn"},
				{"InlineKeyNotGiven", "CustomerManagedKey", other, "kmsConfiguration.kmsKeyArn"},
				{"ARNWithServiceKey", "ServiceManagedKey", "arn:aws:kms:us-east-1:123456789012:key/abc", "kmsConfiguration.kmsKeyArn"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					in := &ctl.SetTokenVaultCMKInput{KmsConfiguration: &types.KmsConfiguration{KeyType: types.KeyType(tc.keyType)}}
					if tc.arn != "" {
						in.KmsConfiguration.KmsKeyArn = aws.String(tc.arn)
					}
					_, err := c.SetTokenVaultCMK(ctx, in)
					var invalid *types.ValidationException
					if !errors.As(err, &invalid) || len(invalid.FieldList) != 1 || aws.ToString(invalid.FieldList[0].Name) != tc.field {
						t.Fatalf("SetTokenVaultCMK: %v, want ValidationException naming %s", err, tc.field)
					}
					if after := vault(); after.KmsConfiguration.KeyType != types.KeyTypeServiceManagedKey || !after.LastModifiedDate.Equal(*before.LastModifiedDate) {
						t.Fatalf("a refused SetTokenVaultCMK changed the vault: %+v", after)
					}
				})
			}
			if strings.Contains(s.Captured.String(), strings.TrimPrefix(other, "base64key://")) {
				t.Fatal("a response echoed a base64key:// key")
			}
			if _, err := c.SetTokenVaultCMK(ctx, &ctl.SetTokenVaultCMKInput{TokenVaultId: aws.String("other"),
				KmsConfiguration: &types.KmsConfiguration{KeyType: types.KeyTypeServiceManagedKey}}); !isNotFound(err) {
				t.Fatalf("SetTokenVaultCMK of another vault: %v", err)
			}

			// A key scoped to a workload may not change the vault's key.
			id, secret := scopedAccessKey(t, s, "drive-agent")
			scoped := s.clientWith(t, id, secret)
			var denied *types.AccessDeniedException
			if _, err := scoped.SetTokenVaultCMK(ctx, &ctl.SetTokenVaultCMKInput{KmsConfiguration: &types.KmsConfiguration{KeyType: types.KeyTypeServiceManagedKey}}); !errors.As(err, &denied) {
				t.Fatalf("SetTokenVaultCMK with a scoped key: %v", err)
			}
			if _, err := scoped.ResetTokenVaultKeyMaterial(ctx, &ctl.ResetTokenVaultKeyMaterialInput{TokenVaultId: aws.String("default")}); !errors.As(err, &denied) {
				t.Fatalf("ResetTokenVaultKeyMaterial with a scoped key: %v", err)
			}

			// To the operator's key: rotated online, the grant still opens.
			time.Sleep(2 * time.Millisecond)
			set, err := c.SetTokenVaultCMK(ctx, &ctl.SetTokenVaultCMKInput{KmsConfiguration: &types.KmsConfiguration{
				KeyType: types.KeyTypeCustomerManagedKey, KmsKeyArn: aws.String(given)}})
			if err != nil {
				t.Fatal(err)
			}
			if set.KmsConfiguration.KeyType != types.KeyTypeCustomerManagedKey || aws.ToString(set.KmsConfiguration.KmsKeyArn) != "base64key://" ||
				!set.LastModifiedDate.After(*before.LastModifiedDate) {
				t.Fatalf("SetTokenVaultCMK = %+v %v", set.KmsConfiguration, set.LastModifiedDate)
			}
			if got := vault(); got.KmsConfiguration.KeyType != types.KeyTypeCustomerManagedKey {
				t.Fatalf("GetTokenVault after SetTokenVaultCMK: %+v", got.KmsConfiguration)
			}
			if strings.Contains(s.Captured.String(), strings.TrimPrefix(given, "base64key://")) {
				t.Fatal("a response echoed the base64key:// key")
			}
			if out, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), "")); err != nil || aws.ToString(out.AccessToken) != token {
				t.Fatalf("the vault's token after the rotation: %+v %v", out, err)
			}
			// The same base64key:// key again: the keyring refuses a key that
			// is already a version.
			var invalid *types.ValidationException
			if _, err := c.SetTokenVaultCMK(ctx, &ctl.SetTokenVaultCMKInput{KmsConfiguration: &types.KmsConfiguration{
				KeyType: types.KeyTypeCustomerManagedKey, KmsKeyArn: aws.String(given)}}); !errors.As(err, &invalid) || !strings.Contains(err.Error(), "already version 2") {
				t.Fatalf("the same base64key:// key again: %v", err)
			}

			// Back to a local key (as behalf keys rotate --to-local).
			back, err := c.SetTokenVaultCMK(ctx, &ctl.SetTokenVaultCMKInput{KmsConfiguration: &types.KmsConfiguration{KeyType: types.KeyTypeServiceManagedKey}})
			if err != nil || back.KmsConfiguration.KeyType != types.KeyTypeServiceManagedKey || back.KmsConfiguration.KmsKeyArn != nil {
				t.Fatalf("back to ServiceManagedKey: %+v %v", back, err)
			}
			if out, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), "")); err != nil || aws.ToString(out.AccessToken) != token {
				t.Fatalf("the vault's token after the second rotation: %+v %v", out, err)
			}
			st, err := cliRun(t, s, "keys", "status", "--database", databaseDSN(db, s.DataDir), "--kms-previous", given, "--output", "json")
			var status struct {
				KEK struct {
					Active   int `json:"activeVersion"`
					Versions []struct {
						Keeper   string `json:"keeper"`
						DataKeys int    `json:"dataKeys"`
					} `json:"versions"`
				} `json:"keyEncryptionKeys"`
			}
			if err != nil || json.Unmarshal([]byte(st), &status) != nil || status.KEK.Active != 3 || len(status.KEK.Versions) != 3 ||
				status.KEK.Versions[1].Keeper != "base64key" || status.KEK.Versions[1].DataKeys != 0 || status.KEK.Versions[2].Keeper != "file" {
				t.Fatalf("keys status after two rotations: %v\n%s", err, st)
			}

			// Reset: every token deleted, the user must consent again.
			if _, err := c.ResetTokenVaultKeyMaterial(ctx, &ctl.ResetTokenVaultKeyMaterialInput{TokenVaultId: aws.String("other")}); !isNotFound(err) {
				t.Fatalf("reset another vault: %v", err)
			}
			reset, err := c.ResetTokenVaultKeyMaterial(ctx, &ctl.ResetTokenVaultKeyMaterialInput{TokenVaultId: aws.String("default")})
			if err != nil || reset.KmsConfiguration.KeyType != types.KeyTypeServiceManagedKey || aws.ToString(reset.TokenVaultId) != "default" {
				t.Fatalf("ResetTokenVaultKeyMaterial: %+v %v", reset, err)
			}
			out, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
			if err != nil || out.AccessToken != nil || out.AuthorizationUrl == nil || out.SessionStatus != dptypes.SessionStatusInProgress {
				t.Fatalf("after the reset: %+v %v", out, err)
			}

			for kind, want := range map[string]string{
				identity.AuditVaultKeySet: "(CustomerManagedKey, base64key://)",
				identity.AuditVaultReset:  "deleted 1 grant(s)",
			} {
				log, err := cliRun(t, s, "audit", "list", "--kind", kind, "--output", "json")
				if err != nil || !strings.Contains(log, want) || !strings.Contains(log, s.KeyID) {
					t.Fatalf("audit %s: %v\n%s", kind, err, log)
				}
			}
		})
	}
}

// isNotFound reports whether err is a control-plane ResourceNotFoundException.
func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// scopedAccessKey creates an access key scoped to workload with s's root
// key and returns its id and secret.
func scopedAccessKey(t *testing.T, s *testServer, workload string) (string, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, s, "/behalf/CreateAccessKey", []byte(`{"workloadName":"`+workload+`"}`), s.KeyID, s.Secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var k struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &k) != nil || k.ID == "" {
		t.Fatalf("CreateAccessKey(%s): %d %s", workload, resp.StatusCode, b)
	}
	return k.ID, k.Secret
}
