package userpool

import (
	"encoding/base64"
	"strings"

	"github.com/behalf-dev/behalf"
)

// maxPage is the largest page Cognito's list operations return.
const maxPage = 60

// Page tokens are opaque to callers: base64url of a version tag and the
// key of the last item on the previous page.
const pageTokenPrefix = "v1:"

// encodePageToken returns the token of the page after lastKey.
func encodePageToken(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + lastKey))
}

// decodePageToken returns the key a page token continues after.
func decodePageToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(b), pageTokenPrefix) {
		return "", invalidParameter("The pagination token is invalid.")
	}
	return strings.TrimPrefix(string(b), pageTokenPrefix), nil
}

// listOptions validates a page request and returns store options asking
// for one extra item, so the caller knows whether another page follows.
func listOptions(p behalf.PageRequest) (behalf.ListOptions, int, error) {
	limit := p.MaxResults
	if limit == 0 {
		limit = maxPage
	}
	if limit < 1 || limit > maxPage {
		return behalf.ListOptions{}, 0, invalidParameter("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxPage)
	}
	after, err := decodePageToken(p.NextToken)
	if err != nil {
		return behalf.ListOptions{}, 0, err
	}
	return behalf.ListOptions{After: after, Limit: limit + 1}, limit, nil
}

// page trims items to limit and returns the token of the next page.
func page[T any](items []T, limit int, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodePageToken(key(items[limit-1]))
}
