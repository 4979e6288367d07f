package main

import (
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// defaultMaxConnections is --max-connections' default: 1024 per GOMAXPROCS.
func defaultMaxConnections() int { return 1024 * runtime.GOMAXPROCS(0) }

// connLimit is a listener that holds at most max connections open, so
// that clients opening connection after connection (as clients do when
// answers are slow) cannot grow the server's file descriptors, goroutines
// and buffers without bound. At the bound it accepts nothing until a
// connection closes: new connections wait in the kernel's accept queue,
// costing the process nothing. So that clients keeping connections open
// between requests cannot hold every slot, it then closes connections
// idle for connIdleEvict or longer, the longest idle first.
//
// Its ConnState method must be the http.Server's ConnState: it tells idle
// connections from busy ones.
type connLimit struct {
	net.Listener
	slots chan struct{}
	done  chan struct{} // closed by Close
	once  sync.Once

	// idleEvict is connIdleEvict but in tests.
	idleEvict time.Duration

	mu   sync.Mutex
	idle map[net.Conn]time.Time // since when each idle connection is
}

// connIdleEvict is how long a connection must have been idle for connLimit
// to close it at the bound: long enough that its client is not about to
// send its next request (which closing it would cut off), short enough
// that a new client waits little for its slot.
const connIdleEvict = 5 * time.Second

func newConnLimit(ln net.Listener, max int) *connLimit {
	return &connLimit{Listener: ln, slots: make(chan struct{}, max), done: make(chan struct{}), idleEvict: connIdleEvict, idle: map[net.Conn]time.Time{}}
}

// Accept waits for a free slot, closing idle connections while there is
// none, then accepts a connection.
func (l *connLimit) Accept() (net.Conn, error) {
	if err := l.acquire(); err != nil {
		return nil, err
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, l: l}, nil
}

func (l *connLimit) acquire() error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	tick := time.NewTicker(max(l.idleEvict/4, time.Millisecond))
	defer tick.Stop()
	for {
		l.closeIdle()
		select {
		case l.slots <- struct{}{}:
			return nil
		case <-l.done:
			return net.ErrClosed
		case <-tick.C:
		}
	}
}

// Close closes the listener and ends a wait for a slot.
func (l *connLimit) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Open returns how many connections are open.
func (l *connLimit) Open() int { return len(l.slots) }

// ConnState tracks which connections are idle (http.Server.ConnState).
func (l *connLimit) ConnState(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if state == http.StateIdle {
		l.idle[c] = time.Now()
	} else {
		delete(l.idle, c)
	}
}

// closeIdle closes the connection idle longest if it has been idle for
// connIdleEvict: its client opens another when it next needs one, as after
// the server's idle timeout.
func (l *connLimit) closeIdle() {
	l.mu.Lock()
	var oldest net.Conn
	since := time.Now().Add(-l.idleEvict)
	for c, t := range l.idle {
		if !t.After(since) {
			oldest, since = c, t
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest != nil {
		oldest.Close()
	}
}

// limitedConn frees its slot when closed.
type limitedConn struct {
	net.Conn
	l    *connLimit
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.idle, c)
		c.l.mu.Unlock()
		<-c.l.slots
	})
	return err
}
