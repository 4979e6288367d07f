package sigv4

import (
	"reflect"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
)

const (
	validSig  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	validAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock-agentcore/aws4_request, " +
		"SignedHeaders=content-type;host;x-amz-date, Signature=" + validSig
)

func TestParseAuthorizationValid(t *testing.T) {
	want := authHeader{
		AccessKeyID:   "AKIDEXAMPLE",
		Date:          "20260101",
		Region:        "us-east-1",
		Service:       "bedrock-agentcore",
		SignedHeaders: []string{"content-type", "host", "x-amz-date"},
		Signature:     validSig,
	}
	for name, in := range map[string]string{
		"sdk form":        validAuth,
		"no spaces":       strings.ReplaceAll(validAuth, ", ", ","),
		"extra spaces":    strings.ReplaceAll(validAuth, ", ", " ,  "),
		"reordered":       "AWS4-HMAC-SHA256 Signature=" + validSig + ", SignedHeaders=content-type;host;x-amz-date, Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock-agentcore/aws4_request",
		"leading spaces":  strings.Replace(validAuth, " ", "   ", 1),
		"trailing spaces": validAuth + "  ",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseAuthorization(in)
			if err != nil {
				t.Fatalf("parseAuthorization: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			if got.String() != validAuth {
				t.Fatalf("String() = %q, want %q", got.String(), validAuth)
			}
		})
	}
}

func TestParseAuthorizationInvalid(t *testing.T) {
	cred := "Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock-agentcore/aws4_request"
	headers := "SignedHeaders=host;x-amz-date"
	sig := "Signature=" + validSig
	join := func(parts ...string) string { return "AWS4-HMAC-SHA256 " + strings.Join(parts, ", ") }
	for name, in := range map[string]string{
		"empty":                "",
		"algorithm only":       "AWS4-HMAC-SHA256",
		"other algorithm":      strings.Replace(validAuth, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1),
		"sigv4a":               strings.Replace(validAuth, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1),
		"basic":                "Basic dXNlcjpwYXNz",
		"lower-case algorithm": strings.Replace(validAuth, "AWS4-HMAC-SHA256", "aws4-hmac-sha256", 1),
		"tab separator":        strings.Replace(validAuth, " ", "\t", 1),
		"two components":       join(cred, headers),
		"four components":      join(cred, headers, sig, "Extra=1"),
		"duplicate component":  join(cred, cred, sig),
		"unknown component":    join(cred, "Foo=bar", sig),
		"lower-case key":       join("credential"+cred[len("Credential"):], headers, sig),
		"missing equals":       join("Credential", headers, sig),
		"trailing comma":       join(cred, headers, sig) + ",",
		"empty credential":     join("Credential=", headers, sig),
		"4-part scope":         join("Credential=AKIDEXAMPLE/20260101/us-east-1/aws4_request", headers, sig),
		"6-part scope":         join("Credential=AKIDEXAMPLE/20260101/us-east-1/svc/x/aws4_request", headers, sig),
		"bad terminator":       join("Credential=AKIDEXAMPLE/20260101/us-east-1/svc/aws5_request", headers, sig),
		"empty key id":         join("Credential=/20260101/us-east-1/svc/aws4_request", headers, sig),
		"empty region":         join("Credential=AKID/20260101//svc/aws4_request", headers, sig),
		"space in key id":      join("Credential=AK ID/20260101/us-east-1/svc/aws4_request", headers, sig),
		"bad date":             join("Credential=AKID/20261301/us-east-1/svc/aws4_request", headers, sig),
		"short date":           join("Credential=AKID/2026011/us-east-1/svc/aws4_request", headers, sig),
		"long date":            join("Credential=AKID/20260101T000000Z/us-east-1/svc/aws4_request", headers, sig),
		"no host":              join(cred, "SignedHeaders=content-type;x-amz-date", sig),
		"no x-amz-date":        join(cred, "SignedHeaders=content-type;host", sig),
		"unsorted headers":     join(cred, "SignedHeaders=x-amz-date;host", sig),
		"duplicate headers":    join(cred, "SignedHeaders=host;host;x-amz-date", sig),
		"upper-case header":    join(cred, "SignedHeaders=Host;x-amz-date", sig),
		"empty header name":    join(cred, "SignedHeaders=host;;x-amz-date", sig),
		"empty signed headers": join(cred, "SignedHeaders=", sig),
		"short signature":      join(cred, headers, "Signature="+validSig[1:]),
		"long signature":       join(cred, headers, "Signature="+validSig+"0"),
		"upper-case signature": join(cred, headers, "Signature="+strings.ToUpper(validSig)),
		"non-hex signature":    join(cred, headers, "Signature="+strings.Repeat("g", 64)),
		"too long":             validAuth + strings.Repeat(" ", maxAuthLen),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseAuthorization(in)
			if err == nil {
				t.Fatalf("parseAuthorization(%q) = %+v, want error", in, got)
			}
			if code := behalf.ErrorCode(err); code != behalf.EFORBIDDEN {
				t.Fatalf("code = %q, want %q", code, behalf.EFORBIDDEN)
			}
			if strings.Contains(err.Error(), validSig) {
				t.Fatalf("error echoes the signature: %v", err)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add(validAuth)
	f.Add(strings.ReplaceAll(validAuth, ", ", ","))
	f.Add("AWS4-HMAC-SHA256 Signature=" + validSig + ",SignedHeaders=host;x-amz-date,Credential=A/20240229/r/s/aws4_request")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=;, Signature=")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := parseAuthorization(in)
		if err != nil {
			if behalf.ErrorCode(err) != behalf.EFORBIDDEN {
				t.Fatalf("error without EFORBIDDEN: %v", err)
			}
			return
		}
		s := a.String()
		b, err := parseAuthorization(s)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", s, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("re-parse differs: %+v vs %+v", a, b)
		}
		if b.String() != s {
			t.Fatalf("re-serialisation differs: %q vs %q", b.String(), s)
		}
	})
}
