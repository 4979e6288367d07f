package jwtverify_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTmpCorpus(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c, apiAudience)
	dir := os.Getenv("CORPUS")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		lines := strings.SplitN(string(b), "\n", 3)
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		_, err = v.Verify(ctx, s)
		cancel()
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Logf("%s: %v %v (len %d)", filepath.Base(f), d, err, len(s))
		}
	}
}
