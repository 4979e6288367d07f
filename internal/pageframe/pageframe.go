// Package pageframe is the frame every Behalf page carries (package web's
// pages and the user pools' hosted login, userpool/oidcop): the product's
// name, the operator's name and logo, and a link to the user's
// connections, so that a person recognises the service they are on and
// has a way back. The frame's markup and style are html/template
// snippets defined here once; a page parses its own template with Parse
// and calls them:
//
//	<style>{{template "frame-style"}} …the page's own rules…</style>
//	<body>{{template "frame-header" .Frame}}<main>…</main>{{template "frame-footer" .Frame}}</body>
package pageframe

import (
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// Product is the product's name, shown on every page.
const Product = "Behalf"

// MaxOperatorLen bounds the operator's name, in characters.
const MaxOperatorLen = 100

// Frame is what a page's frame shows. The zero Frame is valid: it names
// the product only and links to the connections page by its local path.
type Frame struct {
	// Product is the product's name ("" means Product).
	Product string
	// Operator names whoever runs this server ("" names no one).
	Operator string
	// LogoURL is the operator's logo, shown with Operator as its alt
	// text ("" shows none). Set it through New, which checks it.
	LogoURL string
	// ConnectionsURL is where "Your connections" leads ("" means
	// behalf.ConnectionsPath on the page's own host).
	ConnectionsURL string
}

// New returns the frame of a server at publicURL ("" for links relative
// to the page's host) run by operator, with the logo at logoURL (optional,
// see CheckLogoURL). A logo needs an operator's name: it is the logo's
// text for people who cannot see it.
func New(operator, logoURL, publicURL string) (Frame, error) {
	operator = strings.TrimSpace(operator)
	var errs []error
	if err := CheckOperator(operator); err != nil {
		errs = append(errs, err)
	}
	if logoURL != "" {
		if err := CheckLogoURL(logoURL); err != nil {
			errs = append(errs, err)
		} else if operator == "" {
			errs = append(errs, errors.New("an operator logo needs an operator name (its alt text for people who cannot see it)"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Frame{}, err
	}
	f := Frame{Product: Product, Operator: operator, LogoURL: logoURL}
	if publicURL != "" {
		f.ConnectionsURL = strings.TrimSuffix(publicURL, "/") + behalf.ConnectionsPath
	}
	return f, nil
}

// CheckOperator reports whether name can name the operator: at most
// MaxOperatorLen characters of printable text.
func CheckOperator(name string) error {
	if !utf8.ValidString(name) {
		return errors.New("the operator name is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > MaxOperatorLen {
		return fmt.Errorf("the operator name has %d characters, at most %d are allowed", n, MaxOperatorLen)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("the operator name contains the control or invisible character %U", r)
		}
	}
	return nil
}

// cspHost is what a host (and port) may be to be written into a
// Content-Security-Policy source.
var cspHost = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// CheckLogoURL reports whether s can be the operator's logo: an absolute
// https URL, or http only for a loopback host (localhost, 127.0.0.0/8,
// ::1: a development setup), with no user information, at most 2048
// bytes long.
func CheckLogoURL(s string) error {
	bad := func(why string) error { return fmt.Errorf("the operator logo URL %q %s", truncate(s, 80), why) }
	if len(s) > 2048 {
		return bad("is longer than 2048 bytes")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("is not a URL")
	}
	switch {
	case !u.IsAbs() || u.Opaque != "":
		return bad("must be an absolute https:// URL")
	case u.User != nil:
		return bad("must not contain a user name or password")
	case u.Host == "" || !cspHost.MatchString(u.Host):
		return bad("has no valid host")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return bad("must be https (http only for a loopback host such as 127.0.0.1)")
	}
	return bad("must be an absolute https:// URL")
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ProductName is the product's name as shown.
func (f Frame) ProductName() string {
	if f.Product == "" {
		return Product
	}
	return f.Product
}

// ConnectionsLink is where the frame's "Your connections" link leads.
func (f Frame) ConnectionsLink() string {
	if f.ConnectionsURL == "" {
		return behalf.ConnectionsPath
	}
	return f.ConnectionsURL
}

// ImageSource is the Content-Security-Policy source the logo needs: its
// origin ("https://cdn.example.com"), or "" without a logo. Nothing wider
// is allowed: a page's img-src is 'none' but for it.
func (f Frame) ImageSource() string {
	if f.LogoURL == "" || CheckLogoURL(f.LogoURL) != nil {
		return ""
	}
	u, _ := url.Parse(f.LogoURL)
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// CSP returns the page's Content-Security-Policy policy with the
// directive "img-src ORIGIN" added when the frame shows a logo.
func (f Frame) CSP(policy string) string {
	if src := f.ImageSource(); src != "" {
		return policy + "; img-src " + src
	}
	return policy
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// snippets are the frame's templates: frame-style (CSS, inside the page's
// <style>), frame-header and frame-footer (each given the Frame).
var snippets = template.Must(template.New("frame").Parse(`
{{- define "frame-style"}}
html{-webkit-text-size-adjust:100%}
body{overflow-wrap:anywhere}
button,.button{overflow-wrap:normal;white-space:nowrap}
thead th{overflow-wrap:normal}
img{max-width:100%}
.frame{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1rem;margin:0 0 2rem;padding:0 0 .75rem;border-bottom:1px solid #d0d4d9}
.frame-brand{display:flex;align-items:center;gap:.6rem;min-width:0;margin:0}
.frame-brand img{display:block;height:2rem;width:auto;max-width:9rem;object-fit:contain}
.frame-operator,.frame-name{font-weight:700;font-size:1.05rem;color:#1a1a1a}
.frame-product{font-size:.75rem;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#4a4f55;border:1px solid #b5bac0;border-radius:1rem;padding:.05rem .5rem;white-space:nowrap}
.frame-nav a{font-weight:600;color:#1a3d8f;text-decoration:none;white-space:nowrap}
.frame-nav a:hover{text-decoration:underline}
.frame-foot{margin:3rem 0 0;padding:.75rem 0 0;border-top:1px solid #d0d4d9;color:#4a4f55;font-size:.85rem}
.frame-foot p{margin:0}
{{- end}}
{{- define "frame-header"}}
<header class="frame">
<div class="frame-brand">
{{- if .LogoURL}}<img src="{{.LogoURL}}" alt="{{.Operator}}" height="32">{{end}}
{{- if .Operator}}<span class="frame-operator"{{if .LogoURL}} aria-hidden="true"{{end}}>{{.Operator}}</span>
<span class="frame-product">{{.ProductName}}</span>{{else}}<span class="frame-name">{{.ProductName}}</span>{{end}}</div>
<nav class="frame-nav" aria-label="{{.ProductName}}"><a href="{{.ConnectionsLink}}">Your connections</a></nav>
</header>
{{- end}}
{{- define "frame-footer"}}
<footer class="frame-foot"><p>{{if .Operator}}{{.Operator}} · {{end}}Powered by {{.ProductName}}</p></footer>
{{- end}}`))

// Parse parses a page's template, name and text, with the frame's
// snippets defined; it panics on an error, as template.Must does (pages
// are parsed once, at start).
func Parse(name, text string) *template.Template {
	t := template.Must(snippets.Clone())
	return template.Must(t.New(name).Parse(text))
}
