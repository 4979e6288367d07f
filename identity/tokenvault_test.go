package identity

import (
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
)

// Ensure SetTokenVaultCMK's kmsKeyArn maps to the key URL Behalf opens:
// an AWS KMS key ARN to gocloud.dev's awskms:///ARN?region=REGION (no call
// to AWS), and that GetTokenVault names it back by its ARN.
func TestKMSKeyURL(t *testing.T) {
	for _, tc := range []struct{ in, url string }{
		{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			"awskms:///arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab?region=us-east-1"},
		{"arn:aws:kms:eu-west-3:123456789012:alias/behalf/vault", "awskms:///arn:aws:kms:eu-west-3:123456789012:alias/behalf/vault?region=eu-west-3"},
		{"arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc", "awskms:///arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc?region=us-gov-west-1"},
		{"awskms://alias/my-key?region=us-east-1", "awskms://alias/my-key?region=us-east-1"},
		{"base64key://smGbjm71Nxd1Ig5FS0wj9SlbzAIrnolCz9bQQ6uAhl4=", "base64key://smGbjm71Nxd1Ig5FS0wj9SlbzAIrnolCz9bQQ6uAhl4="},
	} {
		got, err := kmsKeyURL(tc.in)
		if err != nil || got != tc.url {
			t.Errorf("kmsKeyURL(%q) = %q %v, want %q", tc.in, got, err, tc.url)
			continue
		}
		if strings.HasPrefix(tc.in, "arn:") {
			if kt, arn := kmsConfiguration(got); kt != behalf.KeyCustomerManaged || arn != tc.in {
				t.Errorf("kmsConfiguration(%q) = %s %q, want the ARN back", got, kt, arn)
			}
		}
	}
	for _, bad := range []string{"", "arn:aws:kms:us-east-1:123:key/x", "arn:aws:s3:::bucket", "arn:aws:kms:us-east-1:123456789012:secret/x",
		"1234abcd", "gcpkms://projects/p", "hashivault://k", "file:///etc/passwd", strings.Repeat("a", 2049)} {
		if got, err := kmsKeyURL(bad); behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != "kmsConfiguration.kmsKeyArn" {
			t.Errorf("kmsKeyURL(%q) = %q %v, want EINVALID naming kmsConfiguration.kmsKeyArn", bad, got, err)
		}
	}
	for keeper, want := range map[string][2]string{
		behalf.KEKKeeperFile:                {behalf.KeyServiceManaged, ""},
		behalf.KEKKeeperInline:              {behalf.KeyCustomerManaged, "base64key://"},
		"awskms://alias/k?region=us-east-1": {behalf.KeyCustomerManaged, "awskms://alias/k?region=us-east-1"},
	} {
		if kt, arn := kmsConfiguration(keeper); kt != want[0] || arn != want[1] {
			t.Errorf("kmsConfiguration(%q) = %s %q, want %s %q", keeper, kt, arn, want[0], want[1])
		}
	}
}

// FuzzKMSKeyURL checks that any kmsKeyArn is refused with EINVALID naming
// the field or mapped to a URL of a scheme Behalf opens, and that an ARN
// comes back as itself.
func FuzzKMSKeyURL(f *testing.F) {
	for _, s := range []string{"arn:aws:kms:us-east-1:123456789012:key/abc", "awskms://x", "base64key://", "arn:", "://", "a://b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := kmsKeyURL(in)
		if err != nil {
			if behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != "kmsConfiguration.kmsKeyArn" {
				t.Fatalf("kmsKeyURL(%q): %v", in, err)
			}
			return
		}
		if !strings.HasPrefix(got, "awskms://") && !strings.HasPrefix(got, "base64key://") {
			t.Fatalf("kmsKeyURL(%q) = %q", in, got)
		}
		if strings.HasPrefix(in, "arn:") {
			if _, arn := kmsConfiguration(got); arn != in {
				t.Fatalf("ARN %q came back as %q", in, arn)
			}
		}
	})
}
