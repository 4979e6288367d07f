// Package web serves Behalf's browser pages: the consent flow's redirects
// (/identities/oauth2/authorize and /identities/oauth2/callback/{id}) and
// their error pages. Pages are server-rendered, need no JavaScript, and never
// show a token, a code or a state value.
package web
