package behalf

import (
	"context"
	"time"
)

// Connection is one grant as its user sees it: which agent (workload) holds
// a token of which provider, for which scopes, since when, and when it was
// last used and refreshed. It never carries the token.
type Connection struct {
	GrantID    string
	Workload   string
	UserKey    string
	ProviderID string
	// ProviderName and ProviderVendor are empty when the provider was
	// deleted after the grant was made.
	ProviderName   string
	ProviderVendor string
	Scopes         []string
	// Account names the provider account linked ("" if the provider gave none).
	Account     string
	CreatedAt   time.Time
	LastUsedAt  time.Time // zero if never used
	RefreshedAt time.Time // zero if never refreshed
}

// Outcomes of revoking a grant's token at its provider. The grant itself is
// always deleted from Behalf first, whatever the provider answers.
const (
	// RevocationConfirmed: the provider accepted the revocation.
	RevocationConfirmed = "CONFIRMED"
	// RevocationRefused: the provider answered with an error.
	RevocationRefused = "REFUSED"
	// RevocationUnsupported: the provider has no revocation endpoint.
	RevocationUnsupported = "UNSUPPORTED"
	// RevocationFailed: the provider could not be asked (unreachable, its
	// configuration deleted, the token unreadable).
	RevocationFailed = "FAILED"
)

// Revocation is the result of revoking a connection.
type Revocation struct {
	Connection Connection
	// Provider is the provider's display name ("Google", or a custom
	// provider's name).
	Provider string
	// Outcome is one of the Revocation* constants.
	Outcome string
	// Detail is the provider's answer or the failure, for RevocationRefused
	// and RevocationFailed; it never holds a secret.
	Detail string
}

// Message is a sentence for the user saying what happened.
func (r *Revocation) Message() string {
	name := r.Provider
	if name == "" {
		name = "The provider"
	}
	switch r.Outcome {
	case RevocationConfirmed:
		return "Revoked. " + name + " confirmed the token is revoked."
	case RevocationRefused:
		return "Revoked in Behalf; the provider refused: " + r.Detail
	case RevocationUnsupported:
		return "Revoked in Behalf. " + name + " has no revocation endpoint; the grant was deleted from Behalf."
	}
	return "Revoked in Behalf; the provider could not be asked to revoke the token: " + r.Detail
}

// ConnectionService shows users the grants the vault holds for them and
// revokes them; administrators use it for any user.
type ConnectionService interface {
	// ListConnections returns userKey's grants (User.Key()), by workload
	// then provider; "" lists every user's.
	ListConnections(ctx context.Context, userKey string) ([]*Connection, error)
	// RevokeConnection deletes grant id from the vault, then revokes its
	// token at the provider and reports the provider's answer. With a
	// non-empty userKey only that user's grant can be revoked: another
	// user's id is ENOTFOUND, as a missing one is.
	RevokeConnection(ctx context.Context, userKey, id string) (*Revocation, error)
}

// VendorDisplayName returns how a provider vendor is named to users
// ("Google" for VendorGoogle); "" for VendorCustom and unknown vendors.
func VendorDisplayName(vendor string) string {
	switch vendor {
	case VendorGoogle:
		return "Google"
	case VendorGithub:
		return "GitHub"
	case VendorMicrosoft:
		return "Microsoft"
	case VendorSlack:
		return "Slack"
	case VendorSalesforce:
		return "Salesforce"
	case VendorAtlassian:
		return "Atlassian"
	case VendorLinkedin:
		return "LinkedIn"
	}
	return ""
}

// ProviderLabel names the connection's provider for users: the vendor
// ("Google"), else the provider's name, else that it was deleted.
func (c *Connection) ProviderLabel() string {
	if l := ProviderLabel(c.ProviderName, c.ProviderVendor); l != "" {
		return l
	}
	return "a deleted provider"
}

// ProviderLabel names a credential provider for people: its vendor's
// display name ("Google"), else the provider's own name.
func ProviderLabel(name, vendor string) string {
	if n := VendorDisplayName(vendor); n != "" {
		return n
	}
	return name
}

// Paths of the connections page (package web) and of the connections API
// for apps (package api), under the public URL.
const (
	ConnectionsPath        = "/connections"
	ConnectionsRevokePath  = ConnectionsPath + "/revoke"
	ConnectionsSignOutPath = ConnectionsPath + "/sign-out"
	ConnectionsAPIPath     = ConnectionsPath + "/api/grants"
)
