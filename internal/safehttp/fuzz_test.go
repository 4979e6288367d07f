package safehttp_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/behalf-dev/behalf/internal/safehttp"
)

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://idp.example.com/.well-known/openid-configuration",
		"http://127.0.0.1:8080/x",
		"https://[::ffff:169.254.169.254]/",
		"https://[fe80::1%25eth0]:443/",
		"https://user:pw@10.0.0.1/",
		"http://localhost./",
		"https://0x7f.1/",
		"//example.com",
		"https:opaque",
		"",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	// Never touch DNS while fuzzing.
	defer safehttp.SetLookup(func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil
	})()
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		u, err := safehttp.CheckURL(raw, allowPrivate)
		if err != nil {
			if !errors.As(err, new(*safehttp.Error)) {
				t.Fatalf("CheckURL(%q) error %T is not *safehttp.Error", raw, err)
			}
			return
		}
		if u.Scheme != "https" && !(allowPrivate && u.Scheme == "http") {
			t.Fatalf("CheckURL(%q, %v) allowed scheme %q", raw, allowPrivate, u.Scheme)
		}
		if u.User != nil || u.Hostname() == "" {
			t.Fatalf("CheckURL(%q) allowed user %v / host %q", raw, u.User, u.Hostname())
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !allowPrivate && safehttp.Classify(ip) != "" {
			t.Fatalf("CheckURL(%q, false) allowed non-public %s", raw, ip)
		}
	})
}
