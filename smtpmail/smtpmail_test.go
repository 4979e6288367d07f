package smtpmail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/smtptest"
	"github.com/behalf-dev/behalf/smtpmail"
)

func codeMessage(to string) *behalf.CodeMessage {
	return &behalf.CodeMessage{
		PoolID: "us-east-1_Test", Username: "alice", Purpose: behalf.CodeSignUp, Medium: behalf.DeliveryEmail,
		Destination: to, Subject: "Your verification code", Body: "Your verification code is 123456. ",
		ExpiresAt: time.Now().Add(time.Hour),
	}
}

func TestSendCode(t *testing.T) {
	for _, tc := range []struct {
		name, scheme string
		opt          smtptest.Options
	}{
		{"STARTTLS", "smtp", smtptest.Options{}},
		{"ImplicitTLS", "smtps", smtptest.Options{ImplicitTLS: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.opt)
			s, err := smtpmail.New(smtpmail.Config{URL: srv.URL(tc.scheme), From: "no-reply@behalf.example", TLSConfig: srv.RootCAs})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s.String(), srv.Password) || !strings.Contains(s.String(), srv.Username+"@") {
				t.Fatalf("String() = %q: want the user and no password", s.String())
			}
			if err := s.SendCode(t.Context(), codeMessage("alice@example.com")); err != nil {
				t.Fatalf("SendCode: %v", err)
			}
			if got := srv.WaitCode(t, "alice@example.com", 0); got != "123456" {
				t.Fatalf("code = %q", got)
			}
			m := srv.Messages()[0]
			if m.From != "no-reply@behalf.example" || m.Subject != "Your verification code" || m.TLS == tc.opt.NoTLS {
				t.Fatalf("message from %q subject %q TLS %v", m.From, m.Subject, m.TLS)
			}
		})
	}
}

func TestSendCodeErrors(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		url := "smtp://" + srv.Username + ":Wrong-Password-42@" + srv.Addr
		s, err := smtpmail.New(smtpmail.Config{URL: url, From: "no-reply@behalf.example", TLSConfig: srv.RootCAs})
		if err != nil {
			t.Fatal(err)
		}
		err = s.SendCode(t.Context(), codeMessage("alice@example.com"))
		if err == nil || strings.Contains(err.Error(), "Wrong-Password-42") {
			t.Fatalf("SendCode = %v: want an error without the password", err)
		}
	})
	t.Run("ErrNoTLSNoPassword", func(t *testing.T) {
		// A server without TLS never gets the password: go-mail refuses
		// to send PLAIN or LOGIN credentials unencrypted.
		plain := smtptest.Start(t, smtptest.Options{NoTLS: true})
		s, err := smtpmail.New(smtpmail.Config{URL: plain.URL("smtp"), From: "no-reply@behalf.example"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SendCode(t.Context(), codeMessage("alice@example.com")); err == nil || len(plain.Messages()) != 0 {
			t.Fatalf("SendCode without TLS = %v, %d messages: want refused", err, len(plain.Messages()))
		}
	})
	t.Run("ErrUntrustedCertificate", func(t *testing.T) {
		s, err := smtpmail.New(smtpmail.Config{URL: srv.URL("smtps"), From: "no-reply@behalf.example"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SendCode(t.Context(), codeMessage("alice@example.com")); err == nil {
			t.Fatal("SendCode over TLS to an untrusted server succeeded")
		}
	})
	t.Run("ErrConfig", func(t *testing.T) {
		for _, tc := range []struct{ url, from string }{
			{"http://u:p@host", "a@b.example"},
			{"smtp://u:p@", "a@b.example"},
			{"smtp://u:p@host:99999", "a@b.example"},
			{"smtp://u:p@host/path", "a@b.example"},
			{"smtp://u:p@host?x=1", "a@b.example"},
			{"smtp://u:p@host", "not an address"},
			{"smtp://u:p@host", ""},
			{"smtp://u:p%zz@host", "a@b.example"},
		} {
			_, err := smtpmail.New(smtpmail.Config{URL: tc.url, From: tc.from})
			if err == nil {
				t.Errorf("New(%q, %q) succeeded", tc.url, tc.from)
			} else if strings.Contains(err.Error(), ":p@") || strings.Contains(err.Error(), "p%zz") {
				t.Errorf("New(%q): error %q shows the password", tc.url, err)
			}
		}
	})
	t.Run("ErrSMS", func(t *testing.T) {
		s, _ := smtpmail.New(smtpmail.Config{URL: srv.URL("smtp"), From: "no-reply@behalf.example", TLSConfig: srv.RootCAs})
		m := codeMessage("+15555550100")
		m.Medium = behalf.DeliverySMS
		if err := s.SendCode(t.Context(), m); err == nil {
			t.Fatal("SendCode of an SMS succeeded")
		}
	})
}
