// Package oauth is Behalf's outbound OAuth 2.0 client side: the catalogue
// of built-in vendors (LookupVendor, VendorFor), discovery of custom
// authorization servers (Discover), the choice of client authentication
// method at their token endpoints (ChooseAuthMethod), and the flows
// themselves (Client: AuthCodeURL, Exchange, Refresh, ClientCredentials),
// built on golang.org/x/oauth2.
//
// Built-in endpoints are constants compiled into the binary; nothing is
// fetched for them. Discovery documents and token requests go through
// internal/safehttp, so admin-supplied URLs cannot reach internal
// services unless the operator allows private endpoints.
//
// Errors about admin input are behalf.Invalid errors naming the offending
// wire field (see the *Field constants); where a lower-level cause exists
// it is wrapped alongside for logs. Token request errors are classified
// with ErrInvalidGrant (the grant is dead), IsTransient and RetryAfter
// (keep the grant, retry later).
package oauth
