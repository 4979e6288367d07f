package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// An OpenAPI target's document is parsed with kin-openapi (never by hand):
// JSON or YAML, OpenAPI 3.x, no external references. Each operation with
// an operationId becomes a tool named "{target}___{operationId}" whose
// input schema is an object with one property per path, query and header
// parameter (cookie parameters and headers Behalf sets itself are left
// out) and, for a JSON request body, a property "body". The base URL is
// the most specific servers entry (the operation's, the path's, the
// document's), which must pass the SSRF guard as discovery URLs do.

// MaxOpenAPIBytes bounds an inline OpenAPI document.
const MaxOpenAPIBytes = 1 << 20

// maxTools bounds the tools of one target.
const maxTools = 500

// ToolSeparator joins a target's name and a tool's name.
const ToolSeparator = "___"

// BodyProperty is the input property that carries an operation's JSON
// request body.
const BodyProperty = "body"

var operationIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// skippedHeaders are header parameters never taken from a tool's caller:
// the credentials and framing Behalf sets itself.
var skippedHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "host": true,
	"content-length": true, "content-type": true, "transfer-encoding": true, "connection": true,
	"accept": true, "accept-encoding": true, "te": true, "upgrade": true, "expect": true,
}

// Param is one parameter of an operation a tool calls.
type Param struct {
	Name     string
	In       string // path, query or header
	Required bool
}

// Tool is one operation of an OpenAPI target, as an MCP tool.
type Tool struct {
	// Name is the operationId; the MCP tool is "{target}___{Name}".
	Name        string
	Description string
	// InputSchema is a JSON Schema object.
	InputSchema map[string]any
	Method      string
	// BaseURL is the server URL without a trailing slash; Path the
	// operation's path template.
	BaseURL string
	Path    string
	Params  []Param
	// Body is set when the operation takes a JSON request body.
	Body         bool
	BodyRequired bool
}

// ParseOpenAPI parses an inline OpenAPI document into its tools, checking
// every server URL it uses with policy. Errors are EINVALID naming field.
func ParseOpenAPI(ctx context.Context, payload string, policy safehttp.Options, field string) (tools []Tool, err error) {
	if strings.TrimSpace(payload) == "" {
		return nil, behalf.Invalid(field, "%s is required: an OpenAPI 3 document (JSON or YAML).", field)
	}
	if len(payload) > MaxOpenAPIBytes {
		return nil, behalf.Invalid(field, "%s must be at most %d bytes.", field, MaxOpenAPIBytes)
	}
	defer func() {
		// kin-openapi is the parser; a document it chokes on is still the
		// caller's bad input, not a crash.
		if p := recover(); p != nil {
			tools, err = nil, behalf.Invalid(field, "%s is not a valid OpenAPI document.", field)
		}
	}()
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.Context = ctx
	doc, err := loader.LoadFromData([]byte(payload))
	if err != nil {
		return nil, behalf.Invalid(field, "%s is not a valid OpenAPI document: %s.", field, clip(err.Error(), 300))
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		return nil, behalf.Invalid(field, "%s must be an OpenAPI 3.x document (openapi: %q).", field, clip(doc.OpenAPI, 20))
	}
	if err := doc.Validate(ctx, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation()); err != nil {
		return nil, behalf.Invalid(field, "%s is not a valid OpenAPI document: %s.", field, clip(err.Error(), 300))
	}
	if doc.Paths == nil {
		return nil, behalf.Invalid(field, "%s has no paths.", field)
	}
	seen := map[string]bool{}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		if item == nil {
			continue
		}
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, method := range methods {
			op := ops[method]
			if op == nil || op.OperationID == "" {
				continue
			}
			if !operationIDPattern.MatchString(op.OperationID) {
				return nil, behalf.Invalid(field, "operationId %q must be 1 to 64 letters, digits, '_', '.' or '-' (it names an MCP tool).", clip(op.OperationID, 80))
			}
			if seen[op.OperationID] {
				return nil, behalf.Invalid(field, "operationId %q is used twice.", op.OperationID)
			}
			seen[op.OperationID] = true
			if len(tools) == maxTools {
				return nil, behalf.Invalid(field, "%s has more than %d operations.", field, maxTools)
			}
			servers := doc.Servers
			if len(item.Servers) > 0 {
				servers = item.Servers
			}
			if op.Servers != nil && len(*op.Servers) > 0 {
				servers = *op.Servers
			}
			base, err := serverURL(servers, policy, field)
			if err != nil {
				return nil, err
			}
			t, err := toolOf(doc, path, method, item, op, field)
			if err != nil {
				return nil, err
			}
			t.BaseURL = base
			tools = append(tools, t)
		}
	}
	if len(tools) == 0 {
		return nil, behalf.Invalid(field, "%s has no operation with an operationId: there would be no tools.", field)
	}
	return tools, nil
}

