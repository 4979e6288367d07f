package agentruntime

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
)

// Runtime sessions and endpoints in the gateway.
//
// An invocation names an endpoint by its qualifier (DEFAULT when none):
// DEFAULT serves the runtime's latest version, a named endpoint the version
// it points at. Its session id starts a session pinned to that version
// (an id the gateway made up, for a caller that sent none, only once the
// caller sends it back: invocations without a session id cost nothing), as an AgentCore session keeps
// the microVM it started on: later invocations with the id reach the same
// version, its upstream and authorizer, even after the endpoint moves,
// until the session ends (idle for the runtime's idle timeout, at its
// maximum lifetime, or by StopRuntimeSession). The next invocation with an
// ended session's id starts a new session on the endpoint's current version.
//
// What the agent is told: AgentCore terminates a stopped session's microVM;
// its HTTP contract (POST /invocations, GET /ping) has no message that a
// session ended, and Behalf does not run the agent's process. So nothing is
// sent to the agent: the session is ended in Behalf, and an agent that keeps
// state per X-Amzn-Bedrock-AgentCore-Runtime-Session-Id must expire it by
// itself.
//
// Sessions are kept in memory and written behind to SessionStore, about
// once a second (FlushSessions), so that invocations do not wait for a
// write; every replica reads a session it does not know, and one it knows
// again after RuntimeCacheTTL, from the store. A session started on another
// replica less than a flush ago is not yet known to StopRuntimeSession.

// SessionFlushInterval is how often RunSessionFlusher writes sessions.
const SessionFlushInterval = time.Second

// maxSessions bounds the sessions held in memory; past it, sessions already
// written are forgotten (the store still has them).
const maxSessions = 100000

// Lifecycle defaults of a runtime that sets none (AgentCore's).
const (
	defaultIdleTimeout = 900 * time.Second
	defaultMaxLifetime = 28800 * time.Second
)

// VersionStore resolves named endpoints and older versions (the store).
type VersionStore interface {
	behalf.AgentRuntimeVersionStore
	behalf.AgentRuntimeEndpointStore
}

type sessionKey struct{ runtime, endpoint, id string }

// session is one session held in memory.
type session struct {
	version   string
	started   time.Time
	lastUsed  time.Time
	expires   time.Time
	checked   time.Time // last read from (or written to) the store
	unsaved   bool      // started here, not yet written
	dirtyUsed bool      // used since last written
}

type sessionTable struct {
	mu sync.Mutex
	m  map[sessionKey]*session
}

// target is what an invocation reaches: the runtime's configuration at the
// version its session is pinned to, and the session.
type target struct {
	rt      *behalf.AgentRuntime
	key     sessionKey
	version string
	// fresh: the session starts with this invocation.
	fresh bool
}

// lifetimes returns rt's idle timeout and maximum lifetime.
func lifetimes(rt *behalf.AgentRuntime) (idle, life time.Duration) {
	idle, life = defaultIdleTimeout, defaultMaxLifetime
	if rt.IdleSessionTimeout > 0 {
		idle = time.Duration(rt.IdleSessionTimeout) * time.Second
	}
	if rt.MaxLifetime > 0 {
		life = time.Duration(rt.MaxLifetime) * time.Second
	}
	return idle, life
}

func expiry(rt *behalf.AgentRuntime, started, used time.Time) time.Time {
	idle, life := lifetimes(rt)
	e := used.Add(idle)
	if end := started.Add(life); end.Before(e) {
		e = end
	}
	return e
}

// qualifier returns the endpoint an invocation names.
func qualifier(q url.Values) string {
	if v := q.Get("qualifier"); v != "" {
		return v
	}
	return behalf.DefaultEndpoint
}

// endpointVersion returns the version endpoint serves on rt.
func (g *Gateway) endpointVersion(ctx context.Context, rt *behalf.AgentRuntime, endpoint, ident string) (string, error) {
	if endpoint == behalf.DefaultEndpoint {
		return rt.Version, nil
	}
	missing := behalf.Errorf(behalf.ENOTFOUND, "Agent runtime %s has no endpoint %q.", ident, endpoint)
	if g.Versions == nil || !runtimeNamePattern.MatchString(endpoint) {
		return "", missing
	}
	key := rt.ID + "\x00" + endpoint
	now := g.now()
	if v, ok := g.endpoints.Get(key, now); ok {
		return v, nil
	}
	e, err := g.Versions.GetAgentRuntimeEndpoint(ctx, rt.ID, endpoint)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return "", missing
	}
	if err != nil {
		return "", err
	}
	g.endpoints.Put(key, e.Version, now.Add(RuntimeCacheTTL))
	return e.Version, nil
}

