package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// testSubjectTokens checks the SubjectTokenStore methods.
func testSubjectTokens(t *testing.T, open openFunc) {
	s := open(t)
	a := &behalf.SubjectToken{ID: "jti-a", Token: behalf.Sealed{0x00, 0x01, 0xff, 'a'}, ExpiresAt: t0.Add(time.Minute)}
	b := &behalf.SubjectToken{ID: "jti-b", Token: behalf.Sealed{'b'}, ExpiresAt: t0.Add(time.Hour)}
	for _, st := range []*behalf.SubjectToken{a, b} {
		ok(t, s.PutSubjectToken(t.Context(), st))
	}
	// Put again: an earlier expiry changes nothing, a later one is taken;
	// the token itself is never replaced.
	ok(t, s.PutSubjectToken(t.Context(), &behalf.SubjectToken{ID: "jti-b", Token: behalf.Sealed{'x'}, ExpiresAt: t0}))
	got, err := s.GetSubjectToken(t.Context(), "jti-b")
	ok(t, err)
	wantEqual(t, "GetSubjectToken after an earlier expiry", got, b)
	later := &behalf.SubjectToken{ID: "jti-b", Token: behalf.Sealed{'b'}, ExpiresAt: t0.Add(2 * time.Hour)}
	ok(t, s.PutSubjectToken(t.Context(), &behalf.SubjectToken{ID: "jti-b", Token: behalf.Sealed{'x'}, ExpiresAt: later.ExpiresAt}))
	got, err = s.GetSubjectToken(t.Context(), "jti-b")
	ok(t, err)
	wantEqual(t, "GetSubjectToken after a later expiry", got, later)
	b = later
	got, err = s.GetSubjectToken(t.Context(), "jti-a")
	ok(t, err)
	wantEqual(t, "GetSubjectToken", got, a)
	for _, id := range []string{"missing", "JTI-A", ""} {
		_, err := s.GetSubjectToken(t.Context(), id)
		wantCode(t, err, behalf.ENOTFOUND)
	}

	// Expired before t: deleted; at or after: kept.
	n, err := s.DeleteExpiredSubjectTokens(t.Context(), a.ExpiresAt)
	ok(t, err)
	if n != 0 {
		t.Errorf("DeleteExpiredSubjectTokens(a's expiry) deleted %d, want 0", n)
	}
	n, err = s.DeleteExpiredSubjectTokens(t.Context(), a.ExpiresAt.Add(time.Microsecond))
	ok(t, err)
	if n != 1 {
		t.Errorf("DeleteExpiredSubjectTokens deleted %d, want 1", n)
	}
	_, err = s.GetSubjectToken(t.Context(), "jti-a")
	wantCode(t, err, behalf.ENOTFOUND)
	got, err = s.GetSubjectToken(t.Context(), "jti-b")
	ok(t, err)
	wantEqual(t, "GetSubjectToken after the sweep", got, b)
}
