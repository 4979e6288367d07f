package identity

import (
	"encoding/base64"
	"strings"

	"github.com/behalf-dev/behalf"
)

// Page tokens are opaque to callers: base64url of a version tag and the last
// name on the previous page.
const pageTokenPrefix = "v1:"

func encodePageToken(lastName string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + lastName))
}

func decodePageToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(b), pageTokenPrefix) {
		return "", behalf.Invalid("nextToken", "The pagination token is invalid.")
	}
	return strings.TrimPrefix(string(b), pageTokenPrefix), nil
}

// listOptions validates a page request and returns store options asking for
// one extra item, so the caller knows whether another page follows.
func listOptions(p behalf.PageRequest, max int) (behalf.ListOptions, int, error) {
	limit := p.MaxResults
	if limit == 0 {
		limit = max
	}
	if limit < 1 || limit > max {
		return behalf.ListOptions{}, 0, behalf.Invalid("maxResults", "maxResults must be between 1 and %d.", max)
	}
	after, err := decodePageToken(p.NextToken)
	if err != nil {
		return behalf.ListOptions{}, 0, err
	}
	return behalf.ListOptions{After: after, Limit: limit + 1}, limit, nil
}

// page trims items to limit and returns the token for the next page.
func page[T any](items []T, limit int, name func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodePageToken(name(items[limit-1]))
}
