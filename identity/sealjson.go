package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/flatjson"
)

// tokenSetJSON is the sealed form of a behalf.TokenSet. Secrets are
// revealed only here, straight into the sealer. Expiry is what
// time.Time's MarshalText writes (RFC 3339 with nanoseconds), "" for the
// zero time: the same bytes as the time.Time field (tagged omitzero) of
// earlier versions, in a string field the flat decoder can take.
type tokenSetJSON struct {
	AccessToken  string   `json:"a"`
	TokenType    string   `json:"t,omitempty"`
	RefreshToken string   `json:"r,omitempty"`
	IDToken      string   `json:"i,omitempty"`
	Expiry       string   `json:"e,omitempty"`
	Scopes       []string `json:"s,omitempty"`
}

func sealTokenSet(ctx context.Context, sealer behalf.Sealer, sc behalf.SealContext, ts behalf.TokenSet) (behalf.Sealed, error) {
	var expiry []byte
	if !ts.Expiry.IsZero() {
		var err error
		if expiry, err = ts.Expiry.MarshalText(); err != nil {
			return nil, fmt.Errorf("encode token set: %w", err)
		}
	}
	b, err := json.Marshal(tokenSetJSON{ts.AccessToken.Reveal(), ts.TokenType, ts.RefreshToken.Reveal(), ts.IDToken.Reveal(), string(expiry), ts.Scopes})
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
	j, err := unmarshalSealed[tokenSetJSON](b)
	if err != nil {
		return behalf.TokenSet{}, fmt.Errorf("decode token set: %w", err)
	}
	var expiry time.Time
	if j.Expiry != "" {
		if err := expiry.UnmarshalText([]byte(j.Expiry)); err != nil {
			return behalf.TokenSet{}, fmt.Errorf("decode token set: %w", err)
		}
	}
	return behalf.TokenSet{AccessToken: behalf.Secret(j.AccessToken), TokenType: j.TokenType, RefreshToken: behalf.Secret(j.RefreshToken),
		IDToken: behalf.Secret(j.IDToken), Expiry: expiry, Scopes: j.Scopes}, nil
}

// unmarshalSealed decodes the JSON of a sealed record: with the flat
// decoder when it can (every value without characters JSON escapes: a
// vault hit opens one), else with encoding/json.
func unmarshalSealed[T any](b []byte) (T, error) {
	var v T
	if flatjson.Decode(b, &v) {
		return v, nil
	}
	err := json.Unmarshal(b, &v)
	return v, err
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
	j, err := unmarshalSealed[sessionSecretsJSON](b)
	if err != nil {
		return behalf.SessionSecrets{}, fmt.Errorf("decode session secrets: %w", err)
	}
	return behalf.SessionSecrets{State: behalf.Secret(j.State), PKCEVerifier: behalf.Secret(j.PKCEVerifier), Nonce: j.Nonce,
		RequestURI: behalf.Secret(j.RequestURI), CustomState: behalf.Secret(j.CustomState), CustomParameters: j.CustomParameters}, nil
}
