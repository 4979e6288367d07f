package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Ensure the offline administrative commands, which write the store
// without an access key, are audited with the OS user who ran them
// (issue 15): `behalf keys rotate` (the key-encryption key, a signing key),
// `keys rewrap` and `keys retire` in the database they changed, and `behalf restore` in the database it
// restored, after the backup's own history.
func TestOfflineCommandsAudited(t *testing.T) {
	s := startMain(t, serverOptions{})
	mustCLI(t, "keys", "rotate", "--data-dir", s.DataDir)
	mustCLI(t, "keys", "rotate", "--signing", "--use", "wat", "--data-dir", s.DataDir)
	mustCLI(t, "keys", "rewrap", "--data-dir", s.DataDir)
	mustCLI(t, "keys", "retire", "1", "--data-dir", s.DataDir)
	backup := filepath.Join(t.TempDir(), "backup.db")
	mustCLI(t, "backup", "--data-dir", s.DataDir, backup)

	dir2 := filepath.Join(t.TempDir(), "restored")
	copyKeyFile(t, s.DataDir, dir2, "kek")
	copyKeyFile(t, s.DataDir, dir2, "kek.2")
	mustCLI(t, "restore", "--data-dir", dir2, backup)

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(dir2, "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	es, err := db.QueryAudit(ctx, behalf.AuditQuery{Principal: localActor()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Kind+" "+e.Resource)
	}
	want := []string{
		behalf.AuditAdminRestore + " " + filepath.Join(dir2, "behalf.db"),
		behalf.AuditAdminRetireKey + " kek",
		behalf.AuditAdminRewrapKeys + " kek",
		behalf.AuditAdminRotateKeys + " wat",
		behalf.AuditAdminRotateKeys + " kek",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events by %s, newest first:\n%s\nwant\n%s", localActor(), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(localActor(), "local:") || localActor() == "local:" {
		t.Errorf("actor %q", localActor())
	}
	if d := es[0].Detail; !strings.Contains(d, "restored from "+backup) {
		t.Errorf("restore detail %q", d)
	}
	if d := es[4].Detail; !strings.Contains(d, "version 2 (file)") || !strings.Contains(d, "data key(s)") {
		t.Errorf("rotate detail %q", d)
	}
}