// atVersion returns rt's configuration at version (rt itself for its
// latest); versions never change, so they are cached longer.
func (g *Gateway) atVersion(ctx context.Context, rt *behalf.AgentRuntime, version string) (*behalf.AgentRuntime, error) {
	if version == rt.Version {
		return rt, nil
	}
	if g.Versions == nil {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "Agent runtime %s has no version %s.", rt.ID, version)
	}
	key := rt.ID + "\x00" + version
	now := g.now()
	if v, ok := g.versions.Get(key, now); ok {
		return v, nil
	}
	v, err := g.Versions.GetAgentRuntimeVersion(ctx, rt.ID, version)
	if err != nil {
		return nil, err
	}
	g.versions.Put(key, v, now.Add(time.Hour))
	return v, nil
}

// target resolves what an invocation of rt on endpoint with session id
// reaches. generated: the gateway made the id up, so no session has it.
func (g *Gateway) target(ctx context.Context, rt *behalf.AgentRuntime, endpoint, ident, id string, generated bool) (*target, error) {
	version, err := g.endpointVersion(ctx, rt, endpoint, ident)
	if err != nil {
		return nil, err
	}
	key := sessionKey{rt.ID, endpoint, id}
	t := &target{key: key, version: version, fresh: true}
	if !generated {
		if pinned, ok, err := g.pinned(ctx, key); err != nil {
			return nil, err
		} else if ok {
			t.version, t.fresh = pinned, false
		}
	}
	if t.rt, err = g.atVersion(ctx, rt, t.version); err != nil {
		if behalf.ErrorCode(err) != behalf.ENOTFOUND || t.fresh {
			return nil, err
		}
		// The pinned version is gone (the runtime was re-created): start over.
		t.version, t.fresh = version, true
		if t.rt, err = g.atVersion(ctx, rt, version); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// pinned returns the version the live session key is pinned to, reading
// the store when the session is not known here or was last read more than
// RuntimeCacheTTL ago (another replica may have stopped it).
func (g *Gateway) pinned(ctx context.Context, key sessionKey) (string, bool, error) {
	now := g.now()
	g.sessions.mu.Lock()
	s := g.sessions.m[key]
	if s != nil && !now.Before(s.expires) {
		delete(g.sessions.m, key)
		s = nil
	}
	if s != nil && (s.unsaved || g.SessionStore == nil || now.Sub(s.checked) < RuntimeCacheTTL) {
		v := s.version
		g.sessions.mu.Unlock()
		return v, true, nil
	}
	g.sessions.mu.Unlock()
	if g.SessionStore == nil {
		return "", false, nil
	}
	row, err := g.SessionStore.GetRuntimeSession(ctx, key.runtime, key.endpoint, key.id)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		g.forget(key, s)
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if s != nil && !row.StartedAt.Equal(s.started) || !now.Before(row.ExpiresAt) {
		// Stopped and started again elsewhere, or ended.
		g.forget(key, s)
		if now.Before(row.ExpiresAt) {
			s = nil
		} else {
			return "", false, nil
		}
	}
	g.sessions.mu.Lock()
	defer g.sessions.mu.Unlock()
	cur := g.sessions.m[key]
	if cur == nil {
		cur = &session{version: row.Version, started: row.StartedAt, lastUsed: row.LastUsedAt, expires: row.ExpiresAt}
		g.putSession(key, cur)
	}
	cur.checked = now
	return cur.version, true, nil
}

// forget drops key's session if it is still s.
func (g *Gateway) forget(key sessionKey, s *session) {
	if s == nil {
		return
	}
	g.sessions.mu.Lock()
	if g.sessions.m[key] == s {
		delete(g.sessions.m, key)
	}
	g.sessions.mu.Unlock()
}

// putSession stores s under key; the caller holds the lock.
func (g *Gateway) putSession(key sessionKey, s *session) {
	if g.sessions.m == nil {
		g.sessions.m = map[sessionKey]*session{}
	}
	if len(g.sessions.m) >= maxSessions {
		now := g.now()
		for k, old := range g.sessions.m {
			if !old.unsaved && !old.dirtyUsed || !now.Before(old.expires) {
				delete(g.sessions.m, k)
			}
		}
		if len(g.sessions.m) >= maxSessions {
			return // everything held is unsaved: track this one in the store only
		}
	}
	g.sessions.m[key] = s
}

// useSession records an authorized invocation of t.
func (g *Gateway) useSession(t *target) {
	now := g.now()
	g.sessions.mu.Lock()
	defer g.sessions.mu.Unlock()
	s := g.sessions.m[t.key]
	if t.fresh || s == nil || s.version != t.version {
		g.putSession(t.key, &session{version: t.version, started: now, lastUsed: now, expires: expiry(t.rt, now, now), checked: now, unsaved: true})
		return
	}
	s.lastUsed = now
	s.expires = expiry(t.rt, s.started, now)
	s.dirtyUsed = true
}

// FlushSessions writes the sessions started and used since the last flush
// to SessionStore (nothing without one) and forgets ended ones.
func (g *Gateway) FlushSessions(ctx context.Context) error {
	if g.SessionStore == nil {
		return nil
	}
	now := g.now()
	var started, used []*behalf.RuntimeSession
	var startedRefs, usedRefs []*session
	g.sessions.mu.Lock()
	for k, s := range g.sessions.m {
		switch {
		case !now.Before(s.expires):
			delete(g.sessions.m, k)
			continue
		case s.unsaved:
			started = append(started, s.record(k))
			startedRefs = append(startedRefs, s)
			s.unsaved, s.dirtyUsed, s.checked = false, false, now
		case s.dirtyUsed:
			used = append(used, s.record(k))
			usedRefs = append(usedRefs, s)
			s.dirtyUsed = false
		}
	}
	g.sessions.mu.Unlock()
	err := g.SessionStore.SaveRuntimeSessions(ctx, started, used)
	if err != nil {
		// Try again at the next flush.
		g.sessions.mu.Lock()
		for _, s := range startedRefs {
			s.unsaved = true
		}
		for _, s := range usedRefs {
			s.dirtyUsed = true
		}
		g.sessions.mu.Unlock()
	}
	return err
}

func (s *session) record(k sessionKey) *behalf.RuntimeSession {
	return &behalf.RuntimeSession{RuntimeID: k.runtime, Endpoint: k.endpoint, ID: k.id, Version: s.version,
		StartedAt: s.started, LastUsedAt: s.lastUsed, ExpiresAt: s.expires}
}

// RunSessionFlusher calls FlushSessions every interval until ctx is done,
// then once more.
func (g *Gateway) RunSessionFlusher(ctx context.Context, interval time.Duration) {
	g.init()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := g.FlushSessions(context.WithoutCancel(ctx)); err != nil {
				g.Log.Warn("write runtime sessions", "err", err)
			}
			return
		case <-t.C:
			if err := g.FlushSessions(ctx); err != nil && ctx.Err() == nil {
				g.Log.Warn("write runtime sessions", "err", err)
			}
		}
	}
}

