package behalf

import "log/slog"

// Secret holds a sensitive string: a client secret, an API key, a token, a
// password. It redacts itself wherever it is formatted, marshalled or logged;
// Reveal is the one explicit way to read it.
type Secret string

const redacted = "[REDACTED]"

// Reveal returns the secret's plaintext. Call it only where the value is
// sent to its rightful destination (a token endpoint, a sealed column).
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String implements fmt.Stringer with a redacted value.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer with a redacted value.
func (s Secret) GoString() string { return redacted }

// MarshalJSON never emits the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText never emits the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer with a redacted value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Sealed is ciphertext produced by a Sealer: opaque bytes safe to store.
type Sealed []byte

// SealContext names the record a sealed value belongs to. It is bound to the
// ciphertext as associated data, so a value copied to another record, kind
// or field fails to open.
type SealContext struct {
	Kind  string // record kind, e.g. "oauth2-provider"
	Key   string // the record's stable id
	Field string // the field, e.g. "client_secret"
}
