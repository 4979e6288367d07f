// Package smtptest runs a real SMTP server in process (emersion/go-smtp)
// for tests: it offers STARTTLS (or implicit TLS) with a certificate of a
// private root, requires AUTH PLAIN with a given username and password,
// and keeps every message it receives.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server received.
type Message struct {
	From    string
	To      []string
	Subject string
	Body    string
	TLS     bool // the session was encrypted
	Raw     []byte
}

// Server is a running SMTP server.
type Server struct {
	Addr     string // host:port on loopback
	Username string
	Password string
	// RootCAs trusts the server's certificate (for smtpmail.Config.TLSConfig).
	RootCAs *tls.Config

	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
}

// Options choose the server's mode.
type Options struct {
	ImplicitTLS bool // smtps: TLS from the first byte, else STARTTLS offered
	NoTLS       bool // offer no TLS at all (plain SMTP)
}

// Start runs a server until tb ends.
func Start(tb testing.TB, opt Options) *Server {
	tb.Helper()
	cert, roots := certificate(tb)
	s := &Server{Username: "mailer", Password: "s3cret-smtp-Pass!", arrived: make(chan struct{}, 100),
		RootCAs: &tls.Config{RootCAs: roots, ServerName: "localhost"}}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.AllowInsecureAuth = opt.NoTLS
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if !opt.NoTLS {
		srv.TLSConfig = tlsConfig
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if opt.ImplicitTLS {
		l = tls.NewListener(l, tlsConfig)
	}
	s.Addr = l.Addr().String()
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return s
}

// certificate makes a self-signed certificate for localhost and 127.0.0.1.
func certificate(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// URL is the server's smtp:// (or smtps://) URL with its credentials.
func (s *Server) URL(scheme string) string {
	return scheme + "://" + s.Username + ":" + strings.ReplaceAll(s.Password, "!", "%21") + "@" + s.Addr
}

// Messages returns the messages received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// WaitCode waits for a new message to "to" (after the first skip
// messages to it) and returns the first 6-digit code in its body.
func (s *Server) WaitCode(tb testing.TB, to string, skip int) string {
	tb.Helper()
	code, err := s.Code(to, skip, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

// Code is WaitCode for other goroutines than the test's: it returns an
// error instead of failing the test.
func (s *Server) Code(to string, skip int, wait time.Duration) (string, error) {
	deadline := time.After(wait)
	for {
		n := 0
		for _, m := range s.Messages() {
			if len(m.To) == 1 && strings.EqualFold(m.To[0], to) {
				if n == skip {
					if code := sixDigits.FindString(m.Body); code != "" {
						return code, nil
					}
					return "", fmt.Errorf("smtptest: no code in the message to %s: %q", to, m.Body)
				}
				n++
			}
		}
		select {
		case <-s.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return "", fmt.Errorf("smtptest: no message %d to %s arrived", skip+1, to)
		}
	}
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{srv: s, conn: c}, nil
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	auth bool
	msg  Message
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.srv.Username || password != ss.srv.Password {
			return errors.New("invalid credentials")
		}
		ss.auth = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if !ss.auth {
		return smtp.ErrAuthRequired
	}
	ss.msg = Message{From: from}
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := ss.msg
	m.Raw = raw
	_, m.TLS = ss.conn.TLSConnectionState()
	if parsed, err := mail.ReadMessage(strings.NewReader(string(raw))); err == nil {
		dec := new(mime.WordDecoder)
		m.Subject, _ = dec.DecodeHeader(parsed.Header.Get("Subject"))
		body, _ := io.ReadAll(parsed.Body)
		m.Body = decodeBody(parsed.Header.Get("Content-Transfer-Encoding"), body)
	}
	ss.srv.mu.Lock()
	ss.srv.messages = append(ss.srv.messages, m)
	ss.srv.mu.Unlock()
	select {
	case ss.srv.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.msg = Message{} }
func (ss *session) Logout() error { return nil }

// decodeBody undoes a quoted-printable or base64 transfer encoding.
func decodeBody(enc string, body []byte) string {
	switch strings.ToLower(enc) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(body))))
		if err == nil {
			return string(b)
		}
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
		if err == nil {
			return string(b)
		}
	}
	return string(body)
}
