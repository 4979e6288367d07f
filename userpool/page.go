package userpool

import (
	"errors"

	"github.com/behalf-dev/behalf"
)

// maxPage is the largest page Cognito's list operations return.
const maxPage = 60

// listOptions validates a page request (behalf.PageRequest.Options) in
// Cognito's words.
func listOptions(p behalf.PageRequest) (behalf.ListOptions, int, error) {
	return listOptionsUpTo(p, maxPage)
}

// listOptionsUpTo is listOptions for an operation whose pages hold at most
// max items.
func listOptionsUpTo(p behalf.PageRequest, max int) (behalf.ListOptions, int, error) {
	o, limit, err := p.Options(max)
	switch {
	case errors.Is(err, behalf.ErrPageSize):
		return o, limit, invalidParameter("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", p.MaxResults, max)
	case errors.Is(err, behalf.ErrPageToken):
		return o, limit, invalidParameter("The pagination token is invalid.")
	}
	return o, limit, err
}
