package sandbox

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// A headless person at the consent page, for demos and CI: open the
// authorization URL (often an identity service's link that redirects to
// the sandbox), read the consent page, and press Allow or Deny.

// maxPageBytes bounds the pages a Browser reads.
const maxPageBytes = 1 << 20

// NewBrowser returns an HTTP client that keeps cookies and follows
// redirects, as a browser does.
func NewBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// ConsentPage is the sandbox's consent page as a browser got it.
type ConsentPage struct {
	// URL is the page's address (the sandbox's authorization endpoint).
	URL *url.URL
	// Client is the name the page shows for the client; Scopes the scopes
	// it lists; User the sandbox user it proposes.
	Client string
	Scopes []string
	User   string

	action *url.URL
	hidden url.Values
}

// Page is where a browser ended up after following redirects.
type Page struct {
	URL    *url.URL
	Status int
	Body   string
}

// Text returns the page's text without markup, whitespace collapsed, cut
// to at most n bytes.
func (p *Page) Text(n int) string {
	return plainText(p.Body, n)
}

var (
	consentMarker = regexp.MustCompile(`<main data-sandbox-consent>`)
	formAction    = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenInput   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	userInput     = regexp.MustCompile(`<input id="user" name="user" type="email" value="([^"]*)"`)
	clientName    = regexp.MustCompile(`<h1 data-client="([^"]*)">`)
	scopeItem     = regexp.MustCompile(`<li data-scope="([^"]*)">`)
	tags          = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)
)

// OpenConsent opens authURL with browser (a client with a cookie jar that
// follows redirects, such as NewBrowser's) and reads the sandbox consent
// page it leads to. Any other final page is an error quoting it.
func OpenConsent(ctx context.Context, browser *http.Client, authURL string) (*ConsentPage, error) {
	if browser == nil || browser.Jar == nil {
		return nil, errors.New("sandbox: the browser needs a cookie jar (see NewBrowser)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open %s: %w", authURL, err)
	}
	page, err := fetch(browser, req)
	if err != nil {
		return nil, err
	}
	if page.Status != http.StatusOK || !consentMarker.MatchString(page.Body) {
		return nil, fmt.Errorf("sandbox: expected the consent page, got %d at %s: %s", page.Status, redact(page.URL), page.Text(300))
	}
	return parseConsent(page)
}

// parseConsent reads the consent page's form.
func parseConsent(page *Page) (*ConsentPage, error) {
	m := formAction.FindStringSubmatch(page.Body)
	if m == nil {
		return nil, errors.New("sandbox: the consent page has no form")
	}
	action, err := page.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, fmt.Errorf("sandbox: consent form action: %w", err)
	}
	cp := &ConsentPage{URL: page.URL, action: action, hidden: url.Values{}}
	for _, h := range hiddenInput.FindAllStringSubmatch(page.Body, -1) {
		cp.hidden.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	if m := userInput.FindStringSubmatch(page.Body); m != nil {
		cp.User = html.UnescapeString(m[1])
	}
	if m := clientName.FindStringSubmatch(page.Body); m != nil {
		cp.Client = html.UnescapeString(m[1])
	}
	for _, s := range scopeItem.FindAllStringSubmatch(page.Body, -1) {
		cp.Scopes = append(cp.Scopes, html.UnescapeString(s[1]))
	}
	return cp, nil
}

// Submit presses Allow (allow true) or Deny as user ("" keeps the page's
// proposal) with browser, which must be the one that opened the page, and
// follows the redirects back to the client and beyond. It returns the
// page the browser ends on.
func (cp *ConsentPage) Submit(ctx context.Context, browser *http.Client, user string, allow bool) (*Page, error) {
	form := url.Values{}
	for k, vs := range cp.hidden {
		form[k] = vs
	}
	if user == "" {
		user = cp.User
	}
	form.Set("user", user)
	form.Set("decision", "deny")
	if allow {
		form.Set("decision", "allow")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cp.action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("sandbox: consent: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fetch(browser, req)
}

// Consent opens authURL and answers the consent page as user ("" for the
// page's proposal): OpenConsent, then Submit. browser nil means
// NewBrowser().
func Consent(ctx context.Context, browser *http.Client, authURL, user string, allow bool) (*ConsentPage, *Page, error) {
	if browser == nil {
		browser = NewBrowser()
	}
	cp, err := OpenConsent(ctx, browser, authURL)
	if err != nil {
		return nil, nil, err
	}
	page, err := cp.Submit(ctx, browser, user, allow)
	return cp, page, err
}

// fetch sends req with browser and reads the final page.
func fetch(browser *http.Client, req *http.Request) (*Page, error) {
	resp, err := browser.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		return nil, fmt.Errorf("sandbox: reading %s: %w", redact(resp.Request.URL), err)
	}
	return &Page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(b)}, nil
}

// plainText strips markup from an HTML page and collapses whitespace.
func plainText(body string, n int) string {
	t := strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(body, " "))), " ")
	if len(t) > n {
		t = t[:n] + "…"
	}
	return t
}

// redact drops a URL's query (codes, states and session ids) for error
// messages.
func redact(u *url.URL) string {
	if u == nil {
		return "?"
	}
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	return c.String()
}