// serverURL returns the first server's URL, its variables replaced by
// their defaults, checked against the SSRF policy.
func serverURL(servers openapi3.Servers, policy safehttp.Options, field string) (string, error) {
	if len(servers) == 0 || servers[0] == nil || servers[0].URL == "" {
		return "", behalf.Invalid(field, "%s must name the API's absolute URL in servers.", field)
	}
	s := servers[0]
	raw := s.URL
	for name, v := range s.Variables {
		if v != nil {
			raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
		}
	}
	u, err := policy.CheckURL(raw)
	if err != nil {
		return "", behalf.Invalid(field, "The OpenAPI server URL %q is refused: %v.", clip(raw, 200), err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", behalf.Invalid(field, "The OpenAPI server URL %q must have no query, fragment or user information.", clip(raw, 200))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// toolOf derives one operation's tool.
func toolOf(doc *openapi3.T, path, method string, item *openapi3.PathItem, op *openapi3.Operation, field string) (Tool, error) {
	t := Tool{Name: op.OperationID, Method: method, Path: path}
	t.Description = strings.TrimSpace(op.Summary)
	if d := strings.TrimSpace(op.Description); d != "" {
		if t.Description != "" {
			t.Description += "\n\n"
		}
		t.Description += d
	}
	props := map[string]any{}
	var required []string
	// Path-level parameters, overridden by the operation's of the same
	// name and location.
	params := map[string]*openapi3.Parameter{}
	var order []string
	for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			p := ref.Value
			key := p.In + "\x00" + p.Name
			if _, ok := params[key]; !ok {
				order = append(order, key)
			}
			params[key] = p
		}
	}
	for _, key := range order {
		p := params[key]
		switch p.In {
		case openapi3.ParameterInPath, openapi3.ParameterInQuery:
		case openapi3.ParameterInHeader:
			if skippedHeaders[strings.ToLower(p.Name)] {
				continue
			}
		default:
			continue // cookies: not from a tool's caller
		}
		if p.Name == BodyProperty {
			return t, behalf.Invalid(field, "Operation %s: a parameter named %q clashes with the request body's property.", op.OperationID, BodyProperty)
		}
		if _, dup := props[p.Name]; dup {
			return t, behalf.Invalid(field, "Operation %s: two parameters are named %q.", op.OperationID, p.Name)
		}
		schema := map[string]any{}
		if p.Schema != nil && p.Schema.Value != nil {
			schema = schemaJSON(doc, p.Schema, 0)
		}
		if p.Description != "" {
			schema["description"] = p.Description
		}
		props[p.Name] = schema
		req := p.Required || p.In == openapi3.ParameterInPath
		if req {
			required = append(required, p.Name)
		}
		t.Params = append(t.Params, Param{Name: p.Name, In: p.In, Required: req})
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			schema := map[string]any{}
			if mt.Schema != nil && mt.Schema.Value != nil {
				schema = schemaJSON(doc, mt.Schema, 0)
			}
			props[BodyProperty] = schema
			t.Body, t.BodyRequired = true, rb.Value.Required
			if rb.Value.Required {
				required = append(required, BodyProperty)
			}
		}
	}
	t.InputSchema = map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		slices.Sort(required)
		t.InputSchema["required"] = required
	}
	return t, nil
}

// maxSchemaDepth bounds how deep references are inlined (recursive
// schemas end there as {}).
const maxSchemaDepth = 8

// schemaJSON returns a schema as a JSON object with its local references
// inlined, so the tool's input schema stands alone.
func schemaJSON(doc *openapi3.T, ref *openapi3.SchemaRef, depth int) map[string]any {
	b, err := json.Marshal(ref.Value)
	if err != nil {
		return map[string]any{}
	}
	var v map[string]any
	if json.Unmarshal(b, &v) != nil || v == nil {
		return map[string]any{}
	}
	return inline(doc, v, depth).(map[string]any)
}

// inline replaces {"$ref": "#/components/schemas/X"} in v by X.
func inline(doc *openapi3.T, v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["$ref"].(string); ok {
			name, found := strings.CutPrefix(r, "#/components/schemas/")
			if !found || depth >= maxSchemaDepth || doc.Components == nil {
				return map[string]any{}
			}
			sr := doc.Components.Schemas[name]
			if sr == nil || sr.Value == nil {
				return map[string]any{}
			}
			return schemaJSON(doc, sr, depth+1)
		}
		for k, e := range x {
			x[k] = inline(doc, e, depth)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = inline(doc, e, depth)
		}
		return x
	}
	return v
}

// BuildRequest returns the URL, headers and JSON body of a call to t with
// args. A missing required argument, or an argument of the wrong shape,
// is an error for the tool's caller.
func (t *Tool) BuildRequest(args map[string]any) (u *url.URL, header map[string]string, body []byte, err error) {
	path := t.Path
	query := url.Values{}
	header = map[string]string{}
	for _, p := range t.Params {
		v, ok := args[p.Name]
		if !ok || v == nil {
			if p.Required {
				return nil, nil, nil, fmt.Errorf("missing required argument %q", p.Name)
			}
			continue
		}
		s, err := scalar(v)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("argument %q: %v", p.Name, err)
		}
		switch p.In {
		case openapi3.ParameterInPath:
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(s))
		case openapi3.ParameterInQuery:
			if list, ok := v.([]any); ok {
				for _, e := range list {
					es, err := scalar(e)
					if err != nil {
						return nil, nil, nil, fmt.Errorf("argument %q: %v", p.Name, err)
					}
					query.Add(p.Name, es)
				}
				continue
			}
			query.Set(p.Name, s)
		case openapi3.ParameterInHeader:
			if strings.ContainsAny(s, "\r\n\x00") {
				return nil, nil, nil, fmt.Errorf("argument %q: a header value cannot contain line breaks", p.Name)
			}
			header[p.Name] = s
		}
	}
	if b, ok := args[BodyProperty]; ok && t.Body {
		body, err = json.Marshal(b)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("argument %q: %v", BodyProperty, err)
		}
	} else if t.BodyRequired {
		return nil, nil, nil, fmt.Errorf("missing required argument %q", BodyProperty)
	}
	u, err = url.Parse(t.BaseURL + path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("the operation's URL: %v", err)
	}
	u.RawQuery = query.Encode()
	return u, header, body, nil
}

// scalar formats a parameter value; arrays are joined with commas (the
// default "simple" style), objects refused.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, float64, json.Number:
		return fmt.Sprint(x), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, err := scalar(e)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("must be a string, number, boolean or array of them")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
