package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// Ensure a lockout answer does not tell which user names exist, across a
// restart (issue 11, security 6: "lockout of unknown names lives only in
// memory, so after a restart (or on another replica) a real user shows
// 'Password attempts exceeded' where an unknown one does not"). A real
// user with wrong passwords and a name no user has are failed in step, each
// attempt at the end of the last lock, until both are locked for 32 s; the
// server restarts over the same data directory and database; both are
// still locked out, the user even with the right password, and every
// answer, before and after, is the same for both.
func TestAttackEnumerationLockoutAfterRestart(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clock := &testClock{}
			database := dsn(t)
			s, stop := startStoppable(t, serverOptions{database: database, now: clock.Now})
			c := s.cognito(t)
			f := newPoolFixture(t, ctx, c, "enum")
			const password = "Perm-Pass-1!"
			f.createUser(t, ctx, c, "alice", password)

			// answer signs in as name and returns the error's code and message.
			answer := func(srv *testServer, name, pw string) string {
				t.Helper()
				_, err := f.signIn(ctx, srv.cognito(t), name, pw)
				var ae smithy.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("sign in as %s: %v, want an API error", name, err)
				}
				return ae.ErrorCode() + ": " + ae.ErrorMessage()
			}
			const (
				incorrect = "NotAuthorizedException: Incorrect username or password."
				exceeded  = "NotAuthorizedException: Password attempts exceeded"
			)
			alike := func(srv *testServer, attempt, alicePassword, want string) {
				t.Helper()
				user, none := answer(srv, "alice", alicePassword), answer(srv, "mallory", "Wrong-Pass-1!")
				if user != none || user != want {
					t.Fatalf("attempt %s: alice %q, unknown name %q; want both %q", attempt, user, none, want)
				}
			}

			lock := time.Duration(0)
			for n := 1; n <= 10; n++ {
				clock.Advance(lock) // the end of the last lock: the attempt counts
				alike(s, fmt.Sprintf("wrong password %d", n), "Wrong-Pass-1!", incorrect)
				if n >= 5 {
					lock = time.Second << (n - 5)
				}
			}
			alike(s, "while locked", password, exceeded) // 32 s from the 10th failure

			stop()
			s2, _ := startStoppable(t, serverOptions{database: database, dataDir: s.DataDir, now: clock.Now})
			alike(s2, "after the restart", password, exceeded)

			clock.Advance(lock)
			if _, err := f.signIn(ctx, s2.cognito(t), "alice", password); err != nil {
				t.Fatalf("alice after the lock: %v", err)
			}
			if got := answer(s2, "mallory", "Wrong-Pass-1!"); got != incorrect {
				t.Fatalf("the unknown name after the lock: %q, want %q", got, incorrect)
			}
		})
	}
}
