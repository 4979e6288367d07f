package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

const driveYAML = `openapi: 3.0.3
info: {title: Drive, version: v3}
servers:
  - url: https://{host}/drive/v3
    variables:
      host: {default: www.googleapis.com}
paths:
  /files:
    get:
      operationId: listFiles
      summary: Lists the user's files.
      parameters:
        - {name: pageSize, in: query, schema: {type: integer}}
        - {name: q, in: query, required: true, schema: {type: string}, description: A query.}
        - {name: Authorization, in: header, schema: {type: string}}
        - {name: session, in: cookie, schema: {type: string}}
      responses: {'200': {description: ok}}
  /files/{fileId}:
    parameters:
      - {name: fileId, in: path, required: true, schema: {type: string}}
    patch:
      operationId: updateFile
      servers: [{url: "https://upload.example.com/v3/"}]
      parameters:
        - {name: X-Trace, in: header, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/File'}
      responses: {'200': {description: ok}}
    delete:
      responses: {'204': {description: 'no operationId: no tool'}}
components:
  schemas:
    File:
      type: object
      properties:
        name: {type: string}
        parent: {$ref: '#/components/schemas/File'}
`

func TestParseOpenAPI(t *testing.T) {
	tools, err := ParseOpenAPI(t.Context(), driveYAML, safehttp.Options{}, "f")
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 2 || tools[0].Name != "listFiles" || tools[1].Name != "updateFile" {
		t.Fatalf("tools = %+v", tools)
	}
	list, upd := tools[0], tools[1]
	if list.Method != "GET" || list.BaseURL != "https://www.googleapis.com/drive/v3" || list.Path != "/files" || list.Description != "Lists the user's files." {
		t.Fatalf("listFiles = %+v", list)
	}
	schema, _ := json.Marshal(list.InputSchema)
	if got := string(schema); got != `{"properties":{"pageSize":{"type":"integer"},"q":{"description":"A query.","type":"string"}},"required":["q"],"type":"object"}` {
		t.Fatalf("listFiles schema = %s", got)
	}
	if upd.Method != "PATCH" || upd.BaseURL != "https://upload.example.com/v3" || !upd.Body || !upd.BodyRequired {
		t.Fatalf("updateFile = %+v", upd)
	}
	schema, _ = json.Marshal(upd.InputSchema)
	got := string(schema)
	for _, want := range []string{`"required":["body","fileId"]`, `"X-Trace":{"type":"string"}`, `"fileId":{"type":"string"}`,
		`"body":{"properties":{"name":{"type":"string"},"parent":{"properties":{"name":{"type":"string"},"parent":`} {
		if !strings.Contains(got, want) {
			t.Errorf("updateFile schema lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "$ref") {
		t.Errorf("schema keeps a $ref: %s", got)
	}

	u, h, body, err := upd.BuildRequest(map[string]any{"fileId": "a b/c", "X-Trace": "t1", "body": map[string]any{"name": "n"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.String() != "https://upload.example.com/v3/files/a%20b%2Fc" || h["X-Trace"] != "t1" || string(body) != `{"name":"n"}` {
		t.Fatalf("request = %s %v %s", u, h, body)
	}
	if _, _, _, err := upd.BuildRequest(map[string]any{"fileId": "x"}); err == nil || !strings.Contains(err.Error(), `"body"`) {
		t.Fatalf("missing body: %v", err)
	}
	if _, _, _, err := list.BuildRequest(map[string]any{}); err == nil || !strings.Contains(err.Error(), `"q"`) {
		t.Fatalf("missing q: %v", err)
	}
	u, _, _, err = list.BuildRequest(map[string]any{"q": "x&y", "pageSize": 10.0})
	if err != nil || u.String() != "https://www.googleapis.com/drive/v3/files?pageSize=10&q=x%26y" {
		t.Fatalf("list request = %v, %v", u, err)
	}
	if _, _, _, err := upd.BuildRequest(map[string]any{"fileId": "x", "X-Trace": "a\r\nEvil: 1", "body": 1}); err == nil {
		t.Fatal("a header argument with a line break was accepted")
	}
	if _, _, _, err := list.BuildRequest(map[string]any{"q": map[string]any{"a": 1}}); err == nil {
		t.Fatal("an object query argument was accepted")
	}
}

// Ensure documents that would make bad tools, or reach private addresses,
// are refused with EINVALID naming the field.
func TestParseOpenAPIRefused(t *testing.T) {
	doc := func(servers, ops string) string {
		return "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n" + servers + "paths:\n  /x:\n" + ops
	}
	get := "    get:\n      operationId: getX\n      responses: {'200': {description: ok}}\n"
	for name, c := range map[string]struct{ payload, want string }{
		"empty":           {"", "is required"},
		"not OpenAPI":     {"{{{", "not a valid OpenAPI"},
		"swagger 2":       {`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{}}`, "OpenAPI 3"},
		"no servers":      {doc("", get), "servers"},
		"relative":        {doc("servers: [{url: /api}]\n", get), "refused"},
		"loopback":        {doc("servers: [{url: 'http://127.0.0.1:8080'}]\n", get), "refused"},
		"metadata":        {doc("servers: [{url: 'http://169.254.169.254/latest'}]\n", get), "refused"},
		"variable host":   {doc("servers: [{url: 'https://{h}/', variables: {h: {default: 10.0.0.1}}}]\n", get), "refused"},
		"op server":       {doc("servers: [{url: 'https://api.example.com'}]\n", "    get:\n      operationId: g\n      servers: [{url: 'http://localhost/'}]\n      responses: {'200': {description: ok}}\n"), "refused"},
		"file scheme":     {doc("servers: [{url: 'file:///etc/passwd'}]\n", get), "refused"},
		"no operationId":  {doc("servers: [{url: 'https://api.example.com'}]\n", "    get:\n      responses: {'200': {description: ok}}\n"), "no operation with an operationId"},
		"bad operationId": {doc("servers: [{url: 'https://api.example.com'}]\n", "    get:\n      operationId: 'a b'\n      responses: {'200': {description: ok}}\n"), "operationId"},
		"duplicate":       {doc("servers: [{url: 'https://api.example.com'}]\n", get+"    post:\n      operationId: getX\n      responses: {'200': {description: ok}}\n"), "same operation id"},
		"external ref":    {doc("servers: [{url: 'https://api.example.com'}]\n", "    get:\n      operationId: g\n      parameters: [{$ref: 'http://127.0.0.1/p.yaml'}]\n      responses: {'200': {description: ok}}\n"), "not a valid OpenAPI"},
		"body param":      {doc("servers: [{url: 'https://api.example.com'}]\n", "    get:\n      operationId: g\n      parameters: [{name: body, in: query, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n"), "clashes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseOpenAPI(t.Context(), c.payload, safehttp.Options{}, "the.field")
			if behalf.ErrorCode(err) != behalf.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want EINVALID with %q", err, c.want)
			}
			if e, ok := err.(*behalf.Error); !ok || e.Field != "the.field" {
				t.Fatalf("err = %#v, want field the.field", err)
			}
		})
	}
	// --allow-private-endpoints lets a local API in.
	if _, err := ParseOpenAPI(t.Context(), doc("servers: [{url: 'http://127.0.0.1:8080'}]\n", get), safehttp.Options{AllowPrivate: true}, "f"); err != nil {
		t.Fatalf("private server with AllowPrivate: %v", err)
	}
}

// FuzzParseOpenAPI: any payload gives tools or EINVALID, never a panic or
// a tool whose URL the SSRF guard would refuse.
func FuzzParseOpenAPI(f *testing.F) {
	f.Add(driveYAML)
	f.Add(`{"openapi":"3.0.0","info":{"title":"t","version":"1"},"servers":[{"url":"https://a.example"}],"paths":{"/a/{b}":{"get":{"operationId":"a","parameters":[{"name":"b","in":"path","required":true,"schema":{"$ref":"#/components/schemas/X"}}],"responses":{"200":{"description":"ok"}}}}},"components":{"schemas":{"X":{"type":"array","items":{"$ref":"#/components/schemas/X"}}}}}`)
	f.Add("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
	f.Fuzz(func(t *testing.T, payload string) {
		tools, err := ParseOpenAPI(t.Context(), payload, safehttp.Options{}, "f")
		if err != nil {
			if behalf.ErrorCode(err) != behalf.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			return
		}
		for _, tool := range tools {
			if _, err := safehttp.CheckURL(tool.BaseURL, false); err != nil {
				t.Fatalf("tool %s has base URL %q: %v", tool.Name, tool.BaseURL, err)
			}
			if _, err := json.Marshal(tool.InputSchema); err != nil {
				t.Fatalf("tool %s schema: %v", tool.Name, err)
			}
		}
	})
}
