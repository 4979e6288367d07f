package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveLimited serves h on loopback behind a connLimit of max.
func serveLimited(t *testing.T, max int, h http.Handler) (*connLimit, string, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newConnLimit(ln, max)
	hs := &http.Server{Handler: h, ConnState: l.ConnState}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	t.Cleanup(func() { hs.Close() })
	return l, "http://" + ln.Addr().String(), served
}

// get sends GET url on a client of its own (its own connections).
func get(url string) error {
	c := &http.Client{Transport: &http.Transport{}}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Ensure the listener holds at most its bound of connections open (issue
// 11, reliability 1: 13,829 descriptors under overload): with both
// connections busy, a third client is not served until one closes.
func TestConnLimitBound(t *testing.T) {
	entered, release := make(chan string, 3), make(chan struct{})
	l, url, _ := serveLimited(t, 2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- r.URL.Path
		if r.URL.Path != "/third" {
			<-release
		}
	}))
	l.idleEvict = 10 * time.Millisecond // busy connections are never closed; these soon idle
	done := make(chan error, 3)
	for _, p := range []string{"/a", "/b"} {
		go func() { done <- get(url + p) }()
		<-entered
	}
	if l.Open() != 2 {
		t.Fatalf("open = %d, want 2", l.Open())
	}
	go func() { done <- get(url + "/third") }()
	select {
	case p := <-entered:
		t.Fatalf("%s was served past the bound", p)
	case <-time.After(200 * time.Millisecond): // only to see nothing happen
	}
	close(release)
	if p := <-entered; p != "/third" {
		t.Fatalf("entered %s", p)
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// Ensure at the bound a connection left idle between requests is closed
// for a new client, and that closing the listener ends a wait for a slot.
func TestConnLimitIdleAndClose(t *testing.T) {
	l, url, served := serveLimited(t, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	l.idleEvict = time.Millisecond
	keeper := &http.Client{Transport: &http.Transport{}} // keeps its connection open, idle
	resp, err := keeper.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := get(url); err != nil {
		t.Fatalf("a new client while another's connection idles at the bound: %v", err)
	}

	// A busy connection is not closed; closing the listener ends the wait.
	release := make(chan struct{})
	l2, url2, served2 := serveLimited(t, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	l2.idleEvict = time.Millisecond
	go get(url2)
	for l2.Open() != 1 {
		time.Sleep(time.Millisecond)
	}
	go get(url2) // waits in the accept queue
	l2.Close()
	if err := <-served2; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
	close(release)
	l.Close()
	<-served
}
