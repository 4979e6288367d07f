package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
)

// wireLog keeps the raw JSON answers of a command's API calls, so that
// -o json|yaml prints what the server sent, in its member names and
// nesting, as the aws CLI does, rather than the Go SDK's structs.
type wireLog struct {
	mu    sync.Mutex
	calls []wireCall
}

type wireCall struct {
	op   string
	body []byte
}

// maxWireBody bounds the answer kept for printing.
const maxWireBody = 16 << 20

func (l *wireLog) record(op string, body []byte) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, wireCall{op, body})
}

// last is the answer of the command's last operation, its pages merged as
// the aws CLI merges them (list members concatenated, no next token), or
// nil when there is none or it is empty.
func (l *wireLog) last() []byte {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.calls) == 0 {
		return nil
	}
	op := l.calls[len(l.calls)-1].op
	first := len(l.calls) - 1
	for first > 0 && l.calls[first-1].op == op {
		first--
	}
	if first == len(l.calls)-1 {
		var page map[string]json.RawMessage
		if json.Unmarshal(l.calls[first].body, &page) != nil || len(page) == 0 {
			return nil
		}
		return l.calls[first].body // as sent, members in the server's order
	}
	merged := map[string]json.RawMessage{}
	for _, c := range l.calls[first:] {
		var page map[string]json.RawMessage
		if json.Unmarshal(c.body, &page) != nil {
			return nil
		}
		for k, v := range page {
			var list []json.RawMessage
			if prev, ok := merged[k]; ok && json.Unmarshal(prev, &list) == nil {
				var more []json.RawMessage
				if json.Unmarshal(v, &more) == nil {
					v, _ = json.Marshal(append(list, more...))
				}
			}
			merged[k] = v
		}
	}
	for k := range merged {
		if strings.EqualFold(k, "nextToken") || k == "PaginationToken" {
			delete(merged, k)
		}
	}
	if len(merged) == 0 {
		return nil
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil
	}
	return b
}

// wireClient is an SDK client's HTTP client that records each successful
// JSON answer under its operation's name.
type wireClient struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	log *wireLog
}

func (w wireClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := w.next.Do(req)
	if err != nil || resp.StatusCode >= 300 || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWireBody))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	w.log.record(awsmiddleware.GetOperationName(req.Context()), body)
	return resp, nil
}
