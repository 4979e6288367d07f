package safehttp_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf/internal/safehttp"
)

// fakeLookup resolves a few test names without DNS.
func fakeLookup(_ context.Context, host string) ([]netip.Addr, error) {
	names := map[string][]string{
		"intranet.test": {"10.1.2.3"},
		"public.test":   {"93.184.216.34"},
		"mixed.test":    {"10.1.2.3", "93.184.216.34"},
	}
	addrs, ok := names[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	defer safehttp.SetLookup(fakeLookup)()
	const hint = "; start behalf with --allow-private-endpoints to allow it"
	tests := []struct {
		raw          string
		allowPrivate bool
		want         string // "" for OK, else the exact error message
	}{
		{"https://idp.example.com/.well-known/openid-configuration", false, ""},
		{"https://idp.example.com:8443/x?y=1#z", false, ""},
		{"https://8.8.8.8/", false, ""},
		{"https://[2001:4860:4860::8888]/", false, ""},
		{"HTTPS://idp.example.com/", false, ""},
		{"http://idp.example.com/", false, "URL must use https"},
		{"ftp://idp.example.com/", false, "URL must use https"},
		{"idp.example.com/x", false, "URL must use https"},
		{"/relative", false, "URL must use https"},
		{"javascript:alert(1)", false, "URL must use https"},
		{"https://user:pw@idp.example.com/", false, "URL must not contain a user name or password"},
		{"https://user@idp.example.com/", false, "URL must not contain a user name or password"},
		{"https:///path", false, "URL must name a host"},
		{"https://:443/", false, "URL must name a host"},
		{"https://exa mple.com/", false, "URL is not valid"},
		{"https://10.0.0.1/", false, "address 10.0.0.1 is private" + hint},
		{"https://172.16.5.4/", false, "address 172.16.5.4 is private" + hint},
		{"https://192.168.1.1/", false, "address 192.168.1.1 is private" + hint},
		{"https://127.0.0.1:8080/", false, "address 127.0.0.1 is loopback" + hint},
		{"https://[::1]/", false, "address ::1 is loopback" + hint},
		{"https://[::ffff:127.0.0.1]/", false, "address ::ffff:127.0.0.1 is loopback" + hint},
		{"https://[::ffff:a9fe:a9fe]/", false, "address ::ffff:169.254.169.254 is link-local" + hint},
		{"https://169.254.169.254/latest/meta-data/", false, "address 169.254.169.254 is link-local" + hint},
		{"https://[fe80::1%25eth0]/", false, "address fe80::1%eth0 is link-local" + hint},
		{"https://[fd00:ec2::254]/", false, "address fd00:ec2::254 is private" + hint},
		{"https://[64:ff9b::7f00:1]/", false, "address 64:ff9b::7f00:1 is loopback" + hint},
		{"https://100.64.0.1/", false, "address 100.64.0.1 is shared (carrier-grade NAT)" + hint},
		{"https://0.0.0.0/", false, "address 0.0.0.0 is unspecified" + hint},
		{"https://0.1.2.3/", false, "address 0.1.2.3 is unspecified" + hint},
		{"https://[::]/", false, "address :: is unspecified" + hint},
		{"https://224.0.0.1/", false, "address 224.0.0.1 is multicast" + hint},
		{"https://255.255.255.255/", false, "address 255.255.255.255 is reserved" + hint},
		{"https://localhost/", false, "host localhost is loopback" + hint},
		{"https://LOCALHOST./", false, "host LOCALHOST. is loopback" + hint},
		{"https://app.localhost/", false, "host app.localhost is loopback" + hint},
		{"https://127.1/", false, "URL host 127.1 is not a valid host name or IP address"},
		{"https://2130706433/", false, "URL host 2130706433 is not a valid host name or IP address"},
		{"https://0x7f000001/", false, "URL host 0x7f000001 is not a valid host name or IP address"},
		{"https://0177.0.0.1/", false, "URL host 0177.0.0.1 is not a valid host name or IP address"},
		{"http://10.0.0.1/", false, "address 10.0.0.1 is private" + hint},

		{"https://10.0.0.1/", true, ""},
		{"https://169.254.169.254/", true, ""},
		{"http://127.0.0.1:8080/x", true, ""},
		{"http://[::1]:8080/x", true, ""},
		{"http://localhost:8080/", true, ""},
		{"http://intranet.test/", true, ""},
		{"https://public.test/", true, ""},
		{"http://public.test/", true, "URL must use https (http is allowed only for loopback and private hosts)"},
		{"http://mixed.test/", true, "URL must use https (http is allowed only for loopback and private hosts)"},
		{"http://8.8.8.8/", true, "URL must use https (http is allowed only for loopback and private hosts)"},
		{"http://unknown.test/", true, "could not resolve host unknown.test"},
		{"https://user@10.0.0.1/", true, "URL must not contain a user name or password"},
	}
	for _, tt := range tests {
		u, err := safehttp.CheckURL(tt.raw, tt.allowPrivate)
		if tt.want == "" {
			if err != nil || u == nil {
				t.Errorf("CheckURL(%q, %v) = %v, want OK", tt.raw, tt.allowPrivate, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("CheckURL(%q, %v) = %v, want %q", tt.raw, tt.allowPrivate, err, tt.want)
		}
		var se *safehttp.Error
		if !errors.As(err, &se) {
			t.Errorf("CheckURL(%q): error %T is not *safehttp.Error", tt.raw, err)
		}
	}
}

func TestCheckURLKeepsCause(t *testing.T) {
	_, err := safehttp.CheckURL("https://exa mple.com/", false)
	if err == nil || errors.Unwrap(err) == nil {
		t.Fatalf("err = %v, want a wrapped parse error", err)
	}
	if strings.Contains(err.Error(), "parse") {
		t.Errorf("message %q leaks the parser error", err)
	}
}
