package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "gopkg.in/mail.v2"

	"portal/app"
)

// The SMTP transaction is driven here with net/smtp, step by step, so that
// each refusal is known by the step it answered (go-mail reports a code but
// not the step: a 530 to MAIL FROM and a 550 to RCPT TO look alike to it)
// and so that one deadline covers a whole message, dial included. go-mail
// still builds and writes each message (headers, encodings, attachments).

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
	// Timeout is all the time one message may take, dialling and every
	// step of the transaction included (default 30 s).
	Timeout time.Duration
	// TLSConfig replaces the default TLS set-up (the host's name checked
	// against the system's roots); tests give their own roots.
	TLSConfig *tls.Config
}

// SMTPSender delivers through an SMTP server over a small pool of kept
// connections, each dialled when first needed and again after a failure.
type SMTPSender struct {
	cfg      SMTPConfig
	envelope string // the address alone of cfg.From, for MAIL FROM
	pool     chan *conn
}

// conn is one pooled connection; c is nil until dialled.
type conn struct {
	raw net.Conn // the TCP connection, whose deadline bounds every step
	c   *smtp.Client
}

func (c *conn) close() {
	if c.c != nil {
		_ = c.c.Close() // the connection is dropped after a failure; its close error says nothing new
	}
	c.raw, c.c = nil, nil
}

// NewSMTPSender returns a sender for cfg with cfg.Connections connections (default 1).
func NewSMTPSender(cfg SMTPConfig) *SMTPSender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	envelope := cfg.From
	if a, err := netmail.ParseAddress(cfg.From); err == nil {
		envelope = a.Address
	}
	n := max(cfg.Connections, 1)
	s := &SMTPSender{cfg: cfg, envelope: envelope, pool: make(chan *conn, n)}
	for i := 0; i < n; i++ {
		s.pool <- &conn{}
	}
	return s
}

// Send delivers m within one deadline (SMTPConfig.Timeout), dialling when
// the kept connection is missing or has gone stale: at most one dial and
// one try per message, so a hanging server costs one deadline. A failure
// is an *app.SendError that says what the server refused.
func (s *SMTPSender) Send(ctx context.Context, m *app.Message) error {
	msg := s.build(m)
	var c *conn
	select {
	case c = <-s.pool:
	case <-ctx.Done():
		return &app.SendError{Stage: "connect", Err: ctx.Err()}
	}
	defer func() { s.pool <- c }()
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	t := &txn{ctx: ctx, deadline: deadline}
	defer t.done()
	err := s.send(t, c, headerSafe(m.ToAddr), msg)
	if err != nil {
		c.close() // after a failure the connection's state is unknown
	}
	return err
}

// txn is one message's attempt: its deadline, and its context's hold on
// the connections it uses (a cancelled context ends the step under way).
type txn struct {
	ctx      context.Context
	deadline time.Time
	stops    []func() bool
}

func (t *txn) watch(raw net.Conn) {
	_ = raw.SetDeadline(t.deadline) // a TCP connection's SetDeadline does not fail
	t.stops = append(t.stops, context.AfterFunc(t.ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) }))
}

func (t *txn) done() {
	for _, stop := range t.stops {
		stop()
	}
}

