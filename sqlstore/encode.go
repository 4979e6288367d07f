package sqlstore

import (
	"database/sql"
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

// durationMicros returns d as a stored BIGINT duration: microseconds.
func durationMicros(d time.Duration) int64 {
	return d.Microseconds()
}

// fromDurationMicros returns a stored BIGINT duration as a time.Duration.
func fromDurationMicros(us int64) time.Duration {
	return time.Duration(us) * time.Microsecond
}

// nullString returns s for a nullable TEXT column: "" is stored as NULL.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// encodeTags returns tags as a JSON object; nil is stored as {}.
func encodeTags(tags map[string]string) (string, error) {
	return encodeMap("tags", tags)
}

// decodeTags parses a JSON object of tags; an empty object reads as nil.
func decodeTags(s string) (map[string]string, error) {
	return decodeMap("tags", s)
}

// encodeMap returns m as a JSON object; nil is stored as {}.
func encodeMap(field string, m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	return encodeJSON(field, m)
}

// decodeMap parses a JSON object of strings; an empty object reads as nil.
func decodeMap(field, s string) (map[string]string, error) {
	var m map[string]string
	if err := decodeJSON(field, s, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
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
