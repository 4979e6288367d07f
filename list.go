package behalf

import (
	"encoding/base64"
	"errors"
	"strings"
)

// ListOptions selects a page from a store: items whose key sorts after
// After, at most Limit of them (Limit <= 0 means no limit).
type ListOptions struct {
	After string
	Limit int
}

// PageRequest is a caller's request for one page: an opaque token from the
// previous page and a maximum size (0 means the default).
type PageRequest struct {
	NextToken  string
	MaxResults int
}

// Page-request errors; each API words them in its own error shape.
var (
	ErrPageSize  = errors.New("maxResults is out of range")
	ErrPageToken = errors.New("the pagination token is invalid")
)

// pageTokenPrefix versions page tokens, which are opaque to callers:
// base64url of the prefix and the key of the previous page's last item.
const pageTokenPrefix = "v1:"

// Options validates p for pages of at most max items (MaxResults 0 means
// max) and returns the store options, which ask for one item more than
// the page so that NextPage knows whether another follows, and the page
// size. The error is ErrPageSize or ErrPageToken.
func (p PageRequest) Options(max int) (ListOptions, int, error) {
	limit := p.MaxResults
	if limit == 0 {
		limit = max
	}
	if limit < 1 || limit > max {
		return ListOptions{}, 0, ErrPageSize
	}
	var after string
	if p.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.NextToken)
		if err != nil || !strings.HasPrefix(string(b), pageTokenPrefix) {
			return ListOptions{}, 0, ErrPageToken
		}
		after = strings.TrimPrefix(string(b), pageTokenPrefix)
	}
	return ListOptions{After: after, Limit: limit + 1}, limit, nil
}

// NextPage trims items, read with the options Options returned, to the
// page size limit, and returns them with the token of the next page ("" on
// the last page); key gives an item's sort key.
func NextPage[T any](items []T, limit int, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + key(items[limit-1])))
}

// InvalidPage words an error of Options as the AgentCore APIs do: a
// validation error naming maxResults (with the bound max) or nextToken.
// Other errors are returned as they are.
func InvalidPage(err error, max int) error {
	switch {
	case errors.Is(err, ErrPageSize):
		return Invalid("maxResults", "maxResults must be between 1 and %d.", max)
	case errors.Is(err, ErrPageToken):
		return Invalid("nextToken", "The pagination token is invalid.")
	}
	return err
}

// ListPage reads one page for p, of at most max items, with list (a
// store's list of items sorted by key) and returns it with the next
// page's token; an invalid p is InvalidPage's error.
func ListPage[T any](p PageRequest, max int, list func(ListOptions) ([]T, error), key func(T) string) ([]T, string, error) {
	opts, limit, err := p.Options(max)
	if err != nil {
		return nil, "", InvalidPage(err, max)
	}
	items, err := list(opts)
	if err != nil {
		return nil, "", err
	}
	items, next := NextPage(items, limit, key)
	return items, next, nil
}
