// Package web serves Behalf's browser pages: the consent flow's redirects
// (/identities/oauth2/authorize and /identities/oauth2/callback/{id}) and
// their error pages; Behalf's own session-binding page (Bind, at
// /identities/oauth2/bind); and the browser sign-in it and other pages rely
// on (SignIn: Behalf as an OpenID relying party of a user pool or a
// registered issuer, callback /identities/oauth2/signin/callback, with
// Behalf's sealed session cookie and CSRF tokens). Pages are
// server-rendered, need no JavaScript (their CSP forbids scripts), and never
// show a token, a code or a state value.
package web
