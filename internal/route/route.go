// Package route names the requests Behalf serves. Each route is named
// once, where it is mounted (package api's mux, the hosted login of
// package userpool/oidcop), and the name travels in the request's context
// to what reads it before the handler runs or after it answers: the rate
// limits and the in-flight bounds (package ratelimit, which answer in the
// route's Kind), the request log line, the metrics and the trace span
// names (package observe). Nothing else derives a request's name from its
// path.
package route

import (
	"context"
	"net/http"
)

// Kind is the API family of a route: it decides the shape of the errors
// answered for it.
type Kind uint8

const (
	// None is the zero Kind: no route matched.
	None Kind = iota
	// AWSJSON is restJson1 (AgentCore's control and data planes,
	// InvokeAgentRuntime, Behalf's administration, the connections API),
	// and the JSON documents of the user pools (JWKS, discovery).
	AWSJSON
	// Cognito is cognito-idp's AWS JSON 1.1 on POST /.
	Cognito
	// OAuth is the hosted login's OAuth 2.0 endpoints (token, userInfo,
	// revoke): RFC 6749 error documents.
	OAuth
	// HTML is the browser pages: the consent flow's, the binding page,
	// the browser sign-in's callback, the connections page, and the
	// hosted login's pages.
	HTML
	// Health is the liveness and readiness probes.
	Health
)

var kindNames = [...]string{None: "None", AWSJSON: "AWSJSON", Cognito: "Cognito", OAuth: "OAuth", HTML: "HTML", Health: "Health"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// Route is what a request is for. Its Name is an operation's or a page's
// name from a fixed vocabulary (never a value the client chose), usable
// as a metric label; it is empty when only the family is known (a POST /
// whose X-Amz-Target names no cognito-idp operation).
type Route struct {
	Name string
	Kind Kind
}

type key struct{}

// With returns r with rt in its context.
func With(r *http.Request, rt Route) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), key{}, rt))
}

// Of returns the route of r, and false when r was not named.
func Of(r *http.Request) (Route, bool) {
	rt, ok := r.Context().Value(key{}).(Route)
	return rt, ok
}
