package userpool_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPasswordDefaultsPHC(t *testing.T) {
	h, err := userpool.HashPassword(testPassword, userpool.DefaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if !phcPattern.MatchString(h) {
		t.Fatalf("hash %q is not $argon2id$v=19$m=19456,t=2,p=1$<16-byte salt>$<32-byte key>", h)
	}
	ok, err := userpool.VerifyPassword(h, testPassword)
	if err != nil || !ok {
		t.Fatalf("VerifyPassword(right) = %v, %v", ok, err)
	}
	ok, err = userpool.VerifyPassword(h, "Correct-Horse-8")
	if err != nil || ok {
		t.Fatalf("VerifyPassword(wrong) = %v, %v", ok, err)
	}
}

func TestPHCRoundTrip(t *testing.T) {
	h, err := userpool.HashPassword(testPassword, testHashParams)
	if err != nil {
		t.Fatal(err)
	}
	p, err := userpool.ParsePHC(h)
	if err != nil {
		t.Fatal(err)
	}
	if p.Params != testHashParams || len(p.Salt) != 16 || len(p.Key) != 32 {
		t.Fatalf("parsed %+v", p)
	}
	if p.String() != h {
		t.Fatalf("String() = %q, want %q", p.String(), h)
	}
	h2, _ := userpool.HashPassword(testPassword, testHashParams)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestParsePHCRejects(t *testing.T) {
	good := "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43)
	if _, err := userpool.ParsePHC(good); err != nil {
		t.Fatalf("good: %v", err)
	}
	for _, s := range []string{
		"",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),
		"$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=+64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=4,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),         // m < 8p
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),  // m too big
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),        // t = 0
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),        // p = 0
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA==$" + strings.Repeat("A", 43),      // padding
		"$argon2id$v=19$m=64,t=1,p=1$c2Fs$" + strings.Repeat("A", 43),                          // salt too short
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 42) + "B",  // non-zero trailing bits
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRz\nYWx0c2FsdA$" + strings.Repeat("A", 43),      // newline
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43) + "$x", // extra field
		"x$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),
	} {
		if p, err := userpool.ParsePHC(s); err == nil {
			t.Errorf("ParsePHC(%q) = %+v, want error", s, p)
		}
	}
}

// FuzzParsePHC checks that ParsePHC never panics and accepts only the
// canonical form: whatever it accepts encodes back to the same string.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43))
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2Fs\ndHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=0064,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := userpool.ParsePHC(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("ParsePHC(%q) accepted a non-canonical form; String() = %q", s, p.String())
		}
		if err := p.Params.Validate(); err != nil {
			t.Fatalf("ParsePHC(%q) accepted invalid params: %v", s, err)
		}
	})
}

func TestSecretHashVector(t *testing.T) {
	// Test vector from the spec (section 1.6).
	got := userpool.SecretHash("abcdef01234567890", "alice", "1example23456789")
	if want := "PBskpB4fo4To5Udd+ifJHh7g3v7oggyo5DGueTHSl58="; got != want {
		t.Fatalf("SecretHash = %s, want %s", got, want)
	}
}

// BenchmarkArgon2id measures raw hashes per second at the default (OWASP)
// parameters.
func BenchmarkArgon2id(b *testing.B) {
	for b.Loop() {
		if _, err := userpool.HashPassword(behalf.Secret("Correct-Horse-9"), userpool.DefaultHashParams); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

func TestRehashOnSignIn(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	stored := func() string {
		u, err := e.store.GetPoolUser(e.ctx, p.ID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return u.PasswordHash
	}
	if !strings.HasPrefix(stored(), "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("stored hash %q", stored())
	}
	e.svc.HashParams = userpool.HashParams{Memory: 128, Time: 2, Threads: 1}
	e.mustSignIn(t, c, "", "alice")
	if !strings.HasPrefix(stored(), "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Fatalf("after sign-in with new parameters, stored hash %q", stored())
	}
	e.mustSignIn(t, c, "", "alice")
}
