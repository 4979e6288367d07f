package fakedns_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/internal/fakedns"
)

// Ensure names resolve to their table's addresses, unknown names are not
// found, and a name mapped to nothing hangs until the lookup times out.
func TestResolver(t *testing.T) {
	r := fakedns.New(map[string][]string{
		"agent.behalf.test": {"127.0.0.1"},
		"dual.behalf.test":  {"10.1.2.3", "fd00::1"},
		"hang.behalf.test":  nil,
	})
	nr := r.NetResolver()
	ctx := context.Background()

	got, err := nr.LookupHost(ctx, "agent.behalf.test")
	if err != nil || !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Fatalf("agent.behalf.test = %v, %v", got, err)
	}
	got, err = nr.LookupHost(ctx, "DUAL.behalf.test.")
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"10.1.2.3", "fd00::1"}) {
		t.Fatalf("dual.behalf.test = %v, %v", got, err)
	}
	var dnsErr *net.DNSError
	if _, err := nr.LookupHost(ctx, "nope.behalf.test"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("nope.behalf.test: err = %v, want not found", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := nr.LookupHost(tctx, "hang.behalf.test"); !errors.As(err, &dnsErr) || !dnsErr.IsTimeout {
		t.Fatalf("hang.behalf.test: err = %v, want a timeout", err)
	}

	// Dialling through it connects to the address it answered.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d := &net.Dialer{Resolver: nr}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("agent.behalf.test", port))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
