// Package identity is Behalf's identity service. This file set holds the
// control plane: workload identities, OAuth 2.0 and API-key credential
// providers, and the token vault's settings. It validates input, seals
// secrets through a behalf.Sealer, and persists through a behalf.Store; it
// knows nothing of wire formats.
//
//	CreateWorkload → validate → Store.CreateWorkload
//	CreateOAuth2Provider → vendor catalogue or discovery (oauth) → seal secret → Store
//	CreateAPIKeyProvider → seal key → Store
package identity
