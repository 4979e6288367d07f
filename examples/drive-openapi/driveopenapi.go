// Package driveopenapi holds a minimal OpenAPI 3 document for Google
// Drive's files.list (drive-v3-files.yaml), for Behalf gateway targets:
// `behalf gateway target create GATEWAY drive --openapi
// examples/drive-openapi/drive-v3-files.yaml ...`. `behalf demo --mcp`
// uses it against the sandbox.
package driveopenapi

import _ "embed"

// Document is drive-v3-files.yaml: GET /drive/v3/files (operationId
// listFiles, parameters pageSize, pageToken and q) at
// https://www.googleapis.com.
//
//go:embed drive-v3-files.yaml
var Document []byte
