package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// cliMain runs a command line as main does and returns its exit status,
// stdout and stderr.
func cliMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runMain(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// Ensure every command's --help, -h and `behalf help CMD` print its help
// on stdout and exit 0, as gh and kubectl do.
func TestCLIHelpEveryCommand(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(newRoot(context.Background(), nil, nil, nouns()), nil)
	if len(paths) < 60 {
		t.Fatalf("only %d commands in the tree", len(paths))
	}
	for _, path := range paths {
		for _, args := range [][]string{append(path, "--help"), append(path, "-h"), append([]string{"help"}, path...)} {
			code, out, errOut := cliMain(t, args...)
			if code != 0 || errOut != "" || !strings.Contains(out, "Usage:") {
				t.Fatalf("behalf %s: exit %d, stdout %q, stderr %q; want the help on stdout, exit 0", strings.Join(args, " "), code, out, errOut)
			}
		}
	}
	_, out, _ := cliMain(t, "help", "workload", "create")
	for _, want := range []string{"behalf workload create NAME", "--return-url", "-o, --output", "--endpoint-url"} {
		if !strings.Contains(out, want) {
			t.Errorf("behalf help workload create lacks %q:\n%s", want, out)
		}
	}
	if _, out, _ := cliMain(t, "help", "workload"); !strings.Contains(out, "set-binding") || strings.Contains(out, "serve") {
		t.Errorf("behalf help workload prints another command's help:\n%s", out)
	}
}

// Ensure usage errors exit 2 with the error printed once on stderr, say
// "unknown command" with suggestions, and print nothing on stdout.
func TestCLIUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"workload", "frob"}, []string{`unknown command "frob" for "behalf workload"`, "Run 'behalf workload --help' for usage."}},
		{[]string{"workload", "creat"}, []string{`unknown command "creat" for "behalf workload"`, "Did you mean this?\n\tcreate"}},
		{[]string{"wrkload", "list"}, []string{`unknown command "wrkload" for "behalf"`, "Did you mean this?\n\tworkload"}},
		{[]string{"workload", "list", "--frob"}, []string{"unknown flag: --frob", "Run 'behalf workload list --help' for usage."}},
		{[]string{"workload", "list", "-o", "xml"}, []string{`--output must be table, json or yaml, not "xml"`}},
		{[]string{"help", "frob"}, []string{`unknown help topic "frob"`}},
		{[]string{"serve", "extra"}, []string{`serve takes no arguments`}},
		{[]string{"serve", "--account-id", "12"}, []string{`--account-id must be 12 digits`}},
		{[]string{"demo", "--seed-files", "x"}, []string{`invalid argument "x" for "--seed-files"`}},
	}
	for _, tc := range cases {
		code, out, errOut := cliMain(t, tc.args...)
		if code != 2 || out != "" {
			t.Errorf("behalf %s: exit %d, stdout %q; want exit 2, nothing on stdout", strings.Join(tc.args, " "), code, out)
		}
		for _, want := range tc.want {
			if strings.Count(errOut, want) != 1 {
				t.Errorf("behalf %s: stderr %q; want %q once", strings.Join(tc.args, " "), errOut, want)
			}
		}
	}
}

// Ensure the old single-dash long flags still work, with a deprecation
// note, rather than being read as short flags (-output as -o utput).
func TestCLISingleDashFlags(t *testing.T) {
	code, _, errOut := cliMain(t, "workload", "list", "-output", "xml")
	if code != 2 || !strings.Contains(errOut, "-output is deprecated; use --output") || !strings.Contains(errOut, `not "xml"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := cliMain(t, "workload", "-help"); code != 0 || !strings.Contains(out, "Usage:") {
		t.Fatalf("-help: exit %d, stdout %q", code, out)
	}
}

// Ensure `behalf completion SHELL` prints a completion script.
func TestCLICompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_behalf", "zsh": "#compdef behalf", "fish": "complete -c behalf", "powershell": "Register-ArgumentCompleter"} {
		code, out, errOut := cliMain(t, "completion", shell)
		if code != 0 || errOut != "" || !strings.Contains(out, want) {
			t.Errorf("behalf completion %s: exit %d, stderr %q, script lacks %q", shell, code, errOut, want)
		}
	}
}

// Ensure `behalf version` reports the build information: module version,
// VCS revision and whether the tree was modified.
func TestCLIVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/behalf-dev/behalf", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionOf(info), "v0.3.0 (revision 0123456789abcdef, 2026-01-02T03:04:05Z, dirty, go1.26.8)"; got != want {
		t.Fatalf("version %q, want %q", got, want)
	}
	code, out, _ := cliMain(t, "version")
	if code != 0 || !strings.HasPrefix(out, "behalf ") || strings.TrimSpace(out) == "behalf dev" {
		t.Fatalf("behalf version: exit %d, %q", code, out)
	}
	if code, out2, _ := cliMain(t, "--version"); code != 0 || out2 != out {
		t.Fatalf("behalf --version: exit %d, %q, want %q", code, out2, out)
	}
}
