// Package oauth is Behalf's outbound OAuth 2.0 client side: the catalogue
// of built-in vendors (LookupVendor, VendorFor), discovery of custom
// authorization servers (Discover), and the choice of client
// authentication method at their token endpoints (ChooseAuthMethod).
//
// Built-in endpoints are constants compiled into the binary; nothing is
// fetched for them. Discovery documents are fetched through
// internal/safehttp, so admin-supplied URLs cannot reach internal
// services unless the operator allows private endpoints.
//
// Errors about admin input are behalf.Invalid errors naming the offending
// wire field (see the *Field constants); where a lower-level cause exists
// it is wrapped alongside for logs.
package oauth
