// Package identity is Behalf's identity service.
//
// The control plane (Service) holds workload identities, OAuth 2.0 and
// API-key credential providers, and the token vault's settings. It
// validates input, seals secrets through a behalf.Sealer, and persists
// through a behalf.Store; it knows nothing of wire formats.
//
//	CreateWorkload → validate → Store.CreateWorkload
//	CreateOAuth2Provider → vendor catalogue or discovery (oauth) → seal secret → Store
//	CreateAPIKeyProvider → seal key → Store
//
// The data plane is three roles, each with one job and its own state, and
// a facade over them; New builds them together:
//
//   - WATs mints and verifies workload access tokens (behalf.WATService;
//     wat.go, runtime_wat.go);
//   - Vault keeps users' tokens: grants read and refreshed once across
//     replicas, M2M tokens, API keys, connections listed and revoked, the
//     token-fetch audit (behalf.GrantVault, behalf.ConnectionService;
//     vault.go, refresh.go, m2m.go, connections.go, audit.go);
//   - Consent runs the three-legged consent: sessions, the browser's
//     authorization and callback, completion and binding to the user who
//     started the flow (behalf.ConsentService, behalf.BindService;
//     session.go, bind.go, complete.go);
//   - DataPlane answers agents from them (behalf.DataPlaneService;
//     dataplane.go, token.go).
//
// What the roles share (the clock, the auditor, providers' OAuth clients,
// the config cache) is in shared.go and cache.go.
package identity
