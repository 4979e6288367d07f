package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/behalf-dev/behalf"
)

// ErrNoUserinfo is Account's error when the provider publishes no
// userinfo endpoint.
var ErrNoUserinfo = errors.New("oauth: the provider has no userinfo endpoint")

// maxAccountLen bounds the account name Account returns, in runes.
const maxAccountLen = 128

// Account asks the provider's userinfo endpoint (OpenID Connect Core
// 5.3) whose account accessToken belongs to, and returns a name a person
// recognises: the email, else preferred_username, login (GitHub) or name.
// It returns "" with no error when the provider names none of them.
// Control characters are removed and the name is capped at 128 runes.
func (c *Client) Account(ctx context.Context, accessToken behalf.Secret) (string, error) {
	endpoint := c.Provider.Metadata.UserinfoEndpoint
	if endpoint == "" {
		return "", ErrNoUserinfo
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", fmt.Errorf("oauth: userinfo: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken.Reveal())
	req.Header.Set("Accept", "application/json")
	status, _, body, err := c.send(req, "userinfo")
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("oauth: userinfo: the provider answered %d", status)
	}
	var claims struct {
		Email             string `json:"email"`
		PreferredUsername string `json:"preferred_username"`
		Login             string `json:"login"`
		Name              string `json:"name"`
	}
	if err := json.Unmarshal(body, &claims); err != nil {
		return "", errors.New("oauth: userinfo: the answer is not a JSON object")
	}
	for _, v := range []string{claims.Email, claims.PreferredUsername, claims.Login, claims.Name} {
		if name := cleanAccount(v); name != "" {
			return name, nil
		}
	}
	return "", nil
}

// cleanAccount removes control and format characters (no terminal escapes
// or bidi overrides reach a page, log or CLI) and caps the length.
func cleanAccount(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > maxAccountLen {
		s = string(r[:maxAccountLen])
	}
	return s
}
