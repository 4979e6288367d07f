package safehttp_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf/internal/safehttp"
)

func TestClassify(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"2001:4860:4860::8888", ""},
		{"::ffff:8.8.8.8", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.32.0.1", ""},
		{"169.254.169.254", "link-local"},
		{"::ffff:169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::127.0.0.1", "loopback"},
		{"64:ff9b::a00:1", "private"},
		{"2002:a00:1::", "private"},
		{"2002:7f00:1::1", "loopback"},
		{"10.0.0.1", "private"},
		{"::ffff:10.0.0.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.0.1", "private"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"100.64.0.1", "shared (carrier-grade NAT)"},
		{"100.127.255.255", "shared (carrier-grade NAT)"},
		{"0.0.0.0", "unspecified"},
		{"0.255.255.255", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.251", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "reserved"},
	}
	for _, tt := range tests {
		if got := safehttp.Classify(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("Classify(%s) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

func TestControl(t *testing.T) {
	tests := []struct {
		addr         string
		allowPrivate bool
		want         string // "" for allowed, else a substring of the error
	}{
		{"8.8.8.8:443", false, ""},
		{"[2001:4860:4860::8888]:443", false, ""},
		{"169.254.169.254:80", false, "address 169.254.169.254 is link-local; start behalf with --allow-private-endpoints"},
		{"[::ffff:127.0.0.1]:443", false, "address ::ffff:127.0.0.1 is loopback"},
		{"[::1]:443", false, "address ::1 is loopback"},
		{"10.0.0.1:443", false, "address 10.0.0.1 is private"},
		{"0.0.0.0:443", false, "address 0.0.0.0 is unspecified"},
		{"169.254.169.254:80", true, ""},
		{"127.0.0.1:443", true, ""},
		{"not-an-address", false, "could not check address"},
	}
	for _, tt := range tests {
		err := safehttp.Control(tt.allowPrivate, tt.addr)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Control(%v, %s) = %v, want nil", tt.allowPrivate, tt.addr, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Control(%v, %s) = %v, want %q", tt.allowPrivate, tt.addr, err, tt.want)
		}
	}
}
