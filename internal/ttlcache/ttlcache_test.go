package ttlcache

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	var c Cache[string, int]
	now := time.Now()
	c.Put("a", 1, now.Add(time.Second))
	if v, ok := c.Get("a", now); !ok || v != 1 {
		t.Fatalf("Get = %d, %v", v, ok)
	}
	if _, ok := c.Get("a", now.Add(time.Second)); ok {
		t.Fatal("an expired entry was returned")
	}
	c.Delete("a")
	if _, ok := c.Get("a", now); ok {
		t.Fatal("a deleted entry was returned")
	}
	for i := range MaxEntries + 1 {
		c.Put(string(rune(i)), i, now.Add(time.Hour))
	}
	if n := len(c.entries); n > MaxEntries {
		t.Fatalf("%d entries, want at most %d", n, MaxEntries)
	}
}
