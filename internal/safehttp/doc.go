// Package safehttp makes outbound HTTP requests to URLs that admins supply
// (discovery documents, token endpoints, agent runtimes) without letting them reach
// internal services (server-side request forgery).
//
// Two layers guard every request made through a client from NewClient:
//
//   - CheckURL statically checks each URL, the first and every redirect
//     hop: https only (http only for loopback or private hosts when private
//     endpoints are allowed), no user name or password, no literal
//     loopback, private, link-local or otherwise non-public address.
//   - The dialer's Control hook checks the IP address actually connected to,
//     after DNS resolution, so a name that resolves (or rebinds) to a
//     private address is refused too.
//
// NewTransport applies the second layer alone to proxied traffic (agent
// runtimes, gateway targets), whose URLs are checked with CheckURL when
// they are configured.
//
// Both are relaxed only by Options.AllowPrivate, which the operator turns on
// with the --allow-private-endpoints flag. Errors are *Error values whose
// messages are plain words fit for API responses; the underlying network,
// TLS or JSON error stays reachable through errors.Unwrap for logs.
package safehttp
