package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/behalf-dev/behalf/internal/flatjson"
)

// decode strictly parses a JSON request body into v: unknown fields,
// trailing data and wrong types are CannotParse validation errors that
// name the problem. An empty body decodes as {}.
//
// A flat body (see flatjson.Decode) is decoded without encoding/json: the
// hot operations' bodies are flat, and encoding/json costs several times as
// much. Any other body is decoded by encoding/json from scratch, which also
// words every error.
func decode(body []byte, v any) error {
	return decodeWith(body, v, true)
}

// decodeWith is decode, trying flatjson.Decode first if flat is set.
func decodeWith(body []byte, v any, flat bool) error {
	if flat && flatjson.Decode(body, v) {
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &parseError{msg: describeDecodeError(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &parseError{msg: "The request body must hold exactly one JSON object."}
	}
	return nil
}

func describeDecodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("Field %s has the wrong type: expected %s.", typeErr.Field, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "Unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + "."
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "The request body is truncated JSON."
	}
	return "The request body could not be parsed."
}

// epoch is a timestamp in restJson1's default format: epoch seconds.
type epoch time.Time

// MarshalJSON writes seconds with millisecond precision.
func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(fmt.Sprintf("%d.%03d", ms/1000, ms%1000)), nil
}
