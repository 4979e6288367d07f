package behalf

import (
	"errors"
	"strings"
	"testing"
)

// Ensure paging through items with Options and NextPage visits every item
// once, in order, and that bad sizes and tokens are refused with the
// errors each API words.
func TestPages(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e"}
	read := func(o ListOptions) []string { // a store: keys after o.After, at most o.Limit
		var out []string
		for _, k := range all {
			if k > o.After && len(out) < o.Limit {
				out = append(out, k)
			}
		}
		return out
	}
	var seen []string
	req := PageRequest{MaxResults: 2}
	for pages := 0; ; pages++ {
		o, limit, err := req.Options(10)
		if err != nil || limit != 2 || o.Limit != 3 {
			t.Fatalf("Options(%+v) = %+v, %d, %v", req, o, limit, err)
		}
		items, next := NextPage(read(o), limit, func(s string) string { return s })
		seen = append(seen, items...)
		if next == "" {
			break
		}
		req.NextToken = next
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if strings.Join(seen, "") != "abcde" {
		t.Fatalf("paged %q", seen)
	}
	if _, limit, err := (PageRequest{}).Options(7); err != nil || limit != 7 {
		t.Errorf("default size = %d, %v", limit, err)
	}
	for _, r := range []PageRequest{{MaxResults: -1}, {MaxResults: 11}} {
		if _, _, err := r.Options(10); !errors.Is(err, ErrPageSize) {
			t.Errorf("Options(%+v) = %v", r, err)
		}
	}
	for _, tok := range []string{"!!", "djE", "eDE6YQ", "v1:a"} { // bad base64, "v1" (no colon), "x1:a", clear text
		if _, _, err := (PageRequest{NextToken: tok}).Options(10); !errors.Is(err, ErrPageToken) {
			t.Errorf("token %q: %v", tok, err)
		}
	}
	if err := InvalidPage(ErrPageSize, 10); ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "maxResults") {
		t.Errorf("InvalidPage(size) = %v", err)
	}
	if err := InvalidPage(ErrPageToken, 10); ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "pagination token") {
		t.Errorf("InvalidPage(token) = %v", err)
	}
}

// FuzzPageToken: any token either is refused with ErrPageToken or decodes
// to a key whose own token decodes to it again.
func FuzzPageToken(f *testing.F) {
	_, next := NextPage([]string{"a", "b"}, 1, func(s string) string { return s })
	f.Add(next)
	f.Add("")
	f.Add("djE6")
	f.Fuzz(func(t *testing.T, tok string) {
		o, _, err := PageRequest{NextToken: tok}.Options(10)
		if err != nil {
			if !errors.Is(err, ErrPageToken) {
				t.Fatalf("token %q: %v", tok, err)
			}
			return
		}
		if tok == "" {
			return
		}
		_, again := NextPage([]string{o.After, "z"}, 1, func(s string) string { return s })
		o2, _, err := PageRequest{NextToken: again}.Options(10)
		if err != nil || o2.After != o.After {
			t.Fatalf("token %q: key %q round-trips to %q, %v", tok, o.After, o2.After, err)
		}
	})
}

// Ensure ListPage asks the store for one item more than the page, trims
// to the page with the next token, and words a bad request as InvalidPage.
func TestListPage(t *testing.T) {
	all := []string{"a", "b", "c"}
	list := func(o ListOptions) ([]string, error) {
		var out []string
		for _, s := range all {
			if s > o.After && (o.Limit <= 0 || len(out) < o.Limit) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	id := func(s string) string { return s }
	page, next, err := ListPage(PageRequest{MaxResults: 2}, 10, list, id)
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("first page %v %q %v", page, next, err)
	}
	page, next, err = ListPage(PageRequest{MaxResults: 2, NextToken: next}, 10, list, id)
	if err != nil || len(page) != 1 || page[0] != "c" || next != "" {
		t.Fatalf("second page %v %q %v", page, next, err)
	}
	if _, _, err := ListPage(PageRequest{MaxResults: 11}, 10, list, id); ErrorCode(err) != EINVALID {
		t.Fatalf("MaxResults over the bound: %v", err)
	}
}
