// Package smtpmail delivers the user pools' code messages by email, with
// the go-mail SMTP client, to the server of an smtp:// or smtps:// URL:
//
//	smtp://user:password@host:port   STARTTLS when the server offers it (port 587 by default)
//	smtps://user:password@host:port  implicit TLS (port 465 by default)
//
// Credentials are optional; when given, the client authenticates with the
// best mechanism the server offers, and never sends a PLAIN or LOGIN
// password over an unencrypted connection to another host. The password
// is a behalf.Secret: the Sender prints its URL without it.
package smtpmail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	"github.com/behalf-dev/behalf"
	gomail "github.com/wneessen/go-mail"
)

// DefaultTimeout bounds one delivery (connect, TLS, auth, send).
const DefaultTimeout = 15 * time.Second

// Config configures a Sender.
type Config struct {
	// URL is smtp://[user[:password]@]host[:port] or smtps://…
	URL string
	// From is the sender address of every message.
	From string
	// TLSConfig overrides the TLS settings (tests: a private root); nil
	// verifies the server against the system roots.
	TLSConfig *tls.Config
	// Timeout bounds one delivery; DefaultTimeout when zero.
	Timeout time.Duration
}

// Sender is a behalf.CodeSender over SMTP. It is safe for concurrent use.
type Sender struct {
	host     string
	port     int
	implicit bool // smtps://
	user     string
	password behalf.Secret
	from     string
	tls      *tls.Config
	timeout  time.Duration
}

var _ behalf.CodeSender = (*Sender)(nil)

// New parses cfg and returns its Sender. It does not connect.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url's error quotes the URL, and so the password: say less.
		return nil, errors.New("smtp URL: not a URL (want smtp://user:password@host:port or smtps://…)")
	}
	s := &Sender{host: u.Hostname(), timeout: cfg.Timeout}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, fmt.Errorf("smtp URL: scheme %q: want smtp or smtps", u.Scheme)
	}
	if s.host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("smtp URL: want smtp://user:password@host:port, with a host and nothing after the port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("smtp URL: port %q is not a port number", p)
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		pw, _ := u.User.Password()
		s.password = behalf.Secret(pw)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil || from.Name != "" {
		return nil, fmt.Errorf("smtp from: %q is not an email address", cfg.From)
	}
	s.from = from.Address
	s.tls = cfg.TLSConfig
	if s.tls == nil {
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	s.tls = s.tls.Clone()
	if s.tls.ServerName == "" {
		s.tls.ServerName = s.host
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	return s, nil
}

// String is the server's URL without the password, for logs.
func (s *Sender) String() string {
	scheme := "smtp"
	if s.implicit {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(s.host, strconv.Itoa(s.port))}
	if s.user != "" {
		u.User = url.User(s.user)
	}
	return u.String()
}

// SendCode sends one code message as a plain-text email to m.Destination.
func (s *Sender) SendCode(ctx context.Context, m *behalf.CodeMessage) error {
	if m.Medium != behalf.DeliveryEmail {
		return fmt.Errorf("smtpmail: cannot send %s messages", m.Medium)
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("smtpmail: from: %w", err)
	}
	if err := msg.To(m.Destination); err != nil {
		return fmt.Errorf("smtpmail: recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body.Reveal())
	c, err := gomail.NewClient(s.host, s.options()...)
	if err != nil {
		return fmt.Errorf("smtpmail: client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtpmail: send to %s: %w", s, err)
	}
	return nil
}

// options are the go-mail client's options.
func (s *Sender) options() []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.port), gomail.WithTLSConfig(s.tls), gomail.WithTimeout(s.timeout),
	}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.user), gomail.WithPassword(s.password.Reveal()))
	}
	return opts
}