func (s *SMTPSender) send(t *txn, c *conn, to string, msg *gomail.Message) error {
	kept := c.c != nil
	if kept {
		t.watch(c.raw)
	} else if err := s.dial(t, c); err != nil {
		return err
	}
	err := c.c.Mail(s.envelope)
	if err != nil && kept && (isNetwork(err) || replyCode(err) == 421) && t.ctx.Err() == nil && time.Now().Before(t.deadline) {
		// The kept connection went stale while idle (the server closed it,
		// perhaps saying 421): dial once, within the same deadline.
		c.close()
		if err := s.dial(t, c); err != nil {
			return err
		}
		err = c.c.Mail(s.envelope)
	}
	if err != nil {
		return failure("mail", err)
	}
	if err := c.c.Rcpt(to); err != nil {
		return failure("rcpt", err)
	}
	w, err := c.c.Data()
	if err != nil {
		return failure("data", err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		_ = w.Close() // the write error is the one to report
		return failure("data", err)
	}
	if err := w.Close(); err != nil {
		return failure("data", err)
	}
	return nil
}

// dial connects, reads the greeting, says EHLO, starts TLS and signs in as
// configured.
func (s *SMTPSender) dial(t *txn, c *conn) error {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	d := net.Dialer{Deadline: t.deadline}
	raw, err := d.DialContext(t.ctx, "tcp", addr)
	if err != nil {
		return &app.SendError{Stage: "connect", Err: fmt.Errorf("connect to %s: %w", addr, err)}
	}
	t.watch(raw)
	mode := strings.ToLower(s.cfg.TLS)
	var nc net.Conn = raw
	if mode == "tls" {
		nc = tls.Client(raw, s.tlsConfig())
	}
	cl, err := smtp.NewClient(nc, s.cfg.Host)
	if err != nil {
		_ = raw.Close() // the greeting's error is the one to report
		return failure("connect", err)
	}
	fail := func(se *app.SendError) error {
		_ = cl.Close() // the step's error is the one to report
		return se
	}
	if err := cl.Hello("localhost"); err != nil {
		return fail(failure("ehlo", err))
	}
	if mode != "none" && mode != "tls" {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return fail(&app.SendError{Failure: app.SendConfig, Stage: "starttls",
				Err: errors.New("starttls: the mail server does not offer STARTTLS, which PORTAL_SMTP_TLS=starttls requires")})
		}
		if err := cl.StartTLS(s.tlsConfig()); err != nil {
			return fail(failure("starttls", err))
		}
	}
	if s.cfg.Username != "" {
		ok, mechs := cl.Extension("AUTH")
		if !ok {
			return fail(&app.SendError{Failure: app.SendConfig, Stage: "auth",
				Err: errors.New("auth: the mail server offers no AUTH, but PORTAL_SMTP_USERNAME is set")})
		}
		if err := cl.Auth(s.auth(mechs)); err != nil {
			return fail(failure("auth", err))
		}
	}
	c.raw, c.c = raw, cl
	return nil
}

func (s *SMTPSender) tlsConfig() *tls.Config {
	if s.cfg.TLSConfig != nil {
		return s.cfg.TLSConfig
	}
	return &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
}

// auth picks a mechanism the server offers, as go-mail did: CRAM-MD5, else
// LOGIN when PLAIN is not offered, else PLAIN.
func (s *SMTPSender) auth(mechs string) smtp.Auth {
	switch {
	case strings.Contains(mechs, "CRAM-MD5"):
		return smtp.CRAMMD5Auth(s.cfg.Username, s.cfg.Password)
	case strings.Contains(mechs, "LOGIN") && !strings.Contains(mechs, "PLAIN"):
		return &loginAuth{username: s.cfg.Username, password: s.cfg.Password}
	}
	return smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks; like net/smtp's
// PLAIN it sends the password only over TLS or to this machine.
type loginAuth struct{ username, password string }

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && server.Name != "localhost" && server.Name != "127.0.0.1" && server.Name != "::1" {
		return "", nil, errors.New("unencrypted connection")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch {
	case bytes.EqualFold(fromServer, []byte("Username:")):
		return []byte(a.username), nil
	case bytes.EqualFold(fromServer, []byte("Password:")):
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected server challenge %q", fromServer)
}

// failure says what a failed step means. A 5xx to RCPT TO refuses the
// address; a 5xx to DATA, the message; a 5xx before them (greeting, EHLO,
// STARTTLS, AUTH, MAIL FROM) refuses the portal, as does a TLS or sign-in
// step that cannot be done at all. A 4xx, a timeout or a dropped
// connection is temporary.
func failure(stage string, err error) *app.SendError {
	se := &app.SendError{Failure: app.SendTemporary, Stage: stage, Err: fmt.Errorf("%s: %w", stage, err)}
	var tp *textproto.Error
	switch {
	case errors.As(err, &tp):
		se.Reply = strings.ReplaceAll(fmt.Sprintf("%d %s", tp.Code, tp.Msg), "\n", " ")
		if tp.Code < 500 {
			return se
		}
	case isNetwork(err):
		return se
	}
	switch stage {
	case "rcpt":
		se.Failure = app.SendRecipient
	case "data":
		se.Failure = app.SendRejected
	default:
		se.Failure = app.SendConfig
	}
	return se
}

// replyCode is the server's reply code in err, or 0.
func replyCode(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	return 0
}

// isNetwork reports a dropped or timed-out connection.
func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// build makes the message as go-mail writes it.
func (s *SMTPSender) build(m *app.Message) *gomail.Message {
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
	return msg
}

// Close closes the kept connections. It waits for messages in flight.
func (s *SMTPSender) Close() error {
	var errs []error
	for i := 0; i < cap(s.pool); i++ {
		c := <-s.pool
		if c.c != nil {
			_ = c.raw.SetDeadline(time.Now().Add(5 * time.Second)) // the last message's deadline may have passed
			errs = append(errs, c.c.Quit())
			c.raw, c.c = nil, nil
		}
		defer func() { s.pool <- c }()
	}
	return errors.Join(errs...)
}
