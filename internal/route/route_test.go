package route

import (
	"net/http/httptest"
	"testing"
)

// Ensure a route travels in the request's context and an unnamed request
// has none.
func TestWithOf(t *testing.T) {
	r := httptest.NewRequest("GET", "/x", nil)
	if rt, ok := Of(r); ok || rt != (Route{}) {
		t.Fatalf("Of(unnamed) = %+v, %v", rt, ok)
	}
	want := Route{Name: "HostedLogin", Kind: HTML}
	named := With(r, want)
	if rt, ok := Of(named); !ok || rt != want {
		t.Fatalf("Of(named) = %+v, %v, want %+v", rt, ok, want)
	}
	if _, ok := Of(r); ok {
		t.Fatal("With changed the request it was given")
	}
	if HTML.String() != "HTML" || Kind(200).String() != "Kind(?)" {
		t.Fatalf("Kind names: %s %s", HTML, Kind(200))
	}
}
