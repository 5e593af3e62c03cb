// Package mail delivers the portal's e-mail: the senders (SMTP through
// go-mail, or a development mailbox), the outbox worker and the templates.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/textproto"
	"strings"
	"sync"

	gomail "gopkg.in/mail.v2"

	"portal/app"
)

// DevSender is used when no SMTP server is configured: it delivers nothing,
// logs each message, and leaves it in the outbox for the development mailbox page.
type DevSender struct {
	Logger *slog.Logger
}

// Send logs m.
func (s *DevSender) Send(ctx context.Context, m *app.Message) error {
	s.Logger.InfoContext(ctx, "mail (development mailbox)", "to", m.ToAddr, "subject", m.Subject, "text", m.Text)
	return nil
}

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // "none", "starttls" (default) or "tls"
	From     string // e.g. "Policy Portal <portal@agency.example>"
}

// SMTPSender delivers through an SMTP server, keeping one connection open
// between messages.
type SMTPSender struct {
	cfg    SMTPConfig
	dialer *gomail.Dialer
	mu     sync.Mutex
	conn   gomail.SendCloser
}

// NewSMTPSender returns a sender for cfg.
func NewSMTPSender(cfg SMTPConfig) *SMTPSender {
	d := gomail.NewDialer(cfg.Host, cfg.Port, cfg.Username, cfg.Password)
	switch strings.ToLower(cfg.TLS) {
	case "none":
		d.StartTLSPolicy = gomail.NoStartTLS
	case "tls":
		d.SSL = true
	default:
		d.StartTLSPolicy = gomail.MandatoryStartTLS
	}
	return &SMTPSender{cfg: cfg, dialer: d}
}

// Send delivers m, dialling again if the kept connection has gone.
func (s *SMTPSender) Send(ctx context.Context, m *app.Message) error {
	msg := gomail.NewMessage()
	msg.SetHeader("From", s.cfg.From)
	msg.SetAddressHeader("To", headerSafe(m.ToAddr), headerSafe(m.ToName))
	msg.SetHeader("Subject", headerSafe(m.Subject))
	msg.SetBody("text/plain", m.Text)
	if m.HTML != "" {
		msg.AddAlternative("text/html", m.HTML)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for try := 0; try < 2; try++ {
		if s.conn == nil {
			c, err := s.dialer.Dial()
			if err != nil {
				return &app.SendError{Err: fmt.Errorf("connect to %s: %w", s.cfg.Host, err)}
			}
			s.conn = c
		}
		err := gomail.Send(s.conn, msg)
		if err == nil {
			return nil
		}
		s.conn.Close()
		s.conn = nil
		if code := smtpCode(err); code != 0 {
			return &app.SendError{Permanent: code >= 500, Err: err}
		}
		if try == 1 {
			return &app.SendError{Err: err}
		}
	}
	return nil
}

// Close closes the kept connection.
func (s *SMTPSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// smtpCode digs the server's reply code out of err, or returns 0. go-mail's
// SendError holds its cause without Unwrap, so it is opened by hand.
func smtpCode(err error) int {
	var ge *gomail.SendError
	if errors.As(err, &ge) {
		err = ge.Cause
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	return 0
}

// headerSafe removes line breaks so a value cannot add headers.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
