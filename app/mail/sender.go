// Package mail delivers the portal's e-mail: the senders (SMTP through
// go-mail, or a development mailbox), the outbox worker and the templates.
package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/textproto"
	"strings"
	"sync"
	"time"

	gomail "gopkg.in/mail.v2"

	"portal/app"
)

// DevSender is used when no SMTP server is configured: it delivers nothing
// and logs that a message went, never what it says (a sign-in link is a
// password). With Keep set it also keeps the newest messages in memory, and
// only there, for the development mailbox page.
type DevSender struct {
	Logger *slog.Logger
	Keep   int // how many messages to keep in memory (0: none)

	mu   sync.Mutex
	kept []*app.Message // oldest first
}

// Send logs m and keeps a copy in memory.
func (s *DevSender) Send(ctx context.Context, m *app.Message) error {
	s.Logger.InfoContext(ctx, "mail not sent (no SMTP server)", "to", m.ToAddr, "kind", m.Kind, "subject", m.Subject)
	if s.Keep <= 0 {
		return nil
	}
	c := *m
	c.Status, c.CreatedAt = "sent", time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kept = append(s.kept, &c)
	if len(s.kept) > s.Keep {
		s.kept = append([]*app.Message(nil), s.kept[len(s.kept)-s.Keep:]...)
	}
	return nil
}

// Messages returns the messages kept in memory, newest first.
func (s *DevSender) Messages() []*app.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*app.Message, len(s.kept))
	for i, m := range s.kept {
		out[len(s.kept)-1-i] = m
	}
	return out
}

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // "none", "starttls" (default) or "tls"
	From     string // e.g. "Policy Portal <portal@agency.example>"
	// Connections is the pool size: how many messages may be in flight at once.
	Connections int
}

// SMTPSender delivers through an SMTP server over a small pool of kept
// connections, each dialled when first needed and again after a failure.
type SMTPSender struct {
	cfg    SMTPConfig
	dialer *gomail.Dialer
	pool   chan *conn
}

// conn is one pooled connection; sc is nil until dialled.
type conn struct{ sc gomail.SendCloser }

// NewSMTPSender returns a sender for cfg with cfg.Connections connections (default 1).
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
	n := max(cfg.Connections, 1)
	s := &SMTPSender{cfg: cfg, dialer: d, pool: make(chan *conn, n)}
	for i := 0; i < n; i++ {
		s.pool <- &conn{}
	}
	return s
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
	for _, a := range m.Attachments {
		data := a.Data
		msg.Attach(headerSafe(a.Name), gomail.SetCopyFunc(func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}), gomail.SetHeader(map[string][]string{"Content-Type": {a.ContentType}}))
	}
	var c *conn
	select {
	case c = <-s.pool:
	case <-ctx.Done():
		return &app.SendError{Err: ctx.Err()}
	}
	defer func() { s.pool <- c }()
	for try := 0; try < 2; try++ {
		if c.sc == nil {
			sc, err := s.dialer.Dial()
			if err != nil {
				return &app.SendError{Err: fmt.Errorf("connect to %s: %w", s.cfg.Host, err)}
			}
			c.sc = sc
		}
		err := gomail.Send(c.sc, msg)
		if err == nil {
			return nil
		}
		_ = c.sc.Close() // the connection is replaced; its close error says nothing new
		c.sc = nil
		if code := smtpCode(err); code != 0 {
			return &app.SendError{Permanent: code >= 500, Err: err}
		}
		if try == 1 {
			return &app.SendError{Err: err}
		}
	}
	return nil
}

// Close closes the kept connections. It waits for messages in flight.
func (s *SMTPSender) Close() error {
	var errs []error
	for i := 0; i < cap(s.pool); i++ {
		c := <-s.pool
		if c.sc != nil {
			errs = append(errs, c.sc.Close())
			c.sc = nil
		}
		defer func() { s.pool <- c }()
	}
	return errors.Join(errs...)
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
