package fakeprovider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Authorize plays the user's browser: it requests authURL without
// following the redirect and returns the URL the server redirected to
// (the client's redirect URI with code and state, or with error). It fails
// if the server answers anything but a redirect.
func (s *Server) Authorize(ctx context.Context, authURL string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: authorize: %w", err)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: authorize: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("fakeprovider: authorize: status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: authorize: %w", err)
	}
	return loc, nil
}
