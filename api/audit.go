package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Every successful administrative change made through the API is audited
// here, in one place: serveOperation (restJson1) and serveCognito (the
// signed cognito-idp operations) append an event of kind "admin.<Op>"
// (behalf.AuditAdminPrefix + the operation's wire name) naming the caller's
// access key (Actor) and the resource it acted on (Resource), read from the
// request's path and body or from the answer as the route declares. The
// event holds no request body: no secret (client secret, password, API
// key) reaches the log.
//
// Whether an operation is such a change is declared on its route (effect),
// not guessed from its name; TestEveryOperationIsClassified checks that
// every route says.
//
// Refusals are not audited: a failed operation changed nothing, and a
// scoped key refused a root-only operation leaves its request log line
// (op, status 403) without costing the database a write per refused
// request.

// AuditAppender appends audit events (a behalf.AuditStore).
type AuditAppender interface {
	AppendAudit(ctx context.Context, e *behalf.AuditEvent) error
}

// effectKind is what an operation does, as far as the audit cares.
type effectKind uint8

const (
	// unclassified is the zero value: a route that says nothing, which
	// the tests refuse.
	unclassified effectKind = iota
	// effectReads: the operation only reads; it is not audited.
	effectReads
	// effectChanges: the operation is an administrative change; each
	// success is audited as admin.<Op>.
	effectChanges
	// effectUserCall: an agent's or a user's own call (the data plane,
	// sign-in, sign-up, a user's MFA or password): not an administrative
	// action. The vault audits what such calls do to grants (grant.*).
	effectUserCall
)

// effect is a route's declared effect and, for changes, where the resource
// it acts on is named.
type effect struct {
	kind     effectKind
	resource []resourcePart
}

// reads declares an operation that only reads.
func reads() effect { return effect{kind: effectReads} }

// userCall declares an agent's or a user's own operation.
func userCall() effect { return effect{kind: effectUserCall} }

// changes declares an administrative change whose resource is the parts,
// joined by "/" (a pool id and a user name: "us-east-1_X/alice").
func changes(parts ...resourcePart) effect { return effect{kind: effectChanges, resource: parts} }

// resourcePart names where one part of a resource's identifier is read.
type resourcePart struct {
	from resourceFrom
	name string // the path value's name, or a member path ("UserPool.Id")
}

type resourceFrom uint8

const (
	fromPathValue resourceFrom = iota + 1
	fromRequest
	fromAnswer
)

// fromPath reads a path value of the route's pattern ("agentRuntimeId").
func fromPath(name string) resourcePart { return resourcePart{fromPathValue, name} }

// fromBody reads a string member of the request body; dots name nested
// members.
func fromBody(member string) resourcePart { return resourcePart{fromRequest, member} }

// fromOut reads a string member of the answer (an id the server
// generated); dots name nested members.
func fromOut(member string) resourcePart { return resourcePart{fromAnswer, member} }

// resourceOf returns the identifier of the resource the operation acted
// on, as e names it: only the named members are read, never the rest of
// the request or answer.
func (e effect) resourceOf(r *http.Request, body []byte, out any) string {
	var in, answer map[string]any
	var parts []string
	for _, p := range e.resource {
		var v string
		switch p.from {
		case fromPathValue:
			v = r.PathValue(p.name)
		case fromRequest:
			if in == nil {
				in = jsonObject(body)
			}
			v = member(in, p.name)
		case fromAnswer:
			if answer == nil {
				if h, ok := out.(withHeaders); ok {
					out = h.body
				}
				b, _ := json.Marshal(out)
				answer = jsonObject(b)
			}
			v = member(answer, p.name)
		}
		if v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, "/")
}

// jsonObject decodes b as one JSON object; anything else is an empty one.
func jsonObject(b []byte) map[string]any {
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return map[string]any{}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return map[string]any{}
	}
	return m
}

// member returns the string (or number) at the dotted path in m, or "".
func member(m map[string]any, path string) string {
	var v any = m
	for name := range strings.SplitSeq(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = obj[name]
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// auditTimeout bounds the audit write: the change is made, and its caller
// waits for at most this more.
const auditTimeout = 5 * time.Second

// audit appends the admin.<op> event of a successful operation of effect e
// (nothing for other effects, or when the server has no Audit): the
// caller's access key, the resource, the request id in Detail. The write
// outlives a caller who hung up; a failure is logged, never returned.
func (s *Server) audit(ctx context.Context, r *http.Request, op string, e effect, body []byte, out any) {
	if s.Audit == nil || e.kind != effectChanges {
		return
	}
	ev := &behalf.AuditEvent{
		Time: time.Now(), Kind: behalf.AuditAdminPrefix + op,
		Resource: e.resourceOf(r, body, out), Detail: "request " + RequestID(ctx),
	}
	if p, ok := behalf.PrincipalFrom(ctx); ok {
		ev.Actor = p.AccessKeyID
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if err := s.Audit.AppendAudit(actx, ev); err != nil {
		s.Log.ErrorContext(ctx, "append audit event", "kind", ev.Kind, "resource", ev.Resource, "err", err)
	}
}
