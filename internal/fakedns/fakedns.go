// Package fakedns is a test stand-in for DNS: a *net.Resolver that answers
// from a fixed table, in process, without the network. Tests use it to
// make a host name resolve to a loopback or private address (the SSRF
// guard's connect-time check must then refuse it) or to a live test
// server, through the same dialer code that production uses.
package fakedns

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// Resolver answers A and AAAA queries for the names of a table and
// NXDOMAIN for every other name. Names are matched without case and
// without a trailing dot. A name mapped to no address at all never
// answers: lookups of it time out (use a short timeout).
type Resolver struct {
	mu    sync.Mutex
	names map[string][]netip.Addr
}

// New returns a Resolver for names (host name → addresses).
func New(names map[string][]string) *Resolver {
	r := &Resolver{names: map[string][]netip.Addr{}}
	for name, addrs := range names {
		r.Set(name, addrs...)
	}
	return r
}

// Set maps name to addrs (none: the name hangs), replacing what it was.
func (r *Resolver) Set(name string, addrs ...string) {
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if out == nil {
		out = []netip.Addr{}
	}
	r.names[canonical(name)] = out
}

// NetResolver returns a *net.Resolver (Go's own resolver, PreferGo) whose
// every DNS query this Resolver answers. /etc/hosts is still read first,
// so use names that are not in it (for example under .test).
func (r *Resolver) NetResolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: r.dial}
}

func canonical(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

// dial connects Go's resolver to an in-process server. A net.Pipe is not a
// PacketConn, so the resolver speaks DNS over TCP framing on it.
func (r *Resolver) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	go r.serve(server)
	return client, nil
}

// serve answers length-prefixed DNS queries on c until it is closed.
func (r *Resolver) serve(c net.Conn) {
	defer c.Close()
	for {
		var n [2]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		answer, ok := r.answer(msg)
		if !ok {
			// A hanging name: hold the connection until the resolver gives up.
			io.Copy(io.Discard, c)
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(answer)))
		if _, err := c.Write(append(out, answer...)); err != nil {
			return
		}
	}
}

// answer builds the response to one query; ok is false for a name that
// must hang.
func (r *Resolver) answer(query []byte) (resp []byte, ok bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, true
	}
	q, err := p.Question()
	if err != nil {
		return nil, true
	}
	r.mu.Lock()
	addrs, known := r.names[canonical(q.Name.String())]
	r.mu.Unlock()
	if known && len(addrs) == 0 {
		return nil, false
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	for _, a := range addrs {
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			b.AResource(rr, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6() && !a.Is4In6():
			b.AAAAResource(rr, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil, true
	}
	return out, true
}
