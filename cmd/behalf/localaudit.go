package main

// The offline administrative commands (`behalf keys rotate|rewrap|retire`,
// `behalf restore`) write the store directly, with no access key: they are
// audited with the operating-system user who ran them as the actor.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// localActor is the actor of an offline command's audit event:
// "local:<username>" of the OS user running it (its uid when the user has
// no name).
func localActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "local:" + u.Username
	}
	return "local:uid-" + strconv.Itoa(os.Getuid())
}

// auditLocal appends an offline command's admin event to store. The
// command's change is made: a failed append is reported on stderr, never
// returned.
func auditLocal(ctx context.Context, store behalf.AuditStore, stderr io.Writer, kind, resource, detail string) {
	e := &behalf.AuditEvent{Time: time.Now(), Kind: kind, Actor: localActor(), Resource: resource, Detail: detail}
	if err := store.AppendAudit(ctx, e); err != nil {
		fmt.Fprintf(stderr, "behalf: warning: the change is made, but its audit event %s could not be recorded: %v\n", kind, err)
	}
}

// keeperKind says where a key-encryption key is kept, for an audit
// event: "file", "base64key", or a KMS URL's scheme (never the URL).
func keeperKind(keeper string) string {
	if scheme, _, ok := strings.Cut(keeper, "://"); ok {
		return scheme
	}
	return keeper
}