// StopRuntimeSession ends a session of the runtime ident (an ARN or id) on
// endpoint qualifier ("" for DEFAULT), for a SigV4 caller p that may invoke
// the runtime. It returns ENOTFOUND for a runtime, endpoint or session
// that does not exist (or ended), EFORBIDDEN for p, EINVALID for a bad id.
func (g *Gateway) StopRuntimeSession(ctx context.Context, p behalf.Principal, ident, qualifierName, id string) error {
	g.init()
	if !validSessionID(id) {
		return behalf.Invalid("runtimeSessionId", "%s must be 33 to 256 characters from A-Z, a-z, 0-9, '.', '_', ':' and '-', starting with a letter or digit.", HeaderSessionID)
	}
	rid, err := g.runtimeID(ident, "")
	if err != nil {
		return err
	}
	rt, err := g.Runtimes.GetAgentRuntime(ctx, rid)
	switch code := behalf.ErrorCode(err); {
	case code == behalf.ENOTFOUND || code == behalf.EINVALID:
		return notFound(ident)
	case err != nil:
		return err
	}
	if err := mayInvoke(p, rt); err != nil {
		return err
	}
	endpoint := qualifierName
	if endpoint == "" {
		endpoint = behalf.DefaultEndpoint
	}
	if _, err := g.endpointVersion(ctx, rt, endpoint, ident); err != nil {
		return err
	}
	key := sessionKey{rt.ID, endpoint, id}
	now := g.now()
	g.sessions.mu.Lock()
	s := g.sessions.m[key]
	delete(g.sessions.m, key)
	g.sessions.mu.Unlock()
	liveHere := s != nil && now.Before(s.expires)
	if g.SessionStore != nil {
		_, err := g.SessionStore.DeleteRuntimeSession(ctx, rt.ID, endpoint, id, now)
		if err == nil || (behalf.ErrorCode(err) == behalf.ENOTFOUND && liveHere) {
			return nil
		}
		if behalf.ErrorCode(err) != behalf.ENOTFOUND {
			return err
		}
	} else if liveHere {
		return nil
	}
	return behalf.Errorf(behalf.ENOTFOUND, "Session %s of agent runtime %s was not found (it never started, ended, or was stopped).", id, rt.ID)
}

// runtimeID returns the runtime id in ident (an ARN in this region and
// account, or an id) and checks accountId.
func (g *Gateway) runtimeID(ident, accountID string) (string, error) {
	id := ident
	if region, account, rid, ok := behalf.ParseAgentRuntimeARN(ident); ok {
		if (g.Region != "" && region != g.Region) || (g.Account != "" && account != g.Account) {
			return "", notFound(ident)
		}
		id = rid
	} else if strings.HasPrefix(ident, "arn:") {
		return "", behalf.Invalid("agentRuntimeArn", "%q is not an agent runtime ARN.", ident)
	}
	if accountID != "" && g.Account != "" && accountID != g.Account {
		return "", notFound(ident)
	}
	if id == "" || len(id) > 100 {
		return "", notFound(ident)
	}
	return id, nil
}
