package behalf

import (
	"strings"
	"testing"
)

// Ensure ValidResource takes absolute URIs without fragments only.
func TestValidResource(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://mcp.example.com/mcp": true, "http://127.0.0.1:8080/mcp": true, "urn:example:tools": true,
		"HTTPS://MCP.EXAMPLE.COM/mcp": true, "https://a.example.com/?q=1": true,
		"": false, "/mcp": false, "mcp": false, "https://a.example.com/#x": false, "https://a.example.com/#": false,
		"https:///path": false, "https://user@a.example.com/": false, "https://a.example.com/a b": false,
		"https://a.example.com/\x00": false, "https://" + strings.Repeat("a", MaxResourceLength): false,
	} {
		if got := ValidResource(raw); got != want {
			t.Errorf("ValidResource(%q) = %v, want %v", raw, got, want)
		}
	}
}

// Ensure ValidDisplayName refuses names that could read as another.
func TestValidDisplayName(t *testing.T) {
	for name, want := range map[string]bool{
		"Claude Code": true, "Notes <MCP> — ünïcode": true, strings.Repeat("é", MaxDisplayNameLength): true,
		"": false, " x": false, "x ": false, "a\nb": false, "a\tb": false, "a\u202eb": false, "a\u200bb": false,
		"\xff": false, strings.Repeat("é", MaxDisplayNameLength+1): false,
	} {
		if got := ValidDisplayName(name); got != want {
			t.Errorf("ValidDisplayName(%q) = %v, want %v", name, got, want)
		}
	}
}
