package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// tokenSetJSON is the sealed form of a behalf.TokenSet. Secrets are
// revealed only here, straight into the sealer.
type tokenSetJSON struct {
	AccessToken  string    `json:"a"`
	TokenType    string    `json:"t,omitempty"`
	RefreshToken string    `json:"r,omitempty"`
	IDToken      string    `json:"i,omitempty"`
	Expiry       time.Time `json:"e,omitzero"`
	Scopes       []string  `json:"s,omitempty"`
}

func sealTokenSet(ctx context.Context, sealer behalf.Sealer, sc behalf.SealContext, ts behalf.TokenSet) (behalf.Sealed, error) {
	b, err := json.Marshal(tokenSetJSON{ts.AccessToken.Reveal(), ts.TokenType, ts.RefreshToken.Reveal(), ts.IDToken.Reveal(), ts.Expiry, ts.Scopes})
	if err != nil {
		return nil, fmt.Errorf("encode token set: %w", err)
	}
	return sealer.Seal(ctx, sc, b)
}

func openTokenSet(ctx context.Context, sealer behalf.Sealer, sc behalf.SealContext, sealed behalf.Sealed) (behalf.TokenSet, error) {
	b, err := sealer.Open(ctx, sc, sealed)
	if err != nil {
		return behalf.TokenSet{}, err
	}
	var j tokenSetJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return behalf.TokenSet{}, fmt.Errorf("decode token set: %w", err)
	}
	return behalf.TokenSet{AccessToken: behalf.Secret(j.AccessToken), TokenType: j.TokenType, RefreshToken: behalf.Secret(j.RefreshToken),
		IDToken: behalf.Secret(j.IDToken), Expiry: j.Expiry, Scopes: j.Scopes}, nil
}

type sessionSecretsJSON struct {
	State            string            `json:"s"`
	PKCEVerifier     string            `json:"v"`
	Nonce            string            `json:"n,omitempty"`
	RequestURI       string            `json:"r,omitempty"`
	CustomState      string            `json:"c,omitempty"`
	CustomParameters map[string]string `json:"p,omitempty"`
}

func sealSessionSecrets(ctx context.Context, sealer behalf.Sealer, id string, s behalf.SessionSecrets) (behalf.Sealed, error) {
	b, err := json.Marshal(sessionSecretsJSON{s.State.Reveal(), s.PKCEVerifier.Reveal(), s.Nonce, s.RequestURI.Reveal(), s.CustomState.Reveal(), s.CustomParameters})
	if err != nil {
		return nil, fmt.Errorf("encode session secrets: %w", err)
	}
	return sealer.Seal(ctx, behalf.SessionSeal(id, "secrets"), b)
}

func openSessionSecrets(ctx context.Context, sealer behalf.Sealer, s *behalf.AuthSession) (behalf.SessionSecrets, error) {
	b, err := sealer.Open(ctx, behalf.SessionSeal(s.ID, "secrets"), s.Secrets)
	if err != nil {
		return behalf.SessionSecrets{}, err
	}
	var j sessionSecretsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return behalf.SessionSecrets{}, fmt.Errorf("decode session secrets: %w", err)
	}
	return behalf.SessionSecrets{State: behalf.Secret(j.State), PKCEVerifier: behalf.Secret(j.PKCEVerifier), Nonce: j.Nonce,
		RequestURI: behalf.Secret(j.RequestURI), CustomState: behalf.Secret(j.CustomState), CustomParameters: j.CustomParameters}, nil
}
