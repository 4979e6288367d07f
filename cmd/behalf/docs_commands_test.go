package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Ensure every behalf command line the README and docs/*.md show in their
// code blocks names a command that exists, with flags it takes: the docs
// may not promise a command or a flag the binary does not have (issue 15).
func TestDocsCommandsExist(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	root := newRoot(context.Background(), nil, nil, nouns())
	checked := 0
	for _, file := range files {
		for _, l := range docCommandLines(t, file) {
			checked++
			if err := checkCommandLine(root, l.args); err != nil {
				t.Errorf("%s:%d: %q: %v", file, l.line, l.text, err)
			}
		}
	}
	for _, bad := range [][]string{{"workload", "frob"}, {"frob"}, {"workload", "create", "x", "--no-such-flag"}} {
		if checkCommandLine(root, bad) == nil {
			t.Errorf("behalf %s passes the check", strings.Join(bad, " "))
		}
	}
	t.Logf("%d command lines checked", checked)
	if checked < 50 {
		t.Fatalf("only %d command lines found in the docs", checked)
	}
}

// checkCommandLine reports whether args (after "behalf") name a command
// of root, with flags and a number of arguments it takes.
func checkCommandLine(root *cobra.Command, args []string) error {
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	defer cmd.Flags().VisitAll(func(f *pflag.Flag) { f.Changed = false })
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	positional := cmd.Flags().Args()
	if cmd.HasSubCommands() && len(positional) > 0 {
		return fmt.Errorf("no command %q under %q", positional[0], cmd.CommandPath())
	}
	return nil // leaf commands count their arguments when run (needArgs)
}

type docCommand struct {
	line int
	text string
	args []string // after "behalf"
}

// docCommandLines returns the command lines of file's fenced code blocks
// that run behalf ("behalf …", "$ behalf …", "go run ./cmd/behalf …",
// "./behalf …", after any VAR=value prefix), with continuation lines
// joined and everything from a pipe, redirection, ";", "&&" or "#" on cut.
func docCommandLines(t *testing.T, file string) []docCommand {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docCommand
	in, n := false, 0
	sc := bufio.NewScanner(f)
	var pending string
	start := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in, pending = !in, ""
			continue
		}
		if !in {
			continue
		}
		if pending != "" {
			line = pending + " " + strings.TrimSpace(line)
		} else {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			pending = strings.TrimSuffix(line, "\\")
			continue
		}
		pending = ""
		if args, ok := behalfArgs(line); ok {
			out = append(out, docCommand{line: start, text: strings.TrimSpace(line), args: args})
		}
	}
	return out
}

// behalfArgs splits a shell line and returns the arguments after behalf.
func behalfArgs(line string) ([]string, bool) {
	words := shellWords(line)
	i := 0
	if i < len(words) && words[i] == "$" {
		i++
	}
	for i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-") {
		i++ // VAR=value
	}
	switch {
	case i < len(words) && (words[i] == "behalf" || words[i] == "./behalf"):
		i++
	case i+2 < len(words) && words[i] == "go" && words[i+1] == "run" && words[i+2] == "./cmd/behalf":
		i += 3
	default:
		return nil, false
	}
	args := words[i:]
	if len(args) > 0 && strings.HasSuffix(args[0], ":") {
		return nil, false // a line of output ("behalf bench: …")
	}
	for j, w := range args {
		if w == "|" || w == "&&" || w == ";" || w == "&" || strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>") || strings.HasPrefix(w, "#") || strings.HasPrefix(w, "(") {
			args = args[:j]
			break
		}
		if w == "…" {
			args[j] = "VALUE" // an elided value
		}
	}
	return args, true
}

// shellWords splits s as a POSIX shell would for plain words, single and
// double quotes; enough for the docs' command lines.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
