package behalf

import (
	"context"
	"regexp"
	"unicode/utf8"
)

var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9\s._:/=+@-]*$`)

// ValidateTags checks resource tags against AgentCore's rules: at most 50,
// keys 1 to 128 and values up to 256 characters of letters, digits, spaces
// and ._:/=+@-. It returns an EINVALID error naming "tags".
func ValidateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return Invalid("tags", "At most 50 tags are allowed.")
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagPattern.MatchString(k) {
			return Invalid("tags", "Tag key %q must be 1 to 128 characters of letters, digits, spaces and ._:/=+@-.", k)
		}
		if utf8.RuneCountInString(v) > 256 || !tagPattern.MatchString(v) {
			return Invalid("tags", "Tag value for %q must be at most 256 characters of letters, digits, spaces and ._:/=+@-.", k)
		}
	}
	return nil
}

// Kinds of taggable resources (TagTarget.Kind).
const (
	TagAgentRuntime         = "runtime"
	TagAgentRuntimeEndpoint = "runtime-endpoint"
	TagWorkload             = "workload-identity"
	TagOAuth2Provider       = "oauth2credentialprovider"
	TagAPIKeyProvider       = "apikeycredentialprovider"
)

// TagTarget names a taggable resource: its Kind (a Tag* constant) and Name
// (the runtime id for runtimes and their endpoints, the name otherwise);
// Endpoint is the endpoint's name for TagAgentRuntimeEndpoint.
type TagTarget struct {
	Kind     string
	Name     string
	Endpoint string
}

// TagService reads and changes resources' tags (TagResource,
// UntagResource, ListTagsForResource).
type TagService interface {
	// ListTags returns the resource's tags (nil for none). ENOTFOUND.
	ListTags(ctx context.Context, t TagTarget) (map[string]string, error)
	// TagResource adds tags, replacing the values of keys it has already.
	// Returns EINVALID (naming "tags": bad tags, or more than 50 in all)
	// or ENOTFOUND; nothing changes on error.
	TagResource(ctx context.Context, t TagTarget, tags map[string]string) error
	// UntagResource removes keys (absent ones are ignored). Returns
	// EINVALID (naming "tagKeys") or ENOTFOUND.
	UntagResource(ctx context.Context, t TagTarget, keys []string) error
}

// MaxTagKeys bounds UntagResource's tagKeys (AgentCore's TagKeyList).
const MaxTagKeys = 200

// ValidateTagKeys checks UntagResource's tagKeys: 1 to 200 keys, each a
// valid tag key. It returns an EINVALID error naming "tagKeys".
func ValidateTagKeys(keys []string) error {
	if len(keys) > MaxTagKeys {
		return Invalid("tagKeys", "At most %d tag keys may be given.", MaxTagKeys)
	}
	for _, k := range keys {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagPattern.MatchString(k) {
			return Invalid("tagKeys", "Tag key %q must be 1 to 128 characters of letters, digits, spaces and ._:/=+@-.", k)
		}
	}
	return nil
}

// MergeTags returns cur with add applied and the keys in remove deleted,
// checked with ValidateTags (nil when no tag is left). cur is not changed.
func MergeTags(cur, add map[string]string, remove []string) (map[string]string, error) {
	out := make(map[string]string, len(cur)+len(add))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range add {
		out[k] = v
	}
	for _, k := range remove {
		delete(out, k)
	}
	if err := ValidateTags(out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
