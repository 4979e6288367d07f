package pageframe

import (
	"strings"
	"testing"
)

var page = Parse("page", `<!doctype html><html lang="en"><head><style>{{template "frame-style"}}</style></head>
<body>{{template "frame-header" .Frame}}<main>{{.Body}}</main>{{template "frame-footer" .Frame}}</body></html>`)

func render(t *testing.T, f Frame) string {
	t.Helper()
	var b strings.Builder
	if err := page.Execute(&b, struct {
		Frame Frame
		Body  string
	}{f, "content"}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Ensure the frame names the product and the operator, shows the logo with
// the operator's name as its alt text, and links to the connections page,
// every value escaped.
func TestFrameRendersEscaped(t *testing.T) {
	f, err := New(`Example & <Co> "Labs"`, `https://cdn.example.com/logo.svg?v=1&x="y"`, "https://behalf.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	html := render(t, f)
	for _, want := range []string{
		`<span class="frame-product">Behalf</span>`,
		`<img src="https://cdn.example.com/logo.svg?v=1&amp;x=%22y%22" alt="Example &amp; &lt;Co&gt; &#34;Labs&#34;" height="32">`,
		`<span class="frame-operator" aria-hidden="true">Example &amp; &lt;Co&gt; &#34;Labs&#34;</span>`,
		`<a href="https://behalf.example.com/connections">Your connections</a>`,
		`<footer class="frame-foot"><p>Example &amp; &lt;Co&gt; &#34;Labs&#34; · Powered by Behalf</p></footer>`,
		`.frame{display:flex`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page does not contain %s:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<Co>") {
		t.Errorf("the operator's name is not escaped:\n%s", html)
	}
	if got := f.CSP("default-src 'none'"); got != "default-src 'none'; img-src https://cdn.example.com" {
		t.Errorf("CSP = %q", got)
	}
}

// Ensure the zero Frame (and one without a logo) is a valid frame: the
// product's name, no image, a local link, and a CSP without img-src.
func TestFrameWithoutOperator(t *testing.T) {
	html := render(t, Frame{})
	if strings.Contains(html, "<img") || !strings.Contains(html, `<a href="/connections">Your connections</a>`) ||
		!strings.Contains(html, `<span class="frame-name">Behalf</span>`) || !strings.Contains(html, "<p>Powered by Behalf</p>") {
		t.Errorf("the zero frame renders:\n%s", html)
	}
	f, err := New("  Example Labs ", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Operator != "Example Labs" || f.CSP("x") != "x" || f.ImageSource() != "" {
		t.Errorf("New without a logo = %+v, CSP %q", f, f.CSP("x"))
	}
	if html := render(t, f); !strings.Contains(html, `<span class="frame-operator">Example Labs</span>`) || strings.Contains(html, "aria-hidden") {
		t.Errorf("a frame without a logo renders:\n%s", html)
	}
}

// Ensure the logo URL is checked: https, or http on a loopback host only;
// absolute, with a host and no user information; and the CSP source is
// exactly its origin.
func TestLogoURL(t *testing.T) {
	for _, c := range []struct{ url, origin string }{
		{"https://cdn.example.com/a/logo.png", "https://cdn.example.com"},
		{"https://CDN.Example.com:8443/logo.png", "https://cdn.example.com:8443"},
		{"http://127.0.0.1:9000/logo.png", "http://127.0.0.1:9000"},
		{"http://localhost/logo.png", "http://localhost"},
		{"http://[::1]:8080/logo.png", "http://[::1]:8080"},
	} {
		f, err := New("Example", c.url, "")
		if err != nil {
			t.Errorf("%s refused: %v", c.url, err)
			continue
		}
		if got := f.ImageSource(); got != c.origin {
			t.Errorf("ImageSource(%s) = %q, want %q", c.url, got, c.origin)
		}
	}
	for _, c := range []struct{ url, why string }{
		{"http://cdn.example.com/logo.png", "must be https"},
		{"http://10.0.0.1/logo.png", "must be https"},
		{"/static/logo.png", "absolute"},
		{"cdn.example.com/logo.png", "absolute"},
		{"ftp://cdn.example.com/logo.png", "absolute https"},
		{"javascript:alert(1)", "absolute https"},
		{"data:image/png;base64,iVBORw0KGgo=", "absolute https"},
		{"https://user:pw@cdn.example.com/logo.png", "user name"},
		{"https:///logo.png", "no valid host"},
		{"https://cdn.example.com;script-src:443/logo.png", "no valid host"},
		{"https://cdn.example.com/" + strings.Repeat("a", 2048), "longer than 2048"},
		{"https://cdn.example.com/%zz", "not a URL"},
	} {
		_, err := New("Example", c.url, "")
		if err == nil || !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), "operator logo URL") {
			t.Errorf("New(logo %.60s) = %v, want an error saying %q", c.url, err, c.why)
		}
	}
	if _, err := New("", "https://cdn.example.com/logo.png", ""); err == nil || !strings.Contains(err.Error(), "needs an operator name") {
		t.Errorf("a logo without a name: %v", err)
	}
	for _, name := range []string{"Example\nLabs", "Example\x00", strings.Repeat("é", MaxOperatorLen+1), "bad \xff"} {
		if _, err := New(name, "", ""); err == nil || !strings.Contains(err.Error(), "operator name") {
			t.Errorf("New(%q) = %v, want an error about the operator name", name, err)
		}
	}
	if f := (Frame{LogoURL: "http://example.com/x.png"}); f.ImageSource() != "" {
		t.Errorf("an unchecked bad logo URL still gets an image source: %q", f.ImageSource())
	}
}

func FuzzCheckLogoURL(f *testing.F) {
	for _, s := range []string{"https://cdn.example.com/logo.png", "http://127.0.0.1:1/x", "https://a;b/", "http://[::1]/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckLogoURL(s) != nil {
			return
		}
		src := Frame{LogoURL: s}.ImageSource()
		if src == "" || strings.ContainsAny(src, " ;,'\"\t\n\r") {
			t.Fatalf("%q accepted with the CSP source %q", s, src)
		}
	})
}
