package behalf

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
