package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"
)

// micros returns t as the stored BIGINT: unix microseconds.
func micros(t time.Time) int64 {
	return t.UnixMicro()
}

// fromMicros returns a stored BIGINT time as a UTC time.Time.
func fromMicros(us int64) time.Time {
	return time.UnixMicro(us).UTC()
}

// encodeTags returns tags as a JSON object; nil is stored as {}.
func encodeTags(tags map[string]string) (string, error) {
	if tags == nil {
		tags = map[string]string{}
	}
	return encodeJSON("tags", tags)
}

// decodeTags parses a JSON object of tags; an empty object reads as nil.
func decodeTags(s string) (map[string]string, error) {
	var tags map[string]string
	if err := decodeJSON("tags", s, &tags); err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// encodeList returns list as a JSON array; nil is stored as [].
func encodeList(field string, list []string) (string, error) {
	if list == nil {
		list = []string{}
	}
	return encodeJSON(field, list)
}

// decodeList parses a JSON array of strings; an empty array reads as nil.
func decodeList(field, s string) ([]string, error) {
	var list []string
	if err := decodeJSON(field, s, &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// encodeJSON marshals the value of the named column.
func encodeJSON(field string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", field, err)
	}
	return string(b), nil
}

// decodeJSON unmarshals the value of the named column into v.
func decodeJSON(field, s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode %s: %w", field, err)
	}
	return nil
}

// blob returns b for a NOT NULL BLOB/BYTEA column: nil becomes empty,
// which both drivers store as a zero-length value rather than NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// fromBlob returns a stored BLOB/BYTEA value; empty reads as nil.
func fromBlob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
