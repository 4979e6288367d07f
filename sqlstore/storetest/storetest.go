// Package storetest is the conformance suite for behalf.Store
// implementations. A backend's tests call RunTests with a function that
// opens a fresh, empty store.
package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// openFunc opens a fresh, empty store for one subtest.
type openFunc = func(t *testing.T) behalf.Store

// RunTests checks that the stores open returns implement behalf.Store's
// contract. Every subtest calls open once and expects a fresh, empty store;
// open must arrange for the store to be closed (t.Cleanup) and fail t if it
// cannot open one.
func RunTests(t *testing.T, open func(t *testing.T) behalf.Store) {
	t.Run("Ping", func(t *testing.T) { testPing(t, open) })
	t.Run("Workload", func(t *testing.T) { testWorkloads(t, open) })
	t.Run("OAuth2Provider", func(t *testing.T) { testOAuth2Providers(t, open) })
	t.Run("APIKeyProvider", func(t *testing.T) { testAPIKeyProviders(t, open) })
	t.Run("TokenVault", func(t *testing.T) { testTokenVaults(t, open) })
	t.Run("AccessKey", func(t *testing.T) { testAccessKeys(t, open) })
	t.Run("DataKey", func(t *testing.T) { testDataKeys(t, open) })
	t.Run("KEKVersion", func(t *testing.T) { testKEKVersions(t, open) })
	t.Run("Grant", func(t *testing.T) { testGrants(t, open) })
	t.Run("SubjectToken", func(t *testing.T) { testSubjectTokens(t, open) })
	t.Run("Session", func(t *testing.T) { testSessions(t, open) })
	t.Run("SigningKey", func(t *testing.T) { testSigningKeys(t, open) })
	t.Run("Issuer", func(t *testing.T) { testIssuers(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("UserPool", func(t *testing.T) { testUserPools(t, open) })
	t.Run("AppClient", func(t *testing.T) { testAppClients(t, open) })
	t.Run("ResourceServer", func(t *testing.T) { testResourceServers(t, open) })
	t.Run("UserPoolDomain", func(t *testing.T) { testUserPoolDomains(t, open) })
	t.Run("PoolUser", func(t *testing.T) { testPoolUsers(t, open) })
	t.Run("PoolGroup", func(t *testing.T) { testPoolGroups(t, open) })
	t.Run("SearchPoolUsers", func(t *testing.T) { testSearchPoolUsers(t, open) })
	t.Run("PoolRefreshToken", func(t *testing.T) { testPoolRefreshTokens(t, open) })
	t.Run("PoolAuthRequest", func(t *testing.T) { testPoolAuthRequests(t, open) })
	t.Run("PoolLockout", func(t *testing.T) { testPoolLockouts(t, open) })
	t.Run("PoolSRP", func(t *testing.T) { testPoolSRP(t, open) })
	t.Run("PoolCode", func(t *testing.T) { testPoolCodes(t, open) })
	t.Run("PoolMFA", func(t *testing.T) { testPoolMFA(t, open) })
	t.Run("AgentRuntime", func(t *testing.T) { testAgentRuntimes(t, open) })
	t.Run("AgentRuntimeVersion", func(t *testing.T) { testAgentRuntimeVersions(t, open) })
	t.Run("Gateway", func(t *testing.T) { testGateways(t, open) })
	t.Run("ConsentPortal", func(t *testing.T) { testConsentPortals(t, open) })
}

// t0 is the fixtures' base time: UTC, with microsecond precision, as every
// store must round-trip it.
var t0 = time.Date(2025, 6, 1, 12, 30, 45, 123456000, time.UTC)

// errFn is the error the update callbacks in the failure tests return.
var errFn = errors.New("storetest: fn failed")

// testPing checks that a fresh store answers.
func testPing(t *testing.T, open openFunc) {
	s := open(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// ok fails t if err is not nil.
func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantCode fails t unless err carries the behalf error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := behalf.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err: %v), want %q", got, err, code)
	}
}

// wantFnErr fails t unless err is errFn itself, not wrapped.
func wantFnErr(t *testing.T, err error) {
	t.Helper()
	if err != errFn {
		t.Fatalf("error = %v, want fn's error %v unchanged", err, errFn)
	}
}

// wantEqual fails t unless got and want are deeply equal.
func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// wantEqualList fails t unless got and want hold deeply equal elements.
func wantEqualList[T any](t *testing.T, what string, got, want []*T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d items, want %d", what, len(got), len(want))
	}
	for i := range want {
		wantEqual(t, what, got[i], want[i])
	}
}

// pagingNames are created out of order; they sort bytewise as
// "B", "a-b", "aB", "a_b", "ab", "c1", "c10", "c2".
var pagingNames = []string{"c2", "ab", "a_b", "B", "c10", "a-b", "aB", "c1"}

// testPaging creates the pagingNames items with create and checks that list
// returns them ordered by name, honouring ListOptions.After and Limit.
func testPaging(t *testing.T, create func(name string), list func(opt behalf.ListOptions) []string) {
	t.Helper()
	if got := list(behalf.ListOptions{}); len(got) != 0 {
		t.Fatalf("empty store lists %q", got)
	}
	for _, name := range pagingNames {
		create(name)
	}
	sorted := slices.Sorted(slices.Values(pagingNames))
	cases := []struct {
		opt  behalf.ListOptions
		want []string
	}{
		{behalf.ListOptions{}, sorted},
		{behalf.ListOptions{Limit: -1}, sorted},
		{behalf.ListOptions{Limit: 3}, sorted[:3]},
		{behalf.ListOptions{Limit: 100}, sorted},
		{behalf.ListOptions{After: sorted[2]}, sorted[3:]},
		{behalf.ListOptions{After: sorted[2], Limit: 2}, sorted[3:5]},
		{behalf.ListOptions{After: "a"}, sorted[1:]},
		{behalf.ListOptions{After: sorted[len(sorted)-1]}, nil},
	}
	for _, c := range cases {
		got := list(c.opt)
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("list %+v = %q, want %q", c.opt, got, c.want)
		}
	}
	var walked []string
	for opt := (behalf.ListOptions{Limit: 3}); ; {
		page := list(opt)
		walked = append(walked, page...)
		if len(page) < opt.Limit {
			break
		}
		opt.After = page[len(page)-1]
	}
	if !slices.Equal(walked, sorted) {
		t.Errorf("paging by 3 = %q, want %q", walked, sorted)
	}
}

// names returns the names of items with name.
func names[T any](items []*T, name func(*T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}
