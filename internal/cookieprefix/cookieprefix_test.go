package cookieprefix

import "testing"

func TestName(t *testing.T) {
	for _, c := range []struct {
		name, path string
		secure     bool
		want       string
	}{
		{"sid", "/", true, "__Host-sid"},
		{"sid", "/pool/login", true, "__Secure-sid"},
		{"sid", "", true, "__Secure-sid"},
		{"sid", "/", false, "sid"},
		{"sid", "/pool", false, "sid"},
	} {
		if got := Name(c.name, c.path, c.secure); got != c.want {
			t.Errorf("Name(%q, %q, %v) = %q, want %q", c.name, c.path, c.secure, got, c.want)
		}
	}
}
